/*
 * x86_fault.h — the arch side of a user page fault: arch/x86/mm/fault.c
 * do_user_addr_fault() of v5.7 (after "mm: allow VM_FAULT_RETRY for
 * multiple times" converted it), reduced to the mmap_lock / retry loop.
 * The retry test lacks `&& (flags & FAULT_FLAG_ALLOW_RETRY)` (always true
 * here) and fault_signal_pending() looks at fatal signals only (the races
 * send no other).
 *
 * Race hooks (harness, not kernel code):
 *   ARCH_FAULT_TRY_HOOK()        run at the start of every try
 *   PROBE_MMAP_LOCK_ON_RETRY     check that a RETRY return dropped
 *                                mmap_lock (only where nobody else takes it)
 * Variants:
 *   HALF_CONVERTED_ARCH  the pre-series loop: retry at most once, by
 *                        clearing ALLOW_RETRY and setting TRIED
 *   NO_SIGNAL_CHECK      no fault_signal_pending() before a retry
 */
#ifndef _FAULTLINE_X86_FAULT_H
#define _FAULTLINE_X86_FAULT_H
#include "fault.h"

#ifndef ARCH_FAULT_TRY_HOOK
#define ARCH_FAULT_TRY_HOOK()
#endif

/* model probe, not kernel code: succeeds iff this task dropped mmap_lock */
static void assert_mmap_lock_released(struct mm_struct *mm)
{
#ifdef PROBE_MMAP_LOCK_ON_RETRY
	int ok = down_write_trylock(&mm->mmap_lock);

	BUG_ON(!ok);
	up_write(&mm->mmap_lock);
#endif
}

static int do_user_addr_fault(struct mm_struct *mm, unsigned long address, unsigned int flags)
{
	struct vm_area_struct *vma;
	int fault;

	flags |= FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE | FAULT_FLAG_USER;
retry:
	ARCH_FAULT_TRY_HOOK();
	mmap_read_lock(mm);
	vma = find_vma(mm, address);
	if (unlikely(!vma)) {
		mmap_read_unlock(mm);
		return VM_FAULT_SIGSEGV;	/* bad_area() */
	}
	fault = handle_mm_fault(vma, address, flags);

#ifndef NO_SIGNAL_CHECK
	/* Quick path to respond to signals: fault_signal_pending() */
	if ((fault & VM_FAULT_RETRY) && fatal_signal_pending(mm)) {
		assert_mmap_lock_released(mm);
		return fault;
	}
#endif

	/*
	 * If we need to retry the mmap_lock has already been released,
	 * and if there is a fatal signal pending there is no guarantee
	 * that we made any progress. Handle this case first.
	 */
	if (unlikely(fault & VM_FAULT_RETRY)) {
		assert_mmap_lock_released(mm);
#ifdef HALF_CONVERTED_ARCH
		/* Retry at most once (pre-series arch code) */
		if (flags & FAULT_FLAG_ALLOW_RETRY) {
			flags &= ~FAULT_FLAG_ALLOW_RETRY;
			flags |= FAULT_FLAG_TRIED;
			goto retry;
		}
		return fault;
#else
		flags |= FAULT_FLAG_TRIED;
		goto retry;
#endif
	}

	mmap_read_unlock(mm);
	return fault;		/* VM_FAULT_SIGBUS: do_sigbus() */
}

#endif
