// corpus-path: kernel/trace/free-example.c
// corpus-kernel: 6.12
#include "kpolicy-corpus.h"

void execmem_vfree(void)
{
	void *p = execmem_alloc(EXECMEM_FTRACE, PAGE_SIZE);

	if (!p)
		return;
	// ruleid: exec-free-mismatch
	vfree(p);
}

void execmem_pair(void)
{
	void *p = execmem_alloc(EXECMEM_FTRACE, PAGE_SIZE);

	if (!p)
		return;
	set_memory_rox((unsigned long)p, 1);
	// ok: exec-free-mismatch
	execmem_free(p);
}

/* The __free(execmem) cleanup is the pair. */
void *execmem_cleanup(int fail)
{
	void *p __free(execmem) = execmem_alloc(EXECMEM_KPROBES, PAGE_SIZE);

	if (!p || fail)
		// ok: exec-free-mismatch
		return NULL;
	set_memory_rox((unsigned long)p, 1);
	return_ptr(p);
}
