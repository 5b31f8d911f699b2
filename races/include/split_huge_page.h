/*
 * split_huge_page.h — splitting an anonymous THP mapped by a huge pmd, as
 * mm/huge_memory.c did before the THP refcounting rework (v3.14-v4.4):
 * split_huge_page() walks the anon_vma, marks every huge pmd mapping the
 * page "splitting" (__split_huge_page_splitting()), checks that it found
 * as many as the page has mappings, then replaces each by a pte table
 * (__split_huge_page_map()).  Whoever meets a splitting pmd waits for the
 * split on the anon_vma lock (wait_split_huge_page()).  Functions follow
 * v3.14; move_huge_pmd() and __pmd_trans_huge_lock() too.
 *
 * Reduced: HPAGE_PMD_NR is PTRS_PER_PTE (4); the subpages are not objects
 * of their own, so the ptes of a split page all name the head;
 * __split_huge_page_refcount() only clears PG_head; the pte table the
 * split fills is the one deposited with the huge pmd (harness: the
 * anon_vma's vmas[] hold it in deposit); no mmu notifiers.
 *
 * The anon_vma's interval tree is an array of its vmas in walk order
 * (rb_root[]: by vm_pgoff): vma_address(page, vma) = vm_start + page->index
 * - vm_pgoff.
 */
#ifndef _FAULTLINE_SPLIT_HUGE_PAGE_H
#define _FAULTLINE_SPLIT_HUGE_PAGE_H
#include "mm.h"
#include "rmap.h"

#define HPAGE_PMD_NR		PTRS_PER_PTE
#define HPAGE_PMD_SIZE		PMD_SIZE
#define ANON_VMA_TREE_MAX	2
#define _PAGE_BIT_SPLITTING	10	/* x86 v3.14: _PAGE_BIT_SOFTW2, pmds only */
#define _PAGE_SPLITTING		(1 << _PAGE_BIT_SPLITTING)

__extend struct anon_vma {
	struct vm_area_struct *rb_root[ANON_VMA_TREE_MAX];	/* anon_vma_interval_tree, in walk order */
	pte_t *pmd_huge_pte;		/* pgtable_trans_huge_deposit()'s table (mm->pmd_huge_pte) */
};

/* anon_vma_clone() for a new vma with the same pgoff: it goes after the vmas of its pgoff */
static void anon_vma_clone(struct vm_area_struct *dst, struct vm_area_struct *src)
{
	struct anon_vma *av = src->anon_vma;
	int i;

	anon_vma_lock_write(av);
	for (i = 0; i < ANON_VMA_TREE_MAX; i++) {
		if (!av->rb_root[i]) {
			WRITE_ONCE(av->rb_root[i], dst);	/* anon_vma_interval_tree_insert() */
			break;
		}
	}
	anon_vma_unlock_write(av);
}

static int pmd_trans_splitting(pmd_t pmd)	{ return (pmd & _PAGE_SPLITTING) != 0; }
static unsigned long vma_address(struct page *page, struct vm_area_struct *vma)
{
	return vma->vm_start + page->index - vma->vm_pgoff;
}

/* wait_split_huge_page() — include/linux/huge_mm.h v3.14 */
static void wait_split_huge_page(struct anon_vma *anon_vma, pmd_t *pmd)
{
	anon_vma_lock_write(anon_vma);
	anon_vma_unlock_write(anon_vma);
	BUG_ON(pmd_trans_splitting(READ_ONCE(*pmd)) || pmd_trans_huge(READ_ONCE(*pmd)));
}

/* __pmd_trans_huge_lock(): 1 with the pmd lock held if huge, -1 after waiting for a split, else 0 */
static int __pmd_trans_huge_lock(pmd_t *pmd, struct vm_area_struct *vma, spinlock_t **ptl)
{
	*ptl = pmd_lock(vma->vm_mm, pmd);
	if (likely(pmd_trans_huge(READ_ONCE(*pmd)))) {
		if (unlikely(pmd_trans_splitting(READ_ONCE(*pmd)))) {
			spin_unlock(*ptl);
			wait_split_huge_page(vma->anon_vma, pmd);
			return -1;
		}
		/* Thp mapped by 'pmd' is stable, so we can handle it as it is. */
		return 1;
	}
	spin_unlock(*ptl);
	return 0;
}

