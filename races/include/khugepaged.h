/*
 * khugepaged.h — mm/khugepaged.c collapse_huge_page() of v6.0 for an
 * anonymous range whose pte table maps one page (PTRS_PER_PTE is 4 in the
 * model; the other ptes are none and count as "none or zero" ptes).
 * Reduced: no hpage allocation failure, no memcg, no mmu notifiers, no
 * swap-in (__collapse_huge_page_swapin), the old pte table is deposited
 * (pgtable_trans_huge_deposit()) as the kernel does for anonymous THPs.
 *
 *   TLB_FLUSH_NO_IPI   pmdp_collapse_flush()'s TLB flush does not interrupt
 *                      other CPUs (arm64, ppc64 radix: broadcast TLBI), so it
 *                      does not wait for a GUP-fast walk that runs with IRQs
 *                      off; default: x86, an IPI every CPU acknowledges.
 *   NO_TABLE_SYNC_ONE  before 2ba99c5e0881 "mm/khugepaged: fix GUP-fast
 *                      interaction by sending IPI" (v6.1): no
 *                      tlb_remove_table_sync_one() after pmdp_collapse_flush().
 *   PTE_FREE_DEFER     v6.6 retract_page_tables(): the table is freed with
 *                      pte_free_defer() (after an RCU grace period) instead.
 *
 * collapse_and_free_pmd() is v6.1 (retract_page_tables() of a file THP).
 * RCU page-table freeing (MMU_GATHER_RCU_TABLE_FREE): a table is freed only
 * after every IRQs-off walker that could see it is done — either an IPI
 * (tlb_remove_table_sync_one()) or a grace period (call_rcu() in
 * pte_free_defer(): the RCU callback thread frees the table once every
 * read-side and IRQs-off section in progress at call_rcu() has ended; the
 * caller goes on at once, as in the kernel).
 */
#ifndef _FAULTLINE_KHUGEPAGED_H
#define _FAULTLINE_KHUGEPAGED_H
#include "mm.h"
#include "rmap.h"

/* pmdp_collapse_flush() — mm/pgtable-generic.c */
static pmd_t pmdp_collapse_flush(struct vm_area_struct *vma, unsigned long address, pmd_t *pmdp)
{
	pmd_t pmd = xchg(pmdp, 0);	/* pmdp_huge_get_and_clear() */

#ifndef TLB_FLUSH_NO_IPI
	tlb_shootdown();		/* flush_tlb_range(): IPIs, waits for every ack */
#endif
	return pmd;
}

/* tlb_remove_table_sync_one() — mm/mmu_gather.c: an IPI every CPU acknowledges */
static void tlb_remove_table_sync_one(void)
{
#ifndef NO_TABLE_SYNC_ONE
	tlb_shootdown();		/* smp_call_function(tlb_remove_table_smp_sync) */
#endif
}

/*
 * pte_free_now(), pte_free_defer() — mm/pgtable-generic.c v6.6: free after a
 * grace period.  The table is its own struct page in the model (its ptdesc
 * fields live in the table, mm.h), so &page->rcu_head is the table's address
 * and container_of() a cast; call_rcu() does not touch the rcu_head here.
 */
static void pte_free_now(struct rcu_head *head)
{
	pte_free(NULL /* mm not passed and not used */, (pte_t *)head);
}
static void pte_free_defer(struct mm_struct *mm, pte_t *table)
{
	call_rcu((struct rcu_head *)table, pte_free_now);	/* &page->rcu_head */
}

/*
 * collapse_and_free_pmd() — v6.1: retract a pte table that maps nothing any
 * more (the file THP is mapped through the page cache at the pmd level on
 * the next fault).  The caller holds mmap_lock for write here.
 */
static void collapse_and_free_pmd(struct mm_struct *mm, struct vm_area_struct *vma,
				  unsigned long addr, pmd_t *pmdp)
{
	spinlock_t *ptl = pmd_lock(mm, pmdp);
	pmd_t pmd;

	pmd = pmdp_collapse_flush(vma, addr, pmdp);
	spin_unlock(ptl);
#ifdef PTE_FREE_DEFER
	pte_free_defer(mm, pmd_pgtable(pmd));
#else
	tlb_remove_table_sync_one();
	pte_free(mm, pmd_pgtable(pmd));
#endif
}

