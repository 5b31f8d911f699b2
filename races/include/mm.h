/*
 * mm.h — the Faultline kernel memory-management model, written in the race
 * language (docs/language-draft-for-model.md).  Read it like kernel code.
 *
 * Follows include/linux/pgtable.h, include/linux/mm.h, include/linux/mm_types.h
 * and mm/memory.c of v6.x (linux-next 2025) unless a function says otherwise;
 * the per-race headers (fault.h, pagewalk.h, zap.h, swap.h, userfaultfd.h,
 * faultaround.h) select older variants with -D where a race needs them.
 *
 * ------------------------------------------------------------------------
 * Geometry (small on purpose: the explorer is exhaustive)
 *   pgd and p4d are folded: mm->pgd points at the top-level PUD table.
 *   PTRS_PER_PUD = PTRS_PER_PMD = PTRS_PER_PTE = 4.
 *   User virtual addresses are page numbers: bits 0-1 index the pte table,
 *   bits 2-3 the pmd table, bits 4-5 the pud table.  PAGE_SIZE is 1, so
 *   PMD_SIZE is 4 pages and PUD_SIZE 16 pages.
 *
 * Memory objects (the machine's, see DESIGN.md §3)
 *   A model pointer is (object id << 12) + cell offset.  Page-sized objects
 *   have 8 cells.  A page-table page is alloc_page(pud_t|pmd_t|pte_t): cells
 *   0..3 are the entries.  A data page is alloc_page(struct page): the model
 *   conflates the page frame and its struct page (struct page has exactly 8
 *   cells), so a table access through a huge leaf lands inside a struct page
 *   and the machine reports type-confusion (I-TBL), never out-of-bounds.
 *
 * Entry encoding — x86-like: entry = (pfn << ENTRY_PFN_SHIFT) | flags, with
 *   ENTRY_PFN_SHIFT == PAGE_SHIFT == 12 and pfn = model address >> 12 (the
 *   object id).  So an entry is also a tagged pointer to the object it maps:
 *   the machine's leak check sees a linked table as reachable (I-OWN).
 *     none           0
 *     table          pfn | _PAGE_PRESENT                      (pud/pmd)
 *     huge leaf      pfn | _PAGE_PRESENT | _PAGE_PSE [| RW]   (pud/pmd)
 *     present pte    pfn | _PAGE_PRESENT [| RW | DIRTY | UFFD_WP]
 *     swap pte       offset << 12 | SWP_TYPE_SWAP << 8 [| _PAGE_SWP_UFFD_WP]
 *     pte marker     marker << 12 | SWP_PTE_MARKER << 8
 *   Bit 0 clear and a non-zero type field make every swap-format entry
 *   "!none && !present", as in the kernel.
 *
 * Split page-table locks: ALLOC_SPLIT_PTLOCKS style.  A pte table's lock is
 *   a separate kzalloc'd spinlock_t; cell PTE_PTLOCK_SLOT (7) of the table
 *   page holds a pointer to it (the kernel keeps it in the table's struct
 *   ptdesc; ptlock_ptr() reads ptdesc->ptl).  pte_free() frees both, so a
 *   late lock of a freed table is a use-after-free.  The PUD level uses
 *   mm->page_table_lock; the PMD level too, or with USE_SPLIT_PMD_PTLOCKS a
 *   lock per pmd table (cell 7 of the table, see pmd_lockptr()).
 *
 * Not modelled (say so where a race might care): pgd/p4d levels, TLB
 * batching other than tlb_shootdown(), rss counters, memcg, LRU, folios
 * (struct page is used throughout), highmem kmap (pte_unmap is a no-op).
 */
#ifndef _FAULTLINE_MM_H
#define _FAULTLINE_MM_H

#define likely(x)	(x)
#define unlikely(x)	(x)
#define true		1
#define false		0
#define ENOMEM		12
#define EINTR		4

typedef unsigned long pud_t;
typedef unsigned long pmd_t;
typedef unsigned long pte_t;

/* ---------------------------------------------------------------- geometry */
#define PAGE_SHIFT		12	/* model pointer: object id << 12 */
#define ENTRY_PFN_SHIFT		12	/* entry = pfn << 12 | flags (x86 style) */
#define ENTRY_FLAGS_MASK	0xfff
#define PTRS_PER_PTE		4
#define PTRS_PER_PMD		4
#define PTRS_PER_PUD		4
#define PTE_PTLOCK_SLOT		7	/* cell of a pte table holding its ptl */
#define PMD_SHIFT		2	/* user addresses count pages */
#define PUD_SHIFT		4
#define PMD_SIZE		4
#define PUD_SIZE		16
#define PMD_MASK		(~(PMD_SIZE - 1))
#define PUD_MASK		(~(PUD_SIZE - 1))

#define pte_index(addr)		((addr) & (PTRS_PER_PTE - 1))
#define pmd_index(addr)		(((addr) >> PMD_SHIFT) & (PTRS_PER_PMD - 1))
#define pud_index(addr)		(((addr) >> PUD_SHIFT) & (PTRS_PER_PUD - 1))
#define pmd_addr_end(addr, end)	((((addr) + PMD_SIZE) & PMD_MASK) < (end) ? \
				 (((addr) + PMD_SIZE) & PMD_MASK) : (end))
#define pud_addr_end(addr, end)	((((addr) + PUD_SIZE) & PUD_MASK) < (end) ? \
				 (((addr) + PUD_SIZE) & PUD_MASK) : (end))

#define virt_to_pfn(p)		(((unsigned long)(p)) >> PAGE_SHIFT)
#define pfn_to_virt(pfn)	((void *)((pfn) << PAGE_SHIFT))

