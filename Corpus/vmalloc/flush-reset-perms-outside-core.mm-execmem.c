// corpus-path: mm/execmem.c
// corpus-kernel: 6.12
// execmem is the allocator that should own VM_FLUSH_RESET_PERMS: mm/ may use it.
#include "kpolicy-corpus.h"

struct execmem_range {
	unsigned long start;
	unsigned long end;
	unsigned long fallback_start;
	unsigned long fallback_end;
	pgprot_t pgprot;
	unsigned int alignment;
};

static struct execmem_range execmem_ranges[EXECMEM_TYPE_MAX];

static void *__execmem_alloc(struct execmem_range *range, size_t size)
{
	// ok: flush-reset-perms-outside-core
	unsigned long vm_flags = VM_FLUSH_RESET_PERMS;
	void *p;

	p = __vmalloc_node_range(size, range->alignment, range->start, range->end,
				 GFP_KERNEL, range->pgprot, vm_flags,
				 NUMA_NO_NODE, __builtin_return_address(0));
	if (!p && range->fallback_start)
		p = __vmalloc_node_range(size, range->alignment,
					 range->fallback_start, range->fallback_end,
					 GFP_KERNEL, range->pgprot, vm_flags,
					 NUMA_NO_NODE, __builtin_return_address(0));
	return p;
}

void *execmem_alloc_sketch(enum execmem_type type, size_t size)
{
	return __execmem_alloc(&execmem_ranges[type], size);
}

void execmem_mark_sketch(void *p)
{
	// ok: flush-reset-perms-outside-core
	set_vm_flush_reset_perms(p);
}
