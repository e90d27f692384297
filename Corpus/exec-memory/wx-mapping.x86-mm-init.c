// corpus-path: arch/x86/mm/init.c
// corpus-kernel: 6.1
// Early page-table setup legitimately handles PAGE_KERNEL_EXEC: those calls
// are not vmalloc-family mappings. A real vmap() W+X is still reported here.
#include "kpolicy-corpus.h"

enum fixed_addresses {
	FIX_TEXT_POKE0,
	FIX_TEXT_POKE1,
	FIX_APEI_GHES,
	__end_of_fixed_addresses,
};

struct map_range {
	unsigned long start;
	unsigned long end;
	unsigned int page_size_mask;
};

void __set_fixmap(enum fixed_addresses idx, phys_addr_t phys, pgprot_t prot);
void create_mapping(phys_addr_t phys, unsigned long virt, phys_addr_t size,
		    pgprot_t prot);
unsigned long kernel_physical_mapping_init(unsigned long start,
		unsigned long end, unsigned long page_size_mask, pgprot_t prot);

static pgprot_t protection_map_kernel[2] __ro_after_init;

void __init early_map_text_poke(phys_addr_t text)
{
	// ok: wx-mapping
	__set_fixmap(FIX_TEXT_POKE0, text, PAGE_KERNEL_EXEC);
	// ok: wx-mapping
	__set_fixmap(FIX_TEXT_POKE1, text + PAGE_SIZE, PAGE_KERNEL_RWX);
}

static unsigned long __init
init_range_memory_mapping(struct map_range *mr, int nr_range)
{
	unsigned long ret = 0;
	int i;

	for (i = 0; i < nr_range; i++)
		// ok: wx-mapping
		ret = kernel_physical_mapping_init(mr[i].start, mr[i].end,
						   mr[i].page_size_mask,
						   PAGE_KERNEL_LARGE_EXEC);
	return ret;
}

void __init map_kernel_segment(phys_addr_t phys, unsigned long virt,
			       phys_addr_t size, bool text)
{
	pgprot_t prot = text ? PAGE_KERNEL_EXEC : PAGE_KERNEL;

	// ok: wx-mapping
	create_mapping(phys, virt, size, prot);
	// ok: wx-mapping
	protection_map_kernel[text] = PAGE_KERNEL_EXEC;
}

/* A debug helper that maps a copy of the kernel text W+X: reported. */
void *__init debug_map_text_alias(struct page **pages, unsigned int nr)
{
	// ruleid: wx-mapping
	return vmap(pages, nr, VM_MAP, PAGE_KERNEL_EXEC);
}

void *__init debug_map_text_alias_ro(struct page **pages, unsigned int nr)
{
	// ok: wx-mapping
	return vmap(pages, nr, VM_MAP, PAGE_KERNEL_ROX);
}

void __init init_mem_mapping_sketch(void)
{
	struct map_range mr[2] = {
		{ .start = 0, .end = 1UL << 30, .page_size_mask = 0 },
		{ .start = 1UL << 30, .end = 1UL << 31, .page_size_mask = 0 },
	};

	init_range_memory_mapping(mr, 2);
}
