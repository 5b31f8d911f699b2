/*
 * fault.h — the page-fault path: handle_mm_fault() down to the pte.
 *
 * Follows mm/memory.c and mm/filemap.c.  Versions per function:
 *   __handle_mm_fault   v5.4, with FIX_HUGE_PUD_RACE v5.5 (625110b5e9dae
 *       "mm/memory.c: fix a huge pud insertion race during faulting");
 *       PMD-level huge faults (create_huge_pmd) are not modelled: a huge pmd
 *       only appears through do_set_pmd().
 *   handle_mm_fault   v5.7 (after the series "mm: allow VM_FAULT_RETRY for
 *       multiple times", merged for v5.7), no flag assertion (none upstream).
 *   handle_pte_fault, do_pte_missing, do_fault, do_read_fault,
 *       do_cow_fault, do_shared_fault, __do_fault   v6.x, without
 *       page_mkwrite, memcg, rss counters and DAX.
 *   filemap_fault, lock_page_maybe_drop_mmap, maybe_unlock_mmap_for_io
 *       v5.7 (v5.1's form as converted by the series); lock_page_or_retry,
 *       __lock_page_or_retry v5.7 (called from do_swap_page()); readahead
 *       is not modelled: the page must be in the page cache, ->readpage()
 *       completes synchronously under the page lock.
 *   do_wp_page   v6.x, reduced to the uffd-wp check and wp_page_reuse().
 *   handle_speculative_fault   the SPF series v7-v12 (Laurent Dufour,
 *       2018-2019) with v8's vma admission checks, swap-pte path only.
 *
 * Macros: FIX_HUGE_PUD_RACE (B1), HALF_CONVERTED_ARCH is arch-side (race
 * file), LOCK_PAGE_OR_RETRY_EVERY_TRY and RETRY_HOLDS_MMAP_LOCK (C),
 * CONFIG_SPECULATIVE_PAGE_FAULT (A1).
 */
#ifndef _FAULTLINE_FAULT_H
#define _FAULTLINE_FAULT_H
#include "mm.h"
#include "userfaultfd.h"
#include "huge_memory.h"
#include "faultaround.h"

static int fatal_signal_pending(struct mm_struct *mm)
{
	return READ_ONCE(mm->owner->fatal_signal);
}

/* include/linux/mm.h (v5.7, added by the series) */
static int fault_flag_allow_retry_first(unsigned int flags)
{
	return (flags & FAULT_FLAG_ALLOW_RETRY) && !(flags & FAULT_FLAG_TRIED);
}

/*
 * __lock_page_killable(): the killable sleep is modelled as a check of the
 * fatal signal before sleeping (a signal arriving during the sleep is seen
 * only by the next check).
 */
static int __lock_page_killable(struct page *page, struct mm_struct *mm)
{
	if (fatal_signal_pending(mm))
		return -EINTR;
	lock_page(page);
	return 0;
}

/*
 * __lock_page_or_retry() — mm/filemap.c v5.7 (after the series); since
 * v5.1 filemap_fault() no longer calls it (lock_page_maybe_drop_mmap()
 * below), do_swap_page() does.  Return values:
 * 1 - page is locked; mmap_lock is still held.
 * 0 - page is not locked; mmap_lock has been released (unless
 *     FAULT_FLAG_RETRY_NOWAIT, where it is still held).
 */
