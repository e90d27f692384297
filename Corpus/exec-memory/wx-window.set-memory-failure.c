// corpus-path: kernel/bpf/failure-example.c
// corpus-kernel: 6.1
#include "kpolicy-corpus.h"

/*
 * set_memory_*() can fail (-ENOMEM splitting a large page, -EINVAL): where
 * the code tests the result, the path forks into success and failure, and
 * on failure the permissions stay as they were.
 */

/* The failure is noticed but not acted on: executable while still writable. */
void *ro_failure_ignored(const void *src, unsigned long size)
{
	void *p = module_alloc(PAGE_SIZE);
	int err;

	if (!p)
		return NULL;
	memcpy(p, src, size);
	err = set_memory_ro((unsigned long)p, 1);
	if (err)
		pr_warn("kpolicy-corpus: not read-only\n");
	// ruleid: wx-window
	set_memory_x((unsigned long)p, 1);
	return p;
}

/* The failure ends the function: executable only once read-only. */
void *ro_failure_handled(const void *src, unsigned long size)
{
	void *p = module_alloc(PAGE_SIZE);
	int err;

	if (!p)
		return NULL;
	memcpy(p, src, size);
	err = set_memory_ro((unsigned long)p, 1);
	if (err) {
		module_memfree(p);
		return NULL;
	}
	// ok: wx-window
	set_memory_x((unsigned long)p, 1);
	return p;
}

/* The call itself as the condition, with the error path behind a goto. */
void *ro_failure_goto(const void *src, unsigned long size)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return NULL;
	memcpy(p, src, size);
	if (set_memory_ro((unsigned long)p, 1))
		goto fail;
	// ok: wx-window
	set_memory_x((unsigned long)p, 1);
	return p;
fail:
	module_memfree(p);
	return NULL;
}

/* A negative status tested with `< 0`; the error path still makes it executable. */
void *ro_failure_negative(const void *src, unsigned long size)
{
	void *p = module_alloc(PAGE_SIZE);
	int ret;

	if (!p)
		return NULL;
	memcpy(p, src, size);
	ret = set_memory_ro((unsigned long)p, 1);
	if (ret < 0)
		goto exec;
	// ok: wx-window
	set_memory_x((unsigned long)p, 1);
	return p;
exec:
	// ruleid: wx-window
	set_memory_x((unsigned long)p, 1);
	return p;
}

/*
 * The status is overwritten before it is tested: set_memory_ro()'s failure
 * goes unnoticed, and the test does not decide it either way.
 */
void *status_overwritten(const void *src, unsigned long size, int other)
{
	void *p = module_alloc(PAGE_SIZE);
	int err;

	if (!p)
		return NULL;
	memcpy(p, src, size);
	err = set_memory_ro((unsigned long)p, 1);
	err = other;
	if (err)
		return p;
	// ruleid: wx-window
	set_memory_x((unsigned long)p, 1);
	return p;
}

/*
 * Failing to make vmalloc memory read-only leaves its permissions as they
 * were: freeing it then needs no reset (before set_memory_*() failure was a
 * path outcome, this vfree() was reported on the failure branch).
 */
int ro_failure_then_free(unsigned long size)
{
	void *p = vmalloc(size);

	if (!p)
		return -ENOMEM;
	if (set_memory_ro((unsigned long)p, 1)) {
		// ok: missing-perms-reset
		vfree(p);
		return -ENOMEM;
	}
	return 0;
}

/* Read-only made it, executable failed: the free on that branch needs the reset. */
int x_failure_then_free(unsigned long size)
{
	void *p = vmalloc(size);

	if (!p)
		return -ENOMEM;
	if (set_memory_ro((unsigned long)p, 1))
		goto free;
	if (set_memory_x((unsigned long)p, 1))
		goto free_ro;
	return 0;
free_ro:
	// ruleid: missing-perms-reset
	vfree(p);
	return -EFAULT;
free:
	// ok: missing-perms-reset
	vfree(p);
	return -ENOMEM;
}
