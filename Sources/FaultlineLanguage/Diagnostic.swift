/// An error in a race file or on the command line, as a value: where it is, what is wrong, and
/// how to render it with the source line and a caret. Every front-end failure is one of these;
/// the CLI prints it and exits with code 2.
public struct Diagnostic: Error, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String
    /// Extra lines printed after the caret (e.g. "included from ...").
    public var notes: [String]
    /// Other places the error involves (e.g. the first of two colliding definitions), each
    /// rendered like the error itself: `file:line:col: note: ...`, the line and a caret.
    public var related: [(message: String, location: SourceLocation)]

    public init(_ message: String, at location: SourceLocation, notes: [String] = [],
                related: [(message: String, location: SourceLocation)] = []) {
        self.message = message
        self.location = location
        self.notes = notes
        self.related = related
    }

    /// Message catalogue: the front end's messages, alphabetised, so wording stays consistent.
    public enum Message {
        static func expected(_ what: String, found: String) -> String { "expected \(what), found \(found)" }
        static func includeNotFound(_ name: String) -> String { "cannot find include file '\(name)'" }
        static func previousDefinition() -> String { "the other definition is here" }
        static func redefinition(_ name: String) -> String { "redefinition of '\(name)'" }
        static func unknownIdentifier(_ name: String) -> String { "use of undeclared identifier '\(name)'" }
        static func unknownType(_ name: String) -> String { "unknown type '\(name)'" }
        static func unsupported(_ what: String) -> String { "unsupported: \(what)" }
    }

    /// `file:line:col: error: message`, the source line, and a caret under the column.
    public var rendered: String {
        var out = Diagnostic.quote(location, "error", message)
        for n in notes { out += "note: \(n)\n" }
        for r in related { out += Diagnostic.quote(r.location, "note", r.message) }
        return out
    }

    static func quote(_ location: SourceLocation, _ severity: String, _ message: String) -> String {
        var out = "\(location): \(severity): \(message)\n"
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
        return out
    }

    public var description: String { rendered }
}
