/*
 * thp_split.h — splitting an anonymous THP, v5.12 / v5.13 mm/huge_memory.c:
 * split_huge_page_to_list() up to its unmap_page() step, and unmap_page()
 * (freeze: every pte mapping the THP becomes a migration entry, through
 * try_to_unmap(TTU_SPLIT_FREEZE), rmap.h).  The rest of the split
 * (page_ref_freeze(), __split_huge_page(), remap_page()) is not modelled:
 * the races here are decided by what unmap_page() finds.  (split_huge_page.h
 * is the v3.14 split, before page_vma_mapped_walk(); the two are not used
 * together.)
 *
 *   NO_TTU_SYNC  v5.12: unmap_page() without TTU_SYNC (before 732ed55823fc
 *                "mm/thp: try_to_unmap() use TTU_SYNC for safe splitting").
 *
 * unmap_page() asserts as v5.12 does (VM_BUG_ON_PAGE(!unmap_success)); the
 * same series made it VM_WARN_ON_ONCE_PAGE() with a graceful -EBUSY
 * (825c28052b4d "mm: thp: replace DEBUG_VM BUG with VM_WARN when unmap fails
 * for split"), which would still leave the THP unsplit.  Reduced: the caller
 * passes the anon_vma and the address (page_get_anon_vma(), vma_address());
 * no can_split_huge_page() refcount check.
 */
#ifndef _FAULTLINE_THP_SPLIT_H
#define _FAULTLINE_THP_SPLIT_H
#include "mm.h"
#include "rmap.h"

#define TTU_IGNORE_MLOCK	0x8

static void unmap_page(struct page *page, struct anon_vma *av, unsigned long address)
{
#ifdef NO_TTU_SYNC
	int ttu_flags = TTU_IGNORE_MLOCK | TTU_RMAP_LOCKED | TTU_SPLIT_HUGE_PMD;
#else
	int ttu_flags = TTU_IGNORE_MLOCK | TTU_SYNC | TTU_RMAP_LOCKED | TTU_SPLIT_HUGE_PMD;
#endif
	int unmap_success;

	VM_BUG_ON(!PageTransCompound(page));		/* VM_BUG_ON_PAGE(!PageHead(page), page) */

	if (PageAnon(page))
		ttu_flags |= TTU_SPLIT_FREEZE;

	unmap_success = try_to_unmap(page, av, address, ttu_flags);
	VM_BUG_ON(!unmap_success);			/* VM_BUG_ON_PAGE(!unmap_success, page) */
}

/* split_huge_page_to_list() — the caller holds the page lock */
static int split_huge_page_to_list(struct page *page, struct anon_vma *av, unsigned long address)
{
	struct page *head = compound_head(page);

	VM_BUG_ON(!PageLocked(head));			/* VM_BUG_ON_PAGE() */
	VM_BUG_ON(!PageTransCompound(head));
	/*
	 * The caller does not necessarily hold an mmap_lock that would
	 * prevent the anon_vma disappearing so we first we take a
	 * reference to it and then lock the anon_vma for write.
	 */
	anon_vma_lock_write(av);			/* page_get_anon_vma(head) */
	unmap_page(head, av, address);
	/* page_ref_freeze(), __split_huge_page(), remap_page(): not modelled */
	anon_vma_unlock_write(av);
	return 0;
}

#endif
