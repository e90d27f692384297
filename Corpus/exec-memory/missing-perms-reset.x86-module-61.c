// corpus-path: arch/x86/kernel/insn-example.c
// corpus-kernel: 6.1
#include "kpolicy-corpus.h"

/* 6.1 x86 module_alloc() sets VM_FLUSH_RESET_PERMS itself. */
void x86_module_alloc(void)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return;
	set_memory_ro((unsigned long)p, 1);
	set_memory_x((unsigned long)p, 1);
	// ok: missing-perms-reset
	module_memfree(p);
}
