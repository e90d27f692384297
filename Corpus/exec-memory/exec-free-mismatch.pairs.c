// corpus-path: kernel/trace/slot-example.c
// corpus-kernel: 6.1
#include "kpolicy-corpus.h"

/*
 * Allocator/free pairs: the .alloc and .free members of one initializer
 * name a pair, and the free's paths run on the memory the allocator
 * returns. The free's body alone says nothing of where its memory came
 * from.
 */
struct slot_ops {
	void *(*alloc)(void);
	void (*free)(void *page);
};

void *slot_alloc(void)
{
	return module_alloc(PAGE_SIZE);
}

static void slot_free(void *page)
{
	/* module_alloc() memory given back with vfree(). */
	// ruleid: exec-free-mismatch
	vfree(page);
}

struct slot_ops slots = {
	.alloc = slot_alloc,
	.free = slot_free,
};

void *good_slot_alloc(void)
{
	return module_alloc(PAGE_SIZE);
}

static void good_slot_free(void *page)
{
	// ok: exec-free-mismatch
	module_memfree(page);
}

struct slot_ops good_slots = {
	.alloc = good_slot_alloc,
	.free = good_slot_free,
};
