// corpus-path: drivers/misc/jit-helper.c
// corpus-kernel: 6.1
// A driver that carves executable scratch buffers out of module_alloc():
// direct calls, frees on error paths, function pointers, a wrapper macro.
#include "kpolicy-corpus.h"

#define JIT_HELPER_SLOTS	16
#define JIT_HELPER_SLOT_SIZE	256

struct jit_helper_ops {
	void *(*alloc)(unsigned long size);
	void (*free)(void *region);
	const char *name;
};

struct jit_helper_slot {
	void *text;
	unsigned long len;
	bool busy;
};

struct jit_helper {
	struct jit_helper_slot slots[JIT_HELPER_SLOTS];
	unsigned long module_alloc_size;	/* bytes obtained so far */
	const struct jit_helper_ops *ops;
	struct mutex lock;
};

static struct jit_helper helper;

/* Statistics helper: shares a prefix with the allocator, nothing more. */
static unsigned long my_module_alloc_stats(const struct jit_helper *h)
{
	return h->module_alloc_size;
}

/* Defining a wrapper is not a use; expanding it is. */
// ok: module-alloc-misuse
#define jit_helper_alloc(sz) module_alloc(sz)

static const struct jit_helper_ops module_backed_ops = {
	// ruleid: module-alloc-misuse
	.alloc = module_alloc,
	// ruleid: module-alloc-misuse
	.free = module_memfree,
	.name = "module",
};

static void *jit_helper_new_page(void)
{
	void *page;

	/*
	 * Needs to be within +/-2GB of the kernel image for rel32 jumps, which
	 * is why this driver reaches for the module area.
	 */
	// ruleid: module-alloc-misuse
	page = module_alloc(PAGE_SIZE);
	if (!page)
		return NULL;

	memset(page, 0xcc, PAGE_SIZE);
	return page;
}

static int jit_helper_fill(struct jit_helper *h)
{
	unsigned int i;
	int err = 0;

	mutex_lock(&h->lock);
	for (i = 0; i < JIT_HELPER_SLOTS; i++) {
		struct jit_helper_slot *slot = &h->slots[i];

		// ruleid: module-alloc-misuse
		slot->text = jit_helper_alloc(JIT_HELPER_SLOT_SIZE);
		if (!slot->text) {
			err = -ENOMEM;
			goto out_free;
		}
		slot->len = JIT_HELPER_SLOT_SIZE;
		// ok: module-alloc-misuse
		h->module_alloc_size += JIT_HELPER_SLOT_SIZE;
	}
	mutex_unlock(&h->lock);
	return 0;

out_free:
	while (i--) {
		// ruleid: module-alloc-misuse
		module_memfree(h->slots[i].text);
		h->slots[i].text = NULL;
	}
	mutex_unlock(&h->lock);
	return err;
}

static void *jit_helper_big(unsigned long size)
{
	void *p;

	// ruleid: module-alloc-misuse
	p = module_alloc_huge(
		PAGE_ALIGN(size));
	if (!p) {
		// ok: module-alloc-misuse
		pr_err("jit-helper: module_alloc_huge(%lu) failed\n", size);
	}
	return p;
}

static void *(*jit_helper_pick_allocator(bool huge))(unsigned long)
{
	if (huge)
		// ruleid: module-alloc-misuse
		return module_alloc_huge;
	// ruleid: module-alloc-misuse
	return &module_alloc;
}

static void *jit_helper_new_page_execmem(void)
{
	// ok: module-alloc-misuse
	/* Was: return module_alloc(PAGE_SIZE); */
	// ok: module-alloc-misuse
	return execmem_alloc(EXECMEM_DEFAULT, PAGE_SIZE);
}

static void jit_helper_free_page_execmem(void *page)
{
	// ok: module-alloc-misuse
	execmem_free(page);
}

static int __init jit_helper_init(void)
{
	// ok: module-alloc-misuse
	unsigned long module_alloc_size = 0;
	void *(*alloc)(unsigned long);
	void *page, *big, *spare;
	int err;

	helper.ops = &module_backed_ops;
	err = jit_helper_fill(&helper);
	if (err)
		return err;

	page = jit_helper_new_page();
	if (!page)
		return -ENOMEM;
	module_alloc_size += PAGE_SIZE;

	alloc = jit_helper_pick_allocator(false);
	big = jit_helper_big(4 * PAGE_SIZE);
	if (!big)
		goto free_page;
	module_alloc_size += 4 * PAGE_SIZE;

	spare = jit_helper_new_page_execmem();
	if (spare)
		jit_helper_free_page_execmem(spare);

	// ok: module-alloc-misuse
	pr_info("jit-helper: %lu bytes (module_alloc_size=%lu) via %p\n",
		my_module_alloc_stats(&helper), module_alloc_size, alloc);
	return 0;

free_page:
	/* Give the page back the way module_memfree() expects. */
	// ruleid: module-alloc-misuse
	module_memfree(page);
	return -ENOMEM;
}
module_init(jit_helper_init);

MODULE_LICENSE("GPL");
