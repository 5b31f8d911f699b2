/// Compiles one function body to IR: scopes, control flow, lvalues, and the built-in calls.
struct FunctionCompiler {
    var compiler: Compiler
    let decl: FunctionDecl
    let threadIndex: Int?

    enum Local { case slot(Int32, CType); case frame(Int, CType) }
    enum LValue { case slot(Int32, CType); case memory(CType) }   // .memory: address is on the stack

    var code: [Instr] = []
    var codeLocations: [Int32] = []
    var scopes: [[String: Local]] = [[:]]
    var slotCount = 0
    var frameSize = 0
    var frameSlot: Int32 = -1
    var addressTaken: Set<String> = []
    var registerHomes: [String: RegisterHome] = [:]
    var labels: [String: Int] = [:]
    var gotoPatches: [(Int, String, SourceLocation)] = []
    var breakStack: [[Int]] = []
    var continueStack: [[Int]] = []
    var switchStack: [[(Int64?, Int)]] = []
    var currentLocation: Int32 = 0
    var parametersInFrame: [(Int, Int)] = []
    /// Registers with a value from the init block: their slots (a later `int r2;` keeps the value).
    var initialisedRegisters: [String: Int32] = [:]
    var frameFields: [(name: String, type: CType, offset: Int)] = []
    /// The pointee type of the pointer being initialised, while its initialiser compiles (the
    /// type a `kmalloc` there allocates).
    var allocationHint: CType? = nil
    /// Nesting of `data_race(...)` around the code being compiled.
    var uncheckedDepth = 0

    init(compiler: Compiler, decl: FunctionDecl, threadIndex: Int?) {
        self.compiler = compiler
        self.decl = decl
        self.threadIndex = threadIndex
    }

    var file: LitmusFile { compiler.file }
    func sizeOf(_ t: CType) -> Int { compiler.sizeOf(t) }

    mutating func emit(_ i: Instr) {
        var i = i
        if uncheckedDepth > 0 {
            // Inside data_race(...): plain and READ_ONCE/WRITE_ONCE accesses are intentional races.
            switch i {
            case .read(let k, let m) where m == .plain || m == .once: i = .read(kind: k, mode: .unchecked)
            case .write(let k, let m) where m == .plain || m == .once: i = .write(kind: k, mode: .unchecked)
            default: break
            }
        }
        code.append(i); codeLocations.append(currentLocation)
    }
    mutating func at(_ l: SourceLocation) { currentLocation = compiler.loc(l) }
    var pc: Int { code.count }
    mutating func patch(_ at: Int, to target: Int) {
        switch code[at] {
        case .jump: code[at] = .jump(Int32(target))
        case .jumpIfZero: code[at] = .jumpIfZero(Int32(target))
        case .jumpIfNotZero: code[at] = .jumpIfNotZero(Int32(target))
        default: fatalError("patching a non-jump")
        }
    }
    mutating func newSlot() -> Int32 { slotCount += 1; return Int32(slotCount - 1) }

    mutating func compile() throws -> Function {
        at(decl.location)
        scanAddressTaken(decl.body)
        // Parameters occupy the first slots (the machine copies arguments there).
        for p in decl.params { _ = newSlot(); _ = p }
        // Frame slot after the parameters.
        frameSlot = newSlot()
        // Registers the init block gives a value (`0:r2=a;`) exist from the start.
        if let t = threadIndex {
            for item in file.initItems {
                if case .register(t, let n) = item.target, lookup(n) == nil, !decl.params.contains(where: { $0.name == n }) {
                    initialisedRegisters[n] = implicitRegister(n)
                }
            }
        }
        for (i, p) in decl.params.enumerated() {
            if addressTaken.contains(p.name) || !p.type.isScalar {
                let off = frameSize
                frameSize += sizeOf(p.type)
                parametersInFrame.append((i, off))
                declare(p.name, .frame(off, p.type))
            } else {
                declare(p.name, .slot(Int32(i), p.type))
            }
        }
        try statement(decl.body)
        at(decl.location)
        emit(.push(0))
        emit(.ret)
        for (site, name, l) in gotoPatches {
            guard let target = labels[name] else { throw Diagnostic("use of undeclared label '\(name)'", at: l) }
            patch(site, to: target)
        }
        return Function(name: decl.name, code: code, locations: codeLocations, parameterCount: decl.params.count,
                        slotCount: slotCount, frameSize: frameSize, frameSlot: frameSize > 0 ? frameSlot : -1,
                        parametersInFrame: parametersInFrame, location: decl.location, frameFields: frameFields)
    }

