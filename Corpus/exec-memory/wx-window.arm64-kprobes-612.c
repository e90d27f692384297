// corpus-path: arch/arm64/kernel/probes/kprobes-example.c
// corpus-kernel: 6.12
#include "kpolicy-corpus.h"

/* On arm64 EXECMEM_KPROBES is already read-only and executable: no window. */
void *arm64_insn_page(void)
{
	void *page = execmem_alloc(EXECMEM_KPROBES, PAGE_SIZE);

	if (!page)
		return NULL;
	// ok: wx-window
	set_memory_x((unsigned long)page, 1);
	return page;
}

/* ... but module text is RW there too. */
void *arm64_text_page(void)
{
	void *page = execmem_alloc(EXECMEM_MODULE_TEXT, PAGE_SIZE);

	if (!page)
		return NULL;
	// ruleid: wx-window
	set_memory_x((unsigned long)page, 1);
	return page;
}
