import XCTest
import Foundation
@testable import FaultlineLanguage

/// Parser and preprocessor tests. Diagnostics are checked against location markers: `⌖` in the
/// source marks where the error must point (the marker is removed before parsing).
final class FrontEndTests: XCTestCase {
    func load(_ text: String, defines: [Define] = [], files: [String: String] = [:]) throws -> Program {
        try Frontend.load(text: text, defines: defines, files: files)
    }

    /// Asserts that `source` (with one `⌖` marker) fails with a diagnostic at the marker.
    func assertDiagnostic(_ source: String, contains message: String, file: StaticString = #filePath, line: UInt = #line) {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        guard let li = lines.firstIndex(where: { $0.contains("⌖") }) else { return XCTFail("no marker", file: file, line: line) }
        let col = lines[li].distance(from: lines[li].startIndex, to: lines[li].firstIndex(of: "⌖")!) + 1
        let clean = source.replacingOccurrences(of: "⌖", with: "")
        do {
            _ = try load(clean)
            XCTFail("expected a diagnostic", file: file, line: line)
        } catch let d as Diagnostic {
            XCTAssertEqual(d.location.line, li + 1, "line of: \(d.rendered)", file: file, line: line)
            XCTAssertEqual(d.location.column, col, "column of: \(d.rendered)", file: file, line: line)
            XCTAssertTrue(d.message.contains(message), "message: \(d.message)", file: file, line: line)
            XCTAssertTrue(d.rendered.contains("^"), file: file, line: line)
        } catch { XCTFail("\(error)", file: file, line: line) }
    }

    func testSecondTitleLineIsSkipped() throws {
        // paulmckrcu-litmus/manual/kernel/C-JanStancek-rwsem: herd7 accepts two `C` lines.
        let p = try load("""
        C JanStancek-rwsem
        C rwsem

        { int x = 1; }
        P0(int *x) { int r0 = READ_ONCE(*x); }
        exists (0:r0=1)
        """)
        XCTAssertEqual(p.name, "JanStancek-rwsem")
        XCTAssertEqual(p.globals.map(\.name), ["x"])
    }

    func testHerdHeaderCommentsAndCondition() throws {
        let p = try load("""
        C MP+test
        "doc string"
        Cycle=Rfe PodRR
        (* Result: Never *)
        { x = 0; y = 1; (* a comment in the init block *) }
        P0(int *x, int *y) { WRITE_ONCE(*x, 1); r0 = (*y); }
        P1(int *x) { int r1 = READ_ONCE(*x); }
        exists (0:r0=1 /\\ 1:r1=0 \\/ ~x=2) (* trailing *)
        """)
        XCTAssertEqual(p.name, "MP+test")
        XCTAssertEqual(p.globals.map(\.name), ["x", "y"])
        XCTAssertEqual(p.globalCells[1], [1])
        XCTAssertEqual(p.observed.count, 3)
        XCTAssertEqual(p.claim?.text, "(0:r0=1 /\\ 1:r1=0 \\/ ~x=2)")
    }

    func testPreprocessorVariants() throws {
        let src = """
        C variants
        #define TWO 2
        #define ADD(a, b) ((a) + (b))
        {}
        P0(int *x) {
        #ifdef FIX
            WRITE_ONCE(*x, ADD(TWO, 1));
        #elif defined(OTHER) && !defined(FIX)
            WRITE_ONCE(*x, 7);
        #else
            WRITE_ONCE(*x, TWO);
        #endif
        }
        exists (x=3)
        """
        let plain = try load(src)
        let fixed = try load(src, defines: [Define(name: "FIX")])
        XCTAssertNotEqual(plain.programHash, fixed.programHash)
        // The constant reaches the IR: ((2) + (1)) is folded at run time, so look for both pushes.
        let pushes = fixed.functions[0].code.compactMap { i -> Int64? in if case .push(let v) = i { return v }; return nil }
        XCTAssertTrue(pushes.contains(2) && pushes.contains(1), "\(pushes)")
        let other = try load(src, defines: [Define(name: "OTHER")])
        let otherPushes = other.functions[0].code.compactMap { i -> Int64? in if case .push(let v) = i { return v }; return nil }
        XCTAssertTrue(otherPushes.contains(7))
    }

