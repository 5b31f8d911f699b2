import Foundation
import FaultlineLanguage
import FaultlineMachine
import FaultlineExplore

/// Faultline's JSON, version 1 (docs/json.md), as Codable types: `explore`, `replay` and `merge`
/// write `Report` and `merge` reads it back; `list` writes `ListEntry`, `check` writes `Check`.
/// One encoder with sorted keys, so the output is byte-identical run to run.
public enum Schema {
    public static let version = 1

    /// One line of JSON.
    public static func encode<T: Encodable>(_ value: T) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? e.encode(value) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from text: Substring) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    /// Why a line is not a report this faultline reads, naming the field (`parts.outcomes[0].count`).
    public struct ReadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads one line as a `Report`: first its `schema` (another version is refused before
    /// anything else is read), then the whole document. A wrong type, a missing field, an
    /// unknown stop reason or an integer out of range is a `ReadError` naming the field.
    public static func decodeReport(_ line: Substring) throws -> Report {
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
    public struct Location: Codable, Equatable, Sendable {
        public var file: String
        public var line: Int
        public var column: Int

        public init(file: String, line: Int, column: Int) { self.file = file; self.line = line; self.column = column }

        public init(_ l: SourceLocation) {
            file = l.file?.path ?? ""
            line = l.line
            column = l.column
        }
    }

    /// A final value: an integer, or the name of the global whose address it is.
    public enum Value: Codable, Equatable, Sendable {
        case int(Int64)
        case name(String)

        public init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let i = try? c.decode(Int64.self) { self = .int(i) } else { self = .name(try c.decode(String.self)) }
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .int(let i): try c.encode(i)
            case .name(let n): try c.encode(n)
            }
        }
    }

    /// One final state: the observed values by name, herd7's spelling of it, and how many
    /// executions ended in it.
    public struct Outcome: Codable, Sendable {
        public var values: [String: Value]
        public var state: String
        public var count: Int
    }

    /// The claim and its verdict. `kind` is `exists`, `~exists` or `forall`; the verdict counts
    /// the condition itself (as herd7's Observation line does).
    public struct Claim: Codable, Sendable {
        public var kind: String
        public var condition: String
        public var verdict: String
        public var satisfied: Int
        public var unsatisfied: Int
        /// An incomplete search only: whether the verdict stands whatever the rest of the search
        /// would find (LKMM searches the condition's candidates first).
        public var decided: Bool?
        public var location: Location
    }

    /// A function a step is in, and where in it.
    public struct Frame: Codable, Sendable {
        public var function: String
        public var location: Location
    }

    /// One step of a trace.
    public struct Step: Codable, Sendable {
        public var step: Int
        public var thread: Int
        /// Where the step is, and the location the text trace shows (a one-line helper's caller).
        public var location: Location
        public var shown: Location
        public var function: String
        /// Outermost first; the last is the step's own frame.
        public var stack: [Frame]
        public var source: String
        public var operation: String
        public var cell: String?
        public var value: String?
        public var before: String?
        public var effect: String
        /// The violation kind this step raised.
        public var violation: String?
        /// A check in local code after the thread's last visible step.
        public var local: Bool?
    }

    /// One violation: its kind and cause, the words, where, how often, its trace and replay.
    public struct Violation: Codable, Sendable {
        public var kind: String
        public var cause: String
        public var message: String
        public var location: Location?
        public var thread: Int?
        public var occurrences: Int
        public var steps: [Step]
        public var token: String
        public var replay: String
    }

    public struct ShardIndex: Codable, Sendable {
        public var index: Int
        public var count: Int
    }

    /// A violation as found by one shard: facts, representative schedule (before shrinking).
    public struct FoundViolation: Codable, Sendable {
        public var kind: String
        public var facts: ViolationFacts
        public var thread: Int
        /// An index into the program's locations (-1: none).
        public var location: Int
        public var schedule: [Int]
        public var seed: String?
        public var occurrences: Int
    }

    public struct FinalValues: Codable, Sendable {
        public var values: [Int64]
        public var count: Int
    }

    /// What a shard's report carries for `merge` (see `ShardData`).
    public struct Parts: Codable, Sendable {
        public var programHash: String
        public var maxSteps: Int
        public var leakCheck: Bool
        public var shrink: Bool
        public var includeDirs: [String]
        public var complete: Bool
        public var stopReason: StopReason?
        public var executions: Int
        public var pruned: Int
        public var filteredOut: Int
        public var claimSatisfied: Int
        public var claimViolated: Int
        public var violatedExecutions: Int
        public var steps: Int
        public var sleepBlocked: Int
        public var outcomes: [FinalValues]
        public var violations: [FoundViolation]

        enum CodingKeys: String, CodingKey {
            case programHash = "program_hash", maxSteps = "max_steps", leakCheck = "leak_check", shrink
            case includeDirs = "include_dirs", complete, stopReason = "stop_reason", executions, pruned
            case filteredOut = "filtered_out", claimSatisfied = "claim_satisfied", claimViolated = "claim_violated"
            case violatedExecutions = "violated_executions", steps, sleepBlocked = "sleep_blocked", outcomes, violations
        }
    }

    /// A report nested in another (another model's answer to the same file).
    public indirect enum Nested: Codable, Sendable {
        case report(Report)
        public var report: Report { switch self { case .report(let r): return r } }
        public init(from decoder: Decoder) throws { self = .report(try Report(from: decoder)) }
        public func encode(to encoder: Encoder) throws { try report.encode(to: encoder) }
    }

    /// The report of one file and configuration (`explore`, `replay`, `merge`).
    public struct Report: Codable, Sendable {
        public var schema: Int = Schema.version
        public var race: String
        public var file: String
        public var defines: [String]
        public var strategy: String
        /// The memory model the answer is under (`sc`, `lkmm`).
        public var model: String
        public var complete: Bool
        public var stopReason: StopReason?
        public var executions: Int
        public var pruned: Int
        public var distinctStates: Int?
        public var observed: [String]
        public var outcomes: [Outcome]
        public var claim: Claim?
        /// herd7 flags the search raised (LKMM: `data-race`, ...).
        public var flags: [String]?
        /// LKMM: the execution that shows the verdict (docs/lkmm.md).
        public var witness: JSON?
        public var violations: [Violation]
        public var shard: ShardIndex?
        public var parts: Parts?
        /// The other model's answer, when a file is answered under two, and what differs.
        public var lkmm: Nested?
        public var sc: Nested?
        public var difference: String?

        enum CodingKeys: String, CodingKey {
            case schema, race, file, defines, strategy, model, complete, stopReason = "stop_reason", executions, pruned
            case distinctStates = "distinct_states", observed, outcomes, claim, flags, witness, violations, shard, parts, lkmm, sc, difference
        }
    }

    /// `faultline list --format json`: one per file.
    public struct ListEntry: Codable, Sendable {
        public struct Configuration: Codable, Sendable {
            public var configuration: String
            public var defines: [String]
            /// The model the expectation is under, when it names one.
            public var model: String?
            public var expected: String
            public init(configuration: String, defines: [String], model: String?, expected: String) {
                self.configuration = configuration; self.defines = defines; self.model = model; self.expected = expected
            }
        }
        public struct Problem: Codable, Sendable {
            public var line: Int
            public var message: String
            public init(line: Int, message: String) { self.line = line; self.message = message }
        }
        public var schema: Int = Schema.version
        public var file: String
        public var race: String
        public var configurations: [Configuration]
        public var errors: [Problem]
        public init(file: String, race: String, configurations: [Configuration], errors: [Problem]) {
            self.file = file; self.race = race; self.configurations = configurations; self.errors = errors
        }
    }

    /// `faultline check --format json`: every race × configuration against its expectation.
    public struct Check: Codable, Sendable {
        public struct Result: Codable, Sendable {
            public var file: String
            public var race: String
            public var configuration: String
            public var model: String
            public var expected: String
            public var observed: String
            public var passed: Bool
            public var executions: Int
            public var stoppedEarly: Bool
            public var detail: String
            public var violations: [Violation]

            enum CodingKeys: String, CodingKey {
                case file, race, configuration, model, expected, observed, passed, executions, stoppedEarly = "stopped_early", detail, violations
            }
            public init(file: String, race: String, configuration: String, model: String, expected: String, observed: String, passed: Bool,
                        executions: Int, stoppedEarly: Bool, detail: String, violations: [Violation]) {
                self.file = file; self.race = race; self.configuration = configuration; self.model = model; self.expected = expected
                self.observed = observed; self.passed = passed; self.executions = executions; self.stoppedEarly = stoppedEarly
                self.detail = detail; self.violations = violations
            }
        }
        public var schema: Int = Schema.version
        public var results: [Result]
        public var passed: Int
        public var failed: Int
        public init(results: [Result], passed: Int, failed: Int) { self.results = results; self.passed = passed; self.failed = failed }
    }
}
