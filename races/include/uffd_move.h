/*
 * uffd_move.h — UFFDIO_MOVE: mm/userfaultfd.c move_pages(), move_pages_pte(),
 * move_swap_pte(), move_present_pte(), double_pt_lock(), is_pte_pages_stable()
 * as in linux-next (ColinIanKing/linux-next, mm/userfaultfd.c read
 * 2026-12; adef440691ba "userfaultfd: UFFDIO_MOVE uABI", v6.8, Andrea
 * Arcangeli / Suren Baghdasaryan, plus the fixes since), with move_swap_pte()'s
 * two checks exactly as 0ea148a79919 "mm: userfaultfd: fix race of
 * userfaultfd_move and swap cache" (Kairui Song, v6.16-rc2; LKML "[PATCH v4]
 * mm: userfaultfd: fix race of userfaultfd_move and swap cache", June 2025)
 * adds them.  (Later linux-next reshaped that part of move_swap_pte() for the
 * swap-table series; the model keeps the v6.16 text.)
 *
 *   UFFD_MOVE_V615   before 0ea148a79919 (v6.8 - v6.15): move_swap_pte()
 *                    trusts is_pte_pages_stable() alone.
 *   NO_FOLIO_SWAP_RECHECK  only the first half of the fix missing: the folio
 *                    found by the lockless swap-cache lookup is not
 *                    re-checked (folio_test_swapcache(), folio->swap) after it
 *                    is locked.
 *   NO_SWAP_MAP_RECHECK  only the second half missing: when the lookup found
 *                    nothing, swap_map[]'s SWAP_HAS_CACHE is not re-read under
 *                    the src ptl.
 *
 * Reduced: one source and one destination page in one anonymous vma (a move
 * within a vma is allowed); the mmap_lock form of uffd_move_lock() (no
 * per-vma locks); validate_move_areas() and the ctx->mmap_changing check
 * pass (nothing changes the vma); no huge pmds (move_pages_huge_pmd() not
 * modelled: the pmds are tables), no zero page, no large folios, no mmu
 * notifiers or TLB flush batching.  Every anonymous page and swap pte here
 * is exclusive (the races have no fork): PageAnonExclusive() and
 * pte_swp_exclusive() are true.  folio_get_anon_vma() takes no anon_vma
 * reference (nothing frees it).  Needs CONFIG_DEBUG_VM (mm.h): the folio's
 * anon rmap (mapping, index) is what the move must carry over.
 */
#ifndef _FAULTLINE_UFFD_MOVE_H
#define _FAULTLINE_UFFD_MOVE_H
#include "mm.h"
#include "rmap.h"
#include "swap.h"

#ifndef CONFIG_DEBUG_VM
#error "uffd_move.h needs CONFIG_DEBUG_VM (the anon rmap's mapping and index)"
#endif
#ifdef UFFD_MOVE_V615
#define NO_FOLIO_SWAP_RECHECK
#define NO_SWAP_MAP_RECHECK
#endif

#define EAGAIN	11
#define EBUSY	16
#define EFAULT	14
#define EINVAL	22
#define UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES	((unsigned long)1 << 1)

static int pte_swp_exclusive(pte_t pte)		{ return true; }	/* see above */

/*
 * pte_offset_map_rw_nolock() — mm/pgtable-generic.c v6.13+: map the pte
 * without its lock, return the pmd value it was found through and the ptl
 * of that table.  The v6.5 contract (may fail) as __pte_offset_map(), but
 * the caller must re-check pmd_same() under the lock itself.
 */
static pte_t *pte_offset_map_rw_nolock(struct mm_struct *mm, pmd_t *pmd, unsigned long addr,
				       pmd_t *pmdvalp, spinlock_t **ptlp)
{
	pmd_t pmdval = READ_ONCE(*pmd);

	*pmdvalp = pmdval;
	if (pmd_none(pmdval) || pmd_leaf(pmdval))
		return NULL;
	*ptlp = pte_lockptr_val(pmdval);		/* pte_lockptr(mm, pmdvalp) */
	return pmd_pgtable(pmdval) + pte_index(addr);
}

static void double_pt_lock(spinlock_t *ptl1, spinlock_t *ptl2)
{
	spinlock_t *tmp;

	if (ptl1 > ptl2) {
		tmp = ptl1;			/* swap(ptl1, ptl2) */
		ptl1 = ptl2;
		ptl2 = tmp;
	}
	/* lock in virtual address order to avoid lock inversion */
	spin_lock(ptl1);
	if (ptl1 != ptl2)
		spin_lock(ptl2);		/* spin_lock_nested() */
}

