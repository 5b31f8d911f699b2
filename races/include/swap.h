/*
 * swap.h — do_swap_page() and its helpers.  Included from fault.h (it
 * needs do_fault() for pte markers).
 *
 * do_swap_page() follows v6.1 mm/memory.c: swap-cache hit only (readahead
 * is not modelled: a page missing from the swap cache is treated as a
 * failed read), lock_page_or_retry() (v5.7+: the first try may drop
 * mmap_lock and return VM_FAULT_RETRY), should_try_to_free_swap() false (the
 * page stays in the swap cache), no ksm, no memcg; a write fault reuses the
 * page only if it holds the only reference, else goes on to do_wp_page().
 *
 * Configuration:
 *   CONFIG_X86_PAE   sizeof(pte_t) > sizeof(unsigned long): pte_unmap_same()
 *                    really re-checks the pte under the ptl (v5.x form).
 *   NO_BACKOUT       bug injection (A2): the "Back out if somebody else
 *                    already faulted in this pte" re-check under the ptl is gone.
 *   CONFIG_SPECULATIVE_PAGE_FAULT (A1): the SPF series v7-v12 (Laurent
 *                    Dufour, 2018-2019) as posted, i.e. with 04/24 "mm: Dont
 *                    assume page-table invariance during faults" (no
 *                    pte_unmap_same() at all) and pte_map_lock() as in v8
 *                    (IRQs off, vma_has_changed(), pmd_same(), spin_trylock()
 *                    — "mm: Try spin lock in speculative path" was merged into
 *                    the series before v7), with these variants:
 *     SPF_PLAIN_LOCK  hypothetical: the speculative fault takes a plain
 *                    pte_offset_map_lock() through the pmd it walked (the
 *                    state after 05/24 "Prepare for FAULT_FLAG_SPECULATIVE",
 *                    before any checked lock existed).
 *     SPF_SPIN_LOCK  the 2017 RFC form (v1-v6): checks, then spin_lock()
 *                    with IRQs off instead of spin_trylock().
 *     SPF_PMD_REREAD pte_map_lock() exactly as v8/v12/msm-5.4 write it:
 *                    pte_lockptr(mm, vmf->pmd) and pte_offset_map(vmf->pmd)
 *                    re-read *pmd after pmd_same().  By default the model
 *                    derives both from the checked value (pte_lockptr_val()),
 *                    a deliberate strengthening (see docs/races.md, A1).
 *     SPF_KEEP_PTE_UNMAP_SAME  the series without 04/24: do_swap_page()
 *                    still calls pte_unmap_same(), which on PAE locks
 *                    pte_lockptr(mm, vmf->pmd) and reads *vmf->pte in a
 *                    speculative fault (no mmap_lock, IRQs on).
 *     SPF_PUS_RETURNS_1  Matthew Wilcox's proposal in the 04/24 thread:
 *                    keep the call, pte_unmap_same() returns 1 (same) for a
 *                    speculative fault.
 *     SPF_PUS_SPINLOCK  the later fix "mm: make pte_unmap_same compatible
 *                    with SPF" (v9+, shipped in msm-5.4): pte_unmap_same()
 *                    takes the ptl with pte_spinlock() and returns 0,
 *                    VM_FAULT_PTNOTSAME or VM_FAULT_RETRY.
  */
#ifndef _FAULTLINE_SWAP_H
#define _FAULTLINE_SWAP_H
#include "mm.h"
#include "userfaultfd.h"

/* lookup_swap_cache(): takes a reference on a hit */
static struct page *lookup_swap_cache(struct swap_info_struct *si, unsigned long entry)
{
	struct page *page = READ_ONCE(si->cache[swp_offset(entry)]);

	if (page && !get_page_unless_zero(page))	/* filemap_get_entry(): folio_try_get() */
		page = NULL;	/* freed under us: the kernel re-walks the xarray, which no longer has it */
	return page;
}

/* swap_free(): drop one reference to the slot; "Unused swap offset entry" */
static void swap_free(struct swap_info_struct *si, unsigned long entry)
{
	int count = atomic_dec_return(&si->swap_map[swp_offset(entry)]);

	VM_BUG_ON((count & ~SWAP_HAS_CACHE) < 0 || count < 0);
}

