// corpus-path: fs/bcachefs/bkey_jit.c
// corpus-kernel: 6.12
// A filesystem JIT (the "bring back vmalloc_exec" shape) on 6.12, where
// __vmalloc_node_range() is a macro: the flag is still reported where used.
#include "kpolicy-corpus.h"

struct bkey_jit {
	void *code;
	unsigned long size;
};

static void *bkey_jit_alloc(unsigned long size)
{
	// ruleid: flush-reset-perms-outside-core
	return __vmalloc_node_range(size, 1, MODULES_VADDR, MODULES_END, GFP_KERNEL, PAGE_KERNEL_ROX, VM_FLUSH_RESET_PERMS,
				    NUMA_NO_NODE, __builtin_return_address(0));
}

static void *bkey_jit_alloc_data(unsigned long size)
{
	// ok: flush-reset-perms-outside-core
	return __vmalloc_node_range(size, 1, VMALLOC_START, VMALLOC_END, GFP_KERNEL, PAGE_KERNEL, VM_DEFER_KMEMLEAK,
				    NUMA_NO_NODE, __builtin_return_address(0));
}

int bkey_jit_compile(struct bkey_jit *jit, const u8 *insns, unsigned long len)
{
	void *scratch;

	// ok: flush-reset-perms-outside-core
	scratch = vmalloc(len);
	if (!scratch)
		return -ENOMEM;
	memcpy(scratch, insns, len);

	jit->code = bkey_jit_alloc(PAGE_ALIGN(len));
	if (!jit->code) {
		jit->code = bkey_jit_alloc_data(PAGE_ALIGN(len));
		if (!jit->code)
			goto err;
		// ruleid: flush-reset-perms-outside-core
		set_vm_flush_reset_perms(jit->code);
	}
	text_poke_copy(jit->code, scratch, len);
	jit->size = len;
	vfree(scratch);
	return 0;
err:
	vfree(scratch);
	return -ENOMEM;
}
