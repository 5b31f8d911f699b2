/*
 * rmap.h — reverse mapping of anonymous pages and reclaim's unmap of one
 * page: mm/rmap.c try_to_unmap_one() and rmap_walk_anon(), v4.17-v5.4 (the
 * SPF series' era; shape unchanged in its essentials through v6.x:
 * page_vma_mapped_walk() takes the ptl, ptep_clear_flush() flushes the TLB
 * *under* the ptl, the pte becomes a swap entry).
 *
 * Reduced: the anon_vma links one vma (anon_vma->vma); a swap-backed page
 * is already in the swap cache (add_to_swap() ran), so page_private(page) is
 * its swap entry; a lazyfree (MADV_FREE, !PageSwapBacked) page is discarded
 * if clean and unpinned (v5.18, 6c8e2a256915; NO_LAZYFREE_REFCOUNT_CHECK is
 * the v5.17 form that looks at the dirty flag only); no mmu notifiers, no mlock, no batching of TLB flushes
 * (TTU_BATCH_FLUSH is not modelled: the flush is immediate, as without it).
 */
#ifndef _FAULTLINE_RMAP_H
#define _FAULTLINE_RMAP_H
#include "mm.h"
#include "userfaultfd.h"

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
 * page_vma_mapped_walk() for a small page: walk to the pte, map it, take
 * its ptl and check that it maps @page.  Returns the pte with *ptlp held,
 * or NULL.
 */
static pte_t *page_vma_mapped_walk(struct page *page, struct vm_area_struct *vma,
				   unsigned long address, spinlock_t **ptlp)
{
	struct mm_struct *mm = vma->vm_mm;
	pud_t *pud = pud_offset(mm, address);
	pmd_t *pmd;
	pmd_t pmde;
	pte_t *pte;

	if (!pud_present(READ_ONCE(*pud)))
		return NULL;
	pmd = pmd_offset(pud, address);
	pmde = READ_ONCE(*pmd);
	if (!pmd_present(pmde) || pmd_trans_huge(pmde))
		return NULL;
	pte = pte_offset_map(pmd, address);
	*ptlp = pte_lockptr(mm, pmd);
	spin_lock(*ptlp);
	if (!pte_present(ptep_get(pte)) || pte_page(ptep_get(pte)) != page) {
		pte_unmap_unlock(pte, *ptlp);
		return NULL;
	}
	return pte;
}

/* try_to_unmap_one(): replace the pte mapping @page by its swap entry */
static int try_to_unmap_one(struct page *page, struct vm_area_struct *vma, unsigned long address)
{
	struct mm_struct *mm = vma->vm_mm;
	spinlock_t *ptl;
	pte_t *pte = page_vma_mapped_walk(page, vma, address, &ptl);
	pte_t pteval;
	unsigned long entry;

	int ref_count;
	int map_count;

	if (!pte)
		return false;
	/* Nuke the page table entry. */
	pteval = ptep_clear_flush(vma, address, pte);
	if (pte_dirty(pteval))
		set_bit(PG_dirty, &page->flags);	/* set_page_dirty() */

	/* MADV_FREE page check (v5.18) */
	if (!PageSwapBacked(page)) {
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
		set_pte_at(mm, address, pte, pteval);
		set_bit(PG_swapbacked, &page->flags);	/* SetPageSwapBacked() */
		pte_unmap_unlock(pte, ptl);
		return false;
discard:
		page_remove_rmap(page);
		put_page(page);
		pte_unmap_unlock(pte, ptl);
		return true;
	}

	entry = READ_ONCE(page->private);		/* page_private(): the swap entry */
	swap_duplicate(mm->swap, entry);
	set_pte_at(mm, address, pte, swp_entry_to_pte(entry));
	page_remove_rmap(page);
	put_page(page);
	pte_unmap_unlock(pte, ptl);
	return true;
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
	spinlock_t *ptl;
	pte_t *pte = page_vma_mapped_walk(page, vma, address, &ptl);
	pte_t pteval;

	if (!pte)
		return false;
	pteval = ptep_clear_flush(vma, address, pte);
	pte_install_uffd_wp_if_needed(vma, address, pte, pteval);
	if (pte_dirty(pteval))
		set_bit(PG_dirty, &page->flags);	/* folio_mark_dirty() */
	page_remove_rmap(page);
	put_page(page);
	pte_unmap_unlock(pte, ptl);
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

/* rmap_walk_anon() for try_to_unmap(): the page's anon_vma, the vma it links */
static int try_to_unmap(struct page *page, struct anon_vma *av, unsigned long address)
{
	struct vm_area_struct *vma;
	int ret = false;

	anon_vma_lock_read(av);
	vma = READ_ONCE(av->vma);
	if (vma)
		ret = try_to_unmap_one(page, vma, address);	/* vma_address(page, vma) */
	anon_vma_unlock_read(av);
	return ret;
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
