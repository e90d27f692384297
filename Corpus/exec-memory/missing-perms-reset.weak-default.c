// corpus-path: kernel/bpf/image-example.c
// corpus-kernel: 6.1
#include "kpolicy-corpus.h"

/*
 * The shape of 6.1's kernel/bpf/trampoline.c: a helper allocates an object
 * and the image its member holds, the caller builds code into it through a
 * __weak arch hook, protects it and, on an error path, frees it through
 * another helper. The hook's default fails (-EOPNOTSUPP), so on an arch
 * that keeps it the image is never protected; x86 overrides the hook
 * (Corpus/tree/image-build.x86-61.c), and there the image is protected and
 * freed without VM_FLUSH_RESET_PERMS.
 */
struct image_box {
	void *image;
};

int register_image(void *image);

int __weak arch_build_image(struct image_box *im, void *image)
{
	return -EOPNOTSUPP;
}

static struct image_box *image_box_alloc(void)
{
	struct image_box *im = kzalloc(sizeof(*im), GFP_KERNEL);

	if (!im)
		return ERR_PTR(-ENOMEM);
	im->image = vmalloc(PAGE_SIZE);
	if (!im->image) {
		kfree(im);
		return ERR_PTR(-ENOMEM);
	}
	return im;
}

static void image_box_free(struct image_box *im)
{
	/* The state image_box_update() leaves in struct image_box.image. */
	// ruleid: missing-perms-reset
	vfree(im->image);
	kfree(im);
}

int image_box_update(void)
{
	struct image_box *im = image_box_alloc();
	int err;

	if (IS_ERR(im))
		return PTR_ERR(im);
	/* The member of the object the helper returned is its image. */
	err = arch_build_image(im, im->image);
	if (err < 0)
		goto out_free;
	set_memory_ro((unsigned long)im->image, 1);
	set_memory_x((unsigned long)im->image, 1);
	err = register_image(im->image);
	if (err)
		goto out_free;
	return 0;
out_free:
	// ruleid: missing-perms-reset
	image_box_free(im);
	return err;
}

/*
 * The same with a __weak hook no arch overrides: its failure is every
 * arch's, and the image is never protected.
 */
struct plain_box {
	void *image;
};

int __weak arch_build_plain(struct plain_box *pb, void *image)
{
	return -EOPNOTSUPP;
}

static struct plain_box *plain_box_alloc(void)
{
	struct plain_box *pb = kzalloc(sizeof(*pb), GFP_KERNEL);

	if (!pb)
		return ERR_PTR(-ENOMEM);
	pb->image = vmalloc(PAGE_SIZE);
	if (!pb->image) {
		kfree(pb);
		return ERR_PTR(-ENOMEM);
	}
	return pb;
}

static void plain_box_free(struct plain_box *pb)
{
	// ok: missing-perms-reset
	vfree(pb->image);
	kfree(pb);
}

int plain_box_update(void)
{
	struct plain_box *pb = plain_box_alloc();
	int err;

	if (IS_ERR(pb))
		return PTR_ERR(pb);
	err = arch_build_plain(pb, pb->image);
	if (err < 0)
		goto out_free;
	set_memory_ro((unsigned long)pb->image, 1);
	set_memory_x((unsigned long)pb->image, 1);
	err = register_image(pb->image);
	if (err)
		goto out_free;
	return 0;
out_free:
	// ok: missing-perms-reset
	plain_box_free(pb);
	return err;
}
