/// A C type as the race language knows it. Every scalar and pointer occupies one memory cell;
/// a struct is its fields laid out in order; an array is `count` elements.
package indirect enum CType: Equatable, Sendable, CustomStringConvertible {
    case void
    case int(String)                  // spelled name, e.g. "int", "unsigned long", "atomic_t"
    case pointer(CType)
    case array(CType, Int)
    case structure(Int)               // index into Program.structs
    case named(String, CType)         // typedef name and what it stands for
    case function

    /// The type behind any typedef names.
    package var resolved: CType {
        if case .named(_, let t) = self { return t.resolved }
        return self
    }

    package var isPointer: Bool { if case .pointer = resolved { return true }; return false }
    package var isArray: Bool { if case .array = resolved { return true }; return false }
    package var isStruct: Bool { if case .structure = resolved { return true }; return false }
    package var isScalar: Bool {
        switch resolved { case .int, .pointer: return true; default: return false }
    }

    /// The pointee of a pointer or the element of an array.
    package var pointee: CType? {
        switch resolved {
        case .pointer(let t): return t
        case .array(let t, _): return t
        default: return nil
        }
    }

    /// The nominal name used by the type-confusion check: the outermost typedef name, or the
    /// struct's tag; nil for plain scalars and pointers.
    package func nominalName(structs: [StructDecl]) -> String? {
        switch self {
        case .named(let n, _): return n
        case .structure(let i): return "struct " + structs[i].name
        default: return nil
        }
    }

    package var description: String {
        switch self {
        case .void: return "void"
        case .int(let n): return n
        case .pointer(let t): return "\(t) *"
        case .array(let t, let n): return "\(t)[\(n)]"
        case .structure(let i): return "struct#\(i)"
        case .named(let n, _): return n
        case .function: return "function"
        }
    }
}

/// A struct declaration: fields in order with their cell offsets. An incomplete struct (only
/// ever used behind a pointer, e.g. `struct srcu_struct`) is one opaque cell.
package struct StructDecl: Sendable {
    package var name: String
    package var fields: [(name: String, type: CType, offset: Int)]
    package var size: Int
    package var complete: Bool
    package var location: SourceLocation
    /// Where each field was declared (parallel to `fields`), for collision diagnostics.
    package var fieldLocations: [SourceLocation] = []
    /// The `__extend struct X { ... }` blocks that added fields, in order.
    package var extensions: [SourceLocation] = []

    package func field(_ n: String) -> (name: String, type: CType, offset: Int)? {
        fields.first { $0.name == n }
    }
}

/// An expression as parsed (names not yet resolved).
package final class Expr: Sendable {
    package enum Kind: Sendable {
        case integer(Int64)
        case string(String)
        case name(String)
        case unary(UnaryOp, Expr)                // - ! ~ * & ++ -- (prefix)
        case postfix(UnaryOp, Expr)              // .postIncrement, .postDecrement
        case binary(BinaryOp, Expr, Expr)
        case assign(BinaryOp?, Expr, Expr)       // nil: "="; .add: "+=", ...
        case ternary(Expr, Expr, Expr)
        case call(String, [Expr])
        case member(Expr, String, arrow: Bool)
        case index(Expr, Expr)
        case cast(CType, Expr)
        case sizeofType(CType)
        case sizeofExpr(Expr)
        case typeArgument(CType)                 // a type given as an argument, e.g. alloc_page(pte_t)
        case comma(Expr, Expr)
        case initList([Expr])                    // { a, b } in declarations
    }
    package let kind: Kind
    package let location: SourceLocation
    package init(_ kind: Kind, _ location: SourceLocation) { self.kind = kind; self.location = location }
}

/// A statement as parsed.
package final class Stmt: Sendable {
    package enum Kind: Sendable {
        case declaration(name: String, type: CType, initial: Expr?)
        case expression(Expr)
        case block([Stmt])
        case ifElse(Expr, Stmt, Stmt?)
        case whileLoop(Expr, Stmt)
        case doWhile(Stmt, Expr)
        case forLoop(Stmt?, Expr?, Expr?, Stmt)
        case switchCase(Expr, Stmt)
        case caseLabel(Int64)
        case defaultLabel
        case breakStmt
        case continueStmt
        case returnStmt(Expr?)
        case gotoStmt(String)
        case label(String, Stmt)
        case empty
    }
    package let kind: Kind
    package let location: SourceLocation
    package init(_ kind: Kind, _ location: SourceLocation) { self.kind = kind; self.location = location }
}

