import XCTest
import FaultlineLanguage
import FaultlineMachine
import FaultlineCheck
@testable import FaultlineExplore

/// The axiomatic strategy must give the final-state set and verdict plain DFS gives, on every
/// program in its scope; `auto` must pick it exactly for those programs.
final class AxiomaticTests: XCTestCase {
    /// Loop-free programs of reads, writes, branches on read values, RCU and SRCU sections and grace periods.
    static func generate(_ g: inout SplitMix64) -> String {
        let locs = ["x", "y", "z"]
        let threads = 2 + g.below(3)
        var body: [String] = []
        var regs: [String] = []
        for t in 0..<threads {
            var lines: [String] = []
            var r = 0
            for _ in 0..<(1 + g.below(3)) {
                let l = locs[g.below(locs.count)], l2 = locs[g.below(locs.count)]
                switch g.below(10) {
                case 0, 1: lines.append("WRITE_ONCE(*\(l), \(1 + g.below(2)));")
                case 2, 3: lines.append("r\(r) = READ_ONCE(*\(l));"); regs.append("\(t):r\(r)"); r += 1
                case 4: lines.append("rcu_read_lock(); r\(r) = READ_ONCE(*\(l)); r\(r + 1) = READ_ONCE(*\(l2)); rcu_read_unlock();")
                    regs.append("\(t):r\(r)"); regs.append("\(t):r\(r + 1)"); r += 2
                case 5: lines.append("r\(r) = READ_ONCE(*\(l)); synchronize_rcu(); WRITE_ONCE(*\(l2), 2);"); regs.append("\(t):r\(r)"); r += 1
                case 6: lines.append("r\(r) = READ_ONCE(*\(l)); if (r\(r) == 1) WRITE_ONCE(*\(l2), 3);"); regs.append("\(t):r\(r)"); r += 1
                case 8: lines.append("{ int i = srcu_read_lock(s); r\(r) = READ_ONCE(*\(l)); srcu_read_unlock(s, i); }"); regs.append("\(t):r\(r)"); r += 1
                case 9: lines.append("WRITE_ONCE(*\(l), 1); synchronize_srcu(s); r\(r) = READ_ONCE(*\(l2));"); regs.append("\(t):r\(r)"); r += 1
                default: lines.append("smp_mb(); WRITE_ONCE(*\(l), (r\(max(0, r - 1)) & 1) + 1);")
                }
            }
            let decls = (0..<max(r, 1)).map { "int r\($0) = 0;" }.joined(separator: " ")
            body.append("P\(t)(int *x, int *y, int *z, struct srcu_struct *s) {\n  \(decls)\n  " + lines.joined(separator: "\n  ") + "\n}")
        }
        let picked = regs.prefix(3).map { "\($0)=\(g.below(3))" }
        let cond = picked.isEmpty ? "x=1" : picked.joined(separator: " /\\ ")
        return "C generated\n{}\n" + body.joined(separator: "\n") + "\nexists (\(cond) \\/ y=2)\n"
    }

    func testAxiomaticMatchesDFSOnGeneratedPrograms() throws {
        var g = SplitMix64(seed: 0xA810)
        var compared = 0, skipped = 0
        for i in 0..<1000 where compared < 300 {
            let src = AxiomaticTests.generate(&g)
            let ctx = ExplorationContext(machine: Machine(program: try Frontend.load(text: src)))
            XCTAssertTrue(AxiomaticSearch.applies(ctx), "in scope:\n\(src)")
            var limited = ExplorationOptions(); limited.maxExecutions = 3_000
            let a = DepthFirstSearch().explore(ctx, options: limited)
            guard a.complete else { skipped += 1; continue }
            compared += 1
            let b = AxiomaticSearch().explore(ctx, options: ExplorationOptions())
            XCTAssertTrue(b.complete)
            let sa = Set(a.outcomes.map(\.0)), sb = Set(b.outcomes.map(\.0))
            if sa != sb || a.verdict(hasClaim: true) != b.verdict(hasClaim: true) || !b.violations.isEmpty {
                return XCTFail("program \(i) differs (dfs \(sa.count) states, axiomatic \(sb.count)):\n\(src)")
            }
        }
        XCTAssertEqual(compared, 300, "\(skipped) too big for plain DFS")
    }

