/*
 * pagewalk.h — walk_pud_range()/walk_pmd_range() from mm/pagewalk.c.
 *
 * Default (buggy): v5.4-v5.5 as used by Thomas Hellström's
 * "[PATCH v3 2/7] mm: Add a walk_page_mapping() function to the pagewalk
 * code" (LKML, 2019): pud_entry only under pud_trans_huge_lock(), then an
 * unconditional split_huge_pud() and a goto again only if pud_none().
 * FIX_WALK_PUD_RANGE: split only in the else branch (no pud_entry), and
 * `if (pud_none(*pud) || pud_trans_unstable(pud)) goto again;` before
 * descending.  That fix was never merged: v5.6 moved pud_entry locking
 * into the callbacks (ACTION_AGAIN/ACTION_CONTINUE) and kept the
 * unconditional split_huge_pud() + `if (pud_none(*pud)) goto again`.
 * WALK_PUD_LINUX_NEXT models that form (linux-next @6a692b9) with
 * vmwgfx's wp_clean_pud_entry() callback.
 *
 * Callbacks are fixed functions that record into struct mm_walk (the
 * language has no function pointers); mm_walk_ops is a set of flags.
 * walk_pte_range() is not modelled: the pmd level only looks at entries.
 */
#ifndef _FAULTLINE_PAGEWALK_H
#define _FAULTLINE_PAGEWALK_H
#include "mm.h"
#include "huge_memory.h"

struct mm_walk {
	struct mm_struct *mm;
	struct vm_area_struct *vma;
	int has_pud_entry;		/* ops->pud_entry != NULL */
	int has_pmd_entry;		/* ops->pmd_entry != NULL */
	int huge_reported;		/* pud_entry saw a huge pud */
	int huge_lost;			/* ghost: walker split a huge pud pud_entry never saw */
	int pmds_seen;
};

/* ops->pud_entry: e.g. vmwgfx clean_record_pud_entry(); called under the pud lock */
static int walk_ops_pud_entry(pud_t *pud, unsigned long addr, unsigned long next,
			      struct mm_walk *walk)
{
	pud_t pudval = READ_ONCE(*pud);

	if (pud_trans_huge(pudval) || pud_devmap(pudval))
		WRITE_ONCE(walk->huge_reported, walk->huge_reported + 1);
	return 0;
}

static int walk_ops_pmd_entry(pmd_t *pmd, unsigned long addr, unsigned long next,
			      struct mm_walk *walk)
{
	if (!pmd_none(READ_ONCE(*pmd)))
		WRITE_ONCE(walk->pmds_seen, walk->pmds_seen + 1);
	return 0;
}

static int walk_pmd_range(pud_t *pud, unsigned long addr, unsigned long end,
			  struct mm_walk *walk)
{
	pmd_t *pmd;
	unsigned long next;
	int err = 0;

	pmd = pmd_offset(pud, addr);
	do {
		next = pmd_addr_end(addr, end);
		if (pmd_none(READ_ONCE(*pmd)))
			continue;		/* ops->pte_hole: none */
		if (walk->has_pmd_entry)
			err = walk_ops_pmd_entry(pmd, addr, next, walk);
		if (err)
			break;
	} while (pmd++, addr = next, addr != end);
	return err;
}

#ifdef WALK_PUD_LINUX_NEXT
#define ACTION_SUBTREE	0
#define ACTION_CONTINUE	1
/*
 * mm/mapping_dirty_helpers.c (v5.7+, linux-next): wp_clean_pud_entry(),
 * vmwgfx's pud callback since the ACTION_* rework: a lockless look, and
 * "Do not split a huge pud" by asking the walk to continue.
 */
static int wp_clean_pud_entry(pud_t *pud, unsigned long addr, unsigned long end,
			      struct mm_walk *walk)
{
	pud_t pudval = READ_ONCE(*pud);

	if (pud_trans_huge(pudval)) {
		WRITE_ONCE(walk->huge_reported, walk->huge_reported + 1);
		return ACTION_CONTINUE;
	}
	return ACTION_SUBTREE;
}

/*
 * walk_pud_range() — linux-next (ColinIanKing/linux-next @6a692b9,
 * mm/pagewalk.c), no install_pte, vma walk: the callback runs unlocked, then
 * split_huge_pud(); if (pud_none(*pud)) goto again; walk_pmd_range().
 */
static int walk_pud_range(struct mm_struct *mm, unsigned long addr, unsigned long end,
			  struct mm_walk *walk)
{
	pud_t *pud;
	unsigned long next;
	int has_pud_entry = walk->has_pud_entry;
	int err = 0;

	pud = pud_offset(mm, addr);
	do {
 again:
		next = pud_addr_end(addr, end);
		if (pud_none(READ_ONCE(*pud)))
			continue;		/* ops->pte_hole: none */
		if (has_pud_entry && wp_clean_pud_entry(pud, addr, next, walk) == ACTION_CONTINUE)
			continue;
		if (split_huge_pud(walk->vma, pud, addr) && has_pud_entry)
			WRITE_ONCE(walk->huge_lost, walk->huge_lost + 1);
		if (pud_none(READ_ONCE(*pud)))
			goto again;
		err = walk_pmd_range(pud, addr, next, walk);
		if (err)
			break;
	} while (pud++, addr = next, addr != end);

	return err;
}
#else
static int walk_pud_range(struct mm_struct *mm, unsigned long addr, unsigned long end,
			  struct mm_walk *walk)
{
	pud_t *pud;
	unsigned long next;
	int has_pud_entry = walk->has_pud_entry;
	int err = 0;
	spinlock_t *ptl;

	pud = pud_offset(mm, addr);
	do {
 again:
		next = pud_addr_end(addr, end);
		if (pud_none(READ_ONCE(*pud)))
			continue;		/* ops->pte_hole: none */

		if (has_pud_entry) {
			ptl = pud_trans_huge_lock(pud, walk->vma);
			if (ptl) {
				err = walk_ops_pud_entry(pud, addr, next, walk);
				spin_unlock(ptl);
				if (err)
					break;
				continue;
			}
		}
#ifdef FIX_WALK_PUD_RANGE
		else
			split_huge_pud(walk->vma, pud, addr);
		if (pud_none(READ_ONCE(*pud)) || pud_trans_unstable(pud))
			goto again;
#else
		if (split_huge_pud(walk->vma, pud, addr) && has_pud_entry)
			WRITE_ONCE(walk->huge_lost, walk->huge_lost + 1);
		if (pud_none(READ_ONCE(*pud)))
			goto again;
#endif
		err = walk_pmd_range(pud, addr, next, walk);
		if (err)
			break;
	} while (pud++, addr = next, addr != end);

	return err;
}

#endif /* WALK_PUD_LINUX_NEXT */

#endif
