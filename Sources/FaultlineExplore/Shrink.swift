import FaultlineLanguage
import FaultlineMachine

/// Reduces a failing schedule to fewer context switches before it is shown: a reviewer reads a
/// trace with three switches, not forty. Greedy and deterministic: the schedule is cut into runs
/// (one thread's consecutive steps); a candidate moves one run next to another run of the same
/// thread (or drops it, so its steps happen at the end); the candidate is replayed *leniently*
/// (an entry whose thread cannot run is skipped; when the plan is used up, the last thread runs
/// on, else the lowest runnable one) and kept when it reaches the same violation (kind and source
/// location) as the first violation of the execution with fewer switches (then fewer steps). The
/// schedule actually executed is the result, so it replays exactly with `faultline replay --trace`.
/// The work is bounded by a step budget, so the result is the same on every machine — unless the
/// run's `SearchBudget` runs out first (its deadline, memory, an interrupt): then the best schedule
/// so far is the result. Candidates are made one at a time (a schedule with r runs has O(r²)).
package struct Shrinker {
    package var stepBudget: Int
    let ctx: ExplorationContext
    let budget: SearchBudget?

    package init(_ ctx: ExplorationContext, stepBudget: Int = 2_000_000, budget: SearchBudget? = nil) {
        self.ctx = ctx
        self.stepBudget = stepBudget
        self.budget = budget
    }

    var mayGoOn: Bool { stepBudget > 0 && (budget?.mayContinueAfterSearch ?? true) }

    /// A shorter-to-read schedule reaching `target` (the input when nothing better is found or the
    /// input does not reach `target` as its first violation).
    package mutating func shrink(_ schedule: [Int], target: Violation) -> [Int] {
        shrinkReturningViolation(schedule, target: target).1
    }

    /// The shrunk schedule with the violation it reaches (its message may name other objects than
    /// the input's did: object ids follow allocation order).
    package mutating func shrinkReturningViolation(_ schedule: [Int], target: Violation) -> (Violation, [Int]) {
        guard let first = run(schedule, target: target) else { return (target, schedule) }
        var best = first
        var bestKey = Shrinker.cost(best.0)
        var improved = true
        while improved && mayGoOn {
            improved = false
            Shrinker.candidates(Shrinker.runs(best.0)) { candidate in
                guard mayGoOn else { return false }
                guard let got = run(candidate, target: target) else { return true }
                let key = Shrinker.cost(got.0)
                if key.0 < bestKey.0 || (key.0 == bestKey.0 && key.1 < bestKey.1) {
                    best = got; bestKey = key
                    improved = true
                    return false
                }
                return true
            }
        }
        return (best.1, best.0)
    }

    /// (context switches, steps).
    static func cost(_ s: [Int]) -> (Int, Int) {
        var switches = 0
        for i in s.indices.dropFirst() where s[i] != s[i - 1] { switches += 1 }
        return (switches, s.count)
    }

    /// Maximal runs of one thread: (thread, length).
    static func runs(_ s: [Int]) -> [(Int, Int)] {
        var r: [(Int, Int)] = []
        for t in s {
            if let last = r.last, last.0 == t { r[r.count - 1].1 += 1 } else { r.append((t, 1)) }
        }
        return r
    }

    /// Candidate plans, in a fixed order, one at a time to `body` until it returns false: for runs
    /// i < j of the same thread, pull j back to i, push i forward to j; then drop each run (its
    /// steps run at the end).
    static func candidates(_ runs: [(Int, Int)], _ body: ([Int]) -> Bool) {
        func flatten(_ rs: [(Int, Int)]) -> [Int] { rs.flatMap { repeatElement($0.0, count: $0.1) } }
        for i in runs.indices {
            for j in runs.indices where j > i + 1 && runs[j].0 == runs[i].0 {
                var pulled = runs
                let rj = pulled.remove(at: j)
                pulled.insert(rj, at: i + 1)
                if !body(flatten(pulled)) { return }
                var pushed = runs
                let ri = pushed.remove(at: i)
                pushed.insert(ri, at: j - 1)
                if !body(flatten(pushed)) { return }
            }
        }
        for i in runs.indices {
            var dropped = runs
            dropped.remove(at: i)
            if !body(flatten(dropped)) { return }
        }
    }

    /// Lenient replay of `plan`: the executed schedule if the execution's first violation is
    /// `target`, else nil.
    mutating func run(_ plan: [Int], target: Violation) -> ([Int], Violation)? {
        var lenient = Lenient(plan: plan, target: target, stepBudget: stepBudget)
        var s = ctx.machine.initialState()
        var executed: [Int] = []
        let end = ctx.run(&lenient, &s, schedule: &executed)
        stepBudget = lenient.stepBudget
        if let r = lenient.race { return (executed, r) }
        if case .violation(let v)? = end {
            if Shrinker.same(v, target) { return (executed, v) }
            if let w = v.alsoFound.first(where: { Shrinker.same($0, target) }) { return (executed, w) }
        }
        return nil
    }

    /// Follows a plan leniently: an entry whose thread cannot run is skipped; when the plan is used
    /// up, the last thread runs on, else the lowest runnable one. Stops when the step budget is
    /// spent, or at the step where a data race like `target` (when it is one) appears: a data race
    /// does not end the execution, so its step is where the schedule ends.
    struct Lenient: Chooser {
        let plan: [Int]
        let target: Violation
        var stepBudget: Int
        var i = 0
        var last = -1
        var racesBefore = 0
        var race: Violation? = nil

        init(plan: [Int], target: Violation, stepBudget: Int) {
            self.plan = plan; self.target = target; self.stepBudget = stepBudget
        }

        mutating func choose(_ state: State, enabled mask: UInt64, step: Int) -> Int? {
            guard stepBudget > 0 else { return nil }
            var t = -1
            while i < plan.count {
                let p = plan[i]; i += 1
                if p < 64 && (mask >> UInt64(p)) & 1 == 1 { t = p; break }
            }
            if t < 0 { t = last >= 0 && (mask >> UInt64(last)) & 1 == 1 ? last : mask.trailingZeroBitCount }
            racesBefore = state.dataRaces.count
            last = t
            return t
        }

        mutating func stepped(_ event: StepEvent, _ state: inout State) -> Bool {
            stepBudget -= 1
            if target.kind == .dataRace, let r = state.dataRaces.dropFirst(racesBefore).first(where: { Shrinker.same($0.violation, target) }) {
                race = r.violation
                return false
            }
            return true
        }
    }

    /// The same violation: kind and source line (a step bound by the same thread, wherever in its
    /// loop it ran out; a livelock of the same CPUs, wherever its lap closed).
    static func same(_ a: Violation, _ b: Violation) -> Bool {
        guard a.kind == b.kind else { return false }
        if a.kind == .dataRace {   // the same pair of accesses, in either order
            return (a.location == b.location && a.otherLocation == b.otherLocation) || (a.location == b.otherLocation && a.otherLocation == b.location)
        }
        if a.kind == .livelock { return a.facts.address == b.facts.address }
        return a.kind == .stepBound ? a.thread == b.thread : a.location == b.location
    }
}

extension ExplorationResult {
    /// Every violation's schedule shrunk (`Shrinker`); violations found by seed are then shown by
    /// trace, which replays exactly. With a `budget`, shrinking stops when it runs out (each
    /// violation keeps the best schedule found so far).
    package mutating func shrinkViolations(_ ctx: ExplorationContext, budget: SearchBudget? = nil) {
        for i in violations.indices {
            var shrinker = Shrinker(ctx, budget: budget)
            let (v, shrunk) = shrinker.shrinkReturningViolation(violations[i].schedule, target: violations[i].violation)
            if shrunk != violations[i].schedule {
                violations[i].schedule = shrunk
                violations[i].violation = v
                violations[i].seed = nil
            }
        }
    }
}
