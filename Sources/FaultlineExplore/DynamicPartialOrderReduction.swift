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
        /// The threads of `sleep` asleep since the root of a subtree search, put to sleep by the
        /// search that enumerated its prefix: their explored orders carry no wakeup tree of this
        /// search, so they cover only the orders they are an initial of (`insertReversal`).
        var inherited: UInt64 = 0
        /// The branches to explore from here that are not explored yet (`WakeupTree`).
        var tree = WakeupTree()
    }

    struct Event {
        var thread: Int
        var access: Access
    }

    /// A race of event `node` with `thread`'s pending step `access`, seen after the first `seen`
    /// events: reversed at the end of every execution whose path keeps those events.
    struct Reversal {
        var node: Int
        var thread: Int
        var access: Access
        var seen: Int
        var step: Int32          // how many steps `thread` had taken (which of its steps raced)
    }

    /// Optimal-DPOR's wakeup tree of a node (Abdulla, Aronis, Jonsson and Sagonas, JACM 2017,
    /// Algorithm 2), as the list of its root-to-leaf sequences not explored yet, in the order
    /// they are explored: the children of a node of the tree are the distinct next threads of
    /// the sequences through it, in the order of their first sequence. A new state follows its
    /// tree to the leaves before it chooses freely; a race's reversal is inserted into the tree
    /// of the state before its first step, under the branch it extends, unless a thread asleep
    /// there starts an equivalent order. So no branch runs into a state where every enabled
    /// thread sleeps because of its own reversal (Source-DPOR's single thread per reversal does:
    /// it wanders on from there). The first sequence is kept apart so that following one
    /// sequence, the usual case, copies no array.
    struct WakeupTree {
        var first: ArraySlice<Event> = []
        var more: [ArraySlice<Event>] = []
        var count: Int { first.isEmpty ? 0 : 1 + more.count }
        var isEmpty: Bool { first.isEmpty }
        subscript(_ b: Int) -> ArraySlice<Event> { b == 0 ? first : more[b - 1] }
        /// Step `d` of sequence `b`, and the length of sequence `b` (no slice made).
        func event(_ b: Int, _ d: Int) -> Event { b == 0 ? first[first.startIndex + d] : more[b - 1][more[b - 1].startIndex + d] }
        func length(_ b: Int) -> Int { b == 0 ? first.count : more[b - 1].count }
        mutating func append(_ branch: ArraySlice<Event>) {
            if first.isEmpty { first = branch } else { more.append(branch) }
        }
        /// Takes out the sequences that start with thread `t` (their rest: the subtree at `t`).
        mutating func take(_ t: Int) -> WakeupTree {
            var sub = WakeupTree()
            if first.first?.thread == t { sub.first = first.dropFirst(); first = [] }
            if !more.isEmpty {
                for b in more where b.first!.thread == t && b.count > 1 { sub.append(b.dropFirst()) }
                more.removeAll { $0.first!.thread == t }
            }
            if first.isEmpty && !more.isEmpty { first = more.removeFirst() }
            return sub
        }
        /// Drops the sequences whose first thread is not in `threads`.
        mutating func keep(_ threads: UInt64) {
            while let t = first.first?.thread, (threads >> UInt64(t)) & 1 == 0 { _ = take(t) }
            if !more.isEmpty { more.removeAll { (threads >> UInt64($0.first!.thread)) & 1 == 0 } }
        }
        /// The threads the sequences start with.
        var roots: UInt64 {
            var m: UInt64 = 0
            if let t = first.first?.thread { m |= 1 << UInt64(t) }
            for b in more { m |= 1 << UInt64(b.first!.thread) }
            return m
        }
    }

    /// A reversal of two critical sections of one lax lock, held back until something shows that
    /// their order matters: then node `node` tries `pick` (with the sequence that reverses
    /// `thread`'s acquisition `access` as seen after the first `depth` events), unless one of
    /// `initials` is tried there already. Lives while the path keeps those events.
    struct DeferredReversal {
        var node: Int
        var thread: Int          // whose acquisition raced
        var location: Int64      // the lock
        var access: Access
        var initials: UInt64
        var pick: UInt64
        var depth: Int
    }

    package func explore(_ ctx: ExplorationContext, options: ExplorationOptions) -> ExplorationResult {
        var options = options
        _ = options.runBudget()
        // An invariant's dependency is learnt while searching, so subtrees searched apart could
        // reduce differently: such programs are searched in one piece (by shard 0 of a split).
        // Under wakeup trees, neither is a program with a loop: a livelock or the step bound is
        // found on the path, so which of a trace's executions is explored decides the schedule
        // shown, and a subtree's search explores others than the whole search does.
        if (options.jobs > 1 || options.shard != nil) && !ctx.checker.hasInvariant && !Self.reducesLocks(ctx, options)
            && !Self.releasesReadLocks(ctx) && !(options.wakeupTrees && Self.hasLoop(ctx)) {
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
        programContains(ctx) { instr, _ in if case .sync(.upRead) = instr { return true } else { return false } }
    }

    static func reducesLocks(_ ctx: ExplorationContext, _ options: ExplorationOptions) -> Bool {
        guard options.lockReduction, !ctx.checker.hasInvariant else { return false }
        return programContains(ctx) { instr, _ in
            switch instr {
            case .sync(.spinLock), .sync(.downWrite), .sync(.waitOnBitLock): return true
            default: return false
            }
        }
    }

    /// Whether the program has a backward jump (a loop).
    static func hasLoop(_ ctx: ExplorationContext) -> Bool {
        programContains(ctx) { instr, pc in
            switch instr {
            case .jump(let t), .jumpIfZero(let t), .jumpIfNotZero(let t): return Int(t) <= pc
            default: return false
            }
        }
    }

    /// Whether some instruction of some function of the program satisfies `test` (at its index).
    static func programContains(_ ctx: ExplorationContext, _ test: (Instr, Int) -> Bool) -> Bool {
        ctx.machine.program.functions.contains { f in f.code.indices.contains { test(f.code[$0], $0) } }
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
    /// it ends with a set of strict locks no execution contradicted. (An rwsem one of whose
    /// up_reads had no down_read of its thread before it is strict in that sense too, in every
    /// mode: its up_reads no longer commute.)
    func search(_ ctx: ExplorationContext, _ options: ExplorationOptions, from start: SubtreeRoot, into builder: inout ResultBuilder) {
        var options = options
        _ = options.runBudget()
        let reduce = Self.reducesLocks(ctx, options)
        var strict = StrictLocks()
        let saved = builder
        while true {
            var observed: [[Int]] = []
            guard let more = searchOnce(ctx, options, from: start, laxLocks: reduce, strict: strict,
                                        observed: &observed, into: &builder) else {
                if let observe = options.observeTrace { for t in observed { observe(t) } }
                return
            }
            strict.sections.append(contentsOf: more.sections)
            strict.readers.append(contentsOf: more.readers)
            builder = saved
            builder.result.lockRestarts += 1
        }
    }

    /// Locks found not to commute as the search assumed (`search`): lax locks whose sections
    /// must be ordered as any conflicting steps, and rwsems whose up_reads do not commute.
    struct StrictLocks {
        var sections: [Int64] = []
        var readers: [Int64] = []
    }

    /// One attempt of `search` with the given strict locks: nil when it finished, else the locks
    /// it found must be strict too (the attempt's results are then void).
    func searchOnce(_ ctx: ExplorationContext, _ options: ExplorationOptions, from start: SubtreeRoot,
                    laxLocks: Bool, strict: StrictLocks, observed: inout [[Int]], into builder: inout ResultBuilder) -> StrictLocks? {
        let strictLocks = strict.sections, strictReaders = strict.readers
        var options = options
        let budget = options.runBudget()
        let wakeupTrees = options.wakeupTrees
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
        var stack: [Node] = [Node(enabled: rootMask, backtrack: rootAwake & (0 &- rootAwake), done: 0, sleep: start.sleep, violated: start.violated, inherited: start.sleep)]
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
        var sequence: [Event] = []            // a reversal's v (`notdep`): as long as a path can be,
        sequence.reserveCapacity(Int(machine.maxSteps) + 1)   // so that it never grows (`AllocationTests`)
        var branches: [Int] = []              // the tree's sequences through a node (`insertSequence`)
        var reversals: [Reversal] = []        // races of this execution (`insertReversals`)
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
            while let r = reversals.last, r.seen > events.count { reversals.removeLast() }
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
                guard laxLocks || !wakeupTrees else { reverse(i, p, a, end: events.count); continue }
                if isLax, case let q = sectionStart(i), q != i {
                    let (initials, pick) = reversal(q, p)
                    if pick != 0 { deferred.append(DeferredReversal(node: q, thread: p, location: a.location, access: a, initials: initials, pick: pick, depth: events.count)) }
                }
                let (initials, pick) = reversal(i, p)
                if pick == 0 { continue }
                if isLax {
                    deferred.append(DeferredReversal(node: i, thread: p, location: a.location, access: a, initials: initials, pick: pick, depth: events.count))
                } else { addSequence(i, pick, p, a, end: events.count) }
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
        /// Source-DPOR's rule (lock-aware reduction, or no wakeup trees): for a race of event `i` with p's pending
        /// step (clock `pendingClock`), the initials of `notdep(e).p` and the thread(s) to try
        /// before `e` (0: one of them is tried there already).
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
            return (initials, 1 << UInt64(lowest(awake != 0 ? awake : usable)))
        }
        /// Source-DPOR's addition of `pick` to the threads tried before event `i`, to reverse its
        /// race with p's pending step `a` seen after the first `end` events (lock-aware reduction,
        /// whose held-back reversals and counts rely on it, or no wakeup trees): a single new thread
        /// gets the sequence of `notdep(e).p` with its first step moved to the front, which
        /// the new branch follows while its next thread is awake; several get a leaf each.
        func addSequence(_ i: Int, _ pick: UInt64, _ p: Int, _ a: Access, end: Int) {
            let fresh = pick & ~stack[i].backtrack
            guard fresh != 0, fresh == pick, pick & (pick - 1) == 0, (stack[i].sleep & pick) == 0 else {
                addLeaves(i, fresh)
                stack[i].backtrack |= pick
                return
            }
            notdep(i, p, a, end: end)
            let q = lowest(pick)
            if let j = sequence.firstIndex(where: { $0.thread == q }), j > 0 {
                let e = sequence.remove(at: j)
                sequence.insert(e, at: 0)
            }
            stack[i].tree.append(Array(sequence)[...])
            stack[i].backtrack |= pick
        }
        /// Makes the state before event `i` try the threads of `pick` it does not try yet, each
        /// as a leaf of its wakeup tree (from there the search chooses freely).
        func addLeaves(_ i: Int, _ pick: UInt64) {
            var fresh = pick & ~stack[i].backtrack & ~stack[i].sleep
            while fresh != 0 {
                let q = lowest(fresh); fresh &= fresh - 1
                guard let pq = states.withUnsafeBufferPointer({ machine.pendingAccess($0.baseAddress! + i, q) }) else { continue }
                let aq = sectionAware(pq, q, before: i)
                stack[i].tree.append([Event(thread: q, access: aq)][...])
                stack[i].backtrack |= 1 << UInt64(q)
            }
        }
        /// Records the race of event `i` with p's pending step `a` seen after the first `end`
        /// events (once per step of p), for `insertReversals` at the end of each execution.
        func reverse(_ i: Int, _ p: Int, _ a: Access, end: Int) {
            let step = lastClock[p * n + p]
            var x = reversals.count - 1
            while x >= 0 {
                let r = reversals[x]
                if r.node == i && r.thread == p && r.step == step { return }
                x -= 1
            }
            reversals.append(Reversal(node: i, thread: p, access: a, seen: end, step: step))
        }
        /// At the end of every execution E, the reversals of all its races go into the wakeup
        /// trees, each with v = notdep(e, E).p over all of E (Optimal-DPOR's rule, JACM 2017
        /// Algorithm 2). Not only the races seen since the last execution, and not with v cut off
        /// where the race was seen: either lets a sleeping thread pass for a weak initial of v when
        /// it is not one of the v of this E (lock program 207 of seed 0x10CC5 lost traces both ways).
        func insertReversals() {
            for r in reversals { insertReversal(r.node, r.thread, r.access, seen: r.seen) }
        }
        /// v = notdep(e, E).p into the wakeup tree of the state before `i`, unless a thread asleep
        /// or explored there is a weak initial of v (that order was explored).
        func insertReversal(_ i: Int, _ p: Int, _ a: Access, seen: Int) {
            // Usually v's first step is that of a thread explored (or asleep) there already, an
            // initial of v: then v was explored, and it need not be built (most of the races of
            // an execution were reversed at the end of an earlier one).
            var j = i + 1
            while j < events.count && !inNotdep(j, of: i, p, pendingFrom: seen) { j += 1 }
            let first = j < events.count ? events[j].thread : p
            if (((stack[i].sleep | stack[i].done) & stack[i].enabled) >> UInt64(first)) & 1 == 1 { return }
            notdep(i, p, a, end: events.count, pendingFrom: seen)
            // v's first step is an initial: if its thread cannot run there, v is not reversible
            // as seen (a wait that memory does not decide): be conservative.
            guard (stack[i].enabled >> UInt64(sequence[0].thread)) & 1 == 1 else { return addLeaves(i, stack[i].enabled) }
            var asleep = stack[i].sleep | stack[i].done
            while asleep != 0 {
                let q = lowest(asleep); asleep &= asleep - 1
                let strong = (stack[i].inherited >> UInt64(q)) & 1 == 1
                if let aq = states.withUnsafeBufferPointer({ machine.pendingAccess($0.baseAddress! + i, q) }),
                   weakInitial(q, sectionAware(aq, q, before: i), strong: strong) { return }
            }
            insertSequence(at: i)
        }
        /// v = notdep(e).p into `sequence`: the events after `i` (e) up to `end` that e does not
        /// happen before, then p's step `a`.
        func notdep(_ i: Int, _ p: Int, _ a: Access, end: Int, pendingFrom: Int = Int.max) {
            sequence.removeAll(keepingCapacity: true)
            var j = i + 1
            while j < end {
                if inNotdep(j, of: i, p, pendingFrom: pendingFrom) { sequence.append(events[j]) }
                j += 1
            }
            sequence.append(Event(thread: p, access: a))
        }
        /// Whether event `j` (after `i`) is in notdep(e) for event `i`: `i` does not happen
        /// before it, and it is not p's step from the one that raced (`pendingFrom`) on.
        @inline(__always) func inNotdep(_ j: Int, of i: Int, _ p: Int, pendingFrom: Int) -> Bool {
            let eThread = events[i].thread
            return clocks[j * n + eThread] < clocks[i * n + eThread] && (j < pendingFrom || events[j].thread != p)
        }
        /// Whether thread `q`, whose next step is `aq`, is a weak initial of `sequence` (its steps
        /// of thread -1 taken out): its first step there follows none it depends on, or it has
        /// none and its next step depends on none of them (it can run first in an extension).
        func weakInitial(_ q: Int, _ aq: Access, strong: Bool = false) -> Bool {
            var j = 0
            while j < sequence.count, sequence[j].thread != q { j += 1 }
            if strong && j == sequence.count { return false }
            let own = j < sequence.count ? sequence[j].access : aq
            var l = 0
            while l < j {
                if sequence[l].thread >= 0 && dependent(sequence[l].access, own) { return false }
                l += 1
            }
            return true
        }
        /// Optimal-DPOR's insertion of `sequence` into the wakeup tree of node `i`: down the first
        /// child (in the order they are explored) that is a weak initial of what is left of it,
        /// taking that child's step out; at a leaf, or with nothing left, it is there already;
        /// where no child fits, the rest becomes a new sequence through that node.
        func insertSequence(at i: Int) {
            // The tree is moved out of the node while it is read: `stack[i].tree[b]` would copy
            // the node (its tree and all) for every step of every branch it looks at.
            var tree = WakeupTree()
            swap(&tree, &stack[i].tree)
            defer { swap(&tree, &stack[i].tree) }
            branches.removeAll(keepingCapacity: true)
            for b in 0..<tree.count { branches.append(b) }
            var depth = 0
            while true {
                var matched = -1
                var seen: UInt64 = 0
                for b in branches {
                    let c = tree.event(b, depth)
                    if (seen >> UInt64(c.thread)) & 1 == 1 { continue }
                    seen |= 1 << UInt64(c.thread)
                    if weakInitial(c.thread, c.access) { matched = c.thread; break }
                }
                if matched < 0 {
                    var branch: [Event] = []
                    branch.reserveCapacity(depth + sequence.count)
                    if depth > 0 { branch.append(contentsOf: tree[branches[0]].prefix(depth)) }
                    for e in sequence where e.thread >= 0 { branch.append(e) }
                    tree.append(branch[...])
                    stack[i].backtrack |= 1 << UInt64(branch[0].thread)
                    return
                }
                var left = false
                for j in sequence.indices where sequence[j].thread == matched { sequence[j].thread = -1; break }
                for e in sequence where e.thread >= 0 { left = true; break }
                var kept = 0, leaf = false
                for b in branches where tree.event(b, depth).thread == matched {
                    if tree.length(b) == depth + 1 { leaf = true }
                    branches[kept] = b; kept += 1
                }
                branches.removeLast(branches.count - kept)
                depth += 1
                if leaf || !left { return }
            }
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
                    addSequence(k, pick, p, a, end: events.count)
                    if (stack[k].sleep >> UInt64(p)) & 1 == 1 { sleptSections.append(k); sleptSections.append(i) }
                    if case let q = sectionStart(k), q != k {
                        let (_, pick) = reversal(q, p)
                        addSequence(q, pick, p, a, end: events.count)
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
                    if d.initials & stack[d.node].backtrack == 0 { addSequence(d.node, d.pick, d.thread, d.access, end: d.depth) }
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
        /// (operations on the word's other bits do not count). `end`: seen at the state before
        /// that event (a sleeping thread's step there, `insertReversal`), not at the end of the path.
        func sectionAware(_ a: Access, _ t: Int, before end: Int = Int.max) -> Access {
            guard a.lockOp == Access.release, laxLocks || a.commutative else { return a }
            let list = objectEvents.count > bucket(a.location) ? objectEvents[bucket(a.location)] : []
            var x = list.count - 1
            while x >= 0 {
                if Int(list[x]) >= end { x -= 1; continue }
                let e = events[Int(list[x])]
                if e.thread == t && e.access.location == a.location && (a.threads == 0 || e.access.threads == a.threads) {
                    if e.access.lockOp == Access.acquire && !(a.commutative && strictReaders.contains(a.location)) { return a }
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
            // A new state tries its free choice (or its tree's first sequence); then the tree's
            // sequences in order, but for threads asleep there (that order was explored).
            var t = -1
            if stack[k].done == 0 && stack[k].tree.isEmpty {
                t = lowest(stack[k].backtrack)
            } else {
                stack[k].tree.keep(~stack[k].done & ~stack[k].sleep)
                // (Under lock-aware reduction, Source-DPOR's order: the lowest thread first.)
                if let first = stack[k].tree.first.first { t = laxLocks || !wakeupTrees ? lowest(stack[k].tree.roots) : first.thread }
            }
            if t < 0 {
                stack.removeLast()
                while let last = pending.last, last.depth >= k, k > 0 { pending.removeLast() }
                if k > 0 { popEvent() }
                continue
            }
            let wakeup = stack[k].tree.take(t)
            // Node k's state is read through a pointer: `states[k]` would copy it (a retain per buffer).
            let pendingStep = states.withUnsafeBufferPointer { machine.pendingAccess($0.baseAddress! + k, t)! }
            let access = sectionAware(pendingStep, t)
            // An up_read without the thread's own down_read before it (lock misuse, or after a
            // down_read_trylock or downgrade_write) changes the count the other readers' up_reads
            // share: which of two of them then finds no reader depends on their order, so no
            // up_read of that rwsem commutes (search again). Decided per search, not per path: a
            // step's dependencies must not depend on other threads' steps (lock program 524 of
            // seed 0x10CC5 lost a trace when they did).
            if pendingStep.commutative && pendingStep.lockOp == Access.release && !access.commutative
                && !strictReaders.contains(access.location) {
                return StrictLocks(readers: [access.location])
            }
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
                    if !held.isEmpty { return StrictLocks(sections: held) }
                } else if let a = next, a.lockOp == Access.trylock || a.lockOp == Access.downgrade, !strictLocks.contains(a.location),
                          laxLocksHeld(by: t).contains(a.location) {
                    return StrictLocks(sections: [a.location])
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
                insertReversals()
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
                insertReversals()
                while let last = pending.last, last.depth > k { pending.removeLast() }
                popEvent()
                pool.give(&child, at: k + 1, in: &states)
                if sleepBlocked & 63 == 0, let r = budget.exhausted() { builder.stop(r); break search }
                continue
            }
            // The new state follows its part of the wakeup tree, else it tries its lowest awake
            // thread. A sequence whose thread sleeps here is explored already; one whose thread
            // cannot run (not seen to happen) is not followed, and the state chooses freely too.
            var tree = wakeup
            if tree.roots & ~awake != 0 {
                let stuck = tree.roots & ~cmask != 0
                tree.keep(awake)
                if stuck, tree.roots & awake & (0 &- awake) == 0 {
                    let q = lowest(awake)
                    tree.append([Event(thread: q, access: sectionAware(machine.pendingAccess(child, q)!, q))][...])
                }
            }
            let first = tree.isEmpty ? awake & (0 &- awake) : tree.roots
            stack.append(Node(enabled: cmask, backtrack: first, done: 0, sleep: childSleep, violated: violated, inherited: childSleep & stack[k].inherited, tree: tree))
            pool.give(&child, at: k + 1, in: &states)
        }
        builder.result.steps += steps
        builder.result.sleepBlocked += sleepBlocked
        return nil
    }
}
