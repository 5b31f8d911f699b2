/*
 * mremap.h — moving a mapping: mm/mremap.c move_ptes() and
 * move_page_tables() of v4.19 (after eb66ae030829 "mremap: properly flush
 * TLB before releasing the page"), for a range within one pmd, and the
 * copy_vma() step that links the new vma into the file rmap.
 *
 *   MOVE_PTES_V418  v4.18 (5d1904204c99's form, v4.9-v4.18): only a dirty
 *                   pte forces the TLB flush before the ptls are dropped;
 *                   for clean ptes move_page_tables() flushes at its end,
 *                   after both ptls and the rmap locks are released.
 *   MOVE_PTES_V314  v3.14 (before v4.9): no pte forces it, every flush is
 *                   move_page_tables()'s at the end.
 *   NO_HUGE_PMD_RMAP_LOCKS  before dd18dbc2d42a "mm, thp: close race between
 *                   mremap() and split_huge_page()" (v3.15): a huge pmd is
 *                   moved without the rmap locks need_rmap_locks asks for.
 *
 * The huge-pmd branch of move_page_tables() is the v3.15 one, with the
 * v3.14-v4.4 move_huge_pmd() of split_huge_page.h (pmds marked splitting);
 * it is reached only where a race maps a THP with a huge pmd.
 *
 * Reduced: no huge pmds (move_huge_pmd()), no mmu notifiers, no soft-dirty
 * or arch pte transformation (move_pte()), the old range's vma is not
 * unmapped afterwards (do_munmap() of an empty range changes nothing here).
 * Uses flush_tlb_range() from tlb.h: the flush of a range, as x86 does it.
 */
#ifndef _FAULTLINE_MREMAP_H
#define _FAULTLINE_MREMAP_H
#include "mm.h"
#include "rmap.h"
#include "tlb.h"
#include "truncate.h"
#include "split_huge_page.h"

/* take_rmap_locks() / drop_rmap_locks() — mm/mremap.c */
static void take_rmap_locks(struct vm_area_struct *vma)
{
	if (vma->vm_mapping)			/* vma->vm_file */
		i_mmap_lock_write(vma->vm_mapping);
	if (vma->anon_vma)
		anon_vma_lock_write(vma->anon_vma);
}
static void drop_rmap_locks(struct vm_area_struct *vma)
{
	if (vma->anon_vma)
		anon_vma_unlock_write(vma->anon_vma);
	if (vma->vm_mapping)
		i_mmap_unlock_write(vma->vm_mapping);
}

/*
 * copy_vma() — mm/mmap.c: returns need_rmap_locks.  A new vma (the default)
 * is linked into the anon_vma and file rmaps after @vma (same pgoff: it goes
 * to the right), so an rmap walk meets the old pte, or the new one, or both,
 * and no rmap lock is needed.  VMA_MERGE_BEFORE: the range is merged into a vma of
 * the file that the rmap already holds before @vma (vma_merge(); harness:
 * @new_vma is that vma, already linked), so the locks are needed
 * (new_vma->vm_pgoff <= vma->vm_pgoff).
 */
static int copy_vma(struct vm_area_struct *vma, struct vm_area_struct *new_vma)
{
#ifdef VMA_MERGE_BEFORE
	return new_vma->vm_pgoff <= vma->vm_pgoff;
#else
	if (vma->anon_vma)
		anon_vma_clone(new_vma, vma);
	if (vma->vm_mapping)
		vma_link_file(vma->vm_mapping, new_vma);	/* vma_link() */
	return false;
#endif
}