/* ------------------------------------------------------------ entry flags */
#define _PAGE_PRESENT		0x001
#define _PAGE_PSE		0x002	/* huge leaf at pud/pmd level */
#define _PAGE_RW		0x004
#define _PAGE_DIRTY		0x008
#define _PAGE_UFFD_WP		0x010	/* present pte: userfaultfd write-protected */
#define _PAGE_SWP_UFFD_WP	0x020	/* swap pte:    userfaultfd write-protected */
#define _PAGE_DEVMAP		0x040	/* pud/pmd leaf of a ZONE_DEVICE (DAX) pfn, x86 v4.5-v6.14 */
#define SWP_TYPE_SHIFT		8
#define SWP_TYPE_MASK		0x300
#define SWP_TYPE_SWAP		1	/* a genuine swap entry */
#define SWP_PTE_MARKER		2	/* a pte marker (non_swap_entry) */
#define PTE_MARKER_UFFD_WP	1	/* marker bits live in the offset field */

/* the vma's page protection, as vm_page_prot would give it */
#define PAGE_READONLY		(_PAGE_PRESENT)
#define PAGE_SHARED		(_PAGE_PRESENT | _PAGE_RW)

/* ------------------------------------------------------------ struct page */
/* page->flags bits (bit numbers, for set_bit/test_bit/wait_on_bit) */
#define PG_locked		0
#define PG_uptodate		1
#define PG_dirty		2
#define PG_swapcache		3
#define PG_anon			4	/* stands for PageAnon(): mapping & PAGE_MAPPING_ANON */
#define PG_head			5	/* compound (THP) head */
#define PG_waiters		6
#define PG_zone_device		7	/* stands for is_zone_device_page(): DAX/devmap pfns */
#define PG_swapbacked		8	/* anon page backed by swap; clear = MADV_FREE'd (lazyfree) */

/*
 * include/linux/wait.h, completion.h: what wait_event()/wake_up() and
 * wait_for_completion()/complete() work on (the first cell is the count the
 * built-ins use, docs/language.md)
 */
typedef struct wait_queue_head {
	long seq;
} wait_queue_head_t;
struct completion {
	unsigned int done;
};

/* include/linux/types.h: what call_rcu() queues (the callback thread keeps the queue) */
struct rcu_head {
	struct rcu_head *next;
};

/* Exactly 8 cells: a page frame and its struct page are one object. */
struct page {
	unsigned long flags;
	atomic_t _refcount;
	atomic_t _mapcount;		/* -1: not mapped (init blocks must say so) */
	unsigned long private;		/* swap entry while PG_swapcache */
	unsigned long index;		/* page-cache index */
	struct address_space *mapping;
	unsigned long data;		/* the page's contents, for races that write */
	unsigned long pad;
};

struct address_space {
	struct page *pages[4];		/* the page cache (xarray), by index */
	struct rw_semaphore i_mmap_rwsem;	/* the file rmap (i_mmap tree) */
};

/* --------------------------------------------------------- mm and vma */
/* the system's swap device: swap cache and swap_map counts, by offset */
#define SWP_SYNCHRONOUS_IO	0x1	/* si->flags: zram-like, swap-in may skip the swap cache */
#define SWAP_HAS_CACHE_BIT	6
#define SWAP_HAS_CACHE		0x40	/* swap_map[]: the slot has (or is getting) a swap-cache page */
#define SWAPCACHE_WQ_BIT	0	/* si->swapcache_wq: a task sleeps until a swapcache pin goes */
struct swap_info_struct {
	unsigned long flags;		/* SWP_SYNCHRONOUS_IO */
	spinlock_t lock;		/* si->lock / the cluster lock around swap_map[] */
	unsigned long swapcache_wq;	/* v6.12 swapcache_wq, see swapcache_wait() */
	unsigned long data[4];		/* the device: what each slot holds */
	atomic_t swap_map[4];		/* references to each slot, | SWAP_HAS_CACHE */
	struct page *cache[4];		/* swap cache (swapper_spaces xarray), last: an
					 * offset past the device's slots reads past the
					 * object, as swapper_spaces[type][offset >> 14]
					 * reads past its allocation */
};

/* the userfaultfd context the monitor registered (see userfaultfd.h) */
struct userfaultfd_ctx {
	int wp_armed;		/* monitor wr-protected the range (never unprotects here) */
	int trapped;		/* a write fault was delivered to the monitor */
	int write_landed;	/* unused (was the D invariant's ghost; see uffd_user.h) */
};

struct task_struct {
	int fatal_signal;	/* SIGKILL pending: fatal_signal_pending(current) */
};

struct mm_struct {
	pud_t *pgd;			/* folded pgd/p4d: the PUD table */
	struct rw_semaphore mmap_lock;
	spinlock_t page_table_lock;	/* protects pud and pmd entries */
	struct vm_area_struct *mmap;	/* the one vma (find_vma) */
	struct swap_info_struct *swap;	/* swap_info[0] */
	struct task_struct *owner;	/* the faulting task ("current") */
};

#define VM_READ		0x0001
#define VM_WRITE	0x0002
#define VM_SHARED	0x0008
#define VM_MAYSHARE	0x0080
#define VM_HUGEPAGE	0x1000		/* THP / huge_fault enabled for this vma */
#define VM_UFFD_WP	0x2000
#define VM_ANON		0x4000		/* stands for vma_is_anonymous(): !vma->vm_ops */

/*
 * struct anon_vma (include/linux/rmap.h): the rmap root of anonymous pages.
 * The interval tree of anon_vma_chains is reduced to the one vma it links
 * (NULL once unlink_anon_vmas() ran); rmap walks hold rwsem for read.
 */
struct anon_vma {
	struct rw_semaphore rwsem;
	struct vm_area_struct *vma;
};

struct vm_area_struct {
	unsigned long vm_start;
	unsigned long vm_end;
	unsigned long vm_flags;
	struct mm_struct *vm_mm;
	unsigned long vm_page_prot;
	unsigned long vm_pgoff;
	struct address_space *vm_mapping;	/* vma->vm_file->f_mapping */
	unsigned long vm_sequence;		/* SPF: seqcount, odd while changing */
	struct userfaultfd_ctx *vm_userfaultfd_ctx;
	struct anon_vma *anon_vma;		/* set at the first anonymous fault */
};

#define vma_is_anonymous(vma)	((vma)->vm_flags & VM_ANON)
#define is_cow_mapping(flags)	(((flags) & (VM_SHARED | VM_MAYSHARE)) == 0)
#define linear_page_index(vma, addr) ((addr) - (vma)->vm_start + (vma)->vm_pgoff)

