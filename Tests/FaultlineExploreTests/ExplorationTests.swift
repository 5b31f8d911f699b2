import XCTest
import Foundation
import FaultlineLanguage
import FaultlineMachine
import FaultlineCheck
@testable import FaultlineExplore

/// Exploration counts on programs whose interleaving counts are known by hand, every violation
/// kind, the synchronisation semantics, and replay tokens.
final class ExplorationTests: XCTestCase {
    func explore(_ text: String, defines: [Define] = [], maxSteps: Int = 2000, options: ExplorationOptions = ExplorationOptions(),
                 strategy: Strategy = DepthFirstSearch()) throws -> (ExplorationResult, ExplorationContext) {
        let p = try Frontend.load(text: text, defines: defines)
        let ctx = ExplorationContext(machine: Machine(program: p, maxSteps: maxSteps))
        return (strategy.explore(ctx, options: options), ctx)
    }

    func kinds(_ r: ExplorationResult) -> [String] { r.violationKinds.map(\.rawValue).sorted() }

    // MARK: counts

    func testTwoThreadsTwoStepsIsSixInterleavings() throws {
        let (r, _) = try explore("""
        C count
        {}
        P0(int *x, int *y) { WRITE_ONCE(*x, 1); WRITE_ONCE(*y, 1); }
        P1(int *x, int *y) { int r0 = READ_ONCE(*y); int r1 = READ_ONCE(*x); }
        exists (1:r0=1 /\\ 1:r1=0)
        """)
        XCTAssertEqual(r.executions, 6)
        XCTAssertTrue(r.complete)
        XCTAssertEqual(r.outcomes.map(\.0), [[0, 0], [0, 1], [1, 1]])   // 1:r0, 1:r1
        XCTAssertEqual(r.outcomes.map(\.1), [1, 4, 1])
        XCTAssertEqual(r.verdict(hasClaim: true), .never)
    }

    func testInterleavingCountsAreBinomial() throws {
        // 2 threads × 3 steps: C(6,3) = 20; 3 threads × 1 step: 3! = 6; 3 × 2: 6!/(2!2!2!) = 90.
        let two3 = try explore("""
        C c
        {}
        P0(int *x) { WRITE_ONCE(*x, 1); WRITE_ONCE(*x, 2); WRITE_ONCE(*x, 3); }
        P1(int *y) { WRITE_ONCE(*y, 1); WRITE_ONCE(*y, 2); WRITE_ONCE(*y, 3); }
        """).0
        XCTAssertEqual(two3.executions, 20)
        let three1 = try explore("""
        C c
        {}
        P0(int *x) { WRITE_ONCE(*x, 1); }
        P1(int *x) { WRITE_ONCE(*x, 2); }
        P2(int *x) { WRITE_ONCE(*x, 3); }
        exists (x=3)
        """).0
        XCTAssertEqual(three1.executions, 6)
        XCTAssertEqual(three1.outcomes.map(\.1), [2, 2, 2])
        XCTAssertEqual(three1.verdict(hasClaim: true), .sometimes)
        let three2 = try explore("""
        C c
        {}
        P0(int *a) { WRITE_ONCE(*a, 1); WRITE_ONCE(*a, 2); }
        P1(int *b) { WRITE_ONCE(*b, 1); WRITE_ONCE(*b, 2); }
        P2(int *c) { WRITE_ONCE(*c, 1); WRITE_ONCE(*c, 2); }
        """).0
        XCTAssertEqual(three2.executions, 90)
    }

    func testLocalInstructionsAreNotSteps() throws {
        let (r, _) = try explore("""
        C locals
        {}
        P0(int *x) { int i; int s = 0; for (i = 0; i < 10; i++) s += i; WRITE_ONCE(*x, s); }
        P1(int *x) { int r0 = READ_ONCE(*x); }
        exists (1:r0=45)
        """)
        XCTAssertEqual(r.executions, 2)
        XCTAssertEqual(r.verdict(hasClaim: true), .sometimes)
    }

