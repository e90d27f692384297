// corpus-path: kernel/kprobes-example.c
// corpus-kernel: 6.1
#include "kpolicy-corpus.h"

/*
 * Calls through member function pointers the file fills (`.alloc =
 * text_page_alloc` in a designated initializer, `ops->alloc = ...` in a
 * function) are calls of the functions it puts there; with several, any
 * of them.
 */

struct insn_cache {
	void *(*alloc)(void);
	void (*free)(void *);
	int insn_size;
};

/* Read-only and executable from the start. */
static void *text_page_alloc(void)
{
	void *page = module_alloc(PAGE_SIZE);

	if (!page)
		return NULL;
	set_memory_ro((unsigned long)page, 1);
	set_memory_x((unsigned long)page, 1);
	return page;
}

/* Plain data, writable. */
static void *data_page_alloc(void)
{
	return module_alloc(PAGE_SIZE);
}

static void text_page_free(void *page)
{
	module_memfree(page);
}

struct insn_cache text_slots = {
	.alloc = text_page_alloc,
	.free = text_page_free,
	.insn_size = 16,
};

/* Written after text_page_alloc() made it read-only. */
void *text_slot_get(struct insn_cache *c, const void *insn, size_t len)
{
	void *slot = c->alloc();

	if (!slot)
		return NULL;
	// ruleid: write-to-readonly-text
	memcpy(slot, insn, len);
	return slot;
}

/* Another struct type with the same members: nothing the file puts in them. */
struct data_cache {
	void *(*alloc)(void);
	void (*free)(void *);
};

void *data_slot_get(struct data_cache *c, const void *insn, size_t len)
{
	void *slot = c->alloc();

	if (!slot)
		return NULL;
	// ok: write-to-readonly-text
	memcpy(slot, insn, len);
	set_memory_ro((unsigned long)slot, 1);
	return slot;
}

/* Two caches of one type: the call may run either allocator. */
struct page_cache {
	void *(*alloc)(void);
};

struct page_cache text_cache = { .alloc = text_page_alloc };
struct page_cache data_cache_one = { .alloc = data_page_alloc };

void *page_cache_fill(struct page_cache *pc, const void *insn, size_t len)
{
	void *p = pc->alloc();

	if (!p)
		return NULL;
	// ruleid: write-to-readonly-text
	memcpy(p, insn, len);
	return p;
}

/* Only writable allocators in the member: no finding. */
struct data_only_cache {
	void *(*alloc)(void);
};

struct data_only_cache data_only = { .alloc = data_page_alloc };

void *data_only_fill(struct data_only_cache *dc, const void *insn, size_t len)
{
	void *p = dc->alloc();

	if (!p)
		return NULL;
	// ok: write-to-readonly-text
	memcpy(p, insn, len);
	set_memory_ro((unsigned long)p, 1);
	set_memory_x((unsigned long)p, 1);
	return p;
}

/* Filled by an assignment in a function of the file. */
struct late_ops {
	void *(*alloc)(void);
};

static struct late_ops late;

void late_ops_init(struct late_ops *ops)
{
	ops->alloc = text_page_alloc;
}

int late_write(struct late_ops *ops, u32 insn)
{
	u32 *p = ops->alloc();

	if (!p)
		return -ENOMEM;
	// ruleid: write-to-readonly-text
	p[0] = insn;
	return 0;
}

/* A model API in the member: module_alloc() gives writable memory. */
struct api_ops {
	void *(*alloc)(unsigned long size);
};

static struct api_ops api = { .alloc = module_alloc };

void *api_copy(struct api_ops *ops, const void *insn, size_t len)
{
	void *p = ops->alloc(PAGE_SIZE);

	if (!p)
		return NULL;
	// ok: write-to-readonly-text
	memcpy(p, insn, len);
	set_memory_ro((unsigned long)p, 1);
	// ruleid: write-to-readonly-text
	memcpy(p, insn, len);
	return p;
}

/* Allocated and freed through the members: module_memfree() of text that
 * 6.1's module_alloc() did not flag on arm64 and s390. */
void text_slot_cycle(struct insn_cache *c)
{
	void *p = c->alloc();

	if (!p)
		return;
	// ruleid: missing-perms-reset
	c->free(p);
}

/* A member the file never fills: not followed. */
struct unknown_ops {
	void (*free)(void *);
};

void unknown_free(struct unknown_ops *u)
{
	void *p = vmalloc(PAGE_SIZE);

	if (!p)
		return;
	set_memory_ro((unsigned long)p, 1);
	set_memory_rw((unsigned long)p, 1);
	// ok: missing-perms-reset
	u->free(p);
}
