/*
 * rmap.h — reverse mapping of anonymous pages and reclaim's unmap of one
 * page: mm/rmap.c try_to_unmap_one() and rmap_walk_anon() in their v5.13
 * shape (try_to_unmap_one() loops over page_vma_mapped_walk(),
 * page_vma_mapped.h; ptep_clear_flush() flushes the TLB *under* the ptl; the
 * pte becomes a swap entry, or a migration entry for split_huge_page()'s
 * TTU_SPLIT_FREEZE; TTU_SYNC as 732ed55823fc adds it).  Unchanged in these
 * essentials from v4.17 (the SPF series' era, A1) to v6.x.
 *
 * Reduced: the anon_vma links one vma (anon_vma->vma) and the caller passes
 * the address (vma_address()); a swap-backed page is already in the swap
 * cache (add_to_swap() ran, vmscan.h), so page_private(page) is its swap
 * entry; a lazyfree (MADV_FREE, !PageSwapBacked) page is discarded if clean
 * and unpinned (v5.18, 6c8e2a256915; NO_LAZYFREE_REFCOUNT_CHECK is the v5.17
 * form that looks at the dirty flag only); no mmu notifiers, no mlock, no
 * batching of TLB flushes (TTU_BATCH_FLUSH is not modelled: the flush is
 * immediate, as without it), no huge pmd (TTU_SPLIT_HUGE_PMD is accepted and
 * has nothing to split).
 */
#ifndef _FAULTLINE_RMAP_H
#define _FAULTLINE_RMAP_H
#include "mm.h"
#include "userfaultfd.h"
#include "page_vma_mapped.h"

static void anon_vma_lock_read(struct anon_vma *av)	{ down_read(&av->rwsem); }
static void anon_vma_unlock_read(struct anon_vma *av)	{ up_read(&av->rwsem); }
static void anon_vma_lock_write(struct anon_vma *av)	{ down_write(&av->rwsem); }
static void anon_vma_unlock_write(struct anon_vma *av)	{ up_write(&av->rwsem); }

/* swap_duplicate(): one more pte refers to the slot */
static void swap_duplicate(struct swap_info_struct *si, unsigned long entry)
{
	atomic_inc(&si->swap_map[swp_offset(entry)]);
}

/* ptep_clear_flush() — mm/pgtable-generic.c: clear, then flush this page's TLB entry */
static pte_t ptep_clear_flush(struct vm_area_struct *vma, unsigned long address, pte_t *ptep)
{
	pte_t pte = ptep_get_and_clear(vma->vm_mm, address, ptep);

	if (pte_present(pte))		/* pte_accessible() */
		flush_tlb_range(vma, address, address + 1);	/* flush_tlb_page(): IPIs, waits for every ack */
	return pte;
}

/*
 * try_to_unmap_one() — mm/rmap.c v5.13 shape (the MADV_FREE check as v5.18):
 * for every pte of this vma that page_vma_mapped_walk() finds mapping
 * @page (or a subpage of a THP), nuke it and make it a swap entry (reclaim),
 * a migration entry (TTU_SPLIT_FREEZE: split_huge_page() freezing a THP), or
 * drop a clean lazyfree page.  The walk holds the ptl while the body runs.
 * TTU_SYNC (732ed55823fc) makes the walk PVMW_SYNC.
 */
