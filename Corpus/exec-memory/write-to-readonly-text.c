// corpus-path: kernel/bpf/jit-example.c
// corpus-kernel: 6.1
#include "kpolicy-corpus.h"

/* Written after it was made read-only. */
void *copy_after_ro(const void *code, size_t len)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return NULL;
	set_memory_ro((unsigned long)p, 1);
	// ruleid: write-to-readonly-text
	memcpy(p, code, len);
	set_memory_x((unsigned long)p, 1);
	return p;
}

/* Written first, protected second: fine. */
void *copy_before_ro(const void *code, size_t len)
{
	void *p = module_alloc(PAGE_SIZE);

	if (!p)
		return NULL;
	// ok: write-to-readonly-text
	memcpy(p, code, len);
	set_memory_ro((unsigned long)p, 1);
	set_memory_x((unsigned long)p, 1);
	return p;
}

/* A store through the pointer counts as a write. */
void store_after_ro(unsigned int *insn)
{
	set_memory_ro((unsigned long)insn, 1);
	// ruleid: write-to-readonly-text
	insn[0] = 0xd503201f;
}

/* text_poke_copy() writes through its own mapping: fine. */
void poke_after_ro(void *buf, const void *code, size_t len)
{
	set_memory_ro((unsigned long)buf, 1);
	// ok: write-to-readonly-text
	text_poke_copy(buf, code, len);
}

/* The error path fills the image after protecting it. */
int fill_on_error(void *image, int fail)
{
	set_memory_ro((unsigned long)image, 1);
	if (fail)
		goto err;
	return 0;
err:
	// ruleid: write-to-readonly-text
	memset(image, 0xcc, 64);
	return -EINVAL;
}

/* Made writable again before the write: no fault (wx-window's business if executable). */
void rw_again(void *buf, const void *code, size_t len)
{
	set_memory_ro((unsigned long)buf, 1);
	set_memory_rw((unsigned long)buf, 1);
	// ok: write-to-readonly-text
	memcpy(buf, code, len);
}

/* A write through NULL after a failed allocation is not this rule's. */
void null_write(void)
{
	void *p = vmalloc(PAGE_SIZE);

	// ok: write-to-readonly-text
	memset(p, 0, 16);
	set_memory_ro((unsigned long)p, 1);
}

/* Only on one branch. */
void branch_write(void *buf, int patch)
{
	if (patch)
		set_memory_ro((unsigned long)buf, 1);
	// ruleid: write-to-readonly-text
	memset(buf, 0, 32);
}

/* In 6.1 the pack header is written on free after the ro+x (scenario 6a). */
struct hdr_pack {
	unsigned int size;
};

void header_after_protect(struct hdr_pack *hdr, unsigned int size)
{
	set_memory_ro((unsigned long)hdr, 1);
	set_memory_x((unsigned long)hdr, 1);
	// ruleid: write-to-readonly-text
	hdr->size = size;
}

/* Writes into a different buffer are fine. */
void other_buffer(void *code, void *scratch, size_t len)
{
	set_memory_ro((unsigned long)code, 1);
	// ok: write-to-readonly-text
	memcpy(scratch, code, len);
}

/* A loop that writes, then protects: fine on every iteration count. */
void loop_then_protect(unsigned int *image, int n)
{
	int i;

	for (i = 0; i < n; i++)
		// ok: write-to-readonly-text
		image[i] = 0;
	set_memory_ro((unsigned long)image, 1);
}

/* A loop that protects inside the loop and writes at its top: the second iteration faults. */
void loop_protect_inside(unsigned int *image, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		// ruleid: write-to-readonly-text
		image[0] = i;
		set_memory_ro((unsigned long)image, 1);
	}
}

/* fncpy (arm's copy of a function into SRAM) is a plain write. */
void fncpy_after_ro(void *sram, void (*fn)(void))
{
	set_memory_ro((unsigned long)sram, 1);
	// ruleid: write-to-readonly-text
	fncpy(sram, fn, 64);
}

/* The 6.1 SRAM pattern: copy, then read-only and executable. */
void fncpy_then_ro(void *sram, void (*fn)(void))
{
	// ok: write-to-readonly-text
	fncpy(sram, fn, 64);
	set_memory_ro((unsigned long)sram, 1);
	set_memory_x((unsigned long)sram, 1);
}

/* A double protection changes nothing. */
void ro_twice(void *buf)
{
	set_memory_ro((unsigned long)buf, 1);
	set_memory_ro((unsigned long)buf, 1);
	// ok: write-to-readonly-text
	text_poke_set(buf, 0xcc, 16);
}

/* A page kept across calls, replaced by a helper's fresh page before the fill (6.1 its_allocate_thunk). */
static void *its_like_page;

static void *its_like_alloc(void)
{
	void *page = module_alloc(PAGE_SIZE);

	return page;
}

void *its_like_thunk(int offset)
{
	if (!its_like_page || offset >= PAGE_SIZE) {
		its_like_page = its_like_alloc();
		if (!its_like_page)
			return NULL;
		// ok: write-to-readonly-text
		memset(its_like_page, 0xcc, PAGE_SIZE);
	}
	set_memory_ro((unsigned long)its_like_page, 1);
	set_memory_x((unsigned long)its_like_page, 1);
	return its_like_page + offset;
}
