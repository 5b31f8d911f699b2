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
}

extension ResultBuilder {
    /// One finished execution: its terminal and its data races (a data race does not end an
    /// execution: each counts with the schedule up to its second access).
    mutating func add(_ terminal: Terminal, schedule: [Int], races: [DataRace], seed: UInt64? = nil) {
        add(terminal, schedule: schedule, seed: seed)
        addDataRaces(races, schedule: schedule, terminal: terminal)
    }

    /// One complete execution of a search that halts a violating thread and runs the others on
    /// (dpor and the top of a split search), once the violations and data races on its way have
    /// been recorded (`addViolation`, each with its canonical schedule): it counts as violated
    /// when a thread was halted (`violated`) or a data race happened (`raced`), else by how it
    /// ended, a violation of the whole execution with its canonical schedule (read off `clocks`,
    /// the path's vector clocks, when the search has them; else by replay).
    mutating func addComplete(_ ctx: ExplorationContext, _ terminal: Terminal, schedule: [Int], violated: Bool, raced: Bool,
                              clocks: @autoclosure () -> ArraySlice<Int32>? = nil) {
        if violated { result.executions += 1; result.violatedExecutions += 1 }
        else if case .outcome = terminal, raced { add(terminal, schedule: schedule); result.violatedExecutions += 1 }
        else if case .violation(let v) = terminal {
            let (w, canonical) = CanonicalSchedule.canonical(ctx, v, schedule, clocks: clocks())
            add(.violation(w), schedule: canonical)
        } else { add(terminal, schedule: schedule) }
    }
}