    func testSpinLockSerialises() throws {
        // Lost update without the lock; none with it.
        let src = """
        C counter
        {}
        P0(int *n, spinlock_t *l) {
        #ifdef LOCK
          spin_lock(l);
        #endif
          int r = READ_ONCE(*n); WRITE_ONCE(*n, r + 1);
        #ifdef LOCK
          spin_unlock(l);
        #endif
        }
        P1(int *n, spinlock_t *l) {
        #ifdef LOCK
          spin_lock(l);
        #endif
          int r = READ_ONCE(*n); WRITE_ONCE(*n, r + 1);
        #ifdef LOCK
          spin_unlock(l);
        #endif
        }
        exists (n=1)
        """
        XCTAssertEqual(try explore(src).0.verdict(hasClaim: true), .sometimes)
        let locked = try explore(src, defines: [Define(name: "LOCK")]).0
        XCTAssertEqual(locked.verdict(hasClaim: true), .never)
        XCTAssertEqual(locked.executions, 2)
    }

    // MARK: violation kinds

    func testUseAfterFree() throws {
        let (r, ctx) = try explore("""
        C uaf
        { }
        P0(int **p) { int *q = kzalloc(1, GFP_KERNEL); WRITE_ONCE(*p, q); }
        P1(int **p) { int *q = READ_ONCE(*p); if (q) { kfree(q); WRITE_ONCE(*p, 0); } }
        P2(int **p) { int *q = READ_ONCE(*p); if (q) WRITE_ONCE(*q, 1); }
        """)
        XCTAssertEqual(kinds(r), ["use-after-free"])
        let v = r.violations[0]
        // The schedule replays to the same violation.
        let out = try Replay.run(ctx, schedule: v.schedule)
        guard case .violation(let again)? = out.terminal else { return XCTFail("no violation on replay") }
        XCTAssertEqual(again.kind, .useAfterFree)
        XCTAssertEqual(again.thread, 2)
    }

    func testTypeConfusionNullBoundsDoubleFree() throws {
        XCTAssertEqual(kinds(try explore("""
        C tc
        typedef unsigned long pmd_t;
        struct data_page { unsigned long words[8]; };
        {}
        P0(int *x) { pmd_t *table = alloc_page(pmd_t); free_page(table); struct data_page *d = alloc_page(struct data_page); pmd_t *pmd = (pmd_t *)d; pmd_t v = READ_ONCE(*pmd); free_page(d); }
        """).0), ["type-confusion"])
        XCTAssertEqual(kinds(try explore("""
        C null
        {}
        P0(int **p) { int *q = READ_ONCE(*p); WRITE_ONCE(*q, 1); }
        """).0), ["null-dereference"])
        XCTAssertEqual(kinds(try explore("""
        C oob
        { int a[2]; }
        P0(int *a) { WRITE_ONCE(a[2], 1); }
        """).0), ["out-of-bounds"])
        XCTAssertEqual(kinds(try explore("""
        C df
        {}
        P0(int **p) { int *q = kmalloc(2, GFP_KERNEL); kfree(q); kfree(q); }
        """).0), ["double-free"])
    }

    func testLeakOnlyWhenUnreachable() throws {
        XCTAssertEqual(kinds(try explore("""
        C leak
        {}
        P0(int **p) { int *q = kmalloc(2, GFP_KERNEL); }
        """).0), ["leak"])
        XCTAssertEqual(kinds(try explore("""
        C kept
        {}
        P0(int **p) { int *q = kmalloc(2, GFP_KERNEL); WRITE_ONCE(*p, q); }
        """).0), [])
    }

