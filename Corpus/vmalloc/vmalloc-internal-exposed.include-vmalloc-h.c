// corpus-path: include/linux/vmalloc.h
// corpus-kernel: 6.12
// Prototypes added to the public vmalloc header: internal helpers declared
// with external linkage here are findings; the public API is not.
#include "kpolicy-corpus.h"

// ok: vmalloc-internal-exposed
extern void *vmap(struct page **pages, unsigned int count,
			unsigned long flags, pgprot_t prot);
// ok: vmalloc-internal-exposed
extern void *vm_map_ram(struct page **pages, unsigned int count, int node);
// ok: vmalloc-internal-exposed
int vm_area_map_pages(struct vm_struct *area, unsigned long start,
		      unsigned long end, struct page **pages);
// ok: vmalloc-internal-exposed
extern struct vm_struct *remove_vm_area(const void *addr);
// ok: vmalloc-internal-exposed
extern struct page *vmalloc_to_page(const void *addr);
// ok: vmalloc-internal-exposed
int ioremap_page_range(unsigned long addr, unsigned long end,
		       phys_addr_t phys_addr, pgprot_t prot);

/* The exposure patch: */
// ruleid: vmalloc-internal-exposed
int vmap_pages_range(unsigned long addr, unsigned long end, pgprot_t prot,
		     struct page **pages, unsigned int page_shift);
// ruleid: vmalloc-internal-exposed
int __must_check vmap_pages_range_noflush(unsigned long addr, unsigned long end,
		pgprot_t prot, struct page **pages, unsigned int page_shift);
// ruleid: vmalloc-internal-exposed
extern void vunmap_range_noflush(unsigned long start, unsigned long end);

extern struct vm_struct *
// ruleid: vmalloc-internal-exposed
__get_vm_area_node(unsigned long size, unsigned long align,
		   unsigned long shift, unsigned long flags,
		   unsigned long start, unsigned long end, int node,
		   gfp_t gfp_mask, const void *caller);

// ruleid: vmalloc-internal-exposed
struct vmap_area *alloc_vmap_area(unsigned long size, unsigned long align,
		unsigned long vstart, unsigned long vend, int node,
		gfp_t gfp_mask, unsigned long va_flags, struct vm_struct *vm);

/* Not external linkage: a header-local stub, and a struct member. */
// ok: vmalloc-internal-exposed
static inline void __vunmap_range_noflush(unsigned long start, unsigned long end)
{
}

struct vmap_ops {
	// ok: vmalloc-internal-exposed
	int (*vmap_pages_range)(unsigned long addr, unsigned long end,
				pgprot_t prot, struct page **pages,
				unsigned int page_shift);
	// ok: vmalloc-internal-exposed
	void (*free_vmap_area_noflush)(struct vmap_area *va);
};

static inline int vmap_ops_map(const struct vmap_ops *ops, unsigned long addr,
			       unsigned long end, struct page **pages)
{
	// ok: vmalloc-internal-exposed
	return ops->vmap_pages_range(addr, end, PAGE_KERNEL, pages, PAGE_SHIFT);
}
