import Foundation

/// A source file as loaded: its path (as given by the user) and its text split into lines,
/// kept so that diagnostics and traces can quote the line they point at.
package final class SourceFile: Sendable {
    package let path: String
    package let text: String
    package let lines: [Substring]
    /// The `#include` that brought this file in (nil for the race file): diagnostics print the chain.
    package let includedFrom: SourceLocation?

    package init(path: String, text: String, includedFrom: SourceLocation? = nil) {
        self.path = path
        self.text = text
        self.includedFrom = includedFrom
        self.lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// The text of 1-based line `n`, without its newline (empty if out of range).
    package func line(_ n: Int) -> String {
        guard n >= 1 && n <= lines.count else { return "" }
        var s = String(lines[n - 1])
        if s.hasSuffix("\r") { s.removeLast() }
        return s
    }
}

/// A position in a source file: where a token, a statement or a diagnostic comes from.
package struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    package var file: SourceFile?
    package var line: Int
    package var column: Int

    package init(file: SourceFile?, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    package static let unknown = SourceLocation(file: nil, line: 0, column: 0)

    package var description: String {
        "\(file?.path ?? "<input>"):\(line):\(column)"
    }

    /// The quoted source line, trimmed of surrounding whitespace (for traces).
    package var sourceText: String {
        (file?.line(line) ?? "").trimmingCharacters(in: .whitespaces)
    }

    package static func == (a: SourceLocation, b: SourceLocation) -> Bool {
        a.file === b.file && a.line == b.line && a.column == b.column
    }

    package func hash(into h: inout Hasher) {
        h.combine(line)
        h.combine(column)
    }
}