static void double_pt_unlock(spinlock_t *ptl1, spinlock_t *ptl2)
{
	spin_unlock(ptl1);
	if (ptl1 != ptl2)
		spin_unlock(ptl2);
}

static int is_pte_pages_stable(pte_t *dst_pte, pte_t *src_pte,
			       pte_t orig_dst_pte, pte_t orig_src_pte,
			       pmd_t *dst_pmd, pmd_t dst_pmdval)
{
	return pte_same(ptep_get(src_pte), orig_src_pte) &&
	       pte_same(ptep_get(dst_pte), orig_dst_pte) &&
	       pmd_same(dst_pmdval, READ_ONCE(*dst_pmd));	/* pmdp_get_lockless() */
}

/* folio_move_anon_rmap() — mm/rmap.c: the folio now belongs to @vma's anon_vma */
static void folio_move_anon_rmap(struct page *folio, struct vm_area_struct *vma)
{
	WRITE_ONCE(folio->mapping, (struct address_space *)vma->anon_vma);
}

static int move_present_pte(struct mm_struct *mm,
			    struct vm_area_struct *dst_vma,
			    struct vm_area_struct *src_vma,
			    unsigned long dst_addr, unsigned long src_addr,
			    pte_t *dst_pte, pte_t *src_pte,
			    pte_t orig_dst_pte, pte_t orig_src_pte,
			    pmd_t *dst_pmd, pmd_t dst_pmdval,
			    spinlock_t *dst_ptl, spinlock_t *src_ptl,
			    struct page *src_folio)
{
	int err = 0;

	double_pt_lock(dst_ptl, src_ptl);

	if (!is_pte_pages_stable(dst_pte, src_pte, orig_dst_pte, orig_src_pte,
				 dst_pmd, dst_pmdval)) {
		err = -EAGAIN;
		goto out;
	}
	/* folio_test_large(), folio_maybe_dma_pinned(), !PageAnonExclusive(): no */

	orig_src_pte = ptep_clear_flush(src_vma, src_addr, src_pte);

	folio_move_anon_rmap(src_folio, dst_vma);
	WRITE_ONCE(src_folio->index, linear_page_index(dst_vma, dst_addr));

	orig_dst_pte = mk_pte(src_folio, dst_vma->vm_page_prot);	/* folio_mk_pte() */
	/* Follow mremap() behavior and treat the entry dirty after the move */
	orig_dst_pte = pte_mkwrite(pte_mkdirty(orig_dst_pte));

	set_pte_at(mm, dst_addr, dst_pte, orig_dst_pte);
out:
	double_pt_unlock(dst_ptl, src_ptl);
	return err;
}

static int move_swap_pte(struct mm_struct *mm, struct vm_area_struct *dst_vma,
			 unsigned long dst_addr, unsigned long src_addr,
			 pte_t *dst_pte, pte_t *src_pte,
			 pte_t orig_dst_pte, pte_t orig_src_pte,
			 pmd_t *dst_pmd, pmd_t dst_pmdval,
			 spinlock_t *dst_ptl, spinlock_t *src_ptl,
			 struct page *src_folio,
			 struct swap_info_struct *si, unsigned long entry)
{
#ifndef NO_FOLIO_SWAP_RECHECK
	/*
	 * Check if the folio still belongs to the target swap entry after
	 * acquiring the lock. Folio can be freed in the swap cache while
	 * not locked.
	 */
	if (src_folio && unlikely(!PageSwapCache(src_folio) ||
				  entry != READ_ONCE(src_folio->private)))	/* folio->swap.val */
		return -EAGAIN;
#endif

	double_pt_lock(dst_ptl, src_ptl);

	if (!is_pte_pages_stable(dst_pte, src_pte, orig_dst_pte, orig_src_pte,
				 dst_pmd, dst_pmdval)) {
		double_pt_unlock(dst_ptl, src_ptl);
		return -EAGAIN;
	}

	/*
	 * The src_folio resides in the swapcache, requiring an update to its
	 * index and mapping to align with the dst_vma, where a swap-in may
	 * occur and hit the swapcache after moving the PTE.
	 */
	if (src_folio) {
		folio_move_anon_rmap(src_folio, dst_vma);
		WRITE_ONCE(src_folio->index, linear_page_index(dst_vma, dst_addr));
	}
#ifndef NO_SWAP_MAP_RECHECK
	else {
		/*
		 * Check if the swap entry is cached after acquiring the src_pte
		 * lock. Otherwise, we might miss a newly loaded swap cache folio.
		 */
		if (atomic_read(&si->swap_map[swp_offset(entry)]) & SWAP_HAS_CACHE) {	/* READ_ONCE() */
			double_pt_unlock(dst_ptl, src_ptl);
			return -EAGAIN;
		}
	}
#endif

