/*
 * vmscan.h — reclaim swapping out one anonymous page: mm/vmscan.c
 * shrink_folio_list() reduced to folio_alloc_swap() (the first free slot,
 * swap_map = SWAP_HAS_CACHE), add_to_swap_cache(), pageout() ->
 * swap_writepage() (synchronous) and try_to_unmap() (rmap.h).  v6.8 shape
 * (unchanged in what matters through v6.16).  The clean, unmapped page stays
 * in the swap cache (freeing it is a later pass; the model's struct page
 * does not outlive its frame, so no race here frees it).  Its anon rmap
 * (mapping, index) is left as it was, as the kernel leaves it.
 */
#ifndef _FAULTLINE_VMSCAN_H
#define _FAULTLINE_VMSCAN_H
#include "mm.h"
#include "rmap.h"

static void reclaim_anon_page(struct swap_info_struct *si, struct anon_vma *av,
			      struct page *page, unsigned long addr)
{
	unsigned long off;
	unsigned long entry = 0;

	for (off = 0; off < 4 && !entry; off++) {	/* get_swap_pages(): first free slot */
		spin_lock(&si->lock);
		if (atomic_read(&si->swap_map[off]) == 0) {
			atomic_set(&si->swap_map[off], SWAP_HAS_CACHE);
			entry = swp_entry(SWP_TYPE_SWAP, off);
		}
		spin_unlock(&si->lock);
	}
	if (!entry)
		return;
	off = swp_offset(entry);
	get_page(page);					/* the swap cache's reference */
	WRITE_ONCE(page->private, entry);
	set_bit(PG_swapcache, &page->flags);
	WRITE_ONCE(si->cache[off], page);
	WRITE_ONCE(si->data[off], READ_ONCE(page->data));	/* swap_writepage() */
	try_to_unmap(page, av, addr, 0);
}

#endif
