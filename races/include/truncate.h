/*
 * truncate.h — truncating a file's page cache: mm/truncate.c
 * truncate_pagecache() and mm/memory.c unmap_mapping_pages() of v4.18.
 *
 * The file rmap (the address_space's i_mmap interval tree) is an array of
 * the vmas mapping the file, in tree order (vm_pgoff, then insertion); a vma
 * maps page-cache index i at vm_start + i - vm_pgoff.  Reduced: one page,
 * no page lock, no shadow entries, the second unmap_mapping_range() pass of
 * truncate_pagecache() (for pages faulted in meanwhile) left out.
 */
#ifndef _FAULTLINE_TRUNCATE_H
#define _FAULTLINE_TRUNCATE_H
#include "mm.h"
#include "rmap.h"
#include "zap.h"

#define I_MMAP_MAX		2

__extend struct address_space {
	struct vm_area_struct *i_mmap[I_MMAP_MAX];	/* vma_interval_tree */
};

/* __vma_link_file(): insert @vma into the file rmap, after the vmas of its pgoff */
static void vma_link_file(struct address_space *mapping, struct vm_area_struct *vma)
{
	int i;

	i_mmap_lock_write(mapping);
	for (i = 0; i < I_MMAP_MAX; i++) {
		if (!mapping->i_mmap[i]) {
			WRITE_ONCE(mapping->i_mmap[i], vma);	/* vma_interval_tree_insert() */
			break;
		}
	}
	i_mmap_unlock_write(mapping);
}

/*
 * unmap_mapping_pages() for page-cache index @index: zap it in every vma
 * that maps it, under i_mmap_rwsem for write (v4.18; read since v5.19).
 */
static void unmap_mapping_pages(struct address_space *mapping, unsigned long index)
{
	struct vm_area_struct *vma;
	int i;

	i_mmap_lock_write(mapping);
	for (i = 0; i < I_MMAP_MAX; i++) {	/* unmap_mapping_range_tree() */
		vma = READ_ONCE(mapping->i_mmap[i]);
		if (!vma)
			continue;
		zap_page_range_single(vma, vma->vm_start + index - vma->vm_pgoff, 1, NULL);
	}
	i_mmap_unlock_write(mapping);
}

/*
 * truncate_pagecache(inode, 0) for a file of one page: unmap it from every
 * vma, then delete it from the page cache (truncate_inode_pages() ->
 * delete_from_page_cache_batch(); the page cache's reference goes last).
 */
static void truncate_pagecache(struct address_space *mapping)
{
	struct page *page = READ_ONCE(mapping->pages[0]);

	unmap_mapping_pages(mapping, 0);	/* unmap_mapping_range(mapping, 0, 0, 1) */
	if (!page)
		return;
	WRITE_ONCE(mapping->pages[0], NULL);	/* page_cache_tree_delete() */
	WRITE_ONCE(page->mapping, NULL);
	put_page(page);				/* the page cache's reference */
}

#endif
