// corpus-path: kernel/bpf/helper-example.c
// corpus-kernel: 6.1
#include "kpolicy-corpus.h"

/*
 * Same-file helpers: each call runs the helper's own paths from the
 * caller's state (its summary), so what a helper does to the memory it is
 * handed, or to the memory it returns, is seen at the call.
 */

static void make_executable(void *p)
{
	set_memory_x((unsigned long)p, 1);
}

static void protect_text(void *p)
{
	set_memory_ro((unsigned long)p, 1);
	set_memory_x((unsigned long)p, 1);
}

/* The helper makes the caller's written page executable while it is writable. */
void *helper_makes_window(const void *src, unsigned long size)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return NULL;
	memcpy(p, src, size);
	// ruleid: wx-window
	make_executable(p);
	return p;
}

/* The helper makes it read-only first: no window. */
void *helper_protects(const void *src, unsigned long size)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return NULL;
	memcpy(p, src, size);
	// ok: wx-window
	protect_text(p);
	return p;
}

/* Read-only first, through the helper; executable later through another. */
void *helpers_in_order(const void *src, unsigned long size)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return NULL;
	memcpy(p, src, size);
	set_memory_ro((unsigned long)p, 1);
	// ok: wx-window
	make_executable(p);
	return p;
}

/* A helper that allocates and protects: its result is read-only text. */
static void *alloc_text(void)
{
	void *page = module_alloc(PAGE_SIZE);

	if (!page)
		return NULL;
	set_memory_ro((unsigned long)page, 1);
	set_memory_x((unsigned long)page, 1);
	return page;
}

/* A helper that only allocates: its result is writable data until protected. */
static void *alloc_data(void)
{
	return module_alloc(PAGE_SIZE);
}

int write_after_helper_protected(const void *insn, unsigned long len)
{
	void *page = alloc_text();

	if (!page)
		return -ENOMEM;
	// ruleid: write-to-readonly-text
	memcpy(page, insn, len);
	return 0;
}

int write_before_protecting(const void *insn, unsigned long len)
{
	void *page = alloc_data();

	if (!page)
		return -ENOMEM;
	// ok: write-to-readonly-text
	memcpy(page, insn, len);
	set_memory_ro((unsigned long)page, 1);
	// ok: wx-window
	set_memory_x((unsigned long)page, 1);
	return 0;
}

/* The helper's allocation failure is the caller's NULL path: no write there. */
int helper_failure_is_followed(const void *insn, unsigned long len)
{
	void *page = alloc_data();

	if (page)
		goto write;
	return -ENOMEM;
write:
	// ok: write-to-readonly-text
	memcpy(page, insn, len);
	module_memfree(page);
	return 0;
}

/* A helper that frees: the caller's use after it is a use after free. */
static void release_text(void *p)
{
	module_memfree(p);
}

void use_after_helper_free(void)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return;
	release_text(p);
	// ruleid: exec-use-after-free
	set_memory_nx((unsigned long)p, 1);
}

void double_free_through_helper(int err)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return;
	if (err)
		release_text(p);
	// ruleid: exec-use-after-free
	release_text(p);
}

void helper_free_once(int err)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return;
	if (err)
		goto out;
	memset(p, 0, PAGE_SIZE);
out:
	// ok: exec-use-after-free
	release_text(p);
}

/* A helper that frees with vfree memory whose permissions the caller changed. */
static void drop(void *p)
{
	vfree(p);
}

void perms_changed_then_helper_frees(void)
{
	void *p = vmalloc(PAGE_SIZE);

	if (!p)
		return;
	set_memory_ro((unsigned long)p, 1);
	// ruleid: missing-perms-reset
	drop(p);
}

void perms_reset_then_helper_frees(void)
{
	void *p = vmalloc(PAGE_SIZE);

	if (!p)
		return;
	set_memory_ro((unsigned long)p, 1);
	set_memory_rw((unsigned long)p, 1);
	// ok: missing-perms-reset
	drop(p);
}

/* Recursion is followed once (the recursive call is not: its result is other memory); the non-recursive return is. */
static void *alloc_nested(int depth)
{
	if (depth)
		return alloc_nested(depth - 1);
	return alloc_text();
}

int write_after_recursive_helper(const void *insn, unsigned long len)
{
	void *page = alloc_nested(2);

	if (!page)
		return -ENOMEM;
	// ruleid: write-to-readonly-text
	memcpy(page, insn, len);
	return 0;
}

/*
 * The descriptor of an area (struct vm_struct, kzalloc'd by a same-file
 * helper, as mm/vmalloc.c's __get_vm_area_node does) is not the area's
 * memory: free_vm_area() takes the descriptor, and acts on area->addr.
 */
static struct vm_struct *new_area_descriptor(void)
{
	return kzalloc(sizeof(struct vm_struct), GFP_KERNEL);
}

int descriptor_freed_with_free_vm_area(void)
{
	struct vm_struct *area = new_area_descriptor();

	if (!area)
		return -ENOMEM;
	set_vm_flush_reset_perms(area->addr);
	// ok: exec-free-mismatch
	free_vm_area(area);
	return 0;
}

int get_vm_area_pairs_with_free_vm_area(void)
{
	struct vm_struct *area = get_vm_area(PAGE_SIZE, VM_ALLOC);

	if (!area)
		return -ENOMEM;
	// ok: exec-free-mismatch
	free_vm_area(area);
	return 0;
}

int get_vm_area_freed_with_vfree(void)
{
	struct vm_struct *area = get_vm_area(PAGE_SIZE, VM_ALLOC);

	if (!area)
		return -ENOMEM;
	set_vm_flush_reset_perms(area->addr);
	// ruleid: exec-free-mismatch
	vfree(area->addr);
	return 0;
}
