import FaultlineLanguage
import FaultlineMachine

/// What a strategy that runs one execution at a time decides: which enabled thread takes the next
/// step. Everything else (the enabled set, whether the execution has ended, the step with its
/// per-step invariant, the schedule) is `ExplorationContext.run`'s, the one loop `random`, `pct`,
/// replay, shrinking and canonical replay share, as shuttle's `Scheduler` only chooses and one
/// runner runs. Generic, never existential: `run` is specialised for each chooser.
package protocol Chooser {
    /// The thread to step in `state`: one of `enabled` (never empty), or nil to leave the
    /// execution unfinished here. `step` is the number of steps taken so far.
    mutating func choose(_ state: State, enabled: UInt64, step: Int) -> Int?
    /// After each step, with what it did: false leaves the execution unfinished after it. May
    /// change the state (canonical replay halts a thread that violated, as dpor does).
    mutating func stepped(_ event: StepEvent, _ state: inout State) -> Bool
    /// Whether the execution has ended at `state`: by default as `ExplorationContext.terminal`
    /// says. (Canonical replay follows dpor, which runs on past a thread it halted.)
    func ended(_ state: State, enabled: UInt64, in context: ExplorationContext) -> Terminal?
}

extension Chooser {
    package mutating func stepped(_ event: StepEvent, _ state: inout State) -> Bool { true }
    @inline(__always)
    package func ended(_ state: State, enabled: UInt64, in context: ExplorationContext) -> Terminal? {
        context.terminal(state, mask: enabled)
    }
}

extension ExplorationContext {
    /// Runs one execution on from `state`, `chooser` picking every step: enabled set → terminal?
    /// → pick → step (and invariant) → record. Returns how it ended, or nil when the chooser left
    /// it unfinished; `state` is the last state, `schedule` has every thread stepped appended.
    @inline(__always)
    package func run<C: Chooser>(_ chooser: inout C, _ state: inout State, schedule: inout [Int]) -> Terminal? {
        while true {
            let mask = state.violation == nil ? machine.enabledMask(state) : 0
            if let end = chooser.ended(state, enabled: mask, in: self) { return end }
            guard let t = chooser.choose(state, enabled: mask, step: schedule.count) else { return nil }
            let event = step(&state, t)
            schedule.append(t)
            guard chooser.stepped(event, &state) else { return nil }
        }
    }
}

extension ExplorationContext {
    /// The tree searches' (dfs, bfs, dpor and the top of a split search) one classification of
    /// a state they reached: its enabled set, and how the execution ended there (nil: it goes
    /// on). On a path where a thread violated and was halted (`violated`: dpor's way), the others
    /// run on, and the end is only that (`pruned`): the violations were recorded on the way.
    @inline(__always)
    func classify(_ s: State, violated: Bool = false) -> (mask: UInt64, terminal: Terminal?) {
        let mask = s.hasViolation ? 0 : machine.enabledMask(s)
        return (mask, violated ? (mask == 0 ? .pruned : nil) : terminal(s, mask: mask))
    }

    /// The tree searches' one expansion of a node by thread `t` (dfs, bfs): `child`, a copy of
    /// the node's state in the caller's storage, takes t's step (with the per-step invariant)
    /// and is classified. The caller records it (`ResultBuilder.add(_:schedule:races:)`).
    @inline(__always)
    func expand(_ child: inout State, _ t: Int) -> (mask: UInt64, terminal: Terminal?) {
        step(&child, t)
        return classify(child)
    }

    /// The same for a search that halts a violating thread and runs the others on (dpor, the
    /// top of a split search; `child` may be a pooled state `assign`ed from the node's): a broken
    /// invariant (`invariant`, asked only on a path nothing violated yet; it does not end the
    /// execution) or a thread's violation (the thread is halted) marks the path `violated`; both,
    /// and the data races the step added to the parent's first `parentRaces`, go to `found`, to
    /// count for every complete execution through them (`ResultBuilder.addComplete`).
    @inline(__always)
    func expand(_ child: inout State, _ t: Int, violated: inout Bool, parentRaces: Int,
                invariant: (State) -> Violation?, found: (Violation) -> Void) -> (mask: UInt64, terminal: Terminal?) {
        machine.step(&child, t)
        if !violated && !child.hasViolation, let v = invariant(child) { found(v); violated = true }
        if let v = child.haltViolatingThread() { found(v); violated = true }
        for r in child.dataRaces.dropFirst(parentRaces) { found(r.violation) }
        return classify(child, violated: violated)
    }
}

/// A violation on the path of a search that halts the violating thread and runs the others on
/// (dpor, the top of a split search): every complete execution through it counts it, with its
/// canonical schedule, computed once.
struct PendingViolation: Sendable {
    /// dpor: the depth of the node it was found at (it is dropped when the search backs up past it).
    var depth: Int
    var violation: Violation
    var schedule: [Int]
    var canonical: (Violation, [Int])? = nil
}

extension ResultBuilder {
    /// One finished execution: its terminal and its data races (a data race does not end an
    /// execution: each counts with the schedule up to its second access).
    mutating func add(_ terminal: Terminal, schedule: [Int], races: [DataRace], seed: UInt64? = nil) {
        add(terminal, schedule: schedule, seed: seed)
        addDataRaces(races, schedule: schedule, terminal: terminal)
    }

    /// One complete execution of a search that halts a violating thread and runs the others on
    /// (dpor and the top of a split search): first every violation and data race on its way
    /// (`pending`, each with its canonical schedule), then the execution itself: it counts as
    /// violated when a thread was halted (`violated`) or a data race happened (`raced`), else by
    /// how it ended, a violation of the whole execution with its canonical schedule. Canonical
    /// schedules are read off `clocks(steps)`, the vector clocks of the path's first steps, when
    /// the search has them (else found by replay).
    mutating func addComplete(_ ctx: ExplorationContext, _ terminal: Terminal, schedule: [Int], violated: Bool, raced: Bool,
                              pending: inout [PendingViolation], clocks: (Int) -> ArraySlice<Int32>? = { _ in nil }) {
        for i in pending.indices {
            if pending[i].canonical == nil {
                pending[i].canonical = CanonicalSchedule.canonical(ctx, pending[i].violation, pending[i].schedule, clocks: clocks(pending[i].schedule.count))
            }
            addViolation(pending[i].canonical!.0, schedule: pending[i].canonical!.1)
        }
        if violated { result.executions += 1; result.violatedExecutions += 1 }
        else if case .outcome = terminal, raced { add(terminal, schedule: schedule); result.violatedExecutions += 1 }
        else if case .violation(let v) = terminal {
            let (w, canonical) = CanonicalSchedule.canonical(ctx, v, schedule, clocks: clocks(schedule.count))
            add(.violation(w), schedule: canonical)
        } else { add(terminal, schedule: schedule) }
    }
}
