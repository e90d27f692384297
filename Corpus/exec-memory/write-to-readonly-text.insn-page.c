// corpus-path: kernel/trace/insn-example.c
// corpus-kernel: 6.1
#include "kpolicy-corpus.h"

/*
 * alloc_insn_page() has a __weak default in kernel/kprobes.c and overrides
 * under arch/: on x86, powerpc and s390 the page comes back read-only and
 * executable, on arm64 and riscv it is mapped ROX from the start; the
 * default (module_alloc) leaves it writable. A plain write into it is
 * therefore wrong on five arches and fine on the others: the finding
 * names the arches (FunctionIRTests checks which).
 */
int copy_into_insn_page(const void *insn, unsigned long len)
{
	void *page = alloc_insn_page();

	if (!page)
		return -ENOMEM;
	// ruleid: write-to-readonly-text
	memcpy(page, insn, len);
	return 0;
}

/* Through the arch's text patching: no plain write. */
int patch_into_insn_page(const void *insn, unsigned long len)
{
	void *page = alloc_insn_page();

	if (!page)
		return -ENOMEM;
	// ok: write-to-readonly-text
	text_poke_copy(page, insn, len);
	return 0;
}

/* The failure path writes nothing. */
int insn_page_failure(const void *insn, unsigned long len)
{
	void *page = alloc_insn_page();

	if (page) {
		// ruleid: write-to-readonly-text
		memset(page, 0xcc, len);
		return 0;
	}
	// ok: write-to-readonly-text
	return -ENOMEM;
}

/* Making it writable again is a W+X window on the arches that made it executable. */
void reuse_insn_page(void)
{
	void *page = alloc_insn_page();

	if (!page)
		return;
	// ruleid: wx-window
	set_memory_rw((unsigned long)page, 1);
	// ok: wx-window
	set_memory_nx((unsigned long)page, 1);
}