	orig_src_pte = ptep_get_and_clear(mm, src_addr, src_pte);
	set_pte_at(mm, dst_addr, dst_pte, orig_src_pte);
	double_pt_unlock(dst_ptl, src_ptl);

	return 0;
}

/*
 * The mmap_lock for reading is held by the caller. Just move the page
 * from src_pmd to dst_pmd if possible, and return true if succeeded
 * in moving the page.
 */
static int move_pages_pte(struct mm_struct *mm, pmd_t *dst_pmd, pmd_t *src_pmd,
			  struct vm_area_struct *dst_vma,
			  struct vm_area_struct *src_vma,
			  unsigned long dst_addr, unsigned long src_addr,
			  unsigned long mode)
{
	unsigned long entry;
	struct swap_info_struct *si = NULL;
	pte_t orig_src_pte, orig_dst_pte;
	pte_t src_folio_pte = 0;
	spinlock_t *src_ptl, *dst_ptl;
	pte_t *src_pte = NULL;
	pte_t *dst_pte = NULL;
	pmd_t dummy_pmdval;
	pmd_t dst_pmdval;
	struct page *src_folio = NULL;
	struct anon_vma *src_anon_vma = NULL;
	struct page *folio;
	int locked;
	int err = 0;

retry:
	dst_pte = pte_offset_map_rw_nolock(mm, dst_pmd, dst_addr, &dst_pmdval, &dst_ptl);

	/* Retry if a huge pmd materialized from under us */
	if (unlikely(!dst_pte)) {
		err = -EAGAIN;
		goto out;
	}

	src_pte = pte_offset_map_rw_nolock(mm, src_pmd, src_addr, &dummy_pmdval, &src_ptl);

	/*
	 * We held the mmap_lock for reading so MADV_DONTNEED
	 * can zap transparent huge pages under us, or the
	 * transparent huge page fault can establish new
	 * transparent huge pages under us.
	 */
	if (unlikely(!src_pte)) {
		err = -EAGAIN;
		goto out;
	}

	/* Sanity checks before the operation */
	if (pmd_none(READ_ONCE(*dst_pmd)) || pmd_none(READ_ONCE(*src_pmd)) ||
	    pmd_trans_huge(READ_ONCE(*dst_pmd)) || pmd_trans_huge(READ_ONCE(*src_pmd))) {
		err = -EINVAL;
		goto out;
	}

	spin_lock(dst_ptl);
	orig_dst_pte = ptep_get(dst_pte);
	spin_unlock(dst_ptl);
	if (!pte_none(orig_dst_pte)) {
		err = -EEXIST;
		goto out;
	}

	spin_lock(src_ptl);
	orig_src_pte = ptep_get(src_pte);
	spin_unlock(src_ptl);
	if (pte_none(orig_src_pte)) {
		if (!(mode & UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES))
			err = -ENOENT;
		else /* nothing to do to move a hole */
			err = 0;
		goto out;
	}

	/* If PTE changed after we locked the folio them start over */
	if (src_folio && unlikely(!pte_same(src_folio_pte, orig_src_pte))) {
		err = -EAGAIN;
		goto out;
	}

	if (pte_present(orig_src_pte)) {
		/*
		 * Pin and lock both source folio and anon_vma. Since we are in
		 * RCU read section, we can't block, so on contention have to
		 * unmap the ptes, obtain the lock and retry.
		 */
		if (!src_folio) {
			/*
			 * Pin the page while holding the lock to be sure the
			 * page isn't freed under us
			 */
			spin_lock(src_ptl);
			if (!pte_same(orig_src_pte, ptep_get(src_pte))) {
				spin_unlock(src_ptl);
				err = -EAGAIN;
				goto out;
			}

			folio = pte_page(orig_src_pte);		/* vm_normal_folio(); PageAnonExclusive() */
			locked = trylock_page(folio);		/* folio_trylock() */
			get_page(folio);			/* folio_get() */
			src_folio = folio;
			src_folio_pte = orig_src_pte;
			spin_unlock(src_ptl);

			if (!locked) {
				pte_unmap(src_pte);
				pte_unmap(dst_pte);
				src_pte = dst_pte = NULL;
				/* now we can block and wait */
				lock_page(src_folio);		/* folio_lock() */
				goto retry;
			}
		}

		/* at this point we have src_folio locked (small: no split_folio()) */
		if (!src_anon_vma) {
			/*
			 * folio_referenced walks the anon_vma chain
			 * without the folio lock. Serialize against it with
			 * the anon_vma lock, the folio lock is not enough.
			 */
			src_anon_vma = folio_anon_vma(src_folio);	/* folio_get_anon_vma() */
			if (!src_anon_vma) {
				/* page was unmapped from under us */
				err = -EAGAIN;
				goto out;
			}
			if (!down_write_trylock(&src_anon_vma->rwsem)) {	/* anon_vma_trylock_write() */
				pte_unmap(src_pte);
				pte_unmap(dst_pte);
				src_pte = dst_pte = NULL;
				/* now we can block and wait */
				anon_vma_lock_write(src_anon_vma);
				goto retry;
			}
		}

		err = move_present_pte(mm, dst_vma, src_vma,
				       dst_addr, src_addr, dst_pte, src_pte,
				       orig_dst_pte, orig_src_pte, dst_pmd,
				       dst_pmdval, dst_ptl, src_ptl, src_folio);
	} else {
		folio = NULL;

		entry = pte_to_swp_entry(orig_src_pte);
		if (non_swap_entry(entry)) {
			err = -EFAULT;		/* migration entries: not modelled */
			goto out;
		}

		if (!pte_swp_exclusive(orig_src_pte)) {
			err = -EBUSY;
			goto out;
		}

		si = mm->swap;			/* get_swap_device(entry) */
		/*
		 * Verify the existence of the swapcache. If present, the folio's
		 * index and mapping must be updated even when the PTE is a swap
		 * entry. The anon_vma lock is not taken during this process since
		 * the folio has already been unmapped, and the swap entry is
		 * exclusive, preventing rmap walks.
		 */
		if (!src_folio)
			folio = lookup_swap_cache(si, entry);	/* filemap_get_folio(swap_address_space(entry), ...) */
		if (folio) {				/* !IS_ERR_OR_NULL(folio) */
			src_folio = folio;
			src_folio_pte = orig_src_pte;
			if (!trylock_page(src_folio)) {
				pte_unmap(src_pte);
				pte_unmap(dst_pte);
				src_pte = dst_pte = NULL;
				si = NULL;		/* put_swap_device(si) */
				/* now we can block and wait */
				lock_page(src_folio);
				goto retry;
			}
		}
		err = move_swap_pte(mm, dst_vma, dst_addr, src_addr, dst_pte, src_pte,
				    orig_dst_pte, orig_src_pte, dst_pmd, dst_pmdval,
				    dst_ptl, src_ptl, src_folio, si, entry);
	}

out:
	if (src_anon_vma)
		anon_vma_unlock_write(src_anon_vma);	/* put_anon_vma(): no reference taken */
	if (src_folio) {
		unlock_page(src_folio);			/* folio_unlock() */
		put_page(src_folio);			/* folio_put() */
	}
	if (dst_pte)
		pte_unmap(dst_pte);
	if (src_pte)
		pte_unmap(src_pte);
	return err;
}

