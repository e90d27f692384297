// corpus-path: mm/internal.h
// corpus-kernel: 6.12
// mm/internal.h is where the mm-internal vmalloc helpers are meant to be
// declared: nothing here is reported.
#include "kpolicy-corpus.h"

/*
 * mm/vmalloc.c
 */
void __init vmalloc_init(void);
// ok: vmalloc-internal-exposed
int __must_check vmap_pages_range_noflush(unsigned long addr, unsigned long end,
		pgprot_t prot, struct page **pages, unsigned int page_shift);
// ok: vmalloc-internal-exposed
int __must_check __vmap_pages_range_noflush(unsigned long addr,
		unsigned long end, pgprot_t prot, struct page **pages,
		unsigned int page_shift);
// ok: vmalloc-internal-exposed
void vunmap_range_noflush(unsigned long start, unsigned long end);
// ok: vmalloc-internal-exposed
void __vunmap_range_noflush(unsigned long start, unsigned long end);

static inline int vmap_pages_range_noflush_small(unsigned long addr,
		unsigned long end, pgprot_t prot, struct page **pages)
{
	// ok: vmalloc-internal-exposed
	return vmap_pages_range_noflush(addr, end, prot, pages, PAGE_SHIFT);
}
