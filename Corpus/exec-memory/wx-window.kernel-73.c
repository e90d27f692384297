// corpus-path: arch/x86/kernel/its-example.c
// corpus-kernel: 7.3
#include "kpolicy-corpus.h"

/*
 * execmem_alloc_rw() returns writable memory (on x86 7.3 the ROX cache's
 * memory forced RW and NX); making it executable while it is still
 * writable opens a W+X window on every arch.
 */

/* its_alloc() in 7.3 for the core kernel's pages, before the kernel is made read-only. */
void *thunk_page_x(void)
{
	void *page = execmem_alloc_rw(EXECMEM_MODULE_TEXT, PAGE_SIZE);

	if (!page)
		return NULL;
	memset(page, 0xcc, PAGE_SIZE);
	// ruleid: wx-window
	set_memory_x((unsigned long)page, 1);
	return page;
}

/* Read-only and executable in one call. */
void *thunk_page_rox(void)
{
	void *page = execmem_alloc_rw(EXECMEM_MODULE_TEXT, PAGE_SIZE);

	if (!page)
		return NULL;
	memset(page, 0xcc, PAGE_SIZE);
	// ok: wx-window
	if (set_memory_rox((unsigned long)page, 1)) {
		execmem_free(page);
		return NULL;
	}
	return page;
}

/* Made writable again after the restore, while still executable. */
void thunk_rewrite(void *page, const void *code, size_t len)
{
	void *p = execmem_alloc_rw(EXECMEM_MODULE_TEXT, PAGE_SIZE);

	if (!p)
		return;
	memcpy(p, code, len);
	if (execmem_restore_rox(p, PAGE_SIZE))
		goto out;
	// ruleid: wx-window
	set_memory_rw((unsigned long)p, 1);
	memcpy(p, code, len);
	// ok: wx-window
	set_memory_ro((unsigned long)p, 1);
out:
	execmem_free(p);
}
