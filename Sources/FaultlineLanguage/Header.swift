import Foundation

/// What a race file says about itself in its header, read once from the raw text (before
/// preprocessing: the configurations its `Expect:` lines name are what select the `-D` flags):
/// the test name (`C name`), the `Expect:` lines, herd7's `Result:` line and herd7's `Key=value`
/// metadata lines. Check turns the lines into expectations; here they are only split into words,
/// each with its place in the file so that a bad word gets a caret.
package struct LitmusHeader: Sendable {
    /// The name on the `C name` first line ("" when there is none).
    package var name: String
    package var expectLines: [ExpectLine] = []
    /// The first herd7 `Result:` line (the kernel's scripts read only the first).
    package var result: ResultLine?
    /// herd7 metadata before the init block (`Cycle=...`, `Relax=...`), in file order.
    package var keys: [(key: String, value: String)] = []
    /// `Expect:` lines that cannot be split into a configuration and words.
    package var errors: [Diagnostic] = []

    /// One word of an expectation line and where it is.
    package struct Word: Sendable, Equatable {
        package var text: String
        package var location: SourceLocation
    }

    /// `Expect: CONFIGURATION => WORDS`: the configuration's defines and the words after `=>`.
    package struct ExpectLine: Sendable {
        package var defines: [Define]
        package var words: [Word]
        package var location: SourceLocation
        /// The line as written, without comment markers.
        package var text: String
    }

    /// `Result: Never|Sometimes|Always|DEADLOCK|Maybe [DATARACE]`: the words after `Result:`.
    package struct ResultLine: Sendable {
        package var words: [Word]
        package var location: SourceLocation
        package var text: String
    }

    /// Reads the header of `file`.
    package static func read(_ file: SourceFile) -> LitmusHeader {
        var header = LitmusHeader(name: "")
        var sawInit = false
        var sawFirst = false
        for (i, raw) in file.lines.enumerated() {
            let lineNo = i + 1
            var line = String(raw)
            if line.hasSuffix("\r") { line.removeLast() }
            // herd7's first non-blank line: `C name` (the lexer skips it as the test header).
            if !sawFirst {
                let t = line.trimmingCharacters(in: .whitespaces)
                if t.isEmpty { continue }
                sawFirst = true
                if t == "C" || t.hasPrefix("C ") || t.hasPrefix("C\t") {
                    header.name = t.dropFirst().trimmingCharacters(in: .whitespaces)
                    continue
                }
            }
            // Column (1-based) of the first character of `rest`, a suffix of `line`.
            func column(_ rest: Substring) -> Int { line.distance(from: line.startIndex, to: rest.startIndex) + 1 }
            var rest = Substring(line)
            while let c = rest.first, c == " " || c == "\t" { rest = rest.dropFirst() }
            if !sawInit, rest.first == "{" { sawInit = true }
            if !sawInit, let eq = rest.firstIndex(of: "="), rest.first?.isLetter == true,
               rest[..<eq].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                header.keys.append((String(rest[..<eq]), rest[rest.index(after: eq)...].trimmingCharacters(in: .whitespaces)))
                continue
            }
            // Comment markers before the keyword: ` * `, `(* `, `// `.
            while let c = rest.first, c == "*" || c == "/" || c == "(" || c == " " || c == "\t" { rest = rest.dropFirst() }
            func words(_ s: Substring) -> [Word] {
                var out: [Word] = []
                var w = s.startIndex
                while w < s.endIndex {
                    if s[w] == " " || s[w] == "\t" || s[w] == "," { w = s.index(after: w); continue }
                    var e = w
                    while e < s.endIndex, s[e] != " ", s[e] != "\t", s[e] != "," { e = s.index(after: e) }
                    let text = String(s[w..<e])
                    if text == "*)" || text == "*/" { break }
                    out.append(Word(text: text, location: SourceLocation(file: file, line: lineNo, column: column(s[w...]))))
                    w = e
                }
                return out
            }
            let at = SourceLocation(file: file, line: lineNo, column: column(rest))
            if rest.hasPrefix("Result:") {
                if header.result == nil {
                    header.result = ResultLine(words: words(rest.dropFirst("Result:".count)), location: at, text: String(rest))
                }
                continue
            }
            guard rest.hasPrefix("Expect:") else { continue }
            let body = rest.dropFirst("Expect:".count)
            guard let arrow = body.range(of: "=>") else {
                header.errors.append(Diagnostic("expectation without '=>': \(rest)", at: at)); continue
            }
            var defines: [Define] = []
            var bad: Word? = nil
            for w in words(body[..<arrow.lowerBound]) where w.text != "-" {
                guard w.text.hasPrefix("-D"), let d = Define(parsing: w.text) else { bad = w; break }
                defines.append(d)
            }
            if let bad {
                header.errors.append(Diagnostic("configuration must be '-' or -DNAME[=VALUE] flags, found '\(bad.text)'", at: bad.location)); continue
            }
            header.expectLines.append(ExpectLine(defines: defines.sorted(), words: words(body[arrow.upperBound...]), location: at, text: String(rest)))
        }
        return header
    }
}

extension Frontend {
    /// Reads the header of the race file at `path` (nil when it cannot be read).
    package static func header(path: String, loader: SourceLoader = FileSystemLoader()) -> LitmusHeader? {
        loader.load(path: path).map { LitmusHeader.read(SourceFile(path: path, text: $0)) }
    }
}
