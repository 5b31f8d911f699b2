import Foundation
import FaultlineLanguage
import FaultlineMachine
import FaultlineCheck

/// Options shared by every strategy.
package struct ExplorationOptions: Sendable {
    // The limits of the run, from which `runBudget()` makes its `SearchBudget` (see there).
    package var maxExecutions: Int = 10_000_000
    package var timeout: Double? = nil          // seconds
    /// Resident memory (bytes) the run may reach.
    package var maxMemory: Int? = nil
    /// The budget of the run these options belong to, once it has started (shared by its parts).
    package var budget: SearchBudget? = nil
    package var preemptionBound: Int? = nil
    package var seed: UInt64 = 0
    package var runs: Int = 1000
    /// pct: the bug depth D (D-1 priority change points per run); at least 1.
    package var depth: Int = 3
    /// Checked after every execution (on the result of the part of the search that made it): true
    /// ends the search early (`StopReason.expectationMet`). `check` uses it for buggy
    /// configurations, which need not be explored exhaustively.
    package var stopWhen: (@Sendable (ExplorationResult) -> Bool)? = nil
    /// Called now and then during a search (from worker threads too): for a progress line.
    package var progress: ProgressSink? = nil
    /// Benchmarks: called by dpor with the canonical linearization of every complete execution,
    /// to count distinct Mazurkiewicz traces (the redundancy of the reduction). Slows the search.
    package var observeTrace: (@Sendable ([Int]) -> Void)? = nil
    /// Worker threads for one search (`ParallelSearch`); the report does not depend on it.
    package var jobs: Int = 1
    /// Explore only this deterministic part of the search (`faultline merge` combines the parts).
    package var shard: Shard? = nil
    /// dpor: critical sections of one spinlock or mutex are reordered only when their accesses
    /// conflict (`--no-lock-reduction` turns it off, for comparison).
    package var lockReduction = true
    /// dpor where lock-aware reduction does not apply: Optimal-DPOR's wakeup trees, no
    /// sleep-blocked execution but more work per execution (`--wakeup-trees`); else Source-DPOR.
    package var wakeupTrees = false
    package init() {}
}

/// Receives progress from a running search, from its `SearchBudget` at every execution counted:
/// the run's executions so far (bfs: states expanded), the most violations one part of the
/// search has found, and the total the strategy expects when it can tell (random, pct: the runs
/// asked for; dfs, dpor: Knuth's estimate of the tree — the mean over sampled executions of the
/// product of the branching along their path). Never part of the report.
package protocol ProgressSink: AnyObject, Sendable {
    func report(executions: Int, violations: Int, estimatedTotal: Double?)
}

/// Knuth's estimator of the size of a search tree, for the progress line: the running mean, over
/// sampled paths, of the product of the branching met along each.
struct TreeSizeEstimate {
    private(set) var mean = 0.0
    private var samples = 0

    mutating func sample<S: Sequence>(branching: S) where S.Element == Int {
        var product = 1.0
        for b in branching { product *= Double(max(1, b)) }
        samples += 1
        mean += (product - mean) / Double(samples)
    }
}

/// Part `index` of `count` (0-based) of a search split into subtrees.
package struct Shard: Sendable, Equatable {
    package var index: Int
    package var count: Int
    package init(index: Int, count: Int) { self.index = index; self.count = count }
}

/// A violation found by exploration, with the schedule (or seed) that reproduces it.
package struct FoundViolation: Sendable {
    package var violation: Violation
    package var schedule: [Int]
    package var seed: UInt64?
    /// How many executions hit this (kind, location).
    package var occurrences: Int

    package init(violation: Violation, schedule: [Int], seed: UInt64?, occurrences: Int) {
        self.violation = violation
        self.schedule = schedule
        self.seed = seed
        self.occurrences = occurrences
    }
}

extension FoundViolation {
    /// The order violations are reported in: by kind, then source location, then message. Not the
    /// order of discovery, which depends on the strategy's search order.
    package static func reportOrder(_ a: FoundViolation, _ b: FoundViolation) -> Bool {
        let x = a.violation, y = b.violation
        if x.kind != y.kind { return x.kind.rawValue < y.kind.rawValue }
        if x.location != y.location { return x.location < y.location }
        if x.thread != y.thread { return x.thread < y.thread }
        return ViolationFacts.precedes(x.facts, y.facts)
    }
}