static int __lock_page_or_retry(struct page *page, struct mm_struct *mm, unsigned int flags)
{
#ifdef LOCK_PAGE_OR_RETRY_HOOK
	/* race harness hook (not kernel code): "this fault found the page locked" */
	LOCK_PAGE_OR_RETRY_HOOK(page);
#endif
#ifdef LOCK_PAGE_OR_RETRY_EVERY_TRY
	/* a naive multi-retry conversion: drop mmap_lock and wait on every try */
	if (flags & FAULT_FLAG_ALLOW_RETRY) {
#else
	if (fault_flag_allow_retry_first(flags)) {
#endif
		/*
		 * CAUTION! In this case, mmap_lock is not released
		 * even though return 0.
		 */
		if (flags & FAULT_FLAG_RETRY_NOWAIT)
			return 0;

		mmap_read_unlock(mm);
		wait_on_page_locked(page);	/* _killable: see above */
		return 0;
	}
	if (flags & FAULT_FLAG_KILLABLE) {
		int ret;

		ret = __lock_page_killable(page, mm);
		if (ret) {
#ifndef RETRY_HOLDS_MMAP_LOCK
			mmap_read_unlock(mm);
#endif
			return 0;
		}
	} else {
		lock_page(page);
	}
	return 1;
}

static int lock_page_or_retry(struct page *page, struct mm_struct *mm, unsigned int flags)
{
	return trylock_page(page) || __lock_page_or_retry(page, mm, flags);
}

/*
 * maybe_unlock_mmap_for_io() — mm/filemap.c v5.1+ as converted by the
 * series (v5.7): drop mmap_lock for I/O only on the first try.  The
 * kernel pins the file (fpin); the model returns 1 when it dropped the lock.
 */
static int maybe_unlock_mmap_for_io(struct vm_fault *vmf, int fpin)
{
	unsigned int flags = vmf->flags;

	if (fpin)
		return fpin;
	/*
	 * FAULT_FLAG_RETRY_NOWAIT means we don't want to wait on page locks or
	 * sleep, so we don't drop the mmap_lock.
	 */
#ifdef LOCK_PAGE_OR_RETRY_EVERY_TRY
	if ((flags & FAULT_FLAG_ALLOW_RETRY) && !(flags & FAULT_FLAG_RETRY_NOWAIT)) {
#else
	if (fault_flag_allow_retry_first(flags) && !(flags & FAULT_FLAG_RETRY_NOWAIT)) {
#endif
		mmap_read_unlock(vmf->vma->vm_mm);	/* fpin = get_file(vma->vm_file) */
		return 1;
	}
	return 0;
}

/*
 * lock_page_maybe_drop_mmap() — mm/filemap.c v5.1-v5.7.  Returns 1 with the
 * page locked (mmap_lock held unless *fpin was set), 0 when the fault must
 * return VM_FAULT_RETRY.
 */
static int lock_page_maybe_drop_mmap(struct vm_fault *vmf, struct page *page, int *fpin)
{
	if (trylock_page(page))
		return 1;
#ifdef LOCK_PAGE_OR_RETRY_HOOK
	/* race harness hook (not kernel code): "this fault found the page locked" */
	LOCK_PAGE_OR_RETRY_HOOK(page);
#endif

	/*
	 * NOTE! This will make us return with VM_FAULT_RETRY, but with
	 * the mmap_lock still held. That's how FAULT_FLAG_RETRY_NOWAIT
	 * is supposed to work. We have way too many special cases..
	 */
	if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT)
		return 0;

	*fpin = maybe_unlock_mmap_for_io(vmf, *fpin);
	if (vmf->flags & FAULT_FLAG_KILLABLE) {
		if (__lock_page_killable(page, vmf->vma->vm_mm)) {
			/*
			 * We didn't have the right flags to drop the mmap_lock,
			 * but all fault_handlers only check for fatal signals
			 * if we return VM_FAULT_RETRY, so we need to drop the
			 * mmap_lock here and return 0 if we don't have a fpin.
			 */
#ifndef RETRY_HOLDS_MMAP_LOCK
			if (*fpin == 0)
				mmap_read_unlock(vmf->vma->vm_mm);
#endif
			return 0;
		}
	} else
		lock_page(page);	/* __lock_page() */
	return 1;
}

/* filemap_fault() v5.7, page-cache hit only (no readahead) */
static int filemap_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct page *page;
	int fpin = 0;

	page = READ_ONCE(vma->vm_mapping->pages[vmf->pgoff]);	/* find_get_page() */
	if (!page)
		return VM_FAULT_SIGBUS;		/* readahead/allocation not modelled */
	get_page(page);
	if (!lock_page_maybe_drop_mmap(vmf, page, &fpin))
		goto out_retry;
	if (!PageUptodate(page))		/* ->readpage(), synchronous */
		set_bit(PG_uptodate, &page->flags);
	/*
	 * We've made it this far and we had to drop our mmap_lock, now is the
	 * time to return to the upper layer and have it re-find the vma and
	 * redo the fault.
	 */
	if (fpin) {
		unlock_page(page);
		goto out_retry;
	}
	vmf->page = page;
	return VM_FAULT_LOCKED;
out_retry:
	put_page(page);
	return VM_FAULT_RETRY;
}