/*
 * retract_page_tables() — v6.6 (1d65b771bc08 "mm/khugepaged:
 * retract_page_tables() without mmap or vma lock"), for one vma whose pte
 * table at @addr is empty: under the pmd lock and the ptl only, relying on
 * the v6.5 pte_offset_map() contract in every other walker, and freeing the
 * table after a grace period.
 */
static void retract_page_table_v66(struct mm_struct *mm, struct vm_area_struct *vma,
				   unsigned long addr, pmd_t *pmd)
{
	spinlock_t *pml = pmd_lock(mm, pmd);
	spinlock_t *ptl = pte_lockptr(mm, pmd);
	pmd_t pgt_pmd;

	spin_lock(ptl);			/* spin_lock_nested(ptl, SINGLE_DEPTH_NESTING) */
	pgt_pmd = pmdp_collapse_flush(vma, addr, pmd);
	spin_unlock(ptl);
	spin_unlock(pml);
	pte_free_defer(mm, pmd_pgtable(pgt_pmd));
}

/*
 * collapse_huge_page() for the pmd mapping @address, whose pte table maps
 * @page at @address.  Returns 1 when a huge pmd was installed.
 */
static int collapse_huge_page(struct mm_struct *mm, struct vm_area_struct *vma,
			      unsigned long address, struct page *page)
{
	pmd_t *pmd = pmd_offset(pud_offset(mm, address), address);
	struct page *hpage = alloc_page_vma(vma, address);	/* khugepaged_alloc_page() */
	spinlock_t *pmd_ptl;
	spinlock_t *pte_ptl;
	pte_t *pte;
	pmd_t _pmd;
	int isolated;

	mmap_write_lock(mm);
	anon_vma_lock_write(vma->anon_vma);

	pmd_ptl = pmd_lock(mm, pmd);		/* probably unnecessary */
	/*
	 * This removes any huge TLB entry from the CPU so we won't allow
	 * huge and small TLB entries for the same virtual address to
	 * avoid the risk of CPU bugs in that area.
	 *
	 * Parallel fast GUP is fine since fast GUP will back off when
	 * it detects PMD is changed.
	 */
	_pmd = pmdp_collapse_flush(vma, address, pmd);
	spin_unlock(pmd_ptl);
	tlb_remove_table_sync_one();		/* v6.1, 2ba99c5e0881 */

	pte = pmd_pgtable(_pmd) + pte_index(address);
	pte_ptl = pte_lockptr_val(_pmd);
	spin_lock(pte_ptl);
	/*
	 * __collapse_huge_page_isolate(): "Check if the page has any GUP (or
	 * other external) pins."  The page may be pinned after this check by
	 * a fast GUP that saw the old pmd: that is what the GUP side's pmd
	 * re-check is for.
	 */
	isolated = page_count(page) == page_mapcount(page);
	spin_unlock(pte_ptl);

	if (!isolated) {
		spin_lock(pmd_ptl);
		pmd_populate(mm, pmd, pmd_pgtable(_pmd));	/* restore the old table */
		spin_unlock(pmd_ptl);
		anon_vma_unlock_write(vma->anon_vma);
		mmap_write_unlock(mm);
		put_page(hpage);
		return 0;
	}
	anon_vma_unlock_write(vma->anon_vma);

	/* __collapse_huge_page_copy(): copy, clear the pte, release the page */
	WRITE_ONCE(hpage->data, READ_ONCE(page->data));
	spin_lock(pte_ptl);
	pte_clear(mm, address, pte);
	page_remove_rmap(page);
	spin_unlock(pte_ptl);
	put_page(page);				/* free_page_and_swap_cache() */

	set_bit(PG_head, &hpage->flags);
	page_add_anon_rmap(hpage);		/* page_add_new_anon_rmap() */
	spin_lock(pmd_ptl);
	/* pgtable_trans_huge_deposit(mm, pmd, pgtable): the old table stays with the pmd */
	WRITE_ONCE(hpage->private, (unsigned long)pmd_pgtable(_pmd));
	WRITE_ONCE(*pmd, mk_huge_pmd(hpage, PAGE_SHARED));	/* set_pmd_at() */
	spin_unlock(pmd_ptl);
	mmap_write_unlock(mm);
	return 1;
}

#endif