/* __swap_count() */
static int __swap_count(struct swap_info_struct *si, unsigned long entry)
{
	return atomic_read(&si->swap_map[swp_offset(entry)]) & ~SWAP_HAS_CACHE;
}

/*
 * swapcache_prepare() — __swap_duplicate(entry, SWAP_HAS_CACHE), mm/swapfile.c
 * v6.8: pin the slot for a swap-cache (or cache-skipping) swap-in.
 * 0, or -EEXIST when somebody else holds the pin, -ENOENT for a free slot.
 */
#define EEXIST	17
#define ENOENT	2
static int swapcache_prepare(struct swap_info_struct *si, unsigned long entry)
{
	int *map = (int *)&si->swap_map[swp_offset(entry)];
	int count;
	int err = 0;

	spin_lock(&si->lock);			/* lock_cluster_or_swap_info() */
	count = READ_ONCE(*map);
	if (count & SWAP_HAS_CACHE)
		err = -EEXIST;
	else if (!count)
		err = -ENOENT;
	else {
		WRITE_ONCE(*map, count | SWAP_HAS_CACHE);
		set_bit(SWAPCACHE_WQ_BIT, &si->swapcache_wq);	/* a swap-in holds a pin */
	}
	spin_unlock(&si->lock);
	return err;
}

/*
 * Drop a slot's swap-cache pin (swapcache_clear() v6.8, also what
 * delete_from_swap_cache() -> put_swap_folio() does) and wake the tasks
 * waiting for it (v6.12 01626a182302: wake_up(&swapcache_wq)).
 */
static void swapcache_clear(struct swap_info_struct *si, unsigned long entry)
{
	int *map = (int *)&si->swap_map[swp_offset(entry)];

	spin_lock(&si->lock);
	WRITE_ONCE(*map, READ_ONCE(*map) & ~SWAP_HAS_CACHE);
	spin_unlock(&si->lock);
	clear_bit(SWAPCACHE_WQ_BIT, &si->swapcache_wq);
}

/*
 * The loser of swapcache_prepare(): 13ddaf26be32 sleeps one tick
 * (schedule_timeout_uninterruptible(1)) and lets the fault be retried;
 * v6.12 sleeps on swapcache_wq, which swapcache_clear() wakes, still with the
 * one-tick timeout.  Fair waiting (mm.h): the model sleeps until the
 * swap-in pin it lost to is dropped (SWAPCACHE_WQ_BIT: set with a swap-in's
 * pin, cleared by swapcache_clear()); a pin that is not a swap-in's (reclaim
 * adding the page to the swap cache) wakes nobody, so there the tick simply
 * ends: no wait.
 */
static void swapcache_wait(struct swap_info_struct *si)
{
	wait_on_bit(SWAPCACHE_WQ_BIT, &si->swapcache_wq);
}

#ifdef CONFIG_SPECULATIVE_PAGE_FAULT
/* SPF: the vma changed since the speculative fault sampled its sequence? */
static int vma_has_changed(struct vm_fault *vmf)
{
	unsigned long seq = READ_ONCE(vmf->vma->vm_sequence);

	smp_rmb();
	return seq != vmf->sequence;
}

/* the ptl and pte of the checked pmd: the kernel's literal code re-reads *vmf->pmd */
#ifdef SPF_PMD_REREAD
#define spf_pte_lockptr(vmf, pmdval)	pte_lockptr((vmf)->vma->vm_mm, (vmf)->pmd)
#define spf_pte_offset(vmf, pmdval)	pte_offset_map((vmf)->pmd, (vmf)->address)
#else
#define spf_pte_lockptr(vmf, pmdval)	pte_lockptr_val(pmdval)
#define spf_pte_offset(vmf, pmdval)	(pmd_pgtable(pmdval) + pte_index((vmf)->address))
#endif
#ifdef SPF_SPIN_LOCK
static int spf_spin_lock(spinlock_t *ptl)
{
	spin_lock(ptl);
	return true;
}
#define spf_lock(ptl)			spf_spin_lock(ptl)
#else
/*
 * spin_trylock() in place of spin_lock() to avoid race with unmap path
 * which may have the lock and wait for this CPU to invalidate TLB but this
 * CPU has irq disabled.  Since we are in a speculative path, accept it
 * could fail.
 */
#define spf_lock(ptl)			spin_trylock(ptl)
#endif
#endif