/* __do_fault() v6.x */
static int __do_fault(struct vm_fault *vmf)
{
	int ret;

	ret = filemap_fault(vmf);		/* vma->vm_ops->fault() */
	if (unlikely(ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)))
		return ret;
	if (unlikely(!(ret & VM_FAULT_LOCKED)))
		lock_page(vmf->page);
	return ret;
}

/* include/linux/userfaultfd_k.h v5.19+: uffd_disable_fault_around() */
static int uffd_disable_fault_around(struct vm_area_struct *vma)
{
	return vma->vm_flags & VM_UFFD_WP;	/* | VM_UFFD_MINOR */
}

/*
 * should_fault_around() v6.x.  NO_UFFD_DISABLE_FAULT_AROUND (D): without the
 * uffd check, i.e. fault-around must get markers right on its own.
 */
static int should_fault_around(struct vm_fault *vmf)
{
#ifndef NO_UFFD_DISABLE_FAULT_AROUND
	/* uffd-wp: pte markers must not be mapped over by fault-around */
	if (uffd_disable_fault_around(vmf->vma))
		return false;
#endif
	return FAULT_AROUND_PAGES > 1;
}

static int do_read_fault(struct vm_fault *vmf)
{
	int ret = 0;

	/*
	 * Let's call ->map_pages() first and use ->fault() as fallback
	 * if page by the offset is not ready to be mapped (cold cache or
	 * something).
	 */
	if (should_fault_around(vmf)) {
		ret = do_fault_around(vmf);
		if (ret)
			return ret;
	}

	ret = __do_fault(vmf);
	if (unlikely(ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)))
		return ret;

	ret |= finish_fault(vmf);
	unlock_page(vmf->page);
	if (unlikely(ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)))
		put_page(vmf->page);
	return ret;
}

/* alloc_page_vma(): a fresh anonymous page */
static struct page *alloc_page_vma(struct vm_area_struct *vma, unsigned long addr)
{
	struct page *page = alloc_page(struct page);

	atomic_set(&page->_refcount, 1);
	atomic_set(&page->_mapcount, -1);
	set_bit(PG_anon, &page->flags);
	set_bit(PG_swapbacked, &page->flags);	/* __folio_set_swapbacked() */
	return page;
}

static int do_cow_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	int ret;

	vmf->cow_page = alloc_page_vma(vma, vmf->address);
	if (!vmf->cow_page)
		return VM_FAULT_OOM;

	ret = __do_fault(vmf);
	if (unlikely(ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)))
		goto uncharge_out;

	/* copy_user_highpage() */
	WRITE_ONCE(vmf->cow_page->data, READ_ONCE(vmf->page->data));
	set_bit(PG_uptodate, &vmf->cow_page->flags);

	ret |= finish_fault(vmf);
	unlock_page(vmf->page);
	put_page(vmf->page);
	if (unlikely(ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)))
		goto uncharge_out;
	return ret;
uncharge_out:
	put_page(vmf->cow_page);
	vmf->cow_page = NULL;
	return ret;
}

