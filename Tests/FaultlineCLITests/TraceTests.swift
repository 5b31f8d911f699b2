import XCTest
import Foundation
@testable import FaultlineCLI
import FaultlineLanguage
import FaultlineMachine
import FaultlineExplore
import FaultlineReport

/// Text traces as a reviewer reads them: cells by object and field, values by type (a formatter
/// the race declares), one-line helpers at their caller, folding, width, no tabs.
final class TraceTests: CLITestCase {
    func testFoldedTraceGolden() {
        let (rc, out, _) = run(["explore", "\(golden)/trace.litmus"])
        XCTAssertEqual(rc, 1)
        assertGolden(out, "trace.explore.txt")
    }

    func testFullTraceWithStacksGolden() {
        let (rc, out, _) = run(["explore", "\(golden)/trace.litmus", "--full", "--stacks", "--width", "80"])
        XCTAssertEqual(rc, 1)
        assertGolden(out, "trace.full.txt")
    }

    func testTraceNamesFieldsFormatsEntriesAndFitsTheWidth() {
        for width in [60, 80, 100] {
            let (_, out, _) = run(["explore", "\(golden)/trace.litmus", "--full", "--width", String(width)])
            XCTAssertFalse(out.contains("\t"), "a tab in the report")
            let trace = out.split(separator: "\n").drop { !$0.contains("Trace (") }.dropFirst()
            for l in trace where !l.hasPrefix("  Replay:") {
                XCTAssertLessThanOrEqual(l.count, width, "wider than \(width): \(l)")
            }
        }
        let (_, out, _) = run(["explore", "\(golden)/trace.litmus", "--full", "--width", "120"])
        // The first field of a struct by its name; a heap page by type and field; the entry via
        // the race's own __format_ent_t; flags in hex; the one-line helper at its caller's line.
        XCTAssertTrue(out.contains("vma.vm_start == 3"), out)
        XCTAssertTrue(out.contains("page#4.mapcount: 0 → 1  (atomic add 1)"), out)
        XCTAssertTrue(out.contains("table[1] := pfn=page#4|0x5"), out)
        XCTAssertTrue(out.contains("table[1] := none"), out)
        XCTAssertTrue(out.contains("vma.vm_flags == 0x73"), out)
        XCTAssertTrue(out.contains("trace.litmus:37 P0() → vma_start()"), out)
        XCTAssertFalse(out.contains("fetchAdd"))
    }

    func testFoldingKeepsTheStepsThatOrderTheCPUs() throws {
        let program = try Frontend.load(path: "\(golden)/trace.litmus", defines: [])
        let ctx = ExplorationContext(machine: Machine(program: program))
        let rec = try TraceRenderer.record(ctx, schedule: [0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1])
        let rows = TraceRenderer.rows(rec.steps, full: false)
        // The three writes to `private` (P1 never touches it) fold; the rest stays.
        guard case .folded(let t, let first, let last, let f) = rows[0] else { return XCTFail("\(rows[0])") }
        XCTAssertEqual([t, first, last], [0, 1, 3])
        XCTAssertEqual(f, "P0")
        XCTAssertEqual(rows.count, 9)
        XCTAssertEqual(TraceRenderer.foldedCount(rows), 3)
        XCTAssertEqual(TraceRenderer.rows(rec.steps, full: true).count, 11)
    }

    /// The RCU callback thread of a program that calls call_rcu is named as such.
    func testTheRCUCallbackThreadIsNamed() throws {
        let path = NSTemporaryDirectory() + "faultline-rcu-\(getpid()).litmus"
        try """
        C rcu-named
        struct rcu_head { long next; };
        struct obj { struct rcu_head rcu; int val; };
        static void obj_free(struct rcu_head *head) { kfree(head); }
        { struct obj *gp; }
        P0(struct obj **gp)
        {
            struct obj *o = kzalloc(sizeof(struct obj), GFP_KERNEL);
            rcu_assign_pointer(*gp, o);
            o = xchg(gp, 0);
            call_rcu(&o->rcu, obj_free);
        }
        P1(struct obj **gp)
        {
            struct obj *p = READ_ONCE(*gp);
            int r0 = 0;
            if (p)
                r0 = READ_ONCE(p->val);     /* no read-side section */
        }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (rc, out, _) = run(["explore", path, "--width", "100"])
        XCTAssertEqual(rc, 1)
        XCTAssertTrue(out.contains("after it was freed (by P2, the RCU callback thread, at "), out)
        XCTAssertTrue(out.contains("| P2 rcu"), out)
        XCTAssertTrue(out.contains("grace period done, callbac"), out)
        // The HTML viewer heads that lane the same way (`P2 rcu`): the page's data names the
        // callback thread, a page without one names none.
        let page = path + ".html"
        defer { try? FileManager.default.removeItem(atPath: page) }
        XCTAssertEqual(run(["explore", path, "--html", page]).0, 1)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        XCTAssertTrue(html.contains("\"rcuThread\":2"), String(html.prefix(2000)))
        XCTAssertTrue(html.contains("(t===V.rcuThread?' rcu':'')"))
        let plain = dir + "/uaf.html"
        XCTAssertEqual(run(["explore", "\(golden)/uaf.litmus", "--html", plain]).0, 1)
        XCTAssertFalse(try String(contentsOfFile: plain, encoding: .utf8).contains("\"rcuThread\""))
    }

    func testNoTraceBuildsNoTrace() {
        let (_, out, _) = run(["explore", "\(golden)/trace.litmus", "--no-trace"])
        XCTAssertFalse(out.contains("Trace ("))
        XCTAssertTrue(out.contains("read of page#4.mapcount after it was freed (by P0 at trace.litmus:39)"), out)
    }
}
