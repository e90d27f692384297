// corpus-path: arch/x86/kernel/kprobes/core.c
// corpus-kernel: 6.12
#include "kpolicy-corpus.h"

/*
 * Part of the corpus's tree: x86's alloc_insn_page() in Linux 6.12:
 * execmem_alloc(EXECMEM_KPROBES), then read-only and executable.
 */
void *alloc_insn_page(void)
{
	void *page;

	page = execmem_alloc(EXECMEM_KPROBES, PAGE_SIZE);
	if (!page)
		return NULL;
	set_memory_rox((unsigned long)page, 1);
	return page;
}