/// How one execution ended.
package enum Terminal: Sendable {
    case outcome([Int64])
    case violation(Violation)
    case pruned
}

/// The result of exploring a program: counts, the outcome histogram and the claim's verdict,
/// and the violations found (first schedule for each kind and location).
package struct ExplorationResult: Sendable {
    package var strategy: String
    package var executions = 0
    package var complete = true
    package var stopReason: StopReason? = nil
    /// Final states (observed values) with how many executions reached each, sorted.
    package var outcomes: [([Int64], Int)] = []
    package var claimSatisfied = 0
    package var claimViolated = 0
    package var pruned = 0
    package var filteredOut = 0
    package var violations: [FoundViolation] = []
    package var elapsed: Double = 0
    package var steps = 0
    /// Executions cut short because every enabled thread was in the sleep set (dpor).
    package var sleepBlocked = 0
    /// dpor with lock-aware reduction: searches started again because a lock had to become
    /// strict (its holder blocked or ended inside a critical section).
    package var lockRestarts = 0
    /// Distinct states visited (stateful strategies only).
    package var distinctStates: Int? = nil
    /// Set when only one shard of the search was explored.
    package var shard: Shard? = nil
    /// The LKMM engine's flags, witnesses and forbidden execution (`LKMMSearch` only).
    package var lkmm: LKMMReport? = nil

    package init(strategy: String) { self.strategy = strategy }

    /// Executions that hit at least one violation.
    package var violatedExecutions = 0

    /// never / sometimes / always: with a claim, over executions that reached a final state;
    /// without one, how often an execution hits a violation.
    package func verdict(hasClaim: Bool) -> Expectation.Verdict? {
        guard hasClaim else {
            if violatedExecutions == 0 { return .never }
            return violatedExecutions >= executions - pruned ? .always : .sometimes
        }
        if claimSatisfied == 0 { return .never }
        if claimViolated == 0 { return .always }
        return .sometimes
    }

    /// The kinds found: the SC checks' violations, and under LKMM `data-race` for a race the model flags.
    package var violationKinds: Set<ViolationKind> {
        var kinds = Set(violations.map(\.violation.kind))
        if lkmm?.races.isEmpty == false { kinds.insert(.dataRace) }
        return kinds
    }

    /// Whether anything was found that the report lists as a violation (exit code 1).
    package var hasViolations: Bool { !violations.isEmpty || lkmm?.races.isEmpty == false }

    /// Whether the claim's verdict is final although the search is incomplete. The LKMM engine
    /// searches the candidates that may satisfy the condition first: once they are all checked
    /// (`LKMMReport.conditionDecided`) `never` is final, and `sometimes` is once an execution of
    /// each kind was found; `always` needs the rest. Other strategies: only when complete.
    package var verdictDecided: Bool {
        if complete { return true }
        guard let lk = lkmm else { return false }
        if claimSatisfied > 0 && claimViolated > 0 { return true }
        return lk.conditionDecided && claimSatisfied == 0
    }

    /// The result in the terms expectations are written in (`Expectation.evaluate`).
    package func observation(hasClaim: Bool, flags: [String] = []) -> Observation {
        Observation(verdict: verdict(hasClaim: hasClaim), violations: violationKinds,
                    finished: hasClaim ? claimSatisfied + claimViolated : outcomes.reduce(0) { $0 + $1.1 },
                    flags: flags, complete: complete, stopReason: stopReason?.rawValue, verdictDecided: hasClaim && verdictDecided)
    }
}

/// What makes two violations one entry of the report.
struct ViolationKey: Hashable {
    var kind: ViolationKind
    var thread: Int
    var location: Int32
    var facts: ViolationFacts
}

/// Collects terminals into an `ExplorationResult` (outcome histogram, verdict counts, violations).
struct ResultBuilder {
    var result: ExplorationResult
    var histogram: [[Int64]: Int] = [:]
    var violationIndex: [ViolationKey: Int] = [:]
    let program: Program

    init(strategy: String, program: Program) {
        result = ExplorationResult(strategy: strategy)
        self.program = program
    }

