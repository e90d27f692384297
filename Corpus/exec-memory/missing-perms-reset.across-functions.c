// corpus-path: kernel/bpf/kept-example.c
// corpus-kernel: 6.1
#include "kpolicy-corpus.h"

/*
 * Memory kept across calls (a file-scope pointer, a member of a struct)
 * starts, in each function of the file, in the states the file's other
 * functions leave it in: allocated in one, made read-only in another,
 * freed in a third.
 */

struct tramp_image {
	void *image;
	int size;
};

/* A: allocates without VM_FLUSH_RESET_PERMS. */
int image_alloc(struct tramp_image *im)
{
	im->image = vmalloc(PAGE_SIZE);
	if (!im->image)
		return -ENOMEM;
	return 0;
}

/* B: protects what A allocated. */
void image_protect(struct tramp_image *im)
{
	set_memory_ro((unsigned long)im->image, 1);
	set_memory_x((unsigned long)im->image, 1);
}

/* C: frees it without a reset: the pages go back read-only. */
void image_free(struct tramp_image *im)
{
	// ruleid: missing-perms-reset
	vfree(im->image);
	im->image = NULL;
}

/* The same member reached through another expression. */
struct tramp {
	struct tramp_image *cur;
};

void tramp_release(struct tramp *tr)
{
	// ruleid: missing-perms-reset
	vfree(tr->cur->image);
}

/* A file-scope pointer: allocated, protected and freed by three functions. */
static void *text_page;

int text_page_init(void)
{
	text_page = vmalloc(PAGE_SIZE);
	return text_page ? 0 : -ENOMEM;
}

void text_page_seal(void)
{
	set_memory_ro((unsigned long)text_page, 1);
}

void text_page_exit(void)
{
	// ruleid: missing-perms-reset
	vfree(text_page);
}

/* Flagged where it is allocated: the free resets the direct map. */
struct flagged_image {
	void *image;
};

int flagged_alloc(struct flagged_image *fi)
{
	void *image;

	fi->image = image = vmalloc(PAGE_SIZE);
	if (!image)
		return -ENOMEM;
	set_vm_flush_reset_perms(image);
	return 0;
}

void flagged_protect(struct flagged_image *fi)
{
	set_memory_ro((unsigned long)fi->image, 1);
	set_memory_x((unsigned long)fi->image, 1);
}

void flagged_free(struct flagged_image *fi)
{
	// ok: missing-perms-reset
	vfree(fi->image);
}

/* Allocated and freed in different functions, never protected. */
static void *scratch;

int scratch_init(void)
{
	scratch = vmalloc(PAGE_SIZE);
	if (!scratch)
		return -ENOMEM;
	return 0;
}

void scratch_exit(void)
{
	// ok: missing-perms-reset
	vfree(scratch);
}

/* Protected, then restored before the function returns. */
static void *restored_page;

int restored_init(void)
{
	restored_page = vmalloc(PAGE_SIZE);
	return restored_page ? 0 : -ENOMEM;
}

void restored_use(void)
{
	set_memory_ro((unsigned long)restored_page, 1);
	set_memory_rw((unsigned long)restored_page, 1);
}

void restored_exit(void)
{
	// ok: missing-perms-reset
	vfree(restored_page);
}

/* The same member name in another struct type is another place. */
struct other_image {
	void *image;
};

void other_free(struct other_image *o)
{
	// ok: missing-perms-reset
	vfree(o->image);
}

/* Freed where it is made read-only on the path: the function's own finding. */
void image_protect_and_free(struct tramp_image *im)
{
	set_memory_ro((unsigned long)im->image, 1);
	// ruleid: missing-perms-reset
	vfree(im->image);
}

/* 6.1 module_alloc() sets the flag on x86, riscv and powerpc, not on arm64 or s390. */
static void *insn_page;

int insn_page_init(void)
{
	insn_page = module_alloc(PAGE_SIZE);
	if (!insn_page)
		return -ENOMEM;
	set_memory_ro((unsigned long)insn_page, 1);
	set_memory_x((unsigned long)insn_page, 1);
	return 0;
}

void insn_page_exit(void)
{
	// ruleid: missing-perms-reset
	module_memfree(insn_page);
}

/* Memory the file never allocates: its flags are not known. */
extern void *foreign_page;

void foreign_exit(void)
{
	set_memory_ro((unsigned long)foreign_page, 1);
	// ok: missing-perms-reset
	vfree(foreign_page);
}