/*
 * struct vm_fault.  On the faulting task's stack, as in the kernel
 * (__handle_mm_fault(), handle_speculative_fault()): a stack-frame object,
 * so accesses to it are not scheduling points.
 */
struct vm_fault {
	struct vm_area_struct *vma;
	unsigned long address;
	unsigned int flags;
	unsigned long pgoff;
	pud_t *pud;
	pmd_t *pmd;
	pmd_t orig_pmd;
	pte_t *pte;
	pte_t orig_pte;
	spinlock_t *ptl;
	struct page *page;
	struct page *cow_page;
	pte_t *prealloc_pte;		/* fault-around: preallocated pte table */
	unsigned long sequence;		/* SPF: vma->vm_sequence at fault start */
};

/* fault flags (include/linux/mm_types.h) */
#define FAULT_FLAG_WRITE		0x001
#define FAULT_FLAG_ALLOW_RETRY		0x004
#define FAULT_FLAG_RETRY_NOWAIT		0x008
#define FAULT_FLAG_KILLABLE		0x010
#define FAULT_FLAG_TRIED		0x020
#define FAULT_FLAG_USER			0x040
#define FAULT_FLAG_ORIG_PTE_VALID	0x800
#define FAULT_FLAG_SPECULATIVE		0x1000

/* fault return codes (include/linux/mm_types.h) */
#define VM_FAULT_OOM		0x000001
#define VM_FAULT_SIGBUS		0x000002
#define VM_FAULT_MAJOR		0x000004
#define VM_FAULT_SIGSEGV	0x000040
#define VM_FAULT_NOPAGE		0x000100
#define VM_FAULT_LOCKED		0x000200
#define VM_FAULT_RETRY		0x000400
#define VM_FAULT_FALLBACK	0x000800
#define VM_FAULT_UFFD_TRAP	0x100000	/* model only: handle_userfault() delivered */
#define VM_FAULT_ERROR		(VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV)

/* ------------------------------------------------- pud predicates/walkers */
static int pud_none(pud_t pud)		{ return pud == 0; }
static int pud_present(pud_t pud)	{ return (pud & _PAGE_PRESENT) != 0; }
/*
 * x86 (v4.5-v6.14): a devmap (DAX) huge pud/pmd is PSE|DEVMAP and is *not*
 * pXd_trans_huge(); code of that era tests pXd_trans_huge() || pXd_devmap().
 */
static int pud_trans_huge(pud_t pud)
{
	return (pud & (_PAGE_PRESENT | _PAGE_PSE | _PAGE_DEVMAP)) == (_PAGE_PRESENT | _PAGE_PSE);
}
static int pud_devmap(pud_t pud)	{ return (pud & (_PAGE_PRESENT | _PAGE_DEVMAP)) == (_PAGE_PRESENT | _PAGE_DEVMAP); }
static int pud_leaf(pud_t pud)		{ return (pud & (_PAGE_PRESENT | _PAGE_PSE)) == (_PAGE_PRESENT | _PAGE_PSE); }
static int pud_write(pud_t pud)		{ return (pud & _PAGE_RW) != 0; }
static unsigned long pud_pfn(pud_t pud)	{ return pud >> ENTRY_PFN_SHIFT; }
static pmd_t *pud_pgtable(pud_t pud)	{ return (pmd_t *)pfn_to_virt(pud_pfn(pud)); }

/*
 * pud_trans_unstable() — as added by "mm: Fix a huge pud insertion race
 * during faulting" (v5.5, include/asm-generic/pgtable.h): one read of *pud;
 * pud_bad()/pud_clear_bad() is not modelled (no bad entries here).
 * PUD_TRANS_UNSTABLE_NO_DEVMAP (mutation): without the pud_devmap() term.
 */
static int pud_trans_unstable(pud_t *pud)
{
	pud_t pudval = READ_ONCE(*pud);

#ifdef PUD_TRANS_UNSTABLE_NO_DEVMAP
	return pud_none(pudval) || pud_trans_huge(pudval);
#else
	return pud_none(pudval) || pud_trans_huge(pudval) || pud_devmap(pudval);
#endif
}

/*
 * mm->pgd is set at fork and never changes; a race may name its top-level
 * table (#define MM_PGD pud_page0, the init block's mm.pgd) so that
 * pgd_offset() is address arithmetic, not a read (a scheduling point).
 */
#ifdef MM_PGD
#define mm_pgd(mm)	(&MM_PGD[0])
#else
#define mm_pgd(mm)	READ_ONCE((mm)->pgd)
#endif

static pud_t *pud_offset(struct mm_struct *mm, unsigned long address)
{
	/* pgd_offset() + p4d_offset(), both folded */
	return mm_pgd(mm) + pud_index(address);
}

/* ------------------------------------------------- pmd predicates/walkers */
static int pmd_none(pmd_t pmd)		{ return pmd == 0; }
static int pmd_present(pmd_t pmd)	{ return (pmd & _PAGE_PRESENT) != 0; }
static int pmd_trans_huge(pmd_t pmd)
{
	return (pmd & (_PAGE_PRESENT | _PAGE_PSE | _PAGE_DEVMAP)) == (_PAGE_PRESENT | _PAGE_PSE);
}
static int pmd_devmap(pmd_t pmd)	{ return (pmd & (_PAGE_PRESENT | _PAGE_DEVMAP)) == (_PAGE_PRESENT | _PAGE_DEVMAP); }
static int pmd_leaf(pmd_t pmd)		{ return (pmd & (_PAGE_PRESENT | _PAGE_PSE)) == (_PAGE_PRESENT | _PAGE_PSE); }
static int pmd_same(pmd_t a, pmd_t b)	{ return a == b; }
static unsigned long pmd_pfn(pmd_t pmd)	{ return pmd >> ENTRY_PFN_SHIFT; }
static pte_t *pmd_pgtable(pmd_t pmd)	{ return (pte_t *)pfn_to_virt(pmd_pfn(pmd)); }

