import FaultlineLanguage
import FaultlineMachine

/// One schedule per violation that does not depend on the order the search went in: the
/// lexicographically least linearization (lowest thread first whenever several may go) of the
/// violating step's causal past — or, for a violation of a whole execution (deadlock, `final`,
/// leak), of the whole execution. Equivalent interleavings have the same canonical schedule, so
/// the representative a split search (`--jobs`, shards) reports is the one an unsplit search reports.
enum CanonicalSchedule {
    /// Replays `schedule` as dpor runs it (a thread that violates before the last step is halted
    /// and the others go on): the state it ends in and each step's thread and access, or nil if
    /// the schedule does not fit the program.
    static func replay(_ ctx: ExplorationContext, _ schedule: [Int]) -> (State, [(Int, Access)])? {
        var chooser = AsSearched(schedule: schedule, machine: ctx.machine)
        var s = ctx.machine.initialState()
        var taken: [Int] = []
        taken.reserveCapacity(schedule.count)
        _ = ctx.run(&chooser, &s, schedule: &taken)
        guard taken.count == schedule.count else { return nil }
        return (s, chooser.steps)
    }

    /// Takes the schedule's threads in order, recording each step's access; a thread that
    /// violates before the last step is halted and the others go on (a violation of the last step
    /// stays in the state). The execution ends only where the schedule does, or where a thread
    /// cannot take its step there (a violation left in the state, or not enabled).
    struct AsSearched: Chooser {
        let schedule: [Int]
        let machine: Machine
        var steps: [(Int, Access)] = []

        mutating func choose(_ state: State, enabled mask: UInt64, step i: Int) -> Int? {
            guard i < schedule.count else { return nil }
            let t = schedule[i]
            guard state.violation == nil, (mask >> UInt64(t)) & 1 == 1, let a = machine.pendingAccess(state, t) else { return nil }
            steps.append((t, a))
            return t
        }

        mutating func stepped(_ event: StepEvent, _ state: inout State) -> Bool {
            if steps.count < schedule.count { _ = state.haltViolatingThread() }
            return true
        }

        func ended(_ state: State, enabled: UInt64, in context: ExplorationContext) -> Terminal? { nil }
    }

    /// The lexicographically least linearization of the causal past of the last step
    /// (`causalOnly`) or of all the steps. Happens-before is computed as dpor computes it: only
    /// the earlier steps on the same object (or, for virtual locations, the virtual steps) can
    /// conflict, so each step is compared with those, not with every earlier step.
    static func linearize(_ steps: [(Int, Access)], threads n: Int, causalOnly: Bool) -> [Int] {
        let m = steps.count
        guard m > 0 else { return [] }
        var clocks = [Int32](repeating: 0, count: m * n)
        var last = [Int32](repeating: 0, count: n * n)
        var onObject: [Int: [Int]] = [:]       // object id (-1: virtual locations) → its steps so far
        for i in 0..<m {
            let (t, a) = steps[i]
            for u in 0..<n { clocks[i * n + u] = last[t * n + u] }
            let key = a.location < 0 ? -1 : Address.object(a.location)
            for j in onObject[key, default: []] where steps[j].0 != t && steps[j].1.conflicts(with: a) {
                for u in 0..<n where clocks[j * n + u] > clocks[i * n + u] { clocks[i * n + u] = clocks[j * n + u] }
            }
            onObject[key, default: []].append(i)
            clocks[i * n + t] += 1
            for u in 0..<n { last[t * n + u] = clocks[i * n + u] }
        }
        return linearize(threads: steps.map(\.0), clocks: clocks, threads: n, causalOnly: causalOnly)
    }

    /// The same from the steps' threads and vector clocks (`clocks[i * n + u]`: how many steps of
    /// thread u happen before step i, inclusive), as the dpor search keeps them.
    static func linearize(threads stepThreads: [Int], clocks: [Int32], threads n: Int, causalOnly: Bool) -> [Int] {
        let m = stepThreads.count
        guard m > 0 else { return [] }
        // Per thread, the selected steps in program order (a per-thread prefix: the causal past is
        // closed under happens-before).
        var queues = [[Int]](repeating: [], count: n)
        for i in 0..<m {
            let t = stepThreads[i]
            if !causalOnly || clocks[i * n + t] <= clocks[(m - 1) * n + t] { queues[t].append(i) }
        }
        var head = [Int](repeating: 0, count: n)
        var done = [Int32](repeating: 0, count: n)
        var out: [Int] = []
        let total = queues.reduce(0) { $0 + $1.count }
        while out.count < total {
            var picked = false
            for u in 0..<n where head[u] < queues[u].count {
                let e = queues[u][head[u]]
                var ready = true
                for w in 0..<n where w != u && clocks[e * n + w] > done[w] { ready = false; break }
                if ready {
                    out.append(u); head[u] += 1; done[u] += 1; picked = true
                    break
                }
            }
            if !picked { return stepThreads }   // cannot happen for a consistent order; keep the input
        }
        return out
    }

    /// The canonical (violation, schedule) for a violation `v` reached by `schedule` (the input
    /// when the canonical schedule does not reproduce it). `clocks`: the schedule's steps' vector
    /// clocks (`n` per step, as dpor keeps them), when the caller has them: then happens-before
    /// is read off them, not computed again from a replay.
    static func canonical(_ ctx: ExplorationContext, _ v: Violation, _ schedule: [Int], clocks: ArraySlice<Int32>? = nil) -> (Violation, [Int]) {
        guard !ctx.checker.hasInvariant else { return (v, schedule) }
        let n = ctx.machine.program.threadCount
        let lin: [Int]
        if let clocks, clocks.count == schedule.count * n {
            lin = linearize(threads: schedule, clocks: Array(clocks), threads: n, causalOnly: v.thread >= 0)
        } else {
            guard let (_, steps) = replay(ctx, schedule) else { return (v, schedule) }
            lin = linearize(steps, threads: n, causalOnly: v.thread >= 0)
        }
        if lin == schedule { return (v, schedule) }
        // Replay it: the violation it gives is the one to show (messages name objects by id).
        guard let (s, _) = replay(ctx, lin) else { return (v, schedule) }
        if v.kind == .dataRace {
            if let w = s.dataRaces.last(where: { Shrinker.same($0.violation, v) }) { return (w.violation, lin) }
            return (v, schedule)
        }
        if v.thread >= 0 {
            if let w = s.violation, w.kind == v.kind, w.location == v.location { return (w, lin) }
            return (v, schedule)
        }
        let mask = s.violation == nil ? ctx.machine.enabledMask(s) : 0
        if case .violation(let w)? = ctx.terminal(s, mask: mask), Shrinker.same(w, v) { return (w, lin) }
        return (v, schedule)
    }
}
