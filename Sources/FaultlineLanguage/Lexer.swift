/// The kind of a lexical token. Punctuators keep their spelling in `Token.text`.
package enum TokenKind: Equatable, Sendable {
    case identifier
    case integer(Int64)
    case string
    case character
    case punct
    /// The herd7 first line (`C name`): `text` holds the test name.
    case testHeader
    case endOfFile
}

/// One token with where it came from; `lineStart` marks the first token on a line (for
/// preprocessor directives), `expandedFrom` the macro use it came out of, if any.
package struct Token: Sendable, CustomStringConvertible {
    package var kind: TokenKind
    package var text: String
    package var location: SourceLocation
    package var lineStart: Bool
    package var spaceBefore: Bool
    /// Macros this token came out of (they are not expanded again inside it).
    package var hideSet: [String] = []

    package var description: String { text }

    package func isPunct(_ p: String) -> Bool { kind == .punct && text == p }
    package func isIdent(_ s: String) -> Bool { kind == .identifier && text == s }
    package var isIdentifier: Bool { kind == .identifier }

    /// How a token reads in "expected X, found Y".
    package var quoted: String {
        switch kind {
        case .endOfFile: return "end of file"
        case .string: return "string literal"
        default: return "'\(text)'"
        }
    }
}

/// Turns the text of one file into tokens. Understands C tokens, `//` and `/* */` comments,
/// line continuations, and the herd7 specifics: the `C name` first line, OCaml `(* *)` comments
/// at top level (never inside braces or parentheses, where `(*p)` is C), `/\` and `\/`.
package struct Lexer {
    private let file: SourceFile
    private let bytes: [UInt8]
    private var i = 0
    private var line = 1
    private var col = 1
    private var depth = 0
    private var atLineStart = true
    private var sawSpace = false
    private var inDirective = false
    private let litmusHeader: Bool

    /// `litmusHeader`: treat a first line `C name` as the herd7 test header.
    package init(file: SourceFile, litmusHeader: Bool) {
        self.file = file
        self.bytes = Array(file.text.utf8)
        self.litmusHeader = litmusHeader
    }

    private static let puncts3: [String] = ["<<=", ">>=", "...", "->*"]
    private static let puncts2: [String] = ["->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||",
                                            "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "##", "/\\", "\\/"]

    private func peek(_ k: Int = 0) -> UInt8 { i + k < bytes.count ? bytes[i + k] : 0 }

    private mutating func advance() {
        guard i < bytes.count else { return }      // at the end: a character literal `'\` can end the input
        if bytes[i] == UInt8(ascii: "\n") { line += 1; col = 1; atLineStart = true; inDirective = false } else { col += 1 }
        i += 1
    }

    private func loc() -> SourceLocation { SourceLocation(file: file, line: line, column: col) }

    package mutating func tokenize() throws -> [Token] {
        var out: [Token] = []
        if litmusHeader {
            // herd7: first non-blank line is `ARCH name`; only C is accepted.
            while i < bytes.count, bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "\n") || bytes[i] == UInt8(ascii: "\t") || bytes[i] == UInt8(ascii: "\r") { advance() }
            let start = loc()
            var lineText = ""
            var j = i
            while j < bytes.count, bytes[j] != UInt8(ascii: "\n") { j += 1 }
            lineText = String(decoding: bytes[i..<j], as: UTF8.self).trimmingCharacters(in: .whitespaces)
            if lineText.hasPrefix("C ") || lineText == "C" || lineText.hasPrefix("C\t") {
                let name = String(lineText.dropFirst(1)).trimmingCharacters(in: .whitespaces)
                out.append(Token(kind: .testHeader, text: name, location: start, lineStart: true, spaceBefore: false))
                while i < j { advance() }
            } else if !lineText.hasPrefix("#") && !lineText.isEmpty {
                let first = lineText.split(separator: " ").first.map(String.init) ?? lineText
                let archs = ["AArch64", "ARM", "X86", "X86_64", "PPC", "MIPS", "RISCV", "LISA", "BPF"]
                if archs.contains(first) {
                    throw Diagnostic("unsupported: \(first) litmus tests (only C tests are understood)", at: start)
                }
            }
        }
        while true {
            try skipTrivia()
            if i >= bytes.count { break }
            let start = loc()
            let ls = atLineStart
            let sp = sawSpace
            atLineStart = false
            sawSpace = false
            let c = peek()
            func make(_ k: TokenKind, _ t: String) -> Token { Token(kind: k, text: t, location: start, lineStart: ls, spaceBefore: sp) }
            if isIdentStart(c) {
                let s = i
                while isIdentChar(peek()) { advance() }
                out.append(make(.identifier, String(decoding: bytes[s..<i], as: UTF8.self)))
            } else if isDigit(c) {
                out.append(try number(start: start, ls: ls, sp: sp))
            } else if c == UInt8(ascii: "\"") {
                advance()
                var s: [UInt8] = []
                while i < bytes.count, peek() != UInt8(ascii: "\"") {
                    if peek() == UInt8(ascii: "\\"), i + 1 < bytes.count { advance() }
                    s.append(peek()); advance()
                }
                if i >= bytes.count { throw Diagnostic("unterminated string literal", at: start) }
                advance()
                out.append(make(.string, String(decoding: s, as: UTF8.self)))
            } else if c == UInt8(ascii: "'") {
                advance()
                var v: Int64 = 0
                if peek() == UInt8(ascii: "\\") {
                    advance()
                    let e = peek(); advance()
                    switch e {
                    case UInt8(ascii: "n"): v = 10
                    case UInt8(ascii: "t"): v = 9
                    case UInt8(ascii: "0"): v = 0
                    default: v = Int64(e)
                    }
                } else if i < bytes.count { v = Int64(peek()); advance() }
                if peek() != UInt8(ascii: "'") { throw Diagnostic("unterminated character literal", at: start) }
                advance()
                out.append(Token(kind: .integer(v), text: String(v), location: start, lineStart: ls, spaceBefore: sp))
            } else {
                var matched: String? = nil
                for p in Lexer.puncts3 where matches(p) { matched = p; break }
                if matched == nil { for p in Lexer.puncts2 where matches(p) { matched = p; break } }
                if let m = matched {
                    for _ in 0..<m.utf8.count { advance() }
                    out.append(make(.punct, m))
                } else {
                    let ch = Character(Unicode.Scalar(c))
                    if "{}()[];,.:?~!%^&*-+=<>|/#\\@$`".contains(ch) {
                        if ch == "#" && ls { inDirective = true }
                        advance()
                        if ch == "{" || ch == "(" || ch == "[" { depth += 1 }
                        if ch == "}" || ch == ")" || ch == "]" { depth = max(0, depth - 1) }
                        out.append(make(.punct, String(ch)))
                    } else if c >= 0x80 {
                        // Non-ASCII (e.g. in herd metadata lines): one opaque token per UTF-8 sequence.
                        let s = i
                        advance()
                        while i < bytes.count, peek() & 0xC0 == 0x80 { advance() }
                        out.append(make(.punct, String(decoding: bytes[s..<i], as: UTF8.self)))
                    } else {
                        throw Diagnostic("unexpected character '\(ch)'", at: start)
                    }
                }
            }
        }
        out.append(Token(kind: .endOfFile, text: "", location: loc(), lineStart: true, spaceBefore: true))
        return out
    }

    private func matches(_ p: String) -> Bool {
        var k = 0
        for b in p.utf8 { if peek(k) != b { return false }; k += 1 }
        return true
    }

    private mutating func skipTrivia() throws {
        while i < bytes.count {
            let c = peek()
            if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") || c == 0x0C {
                advance(); sawSpace = true
            } else if c == UInt8(ascii: "\n") {
                advance(); sawSpace = true
            } else if c == UInt8(ascii: "\\") && (peek(1) == UInt8(ascii: "\n") || (peek(1) == UInt8(ascii: "\r") && peek(2) == UInt8(ascii: "\n"))) {
                // Line continuation: the next line continues this one.
                let keep = atLineStart, keepDirective = inDirective
                advance(); if peek() == UInt8(ascii: "\r") { advance() }; advance()
                atLineStart = keep
                inDirective = keepDirective
                sawSpace = true
            } else if c == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "/") {
                while i < bytes.count && peek() != UInt8(ascii: "\n") { advance() }
            } else if c == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "*") {
                let start = loc()
                let keep = atLineStart
                advance(); advance()
                while i < bytes.count && !(peek() == UInt8(ascii: "*") && peek(1) == UInt8(ascii: "/")) { advance() }
                if i >= bytes.count { throw Diagnostic("unterminated comment", at: start) }
                advance(); advance()
                if !keep { atLineStart = false } else { atLineStart = true }
                sawSpace = true
            } else if c == UInt8(ascii: "(") && peek(1) == UInt8(ascii: "*") && !inDirective && peek(2) != UInt8(ascii: ")")
                        && (depth == 0 || peek(2) == UInt8(ascii: " ") || peek(2) == UInt8(ascii: "\n") || peek(2) == UInt8(ascii: "\t") || peek(2) == UInt8(ascii: "*")) {
                // `(* ` inside braces is still a herd7 comment (e.g. in the init block); `(*p)` is C.
                // herd7 / OCaml comment, nested, only at top level.
                let start = loc()
                var nest = 0
                repeat {
                    if peek() == UInt8(ascii: "(") && peek(1) == UInt8(ascii: "*") { nest += 1; advance(); advance() }
                    else if peek() == UInt8(ascii: "*") && peek(1) == UInt8(ascii: ")") { nest -= 1; advance(); advance() }
                    else { advance() }
                } while nest > 0 && i < bytes.count
                if nest > 0 { throw Diagnostic("unterminated (* comment", at: start) }
                sawSpace = true
            } else {
                return
            }
        }
    }

    private mutating func number(start: SourceLocation, ls: Bool, sp: Bool) throws -> Token {
        let s = i
        var value: UInt64 = 0
        var overflow = false
        if peek() == UInt8(ascii: "0") && (peek(1) == UInt8(ascii: "x") || peek(1) == UInt8(ascii: "X")) {
            advance(); advance()
            var any = false
            while let d = hexValue(peek()) {
                let (m, o1) = value.multipliedReportingOverflow(by: 16)
                let (a, o2) = m.addingReportingOverflow(UInt64(d))
                overflow = overflow || o1 || o2
                value = a; any = true; advance()
            }
            if !any { throw Diagnostic("malformed hexadecimal literal", at: start) }
        } else if peek() == UInt8(ascii: "0") && (peek(1) == UInt8(ascii: "b") || peek(1) == UInt8(ascii: "B")) {
            advance(); advance()
            while peek() == UInt8(ascii: "0") || peek() == UInt8(ascii: "1") {
                value = value &* 2 &+ UInt64(peek() - UInt8(ascii: "0")); advance()
            }
        } else {
            let octal = peek() == UInt8(ascii: "0")
            while isDigit(peek()) {
                let (m, o1) = value.multipliedReportingOverflow(by: octal ? 8 : 10)
                let (a, o2) = m.addingReportingOverflow(UInt64(peek() - UInt8(ascii: "0")))
                overflow = overflow || o1 || o2
                value = a; advance()
            }
        }
        while peek() == UInt8(ascii: "u") || peek() == UInt8(ascii: "U") || peek() == UInt8(ascii: "l") || peek() == UInt8(ascii: "L") { advance() }
        if isIdentChar(peek()) { throw Diagnostic("malformed number literal", at: start) }
        if overflow { throw Diagnostic("integer literal is too large", at: start) }
        return Token(kind: .integer(Int64(bitPattern: value)), text: String(decoding: bytes[s..<i], as: UTF8.self), location: start, lineStart: ls, spaceBefore: sp)
    }
}

@inline(__always) func isIdentStart(_ c: UInt8) -> Bool {
    (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || c == UInt8(ascii: "_")
}
@inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
@inline(__always) func isIdentChar(_ c: UInt8) -> Bool { isIdentStart(c) || isDigit(c) }
@inline(__always) func hexValue(_ c: UInt8) -> Int? {
    if isDigit(c) { return Int(c - UInt8(ascii: "0")) }
    if c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f") { return Int(c - UInt8(ascii: "a")) + 10 }
    if c >= UInt8(ascii: "A") && c <= UInt8(ascii: "F") { return Int(c - UInt8(ascii: "A")) + 10 }
    return nil
}
