/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kpolicy-corpus.h - a small stand-in for the kernel headers the rule corpus
 * needs, so every corpus file parses on its own:
 *
 *   clang -fsyntax-only -nostdinc -I Corpus/include \
 *         -DKPOLICY_CORPUS_KERNEL=601 Corpus/<category>/<file>.c
 *
 * KPOLICY_CORPUS_KERNEL selects the kernel version being modelled:
 *   601  Linux 6.1: module_alloc() era, plain vmalloc prototypes
 *   612  Linux 6.12: execmem era, allocation-tagging macros
 *        (vmalloc(...) -> vmalloc_noprof(...), and so on)
 *   703  Linux 7.3: also execmem_is_rox() (6.13), execmem_restore_rox()
 *        (6.15) and execmem_alloc_rw() (6.17)
 *
 * Only declarations live here. Nothing in this header is a corpus case:
 * kpolicy must not report lines of this file.
 */
#ifndef KPOLICY_CORPUS_H
#define KPOLICY_CORPUS_H

#ifndef KPOLICY_CORPUS_KERNEL
#define KPOLICY_CORPUS_KERNEL 601
#endif

/* ---------------------------------------------------------------- types */

typedef unsigned long size_t;
typedef long ssize_t;
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed int s32;
typedef signed long long s64;
typedef unsigned long uintptr_t;
typedef _Bool bool;
typedef unsigned int gfp_t;
typedef unsigned long long phys_addr_t;
typedef unsigned long long resource_size_t;

#define NULL ((void *)0)
#define true 1
#define false 0

/* ------------------------------------------------------------ compiler */

#define __init
#define __exit
#define __initdata
#define __ro_after_init
#define __read_mostly
#define __iomem
#define __user
#define __weak __attribute__((weak))
#define __always_inline inline __attribute__((always_inline))
#define __maybe_unused __attribute__((unused))
#define __must_check __attribute__((warn_unused_result))
#define noinline __attribute__((noinline))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, val) do { *(volatile typeof(x) *)&(x) = (val); } while (0)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define ALIGN(x, a) (((x) + ((a) - 1)) & ~((typeof(x))(a) - 1))
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - __builtin_offsetof(type, member)))
#define BUILD_BUG_ON(cond) ((void)sizeof(char[1 - 2 * !!(cond)]))
#define WARN_ON(cond) ({ int __ret_warn_on = !!(cond); unlikely(__ret_warn_on); })
#define WARN_ON_ONCE(cond) WARN_ON(cond)
#define _RET_IP_ ((unsigned long)__builtin_return_address(0))

/* IS_ENABLED(CONFIG_FOO): 1 if CONFIG_FOO is defined to 1, else 0. */
#define __ARG_PLACEHOLDER_1 0,
#define __take_second_arg(__ignored, val, ...) val
#define ____is_defined(arg1_or_junk) __take_second_arg(arg1_or_junk 1, 0)
#define ___is_defined(val) ____is_defined(__ARG_PLACEHOLDER_##val)
#define __is_defined(x) ___is_defined(x)
#define IS_ENABLED(option) __is_defined(option)

#define CONFIG_MMU 1
#define CONFIG_MODULES 1
#define CONFIG_STRICT_KERNEL_RWX 1
#define CONFIG_STRICT_MODULE_RWX 1
#define CONFIG_ARCH_HAS_SET_MEMORY 1
#define CONFIG_KPROBES 1
#define CONFIG_BPF_JIT 1
#define CONFIG_DYNAMIC_FTRACE 1
#if KPOLICY_CORPUS_KERNEL >= 612
#define CONFIG_EXECMEM 1
#endif

/* -------------------------------------------------------------- errors */

#define EPERM 1
#define ENOENT 2
#define EIO 5
#define E2BIG 7
#define ENOMEM 12
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define EINVAL 22
#define ENOSPC 28
#define EOPNOTSUPP 95

#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) unlikely((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long error) { return (void *)error; }
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }
static inline bool IS_ERR(const void *ptr) { return IS_ERR_VALUE((unsigned long)ptr); }
static inline bool IS_ERR_OR_NULL(const void *ptr) { return !ptr || IS_ERR(ptr); }

/* ------------------------------------------------------ printk & misc */

int printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define pr_err(fmt, ...) printk(fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) printk(fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) printk(fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) printk(fmt, ##__VA_ARGS__)

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *s, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* ---------------------------------------------------------- locking */

struct mutex { int __count; };
#define DEFINE_MUTEX(name) struct mutex name = { 0 }
void mutex_lock(struct mutex *lock);
void mutex_unlock(struct mutex *lock);
typedef struct { int __lock; } spinlock_t;
#define DEFINE_SPINLOCK(name) spinlock_t name = { 0 }
void spin_lock(spinlock_t *lock);
void spin_unlock(spinlock_t *lock);

struct list_head { struct list_head *next, *prev; };
#define LIST_HEAD_INIT(name) { &(name), &(name) }
#define LIST_HEAD(name) struct list_head name = LIST_HEAD_INIT(name)
static inline void INIT_LIST_HEAD(struct list_head *l) { l->next = l; l->prev = l; }
void list_add(struct list_head *entry, struct list_head *head);
void list_del(struct list_head *entry);
static inline int list_empty(const struct list_head *head) { return head->next == head; }

struct rcu_head { void *next; void (*func)(struct rcu_head *); };

/* --------------------------------------------------------------- gfp */

#define ___GFP_HIGHMEM		0x02u
#define ___GFP_IO		0x40u
#define ___GFP_FS		0x80u
#define ___GFP_ZERO		0x100u
#define ___GFP_DIRECT_RECLAIM	0x400u
#define ___GFP_KSWAPD_RECLAIM	0x800u
#define ___GFP_NOWARN		0x2000u
#define ___GFP_ACCOUNT		0x400000u
#define __GFP_RECLAIM (___GFP_DIRECT_RECLAIM | ___GFP_KSWAPD_RECLAIM)
#define __GFP_ZERO ___GFP_ZERO
#define __GFP_NOWARN ___GFP_NOWARN
#define __GFP_ACCOUNT ___GFP_ACCOUNT
#define GFP_ATOMIC (___GFP_KSWAPD_RECLAIM)
#define GFP_KERNEL (__GFP_RECLAIM | ___GFP_IO | ___GFP_FS)
#define GFP_KERNEL_ACCOUNT (GFP_KERNEL | __GFP_ACCOUNT)

void *kmalloc(size_t size, gfp_t flags);
void *kzalloc(size_t size, gfp_t flags);
void *kcalloc(size_t n, size_t size, gfp_t flags);
void kfree(const void *p);
void *kvmalloc(size_t size, gfp_t flags);
void kvfree(const void *addr);

/* -------------------------------------------------------------- pages */

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PAGE_ALIGN(addr) ALIGN(addr, PAGE_SIZE)
#define PFN_UP(x) (((x) + PAGE_SIZE - 1) >> PAGE_SHIFT)
#define NUMA_NO_NODE (-1)

struct page { unsigned long flags; void *virtual; };

struct page *alloc_page(gfp_t gfp);
struct page *alloc_pages(gfp_t gfp, unsigned int order);
void __free_page(struct page *page);
void __free_pages(struct page *page, unsigned int order);
void *page_address(const struct page *page);
struct page *virt_to_page(const void *addr);
unsigned long __pa(const void *addr);

/* ------------------------------------------------------------ pgprot */

typedef struct { unsigned long pgprot; } pgprot_t;
#define __pgprot(x) ((pgprot_t) { (x) })
#define pgprot_val(x) ((x).pgprot)

/* x86-64 style page-table bits */
#define _PAGE_BIT_PRESENT	0
#define _PAGE_BIT_RW		1
#define _PAGE_BIT_USER		2
#define _PAGE_BIT_PWT		3
#define _PAGE_BIT_PCD		4
#define _PAGE_BIT_ACCESSED	5
#define _PAGE_BIT_DIRTY		6
#define _PAGE_BIT_PSE		7
#define _PAGE_BIT_GLOBAL	8
#define _PAGE_BIT_NX		63

#define _PAGE_PRESENT	(1UL << _PAGE_BIT_PRESENT)
#define _PAGE_RW	(1UL << _PAGE_BIT_RW)
#define _PAGE_USER	(1UL << _PAGE_BIT_USER)
#define _PAGE_PWT	(1UL << _PAGE_BIT_PWT)
#define _PAGE_PCD	(1UL << _PAGE_BIT_PCD)
#define _PAGE_ACCESSED	(1UL << _PAGE_BIT_ACCESSED)
#define _PAGE_DIRTY	(1UL << _PAGE_BIT_DIRTY)
#define _PAGE_PSE	(1UL << _PAGE_BIT_PSE)
#define _PAGE_GLOBAL	(1UL << _PAGE_BIT_GLOBAL)
#define _PAGE_NX	(1UL << _PAGE_BIT_NX)
#define _PAGE_CACHE_MASK (_PAGE_PWT | _PAGE_PCD)

#define __PAGE_KERNEL_EXEC \
	(_PAGE_PRESENT | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED | _PAGE_GLOBAL)
#define __PAGE_KERNEL		(__PAGE_KERNEL_EXEC | _PAGE_NX)
#define __PAGE_KERNEL_RO	(__PAGE_KERNEL & ~_PAGE_RW)
#define __PAGE_KERNEL_ROX	(__PAGE_KERNEL_EXEC & ~_PAGE_RW)
#define __PAGE_KERNEL_NOCACHE	(__PAGE_KERNEL | _PAGE_PCD)
#define __PAGE_KERNEL_LARGE_EXEC (__PAGE_KERNEL_EXEC | _PAGE_PSE)

#define PAGE_KERNEL		__pgprot(__PAGE_KERNEL)
#define PAGE_KERNEL_RO		__pgprot(__PAGE_KERNEL_RO)
#define PAGE_KERNEL_EXEC	__pgprot(__PAGE_KERNEL_EXEC)
#define PAGE_KERNEL_ROX		__pgprot(__PAGE_KERNEL_ROX)
#define PAGE_KERNEL_NOCACHE	__pgprot(__PAGE_KERNEL_NOCACHE)
#define PAGE_KERNEL_LARGE_EXEC	__pgprot(__PAGE_KERNEL_LARGE_EXEC)
/* Spelled in terms of the others, the way several arches do. */
#define PAGE_KERNEL_RX		PAGE_KERNEL_ROX
#define PAGE_KERNEL_RWX		PAGE_KERNEL_EXEC

/* --------------------------------------------------------------- vmalloc */

#define VM_IOREMAP		0x00000001UL
#define VM_ALLOC		0x00000002UL
#define VM_MAP			0x00000004UL
#define VM_USERMAP		0x00000008UL
#define VM_DMA_COHERENT		0x00000010UL
#define VM_UNINITIALIZED	0x00000020UL
#define VM_NO_GUARD		0x00000040UL
#define VM_KASAN		0x00000080UL
#define VM_FLUSH_RESET_PERMS	0x00000100UL
#define VM_MAP_PUT_PAGES	0x00000200UL
#define VM_ALLOW_HUGE_VMAP	0x00000400UL
#define VM_DEFER_KMEMLEAK	0x00000800UL
#define VM_SPARSE		0x00001000UL

#define VMALLOC_START	0xffffc90000000000UL
#define VMALLOC_END	0xffffe8ffffffffffUL
#define MODULES_VADDR	0xffffffffa0000000UL
#define MODULES_END	0xffffffffff000000UL
#define MODULES_LEN	(MODULES_END - MODULES_VADDR)

struct vm_struct {
	struct vm_struct	*next;
	void			*addr;
	unsigned long		size;
	unsigned long		flags;
	struct page		**pages;
	unsigned int		page_order;
	unsigned int		nr_pages;
	phys_addr_t		phys_addr;
	const void		*caller;
};

/* Opaque here: only mm/vmalloc.c looks inside. */
struct vmap_area;

#if KPOLICY_CORPUS_KERNEL >= 612
/* Linux 6.10+ memory allocation profiling: the public names are macros. */
extern void *vmalloc_noprof(unsigned long size);
#define vmalloc(...)		vmalloc_noprof(__VA_ARGS__)
extern void *vzalloc_noprof(unsigned long size);
#define vzalloc(...)		vzalloc_noprof(__VA_ARGS__)
extern void *__vmalloc_noprof(unsigned long size, gfp_t gfp_mask);
#define __vmalloc(...)		__vmalloc_noprof(__VA_ARGS__)
extern void *__vmalloc_node_range_noprof(unsigned long size, unsigned long align,
			unsigned long start, unsigned long end, gfp_t gfp_mask,
			pgprot_t prot, unsigned long vm_flags, int node,
			const void *caller);
#define __vmalloc_node_range(...) __vmalloc_node_range_noprof(__VA_ARGS__)
#else
extern void *vmalloc(unsigned long size);
extern void *vzalloc(unsigned long size);
extern void *__vmalloc(unsigned long size, gfp_t gfp_mask);
extern void *__vmalloc_node_range(unsigned long size, unsigned long align,
			unsigned long start, unsigned long end, gfp_t gfp_mask,
			pgprot_t prot, unsigned long vm_flags, int node,
			const void *caller);
#endif

/* Removed in 5.8; out-of-tree code still carries it. */
extern void *__vmalloc_node_prot(unsigned long size, unsigned long align,
			gfp_t gfp_mask, pgprot_t prot, int node,
			const void *caller);
/* Removed in 5.8 (always PAGE_KERNEL_EXEC); "mm: Bring back vmalloc_exec". */
extern void *vmalloc_exec(unsigned long size);

extern void vfree(const void *addr);
extern void vfree_atomic(const void *addr);
extern void *vmap(struct page **pages, unsigned int count,
			unsigned long flags, pgprot_t prot);
extern void vunmap(const void *addr);
extern void *vm_map_ram(struct page **pages, unsigned int count, int node);
extern void vm_unmap_ram(const void *mem, unsigned int count);
extern void vm_unmap_aliases(void);
extern struct page *vmalloc_to_page(const void *addr);
extern unsigned long vmalloc_to_pfn(const void *addr);
extern bool is_vmalloc_addr(const void *x);

extern struct vm_struct *get_vm_area(unsigned long size, unsigned long flags);
extern struct vm_struct *get_vm_area_caller(unsigned long size,
			unsigned long flags, const void *caller);
extern struct vm_struct *__get_vm_area_caller(unsigned long size,
			unsigned long flags, unsigned long start,
			unsigned long end, const void *caller);
extern void free_vm_area(struct vm_struct *area);
extern struct vm_struct *remove_vm_area(const void *addr);
extern struct vm_struct *find_vm_area(const void *addr);
extern int vm_area_map_pages(struct vm_struct *area, unsigned long start,
			unsigned long end, struct page **pages);
extern void vm_area_unmap_pages(struct vm_struct *area, unsigned long start,
			unsigned long end);
extern int ioremap_page_range(unsigned long addr, unsigned long end,
			phys_addr_t phys_addr, pgprot_t prot);

static inline void set_vm_flush_reset_perms(void *addr)
{
	struct vm_struct *vm = find_vm_area(addr);

	if (vm)
		vm->flags |= VM_FLUSH_RESET_PERMS;
}

/* -------------------------------------------------------------- ioremap */

/* As in 6.1 and 6.12: the protection is passed as a raw value. */
extern void __iomem *ioremap_prot(phys_addr_t phys_addr, size_t size,
			unsigned long prot);
extern void __iomem *ioremap(phys_addr_t phys_addr, size_t size);
extern void iounmap(volatile void __iomem *addr);

/* ------------------------------------------------------------ set_memory */

int set_memory_ro(unsigned long addr, int numpages);
int set_memory_rw(unsigned long addr, int numpages);
int set_memory_x(unsigned long addr, int numpages);
int set_memory_nx(unsigned long addr, int numpages);
int set_memory_rox(unsigned long addr, int numpages);

/* ------------------------------------------------------------ text_poke */

void *text_poke(void *addr, const void *opcode, size_t len);
void *text_poke_copy(void *addr, const void *opcode, size_t len);
void *text_poke_set(void *addr, int c, size_t len);
void text_poke_sync(void);
extern struct mutex text_mutex;

/* ---------------------------------------------------------------- module */

struct module_memory {
	void *base;
	unsigned int size;
};

struct module {
	const char *name;
	struct module_memory mem[7];
	void *init_layout_base;
	void *core_layout_base;
	unsigned int core_size;
	unsigned int init_size;
	struct list_head list;
};

/*
 * module_alloc() and friends are gone in 6.10+ (execmem replaced them); they
 * are declared in every mode so corpus files can model an out-of-tree patch
 * that still uses them on a 6.12 tree.
 */
void *module_alloc(unsigned long size);
void module_memfree(void *module_region);
void *module_alloc_huge(unsigned long size);

enum execmem_type {
	EXECMEM_DEFAULT,
	EXECMEM_MODULE_TEXT = EXECMEM_DEFAULT,
	EXECMEM_KPROBES,
	EXECMEM_FTRACE,
	EXECMEM_BPF,
	EXECMEM_MODULE_DATA,
	EXECMEM_TYPE_MAX,
};

void *execmem_alloc(enum execmem_type type, size_t size);
void execmem_free(void *ptr);
#if KPOLICY_CORPUS_KERNEL >= 613
bool execmem_is_rox(enum execmem_type type);
#endif
#if KPOLICY_CORPUS_KERNEL >= 615
/* set_memory_rox() where the arch has a ROX cache, a stub returning 0 elsewhere */
int execmem_restore_rox(void *ptr, size_t size);
#endif
#if KPOLICY_CORPUS_KERNEL >= 617
void *execmem_alloc_rw(enum execmem_type type, size_t size);
#endif

/* ------------------------------------------------------------------ bpf */

void *bpf_jit_alloc_exec(unsigned long size);

/* include/linux/kprobes.h: a __weak default in kernel/kprobes.c, overridden per arch */
void *alloc_insn_page(void);
void bpf_jit_free_exec(void *addr);

/* bpf_prog_pack (kernel/bpf/core.c) */
typedef void (*bpf_jit_fill_hole_t)(void *area, unsigned int size);
void *bpf_prog_pack_alloc(unsigned int size, bpf_jit_fill_hole_t bpf_fill_ill_insns);
#if KPOLICY_CORPUS_KERNEL >= 610
void bpf_prog_pack_free(void *ptr, unsigned int size);
#endif
void *bpf_arch_text_copy(void *dst, void *src, size_t len);

/* arch text patching (arm64, riscv, powerpc, s390) and fncpy (arm) */
int aarch64_insn_copy(void *dst, void *src, size_t len);
int patch_text_nosync(void *addr, const void *insns, size_t len);
int s390_kernel_write(void *dst, const void *src, size_t size);
#define fncpy(dest_buf, funcp, size) ({ memcpy(dest_buf, (void *)(funcp), size); (typeof(funcp))(dest_buf); })

/* ------------------------------------------------------ scope-based cleanup */

/* include/linux/cleanup.h, as in 6.12 */
#define __cleanup(func) __attribute__((__cleanup__(func)))
#define DEFINE_FREE(_name, _type, _free) \
	static inline void __free_##_name(void *p) { _type _T = *(_type *)p; _free; }
#define __free(_name) __cleanup(__free_##_name)
#define __get_and_null(p, nullvalue) \
	({ __auto_type __ptr = &(p); __auto_type __val = *__ptr; *__ptr = nullvalue; __val; })
#define no_free_ptr(p) ((typeof(p))__get_and_null(p, NULL))
#define return_ptr(p) return no_free_ptr(p)

DEFINE_FREE(execmem, void *, if (_T) execmem_free(_T))
DEFINE_FREE(vfree, void *, if (_T) vfree(_T))

/* -------------------------------------------------------------- exports */

#define __EXPORT_SYMBOL_CORPUS(sym, kind)				\
	extern typeof(sym) sym;						\
	static void *__ksymtab_##kind##_##sym __attribute__((unused)) =	\
		(void *)&sym

#define EXPORT_SYMBOL(sym)		__EXPORT_SYMBOL_CORPUS(sym, plain)
#define EXPORT_SYMBOL_GPL(sym)		__EXPORT_SYMBOL_CORPUS(sym, gpl)
#define EXPORT_SYMBOL_NS(sym, ns)	__EXPORT_SYMBOL_CORPUS(sym, ns_##ns)
#define EXPORT_SYMBOL_NS_GPL(sym, ns)	__EXPORT_SYMBOL_CORPUS(sym, ns_gpl_##ns)

#define MODULE_LICENSE(x) \
	static const char __mod_license[] __attribute__((unused)) = x
#define MODULE_DESCRIPTION(x) \
	static const char __mod_description[] __attribute__((unused)) = x
#define module_init(fn) \
	static int (*__initcall_##fn)(void) __attribute__((unused)) = fn
#define module_exit(fn) \
	static void (*__exitcall_##fn)(void) __attribute__((unused)) = fn
#define late_initcall(fn) module_init(fn)

#endif /* KPOLICY_CORPUS_H */
