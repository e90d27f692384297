// corpus-path: kernel/trace/execmem-example.c
// corpus-kernel: 7.3
#include "kpolicy-corpus.h"

/*
 * Common code runs on every arch. execmem_restore_rox() is set_memory_rox()
 * only where the arch has a ROX cache (x86 in 7.3); elsewhere it is a stub
 * returning 0, and the memory stays as execmem_alloc_rw() gave it.
 */

/* Restored the x86 way only: arm64, riscv, powerpc and s390 keep it writable. */
void *tramp_cache_only(const void *code, size_t len)
{
	// ruleid: execmem-rox-not-restored
	void *tramp = execmem_alloc_rw(EXECMEM_FTRACE, PAGE_SIZE);

	if (!tramp)
		return NULL;
	memcpy(tramp, code, len);
	if (execmem_restore_rox(tramp, PAGE_SIZE)) {
		execmem_free(tramp);
		return NULL;
	}
	return tramp;
}

/* set_memory_rox() restores on every arch. */
void *tramp_portable(const void *code, size_t len)
{
	// ok: execmem-rox-not-restored
	void *tramp = execmem_alloc_rw(EXECMEM_FTRACE, PAGE_SIZE);

	if (!tramp)
		return NULL;
	memcpy(tramp, code, len);
	if (set_memory_rox((unsigned long)tramp, 1)) {
		execmem_free(tramp);
		return NULL;
	}
	return tramp;
}

/* The module loader's choice: execmem_restore_rox() for ROX-cache memory, set_memory_rox() otherwise. */
void *text_by_type(const void *code, size_t len)
{
	// ok: execmem-rox-not-restored
	void *text = execmem_alloc_rw(EXECMEM_MODULE_TEXT, PAGE_SIZE);
	int err;

	if (!text)
		return NULL;
	memcpy(text, code, len);
	if (execmem_is_rox(EXECMEM_MODULE_TEXT))
		err = execmem_restore_rox(text, PAGE_SIZE);
	else
		err = set_memory_rox((unsigned long)text, 1);
	if (err) {
		execmem_free(text);
		return NULL;
	}
	return text;
}

/* Ignored on x86 only: the stub elsewhere cannot fail. */
void *text_ignored(const void *code, size_t len)
{
	void *text = execmem_alloc_rw(EXECMEM_MODULE_TEXT, PAGE_SIZE);

	if (!text)
		return NULL;
	memcpy(text, code, len);
	// ruleid: execmem-rox-not-restored
	execmem_restore_rox(text, PAGE_SIZE);
	if (!execmem_is_rox(EXECMEM_MODULE_TEXT) && set_memory_rox((unsigned long)text, 1)) {
		execmem_free(text);
		return NULL;
	}
	return text;
}

/* Made executable while still writable: W+X on every arch, cache or not, and never ROX. */
void *tramp_x_while_rw(const void *code, size_t len)
{
	// ruleid: execmem-rox-not-restored
	void *tramp = execmem_alloc_rw(EXECMEM_FTRACE, PAGE_SIZE);

	if (!tramp)
		return NULL;
	memcpy(tramp, code, len);
	// ruleid: wx-window
	set_memory_x((unsigned long)tramp, 1);
	return tramp;
}
