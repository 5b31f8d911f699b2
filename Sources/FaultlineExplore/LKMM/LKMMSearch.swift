import FaultlineLanguage
import FaultlineMachine

/// One candidate execution of a program under LKMM, named by its choices: which path each
/// thread takes, which coherence order each location has, where each read reads from (indices
/// into the engine's deterministic enumeration). `description` is a token
/// (`lk1:P.P.P:C.C:R.R.R`) that `LKMMExecution(token:)` reads back, for replay.
package struct LKMMExecution: Sendable, Equatable, Hashable, CustomStringConvertible {
    package var paths: [Int]
    package var co: [Int]
    package var rf: [Int]

    package var description: String {
        func part(_ xs: [Int]) -> String { xs.isEmpty ? "-" : xs.map(String.init).joined(separator: ".") }
        return "lk1:\(part(paths)):\(part(co)):\(part(rf))"
    }

    package init(paths: [Int], co: [Int], rf: [Int]) { self.paths = paths; self.co = co; self.rf = rf }

    package init?(token: String) {
        let parts = token.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "lk1" else { return nil }
        func ints(_ s: Substring) -> [Int]? { s == "-" ? [] : s.split(separator: ".").map { Int($0) }.allSatisfy { $0 != nil } ? s.split(separator: ".").map { Int($0)! } : nil }
        guard let p = ints(parts[1]), let c = ints(parts[2]), let r = ints(parts[3]) else { return nil }
        paths = p; co = c; rf = r
    }
}

/// What the LKMM engine adds to an `ExplorationResult`.
package struct LKMMReport: Sendable {
    /// The loop unrolling bound (herd7's `-unroll`, default 2) and whether a loop reached it
    /// (then executions needing more iterations are not counted, as in herd7).
    package var unroll: Int
    package var boundReached: Bool
    /// herd7's flags raised by some allowed execution (`data-race`, `mixed-accesses`, `unmatched-rcu-lock`, …: every `flag` of the model files), sorted.
    package var flags: [String]
    /// The data races those executions have, by pair of source locations (at most
    /// `maxRaces`, in source order of the second access, then the first).
    package var races: [LKMMRace] = []
    package static let maxRaces = 16
    /// One execution per final state, in the order of `ExplorationResult.outcomes`.
    package var witnesses: [LKMMExecution]
    /// When some candidate satisfies the claim's condition but is forbidden: the first such, with
    /// the axiom it breaks (`happens-before`, `propagation`, `rcu`, `atomic`, `coherence`,
    /// `plain-coherence`, or lock.cat's `lock-nest`, `nested-is-locked`, `unmatched-locks`).
    package var forbidden: LKMMForbidden?
    /// Candidate executions checked (those coherent and atomic per location), and how many each
    /// later axiom rejected (by name, sorted).
    package var candidates: Int
    package var rejected: [(axiom: String, count: Int)]
    /// Whether every candidate that may satisfy the claim's condition was checked (they are
    /// searched first): then `never` is exact even when the result is incomplete, and so is
    /// `sometimes` once an execution that does not satisfy it was found.
    package var conditionDecided: Bool

    package init(unroll: Int, boundReached: Bool, flags: [String], races: [LKMMRace], witnesses: [LKMMExecution], forbidden: LKMMForbidden?,
                 candidates: Int, rejected: [(axiom: String, count: Int)], conditionDecided: Bool) {
        self.unroll = unroll; self.boundReached = boundReached; self.flags = flags; self.races = races; self.witnesses = witnesses
        self.forbidden = forbidden; self.candidates = candidates; self.rejected = rejected; self.conditionDecided = conditionDecided
    }
}

/// A data race the model flags (linux-kernel.cat's `data-race`: two accesses of one location by
/// different CPUs, at least one plain and one a write, that nothing orders), as a finding: the
/// pair of accesses and the first allowed execution (in the search's order) that shows it.
/// One per pair of source locations, as the SC data-race check reports them.
package struct LKMMRace: Sendable {
    package struct Access: Sendable, Equatable {
        package var thread: Int
        /// Index of the event in its thread's path.
        package var index: Int
        /// Index into Program.locations.
        package var location: Int32
        package var write: Bool
        package var plain: Bool
        package var address: Int64
    }
    /// The access earlier in rf, co or fr, and the one it races with.
    package var first: Access
    package var second: Access
    package var execution: LKMMExecution
    /// Allowed executions (the filter keeps) in which this pair races.
    package var occurrences: Int
}

