import XCTest
import Foundation
import FaultlineLanguage
import FaultlineMachine
import FaultlineCheck
@testable import FaultlineExplore

/// dpor without lock-aware reduction follows Optimal-DPOR's wakeup trees. Source-DPOR (the
/// `wakeupTrees = false` search) explores at least one execution of every Mazurkiewicz trace, so
/// the tree search must explore exactly its set of traces, each once, and (unlike it) waste no
/// execution in a sleep-blocked state. Checked on generated programs (fixed seeds; a failure
/// prints the program).
final class WakeupTreeTests: XCTestCase {
    /// Canonical linearizations of the complete executions of one search.
    final class Traces: @unchecked Sendable {
        let lock = NSLock()
        var all: [[Int]] = []
        func insert(_ s: [Int]) { lock.lock(); all.append(s); lock.unlock() }
    }

    struct Totals { var programs = 0, trees = 0, source = 0, sourceBlocked = 0, treesBlocked = 0 }

    func compare(_ src: String, _ label: String, into totals: inout Totals) throws -> Bool {
        let p = try Frontend.load(text: src)
        let ctx = ExplorationContext(machine: Machine(program: p))
        func run(trees: Bool) -> (ExplorationResult, [[Int]]) {
            let seen = Traces()
            var o = ExplorationOptions()
            o.lockReduction = false
            o.wakeupTrees = trees
            o.maxExecutions = 50_000
            o.observeTrace = { seen.insert($0) }
            return (DynamicPartialOrderReduction().explore(ctx, options: o), seen.all)
        }
        let (s, sourceTraces) = run(trees: false)
        guard s.complete else { return true }
        let (t, treeTraces) = run(trees: true)
        totals.programs += 1
        totals.source += s.executions; totals.trees += t.executions
        totals.sourceBlocked += s.sleepBlocked; totals.treesBlocked += t.sleepBlocked
        let distinct = Set(treeTraces)
        if Set(sourceTraces) != distinct || distinct.count != treeTraces.count || !t.complete {
            XCTFail("\(label): source-dpor \(Set(sourceTraces).count) traces in \(s.executions) executions, "
                    + "wakeup trees \(distinct.count) in \(t.executions) (missing \(Set(sourceTraces).subtracting(distinct).count), "
                    + "extra \(distinct.subtracting(Set(sourceTraces)).count)):\n\(src)")
            return false
        }
        return true
    }

    /// `count` programs of `generate` from `seed`: all compared, with these execution totals.
    func checkGenerated(_ label: String, seed: UInt64, count: Int, _ generate: (inout SplitMix64) -> String,
                        executions: Int, sourceBlocked: Int) throws {
        var totals = Totals()
        var g = SplitMix64(seed: seed)
        for i in 0..<count { guard try compare(generate(&g), "\(label) \(i)", into: &totals) else { return } }
        XCTAssertEqual(totals.programs, count)
        XCTAssertEqual(totals.trees, executions)
        XCTAssertEqual(totals.source, executions)
        XCTAssertEqual(totals.treesBlocked, 0)
        XCTAssertEqual(totals.sourceBlocked, sourceBlocked)
        print("wakeup trees, \(label)s: \(totals.trees) executions (\(totals.treesBlocked) sleep-blocked); source-dpor \(totals.source) (\(totals.sourceBlocked))")
    }

    func testWakeupTreesExploreEveryTraceOnce() throws {
        try checkGenerated("program", seed: 0x7EE5, count: 1000, DPORPropertyTests.generate, executions: 18_800, sourceBlocked: 466)
    }

    func testWakeupTreesExploreEveryTraceOnceWithLocks() throws {
        try checkGenerated("lock program", seed: 0x10CC5, count: 600, LockReductionTests.generate, executions: 136_043, sourceBlocked: 7_031)
    }

    /// Source-DPOR with Optimal-DPOR's sleeping-weak-initial rule but no wakeup trees loses
    /// traces here (22 of 24): P0 sleeps where its down_write would queue, and the order where
    /// it takes the rwsem after P2's section is reached only through a sequence inserted under
    /// P1's branch at an earlier state.
    func testSleepingWeakInitialNeedsTheTree() throws {
        let src = """
        C sleeping-weak-initial
        {}
        P0(int *x, int *y, struct rw_semaphore *sem) {
          r0 = cmpxchg(x, 0, 1); down_write(sem); WRITE_ONCE(*y, 1); up_write(sem);
        }
        P1(int *x, int *y, struct rw_semaphore *sem) {
          WRITE_ONCE(*x, 2); WRITE_ONCE(*y, 2);
        }
        P2(int *x, int *y, struct rw_semaphore *sem) {
          down_write(sem); WRITE_ONCE(*y, 3); up_write(sem);
        }
        exists (y=1)
        """
        var totals = Totals()
        XCTAssertTrue(try compare(src, "t10", into: &totals))
        XCTAssertEqual(totals.trees, 24)
        XCTAssertEqual(totals.treesBlocked, 0)
    }
}
