// corpus-path: lib/test_exec_alloc.c
// corpus-kernel: 6.1
// A selftest module under lib/ exercising executable allocations: lib/ is
// not on the allow-list, so the flag is reported here too.
#include "kpolicy-corpus.h"

struct exec_test_case {
	const char *name;
	unsigned long vm_flags;
	pgprot_t prot;
};

static const struct exec_test_case exec_tests[] = {
	// ok: flush-reset-perms-outside-core
	{ .name = "plain", .vm_flags = VM_ALLOC, .prot = PAGE_KERNEL },
	// ruleid: flush-reset-perms-outside-core
	{ .name = "flush", .vm_flags = VM_FLUSH_RESET_PERMS, .prot = PAGE_KERNEL_ROX },
	// ok: flush-reset-perms-outside-core
	{ .name = "huge", .vm_flags = VM_ALLOW_HUGE_VMAP, .prot = PAGE_KERNEL },
};

static int __init exec_test_one(const struct exec_test_case *t)
{
	void *p;

	p = __vmalloc_node_range(PAGE_SIZE, PAGE_SIZE, VMALLOC_START,
				 VMALLOC_END, GFP_KERNEL, t->prot, t->vm_flags,
				 NUMA_NO_NODE, __builtin_return_address(0));
	if (!p)
		return -ENOMEM;
	vfree(p);
	return 0;
}

static int __init exec_test_helper(void)
{
	void *p = vzalloc(PAGE_SIZE);

	if (!p)
		return -ENOMEM;
	// ruleid: flush-reset-perms-outside-core
	set_vm_flush_reset_perms(p);
	vfree(p);
	return 0;
}

static int __init exec_test_init(void)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(exec_tests) && !err; i++)
		err = exec_test_one(&exec_tests[i]);
	return err ?: exec_test_helper();
}
module_init(exec_test_init);
MODULE_LICENSE("GPL");
