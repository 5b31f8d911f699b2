import FaultlineLanguage
import FaultlineMachine

/// Axiomatic search under sequential consistency, as herd7 does it, for the programs where
/// counting interleavings cannot work: many threads of straight-line code around RCU grace
/// periods (the 7–19-thread tests of the kernel's litmus corpus have 10^8 Mazurkiewicz traces and
/// a few hundred final states).
///
/// Each thread is run on its own, once per choice of the value every read returns (from the
/// values written to that location anywhere, to a fixpoint): that gives its possible event
/// sequences (reads, writes, RCU read-side entries/exits, grace periods). A candidate execution
/// picks one sequence per thread, a write (or the initial value) for every read to read from
/// (with the value it returned) and an order of the writes of each location; it is consistent
/// when program order ∪ reads-from ∪ coherence ∪ from-reads is acyclic (Shasha–Snir: then some
/// interleaving performs it) and every grace period G and read-side section S of another thread
/// can be ordered so that S does not both begin before G starts and end after G ends (the
/// semantics `synchronize_rcu()` has in the machine). Each consistent candidate is one execution,
/// as in herd's counts. Final states, the `final` block and the claim are evaluated on the state
/// the candidate ends in.
///
/// Only programs whose threads do nothing but reads, writes, barriers and RCU or SRCU read-side /
/// grace-period operations, with no violation, `assume`, allocation or unbounded loop on any path, and
/// no `final`/`invariant` block (a violation must come with a schedule), are in scope; `applies`
/// says whether a program is.
package struct AxiomaticSearch: Strategy {
    package var name: String { "axiomatic" }
    package init() {}

    enum Kind: UInt8 { case read, write, enter, exit, gpStart, gpEnd }

    struct Event {
        var kind: Kind
        var address: Int64
        var value: Int64
        /// Dense index of the address among all the program's accessed locations (set after the fixpoint).
        var slot: Int32 = -1
    }

    /// One way a thread can run: its events and its final state.
    struct Path {
        var events: [Event]
        var state: State
    }

    /// Limits that keep a candidate enumeration from running away (exceeded: not in scope).
    static let maxPathsPerThread = 4096
    static let maxEventsPerThread = 256
    static let maxCandidates = 50_000_000

    /// The threads' paths, or nil when the program is not in scope (or `budget` ran out: see
    /// its `stopReason`).
    static func paths(_ ctx: ExplorationContext, budget: SearchBudget? = nil) -> [[Path]]? {
        let machine = ctx.machine
        let root = machine.initialState()
        // A violation needs a schedule to show; a candidate execution has none: programs with a
        // `final` or `invariant` block stay with the interleaving strategies.
        guard root.violation == nil, !ctx.checker.hasInvariant, machine.program.finalFunction == nil else { return nil }
        var values: [Int64: Set<Int64>] = [:]
        for _ in 0..<6 {
            var result: [[Path]] = []
            var written: [Int64: Set<Int64>] = [:]
            for t in 0..<root.threads.count {
                guard let ps = threadPaths(machine, root, t, values: &values, budget: budget) else { return nil }
                for p in ps { for e in p.events where e.kind == .write { written[e.address, default: []].insert(e.value) } }
                result.append(ps)
            }
            var grew = false
            for (a, vs) in written where !vs.isSubset(of: values[a] ?? []) {
                // A location first seen written: its initial value stays a possible read.
                if values[a] == nil, let c = cellIndex(root, a) { values[a] = [root.cells[c]] }
                values[a, default: []].formUnion(vs); grew = true
            }
            if !grew { return result }
        }
        return nil
    }

    /// The cells of each thread's own frame objects (registers that live in memory), which a
    /// per-thread run writes and the combined state takes from that thread's run.
    static func frameCells(_ root: State, threads n: Int) -> [[Int]] {
        var cells = [[Int]](repeating: [], count: n)
        for o in 1..<root.objects.count where root.objects[o].origin == .stack {
            let t = Int(root.objects[o].owner)
            guard t >= 0 && t < n else { continue }
            let b = Int(root.objects[o].base)
            cells[t].append(contentsOf: b..<(b + Int(root.objects[o].size)))
        }
        return cells
    }

    static func cellIndex(_ s: State, _ a: Int64) -> Int? {
        let o = Address.object(a)
        guard a > 0, o > 0, o < s.objects.count, Address.offset(a) < Int(s.objects[o].size), !s.objects[o].freed else { return nil }
        return Int(s.objects[o].base) + Address.offset(a)
    }

    /// Every path of thread `t` alone; a read returns each value in `values` of its location
    /// (its initial value, plus what the fixpoint has found written there).
    static func threadPaths(_ machine: Machine, _ root: State, _ t: Int, values: inout [Int64: Set<Int64>], budget: SearchBudget?) -> [Path]? {
        var out: [Path] = []
        var work: [(State, [Event])] = [(root, [])]
        while let (s0, evs) = work.popLast() {
            if let budget, budget.exhausted() != nil { return nil }
            var s = s0
            var events = evs
            while s.threads[t].status == .running {
                guard events.count < maxEventsPerThread, let instr = machine.pending(s, t) else { return nil }
                switch instr {
                case .read:
                    guard let a = machine.pendingAccess(s, t)?.location, let c = cellIndex(s, a) else { return nil }
                    if values[a] == nil { values[a] = [root.cells[c]] }
                    let choices = values[a]!.sorted()
                    // Other choices become paths to explore later; go on with the first one.
                    for v in choices.dropFirst().reversed() {
                        var alt = s
                        alt.cells[c] = v
                        let ev = machine.step(&alt, t)
                        guard alt.violation == nil, !alt.pruned else { return nil }
                        work.append((alt, events + [Event(kind: .read, address: a, value: ev.result)]))
                    }
                    s.cells[c] = choices[0]
                    let ev = machine.step(&s, t)
                    events.append(Event(kind: .read, address: a, value: ev.result))
                case .write:
                    let ev = machine.step(&s, t)
                    events.append(Event(kind: .write, address: ev.address, value: ev.value))
                case .sync(.rcuReadLock):
                    machine.step(&s, t)
                    events.append(Event(kind: .enter, address: 0, value: 0))
                case .sync(.rcuReadUnlock):
                    machine.step(&s, t)
                    events.append(Event(kind: .exit, address: 0, value: 0))
                case .sync(.synchronizeRCU):
                    machine.step(&s, t)     // alone, nobody to wait for: one step
                    events.append(Event(kind: .gpStart, address: 0, value: 0))
                    events.append(Event(kind: .gpEnd, address: 0, value: 0))
                // SRCU: the same with the domain (the srcu_struct's address) in `address`; RCU is domain 0.
                // An SRCU section is named by its index (overlapping sections are two).
                case .sync(.srcuReadLock):
                    let ev = machine.step(&s, t)
                    events.append(Event(kind: .enter, address: ev.address, value: ev.result + 1))
                case .sync(.srcuReadUnlock):
                    let ev = machine.step(&s, t)
                    events.append(Event(kind: .exit, address: ev.address, value: ev.value + 1))
                case .sync(.synchronizeSRCU):
                    let ev = machine.step(&s, t)
                    events.append(Event(kind: .gpStart, address: ev.address, value: 0))
                    events.append(Event(kind: .gpEnd, address: ev.address, value: 0))
                default:
                    return nil
                }
                guard s.violation == nil, !s.pruned else { return nil }
                if s.objects.count != root.objects.count { return nil }   // allocation: out of scope
            }
            // A thread that ends inside a read-side section (an srcu_down_read another CPU ends)
            // is out of scope.
            guard s.threads[t].rcuDepth == 0, s.threads[t].srcu.isEmpty else { return nil }
            out.append(Path(events: events, state: s))
            if out.count > maxPathsPerThread { return nil }
        }
        return out
    }

    /// Whether the program is in this strategy's scope.
    package static func applies(_ ctx: ExplorationContext) -> Bool { paths(ctx) != nil }

    package func explore(_ ctx: ExplorationContext, options: ExplorationOptions) -> ExplorationResult {
        var options = options
        let budget = options.runBudget()
        return explore(ctx, options: options, paths: AxiomaticSearch.paths(ctx, budget: budget))
    }

    /// The search over thread paths already computed by `paths` (nil: out of scope).
    func explore(_ ctx: ExplorationContext, options: ExplorationOptions, paths: [[Path]]?) -> ExplorationResult {
        var options = options
        let budget = options.runBudget()
        let start = monotonicSeconds()
        var builder = ResultBuilder(strategy: name, program: ctx.machine.program)
        // Not split: shard 0 of a split search does all of it.
        builder.result.shard = options.shard
        if let shard = options.shard, shard.index != 0 { return builder.finish(elapsed: 0) }
        guard let found = paths else {
            builder.stop(budget.stopReason ?? .outOfScope)
            return builder.finish(elapsed: monotonicSeconds() - start)
        }
        let root = ctx.machine.initialState()
        let n = found.count
        // Dense location indices and initial values, once.
        var slotOf: [Int64: Int32] = [:]
        var addresses: [Int64] = []
        var all = found
        for t in 0..<n { for p in all[t].indices { for e in all[t][p].events.indices where all[t][p].events[e].kind == .read || all[t][p].events[e].kind == .write {
            let a = all[t][p].events[e].address
            if slotOf[a] == nil { slotOf[a] = Int32(addresses.count); addresses.append(a) }
            all[t][p].events[e].slot = slotOf[a]!
        } } }
        let initial = addresses.map { a in AxiomaticSearch.cellIndex(root, a).map { root.cells[$0] } ?? 0 }
        let cellOf = addresses.map { AxiomaticSearch.cellIndex(root, $0) ?? -1 }
        let frameCells = AxiomaticSearch.frameCells(root, threads: n)
        var choice = [Int](repeating: 0, count: n)
        var candidates = 0
        var stopped: StopReason? = nil
        var solver = CandidateSolver(locations: addresses.count, initial: initial)
        // Every combination of thread paths, in index order.
        combos: while true {
            solver.load((0..<n).map { all[$0][choice[$0]].events })
            solver.enumerate(budget: budget) { final in
                candidates += 1
                var s = root
                for t in 0..<n {
                    let ps = all[t][choice[t]].state
                    s.threads[t] = ps.threads[t]
                    for c in frameCells[t] { s.cells[c] = ps.cells[c] }
                }
                for (k, v) in final.enumerated() where cellOf[k] >= 0 { s.cells[cellOf[k]] = v }
                if let term = ctx.terminal(s, mask: 0) { builder.add(term, schedule: []) }
                if candidates >= AxiomaticSearch.maxCandidates { stopped = .maxExecutions; return false }
                if let r = budget.finishedExecution(builder.result) { stopped = r; return false }
                return true
            }
            if stopped != nil { break combos }
            if let r = budget.exhausted() { stopped = r; break }
            var t = n - 1
            while t >= 0 {
                choice[t] += 1
                if choice[t] < all[t].count { break }
                choice[t] = 0
                t -= 1
            }
            if t < 0 { break }
        }
        if let stopped { builder.stop(stopped) }
        return builder.finish(elapsed: monotonicSeconds() - start)
    }
}

