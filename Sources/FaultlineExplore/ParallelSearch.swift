import Foundation
import FaultlineLanguage
import FaultlineMachine

/// Where a subtree search starts: a state reached by a schedule prefix, with the sleep set the
/// prefix enumeration gave it, and whether a thread already violated on the way.
struct SubtreeRoot: Sendable {
    var state: State
    var sleep: UInt64
    var prefix: [Int]
    var violated: Bool
    /// Violations on the prefix (threads halted there), counted by the executions of the subtree.
    var pending: [PendingViolation] = []
}

/// Splits one search into subtrees and runs them on `--jobs` worker threads, or only the subtrees
/// of one `--shard`. The top of the tree is enumerated first, level by level (every enabled
/// thread, minus sleep sets), until there are enough subtrees; each subtree is then searched on
/// its own from its root. Sleep sets guarantee that no two complete executions of different
/// subtrees are equivalent, and source-DPOR explores one execution per Mazurkiewicz trace, so the
/// counts are those of the unsplit search; every violation keeps its canonical representative and
/// results are merged in subtree order, so the report is byte-identical for any `--jobs` and for
/// shards put together by `faultline merge`. Every subtree draws on the run's one `SearchBudget`
/// (one execution count, one deadline); limits cut a split search at a different point than an
/// unsplit one, so a partial report may differ.
struct ParallelSearch: Sendable {
    typealias SubtreeSearch = @Sendable (ExplorationContext, ExplorationOptions, SubtreeRoot, inout ResultBuilder) -> Void
    let strategyName: String
    let subtree: SubtreeSearch

    /// How many subtrees to aim for: a function of the shard count (every shard must compute the
    /// same split) and of the jobs (enough pieces to balance the load).
    static func target(jobs: Int, shards: Int) -> Int { max(64, 8 * jobs, 8 * shards) }

    func explore(_ ctx: ExplorationContext, options: ExplorationOptions) -> ExplorationResult {
        var options = options
        let budget = options.runBudget()
        let start = monotonicSeconds()
        var top = ResultBuilder(strategy: strategyName, program: ctx.machine.program)
        let roots = frontier(ctx, target: ParallelSearch.target(jobs: options.jobs, shards: options.shard?.count ?? 1), budget: budget, into: &top)
        let shard = options.shard ?? Shard(index: 0, count: 1)
        // The executions that ended inside the enumerated top belong to shard 0.
        if shard.index != 0 { top = ResultBuilder(strategy: strategyName, program: ctx.machine.program) }
        let mine = roots.indices.filter { $0 % shard.count == shard.index }
        var subtreeOptions = options
        subtreeOptions.jobs = 1
        subtreeOptions.shard = nil
        let perSubtree = subtreeOptions
        let parts = parallelMap(mine.count, jobs: options.jobs) { k in
            var b = ResultBuilder(strategy: strategyName, program: ctx.machine.program)
            if let r = budget.exhausted() { b.stop(r) } else { subtree(ctx, perSubtree, roots[mine[k]], &b) }
            return b
        }
        var merged = top
        for b in parts { merged.merge(b) }
        merged.result.shard = options.shard
        return merged.finish(elapsed: monotonicSeconds() - start)
    }

    /// Enumerates the top of the tree breadth-first until a level has at least `target` nodes
    /// (or stops branching): executions that end on the way go to `builder`, in order.
    func frontier(_ ctx: ExplorationContext, target: Int, budget: SearchBudget, into builder: inout ResultBuilder) -> [SubtreeRoot] {
        let machine = ctx.machine
        let root = machine.initialState()
        if let t = ctx.classify(root).terminal { builder.add(t, schedule: []); return [] }
        var level = [SubtreeRoot(state: root, sleep: 0, prefix: [], violated: false)]
        var depth = 0
        while level.count < target && depth < 64 {
            var next: [SubtreeRoot] = []
            var branched = false
            for node in level {
                if let r = budget.exhausted() { builder.stop(r); return [] }
                let mask = machine.enabledMask(node.state)
                var explored: UInt64 = 0
                var awake = mask & ~node.sleep
                if awake.nonzeroBitCount > 1 { branched = true }
                while awake != 0 {
                    let t = awake.trailingZeroBitCount
                    awake &= awake - 1
                    let access = machine.pendingAccess(node.state, t)!
                    var childSleep: UInt64 = 0
                    var cand = (node.sleep | explored) & ~(1 << UInt64(t))
                    while cand != 0 {
                        let q = cand.trailingZeroBitCount; cand &= cand - 1
                        if let a = machine.pendingAccess(node.state, q), !a.conflicts(with: access) { childSleep |= 1 << UInt64(q) }
                    }
                    explored |= 1 << UInt64(t)
                    var child = node.state
                    var violated = node.violated
                    var pending = node.pending
                    let schedule = node.prefix + [t]
                    // Split only without an invariant (see DynamicPartialOrderReduction.explore).
                    let (cmask, end) = ctx.expand(&child, t, violated: &violated, parentRaces: node.state.dataRaces.count,
                                                  invariant: { _ in nil },
                                                  found: { pending.append(PendingViolation(depth: 0, violation: $0, schedule: schedule)) })
                    if let term = end {
                        builder.addComplete(ctx, term, schedule: schedule, violated: violated, raced: !child.dataRaces.isEmpty, pending: &pending)
                        if let r = budget.finishedExecution(builder.result) { builder.stop(r); return [] }
                        continue
                    }
                    if cmask & ~childSleep == 0 { builder.result.sleepBlocked += 1; continue }
                    next.append(SubtreeRoot(state: child, sleep: childSleep, prefix: schedule, violated: violated, pending: pending))
                }
            }
            level = next
            depth += 1
            if !branched && level.count <= 1 && depth > 16 { break }
        }
        return level
    }
}

/// `body(0..<count)` on up to `jobs` worker threads; the results in index order.
package func parallelMap<T>(_ count: Int, jobs: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
    let slots = Slots<T>(count: count)
    let work: @Sendable (Int) -> Void = { _ in
        while let k = slots.claim() { slots.store(k, body(k)) }
    }
    let workers = max(1, min(jobs, count))
    if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
    return slots.results.map { $0! }
}

/// Work distribution and result slots shared by the worker threads. Unchecked: `lock` guards
/// `next` and `results`, and each result is stored by one worker and read after all have ended.
private final class Slots<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private(set) var results: [T?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func claim() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard next < results.count else { return nil }
        next += 1
        return next - 1
    }

    func store(_ k: Int, _ b: T) {
        lock.lock(); defer { lock.unlock() }
        results[k] = b
    }
}
