// corpus-path: mm/vmalloc.c
// corpus-kernel: 6.12
// mm/vmalloc.c as upstream keeps it: the internal helpers are static or
// declared only in mm/internal.h, and only the public API is exported.
#include "kpolicy-corpus.h"

/* From mm/internal.h. */
// ok: vmalloc-internal-exposed
int __must_check vmap_pages_range_noflush(unsigned long addr, unsigned long end,
		pgprot_t prot, struct page **pages, unsigned int page_shift);
// ok: vmalloc-internal-exposed
int __must_check __vmap_pages_range_noflush(unsigned long addr, unsigned long end,
		pgprot_t prot, struct page **pages, unsigned int page_shift);
// ok: vmalloc-internal-exposed
void vunmap_range_noflush(unsigned long start, unsigned long end);
// ok: vmalloc-internal-exposed
void __vunmap_range_noflush(unsigned long start, unsigned long end);

struct vmap_area {
	unsigned long va_start;
	unsigned long va_end;
	struct list_head list;
	struct vm_struct *vm;
	unsigned long flags;
};

int arch_map_kernel_page(unsigned long addr, phys_addr_t phys, pgprot_t prot,
			 unsigned int shift);
void arch_unmap_kernel_range(unsigned long start, unsigned long end);
void flush_cache_vmap(unsigned long start, unsigned long end);
void flush_tlb_kernel_range(unsigned long start, unsigned long end);
struct vmap_area *va_cache_alloc(gfp_t gfp, int node);
void va_cache_free(struct vmap_area *va);
int va_insert_free(unsigned long size, unsigned long align,
		   unsigned long vstart, unsigned long vend,
		   unsigned long *addr);

static DEFINE_SPINLOCK(free_vmap_area_lock);
static LIST_HEAD(purge_list);

// ok: vmalloc-internal-exposed
static int vmap_range_noflush(unsigned long addr, unsigned long end,
			      phys_addr_t phys_addr, pgprot_t prot,
			      unsigned int max_page_shift)
{
	int err = 0;

	for (; addr < end && !err; addr += PAGE_SIZE, phys_addr += PAGE_SIZE)
		err = arch_map_kernel_page(addr, phys_addr, prot, PAGE_SHIFT);
	return err;
}

int ioremap_page_range(unsigned long addr, unsigned long end,
		       phys_addr_t phys_addr, pgprot_t prot)
{
	int err;

	// ok: vmalloc-internal-exposed
	err = vmap_range_noflush(addr, end, phys_addr, prot, PAGE_SHIFT);
	flush_cache_vmap(addr, end);
	return err;
}

// ok: vmalloc-internal-exposed
void __vunmap_range_noflush(unsigned long start, unsigned long end)
{
	arch_unmap_kernel_range(start, end);
}

// ok: vmalloc-internal-exposed
void vunmap_range_noflush(unsigned long start, unsigned long end)
{
	// ok: vmalloc-internal-exposed
	__vunmap_range_noflush(start, end);
}

// ok: vmalloc-internal-exposed
int __vmap_pages_range_noflush(unsigned long addr, unsigned long end,
		pgprot_t prot, struct page **pages, unsigned int page_shift)
{
	unsigned int i, nr = (end - addr) >> PAGE_SHIFT;
	int err;

	for (i = 0; i < nr; i++) {
		// ok: vmalloc-internal-exposed
		err = vmap_range_noflush(addr + ((unsigned long)i << PAGE_SHIFT),
				addr + ((unsigned long)(i + 1) << PAGE_SHIFT),
				__pa(page_address(pages[i])), prot, page_shift);
		if (err)
			return err;
	}
	return 0;
}

// ok: vmalloc-internal-exposed
int vmap_pages_range_noflush(unsigned long addr, unsigned long end,
		pgprot_t prot, struct page **pages, unsigned int page_shift)
{
	// ok: vmalloc-internal-exposed
	return __vmap_pages_range_noflush(addr, end, prot, pages, page_shift);
}

// ok: vmalloc-internal-exposed
static int vmap_pages_range(unsigned long addr, unsigned long end,
		pgprot_t prot, struct page **pages, unsigned int page_shift)
{
	int err;

	// ok: vmalloc-internal-exposed
	err = vmap_pages_range_noflush(addr, end, prot, pages, page_shift);
	flush_cache_vmap(addr, end);
	return err;
}

