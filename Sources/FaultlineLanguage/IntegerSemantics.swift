/// A binary operator of the race language, in the AST and the IR. `apply` is its one meaning,
/// used by the preprocessor's `#if`, the constant folder and the interpreter alike.
package enum BinaryOp: UInt8, Sendable, CaseIterable {
    case add, sub, mul, div, mod, shl, shr, and, or, xor, eq, ne, lt, gt, le, ge
    /// `&&` and `||`: the compiler lowers them to jumps (short-circuit); `apply` gives their value.
    case logicalAnd, logicalOr

    /// The operator a C spelling names (binary `+`…`||`, and the operator of `+=`…`>>=`).
    package init?(spelling s: String) {
        guard let op = BinaryOp.allCases.first(where: { $0.spelling == s }) else { return nil }
        self = op
    }

    package var spelling: String {
        switch self {
        case .add: return "+"; case .sub: return "-"; case .mul: return "*"; case .div: return "/"; case .mod: return "%"
        case .shl: return "<<"; case .shr: return ">>"; case .and: return "&"; case .or: return "|"; case .xor: return "^"
        case .eq: return "=="; case .ne: return "!="; case .lt: return "<"; case .gt: return ">"; case .le: return "<="
        case .ge: return ">="; case .logicalAnd: return "&&"; case .logicalOr: return "||"
        }
    }

    /// C's precedence (higher binds tighter), for the parsers of expressions and of `#if`.
    package var precedence: Int {
        switch self {
        case .logicalOr: return 1
        case .logicalAnd: return 2
        case .or: return 3
        case .xor: return 4
        case .and: return 5
        case .eq, .ne: return 6
        case .lt, .gt, .le, .ge: return 7
        case .shl, .shr: return 8
        case .add, .sub: return 9
        case .mul, .div, .mod: return 10
        }
    }

    package var isComparison: Bool {
        switch self { case .eq, .ne, .lt, .gt, .le, .ge, .logicalAnd, .logicalOr: return true; default: return false }
    }

    /// The race language's integer semantics: 64-bit two's complement, wrapping. Where C leaves
    /// the result undefined, `value` is still defined — `INT64_MIN / -1` is `INT64_MIN` (`% -1`
    /// is 0), a shift uses its count mod 64 — and `fault` says what happened; only division by
    /// zero has no value (0, with `.divisionByZero`). The interpreter raises the division-by-zero
    /// violation and otherwise uses `value`; constant expressions (`#if`, array sizes, enum
    /// values, case labels, the init block) refuse any fault with a diagnostic.
    @inline(__always)
    package func apply(_ a: Int64, _ b: Int64) -> (value: Int64, fault: IntegerFault?) {
        switch self {
        case .add: return (a &+ b, nil)
        case .sub: return (a &- b, nil)
        case .mul: return (a &* b, nil)
        case .div, .mod:
            if b == 0 { return (0, .divisionByZero) }
            if a == .min && b == -1 { return (self == .div ? a : 0, .divisionOverflow) }
            return (self == .div ? a / b : a % b, nil)
        case .shl: return (a << (b & 63), b < 0 || b > 63 ? .shiftOutOfRange : nil)
        case .shr: return (a >> (b & 63), b < 0 || b > 63 ? .shiftOutOfRange : nil)
        case .and: return (a & b, nil)
        case .or: return (a | b, nil)
        case .xor: return (a ^ b, nil)
        case .eq: return (a == b ? 1 : 0, nil)
        case .ne: return (a != b ? 1 : 0, nil)
        case .lt: return (a < b ? 1 : 0, nil)
        case .gt: return (a > b ? 1 : 0, nil)
        case .le: return (a <= b ? 1 : 0, nil)
        case .ge: return (a >= b ? 1 : 0, nil)
        case .logicalAnd: return (a != 0 && b != 0 ? 1 : 0, nil)
        case .logicalOr: return (a != 0 || b != 0 ? 1 : 0, nil)
        }
    }
}

/// What C leaves undefined in an integer operation (see `BinaryOp.apply`).
package enum IntegerFault: Sendable, Equatable {
    case divisionByZero, divisionOverflow, shiftOutOfRange

    /// The diagnostic for a constant expression, e.g. "division by zero in #if expression".
    package func message(_ op: BinaryOp, _ a: Int64, _ b: Int64, in context: String) -> String {
        switch self {
        case .divisionByZero: return "division by zero in \(context)"
        case .divisionOverflow: return "\(a) \(op.spelling) \(b) overflows 64 bits in \(context)"
        case .shiftOutOfRange: return "shift count \(b) is out of range (0…63) in \(context)"
        }
    }
}

/// A prefix or postfix operator of the race language.
package enum UnaryOp: UInt8, Sendable {
    case negate, logicalNot, bitNot, dereference, addressOf, preIncrement, preDecrement, postIncrement, postDecrement

    package var spelling: String {
        switch self {
        case .negate: return "-"; case .logicalNot: return "!"; case .bitNot: return "~"; case .dereference: return "*"
        case .addressOf: return "&"; case .preIncrement, .postIncrement: return "++"; case .preDecrement, .postDecrement: return "--"
        }
    }

    /// The value of `-`, `!` and `~` (nil for the operators that need an lvalue).
    @inline(__always)
    package func apply(_ v: Int64) -> Int64? {
        switch self {
        case .negate: return 0 &- v
        case .logicalNot: return v == 0 ? 1 : 0
        case .bitNot: return ~v
        default: return nil
        }
    }
}

/// The one constant folder (array sizes, enum values, case labels, the init block): integer
/// constant expressions with the semantics of `BinaryOp.apply`, names resolved by the caller.
package struct ConstantFolder {
    /// The value of a name, if it is a constant.
    let name: (String) -> Int64?
    let sizeOf: (CType) -> Int

    package init(name: @escaping (String) -> Int64?, sizeOf: @escaping (CType) -> Int) {
        self.name = name
        self.sizeOf = sizeOf
    }

    /// The value, nil when `e` is not a constant expression; throws on a fault (division by zero,
    /// overflow of a division, a shift by 64 or more).
    package func value(_ e: Expr) throws -> Int64? {
        switch e.kind {
        case .integer(let v): return v
        case .name(let n): return name(n)
        case .sizeofType(let t): return Int64(sizeOf(t))
        case .cast(_, let x): return try value(x)
        case .call(let n, let args) where (n == "ATOMIC_INIT" || n == "ATOMIC_LONG_INIT") && args.count == 1: return try value(args[0])
        case .unary(let op, let x):
            guard let v = try value(x) else { return nil }
            return op.apply(v)
        case .binary(let op, let a, let b):
            guard let x = try value(a) else { return nil }
            // `0 && x`, `1 || x`: decided by the left operand (C does not evaluate the right one).
            if op == .logicalAnd && x == 0 || op == .logicalOr && x != 0 { return op.apply(x, 0).value }
            guard let y = try value(b) else { return nil }
            return try ConstantFolder.apply(op, x, y, at: e.location)
        case .ternary(let c, let a, let b):
            guard let cv = try value(c) else { return nil }
            return cv != 0 ? try value(a) : try value(b)
        default: return nil
        }
    }

    /// `op.apply`, or the diagnostic of its fault.
    package static func apply(_ op: BinaryOp, _ x: Int64, _ y: Int64, at loc: SourceLocation, in context: String = "a constant expression") throws -> Int64 {
        let (v, fault) = op.apply(x, y)
        if let fault { throw Diagnostic(fault.message(op, x, y, in: context), at: loc) }
        return v
    }
}
