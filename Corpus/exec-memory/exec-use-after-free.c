// corpus-path: kernel/bpf/uaf-example.c
// corpus-kernel: 6.1
#include "kpolicy-corpus.h"

void free_then_ro(void)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return;
	module_memfree(p);
	// ruleid: exec-use-after-free
	set_memory_ro((unsigned long)p, 1);
}

void ro_then_free(void)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return;
	set_memory_ro((unsigned long)p, 1);
	set_memory_rw((unsigned long)p, 1);
	// ok: exec-use-after-free
	module_memfree(p);
}

void double_free(void)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return;
	module_memfree(p);
	// ruleid: exec-use-after-free
	module_memfree(p);
}

void write_after_free(const void *code)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return;
	module_memfree(p);
	// ruleid: exec-use-after-free
	memcpy(p, code, 16);
}

/* The classic goto ladder that frees twice. */
int ladder(int fail)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return -ENOMEM;
	if (fail)
		goto err_free;
	set_memory_ro((unsigned long)p, 1);
	set_memory_rw((unsigned long)p, 1);
	module_memfree(p);
	goto err_free;
	return 0;
err_free:
	// ruleid: exec-use-after-free
	module_memfree(p);
	return -EINVAL;
}

/* A correct ladder: each label undoes only what was done. */
int good_ladder(int fail)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return -ENOMEM;
	if (fail)
		goto err_free;
	set_memory_ro((unsigned long)p, 1);
	set_memory_rw((unsigned long)p, 1);
	// ok: exec-use-after-free
	module_memfree(p);
	return 0;
err_free:
	// ok: exec-use-after-free
	module_memfree(p);
	return -EINVAL;
}

void free_then_flag(void)
{
	void *p = vmalloc(PAGE_SIZE);

	if (!p)
		return;
	vfree(p);
	// ruleid: exec-use-after-free
	set_vm_flush_reset_perms(p);
}

void free_then_poke(const void *code)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return;
	module_memfree(p);
	// ruleid: exec-use-after-free
	text_poke_copy(p, code, 16);
}

/* Caller memory freed, then used. */
void caller_free_use(void *p)
{
	vfree(p);
	// ruleid: exec-use-after-free
	set_memory_x((unsigned long)p, 1);
}

void caller_use_free(void *p)
{
	set_memory_nx((unsigned long)p, 1);
	// ok: exec-use-after-free
	vfree(p);
}

/* A fresh allocation into the same variable is a new object. */
void realloc_same_name(void)
{
	void *p = vmalloc(PAGE_SIZE);

	if (!p)
		return;
	vfree(p);
	p = module_alloc(PAGE_SIZE);
	if (!p)
		return;
	// ok: exec-use-after-free
	set_memory_ro((unsigned long)p, 1);
	set_memory_rw((unsigned long)p, 1);
	// ok: exec-use-after-free
	module_memfree(p);
}

/* Freed only on one branch, used only on the other. */
void branches(int a)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return;
	if (a) {
		// ok: exec-use-after-free
		module_memfree(p);
		return;
	}
	// ok: exec-use-after-free
	set_memory_ro((unsigned long)p, 1);
	set_memory_rw((unsigned long)p, 1);
	module_memfree(p);
}

/* Freeing NULL twice after a failed allocation is fine. */
void null_twice(void)
{
	void *p = vmalloc(PAGE_SIZE);

	if (p)
		set_memory_nx((unsigned long)p, 1);
	vfree(p);
	// ruleid: exec-use-after-free
	vfree(p);
}

struct its_mod_like {
	int its_num_pages;
	void **its_page_array;
};

/* Each loop iteration's page is another page (6.1 its_free_mod). */
void free_each_page(struct its_mod_like *mod)
{
	for (int i = 0; i < mod->its_num_pages; i++) {
		void *page = mod->its_page_array[i];
		// ok: exec-use-after-free
		module_memfree(page);
	}
	kfree(mod->its_page_array);
}

/*
 * One free per array element, through a helper taking the index (6.12
 * kernel/module/main.c module_memory_free()): elements named by an index
 * known only at run time are not one object.
 */
struct mem_slot { void *base; };
struct owner { struct mem_slot mem[4]; };

static void free_slot(struct owner *o, int type)
{
	void *ptr = o->mem[type].base;

	module_memfree(ptr);
}

void free_every_slot(struct owner *o)
{
	int type;

	for (type = 0; type < 3; type++)
		free_slot(o, type);
	// ok: exec-use-after-free
	free_slot(o, 3);
}

void free_slot_twice(struct owner *o)
{
	module_memfree(o->mem[1].base);
	// ruleid: exec-use-after-free
	module_memfree(o->mem[1].base);
	// ok: exec-use-after-free
	module_memfree(o->mem[2].base);
}
