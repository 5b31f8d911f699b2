import XCTest
import FaultlineLanguage
import FaultlineMachine
import FaultlineCheck
@testable import FaultlineExplore

/// Livelocks as cycles (`LoopWatch`): a revisited state under a fair schedule is a `livelock`
/// whose schedule ends with one lap; a spin-wait another CPU releases is not; growth without
/// repeating stays `step-bound`; states that differ only in the ids of objects allocated on the
/// way (a stack frame per loop iteration) are the same state.
final class LivelockTests: XCTestCase {
    func explore(_ text: String, strategy: Strategy = DynamicPartialOrderReduction(), maxSteps: Int = 2000,
                 options: ExplorationOptions = ExplorationOptions()) throws -> (ExplorationResult, ExplorationContext) {
        let ctx = ExplorationContext(machine: Machine(program: try Frontend.load(text: text), maxSteps: maxSteps))
        return (strategy.explore(ctx, options: options), ctx)
    }
    func kinds(_ r: ExplorationResult) -> [String] { r.violationKinds.map(\.rawValue).sorted() }
    let strategies: [Strategy] = [DynamicPartialOrderReduction(), DepthFirstSearch()]

    func testSpinNobodyReleasesIsALivelockWithOneLap() throws {
        for strategy in strategies {
            let (r, ctx) = try explore("""
            C spin-alone
            { f = 0; }
            P0(int *f) { while (!READ_ONCE(*f)) cpu_relax(); }
            P1(int *f) { WRITE_ONCE(*f, 0); }
            """, strategy: strategy)
            XCTAssertTrue(r.complete)
            XCTAssertEqual(kinds(r), ["livelock"], strategy.name)
            let v = r.violations[0]
            XCTAssertEqual(v.violation.facts.cause, .livelock)
            XCTAssertEqual(v.violation.facts.count, 1, "one step a lap")
            XCTAssertEqual(v.violation.facts.address, 0b01, "P0 spins")
            XCTAssertEqual(ctx.machine.program.locations[Int(v.violation.location)].line, 3)
            // The schedule reaches the cycle and goes once round it: P1 writes (the only way the
            // cycle is fair: P1 must have finished), then P0 reads twice.
            XCTAssertEqual(v.schedule, [1, 0, 0], strategy.name)
            let out = try Replay.run(ctx, schedule: v.schedule)
            guard case .violation(let w)? = out.terminal else { return XCTFail("replay: \(String(describing: out.terminal))") }
            XCTAssertEqual(w.kind, .livelock)
        }
    }

    func testFairSpinWaitIsNotALivelock() throws {
        for strategy in strategies {
            let (r, _) = try explore("""
            C spin-released
            { f = 0; }
            P0(int *f) { int r0; while (!READ_ONCE(*f)) cpu_relax(); r0 = 1; }
            P1(int *f) { WRITE_ONCE(*f, 1); }
            exists (0:r0=1)
            """, strategy: strategy)
            XCTAssertTrue(r.complete, strategy.name)
            XCTAssertEqual(kinds(r), [], strategy.name)
            XCTAssertEqual(r.verdict(hasClaim: true), .always, strategy.name)
            XCTAssertEqual(r.claimSatisfied, r.executions, strategy.name)
        }
    }

    func testSpinOnALockTheOtherReleasesIsNotALivelock() throws {
        // P1 holds the lock; P0 trylocks in a loop: it gets it once P1 lets go.
        let (r, _) = try explore("""
        C trylock-spin
        { }
        P0(spinlock_t *l) { int r0 = 0; while (!spin_trylock(l)) cpu_relax(); r0 = 1; spin_unlock(l); }
        P1(spinlock_t *l) { spin_lock(l); spin_unlock(l); }
        exists (0:r0=1)
        """)
        XCTAssertEqual(kinds(r), [])
        XCTAssertEqual(r.verdict(hasClaim: true), .always)
    }

    func testRetryLoopAroundTheLockItsWaiterNeedsIsNotALivelock() throws {
        // P0 takes and drops the lock each time round; P1 can run only while the lock is free,
        // never all along. Under strong fairness (queued spinlocks hand over in FIFO order) P1
        // gets the lock and ends P0's loop: no livelock, for every strategy (weak fairness made
        // dpor and dfs report one that bfs did not).
        for strategy in strategies {
            let (r, _) = try explore("""
            C lock-retaken-spin
            { f = 0; }
            P0(spinlock_t *l, int *f) { int r; do { spin_lock(l); r = READ_ONCE(*f); spin_unlock(l); } while (!r); }
            P1(spinlock_t *l, int *f) { spin_lock(l); WRITE_ONCE(*f, 1); spin_unlock(l); }
            exists (0:r=1)
            """, strategy: strategy)
            XCTAssertTrue(r.complete, strategy.name)
            XCTAssertEqual(kinds(r), [], strategy.name)
            XCTAssertEqual(r.verdict(hasClaim: true), .always, strategy.name)
        }
    }

