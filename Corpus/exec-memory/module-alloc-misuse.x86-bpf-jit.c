// corpus-path: arch/x86/net/bpf_jit_comp.c
// corpus-kernel: 6.1
// An arch BPF JIT that allocates its dispatcher/trampoline images from the
// module area itself instead of going through bpf_jit_alloc_exec().
#include "kpolicy-corpus.h"

struct bpf_tramp_image {
	void *image;
	u32 size;
	struct rcu_head rcu;
};

struct jit_context {
	int cleanup_addr;
	u8 *image;
};

/* The generic hook: fine, it is the BPF allocator. */
static void *jit_image_alloc(unsigned long size)
{
	// ok: module-alloc-misuse
	return bpf_jit_alloc_exec(size);
}

static struct bpf_tramp_image *arch_tramp_image_alloc(u32 size)
{
	struct bpf_tramp_image *im;

	im = kzalloc(sizeof(*im), GFP_KERNEL);
	if (!im)
		return NULL;

	// ruleid: module-alloc-misuse
	im->image = module_alloc(PAGE_SIZE);
	if (!im->image)
		goto out_free_im;
	im->size = size;

	if (set_memory_rox((unsigned long)im->image, 1))
		goto out_free_image;
	return im;

out_free_image:
	// ruleid: module-alloc-misuse
	module_memfree(im->image);
out_free_im:
	kfree(im);
	return NULL;
}

static void arch_tramp_image_free(struct bpf_tramp_image *im)
{
	set_memory_nx((unsigned long)im->image, 1);
	set_memory_rw((unsigned long)im->image, 1);
	// ruleid: module-alloc-misuse
	module_memfree(im->image);
	kfree(im);
}

int arch_prepare_dispatcher(u32 size, u8 **out)
{
	struct bpf_tramp_image *im = arch_tramp_image_alloc(size);
	u8 *scratch;

	if (!im)
		return -ENOMEM;
	scratch = jit_image_alloc(size);
	if (!scratch) {
		arch_tramp_image_free(im);
		return -ENOMEM;
	}
	text_poke_copy(im->image, scratch, size);
	bpf_jit_free_exec(scratch);
	*out = im->image;
	return 0;
}