    mutating func declare(_ name: String, _ l: Local) {
        scopes[scopes.count - 1][name] = l
        if case .frame(let o, let t) = l { frameFields.append((name, t, o)) }
        if registerHomes[name] == nil {
            switch l {
            case .slot(let s, _): registerHomes[name] = .slot(s)
            case .frame(let o, _): registerHomes[name] = .frame(o)
            }
        }
    }

    func lookup(_ name: String) -> Local? {
        for s in scopes.reversed() { if let l = s[name] { return l } }
        return nil
    }

    /// A herd7 register that nothing declares: a slot in the thread's outermost scope.
    mutating func implicitRegister(_ n: String) -> Int32 {
        let s = newSlot()
        scopes[0][n] = .slot(s, .int("int"))
        if registerHomes[n] == nil { registerHomes[n] = .slot(s) }
        return s
    }

    /// "use of undeclared identifier", with the closest name in scope as a suggestion.
    func undeclared(_ n: String, at l: SourceLocation) -> Diagnostic {
        var names = Set(compiler.globalIndex.keys)
        for s in scopes { names.formUnion(s.keys) }
        names.formUnion(file.enumConstants.keys)
        names.formUnion(compiler.functionIndex.keys)
        var msg = Diagnostic.Message.unknownIdentifier(n)
        if let s = Diagnostic.closest(to: n, among: names) { msg += "; did you mean '\(s)'?" }
        let note = threadIndex != nil ? ["a register that is not declared must be assigned before it is read"] : []
        return Diagnostic(msg, at: l, notes: note)
    }

    mutating func scanAddressTaken(_ s: Stmt) {
        func e(_ x: Expr) {
            switch x.kind {
            case .unary(.addressOf, let a):
                if case .name(let n) = a.kind { addressTaken.insert(n) }
                var base = a
                while true {
                    if case .member(let b, _, false) = base.kind { base = b; continue }
                    if case .index(let b, _) = base.kind { base = b; continue }
                    break
                }
                if case .name(let n) = base.kind { addressTaken.insert(n) }
                e(a)
            case .unary(_, let a), .postfix(_, let a), .cast(_, let a), .sizeofExpr(let a), .member(let a, _, _): e(a)
            case .binary(_, let a, let b), .assign(_, let a, let b), .index(let a, let b), .comma(let a, let b): e(a); e(b)
            case .ternary(let a, let b, let c): e(a); e(b); e(c)
            case .call(_, let args): args.forEach(e)
            case .initList(let xs): xs.forEach(e)
            default: break
            }
        }
        switch s.kind {
        case .declaration(_, _, let i): if let i { e(i) }
        case .expression(let x): e(x)
        case .block(let ss): for t in ss { scanAddressTaken(t) }
        case .ifElse(let c, let a, let b): e(c); scanAddressTaken(a); if let b { scanAddressTaken(b) }
        case .whileLoop(let c, let b): e(c); scanAddressTaken(b)
        case .doWhile(let b, let c): scanAddressTaken(b); e(c)
        case .forLoop(let i, let c, let st, let b):
            if let i { scanAddressTaken(i) }; if let c { e(c) }; if let st { e(st) }; scanAddressTaken(b)
        case .switchCase(let c, let b): e(c); scanAddressTaken(b)
        case .returnStmt(let x): if let x { e(x) }
        case .label(_, let b): scanAddressTaken(b)
        default: break
        }
    }

    // MARK: statements

