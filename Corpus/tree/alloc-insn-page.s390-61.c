// corpus-path: arch/s390/kernel/kprobes.c
// corpus-kernel: 6.1
#include "kpolicy-corpus.h"

/*
 * Part of the corpus's tree: s390's alloc_insn_page() in Linux 6.1:
 * module_alloc(), then one __set_memory(RO | X), written here as its two
 * steps.
 */
void *alloc_insn_page(void)
{
	void *page;

	page = module_alloc(PAGE_SIZE);
	if (!page)
		return NULL;
	set_memory_ro((unsigned long)page, 1);
	set_memory_x((unsigned long)page, 1);
	return page;
}