static int pmd_trans_unstable(pmd_t *pmd)
{
	pmd_t pmdval = READ_ONCE(*pmd);

	return pmd_none(pmdval) || pmd_trans_huge(pmdval);
}

/* pmd_offset(pud, addr): pointer arithmetic on the frame the pud names */
static pmd_t *pmd_offset(pud_t *pud, unsigned long address)
{
	return pud_pgtable(READ_ONCE(*pud)) + pmd_index(address);
}

/* --------------------------------------------------- pte predicates etc */
static int pte_none(pte_t pte)		{ return pte == 0; }
static int pte_present(pte_t pte)	{ return (pte & _PAGE_PRESENT) != 0; }
static int pte_same(pte_t a, pte_t b)	{ return a == b; }
static int pte_write(pte_t pte)		{ return (pte & _PAGE_RW) != 0; }
static int pte_dirty(pte_t pte)		{ return (pte & _PAGE_DIRTY) != 0; }
static unsigned long pte_pfn(pte_t pte)	{ return pte >> ENTRY_PFN_SHIFT; }
static struct page *pte_page(pte_t pte)	{ return (struct page *)pfn_to_virt(pte_pfn(pte)); }
static struct page *pmd_page(pmd_t pmd)	{ return (struct page *)pfn_to_virt(pmd_pfn(pmd)); }
static struct page *pud_page(pud_t pud)	{ return (struct page *)pfn_to_virt(pud_pfn(pud)); }

static pte_t mk_pte(struct page *page, unsigned long prot)
{
	return (virt_to_pfn(page) << ENTRY_PFN_SHIFT) | prot;
}
static pmd_t mk_huge_pmd(struct page *page, unsigned long prot)
{
	return (virt_to_pfn(page) << ENTRY_PFN_SHIFT) | prot | _PAGE_PSE;
}
static pud_t mk_huge_pud(struct page *page, unsigned long prot)
{
	return (virt_to_pfn(page) << ENTRY_PFN_SHIFT) | prot | _PAGE_PSE;
}
/* table entries, also usable in init blocks */
#define __pud_table(pmd_table)	((((unsigned long)(pmd_table)) & ~ENTRY_FLAGS_MASK) | _PAGE_PRESENT)
#define __pmd_table(pte_table)	((((unsigned long)(pte_table)) & ~ENTRY_FLAGS_MASK) | _PAGE_PRESENT)
#define __pte_page(page, prot)	((((unsigned long)(page)) & ~ENTRY_FLAGS_MASK) | (prot))
#define __pud_huge(page, prot)	((((unsigned long)(page)) & ~ENTRY_FLAGS_MASK) | (prot) | _PAGE_PSE)
#define __pmd_huge(page, prot)	((((unsigned long)(page)) & ~ENTRY_FLAGS_MASK) | (prot) | _PAGE_PSE)

static pte_t pte_mkwrite(pte_t pte)	{ return pte | _PAGE_RW; }
static pte_t pte_mkdirty(pte_t pte)	{ return pte | _PAGE_DIRTY; }
static pte_t pte_wrprotect(pte_t pte)	{ return pte & ~_PAGE_RW; }
static int pte_uffd_wp(pte_t pte)	{ return (pte & _PAGE_UFFD_WP) != 0; }
/* x86: pte_mkuffd_wp() also write-protects */
static pte_t pte_mkuffd_wp(pte_t pte)	{ return pte_wrprotect(pte | _PAGE_UFFD_WP); }
static pte_t pte_clear_uffd_wp(pte_t pte) { return pte & ~_PAGE_UFFD_WP; }

/* ------------------------------------- swap entries and pte markers */
static int is_swap_pte(pte_t pte)	{ return !pte_none(pte) && !pte_present(pte); }
static unsigned long swp_type(pte_t pte) { return (pte & SWP_TYPE_MASK) >> SWP_TYPE_SHIFT; }
static unsigned long swp_offset(pte_t pte) { return pte >> ENTRY_PFN_SHIFT; }
static unsigned long pte_to_swp_entry(pte_t pte) { return pte & ~_PAGE_SWP_UFFD_WP; }
static pte_t swp_entry_to_pte(unsigned long entry) { return entry; }
static unsigned long swp_entry(unsigned long type, unsigned long offset)
{
	return (offset << ENTRY_PFN_SHIFT) | (type << SWP_TYPE_SHIFT);
}
static int non_swap_entry(unsigned long entry) { return swp_type(entry) != SWP_TYPE_SWAP; }
static int pte_swp_uffd_wp(pte_t pte)	{ return (pte & _PAGE_SWP_UFFD_WP) != 0; }
/*
 * Migration entries (include/linux/swapops.h): a non_swap_entry() whose
 * offset is the pfn of the page being migrated (or frozen by
 * split_huge_page()), writable or not.
 */
#define SWP_MIGRATION		3
#define SWP_MIGRATION_WRITE	0x004
static pte_t make_migration_entry(struct page *page, int write)
{
	return (((unsigned long)page) & ~ENTRY_FLAGS_MASK) | (SWP_MIGRATION << SWP_TYPE_SHIFT) | (write ? SWP_MIGRATION_WRITE : 0);
}
static int is_migration_entry(pte_t pte)	{ return is_swap_pte(pte) && swp_type(pte) == SWP_MIGRATION; }
static struct page *migration_entry_to_page(pte_t pte) { return (struct page *)pfn_to_virt(swp_offset(pte)); }
static pte_t pte_swp_mkuffd_wp(pte_t pte) { return pte | _PAGE_SWP_UFFD_WP; }

