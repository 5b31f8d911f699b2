import FaultlineLanguage
import FaultlineMachine

/// Exhaustive stateless depth-first search over every interleaving (threads tried in index
/// order, so the order of discovery is deterministic). With `preemptionBound`, schedules that
/// switch away from a still-enabled thread more than K times are skipped (and the result is
/// marked incomplete if anything was skipped). Memory is proportional to the depth.
package struct DepthFirstSearch: Strategy, Sendable {
    package var name: String { "dfs" }
    package init() {}

    struct Node {
        var state: State
        var mask: UInt64
        var next: Int
        var last: Int          // thread that took the step into this node (-1 at the root)
        var preemptions: Int
    }

    package func explore(_ ctx: ExplorationContext, options: ExplorationOptions) -> ExplorationResult {
        var options = options
        let budget = options.runBudget()
        let start = monotonicSeconds()
        var builder = ResultBuilder(strategy: name, program: ctx.machine.program)
        var schedule: [Int] = []
        let root = ctx.machine.initialState()
        let (rootMask, rootEnd) = ctx.classify(root)
        if let t = rootEnd {
            builder.add(t, schedule: [])
            return builder.finish(elapsed: monotonicSeconds() - start)
        }
        var stack: [Node] = [Node(state: root, mask: rootMask, next: 0, last: -1, preemptions: 0)]
        var skipped = false
        let n = root.threads.count
        var sinceClock = 0
        var estimate = TreeSizeEstimate()
        var steps = 0
        search: while !stack.isEmpty {
            let top = stack.count - 1
            var t = stack[top].next
            let mask = stack[top].mask
            while t < n && (mask >> UInt64(t)) & 1 == 0 { t += 1 }
            if t >= n {
                stack.removeLast()
                if !schedule.isEmpty { schedule.removeLast() }
                continue
            }
            stack[top].next = t + 1
            var pre = stack[top].preemptions
            let last = stack[top].last
            if last >= 0 && t != last && (mask >> UInt64(last)) & 1 == 1 { pre += 1 }
            if let k = options.preemptionBound, pre > k { skipped = true; continue }
            var child = stack[top].state
            let (cmask, end) = ctx.expand(&child, t)
            steps += 1
            // Long executions keep a state per step on the stack: time and memory are checked
            // within them too, not only when one ends.
            if steps & 15 == 0, let r = budget.exhausted() { builder.stop(r); break search }
            schedule.append(t)
            if let term = end {
                builder.add(term, schedule: schedule, races: child.dataRaces)
                schedule.removeLast()
                sinceClock += 1
                if let r = budget.finishedExecution(builder.result) { builder.stop(r); break search }
                if sinceClock >= 256 {
                    sinceClock = 0
                    if budget.progress != nil {
                        estimate.sample(branching: stack.lazy.map { $0.mask.nonzeroBitCount })
                        budget.expect(total: estimate.mean)
                    }
                }
                continue
            }
            stack.append(Node(state: child, mask: cmask, next: 0, last: t, preemptions: pre))
        }
        if skipped { builder.stop(.preemptionBound) }
        builder.result.steps = steps
        return builder.finish(elapsed: monotonicSeconds() - start)
    }
}
