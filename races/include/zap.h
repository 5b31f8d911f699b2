/*
 * zap.h — zapping ptes and freeing page tables.
 *
 * zap_pte_range() follows v4.17 mm/memory.c for the TLB handling ("Do the
 * actual TLB flush before dropping ptl" when force_flush is set) and v6.x
 * for pte markers / zap_install_uffd_wp_if_needed() (the uffd-wp part of
 * Peter Xu's "[PATCH v3 11/27] shmem/userfaultfd: Persist uffd-wp bit across
 * zapping for file-backed").  mmu_gather batching is reduced to: one
 * tlb_shootdown() (an IPI every other CPU must acknowledge with IRQs on)
 * under the ptl if force_flush, else one after it; pages are released right
 * after page_remove_rmap() (pages are never freed in the model, so the
 * deferral is not observable).  Swap slots of zapped swap entries
 * (free_swap_and_cache()) are not modelled.
 *
 * free_pgtables() is reduced to free_pte_range() for one pmd, followed by
 * tlb_finish_mmu(): pmd_clear(), TLB shootdown, then the table page and its
 * ptlock are freed (no HAVE_RCU_TABLE_FREE).
 *
 * MARKER_AFTER_UNLOCK (bug injection, D): the uffd-wp marker is installed
 * only after the ptl was dropped.
 */
#ifndef _FAULTLINE_ZAP_H
#define _FAULTLINE_ZAP_H
#include "mm.h"
#include "userfaultfd.h"
#include "rmap.h"

static void zap_pte_range(struct vm_area_struct *vma, pmd_t *pmd,
			  unsigned long start, unsigned long end,
			  struct zap_details *details)
{
	struct mm_struct *mm = vma->vm_mm;
	int force_flush = 0;
	int zapped = 0;
	spinlock_t *ptl;
	pte_t *start_pte;
	pte_t *pte;
	pte_t ptent;
	struct page *page;
	unsigned long addr;
	unsigned long entry;
#ifdef MARKER_AFTER_UNLOCK
	pte_t *late_pte = NULL;
	pte_t late_val = 0;
	unsigned long late_addr = 0;
#endif

	start_pte = pte_offset_map_lock(mm, pmd, start, &ptl);
	if (!start_pte)
		return;			/* v6.5: the table went away (retract_page_tables()) */
	for (addr = start; addr != end; addr++) {
		pte = start_pte + (addr - start);
		ptent = ptep_get(pte);
		if (pte_none(ptent))
			continue;

		if (pte_present(ptent)) {
			page = pte_page(ptent);		/* vm_normal_page() */
			ptent = ptep_get_and_clear(mm, addr, pte);	/* _full() */
			zapped = 1;
#ifdef MARKER_AFTER_UNLOCK
			late_pte = pte; late_val = ptent; late_addr = addr;
#else
			zap_install_uffd_wp_if_needed(vma, addr, pte, details, ptent);
#endif
			if (!PageAnon(page)) {
				if (pte_dirty(ptent)) {
					force_flush = 1;
					set_bit(PG_dirty, &page->flags);	/* set_page_dirty() */
				}
			}
			page_remove_rmap(page);
			put_page(page);			/* __tlb_remove_page() */
			continue;
		}

		entry = pte_to_swp_entry(ptent);
		if (!non_swap_entry(entry)) {
			/* Genuine swap entry, hence a private anon page */
			/* free_swap_and_cache(entry): not modelled */
		} else if (is_pte_marker(ptent)) {
			/* only teardown drops markers (zap_drop_markers()) */
			if (!details || !(details->zap_flags & ZAP_FLAG_DROP_MARKER))
				continue;
		}
		pte_clear(mm, addr, pte);		/* pte_clear_not_present_full() */
#ifdef MARKER_AFTER_UNLOCK
		late_pte = pte; late_val = ptent; late_addr = addr;
#else
		zap_install_uffd_wp_if_needed(vma, addr, pte, details, ptent);
#endif
	}

	/* Do the actual TLB flush before dropping ptl */
	if (force_flush)
		flush_tlb_range(vma, start, end);	/* tlb_flush_mmu_tlbonly() */
	pte_unmap_unlock(start_pte, ptl);
	if (zapped && !force_flush)
		flush_tlb_range(vma, start, end);	/* tlb_finish_mmu() */
#ifdef MARKER_AFTER_UNLOCK
	if (late_pte)
		zap_install_uffd_wp_if_needed(vma, late_addr, late_pte, details, late_val);
#endif
}

/* zap_page_range_single() for one pte table: the pud/pmd walk of zap_pmd_range() */
static void zap_page_range_single(struct vm_area_struct *vma, unsigned long start,
				  unsigned long size, struct zap_details *details)
{
	pud_t *pud = pud_offset(vma->vm_mm, start);
	pmd_t *pmd;

	if (pud_none(READ_ONCE(*pud)) || pud_trans_huge(READ_ONCE(*pud)) || pud_devmap(READ_ONCE(*pud)))
		return;				/* zap_huge_pud(): see huge_memory.h */
	pmd = pmd_offset(pud, start);
	if (pmd_trans_unstable(pmd))		/* pmd_none_or_trans_huge_or_clear_bad() */
		return;
	zap_pte_range(vma, pmd, start, start + size, details);
}

/*
 * free_pgtables() -> unlink_anon_vmas(), then free_pte_range() for the pmd
 * mapping @addr, + tlb_finish_mmu() (v4.17-v5.4 order: the vma leaves the
 * rmap before its tables are freed, so an rmap walk holding anon_vma's
 * rwsem never walks freed tables)
 */
static void free_pgtables(struct vm_area_struct *vma, unsigned long addr)
{
	struct mm_struct *mm = vma->vm_mm;
	pud_t *pud = pud_offset(mm, addr);
	pmd_t *pmd = pmd_offset(pud, addr);
	pte_t *token;

	unlink_anon_vmas(vma);
	token = pmd_pgtable(READ_ONCE(*pmd));

	WRITE_ONCE(*pmd, 0);			/* pmd_clear() */
	/* pte_free_tlb(): batched until the TLB flush */
	tlb_shootdown();			/* tlb_finish_mmu(): flush, then free */
	pte_free(mm, token);
}

/* SPF: vm_write_begin()/vm_write_end() on the vma's sequence count */
static void vm_write_begin(struct vm_area_struct *vma)
{
	WRITE_ONCE(vma->vm_sequence, vma->vm_sequence + 1);
	smp_wmb();
}
static void vm_write_end(struct vm_area_struct *vma)
{
	smp_wmb();
	WRITE_ONCE(vma->vm_sequence, vma->vm_sequence + 1);
}

/*
 * munmap() of the whole (only) vma: __do_munmap() -> detach the vma ->
 * unmap_region(): unmap_vmas() then free_pgtables().  With SPF the vma's
 * sequence count is odd throughout.  Teardown: markers are dropped.
 */
static void do_munmap(struct mm_struct *mm, struct vm_area_struct *vma, struct zap_details *details)
{
	/* the kernel's do_munmap(mm, start, len) gets the range as arguments */
	unsigned long start = vma->vm_start;
	unsigned long end = vma->vm_end;

	mmap_write_lock(mm);
	vm_write_begin(vma);
	WRITE_ONCE(mm->mmap, NULL);		/* detach_vmas_to_be_unmapped() */
	zap_page_range_single(vma, start, end - start, details);	/* unmap_region() */
	free_pgtables(vma, start);
	vm_write_end(vma);
	mmap_write_unlock(mm);
}

#endif
