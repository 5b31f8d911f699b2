import FaultlineLanguage

/// What a race file says it should do, per configuration: read from `Expect:` lines (and the
/// herd7 `Result:` line, which is the default configuration's exists verdict).
///
///     Expect: - => sometimes use-after-free
///     Expect: -DFIX => never clean
///     Expect: -DCONFIG_SPECULATIVE_PAGE_FAULT -DFIX => clean
public struct Expectation: Sendable, Equatable {
    public enum Verdict: String, Sendable { case never, sometimes, always }
    public var defines: [Define]
    public var verdict: Verdict?
    /// nil: violations not stated; empty: `clean`.
    public var violations: Set<ViolationKind>?
    public var line: Int
    public var text: String

    /// The configuration as it is written on the command line (`-` for none).
    public var configuration: String { defines.isEmpty ? "-" : defines.map(\.description).joined(separator: " ") }
}

/// A line that says `Expect:` but cannot be read.
public struct ExpectationError: Error, Sendable {
    public var line: Int
    public var message: String
}

public enum Expectations {
    /// Reads every `Expect:` line, and the herd7 `Result:` line if there is no `Expect: -` line.
    public static func parse(_ text: String) -> (expectations: [Expectation], errors: [ExpectationError]) {
        var out: [Expectation] = []
        var errors: [ExpectationError] = []
        var result: (Expectation.Verdict, Int, String)? = nil
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.trimmingCharacters(in: .whitespaces)
            while line.hasPrefix("*") || line.hasPrefix("//") || line.hasPrefix("(*") {
                line = String(line.drop { $0 == "*" || $0 == "/" || $0 == "(" }).trimmingCharacters(in: .whitespaces)
            }
            if line.hasPrefix("Result:") {
                let w = line.dropFirst("Result:".count).trimmingCharacters(in: .whitespaces).split(separator: " ").first.map { $0.lowercased() } ?? ""
                if let v = Expectation.Verdict(rawValue: w), result == nil { result = (v, i + 1, line) }
                continue
            }
            guard line.hasPrefix("Expect:") else { continue }
            let body = line.dropFirst("Expect:".count).trimmingCharacters(in: .whitespaces)
            guard let arrow = body.range(of: "=>") else {
                errors.append(ExpectationError(line: i + 1, message: "expectation without '=>': \(line)")); continue
            }
            let config = body[..<arrow.lowerBound].trimmingCharacters(in: .whitespaces)
            var defines: [Define] = []
            if config != "-" && !config.isEmpty {
                var bad = false
                for w in config.split(separator: " ") {
                    guard w.hasPrefix("-D"), let d = Define(parsing: String(w)) else { bad = true; break }
                    defines.append(d)
                }
                if bad { errors.append(ExpectationError(line: i + 1, message: "configuration must be '-' or -DNAME[=VALUE] flags: \(config)")); continue }
            }
            var verdict: Expectation.Verdict? = nil
            var kinds: Set<ViolationKind>? = nil
            var bad: String? = nil
            for w in body[arrow.upperBound...].split(whereSeparator: { $0 == " " || $0 == "," }) {
                let word = String(w)
                if let v = Expectation.Verdict(rawValue: word) { verdict = v }
                else if word == "clean" { kinds = kinds ?? [] }
                else if let k = ViolationKind(rawValue: word) { kinds = (kinds ?? []).union([k]) }
                else { bad = word; break }
            }
            if let bad {
                errors.append(ExpectationError(line: i + 1, message: "unknown verdict or violation kind '\(bad)' (known: never, sometimes, always, clean, \(ViolationKind.allCases.map(\.rawValue).sorted().joined(separator: ", ")))"))
                continue
            }
            if verdict == nil && kinds == nil {
                errors.append(ExpectationError(line: i + 1, message: "expectation states nothing after '=>'")); continue
            }
            out.append(Expectation(defines: defines.sorted(), verdict: verdict, violations: kinds, line: i + 1, text: line))
        }
        if let (v, line, text) = result, !out.contains(where: { $0.defines.isEmpty }) {
            out.insert(Expectation(defines: [], verdict: v, violations: nil, line: line, text: text), at: 0)
        }
        return (out, errors)
    }
}
