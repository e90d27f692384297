// corpus-path: kernel/kprobes.c
// corpus-kernel: 6.1
// The kprobes instruction-slot cache, 6.1 shape: insn pages come from
// module_alloc() so they sit within rel32 reach of the kernel text.
#include "kpolicy-corpus.h"

#define MAX_INSN_SIZE		16
#define INSN_SLOTS_PER_PAGE	(PAGE_SIZE / MAX_INSN_SIZE)

struct kprobe_insn_page {
	struct list_head list;
	void *insns;
	struct kprobe_insn_cache *cache;
	int nused;
	int ngarbage;
	char slot_used[INSN_SLOTS_PER_PAGE];
};

struct kprobe_insn_cache {
	struct mutex mutex;
	void *(*alloc)(void);
	void (*free)(void *);
	const char *sym;
	struct list_head pages;
	size_t insn_size;
	int nr_garbage;
};

void *alloc_insn_page(void);
void free_insn_page(void *page);

void __weak *alloc_insn_page(void)
{
	/*
	 * The page must be within +/-2GB of where the kernel image is mapped,
	 * hence the module area.
	 */
	// ruleid: module-alloc-misuse
	return module_alloc(PAGE_SIZE);
}

static void free_insn_page_default(void *page)
{
	// ruleid: module-alloc-misuse
	module_memfree(page);
}

struct kprobe_insn_cache kprobe_insn_slots = {
	.alloc = alloc_insn_page,
	.free = free_insn_page_default,
	.sym = "kprobe_insn_page",
	.insn_size = MAX_INSN_SIZE,
	.nr_garbage = 0,
};

/* The optprobe cache allocates straight from the module area as well. */
static void *alloc_optinsn_page(void)
{
	void *page;

	// ruleid: module-alloc-misuse
	page = module_alloc(PAGE_SIZE);
	if (page)
		set_memory_ro((unsigned long)page, 1);
	return page;
}

struct kprobe_insn_cache kprobe_optinsn_slots = {
	.alloc = alloc_optinsn_page,
	// ruleid: module-alloc-misuse
	.free = module_memfree,
	.sym = "kprobe_optinsn_page",
	.insn_size = MAX_INSN_SIZE,
};

static struct kprobe_insn_page *kip_new(struct kprobe_insn_cache *c)
{
	struct kprobe_insn_page *kip;

	kip = kmalloc(sizeof(*kip), GFP_KERNEL);
	if (!kip)
		return NULL;

	kip->insns = c->alloc();
	if (!kip->insns) {
		kfree(kip);
		return NULL;
	}
	INIT_LIST_HEAD(&kip->list);
	memset(kip->slot_used, 0, sizeof(kip->slot_used));
	kip->slot_used[0] = 1;
	kip->nused = 1;
	kip->ngarbage = 0;
	kip->cache = c;
	list_add(&kip->list, &c->pages);
	return kip;
}

void *__get_insn_slot(struct kprobe_insn_cache *c)
{
	struct kprobe_insn_page *kip;
	void *slot = NULL;

	mutex_lock(&c->mutex);
	kip = kip_new(c);
	if (kip)
		slot = kip->insns;
	mutex_unlock(&c->mutex);
	return slot;
}

static void kip_release(struct kprobe_insn_page *kip)
{
	list_del(&kip->list);
	kip->cache->free(kip->insns);
	kfree(kip);
}

void kprobes_drop_cache(struct kprobe_insn_cache *c, struct kprobe_insn_page *kip)
{
	mutex_lock(&c->mutex);
	if (kip->nused == 0)
		kip_release(kip);
	mutex_unlock(&c->mutex);
}
