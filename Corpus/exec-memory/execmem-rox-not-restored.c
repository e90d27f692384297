// corpus-path: arch/x86/kernel/execmem-example.c
// corpus-kernel: 7.3
#include "kpolicy-corpus.h"

struct holder {
	void *base;
	unsigned int size;
};

static void *thunk_page;

/* Code copied in, the memory returned still writable. */
void *tramp_no_restore(const void *code, size_t len)
{
	// ruleid: execmem-rox-not-restored
	void *tramp = execmem_alloc_rw(EXECMEM_FTRACE, PAGE_SIZE);

	if (!tramp)
		return NULL;
	memcpy(tramp, code, len);
	return tramp;
}

/* A store of an opcode is code too. */
void *thunk_store(int reg)
{
	// ruleid: execmem-rox-not-restored
	u8 *thunk = execmem_alloc_rw(EXECMEM_MODULE_TEXT, PAGE_SIZE);

	if (!thunk)
		return NULL;
	thunk[0] = 0xff;
	thunk[1] = 0xe0 + reg;
	return thunk;
}

/* The restore is on one branch only. */
void *tramp_restore_sometimes(const void *code, size_t len, int protect)
{
	// ruleid: execmem-rox-not-restored
	void *tramp = execmem_alloc_rw(EXECMEM_FTRACE, PAGE_SIZE);

	if (!tramp)
		return NULL;
	memcpy(tramp, code, len);
	if (protect && execmem_restore_rox(tramp, PAGE_SIZE)) {
		execmem_free(tramp);
		return NULL;
	}
	return tramp;
}

/* __free(execmem) and return_ptr(): the cleanup is right, the restore is missing. */
void *thunk_cleanup_no_restore(const void *code, size_t len)
{
	// ruleid: execmem-rox-not-restored
	void *page __free(execmem) = execmem_alloc_rw(EXECMEM_MODULE_TEXT, PAGE_SIZE);

	if (!page)
		return NULL;
	memset(page, 0xcc, PAGE_SIZE);
	memcpy(page + 32, code, len);
	return_ptr(page);
}

/* The result of the restore is dropped. */
void *tramp_restore_ignored(const void *code, size_t len)
{
	void *tramp = execmem_alloc_rw(EXECMEM_FTRACE, PAGE_SIZE);

	if (!tramp)
		return NULL;
	memcpy(tramp, code, len);
	// ruleid: execmem-rox-not-restored
	execmem_restore_rox(tramp, PAGE_SIZE);
	return tramp;
}

/* Dropped with a cast. */
void *tramp_restore_void(const void *code, size_t len)
{
	void *tramp = execmem_alloc_rw(EXECMEM_FTRACE, PAGE_SIZE);

	if (!tramp)
		return NULL;
	memcpy(tramp, code, len);
	// ruleid: execmem-rox-not-restored
	(void)execmem_restore_rox(tramp, PAGE_SIZE);
	return tramp;
}

/* A same-file wrapper hands out the memory; the caller writes and returns it. */
static void *get_rw_page(void)
{
	return execmem_alloc_rw(EXECMEM_MODULE_TEXT, PAGE_SIZE);
}

void *thunk_via_helper(const void *code, size_t len)
{
	// ruleid: execmem-rox-not-restored
	void *page = get_rw_page();

	if (!page)
		return NULL;
	memcpy(page, code, len);
	return page;
}

/* Code written in a loop. */
void *thunks_in_loop(const u8 *insns, int n)
{
	// ruleid: execmem-rox-not-restored
	u8 *page = execmem_alloc_rw(EXECMEM_MODULE_TEXT, PAGE_SIZE);
	int i;

	if (!page)
		return NULL;
	for (i = 0; i < n; i++)
		page[i] = insns[i];
	return page;
}

/* x86 alloc_tramp(): a wrapper returning the memory untouched. */
void *alloc_tramp(unsigned long size)
{
	// ok: execmem-rox-not-restored
	return execmem_alloc_rw(EXECMEM_FTRACE, size);
}

/* create_trampoline(): copied, then set_memory_rox(). */
unsigned long create_tramp(const void *code, size_t len)
{
	// ok: execmem-rox-not-restored
	void *tramp = alloc_tramp(PAGE_SIZE);

	if (!tramp)
		return 0;
	memcpy(tramp, code, len);
	set_memory_rox((unsigned long)tramp, 1);
	return (unsigned long)tramp;
}

/* Restored and checked. */
void *tramp_restored(const void *code, size_t len)
{
	// ok: execmem-rox-not-restored
	void *tramp = execmem_alloc_rw(EXECMEM_FTRACE, PAGE_SIZE);
	int err;

	if (!tramp)
		return NULL;
	memcpy(tramp, code, len);
	// ok: execmem-rox-not-restored
	err = execmem_restore_rox(tramp, PAGE_SIZE);
	if (err) {
		execmem_free(tramp);
		return NULL;
	}
	return tramp;
}

/* The ITS shape: kept in a file-scope variable, restored later by another function. */
int thunk_kept(void)
{
	// ok: execmem-rox-not-restored
	thunk_page = execmem_alloc_rw(EXECMEM_MODULE_TEXT, PAGE_SIZE);
	if (!thunk_page)
		return -ENOMEM;
	memset(thunk_page, 0xcc, PAGE_SIZE);
	return 0;
}

/* The module loader shape: stored in the caller's structure. */
int mem_alloc(struct holder *h, unsigned int size)
{
	// ok: execmem-rox-not-restored
	void *ptr = execmem_alloc_rw(EXECMEM_MODULE_TEXT, size);

	if (!ptr)
		return -ENOMEM;
	memset(ptr, 0, size);
	h->base = ptr;
	return 0;
}

/* __its_alloc(): untouched, handed on with no_free_ptr(). */
void *its_page_alloc(void)
{
	// ok: execmem-rox-not-restored
	void *page __free(execmem) = execmem_alloc_rw(EXECMEM_MODULE_TEXT, PAGE_SIZE);

	if (!page)
		return NULL;
	return no_free_ptr(page);
}

/* Freed on the error path, restored on the other. */
void *tramp_error_path(const void *code, size_t len, int bad)
{
	// ok: execmem-rox-not-restored
	void *tramp = execmem_alloc_rw(EXECMEM_FTRACE, PAGE_SIZE);

	if (!tramp)
		return NULL;
	memcpy(tramp, code, len);
	if (bad) {
		execmem_free(tramp);
		return NULL;
	}
	if (execmem_restore_rox(tramp, PAGE_SIZE))
		goto fail;
	return tramp;
fail:
	execmem_free(tramp);
	return NULL;
}

/* its_pages_protect(): restoring memory kept elsewhere; the status goes back to the caller. */
int holder_protect(struct holder *h)
{
	// ok: execmem-rox-not-restored
	return execmem_restore_rox(h->base, h->size);
}