    func testAssertionsFinalAndInvariant() throws {
        XCTAssertEqual(kinds(try explore("""
        C bug
        {}
        P0(int *x) { WRITE_ONCE(*x, 1); }
        P1(int *x) { int r = READ_ONCE(*x); BUG_ON(r == 1); }
        """).0), ["assertion"])
        let fin = try explore("""
        C fin
        {}
        P0(int *n) { int r = READ_ONCE(*n); WRITE_ONCE(*n, r + 1); }
        P1(int *n) { int r = READ_ONCE(*n); WRITE_ONCE(*n, r + 1); }
        final { BUG_ON(n != 2); }
        """).0
        XCTAssertEqual(kinds(fin), ["assertion"])
        XCTAssertEqual(fin.violations[0].violation.facts.block, .final)
        let inv = try explore("""
        C inv
        { }
        P0(int *x, int *y) { WRITE_ONCE(*x, 1); WRITE_ONCE(*y, 1); }
        P1(int *x, int *y) { WRITE_ONCE(*x, 0); }
        invariant { BUG_ON(y == 1 && x == 0); }
        """).0
        XCTAssertEqual(kinds(inv), ["assertion"])
    }

    func testDeadlocksABBAAndSelf() throws {
        let abba = try explore("""
        C abba
        {}
        P0(spinlock_t *a, spinlock_t *b) { spin_lock(a); spin_lock(b); spin_unlock(b); spin_unlock(a); }
        P1(spinlock_t *a, spinlock_t *b) { spin_lock(b); spin_lock(a); spin_unlock(a); spin_unlock(b); }
        """).0
        XCTAssertEqual(kinds(abba), ["deadlock"])
        XCTAssertEqual(kinds(try explore("""
        C self
        {}
        P0(spinlock_t *a) { spin_lock(a); spin_lock(a); }
        """).0), ["deadlock"])
    }

    func testSpinNobodyEndsIsALivelockAndGrowthIsStepBound() throws {
        let r = try explore("""
        C spin
        {}
        P0(int *flag) { while (READ_ONCE(*flag) == 0) { } }
        """, maxSteps: 50).0
        XCTAssertEqual(kinds(r), ["livelock"])
        let g = try explore("""
        C count
        {}
        P0(int *flag, int *n) { while (READ_ONCE(*flag) == 0) { WRITE_ONCE(*n, READ_ONCE(*n) + 1); } }
        """, maxSteps: 50).0
        XCTAssertEqual(kinds(g), ["step-bound"])
    }

    func testLockMisuse() throws {
        XCTAssertEqual(kinds(try explore("""
        C unlock
        {}
        P0(spinlock_t *a) { spin_unlock(a); }
        """).0), ["lock-misuse"])
    }

    // MARK: synchronisation semantics

    func testRwsemWriterPreferenceBlocksNewReaders() throws {
        // P0 holds the read lock and takes it again after P1 queued for write: deadlock, as in the kernel.
        let r = try explore("""
        C rwsem
        {}
        P0(struct rw_semaphore *s, int *x) { down_read(s); WRITE_ONCE(*x, 1); down_read(s); up_read(s); up_read(s); }
        P1(struct rw_semaphore *s, int *x) { down_write(s); up_write(s); }
        """).0
        XCTAssertEqual(kinds(r), ["deadlock"])
    }

    func testSynchronizeRcuWaitsForPreexistingReaders() throws {
        let r = try explore("""
        C rcu
        {}
        P0(int *x, int *y) { rcu_read_lock(); int r0 = READ_ONCE(*x); int r1 = READ_ONCE(*y); rcu_read_unlock(); }
        P1(int *x, int *y) { WRITE_ONCE(*x, 1); synchronize_rcu(); WRITE_ONCE(*y, 1); }
        exists (0:r0=1 /\\ 0:r1=0) \\/ (0:r0=0 /\\ 0:r1=1)
        """.replacingOccurrences(of: "exists (0:r0=1 /\\ 0:r1=0) \\/ (0:r0=0 /\\ 0:r1=1)", with: "exists (0:r0=0 /\\ 0:r1=1)")).0
        XCTAssertEqual(r.verdict(hasClaim: true), .never)
        XCTAssertTrue(r.complete)
    }

