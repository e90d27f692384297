// corpus-path: drivers/misc/jit-buffer.c
// corpus-kernel: 6.1
// A driver JIT mapping buffers writable+executable through the vmalloc
// family, with the pgprot spelled directly, via locals, macros, conditionals.
#include "kpolicy-corpus.h"

#define JIT_BUF_MAX_PAGES	64
#define JIT_PROT		PAGE_KERNEL_EXEC
#define JIT_PROT_RWX		PAGE_KERNEL_RWX
#define JIT_PROT_FINAL		PAGE_KERNEL_ROX

struct jit_buf {
	struct page *pages[JIT_BUF_MAX_PAGES];
	unsigned int nr_pages;
	void *addr;
	pgprot_t prot;
	bool exec;
};

struct jit_buf_ops {
	void *(*map)(struct jit_buf *buf, pgprot_t prot);
	pgprot_t default_prot;
};

static void *jit_buf_alloc_range(unsigned long size)
{
	// ruleid: wx-mapping
	return __vmalloc_node_range(size, PAGE_SIZE,
				    MODULES_VADDR, MODULES_END,
				    GFP_KERNEL, PAGE_KERNEL_EXEC, 0,
				    NUMA_NO_NODE, __builtin_return_address(0));
}

static void *jit_buf_alloc_macro(unsigned long size)
{
	// ruleid: wx-mapping
	return __vmalloc_node_range(size, PAGE_SIZE, VMALLOC_START, VMALLOC_END,
				    GFP_KERNEL, JIT_PROT, VM_DEFER_KMEMLEAK,
				    NUMA_NO_NODE, __builtin_return_address(0));
}

static void *jit_buf_alloc_final(unsigned long size)
{
	// ok: wx-mapping
	return __vmalloc_node_range(size, PAGE_SIZE, VMALLOC_START, VMALLOC_END,
				    GFP_KERNEL, JIT_PROT_FINAL, VM_DEFER_KMEMLEAK,
				    NUMA_NO_NODE, __builtin_return_address(0));
}

static void *jit_buf_alloc_rx(unsigned long size)
{
	// ok: wx-mapping
	return __vmalloc_node_range(size, PAGE_SIZE, MODULES_VADDR, MODULES_END,
				    GFP_KERNEL, PAGE_KERNEL_RX, 0, NUMA_NO_NODE,
				    __builtin_return_address(0));
}

static int jit_buf_get_pages(struct jit_buf *buf, unsigned int n)
{
	unsigned int i;

	if (n > JIT_BUF_MAX_PAGES)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		buf->pages[i] = alloc_page(GFP_KERNEL);
		if (!buf->pages[i])
			goto err;
	}
	buf->nr_pages = n;
	return 0;
err:
	while (i--)
		__free_page(buf->pages[i]);
	return -ENOMEM;
}

static void *jit_buf_map_local(struct jit_buf *buf)
{
	pgprot_t prot = PAGE_KERNEL_EXEC;

	// ruleid: wx-mapping
	return vmap(buf->pages, buf->nr_pages, VM_MAP, prot);
}

static void *jit_buf_map_rwx(struct jit_buf *buf)
{
	// ruleid: wx-mapping
	return vmap(buf->pages, buf->nr_pages, VM_MAP, JIT_PROT_RWX);
}

static void *jit_buf_map_cond(struct jit_buf *buf)
{
	// ruleid: wx-mapping
	return vmap(buf->pages, buf->nr_pages, VM_MAP, buf->exec ? PAGE_KERNEL_EXEC : PAGE_KERNEL);
}

static void *jit_buf_map_maybe_exec(struct jit_buf *buf)
{
	pgprot_t prot = PAGE_KERNEL;

	if (buf->exec)
		prot = PAGE_KERNEL_RWX;
	// ruleid: wx-mapping
	return vmap(buf->pages, buf->nr_pages, VM_MAP, prot);
}

/* The caller decides: nothing to say about this function on its own. */
static void *jit_buf_map_with(struct jit_buf *buf, pgprot_t prot)
{
	// ok: wx-mapping
	return vmap(buf->pages, buf->nr_pages, VM_MAP, prot);
}

static void *jit_buf_map_ro(struct jit_buf *buf)
{
	// ok: wx-mapping
	return vmap(buf->pages, buf->nr_pages, VM_MAP, PAGE_KERNEL_RO);
}

