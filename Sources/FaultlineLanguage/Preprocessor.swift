import Foundation

/// A `-D NAME[=VALUE]` from the command line or a configuration line.
package struct Define: Hashable, Sendable, Comparable, CustomStringConvertible {
    package var name: String
    package var value: String?
    package init(name: String, value: String? = nil) { self.name = name; self.value = value }

    /// Parses `NAME` or `NAME=VALUE` (a leading `-D` is accepted and dropped).
    package init?(parsing text: String) {
        var t = Substring(text)
        if t.hasPrefix("-D") { t = t.dropFirst(2) }
        guard !t.isEmpty else { return nil }
        if let eq = t.firstIndex(of: "=") {
            name = String(t[..<eq]); value = String(t[t.index(after: eq)...])
        } else { name = String(t); value = nil }
        guard let f = name.utf8.first, isIdentStart(f), name.utf8.allSatisfy(isIdentChar) else { return nil }
    }
    package var description: String { value.map { "-D\(name)=\($0)" } ?? "-D\(name)" }
    package static func < (a: Define, b: Define) -> Bool { a.description < b.description }
}

/// The output of preprocessing: the token stream the parser reads, and every file that went
/// into it (the main file first).
package struct PreprocessedSource {
    package var tokens: [Token]
    package var files: [SourceFile]
    /// A stable 64-bit hash of the preprocessed program (token spellings), used by replay
    /// tokens to refuse a schedule recorded against another version of the program.
    package var programHash: UInt64
    /// The first directive of the race file itself (not of its includes).
    package var firstDirective: SourceLocation?
}

/// Reads files from disk (or from memory in tests).
package protocol SourceLoader {
    func load(path: String) -> String?
}

/// Loads files from the file system: regular files only (a FIFO or a device would block or
/// never end), at most `maxBytes`.
package struct FileSystemLoader: SourceLoader {
    package static let maxBytes = 64 << 20
    package init() {}
    package func load(path: String) -> String? {
        guard FileSystemLoader.unreadable(path) == nil, let d = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: d, as: UTF8.self)
    }

    /// Why `path` cannot be read as a source file ("No such file or directory", "is a directory",
    /// "Permission denied", ...), or nil when it can.
    package static func unreadable(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return String(cString: strerror(errno)) }
        if st.st_mode & S_IFMT == S_IFDIR { return "is a directory" }
        if st.st_mode & S_IFMT != S_IFREG { return "not a regular file" }
        if st.st_size > maxBytes { return "larger than \(maxBytes >> 20) MB" }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        close(fd)
        return nil
    }
}

