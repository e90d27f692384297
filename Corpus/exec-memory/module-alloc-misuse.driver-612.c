// corpus-path: drivers/misc/jit-helper.c
// corpus-kernel: 6.12
// The jit-helper driver rebased onto 6.12: old module_alloc() calls are
// findings, the execmem conversion is not.
#include "kpolicy-corpus.h"

struct jit_helper_ops {
	void *(*alloc)(unsigned long size);
	void (*free)(void *region);
};

static void *jit_helper_alloc_execmem(unsigned long size)
{
	// ok: module-alloc-misuse
	return execmem_alloc(EXECMEM_KPROBES, size);
}

static const struct jit_helper_ops jit_helper_legacy_ops = {
	// ruleid: module-alloc-misuse
	.alloc = module_alloc,
	// ruleid: module-alloc-misuse
	.free = module_memfree,
};

static const struct jit_helper_ops jit_helper_ops = {
	.alloc = jit_helper_alloc_execmem,
	// ok: module-alloc-misuse
	.free = execmem_free,
};

static void *jit_helper_page(bool legacy)
{
	void *page;

	if (legacy)
		// ruleid: module-alloc-misuse
		page = module_alloc_huge(PAGE_SIZE);
	else
		page = jit_helper_ops.alloc(PAGE_SIZE);
	return page;
}

static int __init jit_helper_init(void)
{
	// ok: module-alloc-misuse
	unsigned long module_alloc_size = 0;
	void *p;

	p = jit_helper_page(false);
	if (!p)
		return -ENOMEM;
	module_alloc_size += PAGE_SIZE;
	jit_helper_ops.free(p);

	p = jit_helper_legacy_ops.alloc(PAGE_SIZE);
	if (p)
		jit_helper_legacy_ops.free(p);
	pr_info("jit-helper: %lu\n", module_alloc_size);
	return 0;
}
module_init(jit_helper_init);
