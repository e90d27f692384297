// corpus-path: arch/x86/kernel/kprobes/execmem-example.c
// corpus-kernel: 7.3
#include "kpolicy-corpus.h"

/*
 * Linux 7.3 on x86: execmem_alloc() for module text, kprobes, ftrace and
 * BPF hands out pieces of the ROX cache, read-only and executable already
 * (arch/x86/mm/init.c execmem_arch_setup, mm/execmem.c execmem_alloc).
 */

/* An instruction slot copied in with memcpy(). */
void *insn_page_memcpy(const void *insn, size_t len)
{
	void *page = execmem_alloc(EXECMEM_KPROBES, PAGE_SIZE);

	if (!page)
		return NULL;
	// ruleid: write-to-readonly-text
	memcpy(page, insn, len);
	return page;
}

/* The kernel's way: text_poke_copy() writes through a private mapping. */
void *insn_page_poke(const void *insn, size_t len)
{
	void *page = execmem_alloc(EXECMEM_KPROBES, PAGE_SIZE);

	if (!page)
		return NULL;
	// ok: write-to-readonly-text
	text_poke_copy(page, insn, len);
	return page;
}

/* Filling module text with int3 by hand: the cache did it already. */
void *text_fill(size_t size)
{
	void *text = execmem_alloc(EXECMEM_MODULE_TEXT, size);

	if (!text)
		return NULL;
	// ruleid: write-to-readonly-text
	memset(text, 0xcc, size);
	return text;
}

struct jit_header {
	unsigned int size;
	u8 image[];
};

/* The bpf_jit_binary_alloc() shape: a header store into BPF memory. */
struct jit_header *jit_alloc(unsigned int size)
{
	struct jit_header *hdr = execmem_alloc(EXECMEM_BPF, size);

	if (!hdr)
		return NULL;
	// ruleid: write-to-readonly-text
	hdr->size = size;
	return hdr;
}

/* Written only where the type is not from the ROX cache (the bpf_prog_pack idiom). */
void *jit_alloc_checked(unsigned int size)
{
	void *p = execmem_alloc(EXECMEM_BPF, size);

	if (!p)
		return NULL;
	if (!execmem_is_rox(EXECMEM_BPF)) {
		// ok: write-to-readonly-text
		memset(p, 0xcc, size);
		set_memory_rox((unsigned long)p, 1);
	}
	return p;
}

/* Module data is not from the cache. */
void *data_copy(const void *src, size_t len)
{
	void *data = execmem_alloc(EXECMEM_MODULE_DATA, PAGE_SIZE);

	if (!data)
		return NULL;
	// ok: write-to-readonly-text
	memcpy(data, src, len);
	return data;
}

/* execmem_alloc_rw(): writable until the restore. */
void *tramp_rw(const void *code, size_t len)
{
	void *tramp = execmem_alloc_rw(EXECMEM_FTRACE, PAGE_SIZE);

	if (!tramp)
		return NULL;
	// ok: write-to-readonly-text
	memcpy(tramp, code, len);
	if (execmem_restore_rox(tramp, PAGE_SIZE)) {
		execmem_free(tramp);
		return NULL;
	}
	return tramp;
}

/* A late patch after the restore. */
void *tramp_late_patch(const void *code, size_t len)
{
	void *tramp = execmem_alloc_rw(EXECMEM_FTRACE, PAGE_SIZE);

	if (!tramp)
		return NULL;
	memcpy(tramp, code, len);
	if (execmem_restore_rox(tramp, PAGE_SIZE)) {
		execmem_free(tramp);
		return NULL;
	}
	// ruleid: write-to-readonly-text
	memcpy(tramp + 64, code, 5);
	return tramp;
}
