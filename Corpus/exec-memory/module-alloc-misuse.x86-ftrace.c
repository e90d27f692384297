// corpus-path: arch/x86/kernel/ftrace.c
// corpus-kernel: 6.1
// x86 dynamic ftrace trampolines, 6.1 shape: arch/x86/kernel/ but not the
// module loader (arch/x86/kernel/module.c), so module_alloc() is a finding.
#include "kpolicy-corpus.h"

#define RET_SIZE	1
#define MCOUNT_INSN_SIZE 5

struct ftrace_ops {
	unsigned long trampoline;
	unsigned long trampoline_size;
	unsigned long flags;
};

static const u8 ftrace_tramp_template[64];

static inline void *alloc_tramp(unsigned long size)
{
	// ruleid: module-alloc-misuse
	return module_alloc(size);
}

static inline void tramp_free(void *tramp)
{
	// ruleid: module-alloc-misuse
	module_memfree(tramp);
}

static unsigned long
create_trampoline(struct ftrace_ops *ops, unsigned int *tramp_size)
{
	unsigned long size = sizeof(ftrace_tramp_template);
	unsigned long npages;
	void *trampoline;
	int ret;

	trampoline = alloc_tramp(size + RET_SIZE + sizeof(void *));
	if (!trampoline)
		return 0;

	*tramp_size = size + RET_SIZE + sizeof(void *);
	npages = DIV_ROUND_UP(*tramp_size, PAGE_SIZE);

	ret = (int)(long)text_poke_copy(trampoline, ftrace_tramp_template, size);
	if (WARN_ON(ret < 0))
		goto fail;

	ret = set_memory_rox((unsigned long)trampoline, npages);
	if (ret)
		goto fail;

	return (unsigned long)trampoline;
fail:
	tramp_free(trampoline);
	return 0;
}

void arch_ftrace_update_trampoline(struct ftrace_ops *ops)
{
	unsigned int size;

	if (ops->trampoline)
		return;
	ops->trampoline = create_trampoline(ops, &size);
	ops->trampoline_size = size;
}

void arch_ftrace_trampoline_free(struct ftrace_ops *ops)
{
	if (!ops->trampoline)
		return;
	tramp_free((void *)ops->trampoline);
	ops->trampoline = 0;
}

/* The 6.10+ replacement, for comparison. */
static void *alloc_tramp_execmem(unsigned long size)
{
	// ok: module-alloc-misuse
	return execmem_alloc(EXECMEM_FTRACE, size);
}

static void tramp_free_execmem(void *tramp)
{
	// ok: module-alloc-misuse
	execmem_free(tramp);
}

void *arch_ftrace_alloc_tramp_for_test(unsigned long size)
{
	void *p = alloc_tramp_execmem(size);

	if (p && size > PAGE_SIZE) {
		tramp_free_execmem(p);
		p = NULL;
	}
	return p;
}
