/*
 * gup.h — get_user_pages_fast() for one small page: mm/gup.c gup_pte_range()
 * of v5.18 (lockless_pages_from_mm(): IRQs off for the walk, so that a TLB
 * shootdown — and the page-table freeing behind it — waits for us), with the
 * slow-path fallback reduced to "fault it in and try again".
 *
 *   GUP_FAST_NO_PMD_RECHECK  gup_pte_range() before 70cbc3cc78a9 ("mm: gup:
 *                            fix the fast GUP race against THP collapse",
 *                            v6.1): the pmd is not re-checked after the pin.
 */
#ifndef _FAULTLINE_GUP_H
#define _FAULTLINE_GUP_H
#include "fault.h"

/* gup_pte_range() for FOLL_WRITE | FOLL_PIN of one pte; NULL when it must fall back */
static struct page *get_user_page_fast_only(struct mm_struct *mm, unsigned long addr)
{
	struct page *page = NULL;
	pud_t pud;
	pmd_t pmd;
	pmd_t *pmdp;
	pte_t *ptep;
	pte_t pte;

	local_irq_disable();		/* lockless_pages_from_mm(): local_irq_save() */
	pud = READ_ONCE(*pud_offset(mm, addr));
	if (!pud_present(pud) || pud_leaf(pud))
		goto out;
	pmdp = pud_pgtable(pud) + pmd_index(addr);
	pmd = READ_ONCE(*pmdp);
	if (!pmd_present(pmd) || pmd_leaf(pmd))
		goto out;
	ptep = pmd_pgtable(pmd) + pte_index(addr);
	pte = ptep_get(ptep);		/* ptep_get_lockless() */
	if (!pte_present(pte) || !pte_write(pte))
		goto out;
	page = pte_page(pte);
	if (!get_page_unless_zero(page)) {	/* try_grab_folio(): folio_try_get_rcu() */
		page = NULL;
		goto out;
	}
#ifndef GUP_FAST_NO_PMD_RECHECK
	if (unlikely(pmd != READ_ONCE(*pmdp))) {
		put_page(page);		/* gup_put_folio() */
		page = NULL;
		goto out;
	}
#endif
	if (unlikely(pte != ptep_get(ptep))) {
		put_page(page);
		page = NULL;
	}
out:
	local_irq_enable();
	return page;
}

/* get_user_pages_fast(addr, 1, FOLL_WRITE): fast, else fault in and retry (bounded) */
static struct page *pin_user_page(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long addr)
{
	struct page *page;
	int tries;

	for (tries = 0; tries < 3; tries++) {
		page = get_user_page_fast_only(mm, addr);
		if (page)
			return page;
		mmap_read_lock(mm);	/* __gup_longterm_unlocked() -> faultin_page() */
		handle_mm_fault(vma, addr, FAULT_FLAG_WRITE | FAULT_FLAG_USER);
		mmap_read_unlock(mm);
	}
	return NULL;
}

#endif
