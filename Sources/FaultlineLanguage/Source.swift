import Foundation

/// A source file as loaded: its path (as given by the user) and its text split into lines,
/// kept so that diagnostics and traces can quote the line they point at.
public final class SourceFile: Sendable {
    public let path: String
    public let text: String
    public let lines: [Substring]
    /// The `#include` that brought this file in (nil for the race file): diagnostics print the chain.
    public let includedFrom: SourceLocation?

    public init(path: String, text: String, includedFrom: SourceLocation? = nil) {
        self.path = path
        self.text = text
        self.includedFrom = includedFrom
        self.lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// The text of 1-based line `n`, without its newline (empty if out of range).
    public func line(_ n: Int) -> String {
        guard n >= 1 && n <= lines.count else { return "" }
        var s = String(lines[n - 1])
        if s.hasSuffix("\r") { s.removeLast() }
        return s
    }
}

/// A position in a source file: where a token, a statement or a diagnostic comes from.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: SourceFile?
    public var line: Int
    public var column: Int

    public init(file: SourceFile?, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public static let unknown = SourceLocation(file: nil, line: 0, column: 0)

    public var description: String {
        "\(file?.path ?? "<input>"):\(line):\(column)"
    }

    /// The quoted source line, trimmed of surrounding whitespace (for traces).
    public var sourceText: String {
        (file?.line(line) ?? "").trimmingCharacters(in: .whitespaces)
    }

    public static func == (a: SourceLocation, b: SourceLocation) -> Bool {
        a.file === b.file && a.line == b.line && a.column == b.column
    }

    public func hash(into h: inout Hasher) {
        h.combine(line)
        h.combine(column)
    }
}