/// The candidate executions of one combination of thread paths: reads-from and coherence choices,
/// checked for SC consistency with the RCU constraints. Reused across combinations (no
/// dictionaries: locations are dense indices).
struct CandidateSolver {
    typealias Event = AxiomaticSearch.Event
    let locations: Int
    let initial: [Int64]
    var events: [(thread: Int, event: Event)] = []
    var firstOfThread: [Int] = []
    /// Reused by every candidate (its adjacency lists keep their capacity).
    var graph = OrderGraph(count: 0)

    init(locations: Int, initial: [Int64]) {
        self.locations = locations
        self.initial = initial
    }

    mutating func load(_ paths: [[Event]]) {
        events.removeAll(keepingCapacity: true)
        firstOfThread.removeAll(keepingCapacity: true)
        for (t, p) in paths.enumerated() {
            firstOfThread.append(events.count)
            for e in p { events.append((t, e)) }
        }
        firstOfThread.append(events.count)
    }

    /// Calls `body` with the final value of every location (by dense index) of each consistent
    /// candidate; stops when it returns false or `budget` runs out (checked every 256 candidates,
    /// consistent or not).
    mutating func enumerate(budget: SearchBudget, _ body: ([Int64]) -> Bool) {
        let m = events.count
        let words = max(1, (m + 63) / 64)
        var writes = [[Int]](repeating: [], count: locations)
        for i in 0..<m where events[i].event.kind == .write { writes[Int(events[i].event.slot)].append(i) }
        var reads: [(index: Int, sources: [Int])] = []
        for i in 0..<m where events[i].event.kind == .read {
            let e = events[i].event
            var src: [Int] = []
            if initial[Int(e.slot)] == e.value { src.append(-1) }
            for w in writes[Int(e.slot)] where events[w].event.value == e.value { src.append(w) }
            if src.isEmpty { return }        // nothing writes that value here in this combination
            reads.append((i, src))
        }
        // Coherence orders of the locations written more than once (each keeps program order):
        // one at a time, as the sequence of the writing threads (each thread's writes in program
        // order), stepped in lexicographic order — never all of them at once (11 threads writing
        // one location have 11! orders).
        let multi = (0..<locations).filter { writes[$0].count > 1 }
        var coThreads: [[Int]] = multi.map { l in writes[l].map { events[$0].thread } }   // sorted: events are by thread
        let firstLabels = coThreads
        // Program order: the edges every candidate has.
        var poEdges: [(Int, Int)] = []
        for t in 0..<(firstOfThread.count - 1) {
            let lo = firstOfThread[t], hi = firstOfThread[t + 1]
            if hi - lo > 1 { for i in lo..<(hi - 1) { poEdges.append((i, i + 1)) } }
        }
        // Grace periods and outermost read-side sections, per domain (0: RCU; else an srcu_struct).
        var gps: [(thread: Int, domain: Int64, start: Int, end: Int)] = []
        var sections: [(thread: Int, domain: Int64, enter: Int, exit: Int)] = []
        for t in 0..<(firstOfThread.count - 1) {
            // RCU (value 0) nests: its outermost section counts. SRCU sections (value: index + 1)
            // are matched by index, as the machine ends them.
            var open: [(domain: Int64, index: Int64, depth: Int, at: Int)] = []
            for i in firstOfThread[t]..<firstOfThread[t + 1] {
                let e = events[i].event
                switch e.kind {
                case .gpStart: gps.append((t, e.address, i, i + 1))
                case .enter:
                    if e.value == 0, let k = open.firstIndex(where: { $0.domain == e.address && $0.index == 0 }) { open[k].depth += 1 }
                    else { open.append((e.address, e.value, 1, i)) }
                case .exit:
                    let k = open.lastIndex(where: { $0.domain == e.address && $0.index == e.value }) ?? open.lastIndex(where: { $0.domain == e.address })
                    if let k {
                        open[k].depth -= 1
                        if open[k].depth == 0 { sections.append((t, e.address, open[k].at, i)); open.remove(at: k) }
                    }
                default: break
                }
            }
        }
        var pairs: [(gs: Int, ge: Int, enter: Int, exit: Int)] = []
        for g in gps { for s in sections where s.thread != g.thread && s.domain == g.domain { pairs.append((g.start, g.end, s.enter, s.exit)) } }

        var rf = [Int](repeating: 0, count: reads.count)
        var order = writes              // per location: its writes in coherence order
        var position = [Int](repeating: 0, count: m)
        var final = initial
        if graph.successors.count != m { graph = OrderGraph(count: m) }
        var considered = 0
        while true {
            considered += 1
            if considered & 255 == 0, budget.exhausted() != nil { return }
            for (k, l) in multi.enumerated() { order[l] = CandidateSolver.coherenceOrder(coThreads[k], writes[l], events) }
            graph.reset(poEdges)
            for l in 0..<locations where !order[l].isEmpty {
                let o = order[l]
                for (p, w) in o.enumerated() { position[w] = p }
                if o.count > 1 { for p in 0..<(o.count - 1) { graph.edge(o[p], o[p + 1]) } }
            }
            for (k, rd) in reads.enumerated() {
                let w = rd.sources[rf[k]]
                let o = order[Int(events[rd.index].event.slot)]
                if w >= 0 { graph.edge(w, rd.index) }
                // From-reads: the read comes before every write after its source in coherence.
                let after = w >= 0 ? position[w] + 1 : 0
                if after < o.count { for p in after..<o.count { graph.edge(rd.index, o[p]) } }
            }
            var consistent = graph.acyclic()
            if consistent && !pairs.isEmpty {
                var r = graph.closure(words: words)
                consistent = CandidateSolver.rcu(&r, pairs, 0)
            }
            if consistent {
                for l in 0..<locations { final[l] = order[l].last.map { events[$0].event.value } ?? initial[l] }
                if !body(final) { return }
            }
            // Next choice (reads-from fastest, then coherence).
            var k = reads.count - 1
            while k >= 0 { rf[k] += 1; if rf[k] < reads[k].sources.count { break }; rf[k] = 0; k -= 1 }
            if k >= 0 { continue }
            var j = coThreads.count - 1
            while j >= 0 {
                if CandidateSolver.nextPermutation(&coThreads[j]) { break }
                coThreads[j] = firstLabels[j]
                j -= 1
            }
            if j < 0 { return }
        }
    }

