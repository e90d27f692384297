// corpus-path: arch/x86/kernel/kprobes/core.c
// corpus-kernel: 6.1
#include "kpolicy-corpus.h"

/*
 * Part of the corpus's tree: x86's override of the __weak
 * alloc_insn_page() in Linux 6.1 (arch/x86/kernel/kprobes/core.c): the
 * page from module_alloc(), made read-only, then executable. Callers in
 * other cases run it on x86_64 (TreeFunctions, docs/corpus.md).
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
