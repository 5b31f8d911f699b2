import FaultlineLanguage
import FaultlineMachine

/// Probabilistic concurrency testing (PCT; Burckhardt, Kothari, Musuvathi, Nagarakatte,
/// ASPLOS 2010): samples `runs` executions, each a priority schedule with `depth - 1` priority
/// change points (fewer if the length estimate is shorter).
///
/// Why it exists: `random` picks uniformly at every step, so a bug that needs a few preemptions
/// at exactly the right places (an atomicity violation in a long thread) is found with a
/// probability that decays with the execution's length. PCT runs the highest-priority enabled
/// thread until it blocks, finishes or hits a change point, which guarantees that a bug of depth
/// `d` is found by one run with probability at least 1/(n·k^(d-1)) for n threads and k steps
/// (when the estimate k below is at least the execution's length), whatever the bug's position —
/// a bound uniform sampling does not have. Use it when `dpor` is too expensive and `random`
/// keeps missing.
///
/// One run (seed `SplitMix64.derive(seed, run)`): the n threads get the distinct initial
/// priorities d…d+n-1 in a random order (a Fisher–Yates shuffle); d-1 distinct change points
/// are drawn uniformly among the step indices 1…k, where k estimates the execution's length
/// (the number of visible instructions in the program for the first run, then the length of the
/// previous run of the session, so a session is deterministic). Before step c, the
/// highest-priority enabled thread is chosen; if c is the i-th change point that thread's
/// priority drops to d-i, below every initial one, and the choice is made again.
///
/// Replay: a PCT run depends on its seed, the depth and the length estimate (hence on the runs
/// before it), so `faultline replay --seed`, which re-runs a `random` walk, cannot reproduce it.
/// A violation found by PCT therefore records `seed: nil` and its schedule, and the report's
/// replay command is `faultline replay FILE --trace fl1:…`, which reproduces it exactly and is
/// checked against the program hash. `execute` reproduces a run from all three inputs.
package struct ProbabilisticConcurrencyTesting: Strategy {
    package var name: String { "pct" }
    package init() {}

    package func explore(_ ctx: ExplorationContext, options: ExplorationOptions) -> ExplorationResult {
        precondition(options.depth >= 1, "PCT depth must be at least 1")
        var options = options
        let budget = options.runBudget()
        let start = monotonicSeconds()
        var builder = ResultBuilder(strategy: name, program: ctx.machine.program)
        builder.result.complete = false
        var estimate = ProbabilisticConcurrencyTesting.initialLengthEstimate(ctx.machine.program)
        budget.expect(total: Double(min(options.runs, options.maxExecutions)))
        for run in 0..<min(options.runs, options.maxExecutions) {
            let seed = SplitMix64.derive(options.seed, run)
            var races: [DataRace] = []
            let (term, schedule) = ProbabilisticConcurrencyTesting.execute(ctx, seed: seed, depth: options.depth, lengthEstimate: estimate, races: &races)
            builder.result.steps += schedule.count
            builder.add(term, schedule: schedule, races: races, seed: nil)   // replayed by --trace, see above
            estimate = schedule.count
            if let r = budget.finishedExecution(builder.result), r != .maxExecutions { builder.stop(r); break }
        }
        builder.stop(options.runs > options.maxExecutions ? .maxExecutions : .sampled)
        return builder.finish(elapsed: monotonicSeconds() - start)
    }

    /// The first run's estimate of an execution's length: the visible instructions of the code
    /// threads run (every function but the `invariant` and `final` blocks), at least 1.
    package static func initialLengthEstimate(_ program: Program) -> Int {
        var n = 0
        for (i, f) in program.functions.enumerated() where i != program.invariantFunction && i != program.finalFunction {
            for instr in f.code where instr.isVisible { n += 1 }
        }
        return max(1, n)
    }

    /// One PCT execution: how it ended and the schedule it took. Deterministic in its inputs;
    /// `lengthEstimate` is the k among whose step indices 1…k the change points are drawn
    /// (values below 1 count as 1).
    package static func execute(_ ctx: ExplorationContext, seed: UInt64, depth: Int, lengthEstimate: Int) -> (Terminal, [Int]) {
        var races: [DataRace] = []
        return execute(ctx, seed: seed, depth: depth, lengthEstimate: lengthEstimate, races: &races)
    }

    /// The same, with the data races of the execution.
    package static func execute(_ ctx: ExplorationContext, seed: UInt64, depth: Int, lengthEstimate: Int, races: inout [DataRace]) -> (Terminal, [Int]) {
        precondition(depth >= 1, "PCT depth must be at least 1")
        var rng = SplitMix64(seed: seed)
        var s = ctx.machine.initialState()
        let n = s.threads.count

        // Initial priorities d…d+n-1, shuffled (Fisher–Yates).
        var priority = [Int](repeating: 0, count: n)
        for t in 0..<n { priority[t] = depth + t }
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) { priority.swapAt(i, rng.below(i + 1)) }
        }

        // d-1 distinct change points among 1…k (fewer if k < d-1): the i-th drawn (i from 1)
        // lowers to d-i. A partial Fisher–Yates over 1…k gives a uniform ordered sample.
        let k = max(1, lengthEstimate)
        let m = min(depth - 1, k)
        var changeStep: [Int] = []
        var changePriority: [Int] = []
        if m > 0 {
            var pool = Array(1...k)
            for i in 0..<m { pool.swapAt(i, i + rng.below(k - i)) }
            var points = (0..<m).map { (step: pool[$0], priority: depth - 1 - $0) }
            points.sort { $0.step < $1.step }              // steps are distinct
            changeStep = points.map(\.step)
            changePriority = points.map(\.priority)
        }

        var chooser = Priorities(priority: priority, changeStep: changeStep, changePriority: changePriority)
        var schedule: [Int] = []
        schedule.reserveCapacity(k)
        let end = ctx.run(&chooser, &s, schedule: &schedule)!   // it always picks
        races = s.dataRaces
        return (end, schedule)
    }

    /// The highest-priority enabled thread, after lowering the chosen one's priority at a change
    /// point (`changeStep[i]` is the step, counted from 1, before which the i-th change happens).
    struct Priorities: Chooser {
        var priority: [Int]
        let changeStep: [Int]
        let changePriority: [Int]
        var next = 0                                        // the next change point to reach

        init(priority: [Int], changeStep: [Int], changePriority: [Int]) {
            self.priority = priority; self.changeStep = changeStep; self.changePriority = changePriority
        }

        mutating func choose(_ state: State, enabled mask: UInt64, step: Int) -> Int? {
            var t = ProbabilisticConcurrencyTesting.highest(mask, priority)
            if next < changeStep.count && changeStep[next] == step + 1 {
                priority[t] = changePriority[next]
                next += 1
                t = ProbabilisticConcurrencyTesting.highest(mask, priority)
            }
            return t
        }
    }

    /// The enabled thread with the highest priority (`mask` is non-zero; priorities are distinct).
    @inline(__always)
    static func highest(_ mask: UInt64, _ priority: [Int]) -> Int {
        var m = mask
        var best = m.trailingZeroBitCount
        m &= m - 1
        while m != 0 {
            let t = m.trailingZeroBitCount
            if priority[t] > priority[best] { best = t }
            m &= m - 1
        }
        return best
    }
}
