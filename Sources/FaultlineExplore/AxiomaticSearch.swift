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
    /// Whether each candidate first tries a greedy interleaving (`Interleaver`) before the exact
    /// grace-period check; false runs the exact check alone (the tests compare the two).
    var witnessFirst = true

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
        var witnesses = 0
        return explore(ctx, options: options, paths: paths, witnesses: &witnesses)
    }

    /// The same, counting in `witnesses` the candidates the greedy interleaving showed consistent
    /// (the others were decided by the exact check).
    func explore(_ ctx: ExplorationContext, options: ExplorationOptions, paths: [[Path]]?, witnesses: inout Int) -> ExplorationResult {
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
        let observer = Observer(ctx, root: root, paths: all, cellOf: cellOf, frameCells: frameCells)
        var observed = [Int64](repeating: 0, count: ctx.machine.program.observed.count)
        var choice = [Int](repeating: 0, count: n)
        var candidates = 0
        var stopped: StopReason? = nil
        var solver = CandidateSolver(locations: addresses.count, initial: initial)
        solver.witnessFirst = witnessFirst
        // Every combination of thread paths, in index order.
        combos: while true {
            solver.load(all, choice)
            solver.enumerate(budget: budget) { final in
                candidates += 1
                if let observer {
                    observer.values(choice, final, into: &observed)
                    builder.add(.outcome(observed), schedule: [])
                } else {
                    var s = root
                    for t in 0..<n {
                        let ps = all[t][choice[t]].state
                        s.threads[t] = ps.threads[t]
                        for c in frameCells[t] { s.cells[c] = ps.cells[c] }
                    }
                    for (k, v) in final.enumerated() where cellOf[k] >= 0 { s.cells[cellOf[k]] = v }
                    if let term = ctx.terminal(s, mask: 0) { builder.add(term, schedule: []) }
                }
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
        witnesses += solver.witnesses
        if let stopped { builder.stop(stopped) }
        return builder.finish(elapsed: monotonicSeconds() - start)
    }

    /// The observed final values of a candidate, read straight from the chosen paths' states and
    /// the candidate's final location values, without building the combined state: for the
    /// programs where that state could only end as an outcome (no violation or prune in the
    /// root, every thread finished on every path, no heap or page object a leak check could
    /// report, every frame-homed register in its own thread's frame and in no shared location).
    /// Each value is where the combined state would have it: a shared location's final value,
    /// else a frame cell from its thread's path, else the initial value.
    struct Observer {
        enum Source {
            case constant(Int64)
            /// The candidate's final value of the location with this dense index.
            case location(Int)
            /// A value that depends on thread `thread`'s path only: `perPath[path]`.
            case path(thread: Int, perPath: [Int64])
        }
        let sources: [Source]

        init?(_ ctx: ExplorationContext, root: State, paths: [[Path]], cellOf: [Int], frameCells: [[Int]]) {
            let machine = ctx.machine
            guard root.violation == nil, !root.pruned, !ctx.checker.hasInvariant, machine.program.finalFunction == nil else { return nil }
            guard !root.objects.contains(where: { $0.origin == .heap || $0.origin == .page }) else { return nil }
            let n = paths.count
            for t in 0..<n { for p in paths[t] where p.state.violation != nil || p.state.pruned || p.state.threads[t].status != .finished { return nil } }
            var slotOfCell: [Int: Int] = [:]
            for (k, c) in cellOf.enumerated() where c >= 0 { slotOfCell[c] = k }
            var ownerOfCell: [Int: Int] = [:]
            for t in 0..<n { for c in frameCells[t] { ownerOfCell[c] = t } }
            var sources: [Source] = []
            for o in machine.program.observed {
                switch o {
                case .register(let t, let home, _):
                    guard let home else { sources.append(.constant(0)); continue }
                    guard t >= 0 && t < n else { return nil }
                    if case .frame(let off) = home {
                        // In the thread's own frame and no shared location: the path's value.
                        for p in paths[t] {
                            let th = p.state.threads[t]
                            guard let f0 = th.frames.first else { continue }
                            let f = machine.program.functions[Int(f0.function)]
                            let a = th.values[Int(f0.base) + Int(f.frameSlot)]
                            let c = Int(root.objects[Address.object(a)].base) + off
                            guard ownerOfCell[c] == t, slotOfCell[c] == nil else { return nil }
                        }
                    }
                    sources.append(.path(thread: t, perPath: paths[t].map { machine.registerValue($0.state, thread: t, home: home) }))
                case .memory(let a, _, _):
                    let ob = Address.object(a), off = Address.offset(a)
                    guard a > 0, ob < root.objects.count, off < Int(root.objects[ob].size) else { sources.append(.constant(0)); continue }
                    let c = Int(root.objects[ob].base) + off
                    if let k = slotOfCell[c] { sources.append(.location(k)) }
                    else if let t = ownerOfCell[c] { sources.append(.path(thread: t, perPath: paths[t].map { $0.state.cells[c] })) }
                    else { sources.append(.constant(root.cells[c])) }
                }
            }
            self.sources = sources
        }

        /// The observed values of the candidate with paths `choice` and final location values `final`.
        func values(_ choice: [Int], _ final: [Int64], into out: inout [Int64]) {
            for (i, s) in sources.enumerated() {
                switch s {
                case .constant(let v): out[i] = v
                case .location(let k): out[i] = final[k]
                case .path(let t, let perPath): out[i] = perPath[choice[t]]
                }
            }
        }
    }
}

/// The candidate executions of one combination of thread paths: reads-from and coherence choices,
/// checked for SC consistency with the RCU constraints. Reused across combinations (no
/// dictionaries: locations are dense indices).
struct CandidateSolver {
    typealias Event = AxiomaticSearch.Event
    typealias GracePeriod = (thread: Int, domain: Int64, start: Int, end: Int)
    typealias Section = (thread: Int, domain: Int64, enter: Int, exit: Int)
    typealias Pair = (gs: Int, ge: Int, enter: Int, exit: Int)
    let locations: Int
    let initial: [Int64]
    /// Whether a candidate first tries `Interleaver`'s greedy witness (see `AxiomaticSearch.witnessFirst`).
    var witnessFirst = true
    /// Candidates the greedy interleaving showed consistent.
    var witnesses = 0
    var events: [(thread: Int, event: Event)] = []
    var firstOfThread: [Int] = []
    /// Reused by every candidate (its adjacency lists keep their capacity).
    var graph = OrderGraph(count: 0)
    var interleaver = Interleaver()
    // The rest is per combination, kept here only so that every buffer keeps its capacity.
    /// Per location: its writes (event indices, so by thread then program order).
    var writes: [[Int]] = []
    /// The reads (event indices) and their possible sources, `sources[sourceStart[k]..<sourceStart[k + 1]]`
    /// for read k (-1: the initial value).
    var readIndex: [Int] = []
    var sourceStart: [Int] = []
    var sources: [Int] = []
    /// The locations written more than once, and per such location the sequence of its writing
    /// threads in the current coherence order (and the first such sequence).
    var multi: [Int] = []
    var coThreads: [[Int]] = []
    var firstLabels: [[Int]] = []
    var placed: [Int] = []
    var poEdges: [(Int, Int)] = []
    var gps: [GracePeriod] = []
    var sections: [Section] = []
    var pairs: [Pair] = []
    var open: [(domain: Int64, index: Int64, depth: Int, at: Int)] = []
    var rf: [Int] = []
    /// Per location: its writes in coherence order.
    var order: [[Int]] = []
    var position: [Int] = []
    var final: [Int64] = []

    init(locations: Int, initial: [Int64]) {
        self.locations = locations
        self.initial = initial
        writes = [[Int]](repeating: [], count: locations)
        order = writes
        final = initial
    }

    /// Loads the combination `choice` (a path index per thread) of `paths`.
    mutating func load(_ paths: [[AxiomaticSearch.Path]], _ choice: [Int]) {
        events.removeAll(keepingCapacity: true)
        firstOfThread.removeAll(keepingCapacity: true)
        for t in 0..<choice.count {
            firstOfThread.append(events.count)
            for e in paths[t][choice[t]].events { events.append((t, e)) }
        }
        firstOfThread.append(events.count)
    }

    /// Calls `body` with the final value of every location (by dense index) of each consistent
    /// candidate; stops when it returns false or `budget` runs out (checked every 256 candidates,
    /// consistent or not).
    mutating func enumerate(budget: SearchBudget, _ body: ([Int64]) -> Bool) {
        let m = events.count
        let words = max(1, (m + 63) / 64)
        for l in 0..<locations { writes[l].removeAll(keepingCapacity: true) }
        for i in 0..<m where events[i].event.kind == .write { writes[Int(events[i].event.slot)].append(i) }
        readIndex.removeAll(keepingCapacity: true)
        sourceStart.removeAll(keepingCapacity: true)
        sources.removeAll(keepingCapacity: true)
        for i in 0..<m where events[i].event.kind == .read {
            let e = events[i].event
            sourceStart.append(sources.count)
            if initial[Int(e.slot)] == e.value { sources.append(-1) }
            for w in writes[Int(e.slot)] where events[w].event.value == e.value { sources.append(w) }
            if sources.count == sourceStart[sourceStart.count - 1] { return }   // nothing writes that value here in this combination
            readIndex.append(i)
        }
        sourceStart.append(sources.count)
        let reads = readIndex.count
        // Coherence orders of the locations written more than once (each keeps program order):
        // one at a time, as the sequence of the writing threads (each thread's writes in program
        // order), stepped in lexicographic order — never all of them at once (11 threads writing
        // one location have 11! orders).
        multi.removeAll(keepingCapacity: true)
        for l in 0..<locations where writes[l].count > 1 { multi.append(l) }
        while coThreads.count < multi.count { coThreads.append([]) }
        for (k, l) in multi.enumerated() {
            coThreads[k].removeAll(keepingCapacity: true)
            for w in writes[l] { coThreads[k].append(events[w].thread) }   // sorted: events are by thread
        }
        firstLabels = coThreads
        // Program order: the edges every candidate has.
        poEdges.removeAll(keepingCapacity: true)
        for t in 0..<(firstOfThread.count - 1) {
            let lo = firstOfThread[t], hi = firstOfThread[t + 1]
            if hi - lo > 1 { for i in lo..<(hi - 1) { poEdges.append((i, i + 1)) } }
        }
        // Grace periods and outermost read-side sections, per domain (0: RCU; else an srcu_struct).
        gps.removeAll(keepingCapacity: true)
        sections.removeAll(keepingCapacity: true)
        for t in 0..<(firstOfThread.count - 1) {
            // RCU (value 0) nests: its outermost section counts. SRCU sections (value: index + 1)
            // are matched by index, as the machine ends them.
            open.removeAll(keepingCapacity: true)
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
        pairs.removeAll(keepingCapacity: true)
        for g in gps { for s in sections where s.thread != g.thread && s.domain == g.domain { pairs.append((g.start, g.end, s.enter, s.exit)) } }
        let greedy = witnessFirst && !pairs.isEmpty
        if greedy { interleaver.load(events: m, gps: gps, sections: sections) }

        rf.removeAll(keepingCapacity: true)
        rf.append(contentsOf: repeatElement(0, count: reads))
        for l in 0..<locations { order[l].removeAll(keepingCapacity: true); order[l].append(contentsOf: writes[l]) }
        if position.count < m { position = [Int](repeating: 0, count: m) }
        if graph.successors.count != m { graph = OrderGraph(count: m) }
        var considered = 0
        while true {
            considered += 1
            if considered & 255 == 0, budget.exhausted() != nil { return }
            for (k, l) in multi.enumerated() { CandidateSolver.coherenceOrder(coThreads[k], writes[l], events, into: &order[l], placed: &placed) }
            graph.reset(poEdges)
            for l in 0..<locations where !order[l].isEmpty {
                let o = order[l]
                for (p, w) in o.enumerated() { position[w] = p }
                if o.count > 1 { for p in 0..<(o.count - 1) { graph.edge(o[p], o[p + 1]) } }
            }
            for k in 0..<reads {
                let r = readIndex[k]
                let w = sources[sourceStart[k] + rf[k]]
                let l = Int(events[r].event.slot)
                if w >= 0 { graph.edge(w, r) }
                // From-reads: the read comes before every write after its source in coherence.
                let after = w >= 0 ? position[w] + 1 : 0
                let count = order[l].count
                if after < count { for p in after..<count { graph.edge(r, order[l][p]) } }
            }
            // A greedy interleaving that meets every constraint is a witness of consistency; when
            // it finds none, the exact check decides.
            var consistent = greedy && interleaver.schedule(graph)
            if consistent { witnesses += 1 } else {
                consistent = graph.acyclic()
                if consistent && !pairs.isEmpty {
                    var r = graph.closure(words: words)
                    consistent = CandidateSolver.rcu(&r, pairs, 0)
                }
            }
            if consistent {
                for l in 0..<locations { final[l] = order[l].last.map { events[$0].event.value } ?? initial[l] }
                if !body(final) { return }
            }
            // Next choice (reads-from fastest, then coherence).
            var k = reads - 1
            while k >= 0 { rf[k] += 1; if rf[k] < sourceStart[k + 1] - sourceStart[k] { break }; rf[k] = 0; k -= 1 }
            if k >= 0 { continue }
            var j = multi.count - 1
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
    /// the coherence order whose sequence of writing threads is `threads`, into `out`
    /// (`placed`: scratch).
    static func coherenceOrder(_ threads: [Int], _ writes: [Int], _ events: [(thread: Int, event: Event)], into out: inout [Int], placed: inout [Int]) {
        placed.removeAll(keepingCapacity: true)
        placed.append(contentsOf: repeatElement(0, count: (threads.max() ?? 0) + 1))   // per thread: its writes placed so far
        out.removeAll(keepingCapacity: true)
        for t in threads {
            let k = placed[t]
            placed[t] = k + 1
            var seen = 0
            for w in writes where events[w].thread == t {
                if seen == k { out.append(w); break }
                seen += 1
            }
        }
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

/// A greedy search for one interleaving of a candidate that respects its order (po ∪ rf ∪ co ∪ fr)
/// and every grace period (it ends only once every read-side section of another thread that was
/// open at its start has exited). One found is a witness that the candidate is consistent, without
/// the transitive closure and the backtracking over (grace period, section) pairs of the exact
/// check; on the corpus's grace-period cycles it finds one for every consistent candidate.
///
/// An event that is ready runs at once when running it earlier cannot make a valid interleaving
/// invalid: reads, writes, nested entries, exits, grace-period starts (fewer sections are open at
/// an earlier start) and grace-period ends whose blockers have exited. Only the entries of
/// outermost sections are choices (an early entry may block a grace period that starts later): the
/// first ready one whose section can run through to its exit without waiting for another thread is
/// taken, else the first ready one. Failing proves nothing: the caller then runs the exact check,
/// so no verdict depends on this heuristic.
struct Interleaver {
    var count = 0
    /// Per event: the outermost section it enters or exits, the grace period it starts or ends (-1: none).
    var entryOf: [Int32] = []
    var exitOf: [Int32] = []
    var startOf: [Int32] = []
    var endOf: [Int32] = []
    var sectionEnter: [Int] = []
    var sectionExit: [Int] = []
    var gpEnd: [Int] = []
    /// The (grace period, section of another thread, same domain) pairs, grouped by grace period
    /// (`gpPairStart`), and per section the indices of its pairs (`sectionPairs`, grouped by `sectionPairStart`).
    var pairSection: [Int32] = []
    var pairGP: [Int32] = []
    var gpPairStart: [Int] = []
    var sectionPairs: [Int32] = []
    var sectionPairStart: [Int] = []
    // Per candidate.
    var indegree: [Int32] = []
    var done: [Bool] = []
    /// Per grace period: how many sections that were open at its start are still open; whether its
    /// end is ready but waits for them. Per pair: whether the section was open at the start.
    var blockers: [Int32] = []
    var waiting: [Bool] = []
    var blocking: [Bool] = []
    var ready: [Int] = []
    var entries: [Int] = []

    /// Loads one combination's grace periods and outermost sections (event indices < `events`).
    mutating func load(events m: Int, gps: [CandidateSolver.GracePeriod], sections: [CandidateSolver.Section]) {
        count = m
        entryOf = [Int32](repeating: -1, count: m)
        exitOf = entryOf; startOf = entryOf; endOf = entryOf
        sectionEnter.removeAll(keepingCapacity: true)
        sectionExit.removeAll(keepingCapacity: true)
        for (s, sec) in sections.enumerated() {
            entryOf[sec.enter] = Int32(s); exitOf[sec.exit] = Int32(s)
            sectionEnter.append(sec.enter); sectionExit.append(sec.exit)
        }
        gpEnd.removeAll(keepingCapacity: true)
        pairSection.removeAll(keepingCapacity: true)
        pairGP.removeAll(keepingCapacity: true)
        gpPairStart.removeAll(keepingCapacity: true)
        for (g, gp) in gps.enumerated() {
            startOf[gp.start] = Int32(g); endOf[gp.end] = Int32(g)
            gpEnd.append(gp.end)
            gpPairStart.append(pairSection.count)
            for (s, sec) in sections.enumerated() where sec.thread != gp.thread && sec.domain == gp.domain {
                pairSection.append(Int32(s)); pairGP.append(Int32(g))
            }
        }
        gpPairStart.append(pairSection.count)
        sectionPairStart.removeAll(keepingCapacity: true)
        sectionPairStart.append(contentsOf: repeatElement(0, count: sections.count + 1))
        for s in pairSection { sectionPairStart[Int(s) + 1] += 1 }
        for s in 0..<sections.count { sectionPairStart[s + 1] += sectionPairStart[s] }
        sectionPairs.removeAll(keepingCapacity: true)
        sectionPairs.append(contentsOf: repeatElement(0, count: pairSection.count))
        var fill = Array(sectionPairStart.dropLast())
        for (p, s) in pairSection.enumerated() { sectionPairs[fill[Int(s)]] = Int32(p); fill[Int(s)] += 1 }
        blockers = [Int32](repeating: 0, count: gps.count)
        waiting = [Bool](repeating: false, count: gps.count)
        blocking = [Bool](repeating: false, count: pairSection.count)
        indegree = [Int32](repeating: 0, count: m)
        done = [Bool](repeating: false, count: m)
    }

    /// Whether a greedy interleaving of the candidate `graph` meets every grace period.
    mutating func schedule(_ graph: OrderGraph) -> Bool {
        for i in 0..<count { indegree[i] = 0; done[i] = false }
        for s in graph.successors { for b in s { indegree[b] += 1 } }
        for g in blockers.indices { blockers[g] = 0; waiting[g] = false }
        for p in blocking.indices { blocking[p] = false }
        ready.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
        for i in 0..<count where indegree[i] == 0 { became(i) }
        var ran = 0
        while true {
            while let e = ready.popLast() { run(e, graph); ran += 1 }
            if ran == count { return true }
            if entries.isEmpty { return false }
            var pick = 0
            for k in entries.indices where runsThrough(entries[k], graph) { pick = k; break }
            let e = entries.remove(at: pick)
            run(e, graph); ran += 1
        }
    }

    /// Event `i` has no predecessor left: a choice, waiting for its blockers, or ready to run.
    @inline(__always) mutating func became(_ i: Int) {
        if entryOf[i] >= 0 { entries.append(i) }
        else if endOf[i] >= 0 && blockers[Int(endOf[i])] > 0 { waiting[Int(endOf[i])] = true }
        else { ready.append(i) }
    }

    mutating func run(_ e: Int, _ graph: OrderGraph) {
        done[e] = true
        if startOf[e] >= 0 {
            let g = Int(startOf[e])
            for p in gpPairStart[g]..<gpPairStart[g + 1] {
                let s = Int(pairSection[p])
                if done[sectionEnter[s]] && !done[sectionExit[s]] { blocking[p] = true; blockers[g] += 1 }
            }
        }
        if exitOf[e] >= 0 {
            let s = Int(exitOf[e])
            for q in sectionPairStart[s]..<sectionPairStart[s + 1] {
                let p = Int(sectionPairs[q])
                guard blocking[p] else { continue }
                blocking[p] = false
                let g = Int(pairGP[p])
                blockers[g] -= 1
                if blockers[g] == 0 && waiting[g] { waiting[g] = false; ready.append(gpEnd[g]) }
            }
        }
        for b in graph.successors[e] {
            indegree[b] -= 1
            if indegree[b] == 0 { became(b) }
        }
    }

    /// Whether the section entered at `e` (ready) can run to its exit with no event of another
    /// thread first (and no grace-period end inside it).
    mutating func runsThrough(_ e: Int, _ graph: OrderGraph) -> Bool {
        let exit = sectionExit[Int(entryOf[e])]
        var i = e
        var through = true
        while i <= exit {
            if (i != e && indegree[i] != 0) || endOf[i] >= 0 { through = false; break }
            for b in graph.successors[i] { indegree[b] -= 1 }
            i += 1
        }
        for j in e..<i { for b in graph.successors[j] { indegree[b] += 1 } }
        return through
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
