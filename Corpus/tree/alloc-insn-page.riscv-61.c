// corpus-path: arch/riscv/kernel/probes/kprobes.c
// corpus-kernel: 6.1
#include "kpolicy-corpus.h"

/*
 * Part of the corpus's tree: riscv's alloc_insn_page() in Linux 6.1: mapped
 * read-only and executable from the start, reset when vfree()d.
 */
void *alloc_insn_page(void)
{
	return __vmalloc_node_range(PAGE_SIZE, 1, VMALLOC_START, VMALLOC_END, GFP_KERNEL, PAGE_KERNEL_ROX,
				    VM_FLUSH_RESET_PERMS, NUMA_NO_NODE, __builtin_return_address(0));
}
