import Foundation
import FaultlineLanguage
import FaultlineMachine
import FaultlineExplore

/// Faultline's JSON, version 1 (docs/json.md), as Codable types: `explore`, `replay` and `merge`
/// write `Report` and `merge` reads it back; `list` writes `ListEntry`, `check` writes `Check`.
/// One encoder with sorted keys, so the output is byte-identical run to run.
package enum Schema {
    package static let version = 1

    /// One line of JSON.
    package static func encode<T: Encodable>(_ value: T) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? e.encode(value) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    package static func decode<T: Decodable>(_ type: T.Type, from text: Substring) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    /// Why a line is not a report this faultline reads, naming the field (`parts.outcomes[0].count`).
    package struct ReadError: Error, CustomStringConvertible {
        package var description: String
    }

    /// Reads one line as a `Report`: first its `schema` (another version is refused before
    /// anything else is read), then the whole document. A wrong type, a missing field, an
    /// unknown stop reason or an integer out of range is a `ReadError` naming the field.
    package static func decodeReport(_ line: Substring) throws -> Report {
        struct Version: Decodable { var schema: Int? }
        let version: Version
        do { version = try decode(Version.self, from: line) } catch { throw ReadError(description: explain(error)) }
        guard let v = version.schema else {
            throw ReadError(description: "field 'schema': missing (a report of JSON schema \(Schema.version) has it; written by an older faultline?)")
        }
        guard v == Schema.version else { throw ReadError(description: "field 'schema': \(v); this faultline reads schema \(Schema.version)") }
        do { return try decode(Report.self, from: line) } catch { throw ReadError(description: explain(error)) }
    }

    /// A decoding error in words: the field's path and what is wrong with it.
    static func explain(_ error: Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        func path(_ keys: [CodingKey]) -> String {
            keys.reduce("") { p, k in k.intValue.map { p + "[\($0)]" } ?? (p.isEmpty ? k.stringValue : p + "." + k.stringValue) }
        }
        switch e {
        case .keyNotFound(let key, let c): return "field '\(path(c.codingPath + [key]))': missing"
        case .typeMismatch(let type, let c): return "field '\(path(c.codingPath))': not \(describe(type))"
        case .valueNotFound(let type, let c): return "field '\(path(c.codingPath))': null, expected \(describe(type))"
        case .dataCorrupted(let c):
            // Foundation says this also of a number too large for its field, with no path.
            if c.codingPath.isEmpty { return "not valid JSON (or a number out of range)" }
            if c.debugDescription.contains("does not fit") || c.debugDescription.contains("not representable") {
                return "field '\(path(c.codingPath))': out of range"
            }
            return "field '\(path(c.codingPath))': not a valid value (\(c.debugDescription))"
        @unknown default: return "\(error)"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int32.Type, is Int64.Type, is Int16.Type: return "an integer"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        default:
            let name = "\(type)"
            return name.hasPrefix("Array") ? "a list" : name.hasPrefix("Dictionary") ? "an object" : "a \(name)"
        }
    }

    /// A place in a source file.
    package struct Location: Codable, Equatable, Sendable {
        package var file: String
        package var line: Int
        package var column: Int

        package init(file: String, line: Int, column: Int) { self.file = file; self.line = line; self.column = column }

        package init(_ l: SourceLocation) {
            file = l.file?.path ?? ""
            line = l.line
            column = l.column
        }
    }

    /// A final value: an integer, or the name of the global whose address it is.
    package enum Value: Codable, Equatable, Sendable {
        case int(Int64)
        case name(String)

        package init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let i = try? c.decode(Int64.self) { self = .int(i) } else { self = .name(try c.decode(String.self)) }
        }

        package func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .int(let i): try c.encode(i)
            case .name(let n): try c.encode(n)
            }
        }
    }

    /// One final state: the observed values by name, herd7's spelling of it, and how many
    /// executions ended in it.
    package struct Outcome: Codable, Sendable {
        package var values: [String: Value]
        package var state: String
        package var count: Int
    }

    /// The claim and its verdict. `kind` is `exists`, `~exists` or `forall`; the verdict counts
    /// the condition itself (as herd7's Observation line does).
    package struct Claim: Codable, Sendable {
        package var kind: String
        package var condition: String
        package var verdict: String
        package var satisfied: Int
        package var unsatisfied: Int
        /// An incomplete search only: whether the verdict stands whatever the rest of the search
        /// would find (LKMM searches the condition's candidates first).
        package var decided: Bool?
        package var location: Location
    }

    /// A function a step is in, and where in it.
    package struct Frame: Codable, Sendable {
        package var function: String
        package var location: Location
    }

    /// One step of a trace.
    package struct Step: Codable, Sendable {
        package var step: Int
        package var thread: Int
        /// Where the step is, and the location the text trace shows (a one-line helper's caller).
        package var location: Location
        package var shown: Location
        package var function: String
        /// Outermost first; the last is the step's own frame.
        package var stack: [Frame]
        package var source: String
        package var operation: String
        package var cell: String?
        package var value: String?
        package var before: String?
        package var effect: String
        /// The violation kind this step raised.
        package var violation: String?
        /// A check in local code after the thread's last visible step.
        package var local: Bool?
    }

    /// One violation: its kind and cause, the words, where, how often, its trace and replay.
    package struct Violation: Codable, Sendable {
        package var kind: String
        package var cause: String
        package var message: String
        package var location: Location?
        package var thread: Int?
        package var occurrences: Int
        package var steps: [Step]
        package var token: String
        package var replay: String
    }

    package struct ShardIndex: Codable, Sendable {
        package var index: Int
        package var count: Int
    }

    /// A violation as found by one shard: facts, representative schedule (before shrinking).
    package struct FoundViolation: Codable, Sendable {
        package var kind: String
        package var facts: ViolationFacts
        package var thread: Int
        /// An index into the program's locations (-1: none).
        package var location: Int
        package var schedule: [Int]
        package var seed: String?
        package var occurrences: Int
    }

    package struct FinalValues: Codable, Sendable {
        package var values: [Int64]
        package var count: Int
    }

    /// What a shard's report carries for `merge` (see `ShardData`).
    package struct Parts: Codable, Sendable {
        package var programHash: String
        package var maxSteps: Int
        package var leakCheck: Bool
        package var shrink: Bool
        package var includeDirs: [String]
        package var complete: Bool
        package var stopReason: StopReason?
        package var executions: Int
        package var pruned: Int
        package var filteredOut: Int
        package var claimSatisfied: Int
        package var claimViolated: Int
        package var violatedExecutions: Int
        package var steps: Int
        package var sleepBlocked: Int
        package var outcomes: [FinalValues]
        package var violations: [FoundViolation]

        enum CodingKeys: String, CodingKey {
            case programHash = "program_hash", maxSteps = "max_steps", leakCheck = "leak_check", shrink
            case includeDirs = "include_dirs", complete, stopReason = "stop_reason", executions, pruned
            case filteredOut = "filtered_out", claimSatisfied = "claim_satisfied", claimViolated = "claim_violated"
            case violatedExecutions = "violated_executions", steps, sleepBlocked = "sleep_blocked", outcomes, violations
        }
    }

    /// A report nested in another (another model's answer to the same file).
    package indirect enum Nested: Codable, Sendable {
        case report(Report)
        package var report: Report { switch self { case .report(let r): return r } }
        package init(from decoder: Decoder) throws { self = .report(try Report(from: decoder)) }
        package func encode(to encoder: Encoder) throws { try report.encode(to: encoder) }
    }

    /// The report of one file and configuration (`explore`, `replay`, `merge`).
    package struct Report: Codable, Sendable {
        package var schema: Int = Schema.version
        package var race: String
        package var file: String
        package var defines: [String]
        package var strategy: String
        /// The memory model the answer is under (`sc`, `lkmm`).
        package var model: String
        package var complete: Bool
        package var stopReason: StopReason?
        package var executions: Int
        package var pruned: Int
        package var distinctStates: Int?
        package var observed: [String]
        package var outcomes: [Outcome]
        /// Final states found but not listed in `outcomes` (the first are), and why: `size` (a
        /// report lists at most `RunReport.maxListedValues` values) or `timeout` (an incomplete
        /// run's deadline passed while the report was written).
        package var unlistedOutcomes: Int? = nil
        package var listingCut: String? = nil
        package var claim: Claim?
        /// herd7 flags the search raised (LKMM: `data-race`, ...).
        package var flags: [String]?
        /// LKMM: the execution that shows the verdict (docs/lkmm.md).
        package var witness: JSON?
        package var violations: [Violation]
        package var shard: ShardIndex?
        package var parts: Parts?
        /// The other model's answer, when a file is answered under two, and what differs.
        package var lkmm: Nested?
        package var sc: Nested?
        package var difference: String?

        enum CodingKeys: String, CodingKey {
            case schema, race, file, defines, strategy, model, complete, stopReason = "stop_reason", executions, pruned
            case distinctStates = "distinct_states", observed, outcomes, unlistedOutcomes = "unlisted_outcomes", listingCut = "listing_cut"
            case claim, flags, witness, violations, shard, parts, lkmm, sc, difference
        }
    }

    /// `faultline list --format json`: one per file.
    package struct ListEntry: Codable, Sendable {
        package struct Configuration: Codable, Sendable {
            package var configuration: String
            package var defines: [String]
            /// The model the expectation is under, when it names one.
            package var model: String?
            package var expected: String
            package init(configuration: String, defines: [String], model: String?, expected: String) {
                self.configuration = configuration; self.defines = defines; self.model = model; self.expected = expected
            }
        }
        package struct Problem: Codable, Sendable {
            package var line: Int
            package var message: String
            package init(line: Int, message: String) { self.line = line; self.message = message }
        }
        package var schema: Int = Schema.version
        package var file: String
        package var race: String
        package var configurations: [Configuration]
        package var errors: [Problem]
        package init(file: String, race: String, configurations: [Configuration], errors: [Problem]) {
            self.file = file; self.race = race; self.configurations = configurations; self.errors = errors
        }
    }

    /// `faultline check --format json`: every race × configuration against its expectation.
    package struct Check: Codable, Sendable {
        package struct Result: Codable, Sendable {
            package var file: String
            package var race: String
            package var configuration: String
            package var model: String
            package var expected: String
            package var observed: String
            package var passed: Bool
            package var executions: Int
            package var stoppedEarly: Bool
            package var detail: String
            package var violations: [Violation]

            enum CodingKeys: String, CodingKey {
                case file, race, configuration, model, expected, observed, passed, executions, stoppedEarly = "stopped_early", detail, violations
            }
            package init(file: String, race: String, configuration: String, model: String, expected: String, observed: String, passed: Bool,
                        executions: Int, stoppedEarly: Bool, detail: String, violations: [Violation]) {
                self.file = file; self.race = race; self.configuration = configuration; self.model = model; self.expected = expected
                self.observed = observed; self.passed = passed; self.executions = executions; self.stoppedEarly = stoppedEarly
                self.detail = detail; self.violations = violations
            }
        }
        package var schema: Int = Schema.version
        package var results: [Result]
        package var passed: Int
        package var failed: Int
        package init(results: [Result], passed: Int, failed: Int) { self.results = results; self.passed = passed; self.failed = failed }
    }
}
