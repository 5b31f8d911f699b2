import Foundation
import FaultlineLanguage
import FaultlineMachine
import FaultlineExplore

/// What a shard's JSON report carries beyond the rendered report, so that `faultline merge` can
/// rebuild the unsharded result exactly: the raw counts, final states as values, each violation's
/// representative schedule as found (before shrinking), and how the machine was configured.
package struct ShardData: Sendable {
    package var result: ExplorationResult
    package var programHash: UInt64
    package var maxSteps: Int
    package var leakCheck: Bool
    package var shrink: Bool
    package var includeDirs: [String]

    package init(result: ExplorationResult, programHash: UInt64, maxSteps: Int, leakCheck: Bool, shrink: Bool, includeDirs: [String]) {
        self.result = result
        self.programHash = programHash
        self.maxSteps = maxSteps
        self.leakCheck = leakCheck
        self.shrink = shrink
        self.includeDirs = includeDirs
    }

    /// The parts as schema 1.
    func parts() -> Schema.Parts {
        let r = result
        return Schema.Parts(programHash: String(format: "%016llx", programHash), maxSteps: maxSteps, leakCheck: leakCheck, shrink: shrink,
                            includeDirs: includeDirs, complete: r.complete, stopReason: r.stopReason, executions: r.executions,
                            pruned: r.pruned, filteredOut: r.filteredOut, claimSatisfied: r.claimSatisfied, claimViolated: r.claimViolated,
                            violatedExecutions: r.violatedExecutions, steps: r.steps, sleepBlocked: r.sleepBlocked,
                            outcomes: r.outcomes.map { Schema.FinalValues(values: $0.0, count: $0.1) },
                            violations: r.violations.map { f in
                                Schema.FoundViolation(kind: f.violation.kind.rawValue, facts: f.violation.facts, thread: f.violation.thread,
                                                      location: Int(f.violation.location), schedule: f.schedule, seed: f.seed.map { String($0) },
                                                      occurrences: f.occurrences)
                            })
    }

    package struct ReadError: Error, CustomStringConvertible {
        package var description: String
    }

    /// Reads back the `parts` of a shard report (decoded by `Schema`, which already refused wrong
    /// types, unknown stop reasons and out-of-range integers, naming the field). Every field is
    /// checked here for its range; an error names the field (`parts.violations[2].schedule`).
    package init(parts p: Schema.Parts, strategy: String) throws {
        func bad(_ field: String, _ why: String) -> ReadError { ReadError(description: "shard report: field '\(field)': \(why)") }
        func count(_ v: Int, _ field: String, min: Int = 0) throws -> Int {
            guard v >= min else { throw bad(field, "\(v) is below \(min)") }
            return v
        }
        guard let hash = UInt64(p.programHash, radix: 16) else { throw bad("parts.program_hash", "not a hexadecimal hash") }
        programHash = hash
        maxSteps = try count(p.maxSteps, "parts.max_steps", min: 1)
        guard maxSteps <= Int(Int32.max) else { throw bad("parts.max_steps", "\(maxSteps) is too large") }
        leakCheck = p.leakCheck
        shrink = p.shrink
        includeDirs = p.includeDirs
        var r = ExplorationResult(strategy: strategy)
        r.complete = p.complete
        r.stopReason = p.stopReason
        r.executions = try count(p.executions, "parts.executions"); r.pruned = try count(p.pruned, "parts.pruned")
        r.filteredOut = try count(p.filteredOut, "parts.filtered_out")
        r.claimSatisfied = try count(p.claimSatisfied, "parts.claim_satisfied"); r.claimViolated = try count(p.claimViolated, "parts.claim_violated")
        r.violatedExecutions = try count(p.violatedExecutions, "parts.violated_executions"); r.steps = try count(p.steps, "parts.steps")
        r.sleepBlocked = try count(p.sleepBlocked, "parts.sleep_blocked")
        guard r.pruned <= r.executions else { throw bad("parts.pruned", "more than the executions") }
        guard r.violatedExecutions <= r.executions else { throw bad("parts.violated_executions", "more than the executions") }
        for (i, o) in p.outcomes.enumerated() {
            r.outcomes.append((o.values, try count(o.count, "parts.outcomes[\(i)].count", min: 1)))
        }
        for (i, x) in p.violations.enumerated() {
            let at = "parts.violations[\(i)]"
            guard let kind = ViolationKind(rawValue: x.kind) else { throw bad(at + ".kind", "'\(x.kind)' is not a violation kind") }
            let thread = try count(x.thread, at + ".thread", min: -1)
            let location = try count(x.location, at + ".location", min: -1)
            guard let loc32 = Int32(exactly: location) else { throw bad(at + ".location", "\(location) is out of range") }
            guard x.schedule.allSatisfy({ $0 >= 0 && $0 < 64 }) else { throw bad(at + ".schedule", "not a list of thread numbers") }
            let occurrences = try count(x.occurrences, at + ".occurrences", min: 1)
            var seed: UInt64? = nil
            if let text = x.seed {
                guard let v = UInt64(text) else { throw bad(at + ".seed", "not a decimal seed") }
                seed = v
            }
            r.violations.append(FoundViolation(violation: Violation(kind: kind, facts: x.facts, thread: thread, location: loc32),
                                               schedule: x.schedule, seed: seed, occurrences: occurrences))
        }
        result = r
    }

    /// Checks what can only be checked against the program the shard ran: thread numbers, source
    /// locations and the number of observed values. Throws naming the field.
    package func validate(against program: Program) throws {
        let threads = program.threadCount
        for (i, (values, _)) in result.outcomes.enumerated() where values.count != program.observed.count {
            throw ReadError(description: "shard report: field 'parts.outcomes[\(i)].values': \(values.count) values, the program observes \(program.observed.count)")
        }
        for (i, f) in result.violations.enumerated() {
            let at = "parts.violations[\(i)]"
            if f.violation.thread >= threads { throw ReadError(description: "shard report: field '\(at).thread': the program has \(threads) threads") }
            if Int(f.violation.location) >= program.locations.count { throw ReadError(description: "shard report: field '\(at).location': not a location of the program") }
            if let t = f.schedule.first(where: { $0 >= threads }) { throw ReadError(description: "shard report: field '\(at).schedule': thread \(t), the program has \(threads)") }
        }
    }
}