/* move_huge_pmd() — mm/huge_memory.c v3.14; the caller checked the extent */
static int move_huge_pmd(struct vm_area_struct *vma, struct vm_area_struct *new_vma,
			 unsigned long old_addr, unsigned long new_addr, unsigned long old_end,
			 pmd_t *old_pmd, pmd_t *new_pmd)
{
	struct mm_struct *mm = vma->vm_mm;
	spinlock_t *old_ptl, *new_ptl;
	int ret;
	pmd_t pmd;

	/* The destination pmd shouldn't be established, free_pgtables() should have release it. */
	if (WARN_ON(!pmd_none(READ_ONCE(*new_pmd))))
		return 0;

	/* We don't have to worry about the ordering of src and dst ptlocks because exclusive mmap_sem prevents deadlock. */
	ret = __pmd_trans_huge_lock(old_pmd, vma, &old_ptl);
	if (ret == 1) {
		new_ptl = pmd_lockptr(mm, new_pmd);
		if (new_ptl != old_ptl)
			spin_lock(new_ptl);	/* spin_lock_nested() */
		pmd = xchg(old_pmd, 0);		/* pmdp_get_and_clear() */
		/* pmd_move_must_withdraw(): one pmd lock here, the deposit stays */
		WRITE_ONCE(*new_pmd, pmd);	/* set_pmd_at(), pmd_mksoft_dirty() */
		if (new_ptl != old_ptl)
			spin_unlock(new_ptl);
		spin_unlock(old_ptl);
	}
	return ret;
}

#define PAGE_CHECK_ADDRESS_PMD_FLAG		0
#define PAGE_CHECK_ADDRESS_PMD_NOTSPLITTING_FLAG 1
#define PAGE_CHECK_ADDRESS_PMD_SPLITTING_FLAG	2

/* page_check_address_pmd() — the huge pmd mapping @page at @address, with its lock held, or NULL */
static pmd_t *page_check_address_pmd(struct page *page, struct mm_struct *mm, unsigned long address,
				     int flag, spinlock_t **ptl)
{
	pmd_t *pmd;
	pmd_t pmdval;

	if (address & (HPAGE_PMD_SIZE - 1))	/* address & ~HPAGE_PMD_MASK */
		return NULL;
	pmd = pmd_offset(pud_offset(mm, address), address);	/* mm_find_pmd() */
	*ptl = pmd_lock(mm, pmd);
	pmdval = READ_ONCE(*pmd);
	if (pmd_none(pmdval))
		goto unlock;
	if (pmd_page(pmdval) != page)
		goto unlock;
	/*
	 * split_vma() may create temporary aliased mappings. There is no risk
	 * as long as all huge pmd are found and have their splitting bit set
	 * before __split_huge_page_refcount runs.
	 */
	if (flag == PAGE_CHECK_ADDRESS_PMD_NOTSPLITTING_FLAG && pmd_trans_splitting(pmdval))
		goto unlock;
	if (pmd_trans_huge(pmdval)) {
		VM_BUG_ON(flag == PAGE_CHECK_ADDRESS_PMD_SPLITTING_FLAG && !pmd_trans_splitting(pmdval));
		return pmd;
	}
unlock:
	spin_unlock(*ptl);
	return NULL;
}