    mutating func add(_ terminal: Terminal, schedule: [Int], seed: UInt64? = nil) {
        result.executions += 1
        switch terminal {
        case .pruned: result.pruned += 1
        case .violation(let v):
            result.violatedExecutions += 1
            addViolation(v, schedule: schedule, seed: seed)
            for w in v.alsoFound { addViolation(w, schedule: schedule, seed: seed) }
        case .outcome(let values):
            if let f = program.filterCondition, !f.evaluate(values) { result.filteredOut += 1; return }
            histogram[values, default: 0] += 1
            if let c = program.claimCondition {
                if c.evaluate(values) { result.claimSatisfied += 1 } else { result.claimViolated += 1 }
            }
        }
    }

    /// Violations with the same key are one entry of the report.
    /// A livelock is one entry per thread, wherever in its loop the step bound ran out.
    static func key(_ v: Violation) -> ViolationKey {
        if v.kind == .stepBound { return ViolationKey(kind: v.kind, thread: v.thread, location: 0, facts: ViolationFacts()) }
        // A livelock: one entry per set of spinning CPUs, wherever the lap closed.
        if v.kind == .livelock { return ViolationKey(kind: v.kind, thread: -1, location: 0, facts: ViolationFacts(address: v.facts.address)) }
        // A data race: one entry per pair of source lines, in either order (`count`, see DataRace.swift).
        if v.kind == .dataRace { return ViolationKey(kind: v.kind, thread: -1, location: 0, facts: ViolationFacts(count: v.facts.count)) }
        return ViolationKey(kind: v.kind, thread: -1, location: v.location, facts: v.location < 0 ? v.facts : ViolationFacts())
    }

    /// A violation seen in an execution that goes on (dpor halts only the violating thread).
    /// Each (kind, location) keeps the shortest, then lexicographically least, schedule that hit
    /// it: a representative that does not depend on the order of exploration (so `--jobs` and
    /// shards cannot change it).
    mutating func addViolation(_ v: Violation, schedule: [Int], seed: UInt64? = nil) {
        let key = ResultBuilder.key(v)
        if let i = violationIndex[key] {
            result.violations[i].occurrences += 1
            let old = result.violations[i].schedule
            if schedule.count < old.count || (schedule.count == old.count && schedule.lexicographicallyPrecedes(old)) {
                result.violations[i].violation = v
                result.violations[i].schedule = schedule
                result.violations[i].seed = seed
            }
        } else {
            violationIndex[key] = result.violations.count
            result.violations.append(FoundViolation(violation: v, schedule: schedule, seed: seed, occurrences: 1))
        }
    }

    /// The search ended early for `reason` (an earlier reason stays).
    mutating func stop(_ reason: StopReason) {
        result.complete = false
        if result.stopReason == nil { result.stopReason = reason }
    }

    /// The data races of an execution that ended with `terminal` (races do not end it): each
    /// counts once, with the schedule up to its second access; an execution that otherwise
    /// finished cleanly counts as violated.
    mutating func addDataRaces(_ races: [DataRace], schedule: [Int], terminal: Terminal) {
        guard !races.isEmpty else { return }
        for r in races { addViolation(r.violation, schedule: Array(schedule.prefix(r.step + 1))) }
        if case .outcome = terminal { result.violatedExecutions += 1 }
    }

    mutating func finish(elapsed: Double) -> ExplorationResult {
        result.outcomes = histogram.map { ($0.key, $0.value) }.sorted { a, b in a.0.lexicographicallyPrecedes(b.0) }
        result.violations.sort(by: FoundViolation.reportOrder)
        result.elapsed = elapsed
        return result
    }
}

