// corpus-path: kernel/bpf/jit-example.c
// corpus-kernel: 6.1
#include "kpolicy-corpus.h"

/* Executable first, read-only second: a W+X window between the calls. */
void *x_before_ro(unsigned long size)
{
	void *p = module_alloc(size);

	if (!p)
		return NULL;
	// ruleid: wx-window
	set_memory_x((unsigned long)p, 1);
	set_memory_ro((unsigned long)p, 1);
	return p;
}

/* Read-only first, executable second (the 6.1 pairs later folded into set_memory_rox). */
void *ro_then_x(unsigned long size)
{
	void *p = module_alloc(size);

	if (!p)
		return NULL;
	set_memory_ro((unsigned long)p, 1);
	// ok: wx-window
	set_memory_x((unsigned long)p, 1);
	return p;
}

/* Only on the error path: the goto target makes it executable while writable. */
int error_path_window(struct module *mod, unsigned long size, int fail)
{
	void *p = module_alloc(size);
	int err = -ENOMEM;

	if (!p)
		goto out;
	if (fail)
		goto undo;
	set_memory_ro((unsigned long)p, 1);
	// ok: wx-window
	set_memory_x((unsigned long)p, 1);
	return 0;
undo:
	// ruleid: wx-window
	set_memory_x((unsigned long)p, 1);
	module_memfree(p);
out:
	return err;
}

/* set_memory_rw() on memory that is executable. */
void unprotect_code(unsigned long size)
{
	void *p = module_alloc(size);

	if (!p)
		return;
	set_memory_ro((unsigned long)p, 1);
	set_memory_x((unsigned long)p, 1);
	// ruleid: wx-window
	set_memory_rw((unsigned long)p, 1);
}

/* The safe way back: not executable first, then writable. */
void unprotect_code_safely(unsigned long size)
{
	void *p = module_alloc(size);

	if (!p)
		return;
	set_memory_ro((unsigned long)p, 1);
	set_memory_x((unsigned long)p, 1);
	set_memory_nx((unsigned long)p, 1);
	// ok: wx-window
	set_memory_rw((unsigned long)p, 1);
}

/* The same object under another name: a local holding the address. */
void alias_through_local(unsigned long size)
{
	void *image = module_alloc(size);
	unsigned long addr = (unsigned long)image;

	if (!image)
		return;
	// ruleid: wx-window
	set_memory_x(addr, 1);
	set_memory_ro(addr, 1);
}

struct jit_pack {
	void *ptr;
	unsigned long size;
};

/* A member holding the allocation is the allocation. */
int pack_member(struct jit_pack *pack, unsigned long size)
{
	void *ptr = module_alloc(size);

	if (!ptr)
		return -ENOMEM;
	pack->ptr = ptr;
	// ruleid: wx-window
	set_memory_x((unsigned long)pack->ptr, 1);
	set_memory_ro((unsigned long)pack->ptr, 1);
	return 0;
}

/* Memory from the caller starts as RW data: x before ro is a window. */
void caller_memory(void *buf)
{
	// ruleid: wx-window
	set_memory_x((unsigned long)buf, 1);
	set_memory_ro((unsigned long)buf, 1);
}

/* ... and ro before x is not. */
void caller_memory_ok(void *buf)
{
	set_memory_ro((unsigned long)buf, 1);
	// ok: wx-window
	set_memory_x((unsigned long)buf, 1);
}

/* Only in a branch: one path suffices. */
void branch_window(void *buf, int late)
{
	if (late) {
		// ruleid: wx-window
		set_memory_x((unsigned long)buf, 1);
		set_memory_ro((unsigned long)buf, 1);
	} else {
		set_memory_ro((unsigned long)buf, 1);
		// ok: wx-window
		set_memory_x((unsigned long)buf, 1);
	}
}

/* A switch whose cases differ. */
void switch_window(void *buf, int mode)
{
	switch (mode) {
	case 0:
		set_memory_ro((unsigned long)buf, 1);
		// ok: wx-window
		set_memory_x((unsigned long)buf, 1);
		break;
	case 1:
		// ruleid: wx-window
		set_memory_x((unsigned long)buf, 1);
		break;
	default:
		break;
	}
}

/* A loop over pages, read-only first in each iteration. */
void loop_pages(void *buf, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		set_memory_ro((unsigned long)buf, 1);
		// ok: wx-window
		set_memory_x((unsigned long)buf, 1);
	}
}

/* Allocation failure is a path: the NULL branch does nothing. */
void *failure_path(unsigned long size)
{
	void *p = vmalloc(size);

	if (!p) {
		// ok: wx-window
		return NULL;
	}
	set_memory_ro((unsigned long)p, 1);
	// ok: wx-window
	set_memory_x((unsigned long)p, 1);
	return p;
}

/* A page kept in a file-scope variable across calls may already be code. */
static void *thunk_page;

void reuse_thunk_page(void)
{
	// ruleid: wx-window
	set_memory_rw((unsigned long)thunk_page, 1);
	memset(thunk_page, 0xcc, 64);
	set_memory_ro((unsigned long)thunk_page, 1);
	set_memory_x((unsigned long)thunk_page, 1);
}

/*
 * 6.1 arch/x86/realmode/init.c: the text lies inside the range made
 * read-only just before, named by another expression. kpolicy cannot tell
 * it is the same memory, but nothing in the function shows text_start
 * writable, so it does not claim a window.
 */
void realmode_like(unsigned char *base, unsigned long text_offset, int ro_pages, int text_pages)
{
	unsigned long text_start = (unsigned long)base + text_offset;

	set_memory_nx((unsigned long)base, ro_pages);
	set_memory_ro((unsigned long)base, ro_pages);
	// ok: wx-window
	set_memory_x(text_start, text_pages);
}

/* The global page helper shape: fresh from a helper, then protected, then made writable again on the next call. */
static void *its_like_page2;

static void *page_alloc_helper(void)
{
	return module_alloc(PAGE_SIZE);
}

void *its_like_thunk2(int offset)
{
	if (!its_like_page2) {
		its_like_page2 = page_alloc_helper();
		if (!its_like_page2)
			return NULL;
	}
	// ruleid: wx-window
	set_memory_rw((unsigned long)its_like_page2, 1);
	memset(its_like_page2 + offset, 0xcc, 16);
	set_memory_ro((unsigned long)its_like_page2, 1);
	set_memory_x((unsigned long)its_like_page2, 1);
	return its_like_page2 + offset;
}

/* Memory received and only made executable: its W is not known (6.1 efi_32). */
void caller_memory_x_only(unsigned long addr, int pages)
{
	// ok: wx-window
	set_memory_x(addr, pages);
}

/* ... but written just before: it is writable, and now executable too (6.1 riscv machine_kexec_prepare). */
void caller_memory_written_then_x(void *page, const void *code)
{
	memcpy(page, code, 64);
	// ruleid: wx-window
	set_memory_x((unsigned long)page, 1);
}
