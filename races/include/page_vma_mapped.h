/*
 * page_vma_mapped.h — mm/page_vma_mapped.c: page_vma_mapped_walk(), the
 * walk every rmap user (try_to_unmap_one(), try_to_migrate_one(),
 * page_referenced_one(), remove_migration_pte()) runs over one vma to find
 * the ptes (or the pmd) mapping a page.  Follows v5.13 (ace71a19cec5 "mm:
 * introduce page_vma_mapped_walk()", Kirill Shutemov, v4.11, as restructured
 * by Hugh Dickins' June 2021 series: "use goto instead of while (1)",
 * "crossing page table boundary", "get vma_address_end() earlier"), with the
 * two PVMW_SYNC fixes of that series:
 *   732ed55823fc "mm/thp: try_to_unmap() use TTU_SYNC for safe splitting"
 *     (map_pte() always locks under PVMW_SYNC, the pmd lock dance below);
 *   a7a69d8ba88d "mm/thp: another PVMW_SYNC fix in page_vma_mapped_walk()"
 *     (the quick scan over pte_none()s holds the ptl under PVMW_SYNC);
 *     NO_PVMW_SYNC_SCAN_LOCK leaves that one out.
 *
 * Reduced: no hugetlb, no device-private entries, no pgd/p4d levels (the
 * model's pgd is folded), no KSM; the caller passes the address
 * (vma_address() of the page: the model's anon rmap keeps no index unless
 * CONFIG_DEBUG_VM).  A THP here is THP_NR (2) separate struct pages: the
 * head (PG_head) names its tail in ->private, a tail its head in ->pad (the
 * model's struct page has no compound_head field; neither cell has another
 * use in a THP that is not in the swap cache).  Tail refcounts are not kept
 * (the kernel keeps none: put_page() of a tail goes to the head; here it
 * decrements a cell nobody reads).
 */
#ifndef _FAULTLINE_PAGE_VMA_MAPPED_H
#define _FAULTLINE_PAGE_VMA_MAPPED_H
#include "mm.h"

#define THP_NR			2
#define PVMW_SYNC		(1 << 0)	/* look at the pte only under its lock */
#define PVMW_MIGRATION		(1 << 1)	/* look for migration entries, not present ptes */

struct page_vma_mapped_walk {
	struct page *page;
	struct vm_area_struct *vma;
	unsigned long address;
	pmd_t *pmd;
	pte_t *pte;
	spinlock_t *ptl;
	unsigned int flags;
};

/* include/linux/rmap.h DEFINE_PAGE_VMA_WALK() (v5.17+; v5.13 wrote the initializer out) */
#define DEFINE_PAGE_VMA_WALK(name, _page, _vma, _address, _flags)	\
	struct page_vma_mapped_walk name;				\
	name.page = _page; name.vma = _vma; name.address = _address;	\
	name.pmd = NULL; name.pte = NULL; name.ptl = NULL; name.flags = _flags

static struct page *compound_head(struct page *page)
{
	struct page *head = (struct page *)READ_ONCE(page->pad);

	return head ? head : page;
}
static struct page *thp_tail(struct page *head)	{ return (struct page *)READ_ONCE(head->private); }
static int thp_nr_pages(struct page *page)	{ return PageTransCompound(page) ? THP_NR : 1; }

/* page_mapped() — mm/util.c: a pte-mapped THP is mapped while any subpage is (no pmd mapping here) */
static int page_mapped(struct page *page)
{
	if (!PageTransCompound(page))
		return atomic_read(&page->_mapcount) >= 0;
	return atomic_read(&page->_mapcount) >= 0 || atomic_read(&thp_tail(page)->_mapcount) >= 0;
}

static void page_vma_mapped_walk_done(struct page_vma_mapped_walk *pvmw)
{
	if (pvmw->pte)
		pte_unmap(pvmw->pte);
	if (pvmw->ptl)
		spin_unlock(pvmw->ptl);
}

static int not_found(struct page_vma_mapped_walk *pvmw)
{
	page_vma_mapped_walk_done(pvmw);
	return false;
}

static int map_pte(struct page_vma_mapped_walk *pvmw)
{
	pte_t pte;

	pvmw->pte = pte_offset_map(pvmw->pmd, pvmw->address);
	if (!(pvmw->flags & PVMW_SYNC)) {
		pte = ptep_get(pvmw->pte);
		if (pvmw->flags & PVMW_MIGRATION) {
			if (!is_swap_pte(pte))
				return false;
		} else if (!pte_present(pte))	/* is_device_private_entry(): not modelled */
			return false;
	}
	pvmw->ptl = pte_lockptr(pvmw->vma->vm_mm, pvmw->pmd);
	spin_lock(pvmw->ptl);
	return true;
}

/*
 * check_pte() — does the pte (under its lock) map the page: any subpage of
 * a THP counts (pfn_is_match()).
 */