/// The C preprocessor subset of the race language: `#include "x"`, object- and function-like
/// `#define` (with `#` and `##`), `#undef`, `#ifdef/#ifndef/#if/#elif/#else/#endif` with
/// `defined(X)` and integer expressions, `#error`, `#pragma once`. Works on tokens, so
/// every token keeps the file, line and column it came from.
package struct Preprocessor {
    struct Macro {
        var params: [String]?
        var variadic: Bool
        var body: [Token]
    }

    package let includeDirs: [String]
    let loader: SourceLoader
    var macros: [String: Macro] = [:]
    var files: [SourceFile] = []
    var onceFiles: Set<String> = []
    var includeStack: [String] = []
    var firstDirective: SourceLocation?
    /// Include guards: the macro a file's opening `#ifndef` tests, and where (the first file
    /// that opened with it). A second, different file opening with the same guard would be
    /// skipped without a word — two copies of `mm.h`, one silently losing — so it is an error.
    var guardOwners: [String: (path: String, location: SourceLocation)] = [:]
    /// Files read so far, counting each `#include` again (a diamond of includes without
    /// `#pragma once` doubles at every level).
    var includes = 0
    var emitted = 0
    /// When preprocessing must give up (`monotonicSeconds`; nil: never), checked every 1024 expansions.
    package var deadline: Double? = nil
    var expansions = 0

    /// Size limits that keep the front end's time and memory bounded on any input.
    package static let maxIncludes = 10_000
    package static let maxTokens = 500_000

    package init(includeDirs: [String], loader: SourceLoader = FileSystemLoader(), defines: [Define]) throws {
        self.includeDirs = includeDirs
        self.loader = loader
        for d in defines {
            let f = SourceFile(path: "<command line>", text: d.value ?? "1")
            var lx = Lexer(file: f, litmusHeader: false)
            var toks = try lx.tokenize()
            toks.removeLast()
            macros[d.name] = Macro(params: nil, variadic: false, body: toks)
        }
    }

    /// Preprocesses the file at `path` (the race file; its first line may be a herd7 header).
    package mutating func run(path: String) throws -> PreprocessedSource {
        guard let text = loader.load(path: path) else {
            throw Diagnostic("cannot read file '\(path)': \(FileSystemLoader.unreadable(path) ?? "unreadable")", at: .unknown)
        }
        return try run(file: SourceFile(path: path, text: text))
    }

    package mutating func run(file: SourceFile) throws -> PreprocessedSource {
        var out: [Token] = []
        try process(file: file, into: &out, litmusHeader: true)
        out.append(Token(kind: .endOfFile, text: "", location: out.last?.location ?? SourceLocation(file: file, line: 1, column: 1), lineStart: true, spaceBefore: true))
        var h = StableHasher()
        for t in out { h.combine(t.text); h.combine(UInt8(0)) }
        return PreprocessedSource(tokens: out, files: files, programHash: h.value, firstDirective: firstDirective)
    }

    mutating func process(file: SourceFile, into out: inout [Token], litmusHeader: Bool) throws {
        files.append(file)
        includeStack.append(file.path)
        defer { includeStack.removeLast() }
        var lexer = Lexer(file: file, litmusHeader: litmusHeader)
        let toks = try lexer.tokenize()
        var i = 0
        // Conditional stack: (active now, some branch already taken, parent active, saw #else)
        var conds: [(active: Bool, taken: Bool, parent: Bool, sawElse: Bool, loc: SourceLocation)] = []
        var active: Bool { conds.last?.active ?? true }
        var pending: [Token] = []   // text tokens awaiting macro expansion

        func lineTokens(from start: Int) -> (tokens: [Token], next: Int) {
            var j = start
            var r: [Token] = []
            while j < toks.count, toks[j].kind != .endOfFile, !toks[j].lineStart { r.append(toks[j]); j += 1 }
            return (r, j)
        }

        while i < toks.count, toks[i].kind != .endOfFile {
            let t = toks[i]
            let opensFile = i == 0     // an `#ifndef` here is the file's include guard
            if t.lineStart && t.isPunct("#") {
                // A directive: flush pending text first so macro definitions apply in order.
                try expand(&pending, into: &out)
                let (line, next) = lineTokens(from: i + 1)
                i = next
                guard let d = line.first else { continue } // null directive
                if includeStack.count == 1 && firstDirective == nil { firstDirective = t.location }
                let args = Array(line.dropFirst())
                switch d.text {
                case "ifdef", "ifndef":
                    guard let n = args.first, n.isIdentifier else { throw Diagnostic("expected a macro name after #\(d.text)", at: d.location) }
                    // `#ifndef G` + `#define G` opening a file: its include guard.
                    if d.text == "ifndef", opensFile, next + 2 < toks.count, toks[next].isPunct("#"),
                       toks[next + 1].isIdent("define"), toks[next + 2].text == n.text {
                        try checkIncludeGuard(n, file: file)
                    }
                    let isDef = macros[n.text] != nil
                    let cond = d.text == "ifdef" ? isDef : !isDef
                    conds.append((active && cond, cond, active, false, d.location))
                case "if":
                    let cond = active ? try evaluateCondition(args, at: d.location) : false
                    conds.append((active && cond, cond, active, false, d.location))
                case "elif":
                    guard let c = conds.last else { throw Diagnostic("#elif without #if", at: d.location) }
                    if c.sawElse { throw Diagnostic("#elif after #else", at: d.location) }
                    let cond = (c.parent && !c.taken) ? try evaluateCondition(args, at: d.location) : false
                    conds[conds.count - 1] = (c.parent && !c.taken && cond, c.taken || cond, c.parent, false, c.loc)
                case "else":
                    guard let c = conds.last else { throw Diagnostic("#else without #if", at: d.location) }
                    if c.sawElse { throw Diagnostic("#else after #else", at: d.location) }
                    conds[conds.count - 1] = (c.parent && !c.taken, true, c.parent, true, c.loc)
                case "endif":
                    if conds.isEmpty { throw Diagnostic("#endif without #if", at: d.location) }
                    conds.removeLast()
                default:
                    guard active else { continue }
                    try directive(d, args, file: file, into: &out)
                }
                continue
            }
            if active { pending.append(t) }
            i += 1
        }
        if let c = conds.last { throw Diagnostic("unterminated conditional directive", at: c.loc) }
        try expand(&pending, into: &out)
    }

    /// The file's first directive is `#ifndef GUARD`: claims the guard for this file, or fails
    /// when another file (by canonical path) already claimed it.
    mutating func checkIncludeGuard(_ name: Token, file: SourceFile) throws {
        let canon = Preprocessor.canonicalPath(file.path)
        guard let owner = guardOwners[name.text] else {
            guardOwners[name.text] = (canon, name.location)
            return
        }
        if owner.path != canon {
            throw Diagnostic("include guard '\(name.text)' of '\(file.path)' is already the guard of '\(owner.location.file?.path ?? owner.path)'", at: name.location,
                             notes: ["two different files with one guard: the second would be skipped silently (a copied header?); give it its own guard, or extend the model with __weak/__override/__extend instead of copying"],
                             related: [("the other file's guard is here", owner.location)])
        }
    }

    /// A file's identity for include guards and `#pragma once`: the path with `.`/`..` and
    /// symbolic links resolved.
    static func canonicalPath(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return ((absolute as NSString).standardizingPath as NSString).resolvingSymlinksInPath
    }

    mutating func directive(_ d: Token, _ args: [Token], file: SourceFile, into out: inout [Token]) throws {
        switch d.text {
        case "define":
            guard let n = args.first, n.isIdentifier else { throw Diagnostic("expected a macro name after #define", at: d.location) }
            var rest = Array(args.dropFirst())
            var params: [String]? = nil
            var variadic = false
            if let p = rest.first, p.isPunct("("), !p.spaceBefore {
                var ps: [String] = []
                var j = 1
                while j < rest.count, !rest[j].isPunct(")") {
                    if rest[j].isIdentifier { ps.append(rest[j].text) }
                    else if rest[j].isPunct("...") { variadic = true; ps.append("__VA_ARGS__") }
                    else if !rest[j].isPunct(",") { throw Diagnostic("malformed macro parameter list", at: rest[j].location) }
                    j += 1
                }
                if j >= rest.count { throw Diagnostic("missing ')' in macro parameter list", at: p.location) }
                params = ps
                rest = Array(rest[(j + 1)...])
            }
            macros[n.text] = Macro(params: params, variadic: variadic, body: rest)
        case "undef":
            guard let n = args.first, n.isIdentifier else { throw Diagnostic("expected a macro name after #undef", at: d.location) }
            macros[n.text] = nil
        case "include":
            guard let n = args.first else { throw Diagnostic("expected \"file\" after #include", at: d.location) }
            var name: String
            if n.kind == .string { name = n.text }
            else if n.isPunct("<") {
                name = args.dropFirst().prefix { !$0.isPunct(">") }.map(\.text).joined()
            } else { throw Diagnostic("expected \"file\" after #include", at: n.location) }
            if includeStack.count > 32 { throw Diagnostic("#include nested too deeply", at: d.location) }
            // The race file's includes look next to it first; a header's look next to it last, so
            // that a header found earlier in the search (-I, the race's include/) overrides it.
            // Only files under the search directories: a diagnostic quotes the file it is in.
            if name.hasPrefix("/") || name.split(separator: "/").contains("..") || name.isEmpty {
                throw Diagnostic("#include \"\(name)\": include names must be relative paths without '..'", at: n.location)
            }
            includes += 1
            if includes > Preprocessor.maxIncludes {
                throw Diagnostic("more than \(Preprocessor.maxIncludes) #include files read (an include diamond without #pragma once?)", at: d.location)
            }
            let dir = (file.path as NSString).deletingLastPathComponent
            let own = dir.isEmpty ? name : dir + "/" + name
            var candidates = includeDirs.map { $0 + "/" + name }
            if includeStack.count == 1 { candidates.insert(own, at: 0) } else { candidates.append(own) }
            var seen = Set<String>()
            candidates = candidates.filter { seen.insert(($0 as NSString).standardizingPath).inserted }
            var found: (String, String)? = nil
            for c in candidates { if let text = loader.load(path: c) { found = (c, text); break } }
            guard let (path, text) = found else {
                throw Diagnostic(Diagnostic.Message.includeNotFound(name), at: n.location,
                                 notes: ["searched: " + candidates.joined(separator: ", ")])
            }
            let canon = Preprocessor.canonicalPath(path)
            if onceFiles.contains(canon) { return }
            if includeStack.contains(path) { throw Diagnostic("#include of '\(name)' includes itself", at: n.location) }
            let f = SourceFile(path: path, text: text, includedFrom: n.location)
            if text.contains("#pragma once") { onceFiles.insert(canon) }
            try process(file: f, into: &out, litmusHeader: false)
        case "error":
            throw Diagnostic("#error " + args.map(\.text).joined(separator: " "), at: d.location)
        case "warning", "pragma", "line":
            return
        default:
            throw Diagnostic("unknown preprocessor directive '#\(d.text)'", at: d.location)
        }
    }

    // MARK: macro expansion

    /// Expands macros in `input` (consumed) and appends the result to `out`.
    mutating func expand(_ input: inout [Token], into out: inout [Token]) throws {
        if input.isEmpty { return }
        var result: [Token] = []
        try expandList(input, into: &result, depth: 0)
        emitted += result.count
        if emitted > Preprocessor.maxTokens { throw Preprocessor.tooLarge(at: result.last?.location ?? .unknown) }
        out.append(contentsOf: result)
        input.removeAll(keepingCapacity: true)
    }

    static func tooLarge(at loc: SourceLocation) -> Diagnostic {
        Diagnostic("the program is larger than \(maxTokens) tokens after macro expansion", at: loc)
    }

    mutating func expandList(_ input: [Token], into out: inout [Token], depth: Int) throws {
        if depth > 200 { throw Diagnostic("macro expansion too deep", at: input.first?.location ?? .unknown) }
        var queue = input
        var i = 0
        while i < queue.count {
            if i >= 4096 && i * 2 >= queue.count { queue.removeFirst(i); i = 0 }     // drop what is done
            if queue.count + out.count > Preprocessor.maxTokens { throw Preprocessor.tooLarge(at: queue[i].location) }
            let t = queue[i]
            guard t.isIdentifier, let m = macros[t.text], !t.hideSet.contains(t.text) else {
                // At the top level a token is final: its hide set is no longer needed.
                if depth == 0 && !t.hideSet.isEmpty { var x = t; x.hideSet = []; out.append(x) } else { out.append(t) }
                i += 1; continue
            }
            expansions += 1
            if expansions & 1023 == 0, let deadline, monotonicSeconds() > deadline {
                throw Diagnostic("preprocessing ran out of time (--timeout): the program's macros expand to too much", at: t.location)
            }
            if let params = m.params {
                // Function-like: needs a following '('.
                guard i + 1 < queue.count, queue[i + 1].isPunct("(") else { out.append(t); i += 1; continue }
                var args: [[Token]] = [[]]
                var j = i + 2
                var nest = 0
                while j < queue.count {
                    let a = queue[j]
                    if a.kind == .endOfFile { break }
                    if a.isPunct("(") { nest += 1 }
                    if a.isPunct(")") { if nest == 0 { break }; nest -= 1 }
                    if a.isPunct(","), nest == 0, !(m.variadic && args.count == params.count) { args.append([]) }
                    else { args[args.count - 1].append(a) }
                    j += 1
                }
                if j >= queue.count || !queue[j].isPunct(")") {
                    throw Diagnostic("unterminated invocation of macro '\(t.text)'", at: t.location)
                }
                if params.isEmpty && args.count == 1 && args[0].isEmpty { args = [] }
                if args.count != params.count {
                    if !(m.variadic && args.count == params.count - 1) {
                        throw Diagnostic("macro '\(t.text)' takes \(params.count) argument(s), \(args.count) given", at: t.location)
                    }
                    args.append([])
                }
                var expandedArgs: [[Token]] = []
                for a in args { var e: [Token] = []; try expandList(a, into: &e, depth: depth + 1); expandedArgs.append(e) }
                var body: [Token] = []
                var k = 0
                while k < m.body.count {
                    let b = m.body[k]
                    if b.isPunct("#"), k + 1 < m.body.count, let pi = params.firstIndex(of: m.body[k + 1].text) {
                        let s = args[pi].map(\.text).joined(separator: " ")
                        body.append(Token(kind: .string, text: s, location: t.location, lineStart: false, spaceBefore: true))
                        k += 2; continue
                    }
                    if b.isIdentifier, let pi = params.firstIndex(of: b.text) {
                        let pasteNext = k + 1 < m.body.count && m.body[k + 1].isPunct("##")
                        let pastePrev = k > 0 && m.body[k - 1].isPunct("##")
                        body.append(contentsOf: (pasteNext || pastePrev) ? args[pi] : expandedArgs[pi])
                    } else { body.append(b) }
                    k += 1
                }
                let pasted = try paste(body, at: t.location)
                let hideSet = t.hideSet + [t.text]      // one array shared by every token of the expansion
                let replaced = pasted.map { var x = $0; x.location = t.location; x.hideSet = hideSet; x.lineStart = false; return x }
                queue.replaceSubrange(i...j, with: replaced)
            } else {
                let pasted = try paste(m.body, at: t.location)
                let hideSet = t.hideSet + [t.text]
                let replaced = pasted.map { var x = $0; x.location = t.location; x.hideSet = hideSet; x.lineStart = false; return x }
                queue.replaceSubrange(i...i, with: replaced)
            }
        }
    }

    func paste(_ body: [Token], at loc: SourceLocation) throws -> [Token] {
        guard body.contains(where: { $0.isPunct("##") }) else { return body }
        var out: [Token] = []
        var k = 0
        while k < body.count {
            if body[k].isPunct("##"), !out.isEmpty, k + 1 < body.count {
                let l = out.removeLast()
                let text = l.text + body[k + 1].text
                let f = SourceFile(path: "<paste>", text: text)
                var lx = Lexer(file: f, litmusHeader: false)
                var toks = try lx.tokenize()
                toks.removeLast()
                guard toks.count == 1 else { throw Diagnostic("pasting '\(l.text)' and '\(body[k + 1].text)' does not give one token", at: loc) }
                var nt = toks[0]; nt.location = l.location; nt.spaceBefore = l.spaceBefore
                out.append(nt)
                k += 2
            } else { out.append(body[k]); k += 1 }
        }
        return out
    }

    // MARK: #if expressions

    mutating func evaluateCondition(_ toks: [Token], at loc: SourceLocation) throws -> Bool {
        // Replace defined(X) / defined X first, then expand macros, then identifiers → 0.
        var pre: [Token] = []
        var i = 0
        while i < toks.count {
            let t = toks[i]
            if t.isIdent("defined") {
                var name: Token?
                if i + 1 < toks.count, toks[i + 1].isPunct("(") {
                    if i + 3 < toks.count, toks[i + 3].isPunct(")") { name = toks[i + 2]; i += 4 } else { throw Diagnostic("malformed defined()", at: t.location) }
                } else if i + 1 < toks.count { name = toks[i + 1]; i += 2 } else { throw Diagnostic("malformed defined", at: t.location) }
                let v: Int64 = macros[name!.text] != nil ? 1 : 0
                pre.append(Token(kind: .integer(v), text: String(v), location: t.location, lineStart: false, spaceBefore: true))
                continue
            }
            pre.append(t); i += 1
        }
        var expanded: [Token] = []
        try expandList(pre, into: &expanded, depth: 0)
        var p = ConditionParser(toks: expanded, loc: loc)
        let v = try p.parseTernary()
        if p.i < p.toks.count { throw Diagnostic("unexpected '\(p.toks[p.i].text)' in #if expression", at: p.toks[p.i].location) }
        return v != 0
    }

    /// `#if` expressions: C's operators with the language's integer semantics (`BinaryOp.apply`);
    /// a fault (division by zero, an overflowing division, a shift by 64 or more) is an error
    /// unless `&&`, `||` or `?:` leave that operand unevaluated, as in C.
    struct ConditionParser {
        var toks: [Token]
        var loc: SourceLocation
        var i = 0
        /// Operators and parentheses open around the current position (bounded by `maxNesting`).
        var nesting = 0
        /// False inside an operand that `&&`, `||` or `?:` do not evaluate: faults are ignored.
        var evaluated = true
        mutating func peek() -> Token? { i < toks.count ? toks[i] : nil }
        mutating func eat(_ p: String) -> Bool { if let t = peek(), t.isPunct(p) { i += 1; return true }; return false }
        mutating func enter(_ at: SourceLocation) throws {
            nesting += 1
            if nesting > Parser.maxNesting { throw Parser.tooDeep(at) }
        }
        mutating func parseTernary() throws -> Int64 {
            let c = try parseBinary(0)
            if let q = peek(), q.isPunct("?") {
                i += 1
                try enter(q.location); defer { nesting -= 1 }
                let outer = evaluated
                evaluated = outer && c != 0
                let a = try parseTernary()
                guard eat(":") else { throw Diagnostic("expected ':' in #if expression", at: peek()?.location ?? loc) }
                evaluated = outer && c == 0
                let b = try parseTernary()
                evaluated = outer
                return c != 0 ? a : b
            }
            return c
        }
        mutating func parseBinary(_ minPrec: Int) throws -> Int64 {
            var l = try parseUnary()
            while let t = peek(), t.kind == .punct, let op = BinaryOp(spelling: t.text), op.precedence > minPrec {
                i += 1
                let outer = evaluated
                if op == .logicalAnd && l == 0 || op == .logicalOr && l != 0 { evaluated = false }
                let r = try parseBinary(op.precedence)
                evaluated = outer
                let (v, fault) = op.apply(l, r)
                if let fault, evaluated { throw Diagnostic(fault.message(op, l, r, in: "#if expression"), at: t.location) }
                l = v
            }
            return l
        }
        mutating func parseUnary() throws -> Int64 {
            guard let t = peek() else { throw Diagnostic("expected an expression in #if", at: loc) }
            i += 1
            let ops: [String: UnaryOp] = ["!": .logicalNot, "-": .negate, "~": .bitNot]
            switch t.kind {
            case .integer(let v): return v
            case .identifier: return 0
            case .punct where t.text == "+":
                try enter(t.location); defer { nesting -= 1 }
                return try parseUnary()
            case .punct where ops[t.text] != nil:
                try enter(t.location); defer { nesting -= 1 }
                return ops[t.text]!.apply(try parseUnary())!
            case .punct where t.text == "(":
                try enter(t.location); defer { nesting -= 1 }
                let v = try parseTernary()
                guard eat(")") else { throw Diagnostic("expected ')' in #if expression", at: peek()?.location ?? t.location) }
                return v
            default: throw Diagnostic("unexpected '\(t.text)' in #if expression", at: t.location)
            }
        }
    }
}

/// FNV-1a, 64-bit: a hash that is the same on every machine and every run (unlike `Hasher`).
package struct StableHasher {
    package private(set) var value: UInt64 = 0xcbf29ce484222325
    package init() {}
    @inline(__always) package mutating func combine(_ b: UInt8) {
        value ^= UInt64(b)
        value = value &* 0x100000001b3
    }
    package mutating func combine(_ s: String) { for b in s.utf8 { combine(b) } }
    @inline(__always) package mutating func combine(_ v: UInt64) {
        var x = v
        for _ in 0..<8 { combine(UInt8(truncatingIfNeeded: x)); x >>= 8 }
    }
    @inline(__always) package mutating func combine(_ v: Int64) { combine(UInt64(bitPattern: v)) }
}
