// corpus-path: mm/execmem.c
// corpus-kernel: 6.12
// An mm/ caller of the internal helpers (an execmem cache remapping pages):
// inside mm/ this is allowed.
#include "kpolicy-corpus.h"

// ok: vmalloc-internal-exposed
int __must_check vmap_pages_range_noflush(unsigned long addr, unsigned long end,
		pgprot_t prot, struct page **pages, unsigned int page_shift);
// ok: vmalloc-internal-exposed
void vunmap_range_noflush(unsigned long start, unsigned long end);
void flush_tlb_kernel_range(unsigned long start, unsigned long end);

struct execmem_cache_area {
	struct vm_struct *vm;
	struct page **pages;
	unsigned int nr_pages;
};

static int execmem_cache_remap(struct execmem_cache_area *a, pgprot_t prot)
{
	unsigned long start = (unsigned long)a->vm->addr;
	unsigned long end = start + ((unsigned long)a->nr_pages << PAGE_SHIFT);
	int err;

	// ok: vmalloc-internal-exposed
	vunmap_range_noflush(start, end);
	flush_tlb_kernel_range(start, end);

	// ok: vmalloc-internal-exposed
	err = vmap_pages_range_noflush(start, end, prot, a->pages, PAGE_SHIFT);
	if (err)
		return err;
	flush_tlb_kernel_range(start, end);
	return 0;
}

int execmem_cache_make_ro(struct execmem_cache_area *a)
{
	return execmem_cache_remap(a, PAGE_KERNEL_ROX);
}
