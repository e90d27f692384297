// corpus-path: kernel/bpf/free-example.c
// corpus-kernel: 6.1
#include "kpolicy-corpus.h"

void module_alloc_vfree(void)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return;
	// ruleid: exec-free-mismatch
	vfree(p);
}

void module_alloc_pair(void)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return;
	// ok: exec-free-mismatch
	module_memfree(p);
}

void module_alloc_kfree(void)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return;
	// ruleid: exec-free-mismatch
	kfree(p);
}

void vmalloc_module_memfree(void)
{
	void *p = vmalloc(PAGE_SIZE);

	if (!p)
		return;
	// ruleid: exec-free-mismatch
	module_memfree(p);
}

void vmalloc_vfree(void)
{
	void *p = vmalloc(PAGE_SIZE);

	if (!p)
		return;
	set_memory_ro((unsigned long)p, 1);
	set_memory_rw((unsigned long)p, 1);
	// ok: exec-free-mismatch
	vfree(p);
}

void interior_pointer(void)
{
	void *p = module_alloc(2 * PAGE_SIZE);

	if (!p)
		return;
	// ruleid: exec-free-mismatch
	module_memfree(p + 64);
}

void interior_page_aligned(void)
{
	void *p = module_alloc(2 * PAGE_SIZE);

	if (!p)
		return;
	// ruleid: exec-free-mismatch
	module_memfree(p + PAGE_SIZE);
}

void jit_alloc_pair(void)
{
	void *p = bpf_jit_alloc_exec(PAGE_SIZE);

	if (!p)
		return;
	// ok: exec-free-mismatch
	bpf_jit_free_exec(p);
}

/* Only on the error path. */
int error_path_mismatch(int fail)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return -ENOMEM;
	if (fail)
		goto err;
	// ok: exec-free-mismatch
	module_memfree(p);
	return 0;
err:
	// ruleid: exec-free-mismatch
	vfree(p);
	return -EINVAL;
}

/* Memory from the caller: its allocator is not known, so nothing is said. */
void caller_memory(void *p)
{
	set_memory_nx((unsigned long)p, 1);
	// ok: exec-free-mismatch
	vfree(p);
}

/* NULL after a failed allocation: freeing NULL is fine. */
void free_null_on_failure(void)
{
	void *p = module_alloc(PAGE_SIZE);

	set_memory_ro((unsigned long)p, 1);
	set_memory_rw((unsigned long)p, 1);
	// ok: exec-free-mismatch
	module_memfree(p);
}

struct tramp {
	void *image;
};

void member_pair(struct tramp *t)
{
	void *image = module_alloc(PAGE_SIZE);

	if (!image)
		return;
	t->image = image;
	// ok: exec-free-mismatch
	module_memfree(t->image);
}

void member_mismatch(struct tramp *t)
{
	void *image = module_alloc(PAGE_SIZE);

	if (!image)
		return;
	t->image = image;
	// ruleid: exec-free-mismatch
	kvfree(t->image);
}

void kvmalloc_kvfree(void)
{
	void *p = kvmalloc(PAGE_SIZE, GFP_KERNEL);

	if (!p)
		return;
	set_memory_ro((unsigned long)p, 1);
	set_memory_rw((unsigned long)p, 1);
	// ok: exec-free-mismatch
	kvfree(p);
}

void vmalloc_vfree_atomic(void)
{
	void *p = vmalloc(PAGE_SIZE);

	if (!p)
		return;
	set_memory_nx((unsigned long)p, 1);
	// ok: exec-free-mismatch
	vfree_atomic(p);
}
