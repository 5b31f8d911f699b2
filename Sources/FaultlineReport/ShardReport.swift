import Foundation
import FaultlineLanguage
import FaultlineMachine
import FaultlineExplore

/// What a shard's JSON report carries beyond the rendered report, so that `faultline merge` can
/// rebuild the unsharded result exactly: the raw counts, final states as values, each violation's
/// representative schedule as found (before shrinking), and how the machine was configured.
public struct ShardData: Sendable {
    public var result: ExplorationResult
    public var programHash: UInt64
    public var maxSteps: Int
    public var leakCheck: Bool
    public var shrink: Bool
    public var includeDirs: [String]

    public init(result: ExplorationResult, programHash: UInt64, maxSteps: Int, leakCheck: Bool, shrink: Bool, includeDirs: [String]) {
        self.result = result
        self.programHash = programHash
        self.maxSteps = maxSteps
        self.leakCheck = leakCheck
        self.shrink = shrink
        self.includeDirs = includeDirs
    }

    func json() -> JSON {
        let r = result
        var kv: [(String, JSON)] = [
            ("program_hash", .string(String(format: "%016llx", programHash))),
            ("max_steps", .int(maxSteps)),
            ("leak_check", .bool(leakCheck)),
            ("shrink", .bool(shrink)),
            ("include_dirs", .array(includeDirs.map { .string($0) })),
            ("complete", .bool(r.complete)),
        ]
        if let s = r.stopReason { kv.append(("stop_reason", .string(s))) }
        kv += [
            ("executions", .int(r.executions)), ("pruned", .int(r.pruned)), ("filtered_out", .int(r.filteredOut)),
            ("claim_satisfied", .int(r.claimSatisfied)), ("claim_violated", .int(r.claimViolated)),
            ("violated_executions", .int(r.violatedExecutions)), ("steps", .int(r.steps)), ("sleep_blocked", .int(r.sleepBlocked)),
            ("outcomes", .array(r.outcomes.map { .object([("values", .array($0.0.map { .int(Int($0)) })), ("count", .int($0.1))]) })),
            ("violations", .array(r.violations.map { f in
                .object([
                    ("kind", .string(f.violation.kind.rawValue)), ("facts", ShardData.json(f.violation.facts)),
                    ("thread", .int(f.violation.thread)), ("location", .int(Int(f.violation.location))),
                    ("schedule", .array(f.schedule.map { .int($0) })),
                    ("seed", f.seed.map { .string(String($0)) } ?? .null),
                    ("occurrences", .int(f.occurrences)),
                ])
            })),
        ]
        return .object(kv)
    }

    static func json(_ f: ViolationFacts) -> JSON {
        .object([("cause", .string(f.cause.rawValue)), ("access", .string(f.access.rawValue)), ("address", .int(Int(f.address))),
                 ("object", .int(Int(f.object))), ("site", .int(Int(f.site))), ("site_thread", .int(Int(f.siteThread))),
                 ("count", .int(Int(f.count))), ("text", .int(Int(f.text))), ("block", .string(f.block.rawValue))])
    }

    static func facts(_ any: Any?) -> ViolationFacts? {
        guard let o = any as? [String: Any], let c = o["cause"] as? String, let cause = ViolationCause(rawValue: c),
              let a = o["access"] as? String, let access = AccessKind(rawValue: a), let b = o["block"] as? String, let block = CheckBlock(rawValue: b),
              let address = o["address"] as? Int, let object = o["object"] as? Int, let site = o["site"] as? Int,
              let siteThread = o["site_thread"] as? Int, let count = o["count"] as? Int, let text = o["text"] as? Int else { return nil }
        return ViolationFacts(cause: cause, access: access, address: Int64(address), object: Int32(object), site: Int32(site),
                              siteThread: Int16(siteThread), count: Int64(count), text: Int32(text), block: block)
    }

    public struct ReadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads back the `parts` object of a shard report (as parsed by `JSONSerialization`).
    public init(parsing o: [String: Any], strategy: String) throws {
        func int(_ k: String) throws -> Int {
            guard let v = o[k] as? Int else { throw ReadError(description: "shard report: missing or bad '\(k)'") }
            return v
        }
        guard let h = o["program_hash"] as? String, let hash = UInt64(h, radix: 16) else { throw ReadError(description: "shard report: missing program_hash") }
        programHash = hash
        maxSteps = try int("max_steps")
        leakCheck = o["leak_check"] as? Bool ?? true
        shrink = o["shrink"] as? Bool ?? true
        includeDirs = o["include_dirs"] as? [String] ?? []
        var r = ExplorationResult(strategy: strategy)
        r.complete = o["complete"] as? Bool ?? false
        r.stopReason = o["stop_reason"] as? String
        r.executions = try int("executions"); r.pruned = try int("pruned"); r.filteredOut = try int("filtered_out")
        r.claimSatisfied = try int("claim_satisfied"); r.claimViolated = try int("claim_violated")
        r.violatedExecutions = try int("violated_executions"); r.steps = try int("steps"); r.sleepBlocked = try int("sleep_blocked")
        guard let outs = o["outcomes"] as? [[String: Any]], let vios = o["violations"] as? [[String: Any]] else {
            throw ReadError(description: "shard report: missing outcomes or violations")
        }
        for x in outs {
            guard let values = x["values"] as? [Int], let count = x["count"] as? Int else { throw ReadError(description: "shard report: bad outcome") }
            r.outcomes.append((values.map { Int64($0) }, count))
        }
        for x in vios {
            guard let k = x["kind"] as? String, let kind = ViolationKind(rawValue: k), let facts = ShardData.facts(x["facts"]),
                  let thread = x["thread"] as? Int, let location = x["location"] as? Int, let schedule = x["schedule"] as? [Int],
                  let occurrences = x["occurrences"] as? Int else { throw ReadError(description: "shard report: bad violation") }
            let seed = (x["seed"] as? String).flatMap { UInt64($0) }
            r.violations.append(FoundViolation(violation: Violation(kind: kind, facts: facts, thread: thread, location: Int32(location)),
                                               schedule: schedule, seed: seed, occurrences: occurrences))
        }
        result = r
    }
}
