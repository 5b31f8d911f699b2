import FaultlineLanguage
import FaultlineMachine

/// Samples `runs` executions, each choosing uniformly among the enabled threads with its own
/// PRNG seeded from `SplitMix64.derive(seed, run)`. A violation records that run's seed, which
/// `faultline replay --seed` takes.
package struct RandomWalk: Strategy {
    package var name: String { "random" }
    package init() {}

    package func explore(_ ctx: ExplorationContext, options: ExplorationOptions) -> ExplorationResult {
        var options = options
        let budget = options.runBudget()
        let start = monotonicSeconds()
        let total = min(options.runs, options.maxExecutions)
        // Runs are independent: blocks of 64 go to shards (block mod N) and to worker threads,
        // and are merged in run order, so the report does not depend on --jobs or sharding.
        // (`total` already bounds the executions: the budget stops a block only for time,
        // memory, an interrupt or `stopWhen`; the blocks after a stopped one are dropped.)
        // Blocks are handed out a batch at a time (not all at once: --runs can be in the millions).
        let blockSize = 64
        let shard = options.shard ?? Shard(index: 0, count: 1)
        let blockCount = (total + blockSize - 1) / blockSize
        let mine = blockCount > shard.index ? (blockCount - shard.index + shard.count - 1) / shard.count : 0   // blocks index + j·count
        let batch = max(16, 4 * options.jobs)
        let name = self.name, sessionSeed = options.seed
        var builder = ResultBuilder(strategy: name, program: ctx.machine.program)
        budget.expect(total: Double(min(total, mine * blockSize)))
        var next = 0
        while next < mine && builder.result.stopReason == nil {
            let blocks = (next..<min(next + batch, mine)).map { shard.index + $0 * shard.count }
            next += blocks.count
            let parts = parallelMap(blocks.count, jobs: options.jobs) { k -> ResultBuilder in
                var b = ResultBuilder(strategy: name, program: ctx.machine.program)
                if let r = budget.exhausted() { b.stop(r); return b }
                for run in (blocks[k] * blockSize)..<min((blocks[k] + 1) * blockSize, total) {
                    let seed = SplitMix64.derive(sessionSeed, run)
                    var races: [DataRace] = []
                    let (term, schedule) = RandomWalk.execute(ctx, seed: seed, races: &races)
                    b.result.steps += schedule.count
                    b.add(term, schedule: schedule, races: races, seed: seed)
                    if let r = budget.finishedExecution(b.result), r != .maxExecutions { b.stop(r); break }
                }
                return b
            }
            for p in parts where builder.result.stopReason == nil { builder.merge(p) }
        }
        builder.stop(total < options.runs ? .maxExecutions : .sampled)
        builder.result.shard = options.shard
        return builder.finish(elapsed: monotonicSeconds() - start)
    }

    /// One random execution from a run seed: how it ended and the schedule it took.
    package static func execute(_ ctx: ExplorationContext, seed: UInt64) -> (Terminal, [Int]) {
        var races: [DataRace] = []
        return execute(ctx, seed: seed, races: &races)
    }

    /// The same, with the data races of the execution.
    package static func execute(_ ctx: ExplorationContext, seed: UInt64, races: inout [DataRace]) -> (Terminal, [Int]) {
        var chooser = Uniform(rng: SplitMix64(seed: seed))
        var s = ctx.machine.initialState()
        var schedule: [Int] = []
        let end = ctx.run(&chooser, &s, schedule: &schedule)!   // it always picks
        races = s.dataRaces
        return (end, schedule)
    }

    /// Picks uniformly among the enabled threads.
    struct Uniform: Chooser {
        var rng: SplitMix64
        mutating func choose(_ state: State, enabled mask: UInt64, step: Int) -> Int? {
            let k = rng.below(mask.nonzeroBitCount)
            var m = mask
            for _ in 0..<k { m &= m - 1 }
            return m.trailingZeroBitCount
        }
    }
}