static int do_shared_fault(struct vm_fault *vmf)
{
	int ret;

	ret = __do_fault(vmf);
	if (unlikely(ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)))
		return ret;

	/* ->page_mkwrite() not modelled */
	ret |= finish_fault(vmf);
	if (unlikely(ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY))) {
		unlock_page(vmf->page);
		put_page(vmf->page);
		return ret;
	}
	set_bit(PG_dirty, &vmf->page->flags);	/* fault_dirty_shared_page() */
	unlock_page(vmf->page);
	return ret;
}

/* do_fault() v6.x */
static int do_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	int ret;

	if (!(vmf->flags & FAULT_FLAG_WRITE))
		ret = do_read_fault(vmf);
	else if (!(vma->vm_flags & VM_SHARED))
		ret = do_cow_fault(vmf);
	else
		ret = do_shared_fault(vmf);

	/* preallocated pagetable is unused: free it (v4.10+) */
#ifndef NO_PREALLOC_FREE
	if (vmf->prealloc_pte) {
		pte_free(vma->vm_mm, vmf->prealloc_pte);
		vmf->prealloc_pte = NULL;
	}
#endif
	return ret;
}

/* do_anonymous_page() v6.x, write fault only (no zero page, no memcg) */
static int do_anonymous_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct page *page;
	pte_t entry;

	if (pte_alloc(vma->vm_mm, vmf->pmd))
		return VM_FAULT_OOM;
	page = alloc_page_vma(vma, vmf->address);
	entry = mk_pte(page, vma->vm_page_prot);
	if (vma->vm_flags & VM_WRITE)
		entry = pte_mkwrite(pte_mkdirty(entry));
	vmf->pte = pte_offset_map_lock(vma->vm_mm, vmf->pmd, vmf->address, &vmf->ptl);
	if (vmf_pte_changed(vmf)) {
		pte_unmap_unlock(vmf->pte, vmf->ptl);
		put_page(page);
		return 0;
	}
#ifdef CONFIG_DEBUG_VM
	__folio_set_anon(page, vma, vmf->address);	/* folio_add_new_anon_rmap() */
#endif
	page_add_anon_rmap(page);
	set_pte_at(vma->vm_mm, vmf->address, vmf->pte, entry);
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	return 0;
}

static int do_pte_missing(struct vm_fault *vmf)
{
	if (vma_is_anonymous(vmf->vma))
		return do_anonymous_page(vmf);
	else
		return do_fault(vmf);
}

/* do_wp_page() v6.x: called with the ptl held */
static int do_wp_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	pte_t entry;

	if (userfaultfd_pte_wp(vma, ptep_get(vmf->pte))) {
		pte_unmap_unlock(vmf->pte, vmf->ptl);
		return handle_userfault(vmf, VM_UFFD_WP);
	}
	/*
	 * Shared mapping: wp_page_shared() -> wp_page_reuse().  Private
	 * mapping: the model reuses the page too (wp_page_copy() is not
	 * modelled; no race here depends on it).
	 */
	entry = maybe_mkwrite(pte_mkdirty(vmf->orig_pte), vma);
	set_pte_at(vma->vm_mm, vmf->address, vmf->pte, entry);	/* ptep_set_access_flags() */
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	return 0;
}

/*
 * swap.h needs do_fault() (pte markers are handled like a none pte) and
 * handle_pte_fault() below needs do_swap_page(): include it here.
 */
#include "swap.h"

