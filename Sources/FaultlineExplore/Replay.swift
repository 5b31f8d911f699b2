import FaultlineLanguage
import FaultlineMachine

/// Re-runs one schedule step by step, keeping every event for the trace.
package struct Replay {
    package enum Failure: Error, CustomStringConvertible {
        case threadNotEnabled(step: Int, thread: Int)
        case noSuchThread(step: Int, thread: Int)
        case endedEarly(step: Int)
        package var description: String {
            switch self {
            case .threadNotEnabled(let s, let t): return "step \(s + 1) schedules P\(t), which cannot run there: the token does not fit this program"
            case .noSuchThread(let s, let t): return "step \(s + 1) schedules P\(t), but the program has no such thread"
            case .endedEarly(let s): return "the execution ended after \(s) steps, before the schedule did"
            }
        }
    }

    /// The events, the final state, and how the execution ended (nil if the schedule stops
    /// while threads can still run).
    package struct Outcome {
        package var events: [StepEvent]
        package var state: State
        package var terminal: Terminal?
    }

    /// `beforeStep` sees the state before each step and the thread about to take it (traces
    /// read call stacks and pending accesses there).
    package static func run(_ ctx: ExplorationContext, schedule: [Int], beforeStep: (State, Int) -> Void = { _, _ in }) throws -> Outcome {
        try withoutActuallyEscaping(beforeStep) { beforeStep in
            var script = Script(schedule: schedule, beforeStep: beforeStep)
            var s = ctx.machine.initialState()
            var taken: [Int] = []
            taken.reserveCapacity(schedule.count)
            let end = ctx.run(&script, &s, schedule: &taken)
            if let failure = script.failure { throw failure }
            if end != nil && script.next < schedule.count { throw Failure.endedEarly(step: script.next) }
            return Outcome(events: script.events, state: s, terminal: end)
        }
    }

    /// Picks the schedule's threads in order, refusing one that cannot run; keeps every event.
    struct Script: Chooser {
        let schedule: [Int]
        let beforeStep: (State, Int) -> Void
        var next = 0
        var failure: Failure? = nil
        var events: [StepEvent] = []

        mutating func choose(_ state: State, enabled mask: UInt64, step: Int) -> Int? {
            guard next < schedule.count else { return nil }
            let t = schedule[next]
            guard t < state.threads.count else { failure = .noSuchThread(step: next, thread: t); return nil }
            guard (mask >> UInt64(t)) & 1 == 1 else { failure = .threadNotEnabled(step: next, thread: t); return nil }
            beforeStep(state, t)
            next += 1
            return t
        }

        mutating func stepped(_ event: StepEvent, _ state: inout State) -> Bool {
            events.append(event)
            return true
        }
    }

    /// Replays a random run from its own seed.
    package static func run(_ ctx: ExplorationContext, seed: UInt64) throws -> Outcome {
        let (_, schedule) = RandomWalk.execute(ctx, seed: seed)
        return try run(ctx, schedule: schedule)
    }
}
