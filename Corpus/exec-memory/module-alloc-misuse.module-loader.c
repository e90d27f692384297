// corpus-path: kernel/module/main.c
// corpus-kernel: 6.1
// The module loader itself on 6.1: defining and calling module_alloc() and
// module_memfree() here is what they exist for. Nothing is reported.
#include "kpolicy-corpus.h"

struct load_info {
	unsigned long core_size;
	unsigned long init_size;
};

struct mod_initfree {
	struct list_head list;
	void *module_init;
};

static LIST_HEAD(init_free_list);

// ok: module-alloc-misuse
void __weak module_memfree(void *module_region)
{
	vfree(module_region);
}

// ok: module-alloc-misuse
void * __weak module_alloc(unsigned long size)
{
	return __vmalloc_node_range(size, 1, VMALLOC_START, VMALLOC_END,
			GFP_KERNEL, PAGE_KERNEL_EXEC, VM_FLUSH_RESET_PERMS,
			NUMA_NO_NODE, __builtin_return_address(0));
}

static int move_module(struct module *mod, struct load_info *info)
{
	void *ptr;

	// ok: module-alloc-misuse
	ptr = module_alloc(info->core_size);
	if (!ptr)
		return -ENOMEM;
	memset(ptr, 0, info->core_size);
	mod->core_layout_base = ptr;

	if (info->init_size) {
		// ok: module-alloc-misuse
		ptr = module_alloc(info->init_size);
		if (!ptr) {
			// ok: module-alloc-misuse
			module_memfree(mod->core_layout_base);
			return -ENOMEM;
		}
		memset(ptr, 0, info->init_size);
		mod->init_layout_base = ptr;
	} else {
		mod->init_layout_base = NULL;
	}
	return 0;
}

static void free_module_layouts(struct module *mod)
{
	// ok: module-alloc-misuse
	module_memfree(mod->init_layout_base);
	// ok: module-alloc-misuse
	module_memfree(mod->core_layout_base);
}

static void do_free_init(struct list_head *list)
{
	struct mod_initfree *initfree = container_of(list->next, struct mod_initfree, list);

	while (&initfree->list != list) {
		struct mod_initfree *next =
			container_of(initfree->list.next, struct mod_initfree, list);

		// ok: module-alloc-misuse
		module_memfree(initfree->module_init);
		kfree(initfree);
		initfree = next;
	}
}

int load_module_layouts(struct module *mod, struct load_info *info)
{
	int err = move_module(mod, info);

	if (err)
		return err;
	if (!list_empty(&init_free_list))
		do_free_init(&init_free_list);
	if (!mod->core_size) {
		free_module_layouts(mod);
		return -EINVAL;
	}
	return 0;
}
