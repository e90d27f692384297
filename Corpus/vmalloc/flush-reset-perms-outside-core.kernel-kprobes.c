// corpus-path: kernel/kprobes.c
// corpus-kernel: 6.1
// kprobes insn pages: kernel/kprobes.c is on the allow-list.
#include "kpolicy-corpus.h"

void *alloc_insn_page_sketch(void)
{
	void *page;

	page = __vmalloc_node_range(PAGE_SIZE, PAGE_SIZE, MODULES_VADDR,
				    MODULES_END, GFP_KERNEL, PAGE_KERNEL_ROX,
				    // ok: flush-reset-perms-outside-core
				    VM_FLUSH_RESET_PERMS, NUMA_NO_NODE,
				    __builtin_return_address(0));
	return page;
}

void *alloc_optinsn_page_sketch(void)
{
	void *page = vmalloc(PAGE_SIZE);

	if (!page)
		return NULL;
	// ok: flush-reset-perms-outside-core
	set_vm_flush_reset_perms(page);
	return page;
}
