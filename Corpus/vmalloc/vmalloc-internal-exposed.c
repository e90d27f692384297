// corpus-path: kernel/bpf/arena.c
// corpus-kernel: 6.12
// The BPF arena reaching into mm-internal vmalloc helpers (the rejected
// first version of the series) next to the vm_area_map_pages() API it got.
#include "kpolicy-corpus.h"

#define KERN_VM_SZ	(1UL << 32)
#define GUARD_SZ	(1UL << 16)

/* Declared by hand instead of including "../../mm/internal.h". */
// ok: vmalloc-internal-exposed
extern int vmap_pages_range(unsigned long addr, unsigned long end,
			    pgprot_t prot, struct page **pages,
			    unsigned int page_shift);
// ok: vmalloc-internal-exposed
extern void vunmap_range_noflush(unsigned long start, unsigned long end);
// ok: vmalloc-internal-exposed
extern int __vmap_pages_range_noflush(unsigned long addr, unsigned long end,
				      pgprot_t prot, struct page **pages,
				      unsigned int page_shift);

struct bpf_arena_mapper {
	/* A member that happens to share the mm helper's name. */
	// ok: vmalloc-internal-exposed
	int (*vmap_pages_range)(struct vm_struct *area, unsigned long start,
				unsigned long end, struct page **pages);
	void (*unmap)(struct vm_struct *area, unsigned long start,
		      unsigned long end);
};

struct bpf_arena {
	struct vm_struct *kern_vm;
	const struct bpf_arena_mapper *mapper;
	unsigned long user_vm_start;
	struct mutex lock;
};

static const struct bpf_arena_mapper arena_mapper = {
	// ok: vmalloc-internal-exposed
	.vmap_pages_range = vm_area_map_pages,
	// ok: vmalloc-internal-exposed
	.unmap = vm_area_unmap_pages,
};

static long arena_map_pages_v1(struct bpf_arena *arena, unsigned long kaddr,
			       struct page **pages, unsigned int nr)
{
	unsigned long end = kaddr + ((unsigned long)nr << PAGE_SHIFT);
	int ret;

	// ruleid: vmalloc-internal-exposed
	ret = vmap_pages_range(kaddr, end, PAGE_KERNEL, pages, PAGE_SHIFT);
	if (ret) {
		// ruleid: vmalloc-internal-exposed
		vunmap_range_noflush(kaddr, end);
		return ret;
	}
	return 0;
}

static long arena_map_pages_noflush(struct bpf_arena *arena, unsigned long kaddr,
				    struct page **pages, unsigned int nr)
{
	unsigned long end = kaddr + ((unsigned long)nr << PAGE_SHIFT);

	// ruleid: vmalloc-internal-exposed
	return __vmap_pages_range_noflush(kaddr, end, PAGE_KERNEL, pages,
					  PAGE_SHIFT);
}

static long arena_map_pages(struct bpf_arena *arena, unsigned long kaddr,
			    struct page **pages, unsigned int nr)
{
	unsigned long end = kaddr + ((unsigned long)nr << PAGE_SHIFT);
	int ret;

	mutex_lock(&arena->lock);
	// ok: vmalloc-internal-exposed
	ret = vm_area_map_pages(arena->kern_vm, kaddr, end, pages);
	if (ret)
		goto out;
	// ok: vmalloc-internal-exposed
	ret = arena->mapper->vmap_pages_range(arena->kern_vm, kaddr, end, pages);
out:
	mutex_unlock(&arena->lock);
	return ret;
}

static void arena_unmap_pages(struct bpf_arena *arena, unsigned long kaddr,
			      unsigned int nr)
{
	unsigned long end = kaddr + ((unsigned long)nr << PAGE_SHIFT);
	unsigned int i;

	for (i = 0; i < nr; i++) {
		// ok: vmalloc-internal-exposed
		struct page *page = vmalloc_to_page((void *)(kaddr + ((unsigned long)i << PAGE_SHIFT)));

		if (page)
			__free_page(page);
	}
	// ok: vmalloc-internal-exposed
	vm_area_unmap_pages(arena->kern_vm, kaddr, end);
}

static struct bpf_arena *arena_map_alloc(void)
{
	struct bpf_arena *arena;

	arena = kzalloc(sizeof(*arena), GFP_KERNEL);
	if (!arena)
		return ERR_PTR(-ENOMEM);
	// ok: vmalloc-internal-exposed
	arena->kern_vm = get_vm_area(KERN_VM_SZ, VM_SPARSE | VM_USERMAP);
	if (!arena->kern_vm) {
		kfree(arena);
		return ERR_PTR(-ENOMEM);
	}
	arena->mapper = &arena_mapper;
	return arena;
}

long bpf_arena_alloc_pages_sketch(unsigned int nr, int version)
{
	struct bpf_arena *arena = arena_map_alloc();
	struct page *pages[4];
	unsigned long kaddr;
	long ret;

	if (IS_ERR(arena))
		return PTR_ERR(arena);
	if (nr > ARRAY_SIZE(pages))
		nr = ARRAY_SIZE(pages);
	kaddr = (unsigned long)arena->kern_vm->addr + GUARD_SZ / 2;
	if (version == 1)
		ret = arena_map_pages_v1(arena, kaddr, pages, nr);
	else if (version == 2)
		ret = arena_map_pages_noflush(arena, kaddr, pages, nr);
	else
		ret = arena_map_pages(arena, kaddr, pages, nr);
	arena_unmap_pages(arena, kaddr, nr);
	// ok: vmalloc-internal-exposed
	free_vm_area(arena->kern_vm);
	kfree(arena);
	return ret;
}
