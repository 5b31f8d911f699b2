import XCTest
import Foundation
@testable import FaultlineLanguage

/// Extending the kernel model without copying it (docs/language.md, "Extending the model"):
/// `__weak` / `__override` function definitions, `__extend struct`, and include guards that
/// refuse a second file with the same guard.
final class ModelExtensionTests: XCTestCase {
    /// A header with an overridable helper and a caller inside the header.
    let header = """
    #ifndef _MODEL_H
    #define _MODEL_H
    struct page { unsigned long flags; int count; };
    __weak static int lookup(int *x) { return 1; }
    static void fault(int *x) { WRITE_ONCE(*x, lookup(x)); }
    #endif
    """

    func pushes(_ p: Program, _ name: String) -> [Int64] {
        guard let f = p.functions.first(where: { $0.name == name }) else { return [] }
        return f.code.compactMap { i -> Int64? in if case .push(let v) = i { return v }; return nil }
    }

    func failure(_ text: String, files: [String: String]) -> Diagnostic? {
        do { _ = try Frontend.load(text: text, files: files); return nil } catch let d as Diagnostic { return d } catch { return nil }
    }

    func testPlainDefinitionReplacesWeakOneAndTheHeaderCallsIt() throws {
        let p = try Frontend.load(text: """
        C ext
        #include "model.h"
        static int lookup(int *x) { return 7; }
        {}
        P0(int *x) { fault(x); }
        """, files: ["model.h": header])
        XCTAssertEqual(p.functions.filter { $0.name == "lookup" }.count, 1)
        XCTAssertTrue(pushes(p, "lookup").contains(7))
        XCTAssertFalse(pushes(p, "lookup").contains(1))
        // The weak definition after a plain one loses too (C linker semantics).
        let q = try Frontend.load(text: """
        C ext
        static int lookup(int *x) { return 7; }
        #include "model.h"
        {}
        P0(int *x) { fault(x); }
        """, files: ["model.h": header])
        XCTAssertTrue(pushes(q, "lookup").contains(7))
        XCTAssertFalse(pushes(q, "lookup").contains(1))
    }

    func testOverrideReplacesAnEarlierPlainDefinition() throws {
        let p = try Frontend.load(text: """
        C ext
        #include "model.h"
        static void fault(int *x) { WRITE_ONCE(*x, 5); }
        {}
        P0(int *x) { fault(x); }
        """.replacingOccurrences(of: "static void fault", with: "__override static void fault"), files: ["model.h": header])
        XCTAssertTrue(pushes(p, "fault").contains(5))
    }

    func testAccidentalCollisionNamesBothLocations() throws {
        let d = failure("""
        C ext
        #include "model.h"
        static void fault(int *x) { }
        {}
        P0(int *x) { fault(x); }
        """, files: ["model.h": header])
        let diag = try XCTUnwrap(d)
        XCTAssertEqual(diag.message, "redefinition of 'fault'")
        XCTAssertEqual(diag.location.line, 3)
        XCTAssertEqual(diag.location.column, 1)
        XCTAssertEqual(diag.related.count, 1)
        XCTAssertEqual(diag.related[0].location.file?.path, "model.h")
        XCTAssertEqual(diag.related[0].location.line, 5)
        let r = diag.rendered
        XCTAssertTrue(r.contains("test.litmus:3:1: error: redefinition of 'fault'"), r)
        XCTAssertTrue(r.contains("model.h:5:1: note: the other definition is here"), r)
        XCTAssertEqual(r.components(separatedBy: "^").count, 3, r)   // two carets
        XCTAssertTrue(r.contains("__override"), r)
    }

    func testOverrideNeedsSomethingToOverrideAndOnlyOnce() throws {
        let none = try XCTUnwrap(failure("""
        C ext
        __override static int nothing(int *x) { return 0; }
        {}
        P0(int *x) { nothing(x); }
        """, files: [:]))
        XCTAssertTrue(none.message.contains("no earlier definition to override"), none.message)
        XCTAssertEqual(none.location.line, 2)
        let twice = try XCTUnwrap(failure("""
        C ext
        #include "model.h"
        __override static int lookup(int *x) { return 2; }
        __override static int lookup(int *x) { return 3; }
        {}
        P0(int *x) { fault(x); }
        """, files: ["model.h": header]))
        XCTAssertEqual(twice.location.line, 4)
        XCTAssertEqual(twice.related.first?.location.line, 3)
        let arity = try XCTUnwrap(failure("""
        C ext
        #include "model.h"
        static int lookup(int *x, int y) { return 2; }
        {}
        P0(int *x) { fault(x); }
        """, files: ["model.h": header]))
        XCTAssertTrue(arity.message.contains("conflicting definitions of 'lookup'"), arity.message)
    }