    mutating func statement(_ s: Stmt) throws {
        at(s.location)
        switch s.kind {
        case .empty: break
        case .declaration(let name, let type, let initial):
            if case .void = type.resolved { throw Diagnostic("variable '\(name)' declared void", at: s.location) }
            if addressTaken.contains(name) || !type.isScalar {
                let off = frameSize
                frameSize += sizeOf(type)
                declare(name, .frame(off, type))
                if let initial {
                    try initialiseFrame(initial, type: type, offset: off, at: s.location)
                } else {
                    // C leaves it undefined; zero it so runs are deterministic.
                    for k in 0..<sizeOf(type) {
                        emit(.load(frameSlot)); emit(.push(Int64(off + k))); emit(.binary(.add)); emit(.push(0))
                        emit(.write(kind: 0, mode: .plain))
                    }
                }
            } else if initial == nil, let pre = initialisedRegisters.removeValue(forKey: name) {
                // `int r2;` of a register the init block set: the declaration keeps its value.
                declare(name, .slot(pre, type))
            } else {
                let slot = newSlot()
                // As in C, the name is in scope in its own initialiser (`int r4 = (r1 != r4);`,
                // herd7 tests do that; the slot starts at 0).
                declare(name, .slot(slot, type))
                if let initial {
                    allocationHint = type.pointee
                    defer { allocationHint = nil }
                    if case .initList(let xs) = initial.kind {
                        guard xs.count == 1 else { throw Diagnostic("braced initialiser for a scalar", at: initial.location) }
                        _ = try rvalue(xs[0])
                    } else { _ = try rvalue(initial) }
                } else { emit(.push(0)) }
                emit(.store(slot))
            }
        case .expression(let e):
            _ = try rvalue(e)
            emit(.pop)
        case .block(let ss):
            scopes.append([:])
            for x in ss { try statement(x) }
            scopes.removeLast()
        case .ifElse(let c, let a, let b):
            try condition(c)
            let jf = pc; emit(.jumpIfZero(0))
            try statement(a)
            if let b {
                let j = pc; emit(.jump(0))
                patch(jf, to: pc)
                try statement(b)
                patch(j, to: pc)
            } else { patch(jf, to: pc) }
        case .whileLoop(let c, let body):
            let top = pc
            try condition(c)
            let jf = pc; emit(.jumpIfZero(0))
            breakStack.append([]); continueStack.append([])
            try statement(body)
            emit(.jump(Int32(top)))
            patch(jf, to: pc)
            for b in breakStack.removeLast() { patch(b, to: pc) }
            for k in continueStack.removeLast() { patch(k, to: top) }
        case .doWhile(let body, let c):
            let top = pc
            breakStack.append([]); continueStack.append([])
            try statement(body)
            let condPC = pc
            try condition(c)
            emit(.jumpIfNotZero(Int32(top)))
            for b in breakStack.removeLast() { patch(b, to: pc) }
            for k in continueStack.removeLast() { patch(k, to: condPC) }
        case .forLoop(let i, let c, let step, let body):
            scopes.append([:])
            if let i { try statement(i) }
            let top = pc
            var jf: Int? = nil
            if let c { try condition(c); jf = pc; emit(.jumpIfZero(0)) }
            breakStack.append([]); continueStack.append([])
            try statement(body)
            let stepPC = pc
            if let step { at(step.location); _ = try rvalue(step); emit(.pop) }
            emit(.jump(Int32(top)))
            if let jf { patch(jf, to: pc) }
            for b in breakStack.removeLast() { patch(b, to: pc) }
            for k in continueStack.removeLast() { patch(k, to: stepPC) }
            scopes.removeLast()
        case .switchCase(let c, let body):
            _ = try rvalue(c)
            let temp = newSlot()
            emit(.store(temp))
            let jHead = pc; emit(.jump(0))
            breakStack.append([])
            switchStack.append([])
            try statement(body)
            let jEnd = pc; emit(.jump(0))
            patch(jHead, to: pc)
            var defaultPC: Int? = nil
            for (v, target) in switchStack.removeLast() {
                guard let v else { defaultPC = target; continue }
                emit(.load(temp)); emit(.push(v)); emit(.binary(.eq)); emit(.jumpIfNotZero(Int32(target)))
            }
            if let d = defaultPC { emit(.jump(Int32(d))) }
            patch(jEnd, to: pc)
            for b in breakStack.removeLast() { patch(b, to: pc) }
        case .caseLabel(let v):
            guard !switchStack.isEmpty else { throw Diagnostic("'case' outside a switch", at: s.location) }
            switchStack[switchStack.count - 1].append((v, pc))
        case .defaultLabel:
            guard !switchStack.isEmpty else { throw Diagnostic("'default' outside a switch", at: s.location) }
            switchStack[switchStack.count - 1].append((nil, pc))
        case .breakStmt:
            guard !breakStack.isEmpty else { throw Diagnostic("'break' outside a loop or switch", at: s.location) }
            breakStack[breakStack.count - 1].append(pc); emit(.jump(0))
        case .continueStmt:
            guard !continueStack.isEmpty else { throw Diagnostic("'continue' outside a loop", at: s.location) }
            continueStack[continueStack.count - 1].append(pc); emit(.jump(0))
        case .returnStmt(let e):
            if let e { _ = try rvalue(e) } else { emit(.push(0)) }
            emit(.ret)
        case .gotoStmt(let name):
            gotoPatches.append((pc, name, s.location)); emit(.jump(0))
        case .label(let name, let body):
            if labels[name] != nil { throw Diagnostic("redefinition of label '\(name)'", at: s.location) }
            labels[name] = pc
            try statement(body)
        }
    }

