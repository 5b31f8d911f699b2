import FaultlineLanguage
import FaultlineMachine

/// Samples `runs` executions, each choosing uniformly among the enabled threads with its own
/// PRNG seeded from `SplitMix64.derive(seed, run)`. A violation records that run's seed, which
/// `faultline replay --seed` takes.
public struct RandomWalk: Strategy {
    public var name: String { "random" }
    public init() {}

    public func explore(_ ctx: ExplorationContext, options: ExplorationOptions) -> ExplorationResult {
        let start = monotonicSeconds()
        var builder = ResultBuilder(strategy: name, program: ctx.machine.program)
        builder.result.complete = false
        var steps = 0
        for run in 0..<min(options.runs, options.maxExecutions) {
            let seed = SplitMix64.derive(options.seed, run)
            let (term, schedule) = RandomWalk.execute(ctx, seed: seed)
            steps += schedule.count
            builder.add(term, schedule: schedule, seed: seed)
            if run % 64 == 63, let limit = options.timeout, monotonicSeconds() - start > limit {
                builder.result.stopReason = "timeout"
                break
            }
        }
        builder.result.steps = steps
        return builder.finish(elapsed: monotonicSeconds() - start)
    }

    /// One random execution from a run seed: how it ended and the schedule it took.
    public static func execute(_ ctx: ExplorationContext, seed: UInt64) -> (Terminal, [Int]) {
        var rng = SplitMix64(seed: seed)
        var s = ctx.machine.initialState()
        var schedule: [Int] = []
        while true {
            let mask = s.violation == nil ? ctx.machine.enabledMask(s) : 0
            if let t = ctx.terminal(s, mask: mask) { return (t, schedule) }
            let k = rng.below(mask.nonzeroBitCount)
            var m = mask
            for _ in 0..<k { m &= m - 1 }
            let t = m.trailingZeroBitCount
            ctx.step(&s, t)
            schedule.append(t)
        }
    }
}
