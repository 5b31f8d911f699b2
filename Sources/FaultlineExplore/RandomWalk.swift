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
        let total = min(options.runs, options.maxExecutions)
        // Runs are independent: blocks of 64 go to shards (block mod N) and to worker threads,
        // and are merged in run order, so the report does not depend on --jobs or sharding.
        let blockSize = 64
        let shard = options.shard ?? Shard(index: 0, count: 1)
        let blocks = Array(stride(from: 0, to: total, by: blockSize)).enumerated().filter { $0.offset % shard.count == shard.index }.map(\.element)
        let deadline = options.timeout.map { start + $0 }
        let name = self.name
        let parts = parallelMap(blocks.count, jobs: options.jobs) { k -> ResultBuilder in
            var b = ResultBuilder(strategy: name, program: ctx.machine.program)
            if let deadline, monotonicSeconds() > deadline { b.result.complete = false; b.result.stopReason = "timeout"; return b }
            for run in blocks[k]..<min(blocks[k] + blockSize, total) {
                let seed = SplitMix64.derive(options.seed, run)
                var races: [DataRace] = []
                let (term, schedule) = RandomWalk.execute(ctx, seed: seed, races: &races)
                b.result.steps += schedule.count
                b.add(term, schedule: schedule, seed: seed)
                b.addDataRaces(races, schedule: schedule, terminal: term)
            }
            if let deadline, monotonicSeconds() > deadline { b.result.complete = false; b.result.stopReason = "timeout" }
            return b
        }
        var builder = ResultBuilder(strategy: name, program: ctx.machine.program)
        for p in parts where builder.result.stopReason == nil { builder.merge(p) }
        builder.result.complete = false
        builder.result.shard = options.shard
        return builder.finish(elapsed: monotonicSeconds() - start)
    }

    /// One random execution from a run seed: how it ended and the schedule it took.
    public static func execute(_ ctx: ExplorationContext, seed: UInt64) -> (Terminal, [Int]) {
        var races: [DataRace] = []
        return execute(ctx, seed: seed, races: &races)
    }

    /// The same, with the data races of the execution.
    public static func execute(_ ctx: ExplorationContext, seed: UInt64, races: inout [DataRace]) -> (Terminal, [Int]) {
        var rng = SplitMix64(seed: seed)
        var s = ctx.machine.initialState()
        var schedule: [Int] = []
        while true {
            let mask = s.violation == nil ? ctx.machine.enabledMask(s) : 0
            if let t = ctx.terminal(s, mask: mask) { races = s.dataRaces; return (t, schedule) }
            let k = rng.below(mask.nonzeroBitCount)
            var m = mask
            for _ in 0..<k { m &= m - 1 }
            let t = m.trailingZeroBitCount
            ctx.step(&s, t)
            schedule.append(t)
        }
    }
}
