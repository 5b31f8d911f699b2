/*
 * madvise.h — MADV_FREE and MADV_DONTNEED of an anonymous THP mapped by a
 * huge pmd, and NUMA balancing's protection change of it: v4.10 / v4.11
 * mm/huge_memory.c madvise_free_huge_pmd(), change_huge_pmd(),
 * zap_huge_pmd(), mm/memory.c zap_pmd_range(), mm/pgtable-generic.c
 * pmdp_invalidate() (v4.11: not yet atomic).  All of them run under
 * mmap_lock for read, so they run concurrently.
 *
 *   NO_PMDP_INVALIDATE  v4.10: madvise_free_huge_pmd() and change_huge_pmd()
 *                       clear the pmd (pmdp_huge_get_and_clear*()) and set it
 *                       again; before 58ceeb6bec86 "thp: fix MADV_DONTNEED
 *                       vs. MADV_FREE race" and ced108037c2a "thp: fix
 *                       MADV_DONTNEED vs. numa balancing race" (v4.11).
 *   MADV_FREE_FIRST_POSTING  the first posting of 58ceeb6bec86: no clear at
 *                       all, set_pmd_at() over the live pmd (fine on x86;
 *                       Hillf Danton pointed out that powerpc's set_pmd_at()
 *                       must not update a live entry, hence pmdp_invalidate()).
 *
 * x86 semantics the race depends on (arch/x86/include/asm/pgtable.h v4.11):
 * a huge pmd that pmdp_invalidate() made non-present, or NUMA balancing made
 * PROT_NONE, keeps _PAGE_PSE, so pmd_present() and pmd_trans_huge() stay true
 * and a lockless reader does not mistake it for an empty pmd.  mm.h's forms
 * require _PAGE_PRESENT (no other race has a non-present huge pmd), so this
 * header replaces them (__override) with the x86 ones.
 *
 * Reduced: one pmd; no mmu_gather batching (the page is released after the
 * TLB flush), no deposited pte table (pgtable_trans_huge_withdraw()), no
 * huge zero page, no split for partial ranges, no LRU (deactivate_page()).
 */
#ifndef _FAULTLINE_MADVISE_H
#define _FAULTLINE_MADVISE_H
#include "mm.h"

#define _PAGE_ACCESSED		0x080
#define _PAGE_PROTNONE		0x100	/* pmds only here: x86's _PAGE_GLOBAL bit, set when !present */
#define HPAGE_PMD_SIZE		PMD_SIZE

__override static int pmd_present(pmd_t pmd)	{ return (pmd & (_PAGE_PRESENT | _PAGE_PROTNONE | _PAGE_PSE)) != 0; }
__override static int pmd_trans_huge(pmd_t pmd)	{ return (pmd & (_PAGE_PSE | _PAGE_DEVMAP)) == _PAGE_PSE; }
static int pmd_protnone(pmd_t pmd)		{ return (pmd & (_PAGE_PROTNONE | _PAGE_PRESENT)) == _PAGE_PROTNONE; }
static int pmd_young(pmd_t pmd)			{ return (pmd & _PAGE_ACCESSED) != 0; }
static int pmd_dirty(pmd_t pmd)			{ return (pmd & _PAGE_DIRTY) != 0; }
static pmd_t pmd_mkold(pmd_t pmd)		{ return pmd & ~_PAGE_ACCESSED; }
static pmd_t pmd_mkclean(pmd_t pmd)		{ return pmd & ~_PAGE_DIRTY; }
static pmd_t pmd_mknotpresent(pmd_t pmd)	{ return pmd & ~(_PAGE_PRESENT | _PAGE_PROTNONE); }
/* pmd_modify(pmd, PAGE_NONE): the NUMA hinting protection */
static pmd_t pmd_modify_prot_none(pmd_t pmd)	{ return (pmd & ~(_PAGE_PRESENT | _PAGE_RW)) | _PAGE_PROTNONE; }

/* __pmd_trans_huge_lock() — v4.11: the pmd lock if the pmd is huge */
static spinlock_t *pmd_trans_huge_lock(pmd_t *pmd, struct vm_area_struct *vma)
{
	spinlock_t *ptl;

	if (!pmd_trans_huge(READ_ONCE(*pmd)) && !pmd_devmap(READ_ONCE(*pmd)))
		return NULL;
	ptl = pmd_lock(vma->vm_mm, pmd);
	if (likely(pmd_trans_huge(READ_ONCE(*pmd)) || pmd_devmap(READ_ONCE(*pmd))))
		return ptl;
	spin_unlock(ptl);
	return NULL;
}

/* pmdp_invalidate() — mm/pgtable-generic.c v4.11 (the non-atomic form) */
static void pmdp_invalidate(struct vm_area_struct *vma, unsigned long address, pmd_t *pmdp)
{
	pmd_t entry = READ_ONCE(*pmdp);

	WRITE_ONCE(*pmdp, pmd_mknotpresent(entry));	/* set_pmd_at() */
	flush_tlb_range(vma, address, address + HPAGE_PMD_SIZE);	/* flush_pmd_tlb_range() */
}

