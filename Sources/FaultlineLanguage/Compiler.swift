/// Lowers a parsed `LitmusFile` to a `Program`: lays out the globals, resolves names and types,
/// turns built-in calls into IR operations, and compiles the claim to a condition over the
/// observed final values.
package struct Compiler {
    let file: LitmusFile
    var functions: [Function] = []
    var functionIndex: [String: Int] = [:]
    var globals: [Global] = []
    var globalIndex: [String: Int] = [:]
    var globalCells: [[Int64]] = []
    var locations: [SourceLocation] = []
    var locationIndex: [SourceLocation: Int32] = [:]
    var strings: [String] = []
    var kindNames: [String] = [""]
    var pageKinds: Set<String> = []
    var threadRegisters: [[String: RegisterHome]] = []
    var untypedGlobals: Set<String> = []
    var allocationTypes: [Int32: CType] = [:]
    /// Functions `call_rcu` names as callbacks, in first-use order, and the first `call_rcu` /
    /// `kfree_rcu` site (-1: none): the program then gets an RCU callback thread.
    var rcuCallbackFunctions: [Int32] = []
    var rcuCallbackSite: Int32 = -1

    /// Names that are understood but not modelled yet: named in the diagnostic.
    static let unsupportedBuiltins: Set<String> = [
        "rcu_barrier", "membarrier_private_expedited",
        "membarrier_register_private_expedited", "smp_call_function",
        "set_current_state", "__set_current_state", "wake_up_process", "llist_add",
        "for_each_online_cpu", "cpu_rq", "context_switch", "__schedule", "membarrier_arch_sched_in",
        "membarrier_arch_register_private_expedited", "llist_on_list", "llist_add_iff_not_on_list",
    ]
    static let builtinConstants: [String: Int64] = [
        "NULL": 0, "true": 1, "false": 0, "GFP_KERNEL": 0, "GFP_ATOMIC": 0, "GFP_NOWAIT": 0, "GFP_NOFS": 0,
        "__GFP_ZERO": 0, "GFP_HIGHUSER_MOVABLE": 0, "GFP_USER": 0,
    ]

    package init(file: LitmusFile) { self.file = file }

    /// Compiles a parsed file. `programHash` comes from the preprocessor.
    package static func compile(_ file: LitmusFile, programHash: UInt64) throws -> Program {
        var c = Compiler(file: file)
        return try c.run(programHash: programHash)
    }

    mutating func loc(_ l: SourceLocation) -> Int32 {
        if let i = locationIndex[l] { return i }
        let i = Int32(locations.count)
        locations.append(l)
        locationIndex[l] = i
        return i
    }

    mutating func string(_ s: String) -> Int32 {
        strings.append(s)
        return Int32(strings.count - 1)
    }

    func sizeOf(_ t: CType) -> Int { Layout.size(of: t, structs: file.structs) }

    func kindId(of t: CType) -> Int32 {
        guard let n = t.nominalName(structs: file.structs), pageKinds.contains(n) else { return 0 }
        return Int32(kindNames.firstIndex(of: n) ?? 0)
    }

    // MARK: driver

    mutating func run(programHash: UInt64) throws -> Program {
        collectPageKinds()
        try layoutGlobals()
        // Function indices first so helpers may call each other in any order.
        for f in file.functions { functionIndex[f.name] = functionIndex.count }
        var order: [FunctionDecl] = file.functions
        var threadFns: [Int] = []
        for t in file.threads { threadFns.append(order.count); order.append(t) }
        var invariantIndex: Int? = nil, finalIndex: Int? = nil
        if let inv = file.invariant { invariantIndex = order.count; order.append(inv) }
        if let fin = file.final { finalIndex = order.count; order.append(fin) }
        functions = []
        threadRegisters = Array(repeating: [:], count: file.threads.count)
        for (i, f) in order.enumerated() {
            let threadIndex = threadFns.firstIndex(of: i)
            var fc = FunctionCompiler(compiler: self, decl: f, threadIndex: threadIndex)
            let compiled = try fc.compile()
            self = fc.compiler
            functions.append(compiled)
            if let t = threadIndex { threadRegisters[t] = fc.registerHomes }
        }
        var rcuThread: Int? = nil
        if rcuCallbackSite >= 0 {
            if threadFns.count >= Parser.maxThreads {
                throw Diagnostic("too many threads: call_rcu/kfree_rcu need a thread for their callbacks, so at most \(Parser.maxThreads - 1) (P0…P\(Parser.maxThreads - 2)) are supported",
                                 at: locations[Int(rcuCallbackSite)])
            }
            rcuThread = threadFns.count
            threadFns.append(functions.count)
            functions.append(rcuDoBatch())
            threadRegisters.append([:])
        }
        // Register initialisers from the init block.
        var registerInits: [[(RegisterHome, Int64)]] = Array(repeating: [], count: threadFns.count)
        for item in file.initItems {
            guard case .register(let t, let name) = item.target else { continue }
            guard t >= 0, t < file.threads.count else { throw Diagnostic("no thread P\(t) for register \(t):\(name)", at: item.location) }
            // herd accepts an initialiser for a register the thread never uses; it changes nothing.
            guard let home = threadRegisters[t][name] else { continue }
            let v = try initValue(item.value!, type: .int("int"))
            registerInits[t].append((home, v))
        }
        var program = Program(
            name: file.name, file: file, functions: functions, threadFunctions: threadFns,
            invariantFunction: invariantIndex, finalFunction: finalIndex, globals: globals,
            globalCells: globalCells, registerInits: registerInits, locations: locations, strings: strings,
            kindNames: kindNames, observed: [], claim: file.claim, claimCondition: nil, filterCondition: nil,
            programHash: programHash, threadRegisters: threadRegisters)
        program.allocationTypes = allocationTypes
        program.rcuCallbackThread = rcuThread
        program.referenceCells.globals = globals.map { references($0.type) }
        program.referenceCells.pageKinds = kindNames.map { name in
            guard let t = pageKindType(name) else { return [Bool](repeating: true, count: Address.pageCells) }
            let r = references(t)
            return (0..<Address.pageCells).map { r[$0 % r.count] }
        }
        program.referenceCells.allocations = allocationTypes.mapValues { references($0) }
        try compileObservations(&program)
        return program
    }

    /// The RCU callback thread's code (the kernel's `rcu_do_batch()`, as an offloaded rcuo
    /// kthread runs it, CONFIG_RCU_NOCB_CPU): take the oldest callback whose grace period has
    /// ended, call it with its `rcu_head` (or kfree the object, for `kfree_rcu`), again. It
    /// finishes whenever nothing is queued and comes back when a callback is.
    mutating func rcuDoBatch() -> Function {
        var code: [Instr] = [.sync(.rcuCallback)]          // pushes head, then function index
        for fi in [Int32(-1)] + rcuCallbackFunctions {
            code += [.dup, .push(Int64(fi)), .binary(.eq)]
            code.append(.jumpIfZero(Int32(code.count + (fi < 0 ? 4 : 5))))
            code += fi < 0 ? [.pop, .sync(.free)] : [.pop, .call(fi), .pop]
            code.append(.jump(0))
        }
        code.append(.fail(.assertion, string("rcu_do_batch: a callback no call_rcu names")))   // unreachable
        return Function(name: "rcu_do_batch", code: code, locations: Array(repeating: rcuCallbackSite, count: code.count),
                        parameterCount: 0, slotCount: 0, frameSize: 0, frameSlot: -1, parametersInFrame: [],
                        location: locations[Int(rcuCallbackSite)])
    }

    mutating func collectPageKinds() {
        func walkE(_ e: Expr) {
            switch e.kind {
            case .call(let n, let args):
                if n == "alloc_page" || n == "alloc_pages", let a = args.first, case .typeArgument(let t) = a.kind,
                   let name = t.nominalName(structs: file.structs) {
                    pageKinds.insert(name)
                }
                args.forEach(walkE)
            case .unary(_, let a), .postfix(_, let a), .cast(_, let a), .sizeofExpr(let a), .member(let a, _, _): walkE(a)
            case .binary(_, let a, let b), .assign(_, let a, let b), .index(let a, let b), .comma(let a, let b): walkE(a); walkE(b)
            case .ternary(let a, let b, let c): walkE(a); walkE(b); walkE(c)
            case .initList(let xs): xs.forEach(walkE)
            default: break
            }
        }
        func walkS(_ s: Stmt) {
            switch s.kind {
            case .declaration(_, _, let e): if let e { walkE(e) }
            case .expression(let e): walkE(e)
            case .block(let ss): ss.forEach(walkS)
            case .ifElse(let c, let a, let b): walkE(c); walkS(a); if let b { walkS(b) }
            case .whileLoop(let c, let b): walkE(c); walkS(b)
            case .doWhile(let b, let c): walkS(b); walkE(c)
            case .forLoop(let i, let c, let st, let b): if let i { walkS(i) }; if let c { walkE(c) }; if let st { walkE(st) }; walkS(b)
            case .switchCase(let c, let b): walkE(c); walkS(b)
            case .returnStmt(let e): if let e { walkE(e) }
            case .label(_, let b): walkS(b)
            default: break
            }
        }
        // Global tables declared with a typedef'd element type (`pte_t pte_table[4]`) are pages too.
        for item in file.initItems {
            if let t = item.declaredType, case .array(let el, _) = t.resolved, case .named(let n, _) = el,
               !Parser.builtinTypedefs.contains(n) {
                pageKinds.insert(n)
            }
        }
        for f in file.functions + file.threads { walkS(f.body) }
        if let i = file.invariant { walkS(i.body) }
        if let f = file.final { walkS(f.body) }
        for k in pageKinds.sorted() { kindNames.append(k) }
    }

    // MARK: globals

    /// Which cells of a `t` hold references (`ReferenceCells`).
    func references(_ t: CType) -> [Bool] {
        var out = [Bool](repeating: false, count: max(1, sizeOf(t)))
        func fill(_ t: CType, _ at: Int) {
            guard at < out.count else { return }
            switch t {
            case .named(let n, let inner):
                if inner.isScalar && pageKinds.contains(n) { out[at] = true } else { fill(inner, at) }
            case .pointer: out[at] = true
            case .array(let el, let n):
                let sz = sizeOf(el)
                for k in 0..<max(0, n) { fill(el, at + k * sz) }
            case .structure(let si):
                for f in file.structs[si].fields { fill(f.type, at + f.offset) }
            default: break
            }
        }
        fill(t, 0)
        return out
    }

    /// The type a page kind names (`pte_t`, `struct page`).
    func pageKindType(_ name: String) -> CType? {
        if name.hasPrefix("struct "), let i = file.structs.firstIndex(where: { "struct " + $0.name == name }) { return .structure(i) }
        return file.typedefs[name].map { .named(name, $0) }
    }

    /// The type of an init-block location path, if every part of it is known (no diagnostics).
    func pathType(_ e: Expr) -> CType? {
        switch e.kind {
        case .name(let n): return globalIndex[n].map { globals[$0].type }
        case .member(let b, let f, false):
            guard case .structure(let si)? = pathType(b)?.resolved else { return nil }
            return file.structs[si].field(f)?.type
        case .index(let b, _):
            guard case .array(let el, _)? = pathType(b)?.resolved else { return nil }
            return el
        case .unary(.dereference, let b): return pathType(b)
        default: return nil
        }
    }

    /// Locations nothing gives a type (taken as `int`, as herd7 does): named in diagnostics.
    mutating func addUntypedGlobal(_ name: String, at: SourceLocation) {
        untypedGlobals.insert(name)
        addGlobal(name, .int("int"), at: at)
    }

    /// "'f' applied to a non-struct", saying how to declare the base when nothing typed it.
    func nonStructMember(_ f: String, base: Expr, type: CType, at l: SourceLocation) -> Diagnostic {
        guard case .name(let n) = base.kind, untypedGlobals.contains(n) || globalIndex[n] == nil else {
            return Diagnostic("'\(f)' applied to a non-struct (\(type))", at: l)
        }
        let owners = file.structs.filter { $0.field(f) != nil }.map(\.name).sorted()
        let example = owners.count == 1 ? "struct \(owners[0]) \(n);" : "struct NAME \(n);"
        return Diagnostic("the type of '\(n)' is unknown where '.\(f)' is used (nothing declares it or stores its address in a typed pointer)", at: l,
                          notes: ["declare it in the init block, e.g. `\(example)`, or store its address (&\(n)) in a typed pointer there"])
    }

    mutating func addGlobal(_ name: String, _ type: CType, at: SourceLocation) {
        let size = sizeOf(type)
        let elem: CType = {
            var t = type
            while case .array(let e, _) = t.resolved { t = e }
            return t
        }()
        let id = globals.count + 1
        globals.append(Global(name: name, type: type, size: size, kind: kindId(of: elem), address: Address.make(object: id, offset: 0)))
        globalIndex[name] = globals.count - 1
        globalCells.append(Array(repeating: 0, count: size))
    }

    mutating func layoutGlobals() throws {
        // 1. Declarations in the init block (and top-level globals).
        for item in file.initItems {
            guard case .location(let e) = item.target, let t = item.declaredType, case .name(let n) = e.kind else { continue }
            if globalIndex[n] != nil { throw Diagnostic(Diagnostic.Message.redefinition(n), at: item.location) }
            addGlobal(n, t, at: item.location)
        }
        // 2. Thread parameters name globals (their pointee gives the type), as in herd7.
        for t in file.threads {
            for p in t.params where globalIndex[p.name] == nil {
                addGlobal(p.name, p.type.pointee ?? .int("int"), at: t.location)
            }
        }
        // 2b. A location named only by its address takes the type its address is stored as:
        // `mm.file_page = &fp;` with `struct page *file_page` makes `fp` a `struct page`.
        var inferred = true
        while inferred {
            inferred = false
            for item in file.initItems {
                guard case .location(let target) = item.target, let v = item.value, case .unary(.addressOf, let inner) = v.kind,
                      case .name(let n) = inner.kind, globalIndex[n] == nil, file.enumConstants[n] == nil,
                      let pointee = pathType(target)?.pointee, pointee.resolved != .void else { continue }
                addGlobal(n, pointee, at: v.location)
                inferred = true
            }
        }
        // 3. Plain assignments `x = 1;` to names not declared yet: ints.
        for item in file.initItems {
            guard case .location(let e) = item.target, item.declaredType == nil else { continue }
            if case .name(let n) = e.kind, globalIndex[n] == nil { addUntypedGlobal(n, at: item.location) }
        }
        // 3b. herd7: a location named only as an initial value (`p=y;`) exists too.
        func mention(_ e: Expr) {
            switch e.kind {
            case .name(let n):
                if globalIndex[n] == nil && file.enumConstants[n] == nil && Compiler.builtinConstants[n] == nil { addUntypedGlobal(n, at: e.location) }
            case .unary(.addressOf, let x): mention(x)
            case .cast(_, let x): mention(x)
            default: break
            }
        }
        for item in file.initItems { if let v = item.value { mention(v) } }
        // 4. Globals only named by the condition.
        var condLocs: [ConditionLocation] = file.claim?.condition.locations ?? []
        condLocs += file.filter?.locations ?? []
        condLocs += file.extraLocations
        for l in condLocs {
            if case .global(let path) = l {
                let base = String(path.prefix { $0 != "." && $0 != "[" })
                if globalIndex[base] == nil && !path.contains(".") && !path.contains("[") {
                    addUntypedGlobal(base, at: file.location)
                }
            }
        }
        // Initial values.
        for item in file.initItems {
            guard case .location(let target) = item.target, let value = item.value else { continue }
            let (gi, offset, type) = try globalPath(target)
            try storeInit(value, type: type, global: gi, offset: offset, at: item.location)
        }
    }

    mutating func storeInit(_ value: Expr, type: CType, global gi: Int, offset: Int, at: SourceLocation) throws {
        if case .initList(let items) = value.kind {
            switch type.resolved {
            case .array(let e, let n):
                let es = sizeOf(e)
                if items.count > max(n, 1) { throw Diagnostic("too many initialisers", at: value.location) }
                for (k, it) in items.enumerated() { try storeInit(it, type: e, global: gi, offset: offset + k * es, at: at) }
            case .structure(let si):
                let fields = file.structs[si].fields
                if items.count > fields.count { throw Diagnostic("too many initialisers", at: value.location) }
                for (k, it) in items.enumerated() { try storeInit(it, type: fields[k].type, global: gi, offset: offset + fields[k].offset, at: at) }
            default:
                guard items.count == 1 else { throw Diagnostic("braced initialiser for a scalar", at: value.location) }
                try storeInit(items[0], type: type, global: gi, offset: offset, at: at)
            }
            return
        }
        if !type.isScalar && !(type.resolved == .void) {
            if case .int = type.resolved {} else {
                throw Diagnostic("cannot initialise a \(type.isArray ? "array" : "struct") with a scalar; initialise its elements", at: value.location)
            }
        }
        guard offset < globalCells[gi].count else { throw Diagnostic("initialiser out of bounds", at: at) }
        globalCells[gi][offset] = try initValue(value, type: type)
    }

    /// Resolves `x`, `x.f`, `x[2]`, `x.f[1].g`, `*x` in the init block to (global, offset, type).
    func globalPath(_ e: Expr) throws -> (Int, Int, CType) {
        switch e.kind {
        case .name(let n):
            guard let gi = globalIndex[n] else { throw Diagnostic(Diagnostic.Message.unknownIdentifier(n), at: e.location) }
            return (gi, 0, globals[gi].type)
        case .member(let b, let f, let arrow):
            if arrow { throw Diagnostic("use '.' in the init block: the init block names locations, not pointers", at: e.location) }
            if case .name(let n) = b.kind, globalIndex[n] == nil { throw nonStructMember(f, base: b, type: .int("int"), at: e.location) }
            let (gi, off, t) = try globalPath(b)
            guard case .structure(let si) = t.resolved else { throw nonStructMember(f, base: b, type: t, at: e.location) }
            guard let fd = file.structs[si].field(f) else { throw Diagnostic("no field '\(f)' in struct \(file.structs[si].name)", at: e.location) }
            return (gi, off + fd.offset, fd.type)
        case .index(let b, let i):
            let (gi, off, t) = try globalPath(b)
            guard case .array(let el, let n) = t.resolved else { throw Diagnostic("subscript of a non-array", at: e.location) }
            guard let k = try constant(i) else { throw Diagnostic("index must be a constant in the init block", at: i.location) }
            if k < 0 || (n > 0 && k >= n) || k >= Layout.maxCells { throw Diagnostic("index \(k) out of bounds for array of \(n)", at: i.location) }
            return (gi, off + Int(k) * sizeOf(el), el)
        case .unary(.dereference, let b):
            return try globalPath(b)
        default:
            throw Diagnostic("expected a location in the init block", at: e.location)
        }
    }

    /// The value of a constant expression (nil: not one); throws on a fault (`ConstantFolder`).
    func constant(_ e: Expr) throws -> Int64? {
        let enums = file.enumConstants, structs = file.structs
        return try ConstantFolder(name: { enums[$0] ?? Compiler.builtinConstants[$0] }, sizeOf: { Layout.size(of: $0, structs: structs) }).value(e)
    }

    /// An init-block value: a constant, `&loc`, or (herd7) a bare location name meaning its address.
    func initValue(_ e: Expr, type: CType) throws -> Int64 {
        if let v = try constant(e) { return v }
        switch e.kind {
        case .unary(.addressOf, let l):
            let (gi, off, _) = try globalPath(l)
            return globals[gi].address + Int64(off)
        case .name(let n):
            if let gi = globalIndex[n] { return globals[gi].address }
            throw Diagnostic(Diagnostic.Message.unknownIdentifier(n), at: e.location)
        case .cast(_, let x): return try initValue(x, type: type)
        case .binary(let op, let a, let b):
            let x = try initValue(a, type: type), y = try initValue(b, type: type)
            return try ConstantFolder.apply(op, x, y, at: e.location)
        case .member, .index:
            // `&x.f` spelled without & for arrays decaying: the address of an array element.
            let (gi, off, t) = try globalPath(e)
            if t.isArray { return globals[gi].address + Int64(off) }
            throw Diagnostic("the init block takes constants and addresses (&x), not the value of another location", at: e.location)
        default:
            throw Diagnostic("the init block takes constants and addresses (&x)", at: e.location)
        }
    }

    // MARK: observations and claim

    mutating func compileObservations(_ program: inout Program) throws {
        var locs: [ConditionLocation] = []
        for l in (file.claim?.condition.locations ?? []) + file.extraLocations + (file.filter?.locations ?? []) where !locs.contains(l) {
            locs.append(l)
        }
        var observed: [OutcomeLocation] = []
        for l in locs {
            switch l {
            case .register(let t, let name):
                guard t >= 0, t < file.threads.count else { throw Diagnostic("no thread P\(t) for \(t):\(name)", at: file.claim?.location ?? file.location) }
                observed.append(.register(thread: t, home: threadRegisters[t][name], name: "\(t):\(name)"))
            case .global(let path):
                let e = try pathExpr(path, at: file.claim?.location ?? file.location)
                let (gi, off, t) = try globalPath(e)
                observed.append(.memory(address: globals[gi].address + Int64(off), name: path, pointerish: t.isPointer))
            }
        }
        program.observed = observed
        func compileCond(_ c: Condition) throws -> CompiledCondition {
            switch c {
            case .equals(let l, let v, let at): return .equals(locs.firstIndex(of: l)!, try operand(v, at))
            case .notEquals(let l, let v, let at): return .notEquals(locs.firstIndex(of: l)!, try operand(v, at))
            case .and(let a, let b): return .and(try compileCond(a), try compileCond(b))
            case .or(let a, let b): return .or(try compileCond(a), try compileCond(b))
            case .implies(let a, let b): return .implies(try compileCond(a), try compileCond(b))
            case .not(let a): return .not(try compileCond(a))
            case .constant(let b): return .constant(b)
            }
        }
        func operand(_ v: ConditionValue, _ at: SourceLocation) throws -> ConditionOperand {
            switch v {
            case .integer(let i): return .constant(i)
            case .address(let n):
                if let k = file.enumConstants[n] ?? Compiler.builtinConstants[n] { return .constant(k) }
                guard let gi = globalIndex[n] else { throw Diagnostic(Diagnostic.Message.unknownIdentifier(n), at: at) }
                return .constant(globals[gi].address)
            case .location(let l): return .observed(locs.firstIndex(of: l)!)
            }
        }
        if let c = file.claim { program.claimCondition = try compileCond(c.condition) }
        if let f = file.filter { program.filterCondition = try compileCond(f) }
    }

    func pathExpr(_ path: String, at: SourceLocation) throws -> Expr {
        // Re-parse "a.b[2].c" into an expression.
        var e: Expr? = nil
        var cur = ""
        var i = path.startIndex
        func flushName() { if !cur.isEmpty { e = e == nil ? Expr(.name(cur), at) : Expr(.member(e!, cur, arrow: false), at); cur = "" } }
        while i < path.endIndex {
            let ch = path[i]
            if ch == "." { flushName() }
            else if ch == "[" {
                flushName()
                let close = path[i...].firstIndex(of: "]")!
                let n = Int64(path[path.index(after: i)..<close])!
                e = Expr(.index(e!, Expr(.integer(n), at)), at)
                i = close
            } else { cur.append(ch) }
            i = path.index(after: i)
        }
        flushName()
        return e!
    }
}
