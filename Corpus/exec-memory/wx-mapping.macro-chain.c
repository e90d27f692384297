// corpus-path: drivers/misc/prot-chain.c
// corpus-kernel: 6.1
// A pgprot reached through a chain of ten macros. The first function passes
// the end of the chain (P9), whose expansion the resolution depth cuts
// short; the second maps with P2, which is close enough to PAGE_KERNEL_EXEC
// to resolve in full. The first use must not decide what P2 expands to
// (issue 12: a truncated expansion was cached and the finding lost).
#include "kpolicy-corpus.h"

#define P0 PAGE_KERNEL_EXEC
#define P1 P0
#define P2 P1
#define P3 P2
#define P4 P3
#define P5 P4
#define P6 P5
#define P7 P6
#define P8 P7
#define P9 P8

static void prot_chain_note(pgprot_t prot)
{
}

static void prot_chain_first(void)
{
	prot_chain_note(P9);
}

static void *prot_chain_map(struct page **pages, unsigned int count)
{
	// ruleid: wx-mapping
	return vmap(pages, count, VM_MAP, P2);
}

static void *prot_chain_map_data(struct page **pages, unsigned int count)
{
	// ok: wx-mapping
	return vmap(pages, count, VM_MAP, PAGE_KERNEL);
}