static void move_ptes(struct vm_area_struct *vma, pmd_t *old_pmd,
		      unsigned long old_addr, unsigned long old_end,
		      struct vm_area_struct *new_vma, pmd_t *new_pmd,
		      unsigned long new_addr, int need_rmap_locks, int *need_flush)
{
	struct mm_struct *mm = vma->vm_mm;
	pte_t *old_pte, *new_pte, pte;
	spinlock_t *old_ptl, *new_ptl;
	int force_flush = false;
	unsigned long len = old_end - old_addr;

	/*
	 * When need_rmap_locks is true, we take the i_mmap_rwsem and anon_vma
	 * locks to ensure that rmap will always observe either the old or the
	 * new ptes.
	 */
	if (need_rmap_locks)
		take_rmap_locks(vma);

	old_pte = pte_offset_map_lock(mm, old_pmd, old_addr, &old_ptl);
	new_pte = pte_offset_map(new_pmd, new_addr);
	new_ptl = pte_lockptr(mm, new_pmd);
	if (new_ptl != old_ptl)
		spin_lock(new_ptl);		/* spin_lock_nested(new_ptl, SINGLE_DEPTH_NESTING) */

	for (; old_addr < old_end; old_pte++, old_addr++, new_pte++, new_addr++) {
		if (pte_none(ptep_get(old_pte)))
			continue;

		pte = ptep_get_and_clear(mm, old_addr, old_pte);
#ifdef MOVE_PTES_V314
		/* v3.14: move_page_tables() flushes at the end */
#elif defined(MOVE_PTES_V418)
		/*
		 * If we are remapping a dirty PTE, make sure
		 * to flush TLB before we drop the PTL for the
		 * old PTE or we may race with page_mkclean().
		 */
		if (pte_present(pte) && pte_dirty(pte))
			force_flush = true;
#else
		/*
		 * If we are remapping a valid PTE, make sure
		 * to flush TLB before we drop the PTL for the
		 * PTE.
		 *
		 * NOTE! Both old and new PTL matter: the old one
		 * for racing with page_mkclean(), the new one to
		 * make sure the physical page stays valid until
		 * the TLB entry for the old mapping has been
		 * flushed.
		 */
		if (pte_present(pte))
			force_flush = true;
#endif
		set_pte_at(mm, new_addr, new_pte, pte);	/* move_pte(), move_soft_dirty_pte() */
	}

#if defined(MOVE_PTES_V418) || defined(MOVE_PTES_V314)
	if (new_ptl != old_ptl)
		spin_unlock(new_ptl);
	pte_unmap(new_pte - 1);
	if (force_flush)
		flush_tlb_range(vma, old_end - len, old_end);
	else
		*need_flush = true;
#else
	if (force_flush)
		flush_tlb_range(vma, old_end - len, old_end);
	if (new_ptl != old_ptl)
		spin_unlock(new_ptl);
	pte_unmap(new_pte - 1);
#endif
	pte_unmap_unlock(old_pte - 1, old_ptl);
	if (need_rmap_locks)
		drop_rmap_locks(vma);
}

/* split_huge_page_pmd() — v3.14: split the THP a huge pmd maps (__split_huge_page_pmd()) */
static void split_huge_page_pmd(struct vm_area_struct *vma, unsigned long address, pmd_t *pmd)
{
	pmd_t pmdval = READ_ONCE(*pmd);

	if (pmd_trans_huge(pmdval))
		split_huge_page(pmd_page(pmdval), vma->anon_vma);
}

/* move_page_tables() for a range within one pmd (one extent) */
static unsigned long move_page_tables(struct vm_area_struct *vma, unsigned long old_addr,
				      struct vm_area_struct *new_vma, unsigned long new_addr,
				      unsigned long len, int need_rmap_locks)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long old_end = old_addr + len;
	unsigned long extent = len;
	pmd_t *old_pmd, *new_pmd;
	int need_flush = false;

	old_pmd = pmd_offset(pud_offset(mm, old_addr), old_addr);	/* get_old_pmd() */
	new_pmd = pmd_offset(pud_offset(mm, new_addr), new_addr);	/* alloc_new_pmd() */
	if (pmd_trans_huge(READ_ONCE(*old_pmd))) {
		int err = 0;

		if (extent == HPAGE_PMD_SIZE) {
			VM_BUG_ON(vma->vm_mapping || !vma->anon_vma);
#ifndef NO_HUGE_PMD_RMAP_LOCKS
			/* See comment in move_ptes() */
			if (need_rmap_locks)
				anon_vma_lock_write(vma->anon_vma);
#endif
			err = move_huge_pmd(vma, new_vma, old_addr, new_addr, old_end, old_pmd, new_pmd);
#ifndef NO_HUGE_PMD_RMAP_LOCKS
			if (need_rmap_locks)
				anon_vma_unlock_write(vma->anon_vma);
#endif
		}
		if (err > 0) {
			need_flush = true;
			goto done;
		} else if (!err) {
			split_huge_page_pmd(vma, old_addr, old_pmd);
		}
		VM_BUG_ON(pmd_trans_huge(READ_ONCE(*old_pmd)));
	}
	if (pte_alloc(new_vma->vm_mm, new_pmd))
		return 0;
	move_ptes(vma, old_pmd, old_addr, old_end, new_vma, new_pmd, new_addr,
		  need_rmap_locks, &need_flush);
done:
	old_addr = old_end;
#if defined(MOVE_PTES_V418) || defined(MOVE_PTES_V314)
	if (need_flush)
		flush_tlb_range(vma, old_end - len, old_addr);
#endif
	return len;
}

/*
 * mremap(old, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, new_addr) of a whole
 * vma: mremap_to() -> move_vma() under mmap_lock for write; @new_vma is the
 * vma the range lands in (new, or the one it merges into).
 */
static void mremap_move(struct mm_struct *mm, struct vm_area_struct *vma,
			struct vm_area_struct *new_vma, unsigned long new_addr)
{
	int need_rmap_locks;

	mmap_write_lock(mm);
	need_rmap_locks = copy_vma(vma, new_vma);
	move_page_tables(vma, vma->vm_start, new_vma, new_addr,
			 vma->vm_end - vma->vm_start, need_rmap_locks);
	mmap_write_unlock(mm);
}

#endif