/*
 * pte_map_lock() — SPF series v8 (mm/memory.c).  Non-speculative faults:
 * plain pte_offset_map_lock().  Speculative faults:
 *
 * The first vma_has_changed() guarantees the page-tables are still valid,
 * having IRQs disabled ensures they stay around, hence the second
 * vma_has_changed() to make sure they are still valid once we've got the
 * lock.  After that a concurrent zap_pte_range() will block on the PTL and
 * thus we're safe.
 */
static int pte_map_lock(struct vm_fault *vmf)
{
#if defined(CONFIG_SPECULATIVE_PAGE_FAULT) && !defined(SPF_PLAIN_LOCK)
	int ret = false;
	pte_t *pte;
	spinlock_t *ptl;
	pmd_t pmdval;

	if (!(vmf->flags & FAULT_FLAG_SPECULATIVE)) {
		vmf->pte = pte_offset_map_lock(vmf->vma->vm_mm, vmf->pmd, vmf->address, &vmf->ptl);
		return true;
	}

	local_irq_disable();
	if (vma_has_changed(vmf))
		goto out;

	/*
	 * We check if the pmd value is still the same to ensure that there
	 * is not a huge collapse operation in progress in our back.
	 */
	pmdval = READ_ONCE(*vmf->pmd);
	if (!pmd_same(pmdval, vmf->orig_pmd))
		goto out;

	ptl = spf_pte_lockptr(vmf, pmdval);
	pte = spf_pte_offset(vmf, pmdval);
	if (unlikely(!spf_lock(ptl))) {
		pte_unmap(pte);
		goto out;
	}

	if (vma_has_changed(vmf)) {
		pte_unmap_unlock(pte, ptl);
		goto out;
	}

	vmf->pte = pte;
	vmf->ptl = ptl;
	ret = true;
out:
	local_irq_enable();
	return ret;
#else
	/* SPF_PLAIN_LOCK: the speculative fault trusts the pmd it walked */
	vmf->pte = pte_offset_map_lock(vmf->vma->vm_mm, vmf->pmd, vmf->address, &vmf->ptl);
	return true;
#endif
}

#if defined(CONFIG_SPECULATIVE_PAGE_FAULT) && defined(SPF_PUS_SPINLOCK)
/* pte_spinlock() — SPF v9+: lock vmf->pte's ptl, checked as in pte_map_lock() */
static int pte_spinlock(struct vm_fault *vmf)
{
	int ret = false;
	pmd_t pmdval;

	if (!(vmf->flags & FAULT_FLAG_SPECULATIVE)) {
		vmf->ptl = pte_lockptr(vmf->vma->vm_mm, vmf->pmd);
		spin_lock(vmf->ptl);
		return true;
	}

	local_irq_disable();
	if (vma_has_changed(vmf))
		goto out;
	pmdval = READ_ONCE(*vmf->pmd);
	if (!pmd_same(pmdval, vmf->orig_pmd))
		goto out;
	vmf->ptl = spf_pte_lockptr(vmf, pmdval);
	if (unlikely(!spf_lock(vmf->ptl)))
		goto out;
	if (vma_has_changed(vmf)) {
		spin_unlock(vmf->ptl);
		goto out;
	}
	ret = true;
out:
	local_irq_enable();
	return ret;
}

#define VM_FAULT_PTNOTSAME	0x200000	/* SPF series: pte_unmap_same() saw a change */

/*
 * pte_unmap_same() — "mm: make pte_unmap_same compatible with SPF":
 *	0			if the PTE are the same
 *	VM_FAULT_PTNOTSAME	if the PTE are different
 *	VM_FAULT_RETRY		if the VMA has changed in our back during
 *				a speculative page fault handling.
 */
static int pte_unmap_same(struct vm_fault *vmf)
{
	int ret = 0;
#ifdef CONFIG_X86_PAE
	if (pte_spinlock(vmf)) {
		if (!pte_same(ptep_get(vmf->pte), vmf->orig_pte))
			ret = VM_FAULT_PTNOTSAME;
		spin_unlock(vmf->ptl);
	} else
		ret = VM_FAULT_RETRY;
#endif
	pte_unmap(vmf->pte);
	return ret;
}
#else
/*
 * pte_unmap_same() — v4.15-v5.x: only does something when a pte is wider
 * than a long (CONFIG_X86_PAE); on 64-bit the read of orig_pte was atomic
 * and the back-out check under the ptl in do_swap_page() is what keeps
 * I-SAME.  Returns 1 when the pte is unchanged.
 */