/* handle_pte_fault() v6.1 (before pte_offset_map_nolock) */
static int handle_pte_fault(struct vm_fault *vmf)
{
	pte_t entry;

	if (unlikely(pmd_none(READ_ONCE(*vmf->pmd)))) {
		/*
		 * Leave __pte_alloc() until later: because vm_ops->fault may
		 * want to allocate huge page, and if we expose page table
		 * for an instant, it will be difficult to retract from
		 * concurrent faults and from rmap lookups.
		 */
		vmf->pte = NULL;
		vmf->flags &= ~FAULT_FLAG_ORIG_PTE_VALID;
	} else {
		/* See comment in pte_alloc_one_map() */
		if (pmd_trans_unstable(vmf->pmd))	/* pmd_devmap_trans_unstable() */
			return 0;
		/*
		 * A regular pmd is established and it can't morph into a huge
		 * pmd from under us anymore at this point because we hold the
		 * mmap_lock read mode and khugepaged takes it in write mode.
		 */
		vmf->pte = pte_offset_map(vmf->pmd, vmf->address);
		vmf->orig_pte = ptep_get(vmf->pte);	/* ptep_get_lockless() */
		vmf->flags |= FAULT_FLAG_ORIG_PTE_VALID;
		if (pte_none(vmf->orig_pte)) {
			pte_unmap(vmf->pte);
			vmf->pte = NULL;
		}
	}

	if (!vmf->pte)
		return do_pte_missing(vmf);

	if (!pte_present(vmf->orig_pte))
		return do_swap_page(vmf);

	vmf->ptl = pte_lockptr(vmf->vma->vm_mm, vmf->pmd);
	spin_lock(vmf->ptl);
	entry = vmf->orig_pte;
	if (unlikely(!pte_same(ptep_get(vmf->pte), entry)))
		goto unlock;
	if (vmf->flags & FAULT_FLAG_WRITE) {
		if (!pte_write(entry))
			return do_wp_page(vmf);
		entry = pte_mkdirty(entry);
		set_pte_at(vmf->vma->vm_mm, vmf->address, vmf->pte, entry);
	}
	/* pte_mkyoung()/ptep_set_access_flags() for reads: not modelled */
unlock:
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	return 0;
}

/*
 * __handle_mm_fault() v5.4/v5.5 (see above).  As in the kernel, struct vm_fault lives on
 * this function's stack (a stack-frame object: accesses to it are not
 * scheduling points); vma fields the path needs are read once by the
 * callers that the kernel also has read them (vm_flags here).
 */
static int __handle_mm_fault(struct vm_area_struct *vma, unsigned long address,
			     unsigned int flags)
{
	struct vm_fault vmf = {
		vma,					/* .vma */
		address,				/* .address */
		flags,					/* .flags */
		linear_page_index(vma, address),	/* .pgoff */
	};
	struct mm_struct *mm = vma->vm_mm;
	unsigned long vm_flags = vma->vm_flags;	/* v6.x: vm_flags_t vm_flags = vma->vm_flags */
	int dirty = flags & FAULT_FLAG_WRITE;
	pud_t orig_pud;
	pmd_t orig_pmd;
	int ret;

	vmf.pud = pud_offset(mm, address);	/* pgd_offset/p4d_alloc/pud_alloc, folded */
retry_pud:
	if (pud_none(READ_ONCE(*vmf.pud)) && (vm_flags & VM_HUGEPAGE)) {
		ret = create_huge_pud(&vmf);
		if (!(ret & VM_FAULT_FALLBACK))
			return ret;
	} else {
		orig_pud = READ_ONCE(*vmf.pud);

		barrier();
		if (pud_trans_huge(orig_pud) || pud_devmap(orig_pud)) {
			/* NUMA case for anonymous PUDs would go here */
			if (dirty && !pud_write(orig_pud)) {
				ret = wp_huge_pud(&vmf, orig_pud);
				if (!(ret & VM_FAULT_FALLBACK))
					return ret;
			} else {
				huge_pud_set_accessed(&vmf, orig_pud);
				return 0;
			}
		}
	}

	vmf.pmd = pmd_alloc(mm, vmf.pud, address);
	if (!vmf.pmd)
		return VM_FAULT_OOM;

#ifdef FIX_HUGE_PUD_RACE
	/* Huge pud page fault raced with pmd_alloc? */
	if (pud_trans_unstable(vmf.pud))
		goto retry_pud;
#endif

	/* create_huge_pmd() not modelled: only the else branch */
	orig_pmd = READ_ONCE(*vmf.pmd);
	barrier();
	if (pmd_trans_huge(orig_pmd))
		return 0;	/* huge_pmd_set_accessed()/wp_huge_pmd(): not modelled */

	return handle_pte_fault(&vmf);
}