/// A forbidden execution and why.
package struct LKMMForbidden: Sendable {
    package var execution: LKMMExecution
    package var axiom: String
    /// Events (witness ids) of a cycle of the axiom's relation; for an `empty` axiom the offending pair.
    package var cycle: [Int]
}

/// One execution shown as herd7 would draw it.
package struct LKMMWitness: Sendable {
    package struct Event: Sendable {
        /// Index in `events`.
        package var id: Int
        /// -1 for an initial write.
        package var thread: Int
        /// Index in its thread's path (-1 for an initial write).
        package var index: Int
        /// "R", "W" or "F".
        package var kind: String
        /// herd7's annotations and classes: once, acquire, release, mb, rmw, LKR, rcu-lock, ….
        package var tags: [String]
        /// The location, as the source names it ("" for fences).
        package var location: String
        package var value: Int64
        /// Index into Program.locations (-1 for initial writes).
        package var source: Int32
        package var address: Int64
        /// A plain (unannotated) access.
        package var plain: Bool
    }
    package struct Edge: Sendable, Equatable {
        package var from: Int
        package var to: Int
        /// For cycle edges: the relation it belongs to.
        package var label: String
    }
    package var execution: LKMMExecution
    package var events: [Event]
    /// rf, co (immediate successors), fr, ppo, hb, prop, pb, rb (pairs not involving init writes
    /// for the ordering relations), by name.
    package var relations: [(name: String, edges: [Edge])]
    /// nil when the execution is allowed; else the violated axiom and its cycle (labelled edges).
    package var axiom: String?
    package var cycle: [Edge]
    package var dataRace: Bool
    /// The racing pairs of events (ids, the one earlier in rf/co/fr first; label `data-race`).
    package var races: [Edge] = []
    /// The final state (observed values, as in `ExplorationResult.outcomes`).
    package var outcome: [Int64]?
}

extension LKMMWitness {
    /// The execution's racing pairs as findings (one each, in the order of `races`).
    package var raceFindings: [LKMMRace] {
        func access(_ e: Event) -> LKMMRace.Access {
            LKMMRace.Access(thread: e.thread, index: e.index, location: e.source, write: e.kind == "W", plain: e.plain, address: e.address)
        }
        return races.map { LKMMRace(first: access(events[$0.from]), second: access(events[$0.to]), execution: execution, occurrences: 1) }
    }
}

