import XCTest
import FaultlineLanguage
import FaultlineMachine
import FaultlineCheck
@testable import FaultlineExplore

/// Data races as KCSAN means them: what races, what happens-before hides, the annotations, the
/// report (both accesses, a trace that ends at the second), and dpor against dfs.
final class DataRaceTests: XCTestCase {
    func explore(_ text: String, strategy: Strategy = DynamicPartialOrderReduction()) throws -> (ExplorationResult, ExplorationContext) {
        let p = try Frontend.load(text: text)
        let ctx = ExplorationContext(machine: Machine(program: p))
        return (strategy.explore(ctx, options: ExplorationOptions()), ctx)
    }

    /// The racing pairs as "line-line" (lower line first).
    func pairs(_ r: ExplorationResult, _ ctx: ExplorationContext) -> [String] {
        r.violations.filter { $0.violation.kind == .dataRace }.map { f -> String in
            let a = ctx.machine.program.locations[Int(f.violation.location)].line
            let b = ctx.machine.program.locations[Int(f.violation.otherLocation)].line
            return "\(min(a, b))-\(max(a, b))"
        }.sorted()
    }

    /// The same as distinct line pairs.
    func linePairs(_ r: ExplorationResult, _ ctx: ExplorationContext) -> Set<String> { Set(pairs(r, ctx)) }

    func testPlainIncrementsRace() throws {
        let (r, ctx) = try explore("""
        C inc
        { x = 0; }
        P0(int *x) { *x = *x + 1; }
        P1(int *x) { *x = *x + 1; }
        exists (x=1)
        """)
        XCTAssertEqual(pairs(r, ctx), ["3-4"])
        // The final states are still all there: a race does not end the execution.
        XCTAssertEqual(r.outcomes.map(\.0), [[1], [2]])
        let v = try XCTUnwrap(r.violations.first { $0.violation.kind == .dataRace })
        // Both accesses are named: this one, and the other's site and CPU (both plain).
        let f = v.violation.facts
        XCTAssertEqual(f.cause, .dataRace)
        XCTAssertEqual(f.text & 2, 2)
        XCTAssertEqual(f.text & 16, 16)
        XCTAssertEqual(Int(f.siteThread), 1 - v.violation.thread)
        XCTAssertEqual(f.site, v.violation.otherLocation)
        XCTAssertEqual(ctx.machine.program.locations[Int(f.site)].file?.path, "test.litmus")
        // The schedule ends at the second access; replaying it reproduces the race.
        let out = try Replay.run(ctx, schedule: v.schedule)
        XCTAssertEqual(out.state.dataRaces.last?.violation.location, v.violation.location)
        XCTAssertEqual(out.events.last?.location, v.violation.location)
    }

    func testMarkedAccessesDoNotRace() throws {
        let (r, ctx) = try explore("""
        C once
        { x = 0; }
        P0(int *x) { WRITE_ONCE(*x, READ_ONCE(*x) + 1); }
        P1(int *x) { WRITE_ONCE(*x, 2); }
        """)
        XCTAssertEqual(pairs(r, ctx), [])
        XCTAssertFalse(ctx.machine.checksDataRaces)
        // One plain access is enough.
        let (r2, ctx2) = try explore("""
        C one-plain
        { x = 0; }
        P0(int *x) { int r0 = *x; }
        P1(int *x) { WRITE_ONCE(*x, 2); }
        """)
        XCTAssertEqual(pairs(r2, ctx2), ["3-4"])
        // Two plain reads never race.
        let (r3, ctx3) = try explore("""
        C reads
        { x = 0; }
        P0(int *x) { int r0 = *x; }
        P1(int *x) { int r1 = *x; }
        """)
        XCTAssertEqual(pairs(r3, ctx3), [])
    }

    func testHappensBeforeHidesNothingItShouldNot() throws {
        // A lock orders the critical sections.
        let (locked, c1) = try explore("""
        C locked
        { x = 0; }
        P0(int *x, spinlock_t *l) { spin_lock(l); *x = *x + 1; spin_unlock(l); }
        P1(int *x, spinlock_t *l) { spin_lock(l); *x = *x + 1; spin_unlock(l); }
        """)
        XCTAssertEqual(pairs(locked, c1), [])
        // Release → acquire publishes plain data; a relaxed flag does not.
        let mp = """
        C mp
        { x = 0; f = 0; }
        P0(int *x, int *f) { *x = 1; smp_store_release(f, 1); }
        P1(int *x, int *f) { int r0 = smp_load_acquire(f); if (r0) { int r1 = *x; } }
        """
        let (rel, c2) = try explore(mp)
        XCTAssertEqual(pairs(rel, c2), [])
        let relaxed = mp.replacingOccurrences(of: "smp_store_release(f, 1)", with: "WRITE_ONCE(*f, 1)")
            .replacingOccurrences(of: "smp_load_acquire(f)", with: "READ_ONCE(*f)")
        let (rlx, c3) = try explore(relaxed)
        XCTAssertEqual(pairs(rlx, c3), ["3-4"])
        // smp_wmb before the flag publishes the data to a READ_ONCE that reads the flag (the
        // kernel's page-table publication: smp_wmb(); pmd_populate() → READ_ONCE(*pmd) → table).
        let (wmb, c7) = try explore(relaxed.replacingOccurrences(of: "*x = 1; WRITE_ONCE", with: "*x = 1; smp_wmb(); WRITE_ONCE"))
        XCTAssertEqual(pairs(wmb, c7), [])
        // rcu_assign_pointer → rcu_dereference.
        let (rcu, c4) = try explore("""
        C rcu-publish
        { struct item { int a; }; struct item it; struct item *gp = NULL; }
        P0(struct item *it, struct item **gp) { it->a = 1; rcu_assign_pointer(*gp, it); }
        P1(struct item **gp) { rcu_read_lock(); struct item *q = rcu_dereference(*gp); if (q) { int r0 = q->a; } rcu_read_unlock(); }
        """)
        XCTAssertEqual(pairs(rcu, c4), [])
        // A grace period orders pre-existing readers before the updater's later accesses.
        // (A reader that starts after the grace period may race with the updater's later
        // accesses: it must not find the location any more, hence the published flag.)
        let gp = """
        C gp
        { x = 0; p = 1; }
        P0(int *x, int *p) { rcu_read_lock(); if (READ_ONCE(*p)) { int r0 = *x; } rcu_read_unlock(); }
        P1(int *x, int *p) { WRITE_ONCE(*p, 0); synchronize_rcu(); *x = 1; }
        """
        let (g, c5) = try explore(gp)
        XCTAssertEqual(pairs(g, c5), [])
        let (ng, c6) = try explore(gp.replacingOccurrences(of: "synchronize_rcu(); ", with: ""))
        XCTAssertEqual(pairs(ng, c6), ["3-4"])
    }

