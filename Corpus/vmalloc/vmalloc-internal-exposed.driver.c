// corpus-path: drivers/gpu/drm/acme/acme_gem_vmap.c
// corpus-kernel: 6.12
// A GPU driver mapping buffer-object pages: calling mm-internal helpers is a
// finding; vmap()/vm_map_ram() and its own similarly named helper are not.
#include "kpolicy-corpus.h"

/* Copied out of mm/internal.h so the driver can "save a TLB flush". */
// ok: vmalloc-internal-exposed
extern int __vmap_pages_range_noflush(unsigned long addr, unsigned long end,
				      pgprot_t prot, struct page **pages,
				      unsigned int page_shift);
// ok: vmalloc-internal-exposed
extern void __vunmap_range_noflush(unsigned long start, unsigned long end);
// ok: vmalloc-internal-exposed
extern struct vmap_area *alloc_vmap_area(unsigned long size,
		unsigned long align, unsigned long vstart, unsigned long vend,
		int node, gfp_t gfp_mask, unsigned long va_flags,
		struct vm_struct *vm);

struct acme_bo {
	struct page **pages;
	unsigned int nr_pages;
	struct vm_struct *area;
	void *vaddr;
	bool use_fast_path;
};

// ok: vmalloc-internal-exposed
static int my_vmap_pages_range(struct acme_bo *bo)
{
	bo->vaddr = vmap(bo->pages, bo->nr_pages, VM_MAP, PAGE_KERNEL);
	return bo->vaddr ? 0 : -ENOMEM;
}

static int acme_bo_vmap_fast(struct acme_bo *bo)
{
	unsigned long start, end;
	int ret;

	bo->area = get_vm_area((unsigned long)bo->nr_pages << PAGE_SHIFT, VM_MAP);
	if (!bo->area)
		return -ENOMEM;
	start = (unsigned long)bo->area->addr;
	end = start + ((unsigned long)bo->nr_pages << PAGE_SHIFT);

	// ruleid: vmalloc-internal-exposed
	ret = __vmap_pages_range_noflush(start, end, PAGE_KERNEL, bo->pages,
					 PAGE_SHIFT);
	if (ret)
		goto err_unmap;
	bo->vaddr = bo->area->addr;
	return 0;

err_unmap:
	// ruleid: vmalloc-internal-exposed
	__vunmap_range_noflush(start, end);
	free_vm_area(bo->area);
	bo->area = NULL;
	return ret;
}

static struct vmap_area *acme_bo_reserve(struct acme_bo *bo)
{
	// ruleid: vmalloc-internal-exposed
	return alloc_vmap_area((unsigned long)bo->nr_pages << PAGE_SHIFT,
			       PAGE_SIZE, VMALLOC_START, VMALLOC_END,
			       NUMA_NO_NODE, GFP_KERNEL, 0, NULL);
}

int acme_bo_vmap(struct acme_bo *bo)
{
	int ret;

	if (bo->use_fast_path) {
		ret = acme_bo_vmap_fast(bo);
		if (!ret)
			return 0;
		if (IS_ERR(acme_bo_reserve(bo)))
			return -ENOMEM;
	}

	// ok: vmalloc-internal-exposed
	ret = my_vmap_pages_range(bo);
	if (!ret)
		return 0;

	// ok: vmalloc-internal-exposed
	bo->vaddr = vm_map_ram(bo->pages, bo->nr_pages, NUMA_NO_NODE);
	return bo->vaddr ? 0 : -ENOMEM;
}
// ok: vmalloc-internal-exposed
EXPORT_SYMBOL_GPL(acme_bo_vmap);

void acme_bo_vunmap(struct acme_bo *bo)
{
	if (bo->area) {
		// ok: vmalloc-internal-exposed
		remove_vm_area(bo->vaddr);
		kfree(bo->area);
		bo->area = NULL;
	} else {
		vunmap(bo->vaddr);
	}
	bo->vaddr = NULL;
}
