// corpus-path: kernel/trace/insn-example.c
// corpus-kernel: 6.12
#include "kpolicy-corpus.h"

/*
 * 6.12: the x86, arm64 and s390 overrides take an EXECMEM_KPROBES page and
 * make it read-only and executable (set_memory_rox); powerpc and riscv no
 * longer override, and the default's execmem_alloc(EXECMEM_KPROBES) gives
 * what the arch's execmem range gives.
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