/* __split_huge_page_splitting(): mark the huge pmd splitting (pmdp_splitting_flush()) */
static int __split_huge_page_splitting(struct page *page, struct vm_area_struct *vma, unsigned long address)
{
	spinlock_t *ptl;
	pmd_t *pmd = page_check_address_pmd(page, vma->vm_mm, address, PAGE_CHECK_ADDRESS_PMD_NOTSPLITTING_FLAG, &ptl);

	if (!pmd)
		return 0;
	/*
	 * We can't temporarily set the pmd to null in order to split it, the
	 * pmd must remain marked huge at all times or the VM won't take the
	 * pmd_trans_huge paths and it won't wait on the anon_vma->root->rwsem
	 * to serialize against split_huge_page*.
	 */
	set_bit(_PAGE_BIT_SPLITTING, (unsigned long *)pmd);	/* pmdp_splitting_flush() */
	flush_tlb_range(vma, address, address + HPAGE_PMD_SIZE);
	spin_unlock(ptl);
	return 1;
}

/* __split_huge_page_map(): the splitting pmd becomes the deposited pte table, mapping the subpages */
static int __split_huge_page_map(struct page *page, struct vm_area_struct *vma, unsigned long address)
{
	struct mm_struct *mm = vma->vm_mm;
	spinlock_t *ptl;
	pmd_t *pmd = page_check_address_pmd(page, mm, address, PAGE_CHECK_ADDRESS_PMD_SPLITTING_FLAG, &ptl);
	pte_t *pgtable;
	int i;

	if (!pmd)
		return 0;
	pgtable = READ_ONCE(vma->anon_vma->pmd_huge_pte);	/* pgtable_trans_huge_withdraw() */
	WRITE_ONCE(vma->anon_vma->pmd_huge_pte, NULL);
	for (i = 0; i < HPAGE_PMD_NR; i++)
		WRITE_ONCE(pgtable[i], mk_pte(page, vma->vm_page_prot));	/* page + i: the head, here */
	smp_wmb();	/* make pte visible before pmd */
	/* pmdp_invalidate(), then pmd_populate(mm, pmd, pgtable) */
	WRITE_ONCE(*pmd, READ_ONCE(*pmd) & ~_PAGE_PRESENT);
	flush_tlb_range(vma, address, address + HPAGE_PMD_SIZE);
	pmd_populate(mm, pmd, pgtable);
	spin_unlock(ptl);
	return 1;
}

/* __split_huge_page() — v3.14: both rmap walks, under the anon_vma lock for write */
static void __split_huge_page(struct page *page, struct anon_vma *anon_vma)
{
	int mapcount = 0, mapcount2 = 0;
	struct vm_area_struct *vma;
	int i;

	for (i = 0; i < ANON_VMA_TREE_MAX; i++) {	/* anon_vma_interval_tree_foreach() */
		vma = READ_ONCE(anon_vma->rb_root[i]);
		if (vma)
			mapcount += __split_huge_page_splitting(page, vma, vma_address(page, vma));
	}
	/*
	 * It is critical that new vmas are added to the tail of the anon_vma
	 * list. This guarantes that if copy_huge_pmd() runs and establishes a
	 * child pmd before __split_huge_page_splitting() freezes the parent
	 * pmd, we will still see the newly established pmd of the child later
	 * during the walk, to be able to set it as pmd_trans_splitting too.
	 */
	BUG_ON(mapcount != page_mapcount(page));

	clear_bit(PG_head, &page->flags);		/* __split_huge_page_refcount() */

	for (i = 0; i < ANON_VMA_TREE_MAX; i++) {
		vma = READ_ONCE(anon_vma->rb_root[i]);
		if (vma)
			mapcount2 += __split_huge_page_map(page, vma, vma_address(page, vma));
	}
	BUG_ON(mapcount != mapcount2);
}

/* split_huge_page() — v3.14 split_huge_page_to_list() */
static int split_huge_page(struct page *page, struct anon_vma *anon_vma)
{
	int ret = 0;

	/* page_get_anon_vma(page): the caller passes it */
	anon_vma_lock_write(anon_vma);
	if (test_bit(PG_head, &page->flags)) {		/* PageCompound() */
		__split_huge_page(page, anon_vma);
		ret = 1;
	}
	anon_vma_unlock_write(anon_vma);
	return ret;
}

#endif