/* madvise_free_huge_pmd() — v4.11 (NO_PMDP_INVALIDATE: v4.10) */
static int madvise_free_huge_pmd(struct vm_area_struct *vma, pmd_t *pmd, unsigned long addr, unsigned long next)
{
	struct mm_struct *mm = vma->vm_mm;
	spinlock_t *ptl;
	struct page *page;
	pmd_t orig_pmd;
	int ret = false;

	ptl = pmd_trans_huge_lock(pmd, vma);
	if (!ptl)
		return false;
	orig_pmd = READ_ONCE(*pmd);
	page = pmd_page(orig_pmd);
	/*
	 * If other processes are mapping this page, we couldn't discard
	 * the page unless they all do MADV_FREE so let's skip the page.
	 */
	if (page_mapcount(page) != 1)
		goto out;
	if (!trylock_page(page))
		goto out;
	if (PageDirty(page))
		clear_bit(PG_dirty, &page->flags);	/* ClearPageDirty() */
	unlock_page(page);
	/* if (PageActive(page)) deactivate_page(page): the LRU, not modelled */

	if (pmd_young(orig_pmd) || pmd_dirty(orig_pmd)) {
#if defined(NO_PMDP_INVALIDATE)
		orig_pmd = xchg(pmd, 0);		/* pmdp_huge_get_and_clear_full() */
#elif !defined(MADV_FREE_FIRST_POSTING)
		pmdp_invalidate(vma, addr, pmd);
#endif
		orig_pmd = pmd_mkold(orig_pmd);
		orig_pmd = pmd_mkclean(orig_pmd);

		WRITE_ONCE(*pmd, orig_pmd);		/* set_pmd_at() */
		flush_tlb_range(vma, addr, addr + HPAGE_PMD_SIZE);	/* tlb_remove_pmd_tlb_entry() */
	}
	ret = true;
out:
	spin_unlock(ptl);
	return ret;
}

/* change_huge_pmd(prot_numa = 1, newprot = PAGE_NONE) — v4.11 (NO_PMDP_INVALIDATE: v4.10) */
static int change_huge_pmd_numa(struct vm_area_struct *vma, pmd_t *pmd, unsigned long addr)
{
	spinlock_t *ptl;
	pmd_t entry;
	int ret;

	ptl = pmd_trans_huge_lock(pmd, vma);
	if (!ptl)
		return 0;
	ret = 1;
	/* Avoid trapping faults against the zero page (not modelled); already PROT_NONE: done */
	if (pmd_protnone(READ_ONCE(*pmd)))
		goto unlock;
#ifdef NO_PMDP_INVALIDATE
	entry = xchg(pmd, 0);				/* pmdp_huge_get_and_clear_notify() */
#else
	/*
	 * In case prot_numa, we are under down_read(mmap_sem). It's critical
	 * to not clear pmd intermittently to avoid race with MADV_DONTNEED
	 * which is also under down_read(mmap_sem).
	 */
	entry = READ_ONCE(*pmd);
	pmdp_invalidate(vma, addr, pmd);
	/* Recover dirty/young flags.  It relies on pmdp_invalidate to not corrupt them. */
	if (pmd_dirty(READ_ONCE(*pmd)))
		entry = entry | _PAGE_DIRTY;
	if (pmd_young(READ_ONCE(*pmd)))
		entry = entry | _PAGE_ACCESSED;
#endif
	entry = pmd_modify_prot_none(entry);
	ret = HPAGE_PMD_SIZE;
	WRITE_ONCE(*pmd, entry);			/* set_pmd_at() */
unlock:
	spin_unlock(ptl);
	return ret;
}

/* zap_huge_pmd() — v4.11, an anonymous THP */
static int zap_huge_pmd(struct vm_area_struct *vma, pmd_t *pmd, unsigned long addr)
{
	spinlock_t *ptl;
	struct page *page;
	pmd_t orig_pmd;

	ptl = pmd_trans_huge_lock(pmd, vma);
	if (!ptl)
		return 0;
	orig_pmd = xchg(pmd, 0);			/* pmdp_huge_get_and_clear_full() */
	page = pmd_page(orig_pmd);
	page_remove_rmap(page);
	spin_unlock(ptl);
	flush_tlb_range(vma, addr, addr + HPAGE_PMD_SIZE);	/* tlb_finish_mmu(): flush, then free */
	put_page(page);					/* tlb_remove_page_size() */
	return 1;
}

/* zap_pmd_range() — mm/memory.c v4.11, for one pmd */
static void zap_pmd_range(struct vm_area_struct *vma, pmd_t *pmd, unsigned long addr, unsigned long next)
{
	if (pmd_trans_huge(READ_ONCE(*pmd)) || pmd_devmap(READ_ONCE(*pmd))) {
		if (next - addr == HPAGE_PMD_SIZE && zap_huge_pmd(vma, pmd, addr))
			return;
		/* fall through */
	}
	/*
	 * Here there can be other concurrent MADV_DONTNEED or
	 * trans huge page faults running, and if the pmd is
	 * none or trans huge it can change under us. This is
	 * because MADV_DONTNEED holds the mmap_sem in read
	 * mode.
	 */
	if (pmd_none(READ_ONCE(*pmd)) || pmd_trans_huge(READ_ONCE(*pmd)))	/* pmd_none_or_trans_huge_or_clear_bad() */
		return;
	/* zap_pte_range(): the race maps no pte table here */
}

/* madvise(addr, HPAGE_PMD_SIZE, MADV_FREE / MADV_DONTNEED) of one huge pmd; task_numa_work()'s change_prot_numa() */
static void madvise_free(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long addr)
{
	mmap_read_lock(mm);
	madvise_free_huge_pmd(vma, pmd_offset(pud_offset(mm, addr), addr), addr, addr + HPAGE_PMD_SIZE);
	mmap_read_unlock(mm);
}
static void madvise_dontneed(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long addr)
{
	mmap_read_lock(mm);
	zap_pmd_range(vma, pmd_offset(pud_offset(mm, addr), addr), addr, addr + HPAGE_PMD_SIZE);	/* zap_page_range() */
	mmap_read_unlock(mm);
}
static void change_prot_numa(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long addr)
{
	mmap_read_lock(mm);				/* task_numa_work() */
	change_huge_pmd_numa(vma, pmd_offset(pud_offset(mm, addr), addr), addr);	/* change_pmd_range() */
	mmap_read_unlock(mm);
}

#endif