/// The Linux-kernel memory model (LKMM) engine: herd7's answers (`linux-kernel.cfg`: the kernel's
/// `linux-kernel.{bell,cat,def}` and `lock.cat`) on a litmus test, natively.
///
/// Each thread is run on its own, once per choice of the value every read returns (to a
/// fixpoint of the values written), recording herd7's events with their annotations and
/// address/data/control dependencies (`LKThreadRunner`). A candidate execution picks one path per
/// thread, a coherence order per location (initial write first; lock.cat's rules for lock
/// writes and unlocks) and a write for each read to read from (with the value it returned;
/// lock.cat's choices for lock reads). `LKMMModel` checks it against the model's axioms. Each
/// consistent candidate is one execution, as in herd7's counts.
///
/// Use: `LKMMSearch().explore(ctx, options:)` like any strategy (`result.lkmm` holds flags,
/// witness tokens and the forbidden execution); `LKMMSearch.prepare(ctx)` throws
/// `LKMMUnsupported` for a program outside the engine's scope; `witness(ctx, execution)` renders
/// one execution.
package struct LKMMSearch: Strategy {
    package var name: String { "lkmm" }
    package var unroll: Int
    package init(unroll: Int = 2) { self.unroll = unroll }

    /// The axioms in the order herd7 checks them (lock.cat's, then linux-kernel.cat's).
    package static let axiomOrder = ["lock-nest", "nested-is-locked", "unmatched-locks", "coherence", "atomic",
                                    "happens-before", "propagation", "rcu", "plain-coherence"]

    /// Names of `linux-kernel.def` (what herd7 accepts under the kernel's model).
    static let definedNames: Set<String> = [
        "READ_ONCE", "WRITE_ONCE", "smp_store_release", "smp_load_acquire", "rcu_assign_pointer", "rcu_dereference", "smp_store_mb",
        "smp_mb", "smp_rmb", "smp_wmb", "smp_mb__before_atomic", "smp_mb__after_atomic", "smp_mb__after_spinlock",
        "smp_mb__after_unlock_lock", "smp_mb__after_srcu_read_unlock", "barrier", "xchg", "xchg_relaxed", "xchg_release",
        "xchg_acquire", "cmpxchg", "cmpxchg_relaxed", "cmpxchg_acquire", "cmpxchg_release", "spin_lock", "spin_unlock",
        "spin_trylock", "spin_is_locked", "rcu_read_lock", "rcu_read_unlock", "synchronize_rcu", "synchronize_rcu_expedited",
        "srcu_read_lock", "srcu_read_unlock", "srcu_down_read", "srcu_up_read", "synchronize_srcu", "synchronize_srcu_expedited",
        "atomic_read", "atomic_set", "atomic_read_acquire", "atomic_set_release", "atomic_add", "atomic_sub", "atomic_and",
        "atomic_or", "atomic_xor", "atomic_inc", "atomic_dec", "atomic_andnot",
        "atomic_add_return", "atomic_add_return_relaxed", "atomic_add_return_acquire", "atomic_add_return_release",
        "atomic_fetch_add", "atomic_fetch_add_relaxed", "atomic_fetch_add_acquire", "atomic_fetch_add_release",
        "atomic_fetch_and", "atomic_fetch_and_relaxed", "atomic_fetch_and_acquire", "atomic_fetch_and_release",
        "atomic_fetch_or", "atomic_fetch_or_relaxed", "atomic_fetch_or_acquire", "atomic_fetch_or_release",
        "atomic_fetch_xor", "atomic_fetch_xor_relaxed", "atomic_fetch_xor_acquire", "atomic_fetch_xor_release",
        "atomic_inc_return", "atomic_inc_return_relaxed", "atomic_inc_return_acquire", "atomic_inc_return_release",
        "atomic_fetch_inc", "atomic_fetch_inc_relaxed", "atomic_fetch_inc_acquire", "atomic_fetch_inc_release",
        "atomic_sub_return", "atomic_sub_return_relaxed", "atomic_sub_return_acquire", "atomic_sub_return_release",
        "atomic_fetch_sub", "atomic_fetch_sub_relaxed", "atomic_fetch_sub_acquire", "atomic_fetch_sub_release",
        "atomic_dec_return", "atomic_dec_return_relaxed", "atomic_dec_return_acquire", "atomic_dec_return_release",
        "atomic_fetch_dec", "atomic_fetch_dec_relaxed", "atomic_fetch_dec_acquire", "atomic_fetch_dec_release",
        "atomic_xchg", "atomic_xchg_relaxed", "atomic_xchg_release", "atomic_xchg_acquire",
        "atomic_cmpxchg", "atomic_cmpxchg_relaxed", "atomic_cmpxchg_acquire", "atomic_cmpxchg_release",
        "atomic_sub_and_test", "atomic_dec_and_test", "atomic_inc_and_test", "atomic_add_negative",
        "atomic_add_negative_relaxed", "atomic_add_negative_acquire", "atomic_add_negative_release",
        "atomic_fetch_andnot", "atomic_fetch_andnot_acquire", "atomic_fetch_andnot_release", "atomic_fetch_andnot_relaxed",
        "atomic_add_unless",
    ]

    /// The threads' paths and the program's locations, ready for the candidate search.
    package struct Prepared: Sendable {
        var paths: [[LKPath]]
        var addresses: [Int64]
        var initial: [Int64]
        var boundReached: Bool
    }

    /// Runs the threads alone (to a fixpoint of the values written); throws `LKMMUnsupported`
    /// when the program is outside the engine's scope.
    package static func prepare(_ ctx: ExplorationContext, unroll: Int = 2) throws -> Prepared {
        let machine = ctx.machine
        let program = machine.program
        try checkScope(program)
        let root = machine.initialState()
        if let v = root.violation { throw LKMMUnsupported(construct: "\(v.kind.rawValue) in the initial state (\(v.facts.cause.rawValue))", location: v.location) }
        let runner = LKThreadRunner(machine: machine, unroll: unroll)
        var values: [Int64: Set<Int64>] = [:]
        // A value read is written by a chain of at most as many writes as an execution has: after
        // that many rounds, values still appearing come from no execution (an RMW reading its own
        // result in another path), and the fixpoint stops there.
        var rounds = 0

        while true {
            rounds += 1
            var result: [[LKPath]] = []
            var written: [Int64: Set<Int64>] = [:]
            var bound = false
            for t in 0..<root.threads.count {
                let ps = try runner.paths(root, t, values: &values, boundHit: &bound, droppedWrites: &written)
                for p in ps { for e in p.events where e.isWrite { written[e.address, default: []].insert(e.value) } }
                result.append(ps)
            }
            var grew = false
            for (a, vs) in written.sorted(by: { $0.key < $1.key }) where !vs.isSubset(of: values[a] ?? []) {
                if values[a] == nil, let c = AxiomaticSearch.cellIndex(root, a) { values[a] = [root.cells[c]] }
                values[a, default: []].formUnion(vs); grew = true
            }
            let chain = result.reduce(0) { sum, ps in sum + (ps.map { $0.events.filter(\.isWrite).count }.max() ?? 0) }
            if rounds > 64 { throw LKMMUnsupported(construct: "values that keep growing", location: -1) }
            if !grew || rounds > chain {
                // Dense locations, in order of first appearance.
                var slotOf: [Int64: Int32] = [:]
                var addresses: [Int64] = []
                for t in result.indices { for p in result[t].indices { for e in result[t][p].events.indices {
                    let ev = result[t][p].events[e]
                    guard ev.kind != .fence || ev.tags.contains(.syncSrcu) else { continue }
                    if slotOf[ev.address] == nil { slotOf[ev.address] = Int32(addresses.count); addresses.append(ev.address) }
                    result[t][p].events[e].slot = slotOf[ev.address]!
                } } }
                let initial = addresses.map { a in AxiomaticSearch.cellIndex(root, a).map { root.cells[$0] } ?? 0 }
                return Prepared(paths: result, addresses: addresses, initial: initial, boundReached: bound)
            }
        }
    }

    /// Programs with constructs herd7 does not accept under the kernel's model are refused.
    static func checkScope(_ program: Program) throws {
        guard program.invariantFunction == nil, program.finalFunction == nil else {
            throw LKMMUnsupported(construct: "an invariant or final block", location: -1, source: (program.file.invariant ?? program.file.final)?.location)
        }
        let helpers = Set(program.file.functions.map(\.name))
        func expr(_ e: Expr) throws {
            switch e.kind {
            case .call(let n, let args):
                if !definedNames.contains(n) && !helpers.contains(n) {
                    throw LKMMUnsupported(construct: "\(n) (not in linux-kernel.def)", location: -1, source: e.location)
                }
                for a in args { try expr(a) }
            case .unary(_, let a), .postfix(_, let a), .cast(_, let a), .sizeofExpr(let a), .member(let a, _, _): try expr(a)
            case .binary(_, let a, let b), .assign(_, let a, let b), .index(let a, let b), .comma(let a, let b): try expr(a); try expr(b)
            case .ternary(let a, let b, let c): try expr(a); try expr(b); try expr(c)
            case .initList(let xs): for x in xs { try expr(x) }
            default: break
            }
        }
        func stmt(_ s: Stmt) throws {
            switch s.kind {
            case .declaration(_, _, let i): if let i { try expr(i) }
            case .expression(let e): try expr(e)
            case .block(let ss): for x in ss { try stmt(x) }
            case .ifElse(let c, let a, let b): try expr(c); try stmt(a); if let b { try stmt(b) }
            case .whileLoop(let c, let b), .doWhile(let b, let c): try expr(c); try stmt(b)
            case .forLoop(let i, let c, let st, let b):
                if let i { try stmt(i) }; if let c { try expr(c) }; if let st { try expr(st) }; try stmt(b)
            case .switchCase(let c, let b): try expr(c); try stmt(b)
            case .returnStmt(let e): if let e { try expr(e) }
            case .label(_, let b): try stmt(b)
            default: break
            }
        }
        for f in program.file.threads + program.file.functions { try stmt(f.body) }
    }

    package func explore(_ ctx: ExplorationContext, options: ExplorationOptions) -> ExplorationResult {
        let start = monotonicSeconds()
        do {
            let prepared = try LKMMSearch.prepare(ctx, unroll: unroll)
            return explore(ctx, options: options, prepared: prepared, start: start)
        } catch is LKMMUnsupported {
            var r = ExplorationResult(strategy: name)
            r.complete = false
            r.stopReason = .unsupported
            r.elapsed = monotonicSeconds() - start
            return r
        } catch {
            var r = ExplorationResult(strategy: name)
            r.complete = false
            r.stopReason = .unsupported
            return r
        }
    }

    /// The candidate search over prepared paths.
    package func explore(_ ctx: ExplorationContext, options: ExplorationOptions, prepared: Prepared, start: Double = monotonicSeconds()) -> ExplorationResult {
        var options = options
        let budget = options.runBudget()
        var builder = ResultBuilder(strategy: name, program: ctx.machine.program)
        builder.result.shard = options.shard
        if let shard = options.shard, shard.index != 0 { return builder.finish(elapsed: 0) }
        let search = LKMMCandidates(ctx: ctx, prepared: prepared, restrict: true)
        var witnessOf: [[Int64]: LKMMExecution] = [:]
        var forbidden: LKMMForbidden? = nil
        var forbiddenRank = -1
        var flags: LKMMFlags = []
        var races: [LKMMRace] = []
        var candidates = 0
        var rejected: [String: Int] = [:]
        var stopped: StopReason? = nil
        let claim = ctx.machine.program.claimCondition
        let filter = ctx.machine.program.filterCondition
        let visit = { (execution: LKMMExecution, outcome: LKMMModel.Outcome, state: () -> State) -> Bool in
            candidates += 1
            if let axiom = outcome.failedAxiom {
                rejected[axiom, default: 0] += 1
                // The forbidden execution shown is the first that gets furthest through the axioms.
                let rank = LKMMSearch.axiomOrder.firstIndex(of: axiom) ?? 0
                if rank > forbiddenRank, let claim, case .outcome(let values)? = ctx.terminal(state(), mask: 0),
                   filter?.evaluate(values) ?? true, claim.evaluate(values) {
                    forbidden = LKMMForbidden(execution: execution, axiom: axiom, cycle: outcome.cycle)
                    forbiddenRank = rank
                }
            } else {
                if let term = ctx.terminal(state(), mask: 0) {
                    builder.add(term, schedule: [])
                    if case .outcome(let values) = term, filter?.evaluate(values) ?? true {
                        // Flags count for the executions the filter keeps (as herd7's do).
                        flags.formUnion(outcome.flags)
                        if witnessOf[values] == nil { witnessOf[values] = execution }
                        if !outcome.races.isEmpty { LKMMSearch.record(outcome.races, execution, prepared, &races) }
                    }
                }
                if let r = budget.finishedExecution(builder.result) { stopped = r; return false }
            }
            if candidates & 63 == 0, let r = budget.exhausted() { stopped = r; return false }
            return true
        }
        // First the candidates that may satisfy the claim's condition (that decides whether it
        // can hold), then the rest.
        let keepGoing = { () -> Bool in
            if let r = budget.exhausted() { stopped = r; return false }
            return true
        }
        var conditionDecided = false
        if search.restriction != nil {
            search.enumerate(.mayHold, keepGoing: keepGoing, visit)
            conditionDecided = stopped == nil && !search.models.cut
            if stopped == nil { search.enumerate(.rest, keepGoing: keepGoing, visit) }
        } else {
            search.enumerate(.all, keepGoing: keepGoing, visit)
        }
        if stopped == nil && search.models.cut { stopped = .orderLimit }
        // A condition that never holds: if no candidate got past coherence and atomicity, find
        // the one that breaks them (the local pruning skipped it), within a budget.
        if stopped == nil, forbidden == nil, claim != nil, builder.result.claimSatisfied == 0 {
            var work = 200_000
            let all = LKMMCandidates(ctx: ctx, prepared: prepared, restrict: true, prune: false)
            all.enumerate(all.restriction != nil ? .mayHold : .all, keepGoing: {
                work -= 256
                return work > 0 && budget.exhausted() == nil
            }) { execution, outcome, state in
                work -= 1
                if let axiom = outcome.failedAxiom, let rank = LKMMSearch.axiomOrder.firstIndex(of: axiom), rank > forbiddenRank,
                   let claim, case .outcome(let values)? = ctx.terminal(state(), mask: 0), filter?.evaluate(values) ?? true, claim.evaluate(values) {
                    forbidden = LKMMForbidden(execution: execution, axiom: axiom, cycle: outcome.cycle)
                    forbiddenRank = rank
                    if axiom == "atomic" { return false }
                }
                return work > 0
            }
        }
        if let stopped { builder.stop(stopped) }
        var result = builder.finish(elapsed: monotonicSeconds() - start)
        var witnesses = result.outcomes.map { witnessOf[$0.0]! }
        // herd7's final states are over the condition's and `locations`' variables: one only the
        // filter names (observed last) is left out, and states equal without it are one.
        let shown = LKMMSearch.shownObserved(ctx.machine.program)
        if shown < ctx.machine.program.observed.count {
            var merged: [([Int64], Int)] = [], mergedWitnesses: [LKMMExecution] = []
            for (k, o) in result.outcomes.enumerated() {
                let values = Array(o.0.prefix(shown))
                if merged.last?.0 == values { merged[merged.count - 1].1 += o.1 } else { merged.append((values, o.1)); mergedWitnesses.append(witnesses[k]) }
            }
            result.outcomes = merged
            witnesses = mergedWitnesses
        }
        races.sort { ($0.second.location, $0.first.location, $0.second.thread, $0.first.thread) < ($1.second.location, $1.first.location, $1.second.thread, $1.first.thread) }
        result.lkmm = LKMMReport(unroll: unroll, boundReached: prepared.boundReached, flags: flags.names, races: races,
                                 witnesses: witnesses, forbidden: forbidden,
                                 candidates: candidates, rejected: rejected.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                                 conditionDecided: conditionDecided || stopped == nil)
        return result
    }

    /// The execution `execution` names, with its events and relations (nil if it names none).
    /// `prepared`: the program's paths when the caller has them (else they are computed).
    package func witness(_ ctx: ExplorationContext, _ execution: LKMMExecution, prepared: Prepared? = nil) -> LKMMWitness? {
        guard let prepared = prepared ?? (try? LKMMSearch.prepare(ctx, unroll: unroll)) else { return nil }
        return LKMMCandidates(ctx: ctx, prepared: prepared, restrict: false).witness(execution)
    }
}

