// corpus-path: kernel/bpf/core.c
// corpus-kernel: 6.1
// BPF JIT image and prog-pack allocation, 6.1 shape: the weak default
// bpf_jit_alloc_exec() and the pack allocator both use module_alloc().
#include "kpolicy-corpus.h"

#define BPF_PROG_PACK_SIZE	(PAGE_SIZE * 512)
#define BPF_PROG_CHUNK_SIZE	64
#define BPF_PROG_SIZE_TO_NBITS(size) (DIV_ROUND_UP(size, BPF_PROG_CHUNK_SIZE))

struct bpf_prog_pack {
	struct list_head list;
	void *ptr;
	unsigned long bitmap[1];
};

struct bpf_binary_header {
	u32 size;
	u8 image[];
};

typedef void (*bpf_jit_fill_hole_t)(void *area, unsigned int size);

static DEFINE_MUTEX(pack_mutex);
static LIST_HEAD(pack_list);

void *bpf_jit_alloc_exec(unsigned long size);
void bpf_jit_free_exec(void *addr);

static struct bpf_prog_pack *alloc_new_pack(bpf_jit_fill_hole_t bpf_fill_ill_insns)
{
	struct bpf_prog_pack *pack;

	pack = kzalloc(sizeof(*pack), GFP_KERNEL);
	if (!pack)
		return NULL;
	// ruleid: module-alloc-misuse
	pack->ptr = module_alloc(BPF_PROG_PACK_SIZE);
	if (!pack->ptr) {
		kfree(pack);
		return NULL;
	}
	bpf_fill_ill_insns(pack->ptr, BPF_PROG_PACK_SIZE);
	list_add(&pack->list, &pack_list);

	set_vm_flush_reset_perms(pack->ptr);
	set_memory_ro((unsigned long)pack->ptr, BPF_PROG_PACK_SIZE / PAGE_SIZE);
	set_memory_x((unsigned long)pack->ptr, BPF_PROG_PACK_SIZE / PAGE_SIZE);
	return pack;
}

void *bpf_prog_pack_alloc(u32 size, bpf_jit_fill_hole_t bpf_fill_ill_insns)
{
	unsigned int nbits = BPF_PROG_SIZE_TO_NBITS(size);
	struct bpf_prog_pack *pack;
	void *ptr = NULL;

	mutex_lock(&pack_mutex);
	if (size > BPF_PROG_PACK_SIZE) {
		size = PAGE_ALIGN(size);
		// ruleid: module-alloc-misuse
		ptr = module_alloc(size);
		if (ptr) {
			bpf_fill_ill_insns(ptr, size);
			set_vm_flush_reset_perms(ptr);
			set_memory_ro((unsigned long)ptr, size / PAGE_SIZE);
			set_memory_x((unsigned long)ptr, size / PAGE_SIZE);
		}
		goto out;
	}
	pack = alloc_new_pack(bpf_fill_ill_insns);
	if (!pack)
		goto out;
	ptr = (char *)pack->ptr + (nbits ? 0 : 0);
out:
	mutex_unlock(&pack_mutex);
	return ptr;
}

void bpf_prog_pack_free(struct bpf_binary_header *hdr)
{
	mutex_lock(&pack_mutex);
	if (hdr->size > BPF_PROG_PACK_SIZE) {
		// ruleid: module-alloc-misuse
		module_memfree(hdr);
		goto out;
	}
out:
	mutex_unlock(&pack_mutex);
}

void *__weak bpf_jit_alloc_exec(unsigned long size)
{
	// ruleid: module-alloc-misuse
	return module_alloc(size);
}

void __weak bpf_jit_free_exec(void *addr)
{
	// ruleid: module-alloc-misuse
	module_memfree(addr);
}

/* 6.10+: the same two helpers on top of execmem. */
static void *bpf_jit_alloc_exec_execmem(unsigned long size)
{
	// ok: module-alloc-misuse
	return execmem_alloc(EXECMEM_BPF, size);
}

static void bpf_jit_free_exec_execmem(void *addr)
{
	// ok: module-alloc-misuse
	execmem_free(addr);
}

int bpf_jit_selftest_alloc(void)
{
	void *p = bpf_jit_alloc_exec_execmem(PAGE_SIZE);

	if (!p)
		return -ENOMEM;
	bpf_jit_free_exec_execmem(p);
	return 0;
}