    mutating func condition(_ e: Expr) throws {
        at(e.location)
        let t = try rvalue(e)
        if t.isStruct { throw Diagnostic("a struct used as a condition", at: e.location) }
    }

    mutating func initialiseFrame(_ e: Expr, type: CType, offset: Int, at l: SourceLocation) throws {
        if case .initList(let items) = e.kind {
            switch type.resolved {
            case .array(let el, _):
                for (k, it) in items.enumerated() { try initialiseFrame(it, type: el, offset: offset + k * sizeOf(el), at: l) }
                let filled = items.count * sizeOf(el)
                for k in filled..<sizeOf(type) { frameStore(offset + k) { $0.emit(.push(0)) } }
            case .structure(let si):
                let fields = file.structs[si].fields
                var done = Set<Int>()
                for (k, it) in items.enumerated() where k < fields.count {
                    try initialiseFrame(it, type: fields[k].type, offset: offset + fields[k].offset, at: l)
                    for c in 0..<sizeOf(fields[k].type) { done.insert(fields[k].offset + c) }
                }
                for k in 0..<sizeOf(type) where !done.contains(k) { frameStore(offset + k) { $0.emit(.push(0)) } }
            default:
                guard items.count == 1 else { throw Diagnostic("braced initialiser for a scalar", at: e.location) }
                try initialiseFrame(items[0], type: type, offset: offset, at: l)
            }
            return
        }
        guard type.isScalar else { throw Diagnostic(Diagnostic.Message.unsupported("struct assignment"), at: e.location) }
        var err: Error? = nil
        frameStore(offset) { fc in do { _ = try fc.rvalue(e) } catch { err = error } }
        if let err { throw err }
    }

    mutating func frameStore(_ offset: Int, _ value: (inout FunctionCompiler) -> Void) {
        emit(.load(frameSlot)); emit(.push(Int64(offset))); emit(.binary(.add))
        value(&self)
        emit(.write(kind: 0, mode: .plain))
    }

    // MARK: lvalues

