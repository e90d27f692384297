// corpus-path: kernel/trace/trampoline-example.c
// corpus-kernel: 6.12
#include "kpolicy-corpus.h"

/* set_memory_rox() makes it read-only too. */
void copy_after_rox(void *image, const void *code, size_t len)
{
	set_memory_rox((unsigned long)image, 1);
	// ruleid: write-to-readonly-text
	memcpy(image, code, len);
}

/* Written, then rox: the 6.12 shape of the ftrace trampoline. */
void *tramp_6_12(const void *code, size_t len)
{
	void *tramp = execmem_alloc(EXECMEM_FTRACE, PAGE_SIZE);

	if (!tramp)
		return NULL;
	// ok: write-to-readonly-text
	memcpy(tramp, code, len);
	if (set_memory_rox((unsigned long)tramp, 1)) {
		execmem_free(tramp);
		return NULL;
	}
	return tramp;
}

/* A __free page written after rox on the error-free path. */
void *cleanup_page(const void *code, size_t len, int late)
{
	void *page __free(execmem) = execmem_alloc(EXECMEM_KPROBES, PAGE_SIZE);

	if (!page)
		return NULL;
	set_memory_rox((unsigned long)page, 1);
	if (late)
		// ruleid: write-to-readonly-text
		memcpy(page, code, len);
	return_ptr(page);
}