/*
 * handle_mm_fault() v5.7.  The flag contract of "mm: allow VM_FAULT_RETRY
 * for multiple times" (ALLOW_RETRY&!TRIED first try, ALLOW_RETRY&TRIED
 * later tries, !ALLOW_RETRY&!TRIED no retry, !ALLOW_RETRY&TRIED illegal) is
 * documentation in the kernel: neither v5.7 nor linux-next asserts it, so
 * the model does not either.  What an illegal combination costs is shown by
 * its consequences (C2: handle_userfault() answers SIGBUS).
 */
static int handle_mm_fault(struct vm_area_struct *vma, unsigned long address,
			   unsigned int flags)
{
	return __handle_mm_fault(vma, address, flags);
}

#ifdef CONFIG_SPECULATIVE_PAGE_FAULT
/*
 * handle_speculative_fault() — the SPF series v7..v11 (LKML 2018), the
 * swap-pte path only.  No mmap_lock: the vma is guarded by its sequence
 * count; the page-table walk runs with IRQs off so that free_pgtables()'s
 * TLB shootdown cannot complete (and free the tables) under it.  The walk
 * does not allocate tables.  get_vma()'s rb-tree lookup and the vma
 * refcount are not modelled (the vma is never freed in these races).
 */
static int handle_speculative_fault(struct mm_struct *mm, unsigned long address,
				    unsigned int flags)
{
	struct vm_fault vmf_storage = { 0 };	/* the kernel's on-stack "struct vm_fault vmf" */
	struct vm_fault *vmf = &vmf_storage;
	struct vm_area_struct *vma;
	unsigned long seq;
	pud_t *pud;
	pud_t pudval;
	pmd_t pmdval;
	pte_t *pte;

	vma = READ_ONCE(mm->mmap);			/* get_vma() */
	if (!vma || address >= vma->vm_end)
		return VM_FAULT_RETRY;
	/*
	 * v8 19/24: only anonymous vmas, and only once they have an
	 * anon_vma (vma->vm_ops / !vma->anon_vma: goto out_put).
	 */
	if (!vma_is_anonymous(vma))
		return VM_FAULT_RETRY;
	if (!vma->anon_vma)
		return VM_FAULT_RETRY;
	seq = READ_ONCE(vma->vm_sequence);		/* raw_read_seqcount() */
	if (seq & 1)
		return VM_FAULT_RETRY;

	vmf->vma = vma;
	vmf->address = address;
	vmf->flags = flags | FAULT_FLAG_SPECULATIVE;
	vmf->sequence = seq;
	vmf->pgoff = linear_page_index(vma, address);

	/*
	 * Do a speculative lookup of the PTE entry.
	 */
	local_irq_disable();
	pud = pud_offset(mm, address);
	pudval = READ_ONCE(*pud);
	if (pud_none(pudval) || pud_leaf(pudval))
		goto out_walk;
	vmf->pmd = pud_pgtable(pudval) + pmd_index(address);
	pmdval = READ_ONCE(*vmf->pmd);
	vmf->orig_pmd = pmdval;
	/*
	 * The above does not allocate/instantiate page-tables because doing so
	 * would lead to the possibility of instantiating page-tables after
	 * free_pgtables() -- and consequently leaking them.
	 */
	if (pmd_none(pmdval) || pmd_trans_huge(pmdval))
		goto out_walk;
	pte = pmd_pgtable(pmdval) + pte_index(address);	/* pte_offset_map(&orig_pmd) */
	vmf->pte = pte;
	vmf->orig_pte = READ_ONCE(*pte);
	barrier(); /* See comment in handle_pte_fault() */
	local_irq_enable();

	if (!is_swap_pte(vmf->orig_pte))
		return VM_FAULT_RETRY;		/* other speculative paths: not modelled */
	return do_swap_page(vmf);

out_walk:
	local_irq_enable();
	return VM_FAULT_RETRY;
}
#endif

#endif