    /// `defining`: the expression is the target of a plain assignment, which in a thread
    /// declares a herd7-style register when the name is not declared.
    mutating func lvalue(_ e: Expr, defining: Bool = false) throws -> LValue {
        at(e.location)
        switch e.kind {
        case .name(let n):
            if let l = lookup(n) {
                switch l {
                case .slot(let s, let t): return .slot(s, t)
                case .frame(let off, let t):
                    emit(.load(frameSlot)); emit(.push(Int64(off))); emit(.binary(.add))
                    return .memory(t)
                }
            }
            if let gi = compiler.globalIndex[n] {
                emit(.push(compiler.globals[gi].address))
                return .memory(compiler.globals[gi].type)
            }
            if defining, threadIndex != nil, file.enumConstants[n] == nil, Compiler.builtinConstants[n] == nil {
                // herd7: a register needs no declaration when it is assigned before it is read.
                return .slot(implicitRegister(n), .int("int"))
            }
            throw undeclared(n, at: e.location)
        case .unary(.dereference, let p):
            let t = try rvalue(p)
            guard let pt = t.pointee else {
                if case .int = t.resolved { return .memory(.int("int")) } // herd7: int used as a pointer
                throw Diagnostic("indirection of a non-pointer (\(t))", at: e.location)
            }
            return .memory(pt.resolved == .void ? .int("int") : pt)
        case .member(let b, let f, let arrow):
            let st: CType
            if arrow {
                let t = try rvalue(b)
                guard let pt = t.pointee else { throw Diagnostic("'->' applied to a non-pointer (\(t))", at: e.location) }
                st = pt
            } else {
                let lv = try lvalue(b)
                guard case .memory(let t) = lv else { throw Diagnostic("'.' applied to a non-struct", at: e.location) }
                st = t
            }
            guard case .structure(let si) = st.resolved else { throw compiler.nonStructMember(f, base: b, type: st, at: e.location) }
            guard file.structs[si].complete else { throw Diagnostic("struct \(file.structs[si].name) is incomplete", at: e.location) }
            guard let fd = file.structs[si].field(f) else { throw Diagnostic("no field '\(f)' in struct \(file.structs[si].name)", at: e.location) }
            if fd.offset != 0 { emit(.push(Int64(fd.offset))); emit(.binary(.add)) }
            return .memory(fd.type)
        case .index(let b, let i):
            let t = try rvalue(b)
            guard let el = t.pointee else { throw Diagnostic("subscript of a non-pointer (\(t))", at: e.location) }
            _ = try rvalue(i)
            let sz = sizeOf(el)
            if sz != 1 { emit(.push(Int64(sz))); emit(.binary(.mul)) }
            emit(.binary(.add))
            return .memory(el)
        case .cast(_, let x):
            return try lvalue(x, defining: defining)
        default:
            throw Diagnostic("expression is not assignable", at: e.location)
        }
    }

    /// Loads the value of an lvalue (arrays decay to their address).
    mutating func load(_ lv: LValue, mode: AccessMode = .plain, at l: SourceLocation) throws -> CType {
        switch lv {
        case .slot(let s, let t): emit(.load(s)); return t
        case .memory(let t):
            if case .array(let el, _) = t.resolved { return .pointer(el) }
            if t.isStruct {
                // A one-cell struct (an opaque one, e.g. `struct srcu_struct`, which herd7 tests
                // also read as an int) is its cell; a bigger one is no value.
                guard sizeOf(t) == 1 else { throw Diagnostic(Diagnostic.Message.unsupported("struct values of more than one cell (use a pointer or a field)"), at: l) }
                emit(.read(kind: 0, mode: mode))
                return .int("long")
            }
            emit(.read(kind: compiler.kindId(of: t), mode: mode))
            return t
        }
    }

    // MARK: rvalues

