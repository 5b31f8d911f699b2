import FaultlineLanguage
import FaultlineMachine

/// SARIF 2.1.0 for code scanning (`faultline check --sarif FILE`): one result per expectation
/// mismatch (on the race file's `Expect:` line) and per violation (on its source line), each
/// violation with a code flow of one thread flow per CPU carrying its steps, so the
/// interleaving shows on the source.
public enum Sarif {
    /// One race × configuration as `check` ran it.
    public struct Entry: Sendable {
        public var path: String
        public var race: String
        public var configuration: String
        public var model: String
        public var expected: String
        public var observed: String
        public var passed: Bool
        public var detail: String
        /// The `Expect:` line (nil when the header had none).
        public var expectation: SourceLocation?
        public var violations: [ViolationReport]

        public init(path: String, race: String, configuration: String, model: String, expected: String, observed: String,
                    passed: Bool, detail: String, expectation: SourceLocation?, violations: [ViolationReport]) {
            self.path = path; self.race = race; self.configuration = configuration; self.model = model
            self.expected = expected; self.observed = observed; self.passed = passed; self.detail = detail
            self.expectation = expectation; self.violations = violations
        }
    }

    public struct Log: Codable, Sendable {
        public var schema = "https://json.schemastore.org/sarif-2.1.0.json"
        public var version = "2.1.0"
        public var runs: [Run]
        enum CodingKeys: String, CodingKey { case schema = "$schema", version, runs }
    }
    public struct Run: Codable, Sendable { public var tool: Tool; public var results: [Result] }
    public struct Tool: Codable, Sendable { public var driver: Driver }
    public struct Driver: Codable, Sendable {
        public var name: String
        public var version: String
        public var informationUri: String
        public var rules: [Rule]
    }
    public struct Rule: Codable, Sendable {
        public var id: String
        public var name: String
        public var shortDescription: Message
        public var defaultConfiguration: Configuration
    }
    public struct Configuration: Codable, Sendable { public var level: String }
    public struct Message: Codable, Sendable { public var text: String }
    public struct Result: Codable, Sendable {
        public var ruleId: String
        public var ruleIndex: Int
        public var level: String
        public var message: Message
        public var locations: [Location]
        public var codeFlows: [CodeFlow]?
    }
    public struct Location: Codable, Sendable {
        public var physicalLocation: PhysicalLocation
        public var message: Message?
    }
    public struct PhysicalLocation: Codable, Sendable {
        public var artifactLocation: ArtifactLocation
        public var region: Region
    }
    public struct ArtifactLocation: Codable, Sendable { public var uri: String }
    public struct Region: Codable, Sendable { public var startLine: Int; public var startColumn: Int? }
    public struct CodeFlow: Codable, Sendable { public var message: Message; public var threadFlows: [ThreadFlow] }
    public struct ThreadFlow: Codable, Sendable {
        public var id: String
        public var message: Message
        public var locations: [ThreadFlowLocation]
    }
    public struct ThreadFlowLocation: Codable, Sendable {
        public var location: Location
        public var executionOrder: Int
        public var nestingLevel: Int
    }

    static let mismatchRule = "expectation-mismatch"

    /// The rules: one per violation kind, and the expectation mismatch.
    static var rules: [Rule] {
        [Rule(id: mismatchRule, name: "ExpectationMismatch",
              shortDescription: Message(text: "A race configuration's observed verdict or violations differ from its Expect: line"),
              defaultConfiguration: Configuration(level: "error"))]
        + ViolationKind.allCases.map { k in
            Rule(id: k.rawValue, name: k.rawValue.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(),
                 shortDescription: Message(text: "Faultline found a \(k.rawValue) in an interleaving"),
                 defaultConfiguration: Configuration(level: "warning"))
        }
    }

    static func location(_ l: SourceLocation, _ message: String? = nil) -> Location {
        Location(physicalLocation: PhysicalLocation(artifactLocation: ArtifactLocation(uri: l.file?.path ?? ""),
                                                    region: Region(startLine: max(1, l.line), startColumn: l.column > 0 ? l.column : nil)),
                 message: message.map(Message.init))
    }

    /// The log for `check`'s entries. A violation in a configuration that expects it is a
    /// `note`; one nobody expected (the configuration mismatched) is an `error`.
    public static func log(_ entries: [Entry], version: String) -> Log {
        let rules = rules
        var results: [Result] = []
        for e in entries {
            let config = "\(e.race) [\(e.configuration)] \(e.model)"
            if !e.passed {
                let l = e.expectation ?? SourceLocation(file: SourceFile(path: e.path, text: ""), line: 1, column: 1)
                results.append(Result(ruleId: mismatchRule, ruleIndex: 0, level: "error",
                                      message: Message(text: "\(config): expected \(e.expected), observed \(e.observed). \(e.detail)"),
                                      locations: [location(l)], codeFlows: nil))
            }
            for v in e.violations {
                let index = rules.firstIndex { $0.id == v.kind.rawValue } ?? 0
                var flows: [ThreadFlow] = []
                for t in Set(v.steps.map(\.thread)).sorted() {
                    let steps = v.steps.filter { $0.thread == t }
                    flows.append(ThreadFlow(id: "P\(t)", message: Message(text: "P\(t)"), locations: steps.map { s in
                        let text = s.violation.map { "✗ \($0.rawValue)" + (s.effect.isEmpty ? "" : ": " + s.effect) } ?? s.effect
                        return ThreadFlowLocation(location: location(s.shownLocation, "step \(s.index), \(s.function): \(text)"),
                                                  executionOrder: s.index, nestingLevel: max(0, s.shown))
                    }))
                }
                let l = v.location.line > 0 ? v.location : (e.expectation ?? .unknown)
                results.append(Result(ruleId: v.kind.rawValue, ruleIndex: index, level: e.passed ? "note" : "error",
                                      message: Message(text: "\(config): \(v.kind.rawValue): \(v.message). Replay: \(v.replayCommand)"),
                                      locations: [location(l)],
                                      codeFlows: flows.isEmpty ? nil : [CodeFlow(message: Message(text: "the interleaving (\(v.steps.count) steps)"), threadFlows: flows)]))
            }
        }
        let driver = Driver(name: "faultline", version: version, informationUri: "https://example.invalid/faultline", rules: rules)
        return Log(runs: [Run(tool: Tool(driver: driver), results: results)])
    }
}