static int check_pte(struct page_vma_mapped_walk *pvmw)
{
	pte_t pte = ptep_get(pvmw->pte);
	struct page *page;

	if (pvmw->flags & PVMW_MIGRATION) {
		if (!is_migration_entry(pte))
			return false;
		page = migration_entry_to_page(pte);
	} else {
		if (!pte_present(pte))
			return false;
		page = pte_page(pte);
	}
	return page == pvmw->page || (PageTransCompound(pvmw->page) && compound_head(page) == pvmw->page);
}

/*
 * page_vma_mapped_walk() — true with pvmw->pte (or ->pmd) mapping the page
 * and pvmw->ptl held; call it again for the next pte of a THP.  False when
 * there is no (more) mapping in this vma, everything unlocked.
 */
static int page_vma_mapped_walk(struct page_vma_mapped_walk *pvmw)
{
	struct mm_struct *mm = pvmw->vma->vm_mm;
	struct page *page = pvmw->page;
	unsigned long end;
	pud_t *pud;
	pmd_t pmde;
	spinlock_t *ptl;

	/* The only possible pmd mapping has been handled on last iteration */
	if (pvmw->pmd && !pvmw->pte)
		return not_found(pvmw);

	/*
	 * Seek to next pte only makes sense for THP.
	 * But more important than that optimization, is to filter out
	 * any PageKsm page: whose page->index misleads vma_address()
	 * and vma_address_end() to disaster.
	 */
	if (PageTransCompound(page))
		end = min(pvmw->address + THP_NR, pvmw->vma->vm_end);	/* vma_address_end() */
	else
		end = pvmw->address + 1;
	if (pvmw->pte)
		goto next_pte;
restart:
	do {
		pud = pud_offset(mm, pvmw->address);
		if (!pud_present(READ_ONCE(*pud))) {
			pvmw->address = (pvmw->address + PUD_SIZE) & PUD_MASK;	/* step_forward() */
			continue;
		}
		pvmw->pmd = pmd_offset(pud, pvmw->address);
		/*
		 * Make sure the pmd value isn't cached in a register by the
		 * compiler and used as a stale value after we've observed a
		 * subsequent update.
		 */
		pmde = READ_ONCE(*pvmw->pmd);

		if (pmd_trans_huge(pmde)) {			/* || is_pmd_migration_entry() */
			pvmw->ptl = pmd_lock(mm, pvmw->pmd);
			pmde = READ_ONCE(*pvmw->pmd);
			if (likely(pmd_trans_huge(pmde))) {
				if (pvmw->flags & PVMW_MIGRATION)
					return not_found(pvmw);
				if (pmd_page(pmde) != page)
					return not_found(pvmw);
				return true;
			}
			if (!pmd_present(pmde))			/* pmd migration entries: not modelled */
				return not_found(pvmw);
			/* THP pmd was split under us: handle on pte level */
			spin_unlock(pvmw->ptl);
			pvmw->ptl = NULL;
		} else if (!pmd_present(pmde)) {
			/*
			 * If PVMW_SYNC, take and drop THP pmd lock so that we
			 * cannot return prematurely, while zap_huge_pmd() has
			 * cleared *pmd but not decremented compound_mapcount().
			 */
			if ((pvmw->flags & PVMW_SYNC) && PageTransCompound(page)) {
				ptl = pmd_lock(mm, pvmw->pmd);
				spin_unlock(ptl);
			}
			pvmw->address = (pvmw->address + PMD_SIZE) & PMD_MASK;	/* step_forward() */
			continue;
		}
		if (!map_pte(pvmw))
			goto next_pte;
this_pte:
		if (check_pte(pvmw))
			return true;
next_pte:
		do {
			pvmw->address += 1;			/* PAGE_SIZE */
			if (pvmw->address >= end)
				return not_found(pvmw);
			/* Did we cross page table boundary? */
			if ((pvmw->address & (PMD_SIZE - 1)) == 0) {
				if (pvmw->ptl) {
					spin_unlock(pvmw->ptl);
					pvmw->ptl = NULL;
				}
				pte_unmap(pvmw->pte);
				pvmw->pte = NULL;
				goto restart;
			}
			pvmw->pte++;
#ifndef NO_PVMW_SYNC_SCAN_LOCK
			if ((pvmw->flags & PVMW_SYNC) && !pvmw->ptl) {
				pvmw->ptl = pte_lockptr(mm, pvmw->pmd);
				spin_lock(pvmw->ptl);
			}
#endif
		} while (pte_none(ptep_get(pvmw->pte)));

		if (!pvmw->ptl) {
			pvmw->ptl = pte_lockptr(mm, pvmw->pmd);
			spin_lock(pvmw->ptl);
		}
		goto this_pte;
	} while (pvmw->address < end);

	return false;
}

#endif
