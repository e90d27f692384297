// corpus-path: kernel/bpf/expression-example.c
// corpus-kernel: 6.1
#include "kpolicy-corpus.h"

/* Control flow inside expressions: `?:` and GNU statement expressions branch. */

/* Read-only only when strict: the other arm leaves it writable. */
void *ro_when_strict(const void *src, unsigned long size, bool strict)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return NULL;
	memcpy(p, src, size);
	strict ? set_memory_ro((unsigned long)p, 1) : 0;
	// ruleid: wx-window
	set_memory_x((unsigned long)p, 1);
	return p;
}

/* The condition is a NULL test the path already decided: one arm only. */
void *ro_when_present(const void *src, unsigned long size)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return NULL;
	memcpy(p, src, size);
	p ? set_memory_ro((unsigned long)p, 1) : 0;
	// ok: wx-window
	set_memory_x((unsigned long)p, 1);
	return p;
}

/* The allocator picked by `?:`: the module_alloc arm pairs with vfree wrongly. */
void pick_allocator(bool exec)
{
	void *p = exec ? module_alloc(PAGE_SIZE) : vmalloc(PAGE_SIZE);

	if (!p)
		return;
	// ruleid: exec-free-mismatch
	vfree(p);
}

void pick_allocator_and_free(bool exec)
{
	void *p = exec ? module_alloc(PAGE_SIZE) : module_alloc(2 * PAGE_SIZE);

	if (!p)
		return;
	// ok: exec-free-mismatch
	module_memfree(p);
}

/* A statement expression with an if inside: read-only only on one branch. */
void *ro_in_statement_expression(const void *src, unsigned long size, bool strict)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return NULL;
	memcpy(p, src, size);
	({ if (strict) set_memory_ro((unsigned long)p, 1); });
	// ruleid: wx-window
	set_memory_x((unsigned long)p, 1);
	return p;
}

void *ro_in_statement_expression_always(const void *src, unsigned long size, bool strict)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return NULL;
	memcpy(p, src, size);
	({ if (strict) pr_warn("kpolicy-corpus: strict\n"); set_memory_ro((unsigned long)p, 1); });
	// ok: wx-window
	set_memory_x((unsigned long)p, 1);
	return p;
}
