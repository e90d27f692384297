// corpus-path: kernel/bpf/core.c
// corpus-kernel: 6.1
// The BPF core marks JIT images and prog packs for permission reset on
// free: kernel/bpf/ is allowed to.
#include "kpolicy-corpus.h"

struct bpf_binary_header {
	u32 size;
	u8 image[];
};

typedef void (*bpf_jit_fill_hole_t)(void *area, unsigned int size);

struct bpf_binary_header *
bpf_jit_binary_alloc_sketch(unsigned int proglen, u8 **image_ptr,
			    bpf_jit_fill_hole_t fill)
{
	struct bpf_binary_header *hdr;
	u32 size = PAGE_ALIGN(proglen + sizeof(*hdr));

	hdr = bpf_jit_alloc_exec(size);
	if (!hdr)
		return NULL;
	fill(hdr, size);
	hdr->size = size;
	*image_ptr = hdr->image;
	return hdr;
}

void bpf_prog_lock_ro_sketch(struct bpf_binary_header *hdr)
{
	// ok: flush-reset-perms-outside-core
	set_vm_flush_reset_perms(hdr);
	set_memory_ro((unsigned long)hdr, hdr->size >> PAGE_SHIFT);
	set_memory_x((unsigned long)hdr, hdr->size >> PAGE_SHIFT);
}

void *bpf_prog_pack_chunk_sketch(unsigned long size)
{
	void *ptr = __vmalloc_node_range(size, PAGE_SIZE, MODULES_VADDR,
					 MODULES_END, GFP_KERNEL, PAGE_KERNEL,
					 // ok: flush-reset-perms-outside-core
					 VM_FLUSH_RESET_PERMS | VM_DEFER_KMEMLEAK,
					 NUMA_NO_NODE, __builtin_return_address(0));
	return ptr;
}
