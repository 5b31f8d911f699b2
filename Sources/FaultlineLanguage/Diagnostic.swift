/// An error in a race file or on the command line, as a value: where it is, what is wrong, and
/// how to render it with the source line and a caret. Every front-end failure is one of these;
/// the CLI prints it and exits with code 2.
public struct Diagnostic: Error, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String
    /// Extra lines printed after the caret (e.g. "included from ...").
    public var notes: [String]

    public init(_ message: String, at location: SourceLocation, notes: [String] = []) {
        self.message = message
        self.location = location
        self.notes = notes
    }

    /// Message catalogue: the front end's messages, alphabetised, so wording stays consistent.
    public enum Message {
        static func expected(_ what: String, found: String) -> String { "expected \(what), found \(found)" }
        static func includeNotFound(_ name: String) -> String { "cannot find include file '\(name)'" }
        static func redefinition(_ name: String) -> String { "redefinition of '\(name)'" }
        static func unknownIdentifier(_ name: String) -> String { "use of undeclared identifier '\(name)'" }
        static func unknownType(_ name: String) -> String { "unknown type '\(name)'" }
        static func unsupported(_ what: String) -> String { "unsupported: \(what)" }
    }

    /// `file:line:col: error: message`, the source line, and a caret under the column.
    public var rendered: String {
        // Not in any file (e.g. a file that cannot be read): no position to show.
        var out = location.file == nil && location.line == 0 ? "faultline: error: \(message)\n" : "\(location): error: \(message)\n"
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
        for n in notes { out += "note: \(n)\n" }
        return out
    }

    public var description: String { rendered }
}