    func testScopeAndAutomaticChoice() throws {
        func ctx(_ src: String) throws -> ExplorationContext { ExplorationContext(machine: Machine(program: try Frontend.load(text: src))) }
        let litmus = try ctx("""
        C mp
        {}
        P0(int *x, int *y) { WRITE_ONCE(*x, 1); smp_store_release(y, 1); }
        P1(int *x, int *y) { int r0 = smp_load_acquire(y); int r1 = READ_ONCE(*x); }
        exists (1:r0=1 /\\ 1:r1=0)
        """)
        XCTAssertTrue(AxiomaticSearch.applies(litmus))
        let r = AutomaticStrategy().explore(litmus, options: ExplorationOptions())
        XCTAssertEqual(r.strategy, "axiomatic")
        XCTAssertEqual(r.outcomes.map(\.0), [[0, 0], [0, 1], [1, 1]])
        XCTAssertEqual(r.verdict(hasClaim: true), .never)
        // Locks, allocation, loops that spin on a read, checks, `final` blocks: out of scope, dpor runs.
        for src in ["C l\n{}\nP0(spinlock_t *l, int *x) { spin_lock(l); WRITE_ONCE(*x, 1); spin_unlock(l); }\n",
                    "C a\n{}\nP0(int *x) { int *p = kmalloc(8); kfree(p); }\n",
                    "C s\n{}\nP0(int *x) { while (READ_ONCE(*x) == 0) ; }\nP1(int *x) { WRITE_ONCE(*x, 1); }\n",
                    "C b\n{}\nP0(int *x) { int r0 = READ_ONCE(*x); BUG_ON(r0 == 1); }\nP1(int *x) { WRITE_ONCE(*x, 1); }\n",
                    "C f\n{}\nP0(int *x) { WRITE_ONCE(*x, 1); }\nfinal { BUG_ON(x != 1); }\n"] {
            let c = try ctx(src)
            XCTAssertFalse(AxiomaticSearch.applies(c), src)
            XCTAssertEqual(AutomaticStrategy().explore(c, options: ExplorationOptions()).strategy, "dpor", src)
        }
    }

    /// The case counting interleavings cannot do: one grace period against k readers in a ring
    /// (the shape of the corpus's `auto/C-RR-G+RR-R+…` tests). For k = 3 dpor can check it.
    static func ring(readers k: Int) -> String {
        let n = k + 1
        var src = "C gp\n{}\nP0(int *x0, int *x1) { int r1 = READ_ONCE(*x0); synchronize_rcu(); int r2 = READ_ONCE(*x1); }\n"
        for i in 1...k {
            src += "P\(i)(int *x\(i), int *x\((i + 1) % n)) { rcu_read_lock(); int r1 = READ_ONCE(*x\(i)); int r2 = READ_ONCE(*x\((i + 1) % n)); rcu_read_unlock(); }\n"
        }
        src += "P\(n)(" + (0..<n).map { "int *x\($0)" }.joined(separator: ", ") + ") { " + (0..<n).map { "WRITE_ONCE(*x\($0), 1);" }.joined(separator: " ") + " }\n"
        src += "exists (" + (0..<n).map { "\($0):r1=1 /\\ \($0):r2=0" }.joined(separator: " /\\ ") + ")\n"
        return src
    }

    func testGracePeriodAgainstManyReaders() throws {
        let small = ExplorationContext(machine: Machine(program: try Frontend.load(text: AxiomaticTests.ring(readers: 3))))
        let a = AxiomaticSearch().explore(small, options: ExplorationOptions())
        let d = DynamicPartialOrderReduction().explore(small, options: ExplorationOptions())
        XCTAssertTrue(a.complete && d.complete)
        XCTAssertEqual(a.outcomes.map(\.0), d.outcomes.map(\.0))
        XCTAssertEqual(a.outcomes.count, 192)
        let big = ExplorationContext(machine: Machine(program: try Frontend.load(text: AxiomaticTests.ring(readers: 7))))
        let r = AxiomaticSearch().explore(big, options: ExplorationOptions())
        XCTAssertTrue(r.complete)
        XCTAssertEqual(r.verdict(hasClaim: true), .never)     // the ring is a cycle in P(n)'s write order
        XCTAssertEqual(r.outcomes.count, r.executions)
        XCTAssertGreaterThan(r.outcomes.count, 10_000)
    }
    /// The shape of the corpus's `auto/C-RW-G+RW-R+…` cycles: thread i reads x_i and writes
    /// x_(i+1), around a grace period (`G`) or inside a read-side section (`R`). Under SC only the
    /// all-ones state (a reads-from cycle) is impossible: 2^n − 1 states, one execution each.
    static func cycle(_ shape: String) -> String {
        let n = shape.count
        var src = "C cycle\n{}\n"
        for (i, c) in shape.enumerated() {
            let a = "x\(i)", b = "x\((i + 1) % n)"
            let body = c == "G" ? "int r1 = READ_ONCE(*\(a)); synchronize_rcu(); WRITE_ONCE(*\(b), 1);"
                                : "rcu_read_lock(); int r1 = READ_ONCE(*\(a)); WRITE_ONCE(*\(b), 1); rcu_read_unlock();"
            src += "P\(i)(int *\(a), int *\(b)) { \(body) }\n"
        }
        return src + "exists (" + (0..<n).map { "\($0):r1=1" }.joined(separator: " /\\ ") + ")\n"
    }