static int is_pte_marker(pte_t pte)
{
	return is_swap_pte(pte) && swp_type(pte) == SWP_PTE_MARKER;
}
static unsigned long pte_marker_get(pte_t pte) { return swp_offset(pte); }
static pte_t make_pte_marker(unsigned long marker)
{
	return swp_entry(SWP_PTE_MARKER, marker);
}
static int pte_marker_uffd_wp(pte_t pte)
{
	return is_pte_marker(pte) && (pte_marker_get(pte) & PTE_MARKER_UFFD_WP);
}
/* include/linux/userfaultfd_k.h: pte_swp_uffd_wp_any() */
static int pte_swp_uffd_wp_any(pte_t pte)
{
	if (!is_swap_pte(pte))
		return false;
	if (pte_swp_uffd_wp(pte))
		return true;
	if (pte_marker_uffd_wp(pte))
		return true;
	return false;
}
/* pte_none_mostly(): none or a marker (the fault path treats both as "missing") */
static int pte_none_mostly(pte_t pte)	{ return pte_none(pte) || is_pte_marker(pte); }
#define __swp_pte(offset, uffd_wp) ((((unsigned long)(offset)) << ENTRY_PFN_SHIFT) | (SWP_TYPE_SWAP << SWP_TYPE_SHIFT) | ((uffd_wp) ? _PAGE_SWP_UFFD_WP : 0))
#define __marker_pte(m)		((((unsigned long)(m)) << ENTRY_PFN_SHIFT) | (SWP_PTE_MARKER << SWP_TYPE_SHIFT))

/* ----------------------------------------------------- split pte locks */
/*
 * pte_lockptr(mm, pmd): ptlock_ptr(page_ptdesc(pmd_page(*pmd))).  Reads
 * *pmd (as the kernel does) and then the table's ptlock pointer.
 */
static spinlock_t *pte_lockptr(struct mm_struct *mm, pmd_t *pmd)
{
	pte_t *table = pmd_pgtable(READ_ONCE(*pmd));

	return (spinlock_t *)READ_ONCE(table[PTE_PTLOCK_SLOT]);
}
/* same, from a pmd value already read and checked (SPF pte_spinlock) */
static spinlock_t *pte_lockptr_val(pmd_t pmdval)
{
	pte_t *table = pmd_pgtable(pmdval);

	return (spinlock_t *)READ_ONCE(table[PTE_PTLOCK_SLOT]);
}

#ifdef USE_SPLIT_PMD_PTLOCKS
/*
 * Split pmd ptlocks (x86-64 and the other arches with PMD-level THP,
 * USE_SPLIT_PMD_PTLOCKS): each pmd table has its own spinlock, found through
 * the table page (pmd_ptdesc(pmd)->ptl), as pte tables do.  Cell
 * PMD_PTLOCK_SLOT of a pmd table page holds it: an init-block pmd table must
 * set it, pmd_alloc_one() allocates it.
 */
#define PMD_PTLOCK_SLOT	7
static spinlock_t *pmd_lockptr(struct mm_struct *mm, pmd_t *pmd)
{
	pmd_t *table = (pmd_t *)(((unsigned long)pmd) & ~ENTRY_FLAGS_MASK);	/* pmd_pgtable_page() */

	return (spinlock_t *)READ_ONCE(table[PMD_PTLOCK_SLOT]);
}
#else
static spinlock_t *pmd_lockptr(struct mm_struct *mm, pmd_t *pmd)
{
	return &mm->page_table_lock;
}
#endif
static spinlock_t *pmd_lock(struct mm_struct *mm, pmd_t *pmd)
{
	spinlock_t *ptl = pmd_lockptr(mm, pmd);

	spin_lock(ptl);
	return ptl;
}
static spinlock_t *pud_lockptr(struct mm_struct *mm, pud_t *pud)
{
	return &mm->page_table_lock;
}
static spinlock_t *pud_lock(struct mm_struct *mm, pud_t *pud)
{
	spinlock_t *ptl = pud_lockptr(mm, pud);

	spin_lock(ptl);
	return ptl;
}

#ifdef PTE_OFFSET_MAP_V65
/*
 * The v6.5+ contract (Hugh Dickins, "mm: pte_offset_map() and
 * pte_offset_map_lock() may fail" series): __pte_offset_map() runs under
 * rcu_read_lock() until pte_unmap(), and fails (NULL) when the pmd is none
 * or huge; pte_offset_map_lock() re-checks pmd_same() under the ptl and
 * retries.  A pte table may then be freed after an RCU grace period
 * (pte_free_defer()) while walkers hold no mmap_lock.  Only code written for
 * this contract may be built with it (it must handle NULL): zap.h is.
 */
static pte_t *__pte_offset_map(pmd_t *pmd, unsigned long address, pmd_t *pmdvalp)
{
	pmd_t pmdval;

	rcu_read_lock();
	pmdval = READ_ONCE(*pmd);
	if (pmdvalp)
		*pmdvalp = pmdval;
	if (pmd_none(pmdval) || pmd_leaf(pmdval)) {	/* pmd_bad(): not modelled */
		rcu_read_unlock();
		return NULL;
	}
	return pmd_pgtable(pmdval) + pte_index(address);
}
static pte_t *pte_offset_map(pmd_t *pmd, unsigned long address)
{
	return __pte_offset_map(pmd, address, NULL);
}
static void pte_unmap(pte_t *pte)		{ rcu_read_unlock(); }
#else
/* pte_offset_map(): no highmem, so just arithmetic on *pmd (before v6.5) */
static pte_t *pte_offset_map(pmd_t *pmd, unsigned long address)
{
	return pmd_pgtable(READ_ONCE(*pmd)) + pte_index(address);
}
static void pte_unmap(pte_t *pte) { }
#endif

/*
 * pte_offset_map_lock(): the v4.x macro (include/linux/mm.h, 2016-2022):
 *	spinlock_t *__ptl = pte_lockptr(mm, pmd);
 *	pte_t *__pte = pte_offset_map(pmd, address);
 *	*(ptlp) = __ptl; spin_lock(__ptl); __pte;
 * i.e. no re-validation of *pmd: callers must know the pmd is a stable
 * table (pmd_trans_unstable() etc.).  Since v6.5 (Hugh Dickins' pte_offset_map
 * series) it re-checks pmd_same() and may return NULL; the races here follow
 * the older contract on purpose.
 */
