/// Parses a preprocessed token stream into a `LitmusFile`: the herd7 layout (header, init block,
/// threads `P0`…, `exists`/`forall`/`filter`/`locations`) around C declarations, helpers and
/// the `invariant`/`final` blocks. Types are resolved as they are declared (C's typedef rule).
package struct Parser {
    var toks: [Token]
    var p = 0
    var file: LitmusFile
    /// How deeply the construct being parsed is nested (operators, parentheses, statements,
    /// conditions): bounded, so that no input can exhaust the stack here or in the compiler.
    var nesting = 0
    package static let maxNesting = 1000
    /// Threads a program may have: the scheduler's enabled sets are 64-bit masks.
    package static let maxThreads = 64

    static func tooDeep(_ at: SourceLocation) -> Diagnostic {
        Diagnostic("nesting deeper than 1,000 (parentheses, operators, statements, declarators or conditions)", at: at)
    }

    /// One level deeper; undone by the caller (`defer { nesting -= 1 }`, or restoring a saved depth).
    mutating func enter() throws {
        nesting += 1
        if nesting > Parser.maxNesting { throw Parser.tooDeep(cur.location) }
    }
    /// Built-in typedefs (kernel and herd7 names), all one cell.
    package static let builtinTypedefs: [String] = [
        "intptr_t", "uintptr_t", "size_t", "ssize_t", "ptrdiff_t", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64",
        "__u8", "__u16", "__u32", "__u64", "__s32", "__s64", "uint8_t", "uint16_t", "uint32_t", "uint64_t", "int8_t",
        "int16_t", "int32_t", "int64_t", "atomic_t", "atomic_long_t", "atomic64_t", "spinlock_t", "raw_spinlock_t",
        "arch_spinlock_t", "bool", "_Bool", "gfp_t", "vm_fault_t", "pgoff_t", "loff_t", "refcount_t",
    ]
    static let typeKeywords: Set<String> = ["int", "char", "short", "long", "unsigned", "signed", "void", "const",
        "volatile", "static", "inline", "extern", "register", "struct", "union", "enum", "__always_inline",
        "__maybe_unused", "noinline", "__inline__", "__inline", "auto", "__rcu", "__user", "__iomem", "__percpu",
        "__weak", "__override", "__extend"]
    /// The linkage words of the last `parseSpecifiers()` (`__weak`, `__override`): how a
    /// function definition that follows combines with another of the same name.
    var lastLinkage: FunctionDecl.Linkage = .plain

    package init(source: PreprocessedSource) {
        self.toks = source.tokens
        let loc = source.tokens.first?.location ?? .unknown
        self.file = LitmusFile(name: "", firstDirective: source.firstDirective, location: loc)
        for n in Parser.builtinTypedefs { file.typedefs[n] = .named(n, .int(n)) }
    }

    /// Parses a complete race file.
    package static func parse(_ source: PreprocessedSource) throws -> LitmusFile {
        var parser = Parser(source: source)
        return try parser.parseFile()
    }

    // MARK: token helpers

    var cur: Token { toks[p] }
    func peek(_ k: Int) -> Token { toks[min(p + k, toks.count - 1)] }
    mutating func next() -> Token { let t = toks[p]; if p < toks.count - 1 { p += 1 }; return t }
    mutating func eat(_ s: String) -> Bool {
        if cur.kind == .punct && cur.text == s { _ = next(); return true }
        return false
    }
    mutating func eatIdent(_ s: String) -> Bool {
        if cur.isIdent(s) { _ = next(); return true }
        return false
    }
    mutating func expect(_ s: String, _ what: String? = nil) throws {
        guard eat(s) else { throw Diagnostic(Diagnostic.Message.expected(what ?? "'\(s)'", found: cur.quoted), at: cur.location) }
    }
    mutating func identifier(_ what: String = "an identifier") throws -> Token {
        guard cur.isIdentifier else { throw Diagnostic(Diagnostic.Message.expected(what, found: cur.quoted), at: cur.location) }
        return next()
    }

    // MARK: file structure

    mutating func parseFile() throws -> LitmusFile {
        if cur.kind == .testHeader { _ = next() }     // the name: `LitmusHeader` (Frontend.load)
        var sawInit = false
        while cur.kind != .endOfFile {
            let t = cur
            if t.kind == .string { _ = next(); continue }
            // herd7 metadata lines before the init block: `Key=...` to the end of the line.
            // A second `C name` title line (herd7 reads the first and skips the rest of the header).
            let secondTitle = t.isIdent("C") && peek(1).isIdentifier && !peek(1).lineStart
            if !sawInit, t.isIdentifier, t.lineStart, peek(1).isPunct("=") || secondTitle, file.typedefs[t.text] == nil {
                _ = next()
                while !cur.lineStart && cur.kind != .endOfFile { _ = next() }
                continue
            }
            if t.isPunct("{") {
                if sawInit { throw Diagnostic("a second init block", at: t.location) }
                sawInit = true
                try parseInitBlock()
                continue
            }
            if t.isPunct(";") { _ = next(); continue }
            if t.isIdentifier, isThreadName(t.text), peek(1).isPunct("(") {
                try parseThread()
                continue
            }
            if (t.isIdent("invariant") || t.isIdent("final")) && peek(1).isPunct("{") {
                _ = next()
                let body = try parseBlock()
                let f = FunctionDecl(name: t.text, returnType: .void, params: [], body: body, location: t.location)
                if t.text == "invariant" {
                    if file.invariant != nil { throw Diagnostic("a second invariant block", at: t.location) }
                    file.invariant = f
                } else {
                    if file.final != nil { throw Diagnostic("a second final block", at: t.location) }
                    file.final = f
                }
                continue
            }
            if t.isIdent("exists") || t.isIdent("forall") || (t.isPunct("~") && peek(1).isIdent("exists")) {
                try parseClaim()
                continue
            }
            if t.isIdent("filter") {
                _ = next()
                file.filter = try parseCondition()
                continue
            }
            if t.isIdent("locations") {
                _ = next()
                try expect("[")
                while !cur.isPunct("]") {
                    if cur.kind == .endOfFile { throw Diagnostic(Diagnostic.Message.expected("']'", found: cur.quoted), at: cur.location) }
                    if eat(";") { continue }
                    file.extraLocations.append(try parseConditionLocation())
                }
                _ = next()
                continue
            }
            if t.isIdent("typedef") { try parseTypedef(); continue }
            if startsType(t) {
                try parseTopLevelDeclaration()
                continue
            }
            if t.isIdentifier && peek(1).isPunct("(") {
                throw Diagnostic("expected a type before function '\(t.text)' (threads are named P0, P1, …)", at: t.location)
            }
            throw Diagnostic(Diagnostic.Message.expected("a declaration, the init block, a thread or a condition", found: t.quoted), at: t.location)
        }
        if file.threads.isEmpty {
            throw Diagnostic("the file declares no threads (P0, P1, …)", at: cur.location)
        }
        if file.structs.contains(where: { !$0.extensions.isEmpty }) { relayoutStructs() }
        return file
    }

    func isThreadName(_ s: String) -> Bool {
        guard s.hasPrefix("P"), s.count > 1 else { return false }
        return s.dropFirst().allSatisfy(\.isNumber)
    }

    mutating func parseThread() throws {
        let nameTok = next()
        guard let index = Int(nameTok.text.dropFirst()), index == file.threads.count else {
            throw Diagnostic("thread \(nameTok.text) out of order: expected P\(file.threads.count)", at: nameTok.location)
        }
        if index >= Parser.maxThreads {
            throw Diagnostic("too many threads: at most \(Parser.maxThreads) (P0…P\(Parser.maxThreads - 1)) are supported", at: nameTok.location)
        }
        let params = try parseParams()
        guard cur.isPunct("{") else { throw Diagnostic(Diagnostic.Message.expected("'{' to start the body of \(nameTok.text)", found: cur.quoted), at: cur.location) }
        let body = try parseBlock()
        file.threads.append(FunctionDecl(name: nameTok.text, returnType: .void, params: params, body: body, location: nameTok.location))
    }

    mutating func parseParams() throws -> [(name: String, type: CType)] {
        try expect("(")
        var params: [(name: String, type: CType)] = []
        if eat(")") { return params }
        if cur.isIdent("void") && peek(1).isPunct(")") { _ = next(); _ = next(); return params }
        while true {
            let base = try parseSpecifiers()
            let (name, type) = try parseDeclarator(base, allowAbstract: true)
            params.append((name ?? "_arg\(params.count)", type))
            if eat(")") { break }
            try expect(",", "',' or ')' in the parameter list")
        }
        return params
    }

    mutating func parseClaim() throws {
        let start = cur
        var q: Claim.Quantifier = .exists
        if eat("~") { q = .notExists }
        else if cur.isIdent("forall") { q = .forall }
        _ = next()
        let textStart = p
        let c = try parseCondition()
        var text = ""
        for (k, t) in toks[textStart..<p].enumerated() {
            if k > 0 && t.spaceBefore { text += " " }
            text += t.text
        }
        if file.claim != nil { throw Diagnostic("a second exists/forall clause", at: start.location) }
        file.claim = Claim(quantifier: q, condition: c, text: text, location: start.location)
    }

    // MARK: conditions

    mutating func parseCondition() throws -> Condition {
        let depth = nesting
        defer { nesting = depth }
        var l = try parseConjunction()
        while true {
            try enter()
            if eat("\\/") { l = .or(l, try parseConjunction()) }
            else if cur.isPunct("=") && peek(1).isPunct("=") && peek(2).isPunct(">") { _ = next(); _ = next(); _ = next(); l = .implies(l, try parseConjunction()) }
            else { return l }
        }
    }
    mutating func parseConjunction() throws -> Condition {
        let depth = nesting
        defer { nesting = depth }
        var l = try parseConditionUnary()
        while eat("/\\") { try enter(); l = .and(l, try parseConditionUnary()) }
        return l
    }
    mutating func parseConditionUnary() throws -> Condition {
        try enter(); defer { nesting -= 1 }
        if eat("~") || eatIdent("not") { return .not(try parseConditionUnary()) }
        if eat("(") {
            let c = try parseCondition()
            try expect(")", "')' in the condition")
            return c
        }
        if eatIdent("true") { return .constant(true) }
        if eatIdent("false") { return .constant(false) }
        let at = cur.location
        let loc = try parseConditionLocation()
        var negate = false
        if eat("!=") { negate = true }
        else if eat("==") {}
        else { try expect("=", "'=' in the condition") }
        let value = try parseConditionValue()
        return negate ? .notEquals(loc, value, at) : .equals(loc, value, at)
    }
    mutating func parseConditionLocation() throws -> ConditionLocation {
        if case .integer(let n) = cur.kind, peek(1).isPunct(":") {
            guard n >= 0 && n < Parser.maxThreads else {
                throw Diagnostic("no thread P\(UInt64(bitPattern: n)) (at most \(Parser.maxThreads) threads)", at: cur.location)
            }
            _ = next(); _ = next()
            let r = try identifier("a register name")
            return .register(thread: Int(n), name: r.text)
        }
        _ = eat("*")
        let n = try identifier("a location")
        var path = n.text
        while true {
            if eat(".") { path += "." + (try identifier("a field name")).text }
            else if eat("[") {
                guard case .integer(let k) = cur.kind else { throw Diagnostic(Diagnostic.Message.expected("an index", found: cur.quoted), at: cur.location) }
                _ = next()
                try expect("]")
                path += "[\(k)]"
            } else { break }
        }
        return .global(path: path)
    }
    mutating func parseConditionValue() throws -> ConditionValue {
        var neg = false
        if eat("-") { neg = true }
        if case .integer(let v) = cur.kind {
            if !neg, peek(1).isPunct(":") { return .location(try parseConditionLocation()) }
            _ = next()
            return .integer(neg ? 0 &- v : v)
        }
        if cur.isIdentifier {
            let n = next()
            if let v = file.enumConstants[n.text] { return .integer(neg ? -v : v) }
            if n.text == "NULL" { return .integer(0) }
            return .address(n.text)
        }
        throw Diagnostic(Diagnostic.Message.expected("a value", found: cur.quoted), at: cur.location)
    }

    // MARK: declarations and types

    func startsType(_ t: Token) -> Bool {
        guard t.isIdentifier else { return false }
        return Parser.typeKeywords.contains(t.text) || file.typedefs[t.text] != nil
    }

    mutating func parseSpecifiers() throws -> CType {
        var words: [String] = []
        var result: CType? = nil
        var linkage: FunctionDecl.Linkage = .plain
        var extend = false
        let start = cur
        defer { lastLinkage = linkage }
        while cur.isIdentifier {
            let w = cur.text
            switch w {
            case "__weak", "__override":
                let l: FunctionDecl.Linkage = w == "__weak" ? .weak : .override
                if linkage != .plain && linkage != l { throw Diagnostic("a definition cannot be both __weak and __override", at: cur.location) }
                linkage = l
                _ = next()
            case "__extend":
                extend = true
                _ = next()
                guard cur.isIdent("struct") || cur.isIdent("union") else {
                    throw Diagnostic(Diagnostic.Message.expected("'struct' after __extend", found: cur.quoted), at: cur.location)
                }
            case "const", "volatile", "static", "inline", "extern", "register", "__always_inline", "__maybe_unused",
                 "noinline", "__inline__", "__inline", "auto", "__rcu", "__user", "__iomem", "__percpu":
                _ = next()
            case "unsigned", "signed", "short", "long", "int", "char", "void":
                words.append(w); _ = next()
            case "struct", "union":
                _ = next()
                result = try parseStructSpecifier(extend: extend)
                extend = false
            case "enum":
                _ = next()
                try parseEnumSpecifier()
                result = .int("int")
            default:
                if result == nil, words.isEmpty, let td = file.typedefs[w] {
                    _ = next(); result = td
                } else {
                    if result == nil && words.isEmpty { throw Diagnostic(Diagnostic.Message.unknownType(w), at: cur.location) }
                    return result ?? CType.fromWords(words)
                }
            }
            if result != nil, !words.isEmpty { throw Diagnostic("conflicting type specifiers", at: start.location) }
        }
        if result == nil && words.isEmpty { throw Diagnostic(Diagnostic.Message.expected("a type", found: cur.quoted), at: cur.location) }
        return result ?? CType.fromWords(words)
    }

    mutating func parseStructSpecifier(extend: Bool = false) throws -> CType {
        try enter(); defer { nesting -= 1 }
        let at = cur.location
        var name = ""
        if cur.isIdentifier { name = next().text }
        var index = file.structs.firstIndex { $0.name == name && !name.isEmpty }
        if extend {
            // `__extend struct X { fields };` adds fields to an existing struct (docs/language.md).
            guard let i = index, file.structs[i].complete else {
                throw Diagnostic("__extend of 'struct \(name)': no earlier definition to extend", at: at)
            }
            guard cur.isPunct("{") else { throw Diagnostic(Diagnostic.Message.expected("'{' after __extend struct \(name)", found: cur.quoted), at: cur.location) }
            if let used = sizeUsedAt[i] {
                throw Diagnostic("__extend of 'struct \(name)' after its size was used in a constant", at: at,
                                 related: [("the size is used here", used)])
            }
        }
        if index == nil {
            file.structs.append(StructDecl(name: name.isEmpty ? "<anonymous@\(at.line)>" : name, fields: [], size: 1, complete: false, location: at))
            index = file.structs.count - 1
        }
        if eat("{") {
            if file.structs[index!].complete && !extend {
                throw Diagnostic(Diagnostic.Message.redefinition("struct " + name), at: at,
                                 notes: ["to add fields to it, write `__extend struct \(name) { ... };`"],
                                 related: [(Diagnostic.Message.previousDefinition(), file.structs[index!].location)])
            }
            var fields: [(name: String, type: CType, offset: Int)] = extend ? file.structs[index!].fields : []
            var fieldLocations = extend ? file.structs[index!].fieldLocations : []
            var offset = extend ? file.structs[index!].size : 0
            while !eat("}") {
                if cur.kind == .endOfFile { throw Diagnostic(Diagnostic.Message.expected("'}'", found: cur.quoted), at: cur.location) }
                let base = try parseSpecifiers()
                while true {
                    let fieldAt = cur.location
                    let (n, t) = try parseDeclarator(base, allowAbstract: false)
                    if eat(":") { _ = try parseExpression() } // bit-fields: one cell each
                    guard let n else { throw Diagnostic("expected a field name", at: fieldAt) }
                    if let k = fields.firstIndex(where: { $0.name == n }) {
                        throw Diagnostic("duplicate field '\(n)'", at: fieldAt,
                                         related: k < fieldLocations.count ? [(Diagnostic.Message.previousDefinition(), fieldLocations[k])] : [])
                    }
                    fields.append((n, t, offset))
                    fieldLocations.append(fieldAt)
                    offset += sizeOf(t)
                    if offset > Layout.maxCells {
                        throw Diagnostic("struct too large: more than \(Layout.maxCells) cells (the limit of one object)", at: fieldAt)
                    }
                    if eat(",") { continue }
                    try expect(";", "';' after a field")
                    break
                }
            }
            file.structs[index!].fields = fields
            file.structs[index!].fieldLocations = fieldLocations
            file.structs[index!].size = max(offset, 1)
            if extend { file.structs[index!].extensions.append(at) }
            else { file.structs[index!].complete = true; file.structs[index!].location = at }
        }
        return .structure(index!)
    }

    mutating func parseEnumSpecifier() throws {
        if cur.isIdentifier { _ = next() }
        guard eat("{") else { return }
        var value: Int64 = 0
        while !eat("}") {
            let n = try identifier("an enumerator")
            if eat("=") {
                let e = try parseConditional()
                guard let v = try constantValue(e) else { throw Diagnostic("enumerator value is not a constant", at: e.location) }
                value = v
            }
            file.enumConstants[n.text] = value
            value += 1
            if !eat(",") { try expect("}", "'}' after the enumerators"); break }
        }
    }

    /// `*`s, a name (or none when abstract), then array suffixes.
    mutating func parseDeclarator(_ base: CType, allowAbstract: Bool) throws -> (String?, CType) {
        var t = base
        let depth = nesting
        defer { nesting = depth }
        while eat("*") {
            try enter()
            t = .pointer(t)
            while cur.isIdent("const") || cur.isIdent("volatile") || cur.isIdent("__rcu") { _ = next() }
        }
        if cur.isPunct("(") && peek(1).isPunct("*") {
            throw Diagnostic(Diagnostic.Message.unsupported("function pointers"), at: cur.location)
        }
        var name: String? = nil
        if cur.isIdentifier && !startsType(cur) { name = next().text }
        else if !allowAbstract { throw Diagnostic(Diagnostic.Message.expected("a name", found: cur.quoted), at: cur.location) }
        var dims: [Int] = []
        // Every object is at most `Layout.maxCells` cells: the product of the dimensions and the
        // element's size, not each dimension alone.
        var cells = sizeOf(t)
        while eat("[") {
            let at = cur.location
            if eat("]") { dims.append(0); continue }
            let e = try parseExpression()
            guard let n = try constantValue(e), n >= 0 else { throw Diagnostic("array size must be a non-negative constant", at: e.location) }
            try expect("]")
            let (total, overflow) = cells.multipliedReportingOverflow(by: max(1, Int(n)))
            if overflow || total > Layout.maxCells {
                throw Diagnostic("array too large: more than \(Layout.maxCells) cells in all (the limit of one object)", at: at)
            }
            cells = total
            dims.append(Int(n))
        }
        for d in dims.reversed() { t = .array(t, d) }
        return (name, t)
    }

    mutating func parseTypedef() throws {
        _ = next()
        let base = try parseSpecifiers()
        let (name, t) = try parseDeclarator(base, allowAbstract: false)
        try expect(";", "';' after typedef")
        file.typedefs[name!] = .named(name!, t)
    }

    /// A top-level type-led item: a struct/enum declaration, a global, a prototype or a helper.
    mutating func parseTopLevelDeclaration() throws {
        let at = cur.location
        let base = try parseSpecifiers()
        let linkage = lastLinkage
        if eat(";") { return }   // struct or enum declaration
        let (name, t) = try parseDeclarator(base, allowAbstract: false)
        if cur.isPunct("(") {
            let params = try parseParams()
            while cur.isIdentifier && !cur.isIdent("asm") { _ = next() } // attributes like __releases(x) are rare
            if eat(";") { return }  // prototype
            guard cur.isPunct("{") else { throw Diagnostic(Diagnostic.Message.expected("'{' or ';' after the parameter list", found: cur.quoted), at: cur.location) }
            let body = try parseBlock()
            try define(FunctionDecl(name: name!, returnType: t, params: params, body: body, location: at, linkage: linkage))
            return
        }
        // A global declared outside the init block: treat like an init declaration.
        if linkage != .plain { throw Diagnostic("__weak and __override apply to function definitions", at: at) }
        var n = name, ty = t
        while true {
            var value: Expr? = nil
            if eat("=") { value = try parseInitializer() }
            let target = Expr(.name(n!), at)
            file.initItems.append(InitItem(declaredType: ty, target: .location(target), value: value, location: at))
            if eat(",") {
                let (n2, t2) = try parseDeclarator(base, allowAbstract: false)
                n = n2; ty = t2
                continue
            }
            try expect(";", "';' after a declaration")
            return
        }
    }

    /// Adds a helper definition, resolving a second definition of the same name by linkage:
    /// a plain definition replaces a `__weak` one (in either order), an `__override` replaces
    /// the earlier definition; two plain (or two weak, or two override) definitions collide.
    mutating func define(_ f: FunctionDecl) throws {
        guard let i = file.functions.firstIndex(where: { $0.name == f.name }) else {
            if f.linkage == .override {
                throw Diagnostic("__override of '\(f.name)': no earlier definition to override", at: f.location,
                                 notes: ["an __override must come after the definition it replaces (include the model header first)"])
            }
            file.functions.append(f)
            return
        }
        let old = file.functions[i]
        let collision = { (why: String) in
            Diagnostic(Diagnostic.Message.redefinition(f.name), at: f.location, notes: [why],
                       related: [(Diagnostic.Message.previousDefinition(), old.location)])
        }
        if old.params.count != f.params.count {
            throw Diagnostic("conflicting definitions of '\(f.name)': \(old.params.count) and \(f.params.count) parameters", at: f.location,
                             related: [(Diagnostic.Message.previousDefinition(), old.location)])
        }
        switch (old.linkage, f.linkage) {
        case (.weak, .plain), (.weak, .override), (.plain, .override): file.functions[i] = f
        case (.plain, .weak), (.override, .weak): return
        case (.override, .override): throw collision("'\(f.name)' is overridden twice")
        case (.weak, .weak): throw collision("both definitions are __weak")
        case (.plain, .plain), (.override, .plain):
            throw collision("to replace a model function, mark the model's definition __weak or the new one __override")
        }
    }

    /// After an `__extend`, a struct that embeds an extended struct by value moves its later
    /// fields: recompute every struct's offsets and size in declaration order.
    mutating func relayoutStructs() {
        var done = [Bool](repeating: false, count: file.structs.count)
        func layout(_ i: Int, depth: Int) {
            if done[i] || depth > 64 { return }
            done[i] = true
            var offset = 0
            for k in file.structs[i].fields.indices {
                file.structs[i].fields[k].offset = offset
                offset += size(file.structs[i].fields[k].type, depth: depth)
            }
            if file.structs[i].complete || !file.structs[i].fields.isEmpty { file.structs[i].size = max(offset, 1) }
        }
        func size(_ t: CType, depth: Int) -> Int {
            switch t {
            case .structure(let j): layout(j, depth: depth + 1); return file.structs[j].size
            case .array(let e, let n): return max(1, size(e, depth: depth) * max(n, 1))
            case .named(_, let u): return size(u, depth: depth)
            default: return 1
            }
        }
        for i in file.structs.indices { layout(i, depth: 0) }
    }

    mutating func parseInitializer() throws -> Expr {
        try enter(); defer { nesting -= 1 }
        if cur.isPunct("{") {
            let at = next().location
            var items: [Expr] = []
            while !eat("}") {
                items.append(try parseInitializer())
                if !eat(",") { try expect("}", "'}' after the initialiser list"); break }
            }
            return Expr(.initList(items), at)
        }
        return try parseAssignment()
    }

    // MARK: init block

    mutating func parseInitBlock() throws {
        try expect("{")
        while !eat("}") {
            if cur.kind == .endOfFile { throw Diagnostic(Diagnostic.Message.expected("'}' closing the init block", found: cur.quoted), at: cur.location) }
            if eat(";") { continue }
            let at = cur.location
            if case .integer(let n) = cur.kind, peek(1).isPunct(":") {
                _ = next(); _ = next()
                // `0:r1 = v` or herd's typed form `0:int r1 = v`
                while startsType(cur) && peek(1).isIdentifier { _ = next() }
                while eat("*") {}
                let r = try identifier("a register name")
                try expect("=")
                let v = try parseInitValue()
                file.initItems.append(InitItem(declaredType: nil, target: .register(thread: Int(n), name: r.text), value: v, location: at))
                continue
            }
            if startsType(cur) {
                let base = try parseSpecifiers()
                if eat(";") { continue }
                // herd7's typed register declaration: `int 1:r2;`, `int * 1:r1 = x;`
                var k = 0
                while peek(k).isPunct("*") { k += 1 }
                if case .integer(let n) = peek(k).kind, peek(k + 1).isPunct(":") {
                    for _ in 0..<(k + 2) { _ = next() }
                    let r = try identifier("a register name")
                    let v = eat("=") ? try parseInitValue() : Expr(.integer(0), r.location)
                    file.initItems.append(InitItem(declaredType: base, target: .register(thread: Int(n), name: r.text), value: v, location: at))
                    continue
                }
                while true {
                    let dAt = cur.location
                    let (name, t) = try parseDeclarator(base, allowAbstract: false)
                    var value: Expr? = nil
                    if eat("=") { value = try parseInitValue() }
                    file.initItems.append(InitItem(declaredType: t, target: .location(Expr(.name(name!), dAt)), value: value, location: dAt))
                    if eat(",") { continue }
                    break
                }
                continue
            }
            let lhs = try parseUnary()
            try expect("=", "'=' in the init block")
            let v = try parseInitValue()
            file.initItems.append(InitItem(declaredType: nil, target: .location(lhs), value: v, location: at))
        }
    }

    mutating func parseInitValue() throws -> Expr {
        if cur.isPunct("{") { return try parseInitializer() }
        return try parseConditional()
    }

    // MARK: statements

    mutating func parseBlock() throws -> Stmt {
        let at = cur.location
        try expect("{")
        var items: [Stmt] = []
        while !eat("}") {
            if cur.kind == .endOfFile { throw Diagnostic(Diagnostic.Message.expected("'}'", found: cur.quoted), at: cur.location) }
            items.append(contentsOf: try parseStatementOrDeclaration())
        }
        return Stmt(.block(items), at)
    }

    mutating func parseStatementOrDeclaration() throws -> [Stmt] {
        if startsType(cur) && !(peek(1).isPunct("(") && !Parser.typeKeywords.contains(cur.text) && file.typedefs[cur.text] == nil) {
            // A local declaration (possibly several declarators).
            let base = try parseSpecifiers()
            var out: [Stmt] = []
            if eat(";") { return [] }
            while true {
                let at = cur.location
                let (name, t) = try parseDeclarator(base, allowAbstract: false)
                var initial: Expr? = nil
                if eat("=") { initial = try parseInitializer() }
                out.append(Stmt(.declaration(name: name!, type: t, initial: initial), at))
                if eat(",") { continue }
                try expect(";", "';' after a declaration")
                return out
            }
        }
        return [try parseStatement()]
    }

    mutating func parseStatement() throws -> Stmt {
        try enter(); defer { nesting -= 1 }
        let t = cur
        let at = t.location
        if t.isPunct("{") { return try parseBlock() }
        if eat(";") { return Stmt(.empty, at) }
        if t.isIdentifier {
            switch t.text {
            case "if":
                _ = next(); try expect("(")
                let c = try parseExpression()
                try expect(")")
                let then = try parseStatement()
                var els: Stmt? = nil
                if eatIdent("else") { els = try parseStatement() }
                return Stmt(.ifElse(c, then, els), at)
            case "while":
                _ = next(); try expect("(")
                let c = try parseExpression()
                try expect(")")
                return Stmt(.whileLoop(c, try parseStatement()), at)
            case "do":
                _ = next()
                let body = try parseStatement()
                guard eatIdent("while") else { throw Diagnostic(Diagnostic.Message.expected("'while' after the do body", found: cur.quoted), at: cur.location) }
                try expect("(")
                let c = try parseExpression()
                try expect(")")
                try expect(";")
                return Stmt(.doWhile(body, c), at)
            case "for":
                _ = next(); try expect("(")
                var initS: Stmt? = nil
                if !eat(";") {
                    let s = try parseStatementOrDeclaration()
                    initS = s.count == 1 ? s[0] : Stmt(.block(s), at)
                }
                var cond: Expr? = nil
                if !cur.isPunct(";") { cond = try parseExpression() }
                try expect(";")
                var step: Expr? = nil
                if !cur.isPunct(")") { step = try parseExpression() }
                try expect(")")
                let body = try parseStatement()
                return Stmt(.forLoop(initS, cond, step, body), at)
            case "switch":
                _ = next(); try expect("(")
                let c = try parseExpression()
                try expect(")")
                return Stmt(.switchCase(c, try parseStatement()), at)
            case "case":
                _ = next()
                let e = try parseConditional()
                guard let v = try constantValue(e) else { throw Diagnostic("case label is not a constant", at: e.location) }
                try expect(":")
                return Stmt(.caseLabel(v), at)
            case "default":
                _ = next(); try expect(":")
                return Stmt(.defaultLabel, at)
            case "break": _ = next(); try expect(";"); return Stmt(.breakStmt, at)
            case "continue": _ = next(); try expect(";"); return Stmt(.continueStmt, at)
            case "return":
                _ = next()
                if eat(";") { return Stmt(.returnStmt(nil), at) }
                let e = try parseExpression()
                try expect(";", "';' after return")
                return Stmt(.returnStmt(e), at)
            case "goto":
                _ = next()
                let l = try identifier("a label")
                try expect(";")
                return Stmt(.gotoStmt(l.text), at)
            default:
                if peek(1).isPunct(":") && !peek(2).isPunct(":") {
                    _ = next(); _ = next()
                    if cur.isPunct("}") { return Stmt(.label(t.text, Stmt(.empty, at)), at) }
                    return Stmt(.label(t.text, try parseStatement()), at)
                }
            }
        }
        let e = try parseExpression()
        try expect(";", "';' after the expression")
        return Stmt(.expression(e), at)
    }

    // MARK: expressions

    package mutating func parseExpression() throws -> Expr {
        let depth = nesting
        defer { nesting = depth }
        var e = try parseAssignment()
        while cur.isPunct(",") {
            try enter()
            let at = next().location
            e = Expr(.comma(e, try parseAssignment()), at)
        }
        return e
    }

    static let assignOps: Set<String> = ["=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>="]

    mutating func parseAssignment() throws -> Expr {
        let lhs = try parseConditional()
        if cur.kind == .punct, Parser.assignOps.contains(cur.text) {
            try enter(); defer { nesting -= 1 }
            let op = next()
            let rhs = try parseAssignment()
            return Expr(.assign(op.text == "=" ? nil : BinaryOp(spelling: String(op.text.dropLast())), lhs, rhs), op.location)
        }
        return lhs
    }

    mutating func parseConditional() throws -> Expr {
        let c = try parseBinary(0)
        if cur.isPunct("?") {
            try enter(); defer { nesting -= 1 }
            let at = next().location
            let a = try parseExpression()
            try expect(":", "':' in a conditional expression")
            let b = try parseConditional()
            return Expr(.ternary(c, a, b), at)
        }
        return c
    }

    mutating func parseBinary(_ minPrec: Int) throws -> Expr {
        let depth = nesting
        defer { nesting = depth }
        var l = try parseUnary()
        while cur.kind == .punct, let op = BinaryOp(spelling: cur.text), op.precedence > minPrec {
            try enter()         // a left-leaning chain nests as deeply as it is long
            let at = next().location
            let r = try parseBinary(op.precedence)
            l = Expr(.binary(op, l, r), at)
        }
        return l
    }

    func startsTypeName(_ k: Int) -> Bool {
        let t = peek(k)
        guard t.isIdentifier else { return false }
        if file.typedefs[t.text] != nil { return true }
        return ["int", "char", "short", "long", "unsigned", "signed", "void", "const", "volatile", "struct", "union", "enum"].contains(t.text)
    }

    mutating func parseTypeName() throws -> CType {
        let base = try parseSpecifiers()
        let (_, t) = try parseDeclarator(base, allowAbstract: true)
        return t
    }

    mutating func parseUnary() throws -> Expr {
        let t = cur
        if t.kind == .punct {
            switch t.text {
            case "-", "+", "!", "~", "*", "&":
                try enter(); defer { nesting -= 1 }     // an operand inside an operator
                _ = next()
                let e = try parseUnary()
                let ops: [String: UnaryOp] = ["-": .negate, "!": .logicalNot, "~": .bitNot, "*": .dereference, "&": .addressOf]
                return t.text == "+" ? e : Expr(.unary(ops[t.text]!, e), t.location)
            case "++", "--":
                try enter(); defer { nesting -= 1 }
                _ = next()
                return Expr(.unary(t.text == "++" ? .preIncrement : .preDecrement, try parseUnary()), t.location)
            case "(":
                if startsTypeName(1) {
                    try enter(); defer { nesting -= 1 }
                    _ = next()
                    let ty = try parseTypeName()
                    try expect(")", "')' after the type in a cast")
                    if cur.isPunct("{") { throw Diagnostic(Diagnostic.Message.unsupported("compound literals"), at: cur.location) }
                    return Expr(.cast(ty, try parseUnary()), t.location)
                }
            default: break
            }
        }
        if t.isIdent("sizeof") {
            try enter(); defer { nesting -= 1 }
            _ = next()
            if cur.isPunct("(") && startsTypeName(1) {
                _ = next()
                let ty = try parseTypeName()
                try expect(")")
                return Expr(.sizeofType(ty), t.location)
            }
            return Expr(.sizeofExpr(try parseUnary()), t.location)
        }
        return try parsePostfix()
    }

    mutating func parsePostfix() throws -> Expr {
        let depth = nesting
        defer { nesting = depth }
        var e = try parsePrimary()
        while true {
            try enter()
            let t = cur
            if t.isPunct("[") {
                _ = next()
                let i = try parseExpression()
                try expect("]")
                e = Expr(.index(e, i), t.location)
            } else if t.isPunct(".") || t.isPunct("->") {
                _ = next()
                let f = try identifier("a field name")
                e = Expr(.member(e, f.text, arrow: t.text == "->"), f.location)
            } else if t.isPunct("++") || t.isPunct("--") {
                _ = next()
                e = Expr(.postfix(t.text == "++" ? .postIncrement : .postDecrement, e), t.location)
            } else if t.isPunct("(") {
                guard case .name(let fname) = e.kind else {
                    throw Diagnostic(Diagnostic.Message.unsupported("calls through function pointers"), at: t.location)
                }
                _ = next()
                var args: [Expr] = []
                if !eat(")") {
                    while true {
                        if startsTypeName(0) && (peek(1).isPunct(")") || peek(1).isPunct(",") || peek(1).isPunct("*") || file.typedefs[cur.text] == nil) {
                            let at = cur.location
                            args.append(Expr(.typeArgument(try parseTypeName()), at))
                        } else {
                            args.append(try parseAssignment())
                        }
                        if eat(")") { break }
                        try expect(",", "',' or ')' in the argument list")
                    }
                }
                e = Expr(.call(fname, args), e.location)
            } else {
                return e
            }
        }
    }

    mutating func parsePrimary() throws -> Expr {
        let t = cur
        switch t.kind {
        case .integer(let v): _ = next(); return Expr(.integer(v), t.location)
        case .string:
            _ = next()
            var s = t.text
            while cur.kind == .string { s += next().text }
            return Expr(.string(s), t.location)
        case .identifier:
            _ = next()
            return Expr(.name(t.text), t.location)
        case .punct where t.text == "(":
            _ = next()
            try enter(); defer { nesting -= 1 }
            if cur.isPunct("{") { throw Diagnostic(Diagnostic.Message.unsupported("statement expressions"), at: cur.location) }
            let e = try parseExpression()
            try expect(")", "')'")
            return e
        default:
            throw Diagnostic(Diagnostic.Message.expected("an expression", found: t.quoted), at: t.location)
        }
    }

    // MARK: constants and sizes

    func sizeOf(_ t: CType) -> Int { Layout.size(of: t, structs: file.structs) }

    /// Where a constant expression first used a struct's size (an `__extend` after that would
    /// leave the constant stale, so it is an error).
    var sizeUsedAt: [Int: SourceLocation] = [:]

    mutating func noteSizeUse(_ t: CType, at: SourceLocation) {
        switch t {
        case .structure(let i): if sizeUsedAt[i] == nil { sizeUsedAt[i] = at }
        case .array(let e, _): noteSizeUse(e, at: at)
        case .named(_, let u): noteSizeUse(u, at: at)
        default: break
        }
    }

    /// Folds integer constant expressions (enum constants, sizeof, arithmetic): nil when `e` is
    /// not one; throws on division by zero, an overflowing division or a shift by 64 or more.
    /// Notes every struct whose size it used (see `sizeUsedAt`).
    mutating func constantValue(_ e: Expr) throws -> Int64? {
        let enums = file.enumConstants, structs = file.structs
        var used: [CType] = []
        let v = try ConstantFolder(name: { enums[$0] }, sizeOf: { used.append($0); return Layout.size(of: $0, structs: structs) }).value(e)
        for t in used { noteSizeUse(t, at: e.location) }
        return v
    }
}

/// Sizes in cells.
package enum Layout {
    /// The most cells one object (a global, a local, a struct) may have: what an address can
    /// reach (`Address.cellBits`), 4096. A bigger one would alias the next objects' addresses.
    package static let maxCells = 1 << Int(Address.cellBits)

    package static func size(of t: CType, structs: [StructDecl]) -> Int {
        switch t {
        case .void, .int, .pointer, .function: return 1
        case .array(let e, let n): return max(1, size(of: e, structs: structs) * max(n, 1))
        case .structure(let i): return structs[i].size
        case .named(_, let u): return size(of: u, structs: structs)
        }
    }
}

extension CType {
    static func fromWords(_ w: [String]) -> CType {
        if w == ["void"] { return .void }
        return .int(w.isEmpty ? "int" : w.joined(separator: " "))
    }
}