    /// The axiomatic search's result and how many candidates the greedy interleaving showed consistent.
    func explore(_ src: String, witnessFirst: Bool) throws -> (ExplorationResult, witnesses: Int) {
        let ctx = ExplorationContext(machine: Machine(program: try Frontend.load(text: src)))
        var search = AxiomaticSearch()
        search.witnessFirst = witnessFirst
        var witnesses = 0
        let r = search.explore(ctx, options: ExplorationOptions(), paths: AxiomaticSearch.paths(ctx), witnesses: &witnesses)
        return (r, witnesses)
    }

    /// Counts checked against main's release build before the greedy witness existed
    /// (`faultline explore F --model sc`): 4,095 for the 12-thread cycle, 192 for the 3-reader ring.
    func testGracePeriodCyclesCountExactly() throws {
        let (r, witnesses) = try explore(AxiomaticTests.cycle("GGRRRRGRRGRR"), witnessFirst: true)
        XCTAssertTrue(r.complete)
        XCTAssertEqual(r.executions, 4_095)
        XCTAssertEqual(r.outcomes.count, 4_095)
        XCTAssertEqual(r.outcomes.first?.0, [Int64](repeating: 0, count: 12))
        XCTAssertEqual(r.outcomes.first?.1, 1)
        XCTAssertEqual(r.verdict(hasClaim: true), .never)
        // The greedy interleaving is a witness for every consistent candidate: only the
        // inconsistent all-ones one reaches the exact check.
        XCTAssertEqual(witnesses, 4_095)
        for witnessFirst in [true, false] {
            let (ring, _) = try explore(AxiomaticTests.ring(readers: 3), witnessFirst: witnessFirst)
            XCTAssertTrue(ring.complete)
            XCTAssertEqual(ring.executions, 192, "witnessFirst: \(witnessFirst)")
            XCTAssertEqual(ring.outcomes.count, 192, "witnessFirst: \(witnessFirst)")
            XCTAssertEqual(ring.verdict(hasClaim: true), .never)
        }
    }

    /// Loop-free programs of 3–5 threads full of read-side sections and grace periods (RCU and
    /// SRCU), where the greedy witness has choices to get wrong; at most 8 accesses in all, so
    /// the exact search alone stays quick.
    static func generateGracePeriods(_ g: inout SplitMix64) -> String {
        let locs = ["x", "y", "z"]
        let threads = 3 + g.below(3)
        var accesses = 0
        var body: [String] = []
        for t in 0..<threads {
            var lines: [String] = []
            var r = 0
            func access() -> String {
                accesses += 1
                let l = locs[g.below(locs.count)]
                if g.below(2) == 0 { return "WRITE_ONCE(*\(l), 1);" }
                r += 1
                return "r\(r - 1) = READ_ONCE(*\(l));"
            }
            for _ in 0..<(1 + g.below(2)) where accesses < 8 {
                switch g.below(6) {
                case 0, 1: lines.append("rcu_read_lock(); " + access() + " " + access() + " rcu_read_unlock();")
                case 2: lines.append(access() + " synchronize_rcu(); " + access())
                case 3: lines.append("{ int i = srcu_read_lock(s); " + access() + " srcu_read_unlock(s, i); }")
                case 4: lines.append("synchronize_srcu(s); " + access())
                default: lines.append(access())
                }
            }
            let decls = (0..<max(r, 1)).map { "int r\($0) = 0;" }.joined(separator: " ")
            body.append("P\(t)(int *x, int *y, int *z, struct srcu_struct *s) {\n  \(decls)\n  " + lines.joined(separator: "\n  ") + "\n}")
        }
        return "C generated\n{}\n" + body.joined(separator: "\n") + "\nexists (0:r0=1 \\/ x=1)\n"
    }

    /// The greedy witness only ever skips the exact check: with it and without it, every program
    /// has the same executions, final states and counts.
    func testWitnessFirstAgreesWithTheExactSearch() throws {
        var g = SplitMix64(seed: 0x1EA7)
        var executions = 0, witnesses = 0
        for i in 0..<200 {
            let src = AxiomaticTests.generateGracePeriods(&g)
            let (a, w) = try explore(src, witnessFirst: true)
            let (b, none) = try explore(src, witnessFirst: false)
            XCTAssertEqual(none, 0)
            executions += a.executions; witnesses += w
            XCTAssertTrue(a.complete && b.complete, "program \(i):\n\(src)")
            if a.executions != b.executions || a.outcomes.map(\.0) != b.outcomes.map(\.0) || a.outcomes.map(\.1) != b.outcomes.map(\.1) {
                return XCTFail("program \(i): \(a.executions) executions witness-first, \(b.executions) exact only:\n\(src)")
            }
        }
        // Both ways were taken: most executions had a greedy witness; the others were decided by
        // the exact check (no grace period against a section of another thread, or no witness).
        XCTAssertGreaterThan(witnesses * 2, executions)
        XCTAssertLessThan(witnesses, executions)
        print("\(witnesses) of \(executions) executions had a greedy witness")
    }
}
