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
        P0(int *x) { ⌖srcu_down_read(x); }
        """, contains: "unsupported: srcu_down_read")
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
}

