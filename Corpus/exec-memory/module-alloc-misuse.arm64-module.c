// corpus-path: arch/arm64/kernel/module.c
// corpus-kernel: 6.1
// arm64's module_alloc() override on 6.1: arch/*/kernel/module.c is part of
// the module loader, so neither the definition nor the calls are reported.
#include "kpolicy-corpus.h"

#define MODULE_ALIGN	PAGE_SIZE
#define SZ_2G		0x80000000UL
#define MODULES_VSIZE	(128UL * 1024 * 1024)

u64 module_alloc_base __ro_after_init = MODULES_VADDR;

// ok: module-alloc-misuse
void *module_alloc(unsigned long size)
{
	// ok: module-alloc-misuse
	u64 module_alloc_end = module_alloc_base + MODULES_VSIZE;
	gfp_t gfp_mask = GFP_KERNEL;
	void *p;

	if (IS_ENABLED(CONFIG_ARM64_MODULE_PLTS))
		gfp_mask |= __GFP_NOWARN;
	if (module_alloc_end > MODULES_END)
		module_alloc_end = MODULES_END;

	p = __vmalloc_node_range(size, MODULE_ALIGN, module_alloc_base,
				module_alloc_end, gfp_mask, PAGE_KERNEL,
				VM_DEFER_KMEMLEAK, NUMA_NO_NODE,
				__builtin_return_address(0));

	if (!p && IS_ENABLED(CONFIG_ARM64_MODULE_PLTS))
		/* Fall back to the whole 2G window around the kernel. */
		p = __vmalloc_node_range(size, MODULE_ALIGN, module_alloc_base,
				module_alloc_base + SZ_2G, GFP_KERNEL,
				PAGE_KERNEL, 0, NUMA_NO_NODE,
				__builtin_return_address(0));
	return p;
}

struct plt_entry {
	u32 adrp, add, br;
};

/* A loader-private PLT area, allocated and released next to the module. */
static void *module_alloc_plt_area(unsigned long nplts)
{
	// ok: module-alloc-misuse
	return module_alloc(PAGE_ALIGN(nplts * sizeof(struct plt_entry)));
}

static void module_free_plt_area(void *plts)
{
	// ok: module-alloc-misuse
	module_memfree(plts);
}

int module_frob_arch_sections(struct module *mod, unsigned long nplts)
{
	void *plts = module_alloc_plt_area(nplts);

	if (!plts)
		return -ENOMEM;
	if (nplts > 4096) {
		module_free_plt_area(plts);
		return -E2BIG;
	}
	mod->core_layout_base = plts;
	return 0;
}
