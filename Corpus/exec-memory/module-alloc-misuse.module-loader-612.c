// corpus-path: kernel/module/main.c
// corpus-kernel: 6.12
// A vendor patch carried forward to 6.12 that still calls module_alloc()
// in the loader. On 6.10+ any use is reported, even in kernel/module/.
#include "kpolicy-corpus.h"

struct load_info {
	unsigned long core_size;
	unsigned long init_size;
	bool legacy_alloc;
};

enum mod_mem_type {
	MOD_TEXT = 0,
	MOD_DATA,
	MOD_RODATA,
	MOD_RO_AFTER_INIT,
	MOD_INIT_TEXT,
	MOD_INIT_DATA,
	MOD_INIT_RODATA,
};

static int module_memory_alloc(struct module *mod, enum mod_mem_type type)
{
	unsigned int size = PAGE_ALIGN(mod->mem[type].size);
	enum execmem_type execmem_type;
	void *ptr;

	mod->mem[type].size = size;
	if (type == MOD_TEXT || type == MOD_INIT_TEXT)
		execmem_type = EXECMEM_MODULE_TEXT;
	else
		execmem_type = EXECMEM_MODULE_DATA;

	// ok: module-alloc-misuse
	ptr = execmem_alloc(execmem_type, size);
	if (!ptr)
		return -ENOMEM;
	memset(ptr, 0, size);
	mod->mem[type].base = ptr;
	return 0;
}

static void module_memory_free(struct module *mod, enum mod_mem_type type)
{
	// ok: module-alloc-misuse
	execmem_free(mod->mem[type].base);
}

/* Vendor addition: a legacy path for an out-of-tree loader extension. */
static int move_module_legacy(struct module *mod, struct load_info *info)
{
	void *ptr;

	// ruleid: module-alloc-misuse
	ptr = module_alloc(info->core_size);
	if (!ptr)
		return -ENOMEM;
	mod->core_layout_base = ptr;

	if (!info->init_size)
		return 0;

	// ruleid: module-alloc-misuse
	ptr = module_alloc(info->init_size);
	if (!ptr)
		goto free_core;
	mod->init_layout_base = ptr;
	return 0;

free_core:
	// ruleid: module-alloc-misuse
	module_memfree(mod->core_layout_base);
	return -ENOMEM;
}

static void free_module_legacy(struct module *mod)
{
	// ruleid: module-alloc-misuse
	module_memfree(mod->init_layout_base);
	// ruleid: module-alloc-misuse
	module_memfree(mod->core_layout_base);
}

int move_module(struct module *mod, struct load_info *info)
{
	int t, err;

	if (info->legacy_alloc)
		return move_module_legacy(mod, info);

	for (t = MOD_TEXT; t <= MOD_INIT_RODATA; t++) {
		err = module_memory_alloc(mod, t);
		if (err)
			goto out_err;
	}
	return 0;
out_err:
	while (t-- > MOD_TEXT)
		module_memory_free(mod, t);
	free_module_legacy(mod);
	return err;
}
