// corpus-path: kernel/trace/ftrace.c
// corpus-kernel: 6.12
// Generic ftrace trampoline handling under kernel/trace/: allowed.
#include "kpolicy-corpus.h"

struct ftrace_ops_sketch {
	unsigned long trampoline;
	unsigned long trampoline_size;
};

bool ftrace_tramp_resets_perms(const struct ftrace_ops_sketch *ops)
{
	struct vm_struct *vm = find_vm_area((void *)ops->trampoline);

	// ok: flush-reset-perms-outside-core
	return vm && (vm->flags & VM_FLUSH_RESET_PERMS);
}

void ftrace_tramp_mark(struct ftrace_ops_sketch *ops)
{
	if (!ops->trampoline)
		return;
	// ok: flush-reset-perms-outside-core
	set_vm_flush_reset_perms((void *)ops->trampoline);
}
