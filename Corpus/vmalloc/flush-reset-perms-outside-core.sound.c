// corpus-path: sound/soc/acme/acme-dsp-loader.c
// corpus-kernel: 6.1
// A sound DSP firmware loader that keeps host-side thunks in vmalloc space
// and asks for the reset-on-free behaviour by hand.
#include "kpolicy-corpus.h"

#define ACME_DSP_THUNK_PAGES	4

struct acme_dsp {
	void *thunks;
	struct vm_struct *area;
	unsigned long vm_flags;
};

static int acme_dsp_alloc_thunks(struct acme_dsp *dsp)
{
	// ok: flush-reset-perms-outside-core
	dsp->vm_flags = VM_ALLOC | VM_DEFER_KMEMLEAK;
	if (IS_ENABLED(CONFIG_STRICT_KERNEL_RWX))
		// ruleid: flush-reset-perms-outside-core
		dsp->vm_flags |= VM_FLUSH_RESET_PERMS;

	dsp->thunks = __vmalloc_node_range(ACME_DSP_THUNK_PAGES * PAGE_SIZE,
					   PAGE_SIZE, VMALLOC_START, VMALLOC_END,
					   GFP_KERNEL, PAGE_KERNEL,
					   dsp->vm_flags, NUMA_NO_NODE,
					   __builtin_return_address(0));
	return dsp->thunks ? 0 : -ENOMEM;
}

static void acme_dsp_free_thunks(struct acme_dsp *dsp)
{
	struct vm_struct *area = find_vm_area(dsp->thunks);

	// ruleid: flush-reset-perms-outside-core
	if (area && !(area->flags & VM_FLUSH_RESET_PERMS))
		set_memory_nx((unsigned long)dsp->thunks, ACME_DSP_THUNK_PAGES);
	vfree(dsp->thunks);
	dsp->thunks = NULL;
}

int acme_dsp_probe(struct acme_dsp *dsp)
{
	int err = acme_dsp_alloc_thunks(dsp);

	if (err)
		return err;
	// ok: flush-reset-perms-outside-core
	dsp->area = get_vm_area(PAGE_SIZE, VM_IOREMAP);
	if (!dsp->area) {
		acme_dsp_free_thunks(dsp);
		return -ENOMEM;
	}
	return 0;
}