extension LKMMSearch {
    /// Counts the racing pairs of one allowed execution, keeping the first execution of each pair
    /// of source locations (in either order; counted once per execution), at most
    /// `LKMMReport.maxRaces` pairs.
    static func record(_ pairs: [(LKMMRace.Access, LKMMRace.Access)], _ execution: LKMMExecution, _ prepared: Prepared, _ races: inout [LKMMRace]) {
        var seen: [Int] = []
        for (a0, b0) in pairs where a0.thread >= 0 && b0.thread >= 0 {
            var a = a0, b = b0
            a.location = prepared.paths[a.thread][execution.paths[a.thread]].events[a.index].location
            b.location = prepared.paths[b.thread][execution.paths[b.thread]].events[b.index].location
            if let k = races.firstIndex(where: { ($0.first.location, $0.second.location) == (a.location, b.location)
                                                 || ($0.first.location, $0.second.location) == (b.location, a.location) }) {
                if !seen.contains(k) { races[k].occurrences += 1; seen.append(k) }
            } else if races.count < LKMMReport.maxRaces {
                seen.append(races.count)
                races.append(LKMMRace(first: a, second: b, execution: execution, occurrences: 1))
            }
        }
    }

    /// How many of `program.observed` herd7 shows in a final state: the condition's and
    /// `locations`' (the compiler observes the filter's own after them).
    static func shownObserved(_ program: Program) -> Int {
        var locs: [ConditionLocation] = []
        for l in (program.file.claim?.condition.locations ?? []) + program.file.extraLocations where !locs.contains(l) { locs.append(l) }
        return locs.count
    }

    /// A litmus location by name (`x`, `y+1`) for witnesses: the engine's programs keep their
    /// shared state in globals (traces name cells in FaultlineReport).
    static func globalName(_ a: Int64, _ p: Program) -> String {
        let o = Address.object(a), off = Address.offset(a)
        guard a > 0, o >= 1, o <= p.globals.count else { return "0x" + String(UInt64(bitPattern: a), radix: 16) }
        return p.globals[o - 1].name + (off == 0 ? "" : "+\(off)")
    }
}