    func testTwoCPUsRetryingForeverIsOneCycleOfBoth() throws {
        for strategy in strategies {
            let (r, _) = try explore("""
            C pingpong
            { a = 0; b = 0; }
            P0(int *a, int *b) { int r; do { WRITE_ONCE(*a, 1); r = READ_ONCE(*b); WRITE_ONCE(*a, 0); } while (r); }
            P1(int *a, int *b) { int r; do { WRITE_ONCE(*b, 1); r = READ_ONCE(*a); WRITE_ONCE(*b, 0); } while (r); }
            """, strategy: strategy)
            XCTAssertTrue(r.complete, strategy.name)
            XCTAssertEqual(kinds(r), ["livelock"], strategy.name)
            XCTAssertEqual(r.violations.map(\.violation.facts.address), [0b11], "one entry: P0 and P1 spin")
            let lap = r.violations[0].violation.facts.count
            XCTAssertEqual(lap, 6, strategy.name)     // three steps of each CPU
            XCTAssertEqual(r.violations[0].schedule.suffix(Int(lap)).filter { $0 == 0 }.count, 3)
        }
    }

    func testLoopCallingAFunctionWithAFrameIsTheSameStateEveryLap() throws {
        // Every call allocates a new stack frame (a new object id): the state repeats only up to
        // renaming the objects allocated on the way.
        let (r, _) = try explore("""
        C frames
        { f = 0; }
        static int peek(int *p) { int local[2]; local[0] = READ_ONCE(*p); return local[0]; }
        P0(int *f) { while (!peek(f)) cpu_relax(); }
        """, maxSteps: 500)
        XCTAssertEqual(kinds(r), ["livelock"])
        XCTAssertEqual(r.violations[0].violation.facts.count, 1)
        XCTAssertLessThan(r.violations[0].schedule.count, 5)
    }

    func testGrowthWithoutRepeatingStaysStepBound() throws {
        let (r, _) = try explore("""
        C counter
        { x = 0; }
        P0(int *x) { while (1) WRITE_ONCE(*x, READ_ONCE(*x) + 1); }
        """, maxSteps: 100)
        XCTAssertEqual(kinds(r), ["step-bound"])
        // An allocation per iteration that stays live grows the state too.
        let (a, _) = try explore("""
        C allocs
        { int *p; }
        P0(int **p) { while (1) WRITE_ONCE(*p, kmalloc(sizeof(int), GFP_KERNEL)); }
        """, maxSteps: 100)
        XCTAssertEqual(kinds(a), ["step-bound"])
    }

    /// Yielding CPUs of an unfair lap hide no state: dpor, dfs and stateful bfs see the same final
    /// states and violations on spin-waits released by other CPUs.
    func testSpinWaitsAgreeAcrossStrategies() throws {
        for text in ["""
            C spin-reads
            { a = 0; b = 0; }
            P0(int *a, int *b) { int r0 = 0; while (READ_ONCE(*a) < 2) { r0 = READ_ONCE(*b); } }
            P1(int *a) { WRITE_ONCE(*a, 1); WRITE_ONCE(*a, 2); }
            P2(int *b) { WRITE_ONCE(*b, 1); WRITE_ONCE(*b, 0); WRITE_ONCE(*b, 3); }
            exists (0:r0=0)
            """, """
            C trylock-loops
            { }
            P0(spinlock_t *l, int *x) { int r0; do { r0 = spin_trylock(l); } while (!r0); WRITE_ONCE(*x, READ_ONCE(*x) + 1); spin_unlock(l); }
            P1(spinlock_t *l, int *x) { int r1; do { r1 = spin_trylock(l); } while (!r1); WRITE_ONCE(*x, READ_ONCE(*x) + 1); spin_unlock(l); }
            exists (x=1)
            """] {
            let strategies: [Strategy] = [DynamicPartialOrderReduction(), DepthFirstSearch(), BreadthFirstSearch()]
            let results: [ExplorationResult] = try strategies.map { try explore(text, strategy: $0).0 }
            for r in results {
                XCTAssertTrue(r.complete, r.strategy)
                XCTAssertEqual(r.outcomes.map { $0.0 }, results[0].outcomes.map { $0.0 }, r.strategy)
                XCTAssertEqual(kinds(r), [], r.strategy)
            }
            XCTAssertGreaterThan(results[0].outcomes.count, 0)
        }
    }

    func testParallelSearchReportsTheSameLivelock() throws {
        let text = """
        C spin-and-others
        { f = 0; c = 0; }
        P0(int *f) { while (!READ_ONCE(*f)) cpu_relax(); }
        P1(int *f, int *c) { WRITE_ONCE(*c, 1); WRITE_ONCE(*f, READ_ONCE(*c) - 1); }
        P2(int *c) { WRITE_ONCE(*c, 2); }
        """
        let (one, _) = try explore(text)
        var options = ExplorationOptions()
        options.jobs = 2
        let (two, _) = try explore(text, options: options)
        XCTAssertEqual(kinds(one), ["livelock"])
        XCTAssertEqual(one.violations.map(\.schedule), two.violations.map(\.schedule))
        XCTAssertEqual(one.violations.map(\.violation), two.violations.map(\.violation))
        XCTAssertEqual(one.executions, two.executions)
        // Under wakeup trees a program with a loop is searched whole: split, the reported
        // livelock's schedule was another (the explored execution of its trace decides it).
        var trees = ExplorationOptions(); trees.wakeupTrees = true
        let (oneTree, _) = try explore(text, options: trees)
        trees.jobs = 2
        let (twoTree, _) = try explore(text, options: trees)
        XCTAssertEqual(oneTree.violations.map(\.schedule), twoTree.violations.map(\.schedule))
        XCTAssertEqual(oneTree.executions, one.executions)
        XCTAssertEqual(oneTree.sleepBlocked, 0)
    }
}
