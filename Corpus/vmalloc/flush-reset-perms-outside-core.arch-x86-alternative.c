// corpus-path: arch/x86/kernel/alternative.c
// corpus-kernel: 6.1
// arch/ code owns this flag: the x86 thunk/text allocation helpers may use
// it and set_vm_flush_reset_perms() freely.
#include "kpolicy-corpus.h"

struct its_page {
	void *page;
	unsigned int offset;
};

static struct its_page its_cur;

static void *its_alloc_page(void)
{
	// ok: flush-reset-perms-outside-core
	void *page = __vmalloc_node_range(PAGE_SIZE, PAGE_SIZE, MODULES_VADDR, MODULES_END, GFP_KERNEL, PAGE_KERNEL, VM_FLUSH_RESET_PERMS,
					  NUMA_NO_NODE, __builtin_return_address(0));

	if (!page)
		return NULL;
	memset(page, 0xcc, PAGE_SIZE);
	set_memory_rox((unsigned long)page, 1);
	return page;
}

static void *its_alloc_page_legacy(void)
{
	void *page = module_alloc(PAGE_SIZE);

	if (!page)
		return NULL;
	// ok: flush-reset-perms-outside-core
	set_vm_flush_reset_perms(page);
	return page;
}

void *its_allocate_thunk(unsigned int size)
{
	if (!its_cur.page || its_cur.offset + size > PAGE_SIZE) {
		its_cur.page = its_alloc_page();
		if (!its_cur.page)
			its_cur.page = its_alloc_page_legacy();
		if (!its_cur.page)
			return NULL;
		its_cur.offset = 0;
	}
	its_cur.offset += size;
	return (char *)its_cur.page + its_cur.offset - size;
}

bool its_page_resets(const void *addr)
{
	struct vm_struct *vm = find_vm_area(addr);

	// ok: flush-reset-perms-outside-core
	return vm && (vm->flags & VM_FLUSH_RESET_PERMS);
}