static int pte_unmap_same(struct vm_fault *vmf)
{
	int same = 1;
#if defined(CONFIG_SPECULATIVE_PAGE_FAULT) && defined(SPF_PUS_RETURNS_1)
	if (vmf->flags & FAULT_FLAG_SPECULATIVE)
		return 1;		/* Wilcox: nothing to check without the ptl */
#endif
#ifdef CONFIG_X86_PAE
	spinlock_t *ptl = pte_lockptr(vmf->vma->vm_mm, vmf->pmd);

	spin_lock(ptl);
	same = pte_same(ptep_get(vmf->pte), vmf->orig_pte);
	spin_unlock(ptl);
#endif
	pte_unmap(vmf->pte);
	vmf->pte = NULL;
	return same;
}
#endif

/* v5.19: pte_marker_clear() — drop a stale marker under the ptl */
static int pte_marker_clear(struct vm_fault *vmf)
{
	vmf->pte = pte_offset_map_lock(vmf->vma->vm_mm, vmf->pmd, vmf->address, &vmf->ptl);
	/*
	 * Be careful so that we will only recover a special uffd-wp pte into a
	 * none pte.  Otherwise it means the pte could have changed, so retry.
	 */
	if (is_pte_marker(ptep_get(vmf->pte)))
		pte_clear(vmf->vma->vm_mm, vmf->address, vmf->pte);
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	return 0;
}

/* v5.19: pte_marker_handle_uffd_wp() */
static int pte_marker_handle_uffd_wp(struct vm_fault *vmf)
{
	/*
	 * Just in case there're leftover special ptes even after the region
	 * got unregistered - we can simply clear them.
	 */
	if (unlikely(!userfaultfd_wp(vmf->vma) || vma_is_anonymous(vmf->vma)))
		return pte_marker_clear(vmf);

	/* do_fault() can handle pte markers too like none pte */
	return do_fault(vmf);
}

/* v5.19: handle_pte_marker() */
static int handle_pte_marker(struct vm_fault *vmf)
{
	unsigned long marker = pte_marker_get(vmf->orig_pte);

	/*
	 * PTE markers should never be empty.  If anything weird happened,
	 * the best thing to do is to kill the process along with its mm.
	 */
	if (WARN_ON_ONCE(!marker))
		return VM_FAULT_SIGBUS;
	if (pte_marker_uffd_wp(vmf->orig_pte))
		return pte_marker_handle_uffd_wp(vmf);
	/* This is an unknown pte marker */
	return VM_FAULT_SIGBUS;
}

/* do_swap_page() — v6.1 shape, see the top of this file */
static int do_swap_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	struct swap_info_struct *si;
	struct page *page;
	unsigned long entry;
	pte_t orig_pte = vmf->orig_pte;
	pte_t pte;
	int ret = 0;
	int swapcache = true;		/* the page is the swap cache's (not a skip-swapcache copy) */
	int need_clear_cache = false;
	int err;

#if defined(CONFIG_SPECULATIVE_PAGE_FAULT) && defined(SPF_PUS_SPINLOCK)
	ret = pte_unmap_same(vmf);
	if (ret) {
		if (ret == VM_FAULT_PTNOTSAME)
			ret = 0;
		goto out;
	}
#elif !defined(CONFIG_SPECULATIVE_PAGE_FAULT) || defined(SPF_KEEP_PTE_UNMAP_SAME) || defined(SPF_PUS_RETURNS_1)
	/* 04/24 compiles this out with CONFIG_SPECULATIVE_PAGE_FAULT */
	if (!pte_unmap_same(vmf))
		goto out;
