// corpus-path: kernel/kprobes-example.c
// corpus-kernel: 6.12
#include "kpolicy-corpus.h"

/* 6.12: set_memory_rox() is one step, never W+X. */
void *insn_page_rox(void)
{
	void *page = execmem_alloc(EXECMEM_KPROBES, PAGE_SIZE);

	if (!page)
		return NULL;
	// ok: wx-window
	set_memory_rox((unsigned long)page, 1);
	return page;
}

/*
 * execmem_alloc(EXECMEM_KPROBES) is RW on x86, s390 and (with the default
 * range) most arches, ROX on arm64, riscv and powerpc: set_memory_x() alone
 * opens a window only where it is RW. The finding names those arches.
 */
void *insn_page_x_only(void)
{
	void *page = execmem_alloc(EXECMEM_KPROBES, PAGE_SIZE);

	if (!page)
		return NULL;
	// ruleid: wx-window
	set_memory_x((unsigned long)page, 1);
	return page;
}

/* Scope-based cleanup: the page is freed by __free unless handed out. */
void *insn_page_cleanup(int fail)
{
	void *page __free(execmem) = execmem_alloc(EXECMEM_KPROBES, PAGE_SIZE);

	if (!page)
		return NULL;
	if (fail)
		return NULL;
	// ok: wx-window
	set_memory_rox((unsigned long)page, 1);
	return_ptr(page);
}
