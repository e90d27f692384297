// corpus-path: arch/arm64/kernel/insn-example.c
// corpus-kernel: 6.1
#include "kpolicy-corpus.h"

/* 6.1 arm64 module_alloc() does not set VM_FLUSH_RESET_PERMS (x86 does). */
void arm64_module_alloc(void)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return;
	set_memory_ro((unsigned long)p, 1);
	set_memory_x((unsigned long)p, 1);
	// ruleid: missing-perms-reset
	module_memfree(p);
}
