// corpus-path: mm/vmalloc.c
// corpus-kernel: 6.12
// A patch to mm/vmalloc.c that drops "static" from internal helpers and
// exports them (the "Expose vmap_pages_range() to the rest of the kernel" shape).
#include "kpolicy-corpus.h"

/* From mm/internal.h. */
// ok: vmalloc-internal-exposed
int __must_check vmap_pages_range_noflush(unsigned long addr, unsigned long end,
		pgprot_t prot, struct page **pages, unsigned int page_shift);

struct vmap_area {
	unsigned long va_start;
	unsigned long va_end;
	struct vm_struct *vm;
};

void flush_cache_vmap(unsigned long start, unsigned long end);
struct vmap_area *va_cache_alloc(gfp_t gfp, int node);
void va_cache_free(struct vmap_area *va);
unsigned long va_find_free(unsigned long size, unsigned long align,
			   unsigned long vstart, unsigned long vend);
int arch_map_kernel_page(unsigned long addr, phys_addr_t phys, pgprot_t prot,
			 unsigned int shift);

// ok: vmalloc-internal-exposed
int vmap_pages_range_noflush(unsigned long addr, unsigned long end,
		pgprot_t prot, struct page **pages, unsigned int page_shift)
{
	unsigned long i, nr = (end - addr) >> PAGE_SHIFT;
	int err = 0;

	for (i = 0; i < nr && !err; i++)
		err = arch_map_kernel_page(addr + (i << PAGE_SHIFT),
					   __pa(page_address(pages[i])), prot,
					   page_shift);
	return err;
}
// ruleid: vmalloc-internal-exposed
EXPORT_SYMBOL_GPL(vmap_pages_range_noflush);

/* Was static; now visible to the whole kernel. */
// ruleid: vmalloc-internal-exposed
int vmap_pages_range(unsigned long addr, unsigned long end,
		pgprot_t prot, struct page **pages, unsigned int page_shift)
{
	int err;

	// ok: vmalloc-internal-exposed
	err = vmap_pages_range_noflush(addr, end, prot, pages, page_shift);
	flush_cache_vmap(addr, end);
	return err;
}
// ruleid: vmalloc-internal-exposed
EXPORT_SYMBOL_GPL(vmap_pages_range);

// ok: vmalloc-internal-exposed
static int vmap_range_noflush(unsigned long addr, unsigned long end,
			      phys_addr_t phys_addr, pgprot_t prot,
			      unsigned int max_page_shift)
{
	int err = 0;

	while (addr < end && !err) {
		err = arch_map_kernel_page(addr, phys_addr, prot, PAGE_SHIFT);
		addr += PAGE_SIZE;
		phys_addr += PAGE_SIZE;
	}
	return err;
}

struct vmap_area *
// ruleid: vmalloc-internal-exposed
alloc_vmap_area(unsigned long size, unsigned long align,
		unsigned long vstart, unsigned long vend,
		int node, gfp_t gfp_mask, unsigned long va_flags,
		struct vm_struct *vm)
{
	struct vmap_area *va = va_cache_alloc(gfp_mask, node);
	unsigned long addr;

	if (!va)
		return ERR_PTR(-ENOMEM);
	addr = va_find_free(size, align, vstart, vend);
	if (!addr) {
		va_cache_free(va);
		return ERR_PTR(-EBUSY);
	}
	va->va_start = addr;
	va->va_end = addr + size;
	va->vm = vm;
	return va;
}

// ruleid: vmalloc-internal-exposed
struct vm_struct *__get_vm_area_node(unsigned long size,
		unsigned long align, unsigned long shift, unsigned long flags,
		unsigned long start, unsigned long end, int node,
		gfp_t gfp_mask, const void *caller)
{
	struct vm_struct *area;
	struct vmap_area *va;

	area = kzalloc(sizeof(*area), gfp_mask);
	if (!area)
		return NULL;
	// ok: vmalloc-internal-exposed
	va = alloc_vmap_area(ALIGN(size, 1UL << shift), align, start, end,
			     node, gfp_mask, 0, area);
	if (IS_ERR(va)) {
		kfree(area);
		return NULL;
	}
	area->addr = (void *)va->va_start;
	area->size = va->va_end - va->va_start;
	area->flags = flags;
	area->caller = caller;
	return area;
}
// ruleid: vmalloc-internal-exposed
EXPORT_SYMBOL(__get_vm_area_node);

int ioremap_page_range(unsigned long addr, unsigned long end,
		       phys_addr_t phys_addr, pgprot_t prot)
{
	// ok: vmalloc-internal-exposed
	int err = vmap_range_noflush(addr, end, phys_addr, prot, PAGE_SHIFT);

	flush_cache_vmap(addr, end);
	return err;
}
// ok: vmalloc-internal-exposed
EXPORT_SYMBOL_GPL(ioremap_page_range);

int vm_area_map_pages(struct vm_struct *area, unsigned long start,
		      unsigned long end, struct page **pages)
{
	if (!(area->flags & VM_SPARSE))
		return -EINVAL;
	// ok: vmalloc-internal-exposed
	return vmap_pages_range(start, end, PAGE_KERNEL, pages, PAGE_SHIFT);
}
// ok: vmalloc-internal-exposed
EXPORT_SYMBOL_GPL(vm_area_map_pages);

// ok: vmalloc-internal-exposed
EXPORT_SYMBOL_GPL(remove_vm_area);
