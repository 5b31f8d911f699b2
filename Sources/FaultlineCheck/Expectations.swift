import FaultlineLanguage

/// The memory model a verdict is given under: the Linux-kernel memory model (herd7's
/// `linux-kernel.cfg`) or sequential consistency (every interleaving of the threads' steps).
package enum MemoryModel: String, Sendable, CaseIterable, Comparable {
    case lkmm, sc
    package static func < (a: MemoryModel, b: MemoryModel) -> Bool { a.rawValue < b.rawValue }
}

/// What one search observed, in the terms expectations are written in.
package struct Observation: Sendable {
    /// The claim's verdict; without a claim, how often an execution hits a violation.
    package var verdict: Expectation.Verdict?
    package var violations: Set<ViolationKind>
    /// Executions that reached a final state (herd7's positive + negative witnesses).
    package var finished: Int
    /// herd7 flags raised (`data-race`, ...), sorted.
    package var flags: [String]
    package var complete: Bool
    /// Why the search stopped early (nil when complete).
    package var stopReason: String?
    /// The claim's verdict is final although the search is incomplete (LKMM: the candidates that
    /// may satisfy the condition were all searched first).
    package var verdictDecided: Bool

    package init(verdict: Expectation.Verdict?, violations: Set<ViolationKind>, finished: Int, flags: [String] = [],
                complete: Bool, stopReason: String? = nil, verdictDecided: Bool = false) {
        self.verdict = verdict
        self.violations = violations
        self.finished = finished
        self.flags = flags
        self.complete = complete
        self.stopReason = stopReason
        self.verdictDecided = verdictDecided
    }

    /// herd7's data-race flag, or a data-race finding.
    package var dataRace: Bool { flags.contains("data-race") || violations.contains(.dataRace) }
}

/// What a race file says it should do, per configuration and memory model: read from `Expect:`
/// lines and herd7's `Result:` line (an LKMM expectation of the default configuration).
///
///     Expect: - => sometimes use-after-free
///     Expect: -DFIX => never clean
///     Expect: -DCONFIG_SPECULATIVE_PAGE_FAULT -DFIX => clean
///     Expect: - => lkmm sometimes
///     Expect: - => sc never
///      * Result: Sometimes DATARACE
package struct Expectation: Sendable, Equatable {
    package enum Verdict: String, Sendable { case never, sometimes, always }
    package var defines: [Define]
    /// nil: the model the run is under (`--model`, else SC). A `Result:` line is always LKMM.
    package var model: MemoryModel?
    package var verdict: Verdict?
    /// nil: violations not stated; empty: `clean`.
    package var violations: Set<ViolationKind>?
    /// herd7's `Result:` line as the kernel's `judgelitmus.sh` reads it: `DEADLOCK` (no execution
    /// reaches the end), `Maybe` (any verdict), `DATARACE` (the data-race flag must be raised;
    /// without it, it must not be), and a verdict mismatch forgiven when a data race is flagged.
    package var herdResult: HerdResult?
    package var location: SourceLocation
    package var text: String

    package enum HerdResult: Sendable, Equatable {
        case verdict(dataRace: Bool)
        case deadlock(dataRace: Bool)
        case maybe(dataRace: Bool)
        var dataRace: Bool {
            switch self { case .verdict(let d), .deadlock(let d), .maybe(let d): return d }
        }
    }

    package var line: Int { location.line }

    /// The configuration as it is written on the command line (`-` for none).
    package var configuration: String { defines.isEmpty ? "-" : defines.map(\.description).joined(separator: " ") }

    /// What is expected, as it reads in check's table (`sometimes`, `never clean`, `deadlock`...;
    /// the model is a column of its own).
    package var expected: String {
        var parts: [String] = []
        switch herdResult {
        case .deadlock(let d)?: parts.append("deadlock"); if d { parts.append("data-race") }
        case .maybe(let d)?: parts.append("maybe"); if d { parts.append("data-race") }
        case .verdict(let d)?: parts.append(verdict?.rawValue ?? "?"); if d { parts.append("data-race") }
        case nil: parts.append(Expectation.describe(verdict, violations))
        }
        return parts.joined(separator: " ")
    }

    static func describe(_ verdict: Verdict?, _ kinds: Set<ViolationKind>?) -> String {
        var parts: [String] = []
        if let v = verdict { parts.append(v.rawValue) }
        if let k = kinds { parts.append(k.isEmpty ? "clean" : k.map(\.rawValue).sorted().joined(separator: " ")) }
        return parts.joined(separator: " ")
    }

    /// The result of comparing an observation with the expectation.
    package struct Evaluation: Sendable {
        package var passed: Bool
        /// The observation in the expectation's terms (for the table).
        package var observed: String
        /// Why it failed (or what was forgiven); empty when it simply passed.
        package var detail: String
    }

    /// Whether a search may stop before it is complete: when expected violation kinds are named
    /// (and the verdict, if any, is `sometimes`). Clean, `never` and `always` expectations, and
    /// herd7 `Result:` lines, need the whole search.
    package var mayStopEarly: Bool {
        guard herdResult == nil, let wanted = violations else { return false }
        return !wanted.isEmpty && verdict != .always && verdict != .never
    }

    /// Whether a search may stop now: every expected violation kind has been seen (and a
    /// `sometimes` verdict is established).
    package func isSettled(by o: Observation) -> Bool {
        guard mayStopEarly, let wanted = violations else { return false }
        return wanted.isSubset(of: o.violations) && (verdict != .sometimes || o.verdict == .sometimes)
    }

    /// Compares what a search observed with this expectation. `settled`: the search was stopped
    /// early because `isSettled` said so (what was asked for has been seen).
    package func evaluate(_ o: Observation, settled: Bool = false) -> Evaluation {
        var detail: [String] = []
        // A verdict decided before a limit cut the search settles an expectation of a verdict alone
        // (herd7's Result: line, or an Expect: line without violation kinds); the final states and
        // flags are then those of the part searched.
        let decided = !o.complete && !settled && o.verdictDecided && o.finished > 0 && (herdResult != nil || violations == nil)
        var passed = o.complete || settled || decided
        if decided { detail.append("verdict decided; final states and flags partial (\(o.stopReason ?? "stopped"))") }
        else if !o.complete && !settled { detail.append("exploration incomplete (\(o.stopReason ?? "stopped"))") }
        if let herd = herdResult {
            let flagged = o.dataRace
            var observed = o.finished == 0 ? "deadlock" : (o.verdict?.rawValue ?? "-")
            if flagged { observed += " data-race" }
            if decided { observed += " (decided)" }
            if herd.dataRace && !flagged { passed = false; detail.append("predicted data race not flagged") }
            if !herd.dataRace && flagged { passed = false; detail.append("unexpected data race flagged") }
            switch herd {
            case .deadlock:
                if o.finished != 0 { passed = false; detail.append("expected no execution to reach the end (DEADLOCK), \(o.finished) did") }
            case .maybe:
                if o.finished == 0 { passed = false; detail.append("no execution reaches the end (an unexpected deadlock)") }
            case .verdict:
                if o.finished == 0 { passed = false; detail.append("no execution reaches the end (an unexpected deadlock)") }
                else if let v = verdict, v != o.verdict {
                    if flagged { detail.append("verdict \(o.verdict?.rawValue ?? "-") forgiven: a data race is flagged") }
                    else { passed = false; detail.append("expected \(v.rawValue), observed \(o.verdict?.rawValue ?? "-")") }
                }
            }
            return Evaluation(passed: passed, observed: observed, detail: detail.joined(separator: "; "))
        }
        let observed = Expectation.describe(verdict == nil ? nil : o.verdict, o.violations)
        if let v = verdict, v != o.verdict, !settled {
            passed = false
            detail.append("expected \(v.rawValue), observed \(o.verdict?.rawValue ?? "-")")
        }
        if let want = violations {
            // Stopped once every expected kind was seen: others may have been seen too.
            let missing = want.subtracting(o.violations), extra = settled ? [] : o.violations.subtracting(want)
            if !missing.isEmpty || !extra.isEmpty {
                passed = false
                if !missing.isEmpty { detail.append("missing: \(missing.map(\.rawValue).sorted().joined(separator: ", "))") }
                if !extra.isEmpty { detail.append("unexpected: \(extra.map(\.rawValue).sorted().joined(separator: ", "))") }
            }
        }
        return Evaluation(passed: passed, observed: observed.isEmpty ? "-" : observed, detail: detail.joined(separator: "; "))
    }
}

