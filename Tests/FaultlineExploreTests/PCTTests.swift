import XCTest
import FaultlineLanguage
import FaultlineMachine
import FaultlineCheck
@testable import FaultlineExplore

/// Probabilistic concurrency testing: determinism per seed, depth 1 never preempts, a depth-d
/// schedule has at most d-1 preemptions, and a bug needing one preemption is found at depth 2
/// (never at depth 1) and replays from its recorded schedule.
final class PCTTests: XCTestCase {
    func context(_ text: String) throws -> ExplorationContext {
        ExplorationContext(machine: Machine(program: try Frontend.load(text: text), maxSteps: 2000))
    }

    /// A lost update between five unrelated steps on each side: the bug needs P1 (or P0) to run
    /// its read between the other thread's read and write of `n`, i.e. exactly one preemption.
    static let lostUpdate = """
    C lost-update
    {}
    P0(int *n, int *a) {
      WRITE_ONCE(*a, 1); WRITE_ONCE(*a, 2); WRITE_ONCE(*a, 3); WRITE_ONCE(*a, 4); WRITE_ONCE(*a, 5);
      int r = READ_ONCE(*n); WRITE_ONCE(*n, r + 1);
      WRITE_ONCE(*a, 6); WRITE_ONCE(*a, 7); WRITE_ONCE(*a, 8); WRITE_ONCE(*a, 9); WRITE_ONCE(*a, 10);
    }
    P1(int *n, int *b) {
      WRITE_ONCE(*b, 1); WRITE_ONCE(*b, 2); WRITE_ONCE(*b, 3); WRITE_ONCE(*b, 4); WRITE_ONCE(*b, 5);
      int r = READ_ONCE(*n); WRITE_ONCE(*n, r + 1);
      WRITE_ONCE(*b, 6); WRITE_ONCE(*b, 7); WRITE_ONCE(*b, 8); WRITE_ONCE(*b, 9); WRITE_ONCE(*b, 10);
    }
    final { BUG_ON(n != 2); }
    """

    /// Three threads, no blocking, four steps each.
    static let threeThreads = """
    C three
    {}
    P0(int *x, int *a) { WRITE_ONCE(*a, 1); int r0 = READ_ONCE(*x); WRITE_ONCE(*x, r0 + 1); WRITE_ONCE(*a, 2); }
    P1(int *x, int *b) { WRITE_ONCE(*b, 1); int r0 = READ_ONCE(*x); WRITE_ONCE(*x, r0 + 1); WRITE_ONCE(*b, 2); }
    P2(int *x, int *c) { WRITE_ONCE(*c, 1); int r0 = READ_ONCE(*x); WRITE_ONCE(*x, r0 + 1); WRITE_ONCE(*c, 2); }
    exists (x=3)
    """

    func pct(_ ctx: ExplorationContext, seed: UInt64, runs: Int, depth: Int) -> ExplorationResult {
        var o = ExplorationOptions(); o.seed = seed; o.runs = runs; o.depth = depth
        return ProbabilisticConcurrencyTesting().explore(ctx, options: o)
    }

    /// Maximal runs of one thread in a schedule.
    func segments(_ schedule: [Int]) -> Int {
        zip(schedule, schedule.dropFirst()).filter { $0 != $1 }.count + (schedule.isEmpty ? 0 : 1)
    }