    func testTlbShootdownWaitsForIrqsOn() throws {
        // P0 spins for the lock with IRQs off while P1 holds it and waits for the shootdown: deadlock.
        let r = try explore("""
        C tlb
        {}
        P0(spinlock_t *ptl) { local_irq_disable(); spin_lock(ptl); spin_unlock(ptl); local_irq_enable(); }
        P1(spinlock_t *ptl) { spin_lock(ptl); tlb_shootdown(); spin_unlock(ptl); }
        """).0
        XCTAssertEqual(kinds(r), ["deadlock"])
        let ok = try explore("""
        C tlb
        {}
        P0(spinlock_t *ptl) { local_irq_disable(); if (spin_trylock(ptl)) spin_unlock(ptl); local_irq_enable(); }
        P1(spinlock_t *ptl) { spin_lock(ptl); tlb_shootdown(); spin_unlock(ptl); }
        """).0
        XCTAssertEqual(kinds(ok), [])
    }

    func testAtomicsAndCmpxchg() throws {
        let r = try explore("""
        C atomics
        { atomic_t v = ATOMIC_INIT(1); }
        P0(atomic_t *v, int *x) { int r0 = atomic_inc_return(v); int r1 = cmpxchg(x, 0, 5); int r2 = atomic_add_unless(v, 1, 2); int r3 = test_and_set_bit(3, x); }
        exists (0:r0=2 /\\ 0:r1=0 /\\ 0:r2=0 /\\ 0:r3=0 /\\ x=13 /\\ v=2)
        """).0
        XCTAssertEqual(r.verdict(hasClaim: true), .always)
    }

    // MARK: random, limits, tokens

    func testRandomIsDeterministicPerSeed() throws {
        let src = """
        C r
        {}
        P0(int *x) { WRITE_ONCE(*x, 1); WRITE_ONCE(*x, 2); }
        P1(int *x) { int r0 = READ_ONCE(*x); int r1 = READ_ONCE(*x); }
        exists (1:r0=2 /\\ 1:r1=1)
        """
        var o = ExplorationOptions(); o.seed = 42; o.runs = 50
        let a = try explore(src, options: o, strategy: RandomWalk()).0
        let b = try explore(src, options: o, strategy: RandomWalk()).0
        XCTAssertEqual(a.outcomes.map(\.1), b.outcomes.map(\.1))
        XCTAssertEqual(a.executions, 50)
        XCTAssertEqual(SplitMix64.derive(1, 0), SplitMix64.derive(1, 0))
        XCTAssertNotEqual(SplitMix64.derive(1, 0), SplitMix64.derive(1, 1))
        var g = SplitMix64(seed: 0)
        XCTAssertEqual(g.next(), 0xE220A8397B1DCDAF)   // reference SplitMix64 output for seed 0
    }

    func testMaxExecutionsGivesPartialReport() throws {
        var o = ExplorationOptions(); o.maxExecutions = 5
        let r = try explore("""
        C c
        {}
        P0(int *x) { WRITE_ONCE(*x, 1); WRITE_ONCE(*x, 2); WRITE_ONCE(*x, 3); }
        P1(int *y) { WRITE_ONCE(*y, 1); WRITE_ONCE(*y, 2); WRITE_ONCE(*y, 3); }
        """, options: o).0
        XCTAssertEqual(r.executions, 5)
        XCTAssertFalse(r.complete)
        XCTAssertEqual(r.stopReason, .maxExecutions)
    }

    func testPreemptionBound() throws {
        var o = ExplorationOptions(); o.preemptionBound = 0
        let r = try explore("""
        C c
        {}
        P0(int *x) { WRITE_ONCE(*x, 1); WRITE_ONCE(*x, 2); }
        P1(int *y) { WRITE_ONCE(*y, 1); WRITE_ONCE(*y, 2); }
        """, options: o).0
        XCTAssertEqual(r.executions, 2)     // P0 then P1, P1 then P0
        XCTAssertFalse(r.complete)
    }