    @discardableResult
    mutating func rvalue(_ e: Expr) throws -> CType {
        at(e.location)
        switch e.kind {
        case .integer(let v): emit(.push(v)); return .int("int")
        case .string(let s): emit(.push(Int64(compiler.string(s)))); return .pointer(.int("char"))
        case .name(let n):
            if lookup(n) == nil, compiler.globalIndex[n] == nil {
                if let v = file.enumConstants[n] ?? Compiler.builtinConstants[n] { emit(.push(v)); return .int("int") }
                if compiler.functionIndex[n] != nil { throw Diagnostic(Diagnostic.Message.unsupported("function pointers"), at: e.location) }
            }
            return try load(try lvalue(e), at: e.location)
        case .unary(let op, let x):
            switch op {
            case .negate: let t = try rvalue(x); emit(.neg); return t
            case .logicalNot: try rvalue(x); emit(.not); return .int("int")
            case .bitNot: let t = try rvalue(x); emit(.bitNot); return t
            case .addressOf:
                let lv = try lvalue(x)
                guard case .memory(let t) = lv else { throw Diagnostic("cannot take the address of a register", at: e.location) }
                return .pointer(t)
            case .dereference:
                return try load(try lvalue(e), at: e.location)
            case .preIncrement, .preDecrement, .postIncrement, .postDecrement:
                return try increment(x, delta: op == .preIncrement || op == .postIncrement ? 1 : -1, returnNew: op == .preIncrement || op == .preDecrement, at: e.location)
            }
        case .postfix(let op, let x):
            return try increment(x, delta: op == .postIncrement ? 1 : -1, returnNew: false, at: e.location)
        case .binary(let op, let a, let b):
            if op == .logicalAnd || op == .logicalOr {
                try rvalue(a)
                let j = pc
                emit(op == .logicalAnd ? .jumpIfZero(0) : .jumpIfNotZero(0))
                try rvalue(b)
                emit(.not); emit(.not)
                let jEnd = pc; emit(.jump(0))
                patch(j, to: pc)
                emit(.push(op == .logicalAnd ? 0 : 1))
                patch(jEnd, to: pc)
                return .int("int")
            }
            let ta = try rvalue(a)
            let tb = try rvalue(b)
            return try arithmetic(op, ta, tb, at: e.location)
        case .assign(let op, let l, let r):
            return try assign(op, l, r, at: e.location)
        case .ternary(let c, let a, let b):
            try rvalue(c)
            let jf = pc; emit(.jumpIfZero(0))
            let t = try rvalue(a)
            let j = pc; emit(.jump(0))
            patch(jf, to: pc)
            try rvalue(b)
            patch(j, to: pc)
            return t
        case .call(let name, let args):
            return try call(name, args, at: e)
        case .member, .index:
            return try load(try lvalue(e), at: e.location)
        case .cast(let t, let x):
            let xt = try rvalue(x)
            if case .void = t.resolved { emit(.pop); emit(.push(0)); return .void }
            if t.isStruct { throw Diagnostic(Diagnostic.Message.unsupported("casts to struct types"), at: e.location) }
            // Narrowing casts to bool normalise to 0/1.
            if case .named(let n, _) = t, n == "bool" || n == "_Bool" { emit(.not); emit(.not) }
            _ = xt
            return t
        case .sizeofType(let t): emit(.push(Int64(sizeOf(t)))); return .int("size_t")
        case .sizeofExpr(let x):
            let t = try staticType(x)
            emit(.push(Int64(sizeOf(t)))); return .int("size_t")
        case .typeArgument:
            throw Diagnostic("a type is not a value here", at: e.location)
        case .comma(let a, let b):
            try rvalue(a); emit(.pop)
            return try rvalue(b)
        case .initList:
            throw Diagnostic("an initialiser list is only allowed in a declaration", at: e.location)
        }
    }

    /// The type of an expression without emitting code (for sizeof).
    mutating func staticType(_ e: Expr) throws -> CType {
        let saved = (code, codeLocations, slotCount)
        defer { code = saved.0; codeLocations = saved.1; slotCount = saved.2 }
        switch e.kind {
        case .name, .member, .index, .unary(.dereference, _):
            switch try lvalue(e) { case .slot(_, let t): return t; case .memory(let t): return t }
        default: return try rvalue(e)
        }
    }

    mutating func arithmetic(_ bop: BinaryOp, _ ta: CType, _ tb: CType, at l: SourceLocation) throws -> CType {
        if bop == .add || bop == .sub {
            if let pa = ta.pointee, tb.pointee == nil {
                let sz = sizeOf(pa)
                if sz != 1 { emit(.push(Int64(sz))); emit(.binary(.mul)) }
                emit(.binary(bop))
                return ta.isArray ? .pointer(pa) : ta
            }
            if bop == .add, let pb = tb.pointee, ta.pointee == nil {
                // n + p: scale n, which is below p on the stack.
                let tmp = newSlot()
                emit(.store(tmp))
                let sz = sizeOf(pb)
                if sz != 1 { emit(.push(Int64(sz))); emit(.binary(.mul)) }
                emit(.load(tmp))
                emit(.binary(.add))
                return tb.isArray ? .pointer(pb) : tb
            }
            if bop == .sub, let pa = ta.pointee, tb.pointee != nil {
                emit(.binary(.sub))
                let sz = sizeOf(pa)
                if sz != 1 { emit(.push(Int64(sz))); emit(.binary(.div)) }
                return .int("long")
            }
        }
        emit(.binary(bop))
        return bop.isComparison ? .int("int") : ta.isPointer ? .int("unsigned long") : ta
    }