static pte_t *pte_offset_map_lock(struct mm_struct *mm, pmd_t *pmd,
				  unsigned long address, spinlock_t **ptlp)
{
#ifdef PTE_OFFSET_MAP_V65
	/* mm/pgtable-generic.c v6.5: __pte_offset_map_lock() */
	spinlock_t *ptl;
	pmd_t pmdval;
	pte_t *pte;
again:
	pte = __pte_offset_map(pmd, address, &pmdval);
	if (unlikely(!pte))
		return pte;
	ptl = pte_lockptr_val(pmdval);		/* pte_lockptr(mm, &pmdval) */
	spin_lock(ptl);
	if (likely(pmd_same(pmdval, READ_ONCE(*pmd)))) {
		*ptlp = ptl;
		return pte;
	}
	pte_unmap_unlock(pte, ptl);
	goto again;
#else
	spinlock_t *ptl = pte_lockptr(mm, pmd);
	pte_t *pte = pte_offset_map(pmd, address);

	*ptlp = ptl;
	spin_lock(ptl);
	return pte;
#endif
}
static void pte_unmap_unlock(pte_t *pte, spinlock_t *ptl)
{
	spin_unlock(ptl);
	pte_unmap(pte);
}

/* ---------------------------------------------------- table allocation */
/* pte_alloc_one(): a table page plus its split ptlock (ptlock_alloc()) */
static pte_t *pte_alloc_one(struct mm_struct *mm)
{
	pte_t *table = alloc_page(pte_t);
	spinlock_t *ptl = kzalloc(1);

	table[PTE_PTLOCK_SLOT] = (pte_t)ptl;
	return table;
}
static void pte_free(struct mm_struct *mm, pte_t *table)
{
	kfree((spinlock_t *)table[PTE_PTLOCK_SLOT]);	/* ptlock_free() */
	free_page(table);
}
static pmd_t *pmd_alloc_one(struct mm_struct *mm, unsigned long address)
{
	pmd_t *table = alloc_page(pmd_t);
#ifdef USE_SPLIT_PMD_PTLOCKS
	table[PMD_PTLOCK_SLOT] = (pmd_t)kzalloc(1);	/* pagetable_pmd_ctor() */
#endif
	return table;
}
static void pmd_free(struct mm_struct *mm, pmd_t *table)
{
#ifdef USE_SPLIT_PMD_PTLOCKS
	kfree((spinlock_t *)table[PMD_PTLOCK_SLOT]);	/* pagetable_pmd_dtor() */
#endif
	free_page(table);
}

static void pmd_populate(struct mm_struct *mm, pmd_t *pmd, pte_t *table)
{
	WRITE_ONCE(*pmd, __pmd_table(table));
}
static void pud_populate(struct mm_struct *mm, pud_t *pud, pmd_t *table)
{
	WRITE_ONCE(*pud, __pud_table(table));
}

/*
 * pmd_install() — mm/memory.c v5.16+.  The kernel passes `pgtable_t *pte`
 * and NULLs it when consumed; without address-of locals the model returns
 * 1 when the table was installed (consumed), 0 when another thread won.
 */
static int pmd_install(struct mm_struct *mm, pmd_t *pmd, pte_t *new)
{
	int consumed = 0;
	spinlock_t *ptl = pmd_lock(mm, pmd);

	if (likely(pmd_none(READ_ONCE(*pmd)))) {	/* Has another populated it ? */
		smp_wmb(); /* Could be smp_wmb__xxx(before|after)_spin_lock */
		pmd_populate(mm, pmd, new);
		consumed = 1;
	}
	spin_unlock(ptl);
	return consumed;
}

/* __pte_alloc() — mm/memory.c v5.16+ */
static int __pte_alloc(struct mm_struct *mm, pmd_t *pmd)
{
	pte_t *new = pte_alloc_one(mm);

	if (!new)
		return -ENOMEM;
	if (!pmd_install(mm, pmd, new))
		pte_free(mm, new);
	return 0;
}
#define pte_alloc(mm, pmd) (unlikely(pmd_none(READ_ONCE(*(pmd)))) && __pte_alloc(mm, pmd))

/* __pmd_alloc() — mm/memory.c v6.x */
static int __pmd_alloc(struct mm_struct *mm, pud_t *pud, unsigned long address)
{
	spinlock_t *ptl;
	pmd_t *new = pmd_alloc_one(mm, address);

	if (!new)
		return -ENOMEM;

	ptl = pud_lock(mm, pud);
	if (!pud_present(READ_ONCE(*pud))) {
		smp_wmb(); /* See comment in pmd_install() */
		pud_populate(mm, pud, new);
	} else {	/* Another has populated it */
		pmd_free(mm, new);
	}
	spin_unlock(ptl);
	return 0;
}

/* pmd_alloc() — include/linux/mm.h: note the second read of *pud in pmd_offset() */
static pmd_t *pmd_alloc(struct mm_struct *mm, pud_t *pud, unsigned long address)
{
	if (unlikely(pud_none(READ_ONCE(*pud))) && __pmd_alloc(mm, pud, address))
		return NULL;
	return pmd_offset(pud, address);
}

/* --------------------------------------------------------- fair waiting */
/*
 * A kernel loop that sleeps and retries (schedule_timeout(), cond_resched()
 * + goto again, wait_event()) makes progress only once another CPU changed
 * what it polls.  Write it so that the waiter takes no steps until then:
 * wait_event(wq, cond) with the waker's wake_up(&wq) where the kernel sleeps
 * on a wait queue (a condition set without a wake_up() is then a deadlock, as
 * in the kernel); smp_cond_load_acquire(p, cond) for a spin on one location
 * (it sleeps until *p changes); or block on a bit the awaited CPU clears
 * (wait_on_bit()).  The explorer then does not run schedules in which the
 * poller spins forever while that CPU never runs — a fair scheduler has none;
 * the executions left out only repeat the poll.  A loop that can spin while
 * nobody else makes progress (a real livelock) must not be written this way:
 * keep its retry visible.
 */

