// corpus-path: kernel/bpf/reset-example.c
// corpus-kernel: 6.1
#include "kpolicy-corpus.h"

void vmalloc_ro_vfree(void)
{
	void *p = vmalloc(PAGE_SIZE);

	if (!p)
		return;
	set_memory_ro((unsigned long)p, 1);
	// ruleid: missing-perms-reset
	vfree(p);
}

void vmalloc_flagged(void)
{
	void *p = vmalloc(PAGE_SIZE);

	if (!p)
		return;
	set_vm_flush_reset_perms(p);
	set_memory_ro((unsigned long)p, 1);
	// ok: missing-perms-reset
	vfree(p);
}

void vmalloc_restored(void)
{
	void *p = vmalloc(PAGE_SIZE);

	if (!p)
		return;
	set_memory_ro((unsigned long)p, 1);
	set_memory_rw((unsigned long)p, 1);
	// ok: missing-perms-reset
	vfree(p);
}

void vmalloc_untouched(void)
{
	void *p = vmalloc(PAGE_SIZE);

	if (!p)
		return;
	memset(p, 0, PAGE_SIZE);
	// ok: missing-perms-reset
	vfree(p);
}

/* The flag in the allocation itself. */
void node_range_flagged(void)
{
	void *p = __vmalloc_node_range(PAGE_SIZE, 1, VMALLOC_START, VMALLOC_END, GFP_KERNEL,
				       PAGE_KERNEL, VM_FLUSH_RESET_PERMS, NUMA_NO_NODE, 0);

	if (!p)
		return;
	set_memory_ro((unsigned long)p, 1);
	set_memory_x((unsigned long)p, 1);
	// ok: missing-perms-reset
	vfree(p);
}

void node_range_unflagged(void)
{
	void *p = __vmalloc_node_range(PAGE_SIZE, 1, VMALLOC_START, VMALLOC_END, GFP_KERNEL,
				       PAGE_KERNEL, 0, NUMA_NO_NODE, 0);

	if (!p)
		return;
	set_memory_ro((unsigned long)p, 1);
	set_memory_x((unsigned long)p, 1);
	// ruleid: missing-perms-reset
	vfree(p);
}

/* Only on the error path, after the read-only step. */
int error_path_reset(int fail)
{
	void *p = vmalloc(PAGE_SIZE);

	if (!p)
		return -ENOMEM;
	if (fail)
		goto free;
	set_memory_ro((unsigned long)p, 1);
	set_memory_rw((unsigned long)p, 1);
	// ok: missing-perms-reset
	vfree(p);
	return 0;
free:
	// ok: missing-perms-reset
	vfree(p);
	return -EINVAL;
}

int error_path_after_ro(int fail)
{
	void *p = vmalloc(PAGE_SIZE);

	if (!p)
		return -ENOMEM;
	set_memory_ro((unsigned long)p, 1);
	if (fail)
		goto free;
	set_memory_rw((unsigned long)p, 1);
	vfree(p);
	return 0;
free:
	// ruleid: missing-perms-reset
	vfree(p);
	return -EINVAL;
}

void vmalloc_x_vfree(void)
{
	void *p = vmalloc(PAGE_SIZE);

	if (!p)
		return;
	set_memory_ro((unsigned long)p, 1);
	set_memory_x((unsigned long)p, 1);
	// ruleid: missing-perms-reset
	vfree(p);
}

void vmalloc_nx_vfree(void)
{
	void *p = vmalloc(PAGE_SIZE);

	if (!p)
		return;
	set_memory_ro((unsigned long)p, 1);
	set_memory_nx((unsigned long)p, 1);
	// ruleid: missing-perms-reset
	vfree(p);
}

/* Memory from the caller: its flags are not known. */
void caller_memory(void *p)
{
	set_memory_ro((unsigned long)p, 1);
	// ok: missing-perms-reset
	vfree(p);
}

/* Outside arch/ every arch is checked: 6.1 module_alloc() lacks the flag on arm64 and s390. */
void module_alloc_some_arches(void)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return;
	set_memory_ro((unsigned long)p, 1);
	set_memory_x((unsigned long)p, 1);
	// ruleid: missing-perms-reset
	module_memfree(p);
}

/* A loop that protects, then one free. */
void loop_then_free(int n)
{
	void *p = vmalloc(PAGE_SIZE);
	int i;

	if (!p)
		return;
	for (i = 0; i < n; i++)
		set_memory_ro((unsigned long)p, 1);
	// ruleid: missing-perms-reset
	vfree(p);
}

/* The scope-exit vfree of a __free(vfree) variable. */
void cleanup_vfree(void)
{
	void *p __free(vfree) = vmalloc(PAGE_SIZE);

	if (!p)
		return;
	set_memory_ro((unsigned long)p, 1);
	// ruleid: missing-perms-reset
}

void two_objects(void)
{
	void *a = vmalloc(PAGE_SIZE);
	void *b = vmalloc(PAGE_SIZE);

	if (!a || !b)
		goto out;
	set_memory_ro((unsigned long)a, 1);
	set_memory_rw((unsigned long)a, 1);
	// ok: missing-perms-reset
	vfree(b);
	// ok: missing-perms-reset
	vfree(a);
	return;
out:
	vfree(a);
	vfree(b);
}

/* Allocated executable and freed on failure, permissions never changed (6.1 s390 module_alloc). */
void *rwx_alloc_free_on_failure(int fail)
{
	void *p = __vmalloc_node_range(PAGE_SIZE, 1, MODULES_VADDR, MODULES_END, GFP_KERNEL,
				       PAGE_KERNEL_EXEC, 0, NUMA_NO_NODE, 0);

	if (p && fail) {
		// ok: missing-perms-reset
		vfree(p);
		return NULL;
	}
	return p;
}