    func testIncludeFromIncludeDirectory() throws {
        let p = try load("""
        C inc
        #include "helpers.h"
        {}
        P0(int *x) { bump(x); }
        """, files: ["helpers.h": "static void bump(int *p) { WRITE_ONCE(*p, READ_ONCE(*p) + 1); }\n"])
        XCTAssertEqual(p.functions.map(\.name), ["bump", "P0"])
    }

    func testDefineParsing() {
        XCTAssertEqual(Define(parsing: "-DFIX"), Define(name: "FIX"))
        XCTAssertEqual(Define(parsing: "N=3"), Define(name: "N", value: "3"))
        XCTAssertNil(Define(parsing: "-D"))
        XCTAssertNil(Define(parsing: "3X"))
    }

    func testDiagnosticsPointAtTheProblem() {
        assertDiagnostic("""
        C bad
        {}
        P0(int *x) { WRITE_ONCE(*x, 1) ⌖}
        """, contains: "expected ';'")
        assertDiagnostic("""
        C bad
        {}
        P0(int *x) { ⌖rcu_barrier(); }
        """, contains: "unsupported: rcu_barrier")
        assertDiagnostic("""
        C bad
        #include ⌖"missing.h"
        {}
        P0(int *x) { }
        """, contains: "cannot find include file")
        assertDiagnostic("""
        C bad
        {}
        P0(int *x) { ⌖undefined_call(x); }
        """, contains: "undeclared function 'undefined_call'")
        assertDiagnostic("""
        C bad
        #ifdef X
        #⌖error this configuration is not modelled
        #endif
        {}
        P0(int *x) { }
        """.replacingOccurrences(of: "#ifdef X", with: "#ifndef X"), contains: "#error")
        assertDiagnostic("""
        C bad
        {}
        P1(int *x) { }
        """.replacingOccurrences(of: "P1(", with: "⌖P1("), contains: "out of order")
    }

    func testStructsTypedefsAndFieldOffsets() throws {
        let p = try load("""
        C structs
        typedef unsigned long pte_t;
        struct page { unsigned long flags; int refcount; pte_t *table; };
        struct mm { int a; struct page pages[2]; };
        { mm.pages[1].refcount = 5; mm.a = 1; }
        P0(struct mm *mm) { int r0 = READ_ONCE(mm->pages[1].refcount); }
        exists (0:r0=5)
        """)
        XCTAssertEqual(p.globals[0].size, 7)
        XCTAssertEqual(p.globalCells[0], [1, 0, 0, 0, 0, 5, 0])
    }

    // MARK: strict names (issue 10)

    func testUndeclaredNameIsAnErrorWithASuggestion() throws {
        assertDiagnostic("""
        C typo
        { x = 0; }
        P0(int *x) { WRITE_ONCE(*⌖y, 1); }
        """, contains: "use of undeclared identifier 'y'; did you mean 'x'?")
        assertDiagnostic("""
        C read-before-assign
        {}
        P0(int *x) { WRITE_ONCE(*x, ⌖r1); r1 = 1; }
        """, contains: "use of undeclared identifier 'r1'")
        assertDiagnostic("""
        C helper
        {}
        static int f(int counter) { return ⌖countr + 1; }
        P0(int *x) { WRITE_ONCE(*x, f(1)); }
        """, contains: "did you mean 'counter'?")
        // herd7: a register assigned before it is read needs no declaration.
        let p = try load("""
        C herd-register
        {}
        P0(int *x) { r0 = READ_ONCE(*x); r1 = r0 + 1; WRITE_ONCE(*x, r1); }
        exists (0:r1=1)
        """)
        XCTAssertNotNil(p.threadRegisters[0]["r1"])
    }

    func testClosestName() {
        XCTAssertEqual(Diagnostic.closest(to: "y", among: ["x", "zz"]), "x")
        XCTAssertEqual(Diagnostic.closest(to: "spinlock", among: ["spin_lock", "lock"]), "spin_lock")
        XCTAssertNil(Diagnostic.closest(to: "page_table", among: ["x", "y"]))
    }

