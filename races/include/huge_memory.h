/*
 * huge_memory.h — the PUD/PMD huge-page helpers the races need, from
 * mm/huge_memory.c and include/linux/huge_mm.h of v5.4-v5.5 (the era of
 * the huge-pud threads).  Simplified: a huge pud/pmd maps one struct page
 * (a DAX / TTM device page, or a shmem THP head); no deposited tables, no
 * TLB flush, no rmap for puds, accessed/dirty bits not tracked.
 */
#ifndef _FAULTLINE_HUGE_MEMORY_H
#define _FAULTLINE_HUGE_MEMORY_H
#include "mm.h"

/* __pud_trans_huge_lock() / pud_trans_huge_lock() */
static spinlock_t *pud_trans_huge_lock(pud_t *pud, struct vm_area_struct *vma)
{
	spinlock_t *ptl;

	if (!pud_trans_huge(READ_ONCE(*pud)) && !pud_devmap(READ_ONCE(*pud)))
		return NULL;
	ptl = pud_lock(vma->vm_mm, pud);
	if (likely(pud_trans_huge(READ_ONCE(*pud)) || pud_devmap(READ_ONCE(*pud))))
		return ptl;
	spin_unlock(ptl);
	return NULL;
}

/*
 * __split_huge_pud(): for a file/DAX pud, splitting just clears it (the
 * next fault maps smaller pages).  The model returns 1 when it cleared a
 * huge pud (the kernel returns void) so a race can record it.
 */
static int __split_huge_pud(struct vm_area_struct *vma, pud_t *pud, unsigned long address)
{
	int split = 0;
	spinlock_t *ptl = pud_lock(vma->vm_mm, pud);

	if (unlikely(!pud_trans_huge(READ_ONCE(*pud)) && !pud_devmap(READ_ONCE(*pud))))
		goto out;
	/* __split_huge_pud_locked(): pudp_huge_clear_flush_notify() */
	WRITE_ONCE(*pud, 0);
	split = 1;
out:
	spin_unlock(ptl);
	return split;
}

/* include/linux/huge_mm.h: split_huge_pud() (v5.4: trans_huge || devmap) */
static int split_huge_pud(struct vm_area_struct *vma, pud_t *pud, unsigned long address)
{
	if (pud_trans_huge(READ_ONCE(*pud)) || pud_devmap(READ_ONCE(*pud)))
		return __split_huge_pud(vma, pud, address);
	return 0;
}

/* zap_huge_pud() for unmap_mapping_range() / MADV_DONTNEED of a DAX pud */
static int zap_huge_pud(struct vm_area_struct *vma, pud_t *pud, unsigned long addr)
{
	spinlock_t *ptl = pud_trans_huge_lock(pud, vma);

	if (!ptl)
		return 0;
	WRITE_ONCE(*pud, 0);		/* pudp_huge_get_and_clear_full() */
	spin_unlock(ptl);
	return 1;
}

/* insert_pfn_pud() via vmf_insert_pfn_pud() (v5.4) */
static int vmf_insert_pfn_pud(struct vm_fault *vmf, struct page *page, int write)
{
	struct mm_struct *mm = vmf->vma->vm_mm;
	pud_t *pud = vmf->pud;
	unsigned long prot = write ? (PAGE_SHARED | _PAGE_DIRTY) : PAGE_READONLY;
	spinlock_t *ptl = pud_lock(mm, pud);
	pud_t entry;

	if (!pud_none(READ_ONCE(*pud)))
		goto out_unlock;
	entry = mk_huge_pud(page, prot);
	if (is_zone_device_page(page))		/* pfn_t_devmap(pfn) */
		entry = entry | _PAGE_DEVMAP;	/* pud_mkdevmap() */
	WRITE_ONCE(*pud, entry);		/* set_pud_at() */
out_unlock:
	spin_unlock(ptl);
	return VM_FAULT_NOPAGE;
}

/*
 * The vma's ->huge_fault(): a TTM/vmwgfx-style buffer object whose huge
 * backing page is mapping->pages[0] (PG_head).  As in the v3 TTM huge-page
 * series it falls back on write faults (vmwgfx dirty tracking needs
 * write-notify at pte level).
 */
static int vma_huge_fault(struct vm_fault *vmf, int pud_level)
{
	struct vm_area_struct *vma = vmf->vma;
	struct page *hpage;

	/* Fallback on write dirty-tracking or COW */
	if (vmf->flags & FAULT_FLAG_WRITE)
		return VM_FAULT_FALLBACK;
	if (!pud_level)
		return VM_FAULT_FALLBACK;	/* no PMD-level huge pages in the model */
	hpage = READ_ONCE(vma->vm_mapping->pages[0]);
	return vmf_insert_pfn_pud(vmf, hpage, false);
}

/* mm/memory.c: create_huge_pud() (v5.4) */
static int create_huge_pud(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;

	/* No support for anonymous transparent PUD pages yet */
	if (vma_is_anonymous(vma))
		return VM_FAULT_FALLBACK;
	return vma_huge_fault(vmf, 1);
}

/*
 * mm/memory.c: wp_huge_pud().  Default: v5.4/v5.5 — the ->huge_fault()
 * result, FALLBACK included, with nothing split.  WP_HUGE_PUD_SPLIT: the
 * form of commit 327e9fd48972 "mm: Split huge pages on write-notify or
 * COW" (Thomas Hellström, v5.8, linux-next unchanged in substance): only
 * shared vmas ask ->huge_fault(), and a fallback splits the pud.
 */
static int wp_huge_pud(struct vm_fault *vmf, pud_t orig_pud)
{
#ifdef WP_HUGE_PUD_SPLIT
	int ret;

	/* No support for anonymous transparent PUD pages yet */
	if (vma_is_anonymous(vmf->vma))
		goto split;
	if (vmf->vma->vm_flags & (VM_SHARED | VM_MAYSHARE)) {
		ret = vma_huge_fault(vmf, 1);
		if (!(ret & VM_FAULT_FALLBACK))
			return ret;
	}
split:
	/* COW or write-notify not handled on PUD level: split pud.*/
	__split_huge_pud(vmf->vma, vmf->pud, vmf->address);
	return VM_FAULT_FALLBACK;
#else
	/* No support for anonymous transparent PUD pages yet */
	if (vma_is_anonymous(vmf->vma))
		return VM_FAULT_FALLBACK;
	return vma_huge_fault(vmf, 1);		/* vma->vm_ops->huge_fault(vmf, PE_SIZE_PUD) */
#endif
}

static void huge_pud_set_accessed(struct vm_fault *vmf, pud_t orig_pud) { }

/* do_set_pmd() (v4.8): map a shmem THP with one pmd */
static int do_set_pmd(struct vm_fault *vmf, struct page *page)
{
	struct vm_area_struct *vma = vmf->vma;
	int ret = VM_FAULT_FALLBACK;

	vmf->ptl = pmd_lock(vma->vm_mm, vmf->pmd);
	if (unlikely(!pmd_none(READ_ONCE(*vmf->pmd))))
		goto out;
	page_add_file_rmap(page);
	WRITE_ONCE(*vmf->pmd, mk_huge_pmd(page, PAGE_READONLY));	/* set_pmd_at() */
	ret = 0;
out:
	spin_unlock(vmf->ptl);
	return ret;
}

#endif