    func testExtendStructAddsFieldsAndMovesEmbeddingStructs() throws {
        let p = try Frontend.load(text: """
        C ext
        #include "model.h"
        struct mm { struct page p; int after; };
        __extend struct page { int extra; };
        { mm.after = 4; mm.p.extra = 3; }
        P0(struct mm *mm) { int r0 = READ_ONCE(mm->p.extra); int r1 = READ_ONCE(mm->after); }
        exists (0:r0=3 /\\ 0:r1=4)
        """, files: ["model.h": header])
        let mm = try XCTUnwrap(p.globals.first { $0.name == "mm" })
        XCTAssertEqual(mm.size, 4)                          // flags, count, extra, after
        let cells = try XCTUnwrap(p.globals.firstIndex { $0.name == "mm" }).map { p.globalCells[$0] }
        XCTAssertEqual(cells, [0, 0, 3, 4])
    }

    func testExtendCollisionsAndMisuse() throws {
        let dup = try XCTUnwrap(failure("""
        C ext
        #include "model.h"
        __extend struct page { int count; };
        {}
        P0(int *x) { }
        """, files: ["model.h": header]))
        XCTAssertEqual(dup.message, "duplicate field 'count'")
        XCTAssertEqual(dup.location.line, 3)
        XCTAssertEqual(dup.related.first?.location.file?.path, "model.h")
        XCTAssertEqual(dup.related.first?.location.line, 3)
        let redef = try XCTUnwrap(failure("""
        C ext
        #include "model.h"
        struct page { int other; };
        {}
        P0(int *x) { }
        """, files: ["model.h": header]))
        XCTAssertEqual(redef.message, "redefinition of 'struct page'")
        XCTAssertEqual(redef.related.first?.location.line, 3)
        XCTAssertTrue(redef.rendered.contains("__extend struct page"), redef.rendered)
        let missing = try XCTUnwrap(failure("""
        C ext
        __extend struct nowhere { int a; };
        {}
        P0(int *x) { }
        """, files: [:]))
        XCTAssertTrue(missing.message.contains("no earlier definition to extend"), missing.message)
        let stale = try XCTUnwrap(failure("""
        C ext
        #include "model.h"
        int table[sizeof(struct page)];
        __extend struct page { int extra; };
        {}
        P0(int *x) { }
        """, files: ["model.h": header]))
        XCTAssertTrue(stale.message.contains("after its size was used"), stale.message)
        XCTAssertEqual(stale.related.first?.location.line, 3)
    }

    func testTwoFilesWithOneIncludeGuardAreAnError() throws {
        let copy = header.replacingOccurrences(of: "return 1;", with: "return 2;")
        let d = try XCTUnwrap(failure("""
        C ext
        #include "model.h"
        #include "mine/model.h"
        {}
        P0(int *x) { fault(x); }
        """, files: ["model.h": header, "mine/model.h": copy]))
        XCTAssertTrue(d.message.contains("include guard '_MODEL_H' of 'mine/model.h'"), d.message)
        XCTAssertEqual(d.location.file?.path, "mine/model.h")
        XCTAssertEqual(d.location.line, 1)
        XCTAssertEqual(d.related.first?.location.file?.path, "model.h")
        // The same file twice (by another spelling of its path) is what the guard is for.
        let p = try Frontend.load(text: """
        C ext
        #include "model.h"
        #include "./model.h"
        {}
        P0(int *x) { fault(x); }
        """, files: ["model.h": header])
        XCTAssertEqual(p.functions.filter { $0.name == "fault" }.count, 1)
        // `#ifndef X` + `#define X` that is not at the top of a file is an ordinary default.
        _ = try Frontend.load(text: """
        C ext
        #include "a.h"
        #include "b.h"
        {}
        P0(int *x) { }
        """, files: ["a.h": "int a;\n#ifndef N\n#define N 1\n#endif\n", "b.h": "int b;\n#ifndef N\n#define N 2\n#endif\n"])
    }
}