#define TTU_SPLIT_FREEZE	0x2	/* freeze, not unmap: migration entries */
#define TTU_SPLIT_HUGE_PMD	0x4	/* split huge PMD if any (no huge pmd in these races) */
#define TTU_SYNC		0x10	/* avoid racy checks with PVMW_SYNC */
#define TTU_RMAP_LOCKED		0x80	/* do not grab rmap lock: caller holds it */
static int try_to_unmap_one(struct page *page, struct vm_area_struct *vma, unsigned long address, int flags)
{
	struct mm_struct *mm = vma->vm_mm;
	struct page *subpage;
	pte_t pteval;
	unsigned long entry;
	int ret = true;
	int ref_count;
	int map_count;

	DEFINE_PAGE_VMA_WALK(pvmw, page, vma, address, 0);
	/*
	 * When racing against e.g. zap_pte_range() on another cpu,
	 * in between its ptep_get_and_clear_full() and page_remove_rmap(),
	 * try_to_unmap() may return false when it is about to become true,
	 * if page table locking is skipped: use TTU_SYNC to wait for that.
	 */
	if (flags & TTU_SYNC)
		pvmw.flags = PVMW_SYNC;

	while (page_vma_mapped_walk(&pvmw)) {
		subpage = pte_page(ptep_get(pvmw.pte));	/* page - page_to_pfn(page) + pte_pfn(*pvmw.pte) */
		address = pvmw.address;

		/* Nuke the page table entry. */
		pteval = ptep_clear_flush(vma, address, pvmw.pte);
		if (pte_dirty(pteval))
			set_bit(PG_dirty, &page->flags);	/* set_page_dirty() */

		if (flags & TTU_SPLIT_FREEZE) {
			/*
			 * Store the pfn of the page in a special migration
			 * pte. do_swap_page() will wait until the migration
			 * pte is removed and then restart fault handling.
			 */
			set_pte_at(mm, address, pvmw.pte, make_migration_entry(subpage, pte_write(pteval)));
		} else if (!PageSwapBacked(page)) {
			/* MADV_FREE page check (v5.18) */
#ifndef NO_LAZYFREE_REFCOUNT_CHECK
			/*
			 * Synchronize with gup_pte_range():
			 * - clear PTE; barrier; read refcount
			 * - inc refcount; barrier; read PTE
			 */
			smp_mb();
			ref_count = page_count(page);
			map_count = page_mapcount(page);
			/*
			 * Order reads for page refcount and dirty flag
			 * (see comments in __remove_mapping()).
			 */
			smp_rmb();
			/*
			 * The only page refs must be one from isolation
			 * plus the rmap(s) (dropped by discard:).
			 */
			if (ref_count == 1 + map_count && !PageDirty(page))
				goto discard;
#else
			/* before 6c8e2a256915: only the dirty flag */
			if (!PageDirty(page))
				goto discard;
#endif
			/*
			 * If the page was redirtied, it cannot be
			 * discarded. Remap the page to page table.
			 */
			set_pte_at(mm, address, pvmw.pte, pteval);
			set_bit(PG_swapbacked, &page->flags);	/* SetPageSwapBacked() */
			ret = false;
			page_vma_mapped_walk_done(&pvmw);
			break;
		} else {
			entry = READ_ONCE(page->private);	/* page_private(): the swap entry */
			swap_duplicate(mm->swap, entry);
			set_pte_at(mm, address, pvmw.pte, swp_entry_to_pte(entry));
		}
discard:
		page_remove_rmap(subpage);
		put_page(page);
	}
	return ret;
}

/*
 * try_to_unmap_one() for a page-cache (shmem) page, v5.19+: clear and flush,
 * then "If this pte was uffd-wp armed, we may want to replace a none pte with
 * a marker pte if it's file-backed, so we don't lose the tracking info."
 * (the page itself goes to swap through shmem_writepage(), the pte does not
 * become a swap entry).  rmap_walk_file() under i_mmap_rwsem is elided: the
 * caller names the vma.
 */
static int try_to_unmap_file_one(struct page *page, struct vm_area_struct *vma, unsigned long address)
{
	pte_t pteval;

	DEFINE_PAGE_VMA_WALK(pvmw, page, vma, address, 0);
	while (page_vma_mapped_walk(&pvmw)) {
		address = pvmw.address;
		pteval = ptep_clear_flush(vma, address, pvmw.pte);
		pte_install_uffd_wp_if_needed(vma, address, pvmw.pte, pteval);
		if (pte_dirty(pteval))
			set_bit(PG_dirty, &page->flags);	/* folio_mark_dirty() */
		page_remove_rmap(page);
		put_page(page);
	}
	return true;
}

static void i_mmap_lock_read(struct address_space *mapping)	{ down_read(&mapping->i_mmap_rwsem); }
static void i_mmap_unlock_read(struct address_space *mapping)	{ up_read(&mapping->i_mmap_rwsem); }
static void i_mmap_lock_write(struct address_space *mapping)	{ down_write(&mapping->i_mmap_rwsem); }
static void i_mmap_unlock_write(struct address_space *mapping)	{ up_write(&mapping->i_mmap_rwsem); }

/* rmap_walk_file() for try_to_unmap(): under i_mmap_rwsem, the one vma mapping it */
static int try_to_unmap_file(struct page *page, struct vm_area_struct *vma, unsigned long address)
{
	struct address_space *mapping = page->mapping;
	int ret;

	i_mmap_lock_read(mapping);
	ret = try_to_unmap_file_one(page, vma, address);	/* vma_interval_tree_foreach() */
	i_mmap_unlock_read(mapping);
	return ret;
}

/*
 * try_to_unmap() — rmap_walk_anon(): the page's anon_vma (locked for read
 * unless TTU_RMAP_LOCKED: the caller holds it), the vma it links; true once
 * the page is no longer mapped (v5.13: "return !page_mapcount(page);").
 */
static int try_to_unmap(struct page *page, struct anon_vma *av, unsigned long address, int flags)
{
	struct vm_area_struct *vma;

	if (!(flags & TTU_RMAP_LOCKED))
		anon_vma_lock_read(av);
	vma = READ_ONCE(av->vma);
	if (vma)
		try_to_unmap_one(page, vma, address, flags);	/* vma_address(page, vma) */
	if (!(flags & TTU_RMAP_LOCKED))
		anon_vma_unlock_read(av);
	return !page_mapcount(page);
}

/* unlink_anon_vmas(): free_pgtables() unlinks the vma before freeing its tables */
static void unlink_anon_vmas(struct vm_area_struct *vma)
{
	struct anon_vma *av = vma->anon_vma;

	if (!av)
		return;
	anon_vma_lock_write(av);
	WRITE_ONCE(av->vma, NULL);
	anon_vma_unlock_write(av);
}

#endif