    func testAnnotations() throws {
        // data_race(): an intentional race, on any expression.
        let (dr, c1) = try explore("""
        C data-race
        { x = 0; }
        P0(int *x) { int r0 = data_race(*x + 1); }
        P1(int *x) { *x = 1; }
        """)
        XCTAssertEqual(pairs(dr, c1), [])
        // ASSERT_EXCLUSIVE_WRITER: no concurrent writer, even a marked one.
        let (w, c2) = try explore("""
        C exclusive-writer
        { x = 0; }
        P0(int *x) { ASSERT_EXCLUSIVE_WRITER(*x); WRITE_ONCE(*x, 1); }
        P1(int *x) { WRITE_ONCE(*x, 2); }
        """)
        XCTAssertEqual(pairs(w, c2), ["3-4"])
        XCTAssertNotEqual((w.violations[0].violation.facts.text | w.violations[0].violation.facts.text >> 3) & 4, 0)
        let (wr, c3) = try explore("""
        C exclusive-writer-readers
        { x = 0; }
        P0(int *x) { ASSERT_EXCLUSIVE_WRITER(*x); WRITE_ONCE(*x, 1); }
        P1(int *x) { int r0 = READ_ONCE(*x); }
        """)
        XCTAssertEqual(pairs(wr, c3), [])
        // ASSERT_EXCLUSIVE_ACCESS: no concurrent access at all.
        let (a, c4) = try explore("""
        C exclusive-access
        { x = 0; }
        P0(int *x) { ASSERT_EXCLUSIVE_ACCESS(*x); }
        P1(int *x) { int r0 = READ_ONCE(*x); }
        """)
        XCTAssertEqual(pairs(a, c4), ["3-4"])
    }

    /// Programs with plain accesses, locks, release/acquire and grace periods: dpor reports the
    /// same racing pairs as dfs (and the same final states).
    static func generate(_ g: inout SplitMix64) -> String {
        let locs = ["x", "y"]
        var body: [String] = []
        for t in 0..<2 + g.below(2) {
            var lines: [String] = []
            for k in 0..<(1 + g.below(3)) {
                let l = locs[g.below(locs.count)]
                switch g.below(10) {
                case 0, 1: lines.append("*\(l) = \(t + 1);")
                case 2, 3: lines.append("r\(k) = *\(l);")
                case 4: lines.append("spin_lock(lk); *\(l) = *\(l) + 1; spin_unlock(lk);")
                case 5: lines.append("smp_store_release(\(l), 1);")
                case 6: lines.append("r\(k) = smp_load_acquire(\(l));")
                case 7: lines.append(g.below(2) == 0 ? "WRITE_ONCE(*\(l), 2);" : "smp_wmb(); WRITE_ONCE(*\(l), 2);")
                case 8: lines.append("rcu_read_lock(); r\(k) = *\(l); rcu_read_unlock();")
                default: lines.append("synchronize_rcu(); *\(l) = 3;")
                }
            }
            body.append("P\(t)(int *x, int *y, spinlock_t *lk) {\n  " + lines.joined(separator: "\n  ") + "\n}")
        }
        return "C generated\n{}\n" + body.joined(separator: "\n") + "\nexists (x=1)\n"
    }

    func testDPORReportsTheRacingPairsOfDFS() throws {
        var g = SplitMix64(seed: 0xDA7A)
        var compared = 0, racy = 0
        for i in 0..<400 where compared < 150 {
            let src = DataRaceTests.generate(&g)
            let p = try Frontend.load(text: src)
            let ctx = ExplorationContext(machine: Machine(program: p))
            var limited = ExplorationOptions()
            limited.maxExecutions = 1_000
            let a = DepthFirstSearch().explore(ctx, options: limited)
            guard a.complete else { continue }
            compared += 1
            let b = DynamicPartialOrderReduction().explore(ctx, options: ExplorationOptions())
            let pa = linePairs(a, ctx), pb = linePairs(b, ctx)
            if !pa.isEmpty { racy += 1 }
            if pa != pb || Set(a.outcomes.map(\.0)) != Set(b.outcomes.map(\.0)) {
                return XCTFail("program \(i): dfs pairs \(pa), dpor pairs \(pb):\n\(src)")
            }
            guard compared % 5 == 0 else { continue }
            var two = ExplorationOptions(); two.jobs = 2
            XCTAssertEqual(linePairs(DynamicPartialOrderReduction().explore(ctx, options: two), ctx), pb, "program \(i), --jobs 2:\n\(src)")
        }
        XCTAssertEqual(compared, 150)
        XCTAssertGreaterThan(racy, 25)
        XCTAssertLessThan(racy, 145)
    }
}
