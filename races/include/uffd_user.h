/*
 * uffd_user.h — user-side access loops shared by the D races (not kernel
 * code): a user thread touches an address; the MMU walk decides whether
 * the access needs a fault; faults go through handle_mm_fault() under
 * mmap_read_lock.  A write that finds a writable pte "lands"; a write fault
 * delivered to the userfaultfd monitor ends the loop (the thread would
 * sleep until the monitor resolves it).
 *
 * The check sits where the event happens: a write to a write-protected
 * address must trap, so a store that lands while the monitor's protection
 * is armed (ctx->wp_armed; the monitor never unprotects here) is a BUG_ON.
 * (An invariant{} block would make every step dependent for DPOR.)
 *
 * The vma is passed in (the caller's own copy of it, see the race files):
 * find_vma() is elided, the vma never changes in these races.
 */
#ifndef _FAULTLINE_UFFD_USER_H
#define _FAULTLINE_UFFD_USER_H
#include "fault.h"

/*
 * How often a user store is re-tried after a fault that did not trap: 8, so
 * that every execution of the D races ends in a trap or a store (with 3 some
 * ended with neither — the review's d_liveness3 probe).
 */
#ifndef USER_WRITE_TRIES
#define USER_WRITE_TRIES 8
#endif

static void user_write(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long addr)
{
	struct userfaultfd_ctx *ctx = vma->vm_userfaultfd_ctx;
	pte_t pte;
	int ret;
	int tries;

	for (tries = 0; tries < USER_WRITE_TRIES; tries++) {
		pte = hw_walk(mm, addr);
		if (pte_present(pte) && pte_write(pte)) {
			/* the store: a write to a write-protected address must trap */
			BUG_ON(READ_ONCE(ctx->wp_armed));
			WRITE_ONCE(pte_page(pte)->data, 1);
			return;
		}
		mmap_read_lock(mm);
		ret = handle_mm_fault(vma, addr, FAULT_FLAG_WRITE | FAULT_FLAG_USER);
		mmap_read_unlock(mm);
		if (ret & (VM_FAULT_UFFD_TRAP | VM_FAULT_ERROR))
			return;
	}
}

static void user_read(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long addr)
{
	int ret;
	int tries;

	for (tries = 0; tries < 3; tries++) {
		if (hw_mapped(mm, addr))
			return;
		mmap_read_lock(mm);
		ret = handle_mm_fault(vma, addr, FAULT_FLAG_USER);
		mmap_read_unlock(mm);
		if (ret & VM_FAULT_ERROR)
			return;
	}
}

#endif
