// corpus-path: arch/powerpc/kernel/kprobes.c
// corpus-kernel: 6.1
#include "kpolicy-corpus.h"

/*
 * Part of the corpus's tree: powerpc's alloc_insn_page() in Linux 6.1
 * (with strict module RWX, its default): module_alloc(), then read-only
 * before executable.
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