/// A function: a helper, a thread body (`P0`…), or the `invariant`/`final` block.
package struct FunctionDecl: Sendable {
    package var name: String
    package var returnType: CType
    package var params: [(name: String, type: CType)]
    package var body: Stmt
    package var location: SourceLocation
    /// How a definition of a name that is defined twice is resolved (docs/language.md,
    /// "Extending the model"): a plain definition replaces a `__weak` one, an `__override`
    /// replaces an earlier definition; any other pair is a redefinition error.
    package var linkage: Linkage = .plain

    package enum Linkage: Sendable { case plain, weak, override }
}

/// One item of the init block: `int x = 1;`, `mm.pgd[0] = 5;`, `0:r1 = 3;`, `pte_t t[4];`.
package struct InitItem: Sendable {
    package enum Target: Sendable {
        case location(Expr)                      // a global lvalue expression
        case register(thread: Int, name: String)
    }
    package var declaredType: CType?               // for declarations
    package var target: Target
    package var value: Expr?
    package var location: SourceLocation
}

/// The herd7 final-state proposition: `x=1`, `0:r0=x`, with `/\`, `\/`, `~`, `==>`.
package indirect enum Condition: Sendable {
    case equals(ConditionLocation, ConditionValue, SourceLocation)
    case notEquals(ConditionLocation, ConditionValue, SourceLocation)
    case and(Condition, Condition)
    case or(Condition, Condition)
    case not(Condition)
    case implies(Condition, Condition)
    case constant(Bool)

    /// Every location the proposition mentions, in order of first appearance.
    package var locations: [ConditionLocation] {
        var out: [ConditionLocation] = []
        func walk(_ c: Condition) {
            switch c {
            case .equals(let l, let v, _), .notEquals(let l, let v, _):
                if !out.contains(l) { out.append(l) }
                if case .location(let l2) = v, !out.contains(l2) { out.append(l2) }
            case .and(let a, let b), .or(let a, let b), .implies(let a, let b): walk(a); walk(b)
            case .not(let a): walk(a)
            case .constant: break
            }
        }
        walk(self)
        return out
    }
}

/// A location named in a condition: a thread's register, or a global (possibly a field/index path).
package enum ConditionLocation: Hashable, Sendable, CustomStringConvertible {
    case register(thread: Int, name: String)
    case global(path: String)                    // "x", "mm.count", "a[1]"

    package var description: String {
        switch self {
        case .register(let t, let n): return "\(t):\(n)"
        case .global(let p): return p
        }
    }
}

/// The right-hand side of a condition atom: an integer, the address of a global, or another location.
package enum ConditionValue: Hashable, Sendable {
    case integer(Int64)
    case address(String)
    case location(ConditionLocation)
}

/// The claim at the end of a litmus test.
package struct Claim: Sendable {
    package enum Quantifier: String, Sendable { case exists, notExists = "~exists", forall }
    package var quantifier: Quantifier
    package var condition: Condition
    package var text: String
    package var location: SourceLocation
}

/// A whole parsed race file.
package struct LitmusFile: Sendable {
    package var name: String
    /// Where the file uses the preprocessor (`#include`, `#define`, `#if`...), if it does.
    package var firstDirective: SourceLocation?
    package var structs: [StructDecl] = []
    package var typedefs: [String: CType] = [:]
    package var enumConstants: [String: Int64] = [:]
    package var functions: [FunctionDecl] = []     // helpers
    package var threads: [FunctionDecl] = []       // P0, P1, ... in order
    package var initItems: [InitItem] = []
    package var invariant: FunctionDecl?
    package var final: FunctionDecl?
    package var claim: Claim?
    package var filter: Condition?
    package var extraLocations: [ConditionLocation] = []
    package var location: SourceLocation
}

extension LitmusFile {
    /// What the file uses beyond the herd7 C litmus format (the preprocessor, helper functions,
    /// types, `final` and `invariant` blocks), in file order: a file without any is a plain herd7
    /// test, answered under both memory models by default.
    package var extensions: [(construct: String, location: SourceLocation)] {
        var out: [(construct: String, location: SourceLocation)] = []
        if let d = firstDirective { out.append(("preprocessor directive", d)) }
        for f in functions { out.append(("helper function '\(f.name)'", f.location)) }
        for s in structs { out.append(("struct '\(s.name)'", s.location)) }
        if let f = invariant { out.append(("invariant block", f.location)) }
        if let f = final { out.append(("final block", f.location)) }
        return out.sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
    }
}
