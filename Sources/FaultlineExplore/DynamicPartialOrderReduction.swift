import FaultlineLanguage
import FaultlineMachine

/// Stateless dynamic partial-order reduction with source sets and sleep sets (Source-DPOR:
/// Abdulla, Aronis, Jonsson and Sagonas, POPL 2014). A depth-first search that tries another
/// thread at a state only when a later step of the current execution races with the step taken
/// there, and then only one thread per race (an *initial* of the reversed order); sleep sets stop
/// it from exploring an order equivalent to one it has explored. Reports the same set of final
/// states and the same violation kinds as `dfs`, usually with one execution per Mazurkiewicz trace.
///
/// Happens-before is tracked with vector clocks (flat storage, `n` entries per event). Races are
/// computed for the *pending* step of a thread whenever it changes (the thread moved) or a new
/// dependent step was executed, including pending steps that are blocked: that is how a lock that
/// is taken while another thread waits for it gets reversed (the unlock/lock race alone cannot be).
///
/// An `invariant` block watches every intermediate state, which reduction does not preserve in
/// general: so writes (and frees) to any object the invariant has read count as dependent on each
/// other, which keeps the sequence of states the invariant can see the same in every explored
/// order. An invariant violation does not end the execution.
package struct DynamicPartialOrderReduction: Strategy, Sendable {
    package var name: String { "dpor" }
    package init() {}

    /// Object ids with a table of their own in the race analysis (see `bucket`).
    static let trackedObjects = 1 << 16

    /// A node of the search path. Its state is kept apart, in `states` (the nested functions that
    /// read nodes capture the stack, and would copy the state with every node they read).
    struct Node {
        var enabled: UInt64
        var backtrack: UInt64
        var done: UInt64
        var sleep: UInt64
        /// Some thread violated on the way here (and was halted): no outcome for this execution.
        var violated: Bool
        /// The wakeup sequence of the first thread tried here (it starts with it): the threads to
        /// run next, in order, so that the race this branch reverses is reached (see `wakeupSequence`).
        var follow: ArraySlice<Int32> = []
        /// Wakeup sequences of threads races added to `backtrack` later, each starting with its thread.
        var inserted: [ArraySlice<Int32>] = []
    }

    struct Event {
        var thread: Int
        var access: Access
    }

    /// A reversal of two critical sections of one lax lock, held back until something shows that
    /// their order matters: the backtrack set of node `node` gains `pick` unless one of
    /// `initials` is already there. Lives while the path keeps its first `depth` events.
    struct DeferredReversal {
        var node: Int
        var thread: Int          // whose acquisition raced
        var location: Int64      // the lock
        var initials: UInt64
        var pick: UInt64
        var depth: Int
    }

    package func explore(_ ctx: ExplorationContext, options: ExplorationOptions) -> ExplorationResult {
        var options = options
        _ = options.runBudget()
        // An invariant's dependency is learnt while searching, so subtrees searched apart could
        // reduce differently: such programs are searched in one piece (by shard 0 of a split).
        if (options.jobs > 1 || options.shard != nil) && !ctx.checker.hasInvariant && !Self.reducesLocks(ctx, options)
            && !Self.releasesReadLocks(ctx) {
            return ParallelSearch(strategyName: name, subtree: search).explore(ctx, options: options)
        }
        let start = monotonicSeconds()
        var builder = ResultBuilder(strategy: name, program: ctx.machine.program)
        builder.result.shard = options.shard
        if let shard = options.shard, shard.index != 0 { return builder.finish(elapsed: 0) }
        let root = ctx.machine.initialState()
        if let t = ctx.classify(root).terminal {
            builder.add(t, schedule: [])
        } else {
            search(ctx, options, from: SubtreeRoot(state: root, sleep: 0, prefix: [], violated: false), into: &builder)
        }
        return builder.finish(elapsed: monotonicSeconds() - start)
    }

    /// Whether lock-aware reduction applies: asked for, a program with spinlocks, mutexes, rwsem
    /// writers or bit locks, and no `invariant` block (which sees the intermediate states a
    /// reordering of sections changes). Its execution counts depend on the search order, so such
    /// a search is never split.
    /// Whether the program has an up_read. Whether one commutes with other readers' operations
    /// depends on the thread's own down_read before it on the path (`sectionAware`), which a
    /// subtree of a split search does not see before its root; so such a search is not split
    /// either (split and whole counted 49 and 16 executions on ParallelSearchTests' program).
    static func releasesReadLocks(_ ctx: ExplorationContext) -> Bool {
        ctx.machine.program.functions.contains { f in
            f.code.contains { if case .sync(.upRead) = $0 { return true } else { return false } }
        }
    }

    static func reducesLocks(_ ctx: ExplorationContext, _ options: ExplorationOptions) -> Bool {
        guard options.lockReduction, !ctx.checker.hasInvariant else { return false }
        return ctx.machine.program.functions.contains { f in
            f.code.contains {
                switch $0 {
                case .sync(.spinLock), .sync(.downWrite), .sync(.waitOnBitLock): return true
                default: return false
                }
            }
        }
    }

    /// Source-DPOR from `start` (a non-terminal state), as if it were the initial state: races
    /// with the steps of its prefix are not reversed here (whoever enumerated the prefix tried the
    /// other orders); its sleep set is the initial one. `options` carry the run's budget.
    ///
    /// Lock-aware reduction (`lockReduction`): a race between two operations of one spinlock,
    /// mutex, rwsem (writers) or bit lock (lock/unlock by its holder: *lax* operations; not a
    /// writer's queueing; rwsem readers share, their operations commute with each other and are not lax)
    /// orders two critical sections; its reversal is held back (`DeferredReversal`) and made only
    /// when an access is ordered after a conflicting one by nothing but lax lock operations —
    /// happens-before without lax lock edges (a second set of vector clocks) says they race, the
    /// full one says they do not — and the held-back acquisition lies between the two. Sections
    /// that touch nothing in common are then not reordered. This is exact only while every critical section runs to its
    /// release without blocking (then their order changes nothing but what accesses see): when a
    /// holder of a lax lock may block or ends, or changes the lock otherwise (a trylock of it,
    /// downgrade_write), the lock becomes *strict* (never deferred) and the search starts again;
    /// it ends with a set of strict locks no execution contradicted.
    func search(_ ctx: ExplorationContext, _ options: ExplorationOptions, from start: SubtreeRoot, into builder: inout ResultBuilder) {
        var options = options
        _ = options.runBudget()
        let reduce = Self.reducesLocks(ctx, options)
        var strict: [Int64] = []
        let saved = builder
        while true {
            var observed: [[Int]] = []
            guard let more = searchOnce(ctx, options, from: start, laxLocks: reduce, strict: strict,
                                        observed: &observed, into: &builder) else {
                if let observe = options.observeTrace { for t in observed { observe(t) } }
                return
            }
            strict.append(contentsOf: more)
            builder = saved
            builder.result.lockRestarts += 1
        }
    }

    /// One attempt of `search` with the given strict locks: nil when it finished, else the locks
    /// it found must be strict too (the attempt's results are then void).
    func searchOnce(_ ctx: ExplorationContext, _ options: ExplorationOptions, from start: SubtreeRoot,
                    laxLocks: Bool, strict strictLocks: [Int64], observed: inout [[Int]], into builder: inout ResultBuilder) -> [Int64]? {
        var options = options
        let budget = options.runBudget()
        let machine = ctx.machine
        let hasInvariant = ctx.checker.hasInvariant
        // Objects the invariant may read: every global it (or a helper it calls) names, plus
        // whatever it is seen reading at run time (through pointers).
        var observedObjects = Set<Int>()
        if let inv = machine.program.invariantFunction {
            var work = [inv], seen = Set([inv])
            while let f = work.popLast() {
                for instr in machine.program.functions[f].code {
                    switch instr {
                    case .push(let v):
                        let o = Address.object(v)
                        if v > 0, o >= 1, o <= machine.program.globals.count { observedObjects.insert(o) }
                    case .call(let g):
                        if seen.insert(Int(g)).inserted { work.append(Int(g)) }
                    default: break
                    }
                }
            }
        }
        let root = start.state
        let rootMask = machine.enabledMask(root)
        let rootAwake = rootMask & ~start.sleep
        guard rootAwake != 0 else { builder.result.sleepBlocked += 1; return nil }
        let n = root.threads.count
        @inline(__always) func lowest(_ m: UInt64) -> Int { m.trailingZeroBitCount }
        var stack: [Node] = [Node(enabled: rootMask, backtrack: rootAwake & (0 &- rootAwake), done: 0, sleep: start.sleep, violated: start.violated)]
        var states: [State] = [root]          // states[k]: node k's (and spares below the path: `StatePool`)
        var events: [Event] = []
        // clocks[i * n + u]: how many events of thread u happen before event i (inclusive).
        var clocks: [Int32] = []
        var schedule: [Int] = start.prefix
        var lastClock = [Int32](repeating: 0, count: n * n)   // row t: the clock of t's last event
        var clockStack: [Int32] = []                          // the previous row of the thread of each event
        // Events by the object (memory) they touch, and the events on virtual locations: the only
        // candidates for dependency, so race detection does not scan the whole execution.
        var objectEvents: [[Int32]] = []      // indexed by `bucket`
        /// The table an address's events are filed under: its object, or 0 (with the NULL page)
        /// past `trackedObjects` — a wild pointer's object id can be anything, the table must
        /// not grow with it. Events within a table are compared exactly, so sharing one is sound.
        @inline(__always) func bucket(_ location: Int64) -> Int {
            let o = Address.object(location)
            return o < DynamicPartialOrderReduction.trackedObjects ? o : 0
        }
        var virtualEvents: [Int32] = []
        // Scratch for race analysis (no allocation per call).
        var pendingClock = [Int32](repeating: 0, count: n)
        var firstIncluded = [Int32](repeating: 0, count: n)
        var races: [Int32] = []
        // Happens-before without the edges between lax lock operations (lock-aware reduction).
        var laxClocks: [Int32] = []
        var laxLast = [Int32](repeating: 0, count: n * n)
        var laxClockStack: [Int32] = []
        var laxPendingClock = [Int32](repeating: 0, count: n)
        var deferred: [DeferredReversal] = []
        var sleptSections: [Int] = []         // (acquisition, access) pairs (`releaseLockOrderedReversals`)

        func pushEvent(_ e: Event, clock: [Int32], laxClock: [Int32]) {
            let idx = Int32(events.count)
            events.append(e)
            clocks.append(contentsOf: clock)
            if laxLocks {
                laxClocks.append(contentsOf: laxClock)
                for u in 0..<n { laxClockStack.append(laxLast[e.thread * n + u]); laxLast[e.thread * n + u] = laxClock[u] }
            }
            if e.access.location < 0 { virtualEvents.append(idx) }
            else {
                let o = bucket(e.access.location)
                if o >= objectEvents.count { objectEvents.append(contentsOf: repeatElement([], count: o + 1 - objectEvents.count)) }
                objectEvents[o].append(idx)
            }
            let row = e.thread * n
            for u in 0..<n { clockStack.append(lastClock[row + u]); lastClock[row + u] = clock[u] }
        }
        func popEvent() {
            let e = events.removeLast()
            clocks.removeLast(n)
            if e.access.location < 0 { virtualEvents.removeLast() }
            else { objectEvents[bucket(e.access.location)].removeLast() }
            let row = e.thread * n
            for u in (0..<n).reversed() { lastClock[row + u] = clockStack.removeLast() }
            if laxLocks {
                laxClocks.removeLast(n)
                for u in (0..<n).reversed() { laxLast[row + u] = laxClockStack.removeLast() }
                while let d = deferred.last, d.depth > events.count { deferred.removeLast() }
            }
            schedule.removeLast()
        }
        /// Calls `body` with the indices of earlier events that may conflict with `a`, latest first.
        func forCandidates(_ a: Access, _ body: (Int) -> Void) {
            if hasInvariant {
                var i = events.count - 1
                while i >= 0 { body(i); i -= 1 }
            } else if a.location < 0 {
                for i in virtualEvents.reversed() { body(Int(i)) }
            } else if bucket(a.location) < objectEvents.count {
                for i in objectEvents[bucket(a.location)].reversed() { body(Int(i)) }
            }
        }
        /// A lock operation whose order with the others of its lock may be held back. Not a
        /// reader's (down_read, up_read): readers' sections and writers' are ordered as any two
        /// conflicting steps (a property test lost final states with lax readers). Not a writer's
        /// queueing on a held rwsem either: whether a reader's later down_read waits behind it
        /// depends on that order, which no access of the sections shows (generated program 10 of
        /// seed 0x10CC5 lost the state where the reader's whole thread runs first).
        @inline(__always) func lax(_ a: Access) -> Bool {
            laxLocks && (a.lockOp == Access.acquire || a.lockOp == Access.release)
                && !strictLocks.contains(a.location) && !a.commutative
        }
        /// Two lax operations of one lock: dependent (they exclude each other), but what they order
        /// matters only through the sections' accesses. (Bit locks on other bits of one word are
        /// other locks.)
        @inline(__always) func laxPair(_ a: Access, _ b: Access) -> Bool {
            a.location == b.location && a.threads == b.threads && lax(a) && lax(b)
        }
        @inline(__always) func dependent(_ a: Access, _ b: Access) -> Bool {
            // Most candidates are other cells of the same object, which never conflict: that is
            // told here, as `conflicts` (another module's) is a call.
            let otherCells = a.location >= 0 && b.location >= 0 && a.location != b.location && !a.wholeObject && !b.wholeObject
            if !otherCells && a.conflicts(with: b) { return true }
            guard hasInvariant, a.write, b.write, a.location > 0, b.location > 0 else { return false }
            return observedObjects.contains(Address.object(a.location)) && observedObjects.contains(Address.object(b.location))
        }
        /// The source-set rule for thread `p`'s pending step `a`: for every event `e` it races with
        /// (dependent, another thread, no other event between them in happens-before), make sure the
        /// state before `e` will try some thread that can start the reversed order `notdep(e).p`.
        func analyzeRaces(_ p: Int, _ a: Access, in current: State) {
            races.removeAll(keepingCapacity: true)
            for u in 0..<n { pendingClock[u] = lastClock[p * n + u] }
            forCandidates(a) { i in
                let e = events[i]
                guard e.thread != p, dependent(e.access, a) else { return }
                if clocks[i * n + e.thread] <= pendingClock[e.thread] { return }   // ordered through another event
                races.append(Int32(i))
                for u in 0..<n where clocks[i * n + u] > pendingClock[u] { pendingClock[u] = clocks[i * n + u] }
            }
            for r in races {
                var i = Int(r)
                // A wait on e's cell that blocks before e cannot run before e (every write of that
                // cell in notdep(e) conflicts with e, so happens after it): reversing this race
                // would only end sleep-blocked. Reverse it with the step that closed the wait (a
                // lock's acquisition by its holder: for a lax lock, a held-back reversal)
                // instead; none on the path: nothing to reverse.
                if events[i].access.conflicts(with: a), machine.pendingWaitBlocks(current, p, memory: states[i]) {
                    guard let j = closingEvent(i, p, a, current) else { continue }
                    i = j
                }
                // Likewise the end of a grace period (or a callback's) that still waited for e's
                // thread before e, its exit: the order of its start and that section's entry is
                // another race, reversed where it is found.
                if a.location < 0, events[i].access.conflicts(with: a),
                   machine.pendingWaitHolds(current, p, for: events[i].thread, in: states[i]) { continue }
                let isLax = laxPair(events[i].access, a)
                if isLax, case let q = sectionStart(i), q != i {
                    let (initials, pick) = reversal(q, p)
                    if pick != 0 { deferred.append(DeferredReversal(node: q, thread: p, location: a.location, initials: initials, pick: pick, depth: events.count)) }
                }
                let (initials, pick) = reversal(i, p)
                if pick == 0 { continue }
                if isLax {
                    deferred.append(DeferredReversal(node: i, thread: p, location: a.location, initials: initials, pick: pick, depth: events.count))
                } else { addBacktrack(i, pick, reversing: p, end: events.count) }
            }
            if laxLocks && !deferred.isEmpty { releaseLockOrderedReversals(p, a) }
        }
        /// For p's pending wait `a`, blocked on the memory before event `i`: the latest event up to
        /// `i` on its object before which the wait would pass (the step that closed it), if
        /// another thread's on the path made it and it does not happen before p's own last step
        /// (then p cannot run before it: the race that ordered them is reversed where it was
        /// found). Nil for a virtual location (an RCU callback waiting for its `call_rcu`: the
        /// queue was empty, nothing but that call can fill it).
        func closingEvent(_ i: Int, _ p: Int, _ a: Access, _ current: State) -> Int? {
            guard a.location >= 0 else { return nil }
            let list = objectEvents[bucket(a.location)]
            var x = list.count - 1
            while x >= 0 {
                let j = Int(list[x])
                x -= 1
                if j > i { continue }
                if !machine.pendingWaitBlocks(current, p, memory: states[j]) {
                    let q = events[j].thread
                    guard q != p, events[j].access.conflicts(with: a), clocks[j * n + q] > lastClock[p * n + q] else { return nil }
                    return j
                }
            }
            return nil
        }
        /// For a race of event `i` with p's pending step (clock `pendingClock`): the initials of
        /// `notdep(e).p` and the thread(s) to add to the backtrack set before `e` (0: none needed).
        func reversal(_ i: Int, _ p: Int) -> (UInt64, UInt64) {
            let m = events.count
            let eThread = events[i].thread
            let eOwn = clocks[i * n + eThread]
            // Initials of v = notdep(e).p: events after e that e does not happen before, then p.
            for u in 0..<n { firstIncluded[u] = Int32.max }
            var initials: UInt64 = 0
            var j = i + 1
            while j < m {
                let base = j * n
                if clocks[base + eThread] < eOwn {       // not after e
                    let u = events[j].thread
                    if firstIncluded[u] == Int32.max {
                        var initial = true
                        for w in 0..<n where w != u && firstIncluded[w] <= clocks[base + w] { initial = false; break }
                        if initial { initials |= 1 << UInt64(u) }
                        firstIncluded[u] = clocks[base + u]
                    }
                }
                j += 1
            }
            if firstIncluded[p] == Int32.max {
                var initial = true
                for w in 0..<n where w != p && firstIncluded[w] <= pendingClock[w] { initial = false; break }
                if initial { initials |= 1 << UInt64(p) }
            }
            let enabled = stack[i].enabled
            if initials & stack[i].backtrack != 0 { return (initials, 0) }
            let usable = initials & enabled
            if usable == 0 { return (initials, enabled) }   // not reversible as seen: be conservative
            if (usable >> UInt64(p)) & 1 == 1 { return (initials, 1 << UInt64(p)) }
            let awake = usable & ~stack[i].sleep
            let pick = awake != 0 ? awake : usable
            return (initials, 1 << UInt64(lowest(pick)))
        }
        /// Adds `pick` to the backtrack set of the state before event `i`, to reverse its race with
        /// `p`'s step after the first `end` events; a single new thread gets its wakeup sequence.
        func addBacktrack(_ i: Int, _ pick: UInt64, reversing p: Int, end: Int) {
            let fresh = pick & ~stack[i].backtrack
            stack[i].backtrack |= pick
            guard fresh != 0, fresh == pick, pick & (pick - 1) == 0 else { return }
            stack[i].inserted.append(wakeupSequence(i, p, first: lowest(pick), end: end))
        }
        /// The wakeup sequence that reverses the race of event `i` (thread e) with `p`'s step after
        /// the first `end` events: the threads of v = notdep(e).p in order (the events after `i`
        /// that `i` does not happen before, then p), initial `first` moved to the front. Source-DPOR
        /// only asks for v's first thread and lets the search wander on from there, often into a
        /// state where every enabled thread sleeps (a sleep-blocked execution, wasted work);
        /// following v to its end reaches the reversed race, which wakes e's thread (the effect of
        /// Optimal-DPOR's wakeup trees, Abdulla et al., JACM 2017). Any continuation keeps
        /// Source-DPOR exact: the sequence only chooses which thread a new state tries first.
        func wakeupSequence(_ i: Int, _ p: Int, first q: Int, end: Int) -> ArraySlice<Int32> {
            let eThread = events[i].thread
            let eOwn = clocks[i * n + eThread]
            var seq: [Int32] = []
            seq.reserveCapacity(end - i + 1)        // one allocation, not one per doubling
            seq.append(Int32(q))
            var moved = false
            var j = i + 1
            while j < end {
                if clocks[j * n + eThread] < eOwn {
                    let u = events[j].thread
                    if u == q && !moved { moved = true } else { seq.append(Int32(u)) }
                }
                j += 1
            }
            if moved || p != q { seq.append(Int32(p)) }
            return seq[...]
        }
        /// Pending step `a` of `p` against earlier conflicting accesses: one that happens before it
        /// only through lax lock operations (a race once those edges are left out, not with them)
        /// needs the held-back reversals of the acquisitions in between.
        func releaseLockOrderedReversals(_ p: Int, _ a: Access) {
            for u in 0..<n { laxPendingClock[u] = laxLast[p * n + u] }
            var earliest = Int.max
            forCandidates(a) { i in
                let e = events[i]
                guard e.thread != p, dependent(e.access, a), !laxPair(e.access, a) else { return }
                if laxClocks[i * n + e.thread] <= laxPendingClock[e.thread] { return }   // ordered through another event
                for u in 0..<n where laxClocks[i * n + u] > laxPendingClock[u] { laxPendingClock[u] = laxClocks[i * n + u] }
                if races.contains(Int32(i)) { return }
                // The usual case: e lies in a section of a lax lock that p took after it. Then p's
                // section must come first: reverse p with that section's acquisition, directly.
                // If p sleeps there (that order was explored from an earlier state), what orders
                // e before p is another thread's section of that lock after e's, held back at
                // that acquisition: make those too (generated program 644).
                if let k = sectionReversal(i, p) {
                    let (_, pick) = reversal(k, p)
                    addBacktrack(k, pick, reversing: p, end: events.count)
                    if (stack[k].sleep >> UInt64(p)) & 1 == 1 { sleptSections.append(k); sleptSections.append(i) }
                    if case let q = sectionStart(k), q != k {
                        let (_, pick) = reversal(q, p)
                        addBacktrack(q, pick, reversing: p, end: events.count)
                    }
                } else { earliest = min(earliest, i) }
            }
            guard earliest != Int.max || !sleptSections.isEmpty else { return }
            var k = deferred.count - 1
            while k >= 0 {
                let d = deferred[k]
                // The acquisition the reversal is about: d.thread's next operation of the lock.
                var j = d.node + 1
                while j < events.count, !(events[j].thread == d.thread && events[j].access.location == d.location) { j += 1 }
                var slept = false
                var x = 0
                while x < sleptSections.count { if sleptSections[x] == d.node && j > sleptSections[x + 1] { slept = true }; x += 2 }
                if j > earliest || slept {
                    if d.initials & stack[d.node].backtrack == 0 { addBacktrack(d.node, d.pick, reversing: d.thread, end: d.depth) }
                    deferred.remove(at: k)
                }
                k -= 1
            }
            sleptSections.removeAll(keepingCapacity: true)
        }
        /// For event `i` (thread q) ordered before p's pending step only through lax lock
        /// operations: the acquisition of a lax lock q holds at `i` that p took afterwards, if any.
        func sectionReversal(_ i: Int, _ p: Int) -> Int? {
            let q = events[i].thread
            let m = events.count
            var k = i - 1
            while k >= 0 {
                let e = events[k]
                if e.thread == q && e.access.lockOp == Access.acquire && lax(e.access) {
                    // q's release of it after i, then p's acquisition after that.
                    var j = i + 1
                    while j < m && !(events[j].thread == q && events[j].access.location == e.access.location) { j += 1 }
                    if j < m && events[j].access.lockOp == Access.release {
                        var l = j + 1
                        while l < m && !(events[l].thread == p && events[l].access.location == e.access.location && events[l].access.lockOp == Access.acquire) { l += 1 }
                        if l < m { return k }
                    }
                }
                k -= 1
            }
            return nil
        }
        /// Where the section that acquisition `k` opens began: at the thread's queueing on the
        /// rwsem, if it queued first (from then on readers wait behind it, so a reader's section
        /// goes first only from before the queueing; a writer's may also from before `k`).
        func sectionStart(_ k: Int) -> Int {
            let e = events[k]
            let list = objectEvents[bucket(e.access.location)]
            var x = list.count - 1
            while x >= 0 {
                let j = Int(list[x])
                x -= 1
                guard j < k, events[j].thread == e.thread, events[j].access.location == e.access.location else { continue }
                return events[j].access.lockOp == Access.queue ? j : k
            }
            return k
        }
        /// A release ends a lax section only if the section began with a blocking acquisition
        /// (one that began with a successful trylock is ordered by the trylock's result). An
        /// up_read commutes with other readers' operations only after the thread's own down_read:
        /// else it may find no reader (lock misuse) or end another thread's read section. A
        /// cleared bit is a bit lock's release only after the thread's wait_on_bit_lock of it
        /// (operations on the word's other bits do not count).
        func sectionAware(_ a: Access, _ t: Int) -> Access {
            guard a.lockOp == Access.release, laxLocks || a.commutative else { return a }
            let list = objectEvents.count > bucket(a.location) ? objectEvents[bucket(a.location)] : []
            var x = list.count - 1
            while x >= 0 {
                let e = events[Int(list[x])]
                if e.thread == t && e.access.location == a.location && (a.threads == 0 || e.access.threads == a.threads) {
                    if e.access.lockOp == Access.acquire { return a }
                    break
                }
                x -= 1
            }
            var b = a; b.lockOp = 0; b.commutative = false
            return b
        }
        /// Lax locks thread `t` holds: those whose last lax operation by `t` on the current path
        /// is an acquisition (a reader's hold is in no cell; a lock another thread unlocked for
        /// `t` counts as held, which only makes it strict).
        func laxLocksHeld(by t: Int) -> [Int64] {
            var held: [Int64] = [], seen: [Int64] = []
            for e in events.reversed() where e.thread == t && lax(e.access) && !seen.contains(e.access.location) {
                seen.append(e.access.location)
                if e.access.lockOp == Access.acquire { held.append(e.access.location) }
            }
            return held
        }

        // Violations on the current path (a violating thread is halted, the execution goes on): each
        // complete execution through them counts once, with the canonical schedule (computed once).
        var pending = start.pending
        var steps = 0
        var sleepBlocked = 0
        var sinceClock = 0
        var estimate = TreeSizeEstimate()
        var clock = [Int32](repeating: 0, count: n)
        var laxClock = [Int32](repeating: 0, count: n)
        var pool = StatePool(blockShift: machine.cellBlockShift)
        var child = State.blank()             // the state being stepped (`StatePool`)
        /// The vector clocks of the path's first `steps` steps, when the path starts at the initial
        /// state (a subtree's prefix has none): canonical schedules read happens-before off them.
        let fromRoot = start.prefix.isEmpty   // (`start` read in the closure would be copied, state and all)
        func pathClocks(_ steps: Int) -> ArraySlice<Int32>? {
            fromRoot && steps <= events.count ? clocks[0..<(steps * n)] : nil
        }

        search: while !stack.isEmpty {
            let k = stack.count - 1
            let todo = stack[k].backtrack & ~stack[k].done & ~stack[k].sleep
            if todo == 0 {
                stack.removeLast()
                while let last = pending.last, last.depth >= k, k > 0 { pending.removeLast() }
                if k > 0 { popEvent() }
                continue
            }
            let t = lowest(todo)
            let wakeup = stack[k].follow.first == Int32(t) ? stack[k].follow : (stack[k].inserted.first { $0.first == Int32(t) } ?? [])
            // Node k's state is read through a pointer: `states[k]` would copy it (a retain per buffer).
            let access = sectionAware(states.withUnsafeBufferPointer { machine.pendingAccess($0.baseAddress! + k, t)! }, t)
            // Sleep set of the child: threads asleep here or already explored here, whose next
            // step is independent of this one.
            var childSleep: UInt64 = 0
            var cand = (stack[k].sleep | stack[k].done) & ~(1 << UInt64(t))
            while cand != 0 {
                let q = lowest(cand); cand &= cand - 1
                if let a = states.withUnsafeBufferPointer({ machine.pendingAccess($0.baseAddress! + k, q) }), !dependent(sectionAware(a, q), access) { childSleep |= 1 << UInt64(q) }
            }
            stack[k].done |= 1 << UInt64(t)
            // Vector clock of the new event: after t's previous event and every earlier dependent event.
            for u in 0..<n { clock[u] = lastClock[t * n + u] }
            forCandidates(access) { j in
                let e = events[j]
                if e.thread != t && dependent(e.access, access) {
                    for u in 0..<n where clocks[j * n + u] > clock[u] { clock[u] = clocks[j * n + u] }
                }
            }
            clock[t] += 1
            if laxLocks {
                for u in 0..<n { laxClock[u] = laxLast[t * n + u] }
                forCandidates(access) { j in
                    let e = events[j]
                    if e.thread != t && dependent(e.access, access) && !laxPair(e.access, access) {
                        for u in 0..<n where laxClocks[j * n + u] > laxClock[u] { laxClock[u] = laxClocks[j * n + u] }
                    }
                }
                laxClock[t] += 1
            }
            pool.child(of: k, in: &states, into: &child)
            schedule.append(t)
            // A thread that violates is halted and the others go on, so that races with their
            // later steps are still seen (a truncated execution would hide them). Data races do
            // not end the execution either; each counts for every complete execution through it.
            var violated = stack[k].violated
            let (cmask, end) = ctx.expand(&child, t, violated: &violated, parentRaces: states.withUnsafeBufferPointer { $0[k].dataRaces.count },
                invariant: { s in
                    guard hasInvariant else { return nil }
                    var reads: [Int64]? = []
                    let v = ctx.checker.checkInvariant(s, reads: &reads)
                    for a in reads! where a > 0 { observedObjects.insert(Address.object(a)) }
                    return v
                },
                found: { pending.append(PendingViolation(depth: k + 1, violation: $0, schedule: schedule)) })
            steps += 1
            // Long executions keep a state per step on the stack: time and memory are checked
            // within them too, not only when one ends.
            if steps & 15 == 0, let r = budget.exhausted() { builder.stop(r); break search }
            pushEvent(Event(thread: t, access: access), clock: clock, laxClock: laxClock)
            // A lax lock's holder that ends or may block: the lock must be strict (search again);
            // likewise a lock its holder is about to try again or downgrade.
            if laxLocks {
                let next = machine.pendingAccess(child, t)
                if next == nil || machine.pendingMayBlock(child, t) {
                    let held = laxLocksHeld(by: t)
                    if !held.isEmpty { return held }
                } else if let a = next, a.lockOp == Access.trylock || a.lockOp == Access.downgrade, !strictLocks.contains(a.location),
                          laxLocksHeld(by: t).contains(a.location) {
                    return [a.location]
                }
            }
            // Races of pending steps that changed: t's next step, and every step the new event is
            // dependent with (its races and their reversals may have changed).
            for p in 0..<n {
                guard let pa = machine.pendingAccess(child, p) else { continue }
                let a = sectionAware(pa, p)
                if p == t || dependent(a, access) { analyzeRaces(p, a, in: child) }
            }
            if let term = end {
                // A complete execution: it counts once for every violation on its way.
                builder.addComplete(ctx, term, schedule: schedule, violated: violated, raced: !child.dataRaces.isEmpty,
                                    pending: &pending, clocks: pathClocks)
                while let last = pending.last, last.depth > k { pending.removeLast() }
                if options.observeTrace != nil {
                    observed.append(CanonicalSchedule.linearize(threads: events.map(\.thread), clocks: laxLocks ? laxClocks : clocks, threads: n, causalOnly: false))
                }
                popEvent()
                pool.give(&child, at: k + 1, in: &states)
                sinceClock += 1
                if let r = budget.finishedExecution(builder.result) { builder.stop(r); break search }
                if sinceClock >= 256 {
                    sinceClock = 0
                    // A subtree of a split search cannot estimate the whole tree.
                    if budget.progress != nil && start.prefix.isEmpty {
                        estimate.sample(branching: stack.lazy.map { ($0.backtrack | $0.done).nonzeroBitCount })
                        budget.expect(total: estimate.mean)
                    }
                }
                continue
            }
            let awake = cmask & ~childSleep
            if awake == 0 {
                // Every enabled thread is asleep: this execution is equivalent to one explored already.
                sleepBlocked += 1
                while let last = pending.last, last.depth > k { pending.removeLast() }
                popEvent()
                pool.give(&child, at: k + 1, in: &states)
                if sleepBlocked & 63 == 0, let r = budget.exhausted() { builder.stop(r); break search }
                continue
            }
            // The first thread to try: the next of the wakeup sequence being followed, if awake.
            var first = awake & (0 &- awake)
            var follow: ArraySlice<Int32> = []
            if wakeup.count > 1, (awake >> UInt64(wakeup[wakeup.startIndex + 1])) & 1 == 1 {
                follow = wakeup.dropFirst()
                first = 1 << UInt64(follow.first!)
            }
            stack.append(Node(enabled: cmask, backtrack: first, done: 0, sleep: childSleep, violated: violated, follow: follow))
            pool.give(&child, at: k + 1, in: &states)
        }
        builder.result.steps += steps
        builder.result.sleepBlocked += sleepBlocked
        return nil
    }
}