/*
 * move_pages() — ioctl(UFFDIO_MOVE) for pte-mapped anonymous memory:
 * returns the number of pages moved, or the error that stopped the first.
 * -EAGAIN from move_pages_pte() retries the same page.
 */
static long move_pages(struct mm_struct *mm, struct vm_area_struct *vma,
		       unsigned long dst_start, unsigned long src_start,
		       unsigned long len, unsigned long mode)
{
	struct vm_area_struct *src_vma = vma, *dst_vma = vma;	/* find_vmas_mm_locked() */
	unsigned long src_addr, dst_addr;
	pmd_t *src_pmd, *dst_pmd;
	long err = -EINVAL;
	long moved = 0;

	mmap_read_lock(mm);					/* uffd_move_lock() */
	/* ctx->mmap_changing, VM_SHARED, bounds, validate_move_areas(): pass */
	for (src_addr = src_start, dst_addr = dst_start;
	     src_addr < src_start + len;) {
		src_pmd = pmd_offset(pud_offset(mm, src_addr), src_addr);	/* mm_find_pmd() */
		dst_pmd = pmd_offset(pud_offset(mm, dst_addr), dst_addr);	/* mm_alloc_pmd() */
		err = move_pages_pte(mm, dst_pmd, src_pmd, dst_vma, src_vma,
				     dst_addr, src_addr, mode);
		cond_resched();
		if (err) {
			if (err == -EAGAIN)
				continue;
			break;
		}
		/* Proceed to the next page */
		dst_addr += 1;
		src_addr += 1;
		moved += 1;
	}
	mmap_read_unlock(mm);					/* uffd_move_unlock() */
	return moved ? moved : err;
}

#endif
