// corpus-path: kernel/bpf/tramp-example.c
// corpus-kernel: 6.12
#include "kpolicy-corpus.h"

/*
 * A __weak allocator whose x86 override (Corpus/tree/tramp-page.x86-612.c)
 * takes its memory from the BPF prog pack instead: the counterpart free
 * below matches the default and not the override, so it is a finding on
 * x86_64 only. The pair is named by the code: the free called on the
 * allocator's result in one function.
 */
void * __weak tramp_page_alloc(unsigned int size)
{
	return bpf_jit_alloc_exec(PAGE_SIZE);
}

void __weak tramp_page_free(void *image, unsigned int size)
{
	// ruleid: exec-free-mismatch
	bpf_jit_free_exec(image);
}

int tramp_page_cycle(unsigned int size)
{
	void *image = tramp_page_alloc(size);

	if (!image)
		return -ENOMEM;
	/* On x86_64 the override's pack memory reaches the default's free. */
	// ruleid: exec-free-mismatch
	tramp_page_free(image, size);
	return 0;
}
