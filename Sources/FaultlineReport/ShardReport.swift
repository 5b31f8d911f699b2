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
        if let s = r.stopReason { kv.append(("stop_reason", .string(s.rawValue))) }
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

    /// Reads back the `parts` object of a shard report (as parsed by `JSONSerialization`). Every
    /// field is checked for its type and range; an error names the field (`parts.violations[2].schedule`).
    public init(parsing o: [String: Any], strategy: String) throws {
        func bad(_ field: String, _ why: String = "missing or not valid") -> ReadError {
            ReadError(description: "shard report: field '\(field)': \(why)")
        }
        func int(_ x: [String: Any], _ k: String, _ field: String, min: Int = 0) throws -> Int {
            guard let v = x[k] as? Int else { throw bad(field, "missing or not an integer") }
            guard v >= min else { throw bad(field, "\(v) is below \(min)") }
            return v
        }
        guard let h = o["program_hash"] as? String, let hash = UInt64(h, radix: 16) else { throw bad("parts.program_hash") }
        programHash = hash
        maxSteps = try int(o, "max_steps", "parts.max_steps", min: 1)
        guard maxSteps <= Int(Int32.max) else { throw bad("parts.max_steps", "\(maxSteps) is too large") }
        func bool(_ k: String) throws -> Bool {
            guard let v = o[k] else { return true }
            guard let b = v as? Bool else { throw bad("parts.\(k)", "not true or false") }
            return b
        }
        leakCheck = try bool("leak_check")
        shrink = try bool("shrink")
        guard let dirs = o["include_dirs"] as? [String] ?? (o["include_dirs"] == nil ? [] : nil) else { throw bad("parts.include_dirs", "not a list of strings") }
        includeDirs = dirs
        var r = ExplorationResult(strategy: strategy)
        r.complete = o["complete"] as? Bool ?? false
        if let s = o["stop_reason"] {
            guard let text = s as? String, let reason = StopReason(rawValue: text) else { throw bad("parts.stop_reason", "not a known reason") }
            r.stopReason = reason
        }
        r.executions = try int(o, "executions", "parts.executions"); r.pruned = try int(o, "pruned", "parts.pruned")
        r.filteredOut = try int(o, "filtered_out", "parts.filtered_out")
        r.claimSatisfied = try int(o, "claim_satisfied", "parts.claim_satisfied"); r.claimViolated = try int(o, "claim_violated", "parts.claim_violated")
        r.violatedExecutions = try int(o, "violated_executions", "parts.violated_executions"); r.steps = try int(o, "steps", "parts.steps")
        r.sleepBlocked = try int(o, "sleep_blocked", "parts.sleep_blocked")
        guard r.pruned <= r.executions else { throw bad("parts.pruned", "more than the executions") }
        guard r.violatedExecutions <= r.executions else { throw bad("parts.violated_executions", "more than the executions") }
        guard let outs = o["outcomes"] as? [[String: Any]] else { throw bad("parts.outcomes", "missing or not a list of objects") }
        guard let vios = o["violations"] as? [[String: Any]] else { throw bad("parts.violations", "missing or not a list of objects") }
        for (i, x) in outs.enumerated() {
            guard let values = x["values"] as? [Int] else { throw bad("parts.outcomes[\(i)].values", "missing or not a list of integers") }
            let count = try int(x, "count", "parts.outcomes[\(i)].count", min: 1)
            r.outcomes.append((values.map { Int64($0) }, count))
        }
        for (i, x) in vios.enumerated() {
            let at = "parts.violations[\(i)]"
            guard let k = x["kind"] as? String, let kind = ViolationKind(rawValue: k) else { throw bad(at + ".kind", "missing or not a violation kind") }
            guard let facts = ShardData.facts(x["facts"]) else { throw bad(at + ".facts") }
            let thread = try int(x, "thread", at + ".thread", min: -1)
            let location = try int(x, "location", at + ".location", min: -1)
            guard let loc32 = Int32(exactly: location) else { throw bad(at + ".location", "out of range") }
            guard let schedule = x["schedule"] as? [Int], schedule.allSatisfy({ $0 >= 0 && $0 < 64 }) else {
                throw bad(at + ".schedule", "missing or not a list of thread numbers")
            }
            let occurrences = try int(x, "occurrences", at + ".occurrences", min: 1)
            var seed: UInt64? = nil
            if let sv = x["seed"], !(sv is NSNull) {
                guard let text = sv as? String, let v = UInt64(text) else { throw bad(at + ".seed", "not a decimal seed") }
                seed = v
            }
            r.violations.append(FoundViolation(violation: Violation(kind: kind, facts: facts, thread: thread, location: loc32),
                                               schedule: schedule, seed: seed, occurrences: occurrences))
        }
        result = r
    }

    /// Checks what can only be checked against the program the shard ran: thread numbers, source
    /// locations and the number of observed values. Throws naming the field.
    public func validate(against program: Program) throws {
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
