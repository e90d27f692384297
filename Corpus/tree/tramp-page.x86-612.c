// corpus-path: arch/x86/net/tramp-example.c
// corpus-kernel: 6.12
#include "kpolicy-corpus.h"

/*
 * Part of the corpus's tree: x86's override of tramp_page_alloc() (as
 * x86's arch_alloc_bpf_trampoline() in Linux 6.12): memory from the BPF
 * prog pack. It does not override the free.
 */
void *tramp_page_alloc(unsigned int size)
{
	return bpf_prog_pack_alloc(size, NULL);
}
