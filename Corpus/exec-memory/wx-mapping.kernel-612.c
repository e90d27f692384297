// corpus-path: drivers/net/ethernet/acme/acme-jit.c
// corpus-kernel: 6.12
// On 6.12 __vmalloc_node_range() is a macro over __vmalloc_node_range_noprof();
// the W+X check must see through it, and through a wrapper macro in the file.
#include "kpolicy-corpus.h"

#define ACME_JIT_SIZE		(16 * PAGE_SIZE)
#define ACME_JIT_PROT		PAGE_KERNEL_RWX

#define acme_jit_vmalloc(size, prot)					\
	__vmalloc_node_range(size, PAGE_SIZE, VMALLOC_START, VMALLOC_END,\
			     GFP_KERNEL, prot, 0, NUMA_NO_NODE,		\
			     __builtin_return_address(0))

struct acme_jit {
	void *image;
	void *rx_image;
	void *scratch;
	unsigned long size;
};

static int acme_jit_alloc(struct acme_jit *jit, bool legacy)
{
	pgprot_t prot = legacy ? PAGE_KERNEL_EXEC : PAGE_KERNEL;

	// ruleid: wx-mapping
	jit->image = __vmalloc_node_range(ACME_JIT_SIZE, PAGE_SIZE,
					  VMALLOC_START, VMALLOC_END,
					  GFP_KERNEL, prot, 0, NUMA_NO_NODE,
					  __builtin_return_address(0));
	if (!jit->image)
		return -ENOMEM;

	// ok: wx-mapping
	jit->rx_image = __vmalloc_node_range(ACME_JIT_SIZE, PAGE_SIZE,
					     VMALLOC_START, VMALLOC_END,
					     GFP_KERNEL, PAGE_KERNEL_ROX, 0,
					     NUMA_NO_NODE,
					     __builtin_return_address(0));
	if (!jit->rx_image)
		goto free_image;

	// ok: wx-mapping
	jit->scratch = vmalloc(ACME_JIT_SIZE);
	if (!jit->scratch)
		goto free_rx;
	jit->size = ACME_JIT_SIZE;
	return 0;

free_rx:
	vfree(jit->rx_image);
free_image:
	vfree(jit->image);
	return -ENOMEM;
}

static void *acme_jit_alloc_rwx(void)
{
	// ruleid: wx-mapping
	return __vmalloc_node_range_noprof(ACME_JIT_SIZE, PAGE_SIZE,
					   VMALLOC_START, VMALLOC_END, GFP_KERNEL,
					   ACME_JIT_PROT, 0, NUMA_NO_NODE,
					   __builtin_return_address(0));
}

static void *acme_jit_alloc_wrapped(void)
{
	// ruleid: wx-mapping
	return acme_jit_vmalloc(ACME_JIT_SIZE, PAGE_KERNEL_EXEC);
}

static void *acme_jit_alloc_wrapped_ro(void)
{
	// ok: wx-mapping
	return acme_jit_vmalloc(ACME_JIT_SIZE, PAGE_KERNEL_RO);
}

static void *acme_jit_alloc_data(void)
{
	// ok: wx-mapping
	return __vmalloc(ACME_JIT_SIZE, GFP_KERNEL | __GFP_ZERO);
}

int acme_jit_init(struct acme_jit *jit)
{
	void *a, *b, *c, *d;
	int err;

	err = acme_jit_alloc(jit, false);
	if (err)
		return err;
	a = acme_jit_alloc_rwx();
	b = acme_jit_alloc_wrapped();
	c = acme_jit_alloc_wrapped_ro();
	d = acme_jit_alloc_data();
	vfree(a);
	vfree(b);
	vfree(c);
	vfree(d);
	return 0;
}
