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
        var s = ctx.machine.initialState()
        var events: [StepEvent] = []
        for (i, t) in schedule.enumerated() {
            let mask = s.violation == nil ? ctx.machine.enabledMask(s) : 0
            if ctx.terminal(s, mask: mask) != nil { throw Failure.endedEarly(step: i) }
            guard t < s.threads.count else { throw Failure.noSuchThread(step: i, thread: t) }
            guard (mask >> UInt64(t)) & 1 == 1 else { throw Failure.threadNotEnabled(step: i, thread: t) }
            beforeStep(s, t)
            events.append(ctx.machine.step(&s, t))
            if s.violation == nil && ctx.checker.hasInvariant, let v = ctx.checker.checkInvariant(s) { s.violation = v }
        }
        let mask = s.violation == nil ? ctx.machine.enabledMask(s) : 0
        return Outcome(events: events, state: s, terminal: ctx.terminal(s, mask: mask))
    }

    /// Replays a random run from its own seed.
    package static func run(_ ctx: ExplorationContext, seed: UInt64) throws -> Outcome {
        let (_, schedule) = RandomWalk.execute(ctx, seed: seed)
        return try run(ctx, schedule: schedule)
    }
}