    func testReplayTokenRoundTrip() throws {
        let t = ReplayToken(programHash: 0xABCDEF, schedule: [0, 0, 0, 1, 1, 0, 2])
        XCTAssertEqual(t.description, "fl1:0000000000abcdef:0x3.1x2.0.2")
        XCTAssertEqual(try ReplayToken(parsing: t.description), t)
        XCTAssertEqual(try ReplayToken(parsing: "fl1:0000000000abcdef:-").schedule, [])
        XCTAssertThrowsError(try ReplayToken(parsing: "fl2:0000000000abcdef:0"))
        XCTAssertThrowsError(try ReplayToken(parsing: "fl1:xyz:0"))
        XCTAssertThrowsError(try ReplayToken(parsing: "fl1:0000000000abcdef:0x0"))
        var g = SplitMix64(seed: 7)
        for _ in 0..<200 {
            let s = (0..<g.below(30)).map { _ in g.below(5) }
            let tok = ReplayToken(programHash: g.next(), schedule: s)
            XCTAssertEqual(try ReplayToken(parsing: tok.description), tok)
        }
    }

    /// Collects what a search reports for its progress line.
    final class Sink: ProgressSink, @unchecked Sendable {
        var last = 0, calls = 0
        var estimates: [Double] = []
        func report(executions n: Int, violations: Int, estimatedTotal: Double?) {
            XCTAssertGreaterThanOrEqual(n, last, "the run's total only grows")
            last = n; calls += 1
            if let e = estimatedTotal { estimates.append(e) }
        }
    }

    func testEveryStrategyReportsProgressOfEveryExecution() throws {
        let text = """
        C p
        {}
        P0(int *x) { WRITE_ONCE(*x, 1); WRITE_ONCE(*x, 2); WRITE_ONCE(*x, 3); }
        P1(int *x) { WRITE_ONCE(*x, 4); WRITE_ONCE(*x, 5); WRITE_ONCE(*x, 6); }
        P2(int *x) { WRITE_ONCE(*x, 7); WRITE_ONCE(*x, 8); }
        """
        let strategies: [Strategy] = [DepthFirstSearch(), DynamicPartialOrderReduction(), BreadthFirstSearch(), RandomWalk(),
                                      ProbabilisticConcurrencyTesting(), AxiomaticSearch(), LKMMSearch()]
        for strategy in strategies {
            let sink = Sink()
            var o = ExplorationOptions(); o.progress = sink; o.runs = 300
            let budget = o.runBudget()
            let r = try explore(text, options: o, strategy: strategy).0
            // bfs counts states expanded, the others executions (or candidates): the budget's count.
            XCTAssertEqual(sink.last, budget.executionsUsed, strategy.name)
            XCTAssertGreaterThanOrEqual(sink.calls, budget.executionsUsed, strategy.name)   // and now and then from set-up loops
            if !(strategy is BreadthFirstSearch) { XCTAssertEqual(sink.last, r.executions, strategy.name) }
            if strategy is DepthFirstSearch || strategy is DynamicPartialOrderReduction {
                XCTAssertEqual(r.executions, 560)            // 8! / (3! 3! 2!): every write conflicts
                XCTAssertFalse(sink.estimates.isEmpty)
                XCTAssertTrue(sink.estimates.allSatisfy { $0 >= 1 })
            }
            if strategy is RandomWalk || strategy is ProbabilisticConcurrencyTesting { XCTAssertEqual(sink.estimates.last, 300, strategy.name) }
        }
    }

    func testTreeSizeEstimateIsExactOnAUniformTree() {
        var e = TreeSizeEstimate()
        e.sample(branching: [3, 2, 1])
        e.sample(branching: [3, 2, 1])
        XCTAssertEqual(e.mean, 6)
        e.sample(branching: [2, 0])                      // a leaf counts as branching 1
        XCTAssertEqual(e.mean, (6 + 6 + 2) / 3)
    }
}
