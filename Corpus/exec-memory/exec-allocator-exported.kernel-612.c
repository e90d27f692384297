// corpus-path: drivers/misc/jitmem.c
// corpus-kernel: 6.12
// The jitmem library converted to execmem on 6.12: exported wrappers around
// execmem_alloc() still hand out executable memory.
#include "kpolicy-corpus.h"

struct jitmem_region {
	void *base;
	unsigned long size;
	enum execmem_type type;
};

void *jitmem_alloc(unsigned long size)
{
	return execmem_alloc(EXECMEM_DEFAULT, size);
}
// ruleid: exec-allocator-exported
EXPORT_SYMBOL_GPL(jitmem_alloc);

void jitmem_free(void *p)
{
	execmem_free(p);
}
// ok: exec-allocator-exported
EXPORT_SYMBOL_GPL(jitmem_free);

static void *jitmem_alloc_type(enum execmem_type type, unsigned long size)
{
	void *p;

	if (type >= EXECMEM_TYPE_MAX)
		return NULL;
	p = execmem_alloc(type, PAGE_ALIGN(size));
	if (!p)
		return NULL;
	memset(p, 0xcc, PAGE_ALIGN(size));
	return p;
}

void *jitmem_alloc_kprobe_slot(void)
{
	return jitmem_alloc_type(EXECMEM_KPROBES, PAGE_SIZE);
}
// ruleid: exec-allocator-exported
EXPORT_SYMBOL_NS_GPL(jitmem_alloc_kprobe_slot, JITMEM);

/* 6.12: __vmalloc_node_range() is a macro over the _noprof function. */
void *jitmem_alloc_exec_range(unsigned long size)
{
	void *p;

	p = __vmalloc_node_range(size, PAGE_SIZE, MODULES_VADDR, MODULES_END,
				 GFP_KERNEL, PAGE_KERNEL_EXEC, VM_DEFER_KMEMLEAK,
				 NUMA_NO_NODE, __builtin_return_address(0));
	return p;
}
// ruleid: exec-allocator-exported
EXPORT_SYMBOL_GPL(jitmem_alloc_exec_range);

struct jitmem_region *jitmem_region_new(unsigned long size)
{
	struct jitmem_region *r = kzalloc(sizeof(*r), GFP_KERNEL);

	if (!r)
		return NULL;
	r->base = jitmem_alloc_type(EXECMEM_BPF, size);
	if (!r->base) {
		kfree(r);
		return NULL;
	}
	r->size = size;
	r->type = EXECMEM_BPF;
	return r;
}
/* Returns a descriptor, not the executable memory itself. */
// ok: exec-allocator-exported
EXPORT_SYMBOL_GPL(jitmem_region_new);

/* Not executable: vmalloc() is a macro over vmalloc_noprof() here. */
void *jitmem_alloc_scratch(unsigned long size)
{
	return vmalloc(size);
}
// ok: exec-allocator-exported
EXPORT_SYMBOL_GPL(jitmem_alloc_scratch);
