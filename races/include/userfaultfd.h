/*
 * userfaultfd.h — uffd-wp bits and pte markers.
 * Follows include/linux/userfaultfd_k.h and include/linux/mm_inline.h of
 * v6.x (pte_install_uffd_wp_if_needed(), introduced by Peter Xu's series
 * "[PATCH v3 11/27] shmem/userfaultfd: Persist uffd-wp bit across zapping
 * for file-backed", LKML 2021, merged for v5.19 behind
 * CONFIG_PTE_MARKER_UFFD_WP).
 *
 * Simplified: the monitor is not a thread.  handle_userfault() records that
 * the fault was delivered (uffd_ctx.trapped) and returns VM_FAULT_UFFD_TRAP;
 * the faulting thread then stops, as if it slept until UFFDIO_WRITEPROTECT
 * resolved it (resolution is not part of these races).  It does not touch
 * mmap_lock (the real one drops it and returns VM_FAULT_RETRY).
 */
#ifndef _FAULTLINE_USERFAULTFD_H
#define _FAULTLINE_USERFAULTFD_H
#include "mm.h"

#define ZAP_FLAG_DROP_MARKER	0x1	/* zap_details.zap_flags: teardown */

struct zap_details {
	unsigned int zap_flags;
};

static int userfaultfd_wp(struct vm_area_struct *vma)
{
	return (vma->vm_flags & VM_UFFD_WP) != 0;
}

static int userfaultfd_pte_wp(struct vm_area_struct *vma, pte_t pte)
{
	return userfaultfd_wp(vma) && pte_uffd_wp(pte);
}

static int handle_userfault(struct vm_fault *vmf, unsigned long reason)
{
	struct userfaultfd_ctx *ctx = vmf->vma->vm_userfaultfd_ctx;

	WRITE_ONCE(ctx->trapped, 1);
	return VM_FAULT_UFFD_TRAP;
}

/* mm/memory.c: was the fault started from an uffd-wp swap pte or marker? */
static int vmf_orig_pte_uffd_wp(struct vm_fault *vmf)
{
	if (!(vmf->flags & FAULT_FLAG_ORIG_PTE_VALID))
		return false;
	return pte_marker_uffd_wp(vmf->orig_pte);
}

/*
 * include/linux/mm_inline.h (v6.x).  Must be called with the pgtable lock
 * held, right after the pte was cleared, so that nobody sees the none pte
 * without serialising on the ptl.
 */
static int pte_install_uffd_wp_if_needed(struct vm_area_struct *vma, unsigned long addr,
					 pte_t *pte, pte_t pteval)
{
	int arm_uffd_pte = false;

#ifndef CONFIG_PTE_MARKER_UFFD_WP
	return false;
#endif
	/* The current status of the pte should be "cleared" before calling */
	WARN_ON_ONCE(!pte_none(ptep_get(pte)));

	if (vma_is_anonymous(vma) || !userfaultfd_wp(vma))
		return false;

	/* A uffd-wp wr-protected normal pte */
	if (unlikely(pte_present(pteval) && pte_uffd_wp(pteval)))
		arm_uffd_pte = true;

	/*
	 * A uffd-wp wr-protected swap pte.  Note: this should even cover an
	 * existing pte marker with uffd-wp bit set.
	 */
	if (unlikely(pte_swp_uffd_wp_any(pteval)))
		arm_uffd_pte = true;

	if (unlikely(arm_uffd_pte)) {
		set_pte_at(vma->vm_mm, addr, pte, make_pte_marker(PTE_MARKER_UFFD_WP));
		return true;
	}
	return false;
}

/* mm/memory.c: zap_install_uffd_wp_if_needed() */
static int zap_install_uffd_wp_if_needed(struct vm_area_struct *vma, unsigned long addr,
					 pte_t *pte, struct zap_details *details, pte_t pteval)
{
	/* Zap on anonymous always means dropping everything */
	if (vma_is_anonymous(vma))
		return false;
	/* teardown (exit/munmap) drops markers: ZAP_FLAG_DROP_MARKER */
	if (details && (details->zap_flags & ZAP_FLAG_DROP_MARKER))
		return false;
	return pte_install_uffd_wp_if_needed(vma, addr, pte, pteval);
}

#endif
