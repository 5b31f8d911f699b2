/*
 * tlb.h — what a CPU's TLB remembers, for races where a flush comes too late.
 *
 * The rest of the model flushes with tlb_shootdown() alone: an IPI that
 * every other CPU acknowledges with IRQs on, so the flusher is ordered after
 * every access another CPU made with IRQs off — as if every flush flushed
 * every address.  Here a user CPU also keeps one translation: a user access
 * goes through the entry while it is valid (the MMU does not walk the page
 * tables again), else it walks them (hw_walk()) and fills the entry.
 * flush_tlb_range() invalidates the entries in its range, on every CPU, and
 * sends the IPI: x86 flush_tlb_mm_range() for a range below
 * tlb_single_page_flush_ceiling (INVLPG of those pages only).  A zap of one
 * address therefore leaves another address's stale entry alone, as the
 * hardware does.  A user access runs with IRQs off: it is over before its CPU
 * can acknowledge a flush.
 *
 * A user access to a frame the page allocator owns (PG_buddy: the last
 * reference went) is the use-after-free of a stale TLB entry; the model's
 * struct page outlives its frame (mm.h), so it is caught by user_read()'s
 * BUG_ON, an assertion.
 */
#ifndef _FAULTLINE_TLB_H
#define _FAULTLINE_TLB_H
#include "mm.h"

#define NR_TLB_CPUS		3

struct tlb_entry {
	unsigned long addr;
	pte_t pte;
	unsigned long valid;
};
struct tlb_entry cpu_tlb[NR_TLB_CPUS];

/* flush_tlb_range() — arch/x86/mm/tlb.c flush_tlb_mm_range(), a few pages */
static void flush_tlb_range(struct vm_area_struct *vma, unsigned long start, unsigned long end)
{
	int cpu;

	for (cpu = 0; cpu < NR_TLB_CPUS; cpu++) {
		struct tlb_entry *tlb = &cpu_tlb[cpu];

		if (READ_ONCE(tlb->valid) && READ_ONCE(tlb->addr) >= start && READ_ONCE(tlb->addr) < end)
			WRITE_ONCE(tlb->valid, 0);	/* flush_tlb_func(): INVLPG */
	}
	tlb_shootdown();			/* the IPIs, and their acknowledgements */
}

/*
 * A user read of @addr on this CPU: through the TLB, else a page-table walk
 * that fills it.  Returns 1 if it reached a page frame, 0 if it would fault
 * (the fault itself is not modelled).
 */
static int user_read(struct mm_struct *mm, unsigned long addr)
{
	struct tlb_entry *tlb = &cpu_tlb[smp_processor_id()];
	pte_t pte;

	local_irq_disable();
	if (READ_ONCE(tlb->valid) && READ_ONCE(tlb->addr) == addr) {
		pte = READ_ONCE(tlb->pte);
	} else {
		pte = hw_walk(mm, addr);
		if (pte_present(pte)) {
			WRITE_ONCE(tlb->addr, addr);
			WRITE_ONCE(tlb->pte, pte);
			WRITE_ONCE(tlb->valid, 1);
		}
	}
	if (pte_present(pte))		/* a stale translation to a freed frame */
		BUG_ON(test_bit(PG_buddy, &pte_page(pte)->flags));
	local_irq_enable();
	return pte_present(pte);
}

#endif