    mutating func assign(_ op: BinaryOp?, _ l: Expr, _ r: Expr, at loc: SourceLocation) throws -> CType {
        let lv = try lvalue(l, defining: op == nil)
        switch lv {
        case .slot(let s, let t):
            if op == nil {
                try rvalue(r)
            } else {
                emit(.load(s))
                let tr = try rvalue(r)
                _ = try arithmetic(op!, t, tr, at: loc)
            }
            emit(.dup); emit(.store(s))
            return t
        case .memory(let t):
            if t.isArray { throw Diagnostic(Diagnostic.Message.unsupported("array assignment"), at: loc) }
            if t.isStruct && (sizeOf(t) > 1 || op != nil) {
                // `a = b` of structs: every cell of b into a, one plain access at a time.
                guard op == nil else { throw Diagnostic("compound assignment to a struct", at: loc) }
                let dst = newSlot()
                emit(.store(dst))
                // A value that is no object (`*p = 5`, a call) cannot be a struct of many cells.
                switch r.kind {
                case .name, .unary(.dereference, _), .member, .index, .cast: break
                default:
                    let name = t.resolved.nominalName(structs: file.structs) ?? "\(t)"
                    throw Diagnostic("assignment of a non-struct value to \(name) (\(sizeOf(t)) cells): assign its fields one at a time", at: r.location)
                }
                guard case .memory(let rt) = try lvalue(r), rt.isStruct, sizeOf(rt) == sizeOf(t) else {
                    throw Diagnostic(Diagnostic.Message.unsupported("struct assignment from anything but a struct of the same size"), at: loc)
                }
                let src = newSlot()
                emit(.store(src))
                for k in 0..<sizeOf(t) {
                    for base in [dst, src] { emit(.load(base)); if k > 0 { emit(.push(Int64(k))); emit(.binary(.add)) } }
                    at(loc)
                    emit(.read(kind: 0, mode: .plain))
                    emit(.write(kind: 0, mode: .plain))
                }
                emit(.push(0))
                return t
            }
            let addr = newSlot()
            emit(.store(addr))
            if op == nil {
                try rvalue(r)
            } else {
                emit(.load(addr))
                emit(.read(kind: compiler.kindId(of: t), mode: .plain))
                let tr = try rvalue(r)
                _ = try arithmetic(op!, t, tr, at: loc)
            }
            let v = newSlot()
            emit(.store(v))
            emit(.load(addr)); emit(.load(v))
            at(loc)
            emit(.write(kind: compiler.kindId(of: t), mode: .plain))
            emit(.load(v))
            return t
        }
    }

    mutating func increment(_ x: Expr, delta: Int64, returnNew: Bool, at loc: SourceLocation) throws -> CType {
        let lv = try lvalue(x)
        switch lv {
        case .slot(let s, let t):
            let step = t.pointee.map { Int64(sizeOf($0)) } ?? 1
            emit(.load(s))
            if !returnNew { emit(.dup) }
            emit(.push(delta * step)); emit(.binary(.add))
            if returnNew { emit(.dup) }
            emit(.store(s))
            return t
        case .memory(let t):
            let step = t.pointee.map { Int64(sizeOf($0)) } ?? 1
            let addr = newSlot(), old = newSlot(), new = newSlot()
            emit(.store(addr))
            emit(.load(addr)); emit(.read(kind: compiler.kindId(of: t), mode: .plain)); emit(.store(old))
            emit(.load(old)); emit(.push(delta * step)); emit(.binary(.add)); emit(.store(new))
            emit(.load(addr)); emit(.load(new)); emit(.write(kind: compiler.kindId(of: t), mode: .plain))
            emit(.load(returnNew ? new : old))
            return t
        }
    }
}
