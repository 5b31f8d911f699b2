/*
 * faultaround.h — fault-around with a preallocated pte table, and the
 * common "map one page under the ptl" tail of file faults.
 *
 * do_fault_around(), filemap_map_pages(), alloc_set_pte() and
 * pte_alloc_one_map() follow v4.8-v4.18 mm/memory.c and mm/filemap.c, i.e.
 * Kirill Shutemov's "[PATCHv2 08/28] mm: postpone page table allocation
 * until do_set_pte()" (LKML, 2016) as merged (struct fault_env was renamed
 * struct vm_fault in v4.10; the model uses the later name).
 * finish_fault() follows v5.17-v6.4 (pmd_install() of the prealloc,
 * pmd_devmap_trans_unstable() check, vmf_pte_changed()), and do_set_pte()
 * v5.19 (uffd-wp bit from a pte marker).
 *
 * Bug-injection macros (E race):
 *   NO_PMD_RECHECK     pte_alloc_one_map() populates the pmd without
 *                      re-checking pmd_none() under pmd_lock (v1 of the patch)
 *   NO_HUGE_PMD_CHECK  no pmd_trans_unstable() before pte_offset_map_lock()
 *   NO_PTE_REWIND      do_fault_around() checks the pte of the last page
 *                      mapped, not the faulting one (an injection: the
 *                      rewind predates the patch and is in v2 and v4.8)
 *   NO_PREALLOC_FREE   the unused prealloc is not freed (v4.8 frees it in
 *                      do_fault_around(), v4.10+ in do_fault())
 *   FILEMAP_MAP_PAGES_V2  Kirill's v2 loop in filemap_map_pages(): on an
 *                      alloc_set_pte() error go on unless no pte is mapped,
 *                      no "Huge page is mapped?" break
 *   FAULT_AROUND_MAPS_MARKERS  (D race) alloc_set_pte() treats a pte marker
 *                      like a none pte (pte_none_mostly()) and maps over it
 * FAULT_AROUND_PAGES (default 1 = off) is fault_around_bytes >> PAGE_SHIFT.
 * Page refcounts and trylock_page() of fault-around are not modelled.
 */
#ifndef _FAULTLINE_FAULTAROUND_H
#define _FAULTLINE_FAULTAROUND_H
#include "mm.h"
#include "userfaultfd.h"
#include "huge_memory.h"

#ifndef FAULT_AROUND_PAGES
#define FAULT_AROUND_PAGES 1
#endif

/* v5.17+: vmf_pte_changed() */
static int vmf_pte_changed(struct vm_fault *vmf)
{
	if (vmf->flags & FAULT_FLAG_ORIG_PTE_VALID)
		return !pte_same(ptep_get(vmf->pte), vmf->orig_pte);
	return !pte_none(ptep_get(vmf->pte));
}

static pte_t maybe_mkwrite(pte_t pte, struct vm_area_struct *vma)
{
	if (likely(vma->vm_flags & VM_WRITE))
		pte = pte_mkwrite(pte);
	return pte;
}

/* do_set_pte() v5.19: one page, under the ptl, at @addr */
static void do_set_pte(struct vm_fault *vmf, struct page *page, unsigned long addr)
{
	struct vm_area_struct *vma = vmf->vma;
	int uffd_wp = vmf_orig_pte_uffd_wp(vmf);
	int write = vmf->flags & FAULT_FLAG_WRITE;
	int prefault = vmf->address != addr;
	pte_t entry;

	entry = mk_pte(page, vma->vm_page_prot);
	if (write)
		entry = maybe_mkwrite(pte_mkdirty(entry), vma);
	if (unlikely(uffd_wp) && !prefault)
		entry = pte_mkuffd_wp(entry);
	/* copy-on-write page */
	if (write && !(vma->vm_flags & VM_SHARED))
		page_add_anon_rmap(page);	/* page_add_new_anon_rmap() */
	else
		page_add_file_rmap(page);
	set_pte_at(vma->vm_mm, addr, vmf->pte, entry);
}

/* pte_alloc_one_map() v4.8 */
static int pte_alloc_one_map(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;

	if (!pmd_none(READ_ONCE(*vmf->pmd)))
		goto map_pte;
	if (vmf->prealloc_pte) {
		vmf->ptl = pmd_lock(vma->vm_mm, vmf->pmd);
#ifndef NO_PMD_RECHECK
		if (unlikely(!pmd_none(READ_ONCE(*vmf->pmd)))) {
			spin_unlock(vmf->ptl);
			goto map_pte;
		}
#endif
		pmd_populate(vma->vm_mm, vmf->pmd, vmf->prealloc_pte);
		spin_unlock(vmf->ptl);
		vmf->prealloc_pte = NULL;
	} else if (unlikely(pte_alloc(vma->vm_mm, vmf->pmd))) {
		return VM_FAULT_OOM;
	}
map_pte:
#ifndef NO_HUGE_PMD_CHECK
	/*
	 * If a huge pmd materialized under us just retry later.  Use
	 * pmd_trans_unstable() instead of pmd_trans_huge() to ensure the pmd
	 * didn't become pmd_trans_huge under us and then back to pmd_none, as
	 * a result of MADV_DONTNEED running immediately after a huge pmd fault
	 * in a different thread of this mm.
	 */
	if (pmd_trans_unstable(vmf->pmd))
		return VM_FAULT_NOPAGE;
#endif
	vmf->pte = pte_offset_map_lock(vma->vm_mm, vmf->pmd, vmf->address, &vmf->ptl);
	return 0;
}