/// What every strategy shares: the machine, the checkers, and how a state is classified.
package struct ExplorationContext: Sendable {
    package let machine: Machine
    package let checker: ExecutionChecker

    package init(machine: Machine) {
        self.machine = machine
        self.checker = ExecutionChecker(machine: machine)
    }

    package init(machine: Machine, checker: ExecutionChecker) {
        self.machine = machine
        self.checker = checker
    }

    /// Steps thread `t` and runs the per-step invariant.
    @inline(__always) @discardableResult
    package func step(_ s: inout State, _ t: Int) -> StepEvent {
        let event = machine.step(&s, t)
        if s.violation == nil && checker.hasInvariant, let v = checker.checkInvariant(s) { s.violation = v }
        return event
    }

    /// nil while the execution can go on; otherwise how it ended. `mask` is the enabled set.
    @inline(__always)
    package func terminal(_ s: State, mask: UInt64) -> Terminal? {
        if let v = s.violation { return .violation(v) }
        if s.pruned { return .pruned }
        if mask != 0 { return nil }
        if !s.allFinished {
            let firstBlocked = (0..<s.threads.count).first { s.threads[$0].status == .running } ?? 0
            let th = s.threads[firstBlocked]
            let loc = machine.program.functions[th.function].locations[Int(th.pc)]
            return .violation(Violation(kind: .deadlock, facts: ViolationFacts(cause: .deadlock), thread: -1, location: loc))
        }
        if let v = checker.checkFinal(s) { return .violation(v) }
        return .outcome(checker.observe(s))
    }
}

extension State {
    /// dpor's way with a violation by a thread: the thread is halted (it never runs again) and the
    /// violation is taken out of the state so the other threads run on; it is returned. Nil (and
    /// nothing changed) when there is no violation or it belongs to no thread.
    mutating func haltViolatingThread() -> Violation? {
        guard hasViolation, let v = violation, v.thread >= 0 else { return nil }
        violation = nil
        threads[v.thread].status = .finished
        changedThreads |= 1 << UInt64(v.thread)
        return v
    }
}

/// A search strategy. Each lives in its own file; the CLI picks one by name.
package protocol Strategy {
    var name: String { get }
    func explore(_ context: ExplorationContext, options: ExplorationOptions) -> ExplorationResult
}

/// Names the CLI accepts for `--strategy`.
package enum StrategyName: String, CaseIterable, Sendable {
    case auto, dpor, dfs, bfs, random, pct, axiomatic
    package func make() -> Strategy {
        switch self {
        case .auto: return AutomaticStrategy()
        case .dpor: return DynamicPartialOrderReduction()
        case .dfs: return DepthFirstSearch()
        case .bfs: return BreadthFirstSearch()
        case .random: return RandomWalk()
        case .pct: return ProbabilisticConcurrencyTesting()
        case .axiomatic: return AxiomaticSearch()
        }
    }
}


extension ResultBuilder {
    /// Adds another part of the same search (a subtree or a shard): counts add up, histograms
    /// merge, each violation keeps its canonical representative.
    mutating func merge(_ o: ResultBuilder) {
        result.executions += o.result.executions
        result.pruned += o.result.pruned
        result.filteredOut += o.result.filteredOut
        result.claimSatisfied += o.result.claimSatisfied
        result.claimViolated += o.result.claimViolated
        result.violatedExecutions += o.result.violatedExecutions
        result.steps += o.result.steps
        result.sleepBlocked += o.result.sleepBlocked
        result.lockRestarts += o.result.lockRestarts
        if !o.result.complete {
            result.complete = false
            if result.stopReason == nil { result.stopReason = o.result.stopReason }
        }
        for (k, v) in o.histogram { histogram[k, default: 0] += v }
        for f in o.result.violations {
            let first = f.occurrences
            addViolation(f.violation, schedule: f.schedule, seed: f.seed)
            let key = ResultBuilder.key(f.violation)
            result.violations[violationIndex[key]!].occurrences += first - 1
        }
    }
}

extension ResultBuilder {
    /// Takes over a finished result (e.g. one shard's, read back from its report) so that other
    /// parts can be merged into it.
    mutating func absorb(_ r: ExplorationResult) {
        var other = ResultBuilder(strategy: r.strategy, program: program)
        other.result = r
        other.result.outcomes = []
        other.result.violations = []
        for (values, count) in r.outcomes { other.histogram[values, default: 0] += count }
        for f in r.violations {
            other.violationIndex[ResultBuilder.key(f.violation)] = other.result.violations.count
            other.result.violations.append(f)
        }
        merge(other)
    }
}

/// Puts the parts of a split search back together (`faultline merge`): the parts' results, in
/// any order, give the result the unsplit search gives.
package func mergeResults(_ parts: [ExplorationResult], program: Program) -> ExplorationResult {
    var b = ResultBuilder(strategy: parts.first?.strategy ?? "", program: program)
    for p in parts { b.absorb(p) }
    return b.finish(elapsed: parts.map(\.elapsed).max() ?? 0)
}
