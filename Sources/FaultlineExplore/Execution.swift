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
}

extension Chooser {
    package mutating func stepped(_ event: StepEvent, _ state: inout State) -> Bool { true }
}

extension ExplorationContext {
    /// Runs one execution on from `state`, `chooser` picking every step: enabled set → terminal?
    /// → pick → step (and invariant) → record. Returns how it ended, or nil when the chooser left
    /// it unfinished; `state` is the last state, `schedule` has every thread stepped appended.
    @inline(__always)
    package func run<C: Chooser>(_ chooser: inout C, _ state: inout State, schedule: inout [Int]) -> Terminal? {
        while true {
            let mask = state.violation == nil ? machine.enabledMask(state) : 0
            if let end = terminal(state, mask: mask) { return end }
            guard let t = chooser.choose(state, enabled: mask, step: schedule.count) else { return nil }
            let event = step(&state, t)
            schedule.append(t)
            guard chooser.stepped(event, &state) else { return nil }
        }
    }
}

extension ResultBuilder {
    /// One finished execution of a sampling strategy: its terminal, its data races, its steps.
    mutating func add(_ terminal: Terminal, schedule: [Int], races: [DataRace], seed: UInt64?) {
        result.steps += schedule.count
        add(terminal, schedule: schedule, seed: seed)
        addDataRaces(races, schedule: schedule, terminal: terminal)
    }
}
