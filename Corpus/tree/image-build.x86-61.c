// corpus-path: arch/x86/net/image-build-example.c
// corpus-kernel: 6.1
#include "kpolicy-corpus.h"

/*
 * Part of the corpus's tree: x86's override of the __weak
 * arch_build_image() of Corpus/exec-memory/missing-perms-reset.weak-default.c
 * (as x86's and arm64's arch_prepare_bpf_trampoline() in Linux 6.1 replace
 * the -ENOTSUPP default). It handles no executable memory the model
 * follows, so the tree has no summary of it: on x86 the call's outcome is
 * unknown, not the default's failure.
 */
struct image_box;

int arch_build_image(struct image_box *im, void *image)
{
	return 0;
}