    func testInitBlockLocationTypedByAPointerStore() throws {
        let p = try load("""
        C typed-by-use
        {
        struct page { int data; int flags; };
        struct mm { struct page *file_page; };
        struct mm mm;
        mm.file_page = &fp; fp.data = 7;
        }
        P0(struct mm *mm) { struct page *p = READ_ONCE(mm->file_page); int r0 = READ_ONCE(p->data); }
        exists (0:r0=7)
        """)
        let fp = try XCTUnwrap(p.globals.first { $0.name == "fp" })
        XCTAssertEqual(fp.size, 2)
        XCTAssertEqual(p.globalCells[p.globals.firstIndex { $0.name == "fp" }!], [7, 0])
        assertDiagnostic("""
        C untyped
        {
        struct page { int data; int flags; };
        fp.⌖data = 7;
        }
        P0(int *x) { int r0 = READ_ONCE(*x); }
        """, contains: "the type of 'fp' is unknown where '.data' is used")
        assertDiagnostic("""
        C untyped-in-thread
        { fp = 1; }
        struct page { int data; };
        P0(int *x) { int r0 = READ_ONCE(fp.⌖data); }
        """, contains: "the type of 'fp' is unknown")
    }

    func testInitBlockRegisterSurvivesItsDeclaration() throws {
        // manual/oota/C-JO-OOTA-7: `0:r2=a;` then `int r2;` in P0.
        let p = try load("""
        C JO
        { 0:r2=x; }
        P0(int *x) { int r2; int r1; r1 = READ_ONCE(*r2); WRITE_ONCE(*x, 1); }
        exists (0:r1=0)
        """)
        guard case .slot(let s)? = p.threadRegisters[0]["r2"] else { return XCTFail("r2 has no slot") }
        XCTAssertEqual(p.registerInits[0].count, 1)
        guard case .slot(let initSlot) = p.registerInits[0][0].0 else { return XCTFail() }
        XCTAssertEqual(initSlot, s)
        // The declaration does not store 0 into it.
        XCTAssertFalse(p.functions[0].code.contains { if case .store(let k) = $0 { return k == s }; return false })
    }

    func testIncludeSearchOrderAndChain() throws {
        let dir = NSTemporaryDirectory() + "faultline-inc-\(getpid())"
        let fm = FileManager.default
        try? fm.removeItem(atPath: dir)
        try fm.createDirectory(atPath: dir + "/race/include", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: dir + "/over", withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: dir) }
        try "#include \"h2.h\"\n".write(toFile: dir + "/race/include/h1.h", atomically: true, encoding: .utf8)
        try "static int f(void) { return 1; }\n".write(toFile: dir + "/race/include/h2.h", atomically: true, encoding: .utf8)
        try "static int f(void) { return 2; }\n".write(toFile: dir + "/over/h2.h", atomically: true, encoding: .utf8)
        try "static int g(void) { return zz; }\n".write(toFile: dir + "/over/bad.h", atomically: true, encoding: .utf8)
        let race = dir + "/race/r.litmus"
        try "C r\n{ x = 0; }\n#include \"h1.h\"\nP0(int *x) { WRITE_ONCE(*x, f()); }\nexists (x=1)\n".write(toFile: race, atomically: true, encoding: .utf8)
        func pushes(_ p: Program) -> [Int64] { p.functions[0].code.compactMap { if case .push(let v) = $0 { return v }; return nil } }
        // h1.h's include of h2.h: -I first, the header's own directory last.
        XCTAssertTrue(pushes(try Frontend.load(path: race, defines: [])).contains(1))
        XCTAssertTrue(pushes(try Frontend.load(path: race, defines: [], includeDirs: [dir + "/over"])).contains(2))
        // An error in a header names every include on the way to it.
        try "C r\n{}\n#include \"h1.h\"\n#include \"bad.h\"\nP0(int *x) { }\n".write(toFile: race, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Frontend.load(path: race, defines: [], includeDirs: [dir + "/over"])) { e in
            let r = (e as? Diagnostic)?.rendered ?? ""
            XCTAssertTrue(r.contains("over/bad.h:1:29: error: use of undeclared identifier 'zz'"), r)
            XCTAssertTrue(r.contains("note: included from \(race):4:10"), r)
        }
        try "C r\n{}\n#include \"h1.h\"\nP0(int *x) { }\n".write(toFile: race, atomically: true, encoding: .utf8)
        try "#include \"bad.h\"\n".write(toFile: dir + "/over/h2.h", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Frontend.load(path: race, defines: [], includeDirs: [dir + "/over"])) { e in
            let r = (e as? Diagnostic)?.rendered ?? ""
            XCTAssertTrue(r.contains("note: included from \(dir)/over/h2.h:1:10\nnote: included from \(dir)/race/include/h1.h:1:10\nnote: included from \(race):3:10"), r)
        }
    }
}