    /// Orders every (grace period, section) pair: the section ends before the grace period ends,
    /// or begins after it starts. Backtracks over the pairs that are not already decided.
    static func rcu(_ r: inout Reach, _ pairs: [(gs: Int, ge: Int, enter: Int, exit: Int)], _ k: Int) -> Bool {
        var k = k
        while k < pairs.count {
            let p = pairs[k]
            if r.before(p.exit, p.ge) || r.before(p.gs, p.enter) { k += 1; continue }   // satisfied
            let exitFirstPossible = !r.before(p.ge, p.exit)
            let startFirstPossible = !r.before(p.enter, p.gs)
            if exitFirstPossible && startFirstPossible {
                var alt = r
                if alt.add(p.exit, p.ge) && rcu(&alt, pairs, k + 1) { r = alt; return true }
                return r.add(p.gs, p.enter) && rcu(&r, pairs, k + 1)
            }
            if exitFirstPossible { if !r.add(p.exit, p.ge) { return false } }
            else if startFirstPossible { if !r.add(p.gs, p.enter) { return false } }
            else { return false }
            k += 1
        }
        return true
    }

    /// The writes of one location (`writes`, by event index, so by thread then program order) in
    /// the coherence order whose sequence of writing threads is `threads`.
    static func coherenceOrder(_ threads: [Int], _ writes: [Int], _ events: [(thread: Int, event: Event)]) -> [Int] {
        var placed = [Int](repeating: 0, count: (threads.max() ?? 0) + 1)   // per thread: its writes placed so far
        var out: [Int] = []
        out.reserveCapacity(writes.count)
        for t in threads {
            let k = placed[t]
            placed[t] = k + 1
            var seen = 0
            for w in writes where events[w].thread == t {
                if seen == k { out.append(w); break }
                seen += 1
            }
        }
        return out
    }