/* alloc_set_pte() v4.8: leaves the ptl held and vmf->pte set on success */
static int alloc_set_pte(struct vm_fault *vmf, struct page *page)
{
	int ret;

	if (pmd_none(READ_ONCE(*vmf->pmd)) && PageTransCompound(page)) {
		ret = do_set_pmd(vmf, page);
		if (ret != VM_FAULT_FALLBACK)
			return ret;
	}
	if (!vmf->pte) {
		ret = pte_alloc_one_map(vmf);
		if (ret)
			return ret;
	}
	/* Re-check under ptl */
#ifdef FAULT_AROUND_MAPS_MARKERS
	if (unlikely(!pte_none_mostly(ptep_get(vmf->pte))))
#else
	if (unlikely(!pte_none(ptep_get(vmf->pte))))
#endif
		return VM_FAULT_NOPAGE;
	do_set_pte(vmf, page, vmf->address);
	return 0;
}

/* filemap_map_pages() v4.8: map the uptodate page-cache pages in the window */
static void filemap_map_pages(struct vm_fault *vmf, unsigned long start_pgoff,
			      unsigned long end_pgoff)
{
	struct address_space *mapping = vmf->vma->vm_mapping;
	unsigned long last_pgoff = start_pgoff;
	unsigned long index;
	struct page *page;

	for (index = start_pgoff; index <= end_pgoff; index++) {
		page = READ_ONCE(mapping->pages[index]);
		if (!page)
			continue;
		if (!PageUptodate(page))
			continue;		/* skip: not uptodate */
		if (vmf->pte)
			vmf->pte = vmf->pte + (index - last_pgoff);
		vmf->address = vmf->address + (index - last_pgoff);
		last_pgoff = index;
#ifdef FILEMAP_MAP_PAGES_V2
		/*
		 * Kirill's v2 (LKML "[PATCHv2 08/28]"): on an error go on with
		 * the next page unless no pte is mapped; no huge-pmd check.
		 */
		if (alloc_set_pte(vmf, page)) {
			if (!vmf->pte)
				break;
			continue;
		}
#else
		alloc_set_pte(vmf, page);
		/* Huge page is mapped? No need to proceed. */
		if (pmd_trans_huge(READ_ONCE(*vmf->pmd)))
			break;
#endif
	}
}

/* do_fault_around() v4.8 (vma starts at 0 with vm_pgoff 0 in the races) */
static int do_fault_around(struct vm_fault *vmf)
{
	unsigned long address = vmf->address;
	unsigned long nr_pages = FAULT_AROUND_PAGES;
	unsigned long start_pgoff;
	unsigned long end_pgoff;
	int ret = 0;

	vmf->address = address & ~(nr_pages - 1);
	start_pgoff = vmf->pgoff - (address - vmf->address);
	end_pgoff = start_pgoff + nr_pages - 1;

	if (pmd_none(READ_ONCE(*vmf->pmd))) {
		vmf->prealloc_pte = pte_alloc_one(vmf->vma->vm_mm);
		if (!vmf->prealloc_pte)
			goto out;
		smp_wmb(); /* See comment in __pte_alloc() */
	}

	filemap_map_pages(vmf, start_pgoff, end_pgoff);	/* ->map_pages() */

#ifndef NO_PREALLOC_FREE
	/* preallocated pagetable is unused: free it (v4.8; v4.10+ in do_fault()) */
	if (vmf->prealloc_pte) {
		pte_free(vmf->vma->vm_mm, vmf->prealloc_pte);
		vmf->prealloc_pte = NULL;
	}
#endif

	/* Huge page is mapped? Page fault is solved */
	if (pmd_trans_huge(READ_ONCE(*vmf->pmd))) {
		ret = VM_FAULT_NOPAGE;
		goto out;
	}

	/* ->map_pages() haven't done anything useful. Cold page cache? */
	if (!vmf->pte)
		goto out;

	/* check if the page fault is solved */
#ifndef NO_PTE_REWIND
	vmf->pte = vmf->pte - (vmf->address - address);
#endif
	if (!pte_none(ptep_get(vmf->pte)))
		ret = VM_FAULT_NOPAGE;
	pte_unmap_unlock(vmf->pte, vmf->ptl);
out:
	vmf->address = address;
	vmf->pte = NULL;
	return ret;
}

/* finish_fault() v5.17-v6.4, one page */
static int finish_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct page *page;
	int ret;

	/* Did we COW the page? */
	if ((vmf->flags & FAULT_FLAG_WRITE) && !(vma->vm_flags & VM_SHARED))
		page = vmf->cow_page;
	else
		page = vmf->page;

	if (pmd_none(READ_ONCE(*vmf->pmd))) {
		if (PageTransCompound(page)) {
			ret = do_set_pmd(vmf, page);
			if (ret != VM_FAULT_FALLBACK)
				return ret;
		}
		if (vmf->prealloc_pte) {
			if (pmd_install(vma->vm_mm, vmf->pmd, vmf->prealloc_pte))
				vmf->prealloc_pte = NULL;
		} else if (unlikely(pte_alloc(vma->vm_mm, vmf->pmd))) {
			return VM_FAULT_OOM;
		}
	}

	/* See comment in handle_pte_fault() */
	if (pmd_trans_unstable(vmf->pmd))
		return 0;

	vmf->pte = pte_offset_map_lock(vma->vm_mm, vmf->pmd, vmf->address, &vmf->ptl);
	/* Re-check under ptl */
	if (likely(!vmf_pte_changed(vmf))) {
		do_set_pte(vmf, page, vmf->address);
		ret = 0;
	} else {
		ret = VM_FAULT_NOPAGE;
	}
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	return ret;
}

#endif