/* ------------------------------------------------------------ mmap_lock */
static void mmap_read_lock(struct mm_struct *mm)	{ down_read(&mm->mmap_lock); }
static void mmap_read_unlock(struct mm_struct *mm)	{ up_read(&mm->mmap_lock); }
static int mmap_read_trylock(struct mm_struct *mm)	{ return down_read_trylock(&mm->mmap_lock); }
static void mmap_write_lock(struct mm_struct *mm)	{ down_write(&mm->mmap_lock); }
static void mmap_write_unlock(struct mm_struct *mm)	{ up_write(&mm->mmap_lock); }

/* find_vma(): the model mm has at most one vma */
static struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr)
{
	struct vm_area_struct *vma = READ_ONCE(mm->mmap);

	if (vma && addr < vma->vm_end)
		return vma;
	return NULL;
}

/* ------------------------------------------------------- page lock, refs */
static void lock_page(struct page *page)	{ wait_on_bit_lock(PG_locked, &page->flags); }
static int trylock_page(struct page *page)	{ return !test_and_set_bit(PG_locked, &page->flags); }
static void unlock_page(struct page *page)	{ clear_bit(PG_locked, &page->flags); }
static void wait_on_page_locked(struct page *page) { wait_on_bit(PG_locked, &page->flags); }
static int PageLocked(struct page *page)	{ return test_bit(PG_locked, &page->flags); }
static int PageUptodate(struct page *page)	{ return test_bit(PG_uptodate, &page->flags); }
static int PageSwapCache(struct page *page)	{ return test_bit(PG_swapcache, &page->flags); }
static int PageAnon(struct page *page)		{ return test_bit(PG_anon, &page->flags); }
static int PageSwapBacked(struct page *page)	{ return test_bit(PG_swapbacked, &page->flags); }
static int PageDirty(struct page *page)		{ return test_bit(PG_dirty, &page->flags); }
static int PageTransCompound(struct page *page)	{ return test_bit(PG_head, &page->flags); }
static int is_zone_device_page(struct page *page) { return test_bit(PG_zone_device, &page->flags); }

/*
 * A struct page outlives its frame.  The kernel's struct pages are the
 * memmap: freeing a page returns the frame to the buddy allocator, the
 * struct page stays, with refcount 0, so a speculative folio_try_get()
 * (get_page_unless_zero()) on a page freed under it fails instead of
 * faulting.  The model's page frame and struct page are one object, so
 * the last put does not free it: __free_page_frame() marks it PG_buddy and
 * keeps it reachable from memmap_free[] (the leak check would count it
 * otherwise).  get_page() on a free page is the kernel's VM_BUG_ON.  Not
 * modelled: reuse of the frame, and a stale access to a freed page's
 * contents (page->data) is not a violation.
 */
#define PG_buddy		9	/* the frame is free (PageBuddy()) */
#define MEMMAP_FREE_MAX		8
struct page *memmap_free[MEMMAP_FREE_MAX];
int memmap_free_nr;

static void __free_page_frame(struct page *page)
{
	int i = atomic_inc_return((atomic_t *)&memmap_free_nr) - 1;

	set_bit(PG_buddy, &page->flags);
	WRITE_ONCE(memmap_free[i], page);
}

static void get_page(struct page *page)
{
	VM_BUG_ON(atomic_inc_return(&page->_refcount) <= 1);	/* VM_BUG_ON_PAGE(page_ref_zero_or_close_to_overflow()) */
}
/* folio_try_get(): a speculative reference, refused on a freed page */
static int get_page_unless_zero(struct page *page)
{
	return atomic_inc_not_zero(&page->_refcount);
}
/* put_page(): the last reference frees the frame */
static void put_page(struct page *page)
{
	if (atomic_dec_and_test(&page->_refcount))
		__free_page_frame(page);
}
static int page_count(struct page *page)	{ return atomic_read(&page->_refcount); }
static int page_mapcount(struct page *page)	{ return atomic_read(&page->_mapcount) + 1; }

/* rmap: just the mapcount */
static void page_add_file_rmap(struct page *page) { atomic_inc(&page->_mapcount); }
static void page_add_anon_rmap(struct page *page) { atomic_inc(&page->_mapcount); }
static void page_remove_rmap(struct page *page)	{ atomic_dec(&page->_mapcount); }

#ifdef CONFIG_DEBUG_VM
/*
 * The anon rmap's address side (mm/rmap.c): folio->mapping names the
 * anon_vma (| PAGE_MAPPING_ANON), folio->index the page's offset in it, from
 * which every rmap walk computes the address (vma_address()).  The kernel
 * always sets them (folio_add_new_anon_rmap() -> __folio_set_anon(),
 * folio_move_anon_rmap()); the model records them only with CONFIG_DEBUG_VM,
 * where __page_check_anon_rmap() reads them (nothing else in the model does).
 */
static void __folio_set_anon(struct page *page, struct vm_area_struct *vma, unsigned long address)
{
	WRITE_ONCE(page->mapping, (struct address_space *)vma->anon_vma);
	WRITE_ONCE(page->index, linear_page_index(vma, address));
}
static struct anon_vma *folio_anon_vma(struct page *page)
{
	return (struct anon_vma *)READ_ONCE(page->mapping);
}
/*
 * __page_check_anon_rmap() — mm/rmap.c v6.16, called by
 * folio_add_anon_rmap_ptes() for a page that already has its anon rmap:
 * "The page's anon-rmap details (mapping and index) are guaranteed to be
 * set up correctly at this point."  (anon_vma->root reduced to the anon_vma.)
 */
static void __page_check_anon_rmap(struct page *page, struct vm_area_struct *vma, unsigned long address)
{
	VM_BUG_ON(folio_anon_vma(page) != vma->anon_vma);			/* VM_BUG_ON_FOLIO */
	VM_BUG_ON(READ_ONCE(page->index) != linear_page_index(vma, address));	/* VM_BUG_ON_PAGE(page_pgoff() != ...) */
}
#endif

#ifdef CONFIG_X86_PAE
/*
 * 32-bit PAE: a pte is two 32-bit words, pte_low (flags, swap type) and
 * pte_high (the frame / swap offset); native_set_pte() writes pte_high,
 * smp_wmb(), then pte_low, and a plain `*pte` read is two loads.  The model
 * keeps one cell per pte and writes it in those two steps (the ptl holder
 * is the only writer, so the intermediate value is exactly what a lockless
 * reader can assemble): a torn read sees the new high half with the old low
 * half — the "mix of unmatched parts" pte_unmap_same() exists for.
 */