package enum Expectations {
    /// The expectations of a header: every `Expect:` line, and herd7's `Result:` line as the
    /// default configuration's LKMM expectation unless an `Expect: - => lkmm ...` line says otherwise.
    /// A word that is no verdict, model or violation kind is an error at that word.
    package static func read(_ header: LitmusHeader) -> (expectations: [Expectation], errors: [Diagnostic]) {
        var out: [Expectation] = []
        var errors = header.errors
        lines: for line in header.expectLines {
            var e = Expectation(defines: line.defines, model: nil, verdict: nil, violations: nil, herdResult: nil,
                                location: line.location, text: line.text)
            for (i, w) in line.words.enumerated() {
                if i == 0, let m = MemoryModel(rawValue: w.text) { e.model = m }
                else if let v = Expectation.Verdict(rawValue: w.text) { e.verdict = v }
                else if w.text == "clean" { e.violations = e.violations ?? [] }
                else if let k = ViolationKind(rawValue: w.text) { e.violations = (e.violations ?? []).union([k]) }
                else {
                    errors.append(Diagnostic("unknown verdict or violation kind '\(w.text)' (known: lkmm or sc first, then never, sometimes, always, clean, \(ViolationKind.allCases.map(\.rawValue).sorted().joined(separator: ", ")))", at: w.location))
                    continue lines
                }
            }
            if e.verdict == nil && e.violations == nil {
                errors.append(Diagnostic("expectation states nothing after '=>'", at: line.location)); continue
            }
            out.append(e)
        }
        if let r = header.result, !out.contains(where: { $0.defines.isEmpty && $0.model == .lkmm }) {
            let dataRace = r.words.dropFirst().contains { $0.text == "DATARACE" }
            let word = r.words.first?.text ?? ""
            var e = Expectation(defines: [], model: .lkmm, verdict: nil, violations: nil, herdResult: nil, location: r.location, text: r.text)
            switch word {
            case "DEADLOCK": e.herdResult = .deadlock(dataRace: dataRace)
            case "Maybe": e.herdResult = .maybe(dataRace: dataRace)
            default:
                if let v = Expectation.Verdict(rawValue: word.lowercased()) { e.verdict = v; e.herdResult = .verdict(dataRace: dataRace) }
            }
            // Another word (e.g. the corpus's one `Result: Flag srcu-bad-nesting`) states nothing the
            // kernel's scripts check either: no expectation.
            if e.herdResult != nil { out.insert(e, at: 0) }
        }
        return (out, errors.sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) })
    }
}
