import XCTest
import FaultlineLanguage
import FaultlineMachine
import FaultlineCheck
@testable import FaultlineExplore

/// DPOR must report exactly the final-state set and the violation kinds of plain DFS. Checked
/// on generated small programs (fixed seed: the same programs every run; a failure prints the
/// program).
final class DPORPropertyTests: XCTestCase {
    static func generate(_ g: inout SplitMix64) -> String {
        let locs = ["x", "y", "z"]
        let threads = 2 + g.below(2)
        var body: [String] = []
        var regs: [String] = []
        for t in 0..<threads {
            var lines: [String] = []
            var r = 0
            for _ in 0..<(1 + g.below(3)) {
                let l = locs[g.below(locs.count)]
                switch g.below(14) {
                case 12: lines.append("down_read(sem); r\(r) = READ_ONCE(*\(l)); up_read(sem);"); regs.append("\(t):r\(r)"); r += 1
                case 13: lines.append("down_write(sem); WRITE_ONCE(*\(l), \(t + 1)); up_write(sem);")
                case 10: lines.append("local_irq_disable(); r\(r) = READ_ONCE(*\(l)); local_irq_enable();"); regs.append("\(t):r\(r)"); r += 1
                case 11: lines.append("WRITE_ONCE(*\(l), 2); tlb_shootdown();")
                case 0, 1, 2: lines.append("WRITE_ONCE(*\(l), \(1 + g.below(2)));")
                case 3, 4, 5: lines.append("r\(r) = READ_ONCE(*\(l));"); regs.append("\(t):r\(r)"); r += 1
                case 6: lines.append("spin_lock(lk); WRITE_ONCE(*\(l), READ_ONCE(*\(l)) + 1); spin_unlock(lk);")
                case 7: lines.append("r\(r) = cmpxchg(\(l), 0, \(t + 1));"); regs.append("\(t):r\(r)"); r += 1
                case 8: lines.append("rcu_read_lock(); r\(r) = READ_ONCE(*\(l)); rcu_read_unlock();"); regs.append("\(t):r\(r)"); r += 1
                default: lines.append("WRITE_ONCE(*\(l), 1); synchronize_rcu();")
                }
            }
            if g.below(4) == 0 { lines.append("BUG_ON(READ_ONCE(*x) == 2 && READ_ONCE(*y) == 1);") }
            body.append("P\(t)(int *x, int *y, int *z, spinlock_t *lk, struct rw_semaphore *sem) {\n  " + lines.joined(separator: "\n  ") + "\n}")
        }
        let cond = regs.isEmpty ? "x=1" : regs.map { "\($0)=0" }.joined(separator: " /\\ ")
        let invariant = g.below(4) == 0 ? "invariant { BUG_ON(x == \(1 + g.below(2)) && y == \(g.below(3))); }\n" : ""
        return "C generated\n{}\n" + body.joined(separator: "\n") + "\n" + invariant + "exists (\(cond) \\/ x=1 \\/ y=2)\n"
    }

    func testDPORMatchesDFSOnGeneratedPrograms() throws {
        var g = SplitMix64(seed: 0xF4017)
        var dporExecutions = 0, dfsExecutions = 0, skipped = 0
        var compared = 0
        for i in 0..<3000 where compared < 1000 {
            let src = DPORPropertyTests.generate(&g)
            let p = try Frontend.load(text: src)
            let ctx = ExplorationContext(machine: Machine(program: p))
            var limited = ExplorationOptions()
            limited.maxExecutions = 3_000
            let a = DepthFirstSearch().explore(ctx, options: limited)
            guard a.complete else { skipped += 1; continue }   // too big for plain DFS: no reference
            compared += 1
            let b = DynamicPartialOrderReduction().explore(ctx, options: ExplorationOptions())
            XCTAssertTrue(b.complete)
            dfsExecutions += a.executions; dporExecutions += b.executions
            let sa = Set(a.outcomes.map(\.0)), sb = Set(b.outcomes.map(\.0))
            if sa != sb || a.violationKinds != b.violationKinds || a.verdict(hasClaim: true) != b.verdict(hasClaim: true) {
                return XCTFail("program \(i) differs (dfs \(sa.count) states \(a.violationKinds), dpor \(sb.count) states \(b.violationKinds)):\n\(src)")
            }
        }
        XCTAssertLessThan(dporExecutions, dfsExecutions)
        XCTAssertEqual(compared, 1000, "generated programs small enough for plain DFS (\(skipped) skipped)")
    }
}

/// A search split into subtrees (`--jobs`, `--shard`) reports exactly what the unsplit search
/// reports: same execution count, histogram (with counts), verdict counts and violations.
final class ParallelSearchTests: XCTestCase {
    func fingerprint(_ r: ExplorationResult) -> String {
        let outcomes = r.outcomes.map { "\($0.0):\($0.1)" }.joined(separator: " ")
        let violations = r.violations.map { "\($0.violation.kind.rawValue)@\($0.violation.location)x\($0.occurrences):\($0.schedule)" }.joined(separator: " ")
        return "\(r.complete) \(r.executions) \(r.violatedExecutions) \(r.claimSatisfied)/\(r.claimViolated) [\(outcomes)] [\(violations)]"
    }

    func testSplitSearchesReportTheSameAsOne() throws { try splitSearchesReportTheSameAsOne(wakeupTrees: false) }

    /// Under wakeup trees too (a split one's sleepers from the frontier carry no tree).
    func testSplitSearchesUnderWakeupTreesReportTheSameAsOne() throws { try splitSearchesReportTheSameAsOne(wakeupTrees: true) }

    func splitSearchesReportTheSameAsOne(wakeupTrees: Bool) throws {
        var g = SplitMix64(seed: 0x5EED)
        var compared = 0
        for i in 0..<400 {
            let src = DPORPropertyTests.generate(&g)
            let p = try Frontend.load(text: src)
            let ctx = ExplorationContext(machine: Machine(program: p))
            var whole = ExplorationOptions(); whole.wakeupTrees = wakeupTrees
            let one = DynamicPartialOrderReduction().explore(ctx, options: whole)
            var jobs = whole; jobs.jobs = 2
            let two = DynamicPartialOrderReduction().explore(ctx, options: jobs)
            XCTAssertEqual(fingerprint(one), fingerprint(two), "program \(i), --jobs 2:\n\(src)")
            // Three shards merged.
            var merged: ResultBuilder? = nil
            for k in 0..<3 {
                var o = whole; o.shard = Shard(index: k, count: 3)
                let part = DynamicPartialOrderReduction().explore(ctx, options: o)
                var b = ResultBuilder(strategy: part.strategy, program: p)
                b.absorb(part)
                if merged == nil { merged = b } else { merged!.merge(b) }
            }
            XCTAssertEqual(fingerprint(one), fingerprint(merged!.finish(elapsed: 0)), "program \(i), 3 shards:\n\(src)")
            if fingerprint(one) != fingerprint(two) { return }
            compared += 1
        }
        XCTAssertEqual(compared, 400)
    }
}
