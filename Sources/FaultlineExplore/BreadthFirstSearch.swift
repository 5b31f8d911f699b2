import FaultlineLanguage
import FaultlineMachine

/// Stateful breadth-first search: every distinct state (by its 64-bit fingerprint) is expanded
/// once, so programs with many interleavings but few states (most litmus tests) finish fast.
/// Reports the set of final states (each counted once), the number of distinct states, and for
/// every violation the shortest schedule that reaches it. Step counters are not part of a
/// state, so `step-bound` is not reported here (a cycle is simply not expanded twice). Its unit
/// of `--max-executions` is a state expanded (final states alone would not bound the work).
package struct BreadthFirstSearch: Strategy {
    package var name: String { "bfs" }
    package init() {}

    package func explore(_ ctx: ExplorationContext, options: ExplorationOptions) -> ExplorationResult {
        var options = options
        let budget = options.runBudget()
        let start = monotonicSeconds()
        var builder = ResultBuilder(strategy: name, program: ctx.machine.program)
        // parents[i] = (parent index, thread) for schedule reconstruction.
        var parents: [(Int32, Int8)] = []
        var visited = Set<UInt64>()
        var finals = Set<[Int64]>()
        // States to expand at this depth, each with its index in `parents` and how it classified.
        var frontier: [(state: State, index: Int32, mask: UInt64, end: Terminal?)] = []
        let root = ctx.machine.initialState()
        visited.insert(root.fingerprint())
        parents.append((-1, -1))
        let (rootMask, rootEnd) = ctx.classify(root)
        frontier.append((root, 0, rootMask, rootEnd))
        var steps = 0
        func schedule(_ i: Int32) -> [Int] {
            var s: [Int] = []
            var k = i
            while k > 0 { s.append(Int(parents[Int(k)].1)); k = parents[Int(k)].0 }
            return s.reversed()
        }
        var stop: StopReason? = nil
        level: while !frontier.isEmpty {
            var next: [(state: State, index: Int32, mask: UInt64, end: Terminal?)] = []
            for (state, index, mask, end) in frontier {
                if let term = end {
                    var duplicate = false
                    if case .outcome(let v) = term { duplicate = !finals.insert(v).inserted }
                    // A final state reached again can come with other data races (they are part
                    // of the state): those count, the final state does not count again.
                    if !duplicate { builder.add(term, schedule: schedule(index), races: state.dataRaces) }
                    else { builder.addDataRaces(state.dataRaces, schedule: schedule(index), terminal: .pruned) }
                } else {
                    var m = mask
                    while m != 0 {
                        let t = m.trailingZeroBitCount
                        m &= m - 1
                        var child = state
                        let (cmask, cend) = ctx.expand(&child, t)
                        steps += 1
                        if visited.insert(child.fingerprint()).inserted {
                            parents.append((index, Int8(t)))
                            next.append((child, Int32(parents.count - 1), cmask, cend))
                        }
                    }
                }
                if let r = budget.finishedExecution(builder.result) { stop = r; break level }
            }
            frontier = next
        }
        if let stop { builder.stop(stop) }
        builder.result.steps = steps
        builder.result.distinctStates = visited.count
        return builder.finish(elapsed: monotonicSeconds() - start)
    }
}