static void *jit_buf_map_data(struct jit_buf *buf)
{
	pgprot_t prot = PAGE_KERNEL_EXEC;

	/* prot is only logged; the mapping itself is plain data. */
	pr_debug("jit-buf: would map with %lx\n", pgprot_val(prot));
	// ok: wx-mapping
	return vmap(buf->pages, buf->nr_pages, VM_MAP, PAGE_KERNEL);
}

static void *jit_buf_map_final(struct jit_buf *buf)
{
	// ok: wx-mapping
	return vmap(buf->pages, buf->nr_pages, VM_MAP, buf->exec ? PAGE_KERNEL_ROX : PAGE_KERNEL_RO);
}

static void *jit_buf_map_ram(struct jit_buf *buf)
{
	// ok: wx-mapping
	return vm_map_ram(buf->pages, buf->nr_pages, NUMA_NO_NODE);
}

static void *jit_buf_exec_legacy(unsigned long size)
{
	// ruleid: wx-mapping
	return vmalloc_exec(size);
}

static void *jit_buf_node_prot(unsigned long size)
{
	// ruleid: wx-mapping
	return __vmalloc_node_prot(size, PAGE_SIZE, GFP_KERNEL, PAGE_KERNEL_EXEC,
				   NUMA_NO_NODE, __builtin_return_address(0));
}

static void *jit_buf_node_prot_raw(unsigned long size)
{
	/* The same bits as PAGE_KERNEL_EXEC, spelled without the name. */
	// todoruleid: wx-mapping
	return __vmalloc_node_prot(size, PAGE_SIZE, GFP_KERNEL, __pgprot(__PAGE_KERNEL_EXEC),
				   NUMA_NO_NODE, __builtin_return_address(0));
}

static void __iomem *jit_buf_map_sram(phys_addr_t phys, size_t size)
{
	// ruleid: wx-mapping
	return ioremap_prot(phys, size, pgprot_val(PAGE_KERNEL_EXEC));
}

static void __iomem *jit_buf_map_sram_nocache(phys_addr_t phys, size_t size)
{
	// ok: wx-mapping
	return ioremap_prot(phys, size, pgprot_val(PAGE_KERNEL_NOCACHE));
}

static const struct jit_buf_ops jit_buf_default_ops = {
	.map = jit_buf_map_with,
	// ok: wx-mapping
	.default_prot = PAGE_KERNEL_EXEC,
};

int jit_buf_setup(struct jit_buf *buf, unsigned int n)
{
	void *scratch;
	int err;

	err = jit_buf_get_pages(buf, n);
	if (err)
		return err;

	buf->addr = jit_buf_default_ops.map(buf, jit_buf_default_ops.default_prot);
	if (!buf->addr)
		goto free_pages;

	// ok: wx-mapping
	scratch = vmalloc(n * PAGE_SIZE);
	if (!scratch)
		goto unmap;
	memcpy(scratch, buf->addr, n * PAGE_SIZE);
	vfree(scratch);

	if (buf->exec) {
		vunmap(buf->addr);
		buf->addr = jit_buf_map_local(buf) ?: jit_buf_map_rwx(buf);
		if (!buf->addr)
			buf->addr = jit_buf_map_cond(buf);
		if (!buf->addr)
			buf->addr = jit_buf_map_maybe_exec(buf);
	} else {
		vunmap(buf->addr);
		buf->addr = jit_buf_map_ro(buf) ?: jit_buf_map_data(buf);
		if (!buf->addr)
			buf->addr = jit_buf_map_final(buf) ?: jit_buf_map_ram(buf);
	}
	if (!buf->addr)
		goto free_pages;
	return 0;

unmap:
	vunmap(buf->addr);
free_pages:
	while (buf->nr_pages--)
		__free_page(buf->pages[buf->nr_pages]);
	return -ENOMEM;
}

void *jit_buf_alloc_any(unsigned long size, int how)
{
	switch (how) {
	case 0: return jit_buf_alloc_range(size);
	case 1: return jit_buf_alloc_macro(size);
	case 2: return jit_buf_alloc_final(size);
	case 3: return jit_buf_alloc_rx(size);
	case 4: return jit_buf_exec_legacy(size);
	case 5: return jit_buf_node_prot(size);
	case 6: return jit_buf_node_prot_raw(size);
	default: return NULL;
	}
}

void __iomem *jit_buf_map_any(phys_addr_t phys, size_t size, bool cached)
{
	return cached ? jit_buf_map_sram(phys, size) : jit_buf_map_sram_nocache(phys, size);
}
