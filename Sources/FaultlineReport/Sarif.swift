import FaultlineLanguage
import FaultlineMachine

/// SARIF 2.1.0 for code scanning (`faultline check --sarif FILE`): one result per expectation
/// mismatch (on the race file's `Expect:` line) and per violation (on its source line), each
/// violation with a code flow of one thread flow per CPU carrying its steps, so the
/// interleaving shows on the source.
package enum Sarif {
    /// One of `check`'s results as SARIF reads it: the JSON result (`Schema.Check.Result`), where
    /// its expectation is written, and its violations with their traces.
    package struct Entry: Sendable {
        package var result: Schema.Check.Result
        /// The `Expect:` line (nil when the header had none).
        package var expectation: SourceLocation?
        package var violations: [ViolationReport]

        package init(result: Schema.Check.Result, expectation: SourceLocation?, violations: [ViolationReport]) {
            self.result = result; self.expectation = expectation; self.violations = violations
        }
    }

    package struct Log: Codable, Sendable {
        package var schema = "https://json.schemastore.org/sarif-2.1.0.json"
        package var version = "2.1.0"
        package var runs: [Run]
        enum CodingKeys: String, CodingKey { case schema = "$schema", version, runs }
    }
    package struct Run: Codable, Sendable { package var tool: Tool; package var results: [Result] }
    package struct Tool: Codable, Sendable { package var driver: Driver }
    package struct Driver: Codable, Sendable {
        package var name: String
        package var version: String
        package var informationUri: String
        package var rules: [Rule]
    }
    package struct Rule: Codable, Sendable {
        package var id: String
        package var name: String
        package var shortDescription: Message
        package var defaultConfiguration: Configuration
    }
    package struct Configuration: Codable, Sendable { package var level: String }
    package struct Message: Codable, Sendable { package var text: String }
    package struct Result: Codable, Sendable {
        package var ruleId: String
        package var ruleIndex: Int
        package var level: String
        package var message: Message
        package var locations: [Location]
        package var codeFlows: [CodeFlow]?
    }
    package struct Location: Codable, Sendable {
        package var physicalLocation: PhysicalLocation
        package var message: Message?
    }
    package struct PhysicalLocation: Codable, Sendable {
        package var artifactLocation: ArtifactLocation
        package var region: Region
    }
    package struct ArtifactLocation: Codable, Sendable { package var uri: String }
    package struct Region: Codable, Sendable { package var startLine: Int; package var startColumn: Int? }
    package struct CodeFlow: Codable, Sendable { package var message: Message; package var threadFlows: [ThreadFlow] }
    package struct ThreadFlow: Codable, Sendable {
        package var id: String
        package var message: Message
        package var locations: [ThreadFlowLocation]
    }
    package struct ThreadFlowLocation: Codable, Sendable {
        package var location: Location
        package var executionOrder: Int
        package var nestingLevel: Int
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
    package static func log(_ entries: [Entry], version: String) -> Log {
        let rules = rules
        var results: [Result] = []
        for e in entries {
            let r = e.result
            let config = "\(r.race) [\(r.configuration)] \(r.model)"
            if !r.passed {
                let l = e.expectation ?? SourceLocation(file: SourceFile(path: r.file, text: ""), line: 1, column: 1)
                results.append(Result(ruleId: mismatchRule, ruleIndex: 0, level: "error",
                                      message: Message(text: "\(config): expected \(r.expected), observed \(r.observed). \(r.detail)"),
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
                results.append(Result(ruleId: v.kind.rawValue, ruleIndex: index, level: r.passed ? "note" : "error",
                                      message: Message(text: "\(config): \(v.kind.rawValue): \(v.message). Replay: \(v.replayCommand)"),
                                      locations: [location(l)],
                                      codeFlows: flows.isEmpty ? nil : [CodeFlow(message: Message(text: "the interleaving (\(v.steps.count) steps)"), threadFlows: flows)]))
            }
        }
        let driver = Driver(name: "faultline", version: version, informationUri: "https://example.invalid/faultline", rules: rules)
        return Log(runs: [Run(tool: Tool(driver: driver), results: results)])
    }
}