    /// The next arrangement of a multiset in lexicographic order (false, unchanged, after the last).
    static func nextPermutation(_ a: inout [Int]) -> Bool {
        guard a.count > 1 else { return false }
        var i = a.count - 2
        while i >= 0 && a[i] >= a[i + 1] { i -= 1 }
        if i < 0 { return false }
        var j = a.count - 1
        while a[j] <= a[i] { j -= 1 }
        a.swapAt(i, j)
        a[(i + 1)...].reverse()
        return true
    }
}

/// The order a candidate imposes, as adjacency lists: acyclicity by Kahn's algorithm, and the
/// transitive closure (for the grace-period constraints) computed in reverse topological order.
struct OrderGraph {
    var successors: [[Int]]
    var topological: [Int] = []

    init(count: Int) { successors = [[Int]](repeating: [], count: count) }

    mutating func reset(_ edges: [(Int, Int)]) {
        for i in successors.indices { successors[i].removeAll(keepingCapacity: true) }
        for (a, b) in edges { successors[a].append(b) }
    }

    mutating func edge(_ a: Int, _ b: Int) { successors[a].append(b) }

    mutating func acyclic() -> Bool {
        let n = successors.count
        var indegree = [Int](repeating: 0, count: n)
        for s in successors { for b in s { indegree[b] += 1 } }
        topological.removeAll(keepingCapacity: true)
        for i in 0..<n where indegree[i] == 0 { topological.append(i) }
        var k = 0
        while k < topological.count {
            for b in successors[topological[k]] { indegree[b] -= 1; if indegree[b] == 0 { topological.append(b) } }
            k += 1
        }
        return topological.count == n
    }