#endif

	entry = pte_to_swp_entry(orig_pte);
	if (unlikely(non_swap_entry(entry))) {
		if (is_pte_marker(orig_pte))
			ret = handle_pte_marker(vmf);
		else
			ret = VM_FAULT_SIGBUS;	/* migration/device entries: not modelled */
		goto out;
	}

	si = mm->swap;
	page = lookup_swap_cache(si, entry);
	if (!page && (READ_ONCE(si->flags) & SWP_SYNCHRONOUS_IO) && __swap_count(si, entry) == 1) {
		/*
		 * v6.8 (13ddaf26be32 "mm/swap: fix race when skipping
		 * swapcache"): skip the swap cache for a synchronous device.
		 */
#ifndef NO_SWAPCACHE_PREPARE
		/*
		 * Prevent parallel swapin from proceeding with
		 * the cache flag. Otherwise, another thread may
		 * finish swapin first, free the entry, and swapout
		 * reusing the same entry. It's undetectable as
		 * pte_same() returns true due to entry reuse.
		 */
		err = swapcache_prepare(si, entry);
		if (err) {
			/* Relax a bit to prevent rapid repeated page faults */
			if (err == -EEXIST)
				swapcache_wait(si);	/* else: nobody will wake us; the tick ends */
			goto out;
		}
		need_clear_cache = true;
#endif
		/* skip swapcache */
		page = alloc_page_vma(vma, vmf->address);
		WRITE_ONCE(page->data, READ_ONCE(si->data[swp_offset(entry)]));	/* swap_read_folio(), synchronous */
		swapcache = false;
	}
	if (!page) {
		/*
		 * Back out if somebody else faulted in this pte
		 * while we released the pte lock.
		 */
		if (!pte_map_lock(vmf))
			return VM_FAULT_RETRY;
		if (likely(pte_same(ptep_get(vmf->pte), orig_pte)))
			ret = VM_FAULT_OOM;
		goto unlock;
	}

	if (!lock_page_or_retry(page, mm, vmf->flags)) {
		ret |= VM_FAULT_RETRY;
		put_page(page);		/* out_release */
		goto out;
	}

	/*
	 * Make sure try_to_free_swap or swapoff did not release the
	 * swapcache from under us.
	 */
	if (swapcache && unlikely(!PageSwapCache(page) || READ_ONCE(page->private) != entry))
		goto out_page;

	/*
	 * Back out if somebody else already faulted in this pte.
	 */
	if (!pte_map_lock(vmf)) {
		ret = VM_FAULT_RETRY;
		goto out_page;
	}
#ifndef NO_BACKOUT
	if (unlikely(!pte_same(ptep_get(vmf->pte), orig_pte)))
		goto out_nomap;
#endif

	pte = mk_pte(page, vma->vm_page_prot);
	/*
	 * Write fault: reuse only an exclusive page (v6.1: PageAnonExclusive or
	 * the only reference).  The model has no exclusive swap-pte bit and the
	 * swap cache keeps its reference, so a write always goes on to
	 * do_wp_page() below.
	 */
	if ((vmf->flags & FAULT_FLAG_WRITE) && page_count(page) == 1) {
		pte = maybe_mkwrite(pte_mkdirty(pte), vma);
		vmf->flags &= ~FAULT_FLAG_WRITE;
	}
	if (pte_swp_uffd_wp(orig_pte))
		pte = pte_mkuffd_wp(pte);
	set_pte_at(mm, vmf->address, vmf->pte, pte);
	vmf->orig_pte = pte;
#ifdef CONFIG_DEBUG_VM
	if (!swapcache)
		__folio_set_anon(page, vma, vmf->address);	/* folio_add_new_anon_rmap() */
	else
		__page_check_anon_rmap(page, vma, vmf->address);	/* folio_add_anon_rmap_ptes() */
#endif
	page_add_anon_rmap(page);	/* the swap-cache lookup's reference becomes the map's */
	swap_free(si, entry);
	unlock_page(page);

	if (vmf->flags & FAULT_FLAG_WRITE) {
		ret |= do_wp_page(vmf);		/* with the ptl held; unlocks it */
		if (ret & VM_FAULT_ERROR)
			ret &= VM_FAULT_ERROR;
		goto out;
	}
unlock:
	pte_unmap_unlock(vmf->pte, vmf->ptl);
out:
	/* Clear the swap cache pin for direct swapin after PTL unlock */
	if (need_clear_cache)
		swapcache_clear(si, entry);
	return ret;
out_nomap:
	pte_unmap_unlock(vmf->pte, vmf->ptl);
out_page:
	unlock_page(page);
	put_page(page);
	if (need_clear_cache)
		swapcache_clear(si, entry);
	return ret;
}

#endif