    func testSameSeedSameResult() throws {
        let ctx = try context(PCTTests.lostUpdate)
        let a = pct(ctx, seed: 0xFEED, runs: 300, depth: 3)
        let b = pct(ctx, seed: 0xFEED, runs: 300, depth: 3)
        XCTAssertEqual(a.strategy, "pct")
        XCTAssertEqual(a.executions, 300)
        XCTAssertEqual(b.executions, 300)
        XCTAssertFalse(a.complete)
        XCTAssertEqual(a.steps, b.steps)
        XCTAssertEqual(a.outcomes.map(\.0), b.outcomes.map(\.0))
        XCTAssertEqual(a.outcomes.map(\.1), b.outcomes.map(\.1))
        XCTAssertEqual(a.violatedExecutions, b.violatedExecutions)
        XCTAssertEqual(a.violations.map(\.violation.kind), b.violations.map(\.violation.kind))
        XCTAssertEqual(a.violations.map(\.schedule), b.violations.map(\.schedule))
        XCTAssertEqual(a.violations.map(\.occurrences), b.violations.map(\.occurrences))
        XCTAssertFalse(a.violations.isEmpty)
        // PCT violations replay by schedule (--trace), never by seed.
        XCTAssertTrue(a.violations.allSatisfy { $0.seed == nil })
        // Another seed is another sample (same totals, different choices).
        let c = pct(ctx, seed: 0xBEEF, runs: 300, depth: 3)
        XCTAssertEqual(c.executions, 300)
        // `execute` is a pure function of its inputs: the session's first run again.
        let k = ProbabilisticConcurrencyTesting.initialLengthEstimate(ctx.machine.program)
        XCTAssertEqual(k, 24)   // 12 visible steps per thread; the final block does not count
        let first = ProbabilisticConcurrencyTesting.execute(ctx, seed: SplitMix64.derive(0xFEED, 0), depth: 3, lengthEstimate: k)
        let again = ProbabilisticConcurrencyTesting.execute(ctx, seed: SplitMix64.derive(0xFEED, 0), depth: 3, lengthEstimate: k)
        XCTAssertEqual(first.1, again.1)
        XCTAssertEqual(first.1.count, 24)
    }

    func testDepthOneNeverPreempts() throws {
        let ctx = try context(PCTTests.threeThreads)
        for run in 0..<100 {
            for estimate in [1, 12, 100] {
                let (term, schedule) = ProbabilisticConcurrencyTesting.execute(ctx, seed: SplitMix64.derive(7, run), depth: 1, lengthEstimate: estimate)
                guard case .outcome = term else { return XCTFail("run \(run): \(term)") }
                XCTAssertEqual(schedule.count, 12)
                // Each thread runs to completion before another starts: at most n-1 switches.
                XCTAssertEqual(segments(schedule), 3, "run \(run): \(schedule)")
            }
        }
        // Hence depth 1 only ever sees x=3, and never the lost update.
        let r = pct(ctx, seed: 7, runs: 200, depth: 1)
        XCTAssertEqual(r.outcomes.map(\.0), [[3]])
        XCTAssertEqual(r.verdict(hasClaim: true), .always)
        XCTAssertTrue(pct(try context(PCTTests.lostUpdate), seed: 7, runs: 200, depth: 1).violations.isEmpty)
    }

    func testDepthBoundsPreemptions() throws {
        // d-1 change points add at most d-1 segments, even when the estimate is shorter than d-1.
        let ctx = try context(PCTTests.threeThreads)
        var extra = Set<Int>()
        for depth in 2...5 {
            for run in 0..<100 {
                for estimate in [1, 3, 12, 40] {
                    let (_, schedule) = ProbabilisticConcurrencyTesting.execute(ctx, seed: SplitMix64.derive(UInt64(depth), run), depth: depth, lengthEstimate: estimate)
                    XCTAssertEqual(schedule.count, 12)
                    XCTAssertLessThanOrEqual(segments(schedule), 3 + depth - 1, "depth \(depth): \(schedule)")
                    extra.insert(segments(schedule) - 3)
                }
            }
        }
        XCTAssertTrue(extra.contains(1) && extra.contains(2), "change points never preempted: \(extra.sorted())")
    }

    func testDepthTwoFindsOnePreemptionBugAndItReplays() throws {
        let ctx = try context(PCTTests.lostUpdate)
        let r = pct(ctx, seed: 1, runs: 200, depth: 2)
        XCTAssertEqual(r.violations.map(\.violation.kind), [.assertion])
        let v = r.violations[0]
        XCTAssertNil(v.seed)
        XCTAssertEqual(v.violation.facts.block, .final)
        // One preemption: P0/P1 runs in three segments exactly.
        XCTAssertEqual(segments(v.schedule), 3, "\(v.schedule)")
        let out = try Replay.run(ctx, schedule: v.schedule)
        guard case .violation(let again)? = out.terminal else { return XCTFail("no violation on replay") }
        XCTAssertEqual(again.kind, .assertion)
        XCTAssertEqual(again.facts, v.violation.facts)
    }
}