    /// Precondition: `acyclic()` returned true.
    func closure(words: Int) -> Reach {
        var r = Reach(count: successors.count, words: words)
        for x in topological.reversed() {
            for y in successors[x] {
                r.after[x * words + y / 64] |= 1 << UInt64(y % 64)
                for w in 0..<words { r.after[x * words + w] |= r.after[y * words + w] }
            }
        }
        return r
    }
}

/// Transitive closure of a growing order on events, as bit sets (`after[i]`: events after i).
struct Reach {
    var after: [UInt64]
    let words: Int

    init(count: Int, words: Int) {
        self.words = max(1, words)
        after = [UInt64](repeating: 0, count: max(1, count) * self.words)
    }

    @inline(__always) func before(_ a: Int, _ b: Int) -> Bool { after[a * words + b / 64] >> UInt64(b % 64) & 1 == 1 }

    /// Adds a → b and closes; false if it makes a cycle.
    mutating func add(_ a: Int, _ b: Int) -> Bool {
        if a == b || before(b, a) { return false }
        if before(a, b) { return true }
        let n = after.count / words
        for x in 0..<n where x == a || before(x, a) {
            after[x * words + b / 64] |= 1 << UInt64(b % 64)
            for w in 0..<words { after[x * words + w] |= after[b * words + w] }
        }
        return true
    }
}

/// The default strategy: `axiomatic` when the program is in its scope (loop-free reads, writes,
/// barriers, RCU and SRCU: most of the kernel's litmus tests), where it answers in candidate executions
/// what counting interleavings cannot; `dpor` otherwise (everything with locks, allocation,
/// violations, loops: the race catalogue). The choice depends on the program only, so the report
/// is the same for any `--jobs` or sharding.
package struct AutomaticStrategy: Strategy {
    package var name: String { "auto" }
    package init() {}

    package func explore(_ ctx: ExplorationContext, options: ExplorationOptions) -> ExplorationResult {
        var options = options
        let budget = options.runBudget()
        // The axiomatic engine has no happens-before clocks: programs with plain accesses go to dpor.
        guard !ctx.machine.checksDataRaces, let paths = AxiomaticSearch.paths(ctx, budget: budget) else { return DynamicPartialOrderReduction().explore(ctx, options: options) }
        return AxiomaticSearch().explore(ctx, options: options, paths: paths)
    }
}
