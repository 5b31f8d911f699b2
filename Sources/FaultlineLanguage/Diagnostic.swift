/// An error in a race file or on the command line, as a value: where it is, what is wrong, and
/// how to render it with the source line and a caret. Every front-end failure is one of these;
/// the CLI prints it and exits with code 2.
package struct Diagnostic: Error, Sendable, CustomStringConvertible {
    package var location: SourceLocation
    package var message: String
    /// Extra lines printed after the caret (e.g. "included from ...").
    package var notes: [String]
    /// Other places the error involves (e.g. the first of two colliding definitions), each
    /// rendered like the error itself: `file:line:col: note: ...`, the line and a caret.
    package var related: [(message: String, location: SourceLocation)]

    package init(_ message: String, at location: SourceLocation, notes: [String] = [],
                related: [(message: String, location: SourceLocation)] = []) {
        self.message = message
        self.location = location
        self.notes = notes
        self.related = related
    }

    /// Message catalogue: the front end's messages, alphabetised, so wording stays consistent.
    package enum Message {
        static func expected(_ what: String, found: String) -> String { "expected \(what), found \(found)" }
        static func includeNotFound(_ name: String) -> String { "cannot find include file '\(name)'" }
        static func previousDefinition() -> String { "the other definition is here" }
        static func redefinition(_ name: String) -> String { "redefinition of '\(name)'" }
        static func unknownIdentifier(_ name: String) -> String { "use of undeclared identifier '\(name)'" }
        static func unknownType(_ name: String) -> String { "unknown type '\(name)'" }
        static func unsupported(_ what: String) -> String { "unsupported: \(what)" }
    }

    /// The candidate closest to `name` by edit distance, if it is close enough to be a typo
    /// (at most one edit per three characters, at least one); ties go to the alphabetically first.
    package static func closest<S: Sequence>(to name: String, among candidates: S) -> String? where S.Element == String {
        let a = Array(name.unicodeScalars)
        let limit = max(1, a.count / 3)
        var best: (Int, String)? = nil
        for c in candidates where c != name && !c.hasPrefix("__") {
            let b = Array(c.unicodeScalars)
            if abs(a.count - b.count) > limit { continue }
            var row = Array(0...b.count)
            for i in 1...max(1, a.count) where !a.isEmpty {
                var prev = row[0]; row[0] = i
                for j in stride(from: 1, through: b.count, by: 1) {
                    let cur = row[j]
                    row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                    prev = cur
                }
            }
            let d = a.isEmpty ? b.count : row[b.count]
            if d <= limit, best == nil || d < best!.0 || (d == best!.0 && c < best!.1) { best = (d, c) }
        }
        return best?.1
    }

    /// `file:line:col: error: message`, the source line, and a caret under the column.
    package var rendered: String {
        var out = Diagnostic.quote(location, "error", message)
        for n in notes { out += "note: \(n)\n" }
        for r in related { out += Diagnostic.quote(r.location, "note", r.message) }
        return out
    }

    static func quote(_ location: SourceLocation, _ severity: String, _ message: String) -> String {
        // Not in any file (e.g. a file that cannot be read): no position to show.
        var out = location.file == nil && location.line == 0 ? "faultline: \(severity): \(message)\n" : "\(location): \(severity): \(message)\n"
        if let file = location.file, location.line > 0 {
            let text = file.line(location.line)
            out += text + "\n"
            var caret = ""
            var col = 1
            for ch in text {
                if col >= location.column { break }
                caret.append(ch == "\t" ? "\t" : " ")
                col += 1
            }
            out += caret + "^\n"
        }
        var from = location.file?.includedFrom
        var depth = 0
        while let f = from, depth < 64 {
            out += "note: included from \(f)\n"
            from = f.file?.includedFrom
            depth += 1
        }
        return out
    }

    package var description: String { rendered }
}