int vm_area_map_pages(struct vm_struct *area, unsigned long start,
		      unsigned long end, struct page **pages)
{
	if (!(area->flags & VM_SPARSE))
		return -EINVAL;
	if (start < (unsigned long)area->addr ||
	    end > (unsigned long)area->addr + area->size)
		return -EINVAL;
	// ok: vmalloc-internal-exposed
	return vmap_pages_range(start, end, PAGE_KERNEL, pages, PAGE_SHIFT);
}

static struct vmap_area *
// ok: vmalloc-internal-exposed
alloc_vmap_area(unsigned long size, unsigned long align,
		unsigned long vstart, unsigned long vend,
		int node, gfp_t gfp_mask, unsigned long va_flags,
		struct vm_struct *vm)
{
	struct vmap_area *va;
	unsigned long addr;

	va = va_cache_alloc(gfp_mask, node);
	if (!va)
		return ERR_PTR(-ENOMEM);

	spin_lock(&free_vmap_area_lock);
	if (va_insert_free(size, align, vstart, vend, &addr)) {
		spin_unlock(&free_vmap_area_lock);
		va_cache_free(va);
		return ERR_PTR(-EBUSY);
	}
	spin_unlock(&free_vmap_area_lock);

	va->va_start = addr;
	va->va_end = addr + size;
	va->vm = vm;
	va->flags = va_flags;
	return va;
}

// ok: vmalloc-internal-exposed
static void free_vmap_area_noflush(struct vmap_area *va)
{
	spin_lock(&free_vmap_area_lock);
	list_add(&va->list, &purge_list);
	spin_unlock(&free_vmap_area_lock);
}

// ok: vmalloc-internal-exposed
static struct vm_struct *__get_vm_area_node(unsigned long size,
		unsigned long align, unsigned long shift, unsigned long flags,
		unsigned long start, unsigned long end, int node,
		gfp_t gfp_mask, const void *caller)
{
	struct vmap_area *va;
	struct vm_struct *area;

	size = ALIGN(size, 1UL << shift);
	area = kzalloc(sizeof(*area), gfp_mask);
	if (unlikely(!area))
		return NULL;

	// ok: vmalloc-internal-exposed
	va = alloc_vmap_area(size, align, start, end, node, gfp_mask, 0, area);
	if (IS_ERR(va)) {
		kfree(area);
		return NULL;
	}
	area->addr = (void *)va->va_start;
	area->size = size;
	area->flags = flags;
	area->caller = caller;
	return area;
}

struct vm_struct *__get_vm_area_caller(unsigned long size, unsigned long flags,
				       unsigned long start, unsigned long end,
				       const void *caller)
{
	// ok: vmalloc-internal-exposed
	return __get_vm_area_node(size, 1, PAGE_SHIFT, flags, start, end,
				  NUMA_NO_NODE, GFP_KERNEL, caller);
}

void *vmap(struct page **pages, unsigned int count,
	   unsigned long flags, pgprot_t prot)
{
	struct vm_struct *area;
	unsigned long addr;

	area = __get_vm_area_caller((unsigned long)count << PAGE_SHIFT, flags,
				    VMALLOC_START, VMALLOC_END,
				    __builtin_return_address(0));
	if (!area)
		return NULL;

	addr = (unsigned long)area->addr;
	// ok: vmalloc-internal-exposed
	if (vmap_pages_range(addr, addr + ((unsigned long)count << PAGE_SHIFT),
			     prot, pages, PAGE_SHIFT) < 0) {
		vunmap(area->addr);
		return NULL;
	}
	return area->addr;
}
// ok: vmalloc-internal-exposed
EXPORT_SYMBOL(vmap);

// ok: vmalloc-internal-exposed
EXPORT_SYMBOL_GPL(__get_vm_area_caller);

// ok: vmalloc-internal-exposed
EXPORT_SYMBOL(vmalloc_to_page);

void vunmap_area_sketch(struct vmap_area *va)
{
	// ok: vmalloc-internal-exposed
	vunmap_range_noflush(va->va_start, va->va_end);
	flush_tlb_kernel_range(va->va_start, va->va_end);
	// ok: vmalloc-internal-exposed
	free_vmap_area_noflush(va);
}
