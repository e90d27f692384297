// corpus-path: kernel/kprobes.c
// corpus-kernel: 6.12
#include "kpolicy-corpus.h"

/*
 * Part of the corpus's tree: the __weak default of Linux 6.12
 * (kernel/kprobes.c), which arches without an override link.
 */
void __weak *alloc_insn_page(void)
{
	return execmem_alloc(EXECMEM_KPROBES, PAGE_SIZE);
}