#define PTE_LOW_MASK	ENTRY_FLAGS_MASK
static void set_pte_at(struct mm_struct *mm, unsigned long addr, pte_t *ptep, pte_t pte)
{
	WRITE_ONCE(*ptep, (READ_ONCE(*ptep) & PTE_LOW_MASK) | (pte & ~PTE_LOW_MASK));	/* pte_high */
	smp_wmb();
	WRITE_ONCE(*ptep, pte);							/* pte_low */
}
#else
static void set_pte_at(struct mm_struct *mm, unsigned long addr, pte_t *ptep, pte_t pte)
{
	WRITE_ONCE(*ptep, pte);
}
#endif
static pte_t ptep_get(pte_t *ptep)		{ return READ_ONCE(*ptep); }
static pte_t ptep_get_and_clear(struct mm_struct *mm, unsigned long addr, pte_t *ptep)
{
	return xchg(ptep, 0);
}
static void pte_clear(struct mm_struct *mm, unsigned long addr, pte_t *ptep)
{
	WRITE_ONCE(*ptep, 0);
}

/*
 * flush_tlb_range() — the TLB flush of a user range.  By default every other
 * CPU's IPI (tlb_shootdown()), as if every flush flushed every address;
 * tlb.h replaces it for races where a CPU's stale entry for one address
 * matters.
 */
__weak static void flush_tlb_range(struct vm_area_struct *vma, unsigned long start, unsigned long end)
{
	tlb_shootdown();
}

/* ------------------------------------------------ the MMU, for user threads */
/* the hardware page-table walk a user access does: the pte, or 0 */
static pte_t hw_walk(struct mm_struct *mm, unsigned long addr)
{
	pud_t pud = READ_ONCE(*pud_offset(mm, addr));
	pmd_t pmd;

	if (!pud_present(pud) || pud_leaf(pud))
		return 0;
	pmd = READ_ONCE(*(pud_pgtable(pud) + pmd_index(addr)));
	if (!pmd_present(pmd) || pmd_leaf(pmd))
		return 0;
	return READ_ONCE(*(pmd_pgtable(pmd) + pte_index(addr)));
}
/* does a user read of @addr succeed without a fault? */
static int hw_mapped(struct mm_struct *mm, unsigned long addr)
{
	pud_t pud = READ_ONCE(*pud_offset(mm, addr));
	pmd_t pmd;

	if (pud_leaf(pud))
		return true;
	if (!pud_present(pud))
		return false;
	pmd = READ_ONCE(*(pud_pgtable(pud) + pmd_index(addr)));
	if (pmd_leaf(pmd))
		return true;
	if (!pmd_present(pmd))
		return false;
	return pte_present(READ_ONCE(*(pmd_pgtable(pmd) + pte_index(addr))));
}

/* ------------------------------------------------- helpers for final{} */
/* how many ptes of one pte table map @page (invariant/final blocks only) */
static int ptes_mapping(pte_t *table, struct page *page)
{
	int i;
	int n = 0;

	for (i = 0; i < PTRS_PER_PTE; i++)
		if (pte_present(table[i]) && pte_page(table[i]) == page)
			n++;
	return n;
}

/* ------------------------------------------ how entries read in a trace */
/*
 * Trace formatters (docs/language.md, "Trace formatters"): Faultline prints a
 * value of typedef T through __format_T(T v) when the model declares one; the
 * text is what its pr_cont() calls print (%p names the object a pointer
 * points at, %lu/%lx print numbers).  Nothing in the model calls these.
 */
static void fl_format_entry_flags(unsigned long e)
{
	pr_cont(" PRESENT");
	if (e & _PAGE_RW)
		pr_cont("|WRITE");
	if (e & _PAGE_DIRTY)
		pr_cont("|DIRTY");
	if (e & _PAGE_UFFD_WP)
		pr_cont("|UFFD_WP");
}
static void __format_pte_t(pte_t pte)
{
	if (pte_none(pte)) {
		pr_cont("none");
	} else if (pte_present(pte)) {
		pr_cont("pfn=%p", pte_page(pte));
		fl_format_entry_flags(pte);
	} else if (is_pte_marker(pte)) {
		pr_cont("marker");
		if (pte_marker_uffd_wp(pte))
			pr_cont("(UFFD_WP)");
	} else if (is_migration_entry(pte)) {
		pr_cont("migration(pfn=%p)", migration_entry_to_page(pte));
		if (pte & SWP_MIGRATION_WRITE)
			pr_cont(" WRITE");
	} else if (swp_type(pte) == SWP_TYPE_SWAP) {
		pr_cont("swap(type 0, off %lu)", swp_offset(pte));	/* one swap device */
		if (pte_swp_uffd_wp(pte))
			pr_cont(" SWP_UFFD_WP");
	} else {
		pr_cont("%p", pte);	/* not an entry: the table's ptlock slot */
	}
}
static void __format_pmd_t(pmd_t pmd)
{
	if (pmd_none(pmd)) {
		pr_cont("none");
	} else if (pmd_trans_huge(pmd)) {
		pr_cont("huge pfn=%p", pmd_page(pmd));
		fl_format_entry_flags(pmd);
	} else if (pmd_present(pmd)) {
		pr_cont("table %p", pmd_pgtable(pmd));
	} else {
		pr_cont("%lx", pmd);
	}
}
static void __format_pud_t(pud_t pud)
{
	if (pud_none(pud)) {
		pr_cont("none");
	} else if (pud_trans_huge(pud)) {
		pr_cont("huge pfn=%p", pud_page(pud));
		fl_format_entry_flags(pud);
	} else if (pud_present(pud)) {
		pr_cont("table %p", pud_pgtable(pud));
	} else {
		pr_cont("%lx", pud);
	}
}

#endif /* _FAULTLINE_MM_H */
