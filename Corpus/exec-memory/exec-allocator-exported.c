// corpus-path: drivers/misc/jitmem.c
// corpus-kernel: 6.1
// A driver library that hands executable memory to other modules: exporting
// its allocators is the finding; exporting frees, writers and data is not.
#include "kpolicy-corpus.h"

#define JITMEM_POOL_PAGES	8

struct jitmem_stats {
	unsigned long allocated;
	unsigned long freed;
};

struct jitmem_stats jitmem_stats;
// ok: exec-allocator-exported
EXPORT_SYMBOL_GPL(jitmem_stats);

static void *jitmem_pool;
static DEFINE_MUTEX(jitmem_lock);

/* 1. Returns module_alloc() directly. */
void *jitmem_alloc(unsigned long size)
{
	return module_alloc(size);
}
// ruleid: exec-allocator-exported
EXPORT_SYMBOL_GPL(jitmem_alloc);

void jitmem_free(void *p)
{
	module_memfree(p);
}
// ok: exec-allocator-exported
EXPORT_SYMBOL_GPL(jitmem_free);

/* 2. Through a local variable, with an error path. */
void *jitmem_alloc_filled(unsigned long size, u8 fill)
{
	void *p;

	p = module_alloc(PAGE_ALIGN(size));
	if (!p)
		goto out;
	memset(p, fill, PAGE_ALIGN(size));
	jitmem_stats.allocated += PAGE_ALIGN(size);
out:
	return p;
}
// ruleid: exec-allocator-exported
EXPORT_SYMBOL(jitmem_alloc_filled);

/* 3. Through a static helper in the same file. */
static void *__jitmem_get_pages(unsigned long size)
{
	void *p = bpf_jit_alloc_exec(size);

	if (!p)
		return NULL;
	jitmem_stats.allocated += size;
	return p;
}

// ok: exec-allocator-exported
static void *jitmem_get_pages_private(unsigned long size)
{
	return __jitmem_get_pages(size);
}

void *jitmem_get_pages(unsigned long size)
{
	if (!size || size > JITMEM_POOL_PAGES * PAGE_SIZE)
		return NULL;
	return __jitmem_get_pages(size);
}
// ruleid: exec-allocator-exported
EXPORT_SYMBOL_GPL(jitmem_get_pages);

/* 4. The old W+X allocator. */
void *jitmem_alloc_legacy(unsigned long size)
{
	return vmalloc_exec(size);
}
// ruleid: exec-allocator-exported
EXPORT_SYMBOL(jitmem_alloc_legacy);

/* 5. A vmalloc-family call with an executable pgprot (read-only or not). */
void *jitmem_alloc_rox(unsigned long size)
{
	void *p;

	p = __vmalloc_node_range(size, PAGE_SIZE, MODULES_VADDR, MODULES_END,
				 GFP_KERNEL, PAGE_KERNEL_ROX, 0, NUMA_NO_NODE,
				 __builtin_return_address(0));
	return p;
}
// ruleid: exec-allocator-exported
EXPORT_SYMBOL_GPL(jitmem_alloc_rox);

void *jitmem_map_pages_exec(struct page **pages, unsigned int nr)
{
	pgprot_t prot = PAGE_KERNEL_EXEC;
	void *addr;

	addr = vmap(pages, nr, VM_MAP, prot);
	if (!addr)
		return NULL;
	return addr;
}
// ruleid: exec-allocator-exported
EXPORT_SYMBOL_NS_GPL(jitmem_map_pages_exec, JITMEM);

/* 6. Huge module-area allocation for a pack of programs. */
void *jitmem_alloc_pack(unsigned long size)
{
	void *pack = NULL;

	mutex_lock(&jitmem_lock);
	if (size >= (2UL << 20))
		pack = module_alloc_huge(size);
	mutex_unlock(&jitmem_lock);
	return pack;
}
// ruleid: exec-allocator-exported
EXPORT_SYMBOL_NS(jitmem_alloc_pack, JITMEM);

/* Two levels of helpers, then export. */
static void *jitmem_alloc_level2(unsigned long size)
{
	return module_alloc(size);
}

static void *jitmem_alloc_level1(unsigned long size)
{
	void *p = jitmem_alloc_level2(size);

	if (p)
		jitmem_stats.allocated += size;
	return p;
}

void *jitmem_alloc_tracked(unsigned long size)
{
	return jitmem_alloc_level1(size);
}
// ruleid: exec-allocator-exported
EXPORT_SYMBOL_GPL(jitmem_alloc_tracked);

/* Not executable: plain vmalloc and PAGE_KERNEL mappings. */
void *jitmem_alloc_scratch(unsigned long size)
{
	return vmalloc(size);
}
// ok: exec-allocator-exported
EXPORT_SYMBOL_GPL(jitmem_alloc_scratch);

void *jitmem_map_pages_data(struct page **pages, unsigned int nr)
{
	return vmap(pages, nr, VM_MAP, PAGE_KERNEL);
}
// ok: exec-allocator-exported
EXPORT_SYMBOL_GPL(jitmem_map_pages_data);

/* Takes executable memory; does not hand any out. */
int jitmem_write(void *dst, const void *src, size_t len)
{
	if (!dst || !len)
		return -EINVAL;
	mutex_lock(&text_mutex);
	text_poke_copy(dst, src, len);
	mutex_unlock(&text_mutex);
	return 0;
}
// ok: exec-allocator-exported
EXPORT_SYMBOL_GPL(jitmem_write);

int jitmem_protect(void *addr, unsigned long size)
{
	return set_memory_rox((unsigned long)addr, PFN_UP(size));
}
// ok: exec-allocator-exported
EXPORT_SYMBOL_GPL(jitmem_protect);

/* Allocates executable memory but only returns a status code. */
int jitmem_pool_init(void)
{
	if (jitmem_pool)
		return -EBUSY;
	jitmem_pool = module_alloc(JITMEM_POOL_PAGES * PAGE_SIZE);
	return jitmem_pool ? 0 : -ENOMEM;
}
// ok: exec-allocator-exported
EXPORT_SYMBOL_GPL(jitmem_pool_init);

void jitmem_pool_release(void)
{
	void *p = jitmem_pool;

	jitmem_pool = NULL;
	module_memfree(p);
}

static int __init jitmem_init(void)
{
	void *p = jitmem_get_pages_private(PAGE_SIZE);

	if (p)
		bpf_jit_free_exec(p);
	return jitmem_pool_init();
}
module_init(jitmem_init);
MODULE_LICENSE("GPL");
