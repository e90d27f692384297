// corpus-path: drivers/misc/fastcode.c
// corpus-kernel: 6.1
// A driver using the arch-internal VM_FLUSH_RESET_PERMS flag: in vmalloc flag
// arguments, OR-ed into vm->flags, through a local macro, and via the helper.
#include "kpolicy-corpus.h"

/* A #define alone is not a use; the places that expand it are. */
// ok: flush-reset-perms-outside-core
#define FASTCODE_VMFLAGS	(VM_ALLOC | VM_FLUSH_RESET_PERMS)
#define FASTCODE_VMFLAGS_DEFER	(FASTCODE_VMFLAGS | VM_DEFER_KMEMLEAK)
/* The driver's own flag, named alike. */
#define FASTCODE_FLUSH_RESET	0x1u
#define FASTCODE_PLAIN_VMFLAGS	(VM_ALLOC | VM_DEFER_KMEMLEAK)

struct fastcode_buf {
	void *text;
	unsigned long size;
	unsigned int flags;
};

static void *fastcode_alloc_text(unsigned long size)
{
	void *p;

	p = __vmalloc_node_range(size, PAGE_SIZE, VMALLOC_START, VMALLOC_END,
				 GFP_KERNEL, PAGE_KERNEL,
				 // ruleid: flush-reset-perms-outside-core
				 VM_FLUSH_RESET_PERMS,
				 NUMA_NO_NODE, __builtin_return_address(0));
	return p;
}

static void *fastcode_alloc_text_macro(unsigned long size)
{
	// ruleid: flush-reset-perms-outside-core
	return __vmalloc_node_range(size, PAGE_SIZE, VMALLOC_START, VMALLOC_END, GFP_KERNEL, PAGE_KERNEL, FASTCODE_VMFLAGS,
				    NUMA_NO_NODE, __builtin_return_address(0));
}

static void *fastcode_alloc_text_defer(unsigned long size)
{
	unsigned long vm_flags;

	// ruleid: flush-reset-perms-outside-core
	vm_flags = FASTCODE_VMFLAGS_DEFER;
	return __vmalloc_node_range(size, PAGE_SIZE, VMALLOC_START, VMALLOC_END,
				    GFP_KERNEL, PAGE_KERNEL, vm_flags,
				    NUMA_NO_NODE, __builtin_return_address(0));
}

static void *fastcode_alloc_plain(unsigned long size)
{
	// ok: flush-reset-perms-outside-core
	return __vmalloc_node_range(size, PAGE_SIZE, VMALLOC_START, VMALLOC_END, GFP_KERNEL, PAGE_KERNEL, FASTCODE_PLAIN_VMFLAGS,
				    NUMA_NO_NODE, __builtin_return_address(0));
}

static void fastcode_mark_flush(void *addr)
{
	struct vm_struct *area = find_vm_area(addr);

	if (!area)
		return;
	// ruleid: flush-reset-perms-outside-core
	area->flags |= VM_FLUSH_RESET_PERMS;
}

static bool fastcode_needs_reset(const void *addr)
{
	struct vm_struct *area = find_vm_area(addr);

	// ruleid: flush-reset-perms-outside-core
	return area && (area->flags & VM_FLUSH_RESET_PERMS);
}

static int fastcode_protect(struct fastcode_buf *buf)
{
	int npages = PAGE_ALIGN(buf->size) >> PAGE_SHIFT;
	int err;

	// ruleid: flush-reset-perms-outside-core
	set_vm_flush_reset_perms(buf->text);
	err = set_memory_ro((unsigned long)buf->text, npages);
	if (err)
		return err;
	// ok: flush-reset-perms-outside-core
	buf->flags |= FASTCODE_FLUSH_RESET;
	return set_memory_x((unsigned long)buf->text, npages);
}

static struct vm_struct *fastcode_reserve(unsigned long size)
{
	// ok: flush-reset-perms-outside-core
	return get_vm_area(size, VM_ALLOC | VM_MAP);
}

static struct vm_struct *fastcode_reserve_flush(unsigned long size)
{
	// ruleid: flush-reset-perms-outside-core
	return get_vm_area(size, VM_MAP | VM_FLUSH_RESET_PERMS);
}

int fastcode_buf_init(struct fastcode_buf *buf, unsigned long size, int how)
{
	struct vm_struct *area;
	int err;

	switch (how) {
	case 0:
		buf->text = fastcode_alloc_text(size);
		break;
	case 1:
		buf->text = fastcode_alloc_text_macro(size);
		break;
	case 2:
		buf->text = fastcode_alloc_text_defer(size);
		break;
	default:
		// ok: flush-reset-perms-outside-core
		buf->text = fastcode_alloc_plain(size);
		break;
	}
	if (!buf->text)
		return -ENOMEM;
	buf->size = size;

	if (!fastcode_needs_reset(buf->text))
		fastcode_mark_flush(buf->text);

	err = fastcode_protect(buf);
	if (err)
		goto err_free;

	area = fastcode_reserve(size) ?: fastcode_reserve_flush(size);
	if (area)
		free_vm_area(area);
	return 0;

err_free:
	// ok: flush-reset-perms-outside-core
	/* Without VM_FLUSH_RESET_PERMS the pages go back still RO+X. */
	set_memory_nx((unsigned long)buf->text, PAGE_ALIGN(size) >> PAGE_SHIFT);
	set_memory_rw((unsigned long)buf->text, PAGE_ALIGN(size) >> PAGE_SHIFT);
	// ok: flush-reset-perms-outside-core
	vfree(buf->text);
	return err;
}
