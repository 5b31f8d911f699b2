/*
 * uffd_user.h — user-side access loops shared by the D races (not kernel
 * code): a user thread touches an address; the MMU walk decides whether
 * the access needs a fault; faults go through handle_mm_fault() under
 * mmap_read_lock.  A write that finds a writable pte "lands" (ghost
 * ctx->write_landed); a write fault delivered to the userfaultfd monitor
 * ends the loop (the thread would sleep until the monitor resolves it).
 */
#ifndef _FAULTLINE_UFFD_USER_H
#define _FAULTLINE_UFFD_USER_H
#include "fault.h"

static void user_write(struct mm_struct *mm, unsigned long addr, struct vm_fault *vmf,
		       struct userfaultfd_ctx *ctx)
{
	struct vm_area_struct *vma;
	pte_t pte;
	int ret;
	int tries;

	for (tries = 0; tries < 3; tries++) {
		pte = hw_walk(mm, addr);
		if (pte_present(pte) && pte_write(pte)) {
			WRITE_ONCE(pte_page(pte)->data, 1);	/* the store */
			WRITE_ONCE(ctx->write_landed, 1);
			return;
		}
		mmap_read_lock(mm);
		vma = find_vma(mm, addr);
		ret = handle_mm_fault(vma, addr, FAULT_FLAG_WRITE | FAULT_FLAG_USER, vmf);
		mmap_read_unlock(mm);
		if (ret & (VM_FAULT_UFFD_TRAP | VM_FAULT_ERROR))
			return;
	}
}

static void user_read(struct mm_struct *mm, unsigned long addr, struct vm_fault *vmf)
{
	struct vm_area_struct *vma;
	int ret;
	int tries;

	for (tries = 0; tries < 3; tries++) {
		if (hw_mapped(mm, addr))
			return;
		mmap_read_lock(mm);
		vma = find_vma(mm, addr);
		ret = handle_mm_fault(vma, addr, FAULT_FLAG_USER, vmf);
		mmap_read_unlock(mm);
		if (ret & VM_FAULT_ERROR)
			return;
	}
}

#endif
