import FaultlineLanguage

/// Runs a compiled `Program` one visible step at a time. A thread is always parked at its next
/// visible operation (or finished); `step` performs that operation and runs the thread's local
/// instructions up to the following one. Every check the machine makes on memory and locks
/// (use after free, type confusion, NULL, bounds, double free, lock misuse, assertions) ends
/// the execution with a `Violation` in the state.
package final class Machine: Sendable {
    package let program: Program
    /// Visible steps one thread may take before the run counts as a possible livelock.
    package let maxSteps: Int32
    /// Local instructions one step may run before it counts as an endless local loop.
    package let maxLocalInstructions: Int
    let code: [[Instr]]
    /// Every function's code one after the other, function f's from `codeStart[f]`: the
    /// interpreter's loop reads an instruction with one index (`code[f][pc]` takes two, and the
    /// running function from the thread's frames each time).
    let flatCode: [Instr]
    let codeStart: [Int]
    /// Per function, what entering and leaving it needs, apart from the `Function` (which holds
    /// arrays: reading one in a call would copy and retain them).
    let layouts: [FrameLayout]
    /// Every function's parameters that live in its frame object, (parameter, cell), one run each.
    let parametersInFrame: [(Int, Int)]
    let locations: [[Int32]]
    let threadArguments: [[Int64]]
    /// Whether executions keep happens-before clocks and report data races (`DataRace.swift`):
    /// only when some thread code makes a plain access, so marked-only programs pay nothing.
    package let checksDataRaces: Bool
    /// Cells come in 64 blocks of `1 << cellBlockShift` (the last one takes every cell past the
    /// others), sized so the globals fill about three quarters: the machine marks the blocks a
    /// state's cells or data-race shadow change in (`State.writtenBlocks`), so that dpor's pool
    /// refills only those.
    package let cellBlockShift: Int

    package init(program: Program, maxSteps: Int = 2_000, maxLocalInstructions: Int = 200_000, dataRaceCheck: Bool = true) {
        self.program = program
        self.checksDataRaces = dataRaceCheck && Machine.needsRaceCheck(program)
        self.maxSteps = Int32(clamping: maxSteps)
        self.maxLocalInstructions = maxLocalInstructions
        var shift = 0
        while 48 << shift < program.globalCells.reduce(0, { $0 + $1.count }) { shift += 1 }
        self.cellBlockShift = shift
        self.code = program.functions.map(\.code)
        var start: [Int] = [], total = 0
        for f in program.functions { start.append(total); total += f.code.count }
        self.codeStart = start
        self.flatCode = program.functions.flatMap(\.code)
        self.locations = program.functions.map(\.locations)
        var layouts: [FrameLayout] = [], inFrame: [(Int, Int)] = []
        for f in program.functions {
            layouts.append(FrameLayout(parameterCount: f.parameterCount, slotCount: f.slotCount, frameSize: f.frameSize, frameSlot: f.frameSlot,
                                       firstLocation: f.locations.first ?? -1, parameters: inFrame.count..<(inFrame.count + f.parametersInFrame.count)))
            inFrame.append(contentsOf: f.parametersInFrame)
        }
        self.layouts = layouts
        self.parametersInFrame = inFrame
        var args: [[Int64]] = []
        for t in program.file.threads {
            args.append(t.params.map { p in program.globals.first { $0.name == p.name }?.address ?? 0 })
        }
        if program.rcuCallbackThread != nil { args.append([]) }
        self.threadArguments = args
    }

    // MARK: initial state

    package func initialState() -> State {
        var cells: [Int64] = []
        var objects: [ObjectMeta] = [ObjectMeta(base: 0, size: 0, kind: 0, origin: .global, freed: false, owner: -1,
                                                allocLocation: -1, freeLocation: -1, freeThread: -1)]
        for (i, g) in program.globals.enumerated() {
            objects.append(ObjectMeta(base: Int32(cells.count), size: Int32(g.size), kind: g.kind, origin: .global,
                                      freed: false, owner: -1, allocLocation: -1, freeLocation: -1, freeThread: -1))
            cells.append(contentsOf: program.globalCells[i])
        }
        var s = State(cells: cells, objects: objects, threads: [])
        if checksDataRaces { s.race = RaceClocks(threads: program.threadCount, cells: cells.count) }
        for t in 0..<program.threadCount {
            var th = ThreadState(pc: 0)
            enter(&s, &th, thread: t, function: program.threadFunctions[t], arguments: threadArguments[t], returnPC: -1)
            for (home, v) in program.registerInits[t] { setRegister(&s, &th, home, v) }
            s.threads.append(th)
        }
        for t in 0..<program.threadCount {
            if s.hasViolation { break }
            withThread(&s, t) { m, s, th in m.park(&s, &th, t) }
        }
        return s
    }

    func setRegister(_ s: inout State, _ th: inout ThreadState, _ home: RegisterHome, _ v: Int64) {
        switch home {
        case .slot(let i): th.values[Int(th.frames[0].base) + Int(i)] = v
        case .frame(let off):
            let f = program.functions[Int(th.frames[0].function)]
            let a = th.values[Int(th.frames[0].base) + Int(f.frameSlot)]
            let c = Int(s.objects[Address.object(a)].base) + off
            s.cells[c] = v
            s.writtenBlocks |= cellBlock(c)
        }
    }

    /// The block (`cellBlockShift`) of cell `c`, as a bit of `State.writtenBlocks`.
    @inline(__always)
    package func cellBlock(_ c: Int) -> UInt64 { 1 << UInt64(min(63, c >> cellBlockShift)) }

    /// The blocks of the cells `first..<end` (not empty).
    @inline(__always)
    func cellBlocks(_ first: Int, _ end: Int) -> UInt64 {
        let lo = min(63, first >> cellBlockShift), hi = min(63, (end - 1) >> cellBlockShift)
        return (~0 >> UInt64(63 - hi)) & (~0 << UInt64(lo))
    }

    /// The final value of a thread's register (0 if the thread never declared it).
    package func registerValue(_ s: State, thread t: Int, home: RegisterHome?) -> Int64 {
        guard let home else { return 0 }
        let th = s.threads[t]
        guard let f0 = th.frames.first else { return 0 }
        switch home {
        case .slot(let i):
            let k = Int(f0.base) + Int(i)
            return k < th.values.count ? th.values[k] : 0
        case .frame(let off):
            let f = program.functions[Int(f0.function)]
            let a = th.values[Int(f0.base) + Int(f.frameSlot)]
            return s.cells[Int(s.objects[Address.object(a)].base) + off]
        }
    }

    /// Reads a cell without any check (for final-state observation); nil if the address is invalid.
    package func peek(_ s: State, _ address: Int64) -> Int64? {
        let o = Address.object(address), off = Address.offset(address)
        guard address > 0, o < s.objects.count, off < Int(s.objects[o].size) else { return nil }
        return s.cells[Int(s.objects[o].base) + off]
    }

    /// The same through a pointer (no copy of the state).
    @inline(__always)
    func peek(_ s: UnsafePointer<State>, _ address: Int64) -> Int64? {
        let o = Address.object(address), off = Address.offset(address)
        guard address > 0, o < s.pointee.objects.count, off < Int(s.pointee.objects[o].size) else { return nil }
        return s.pointee.cells[Int(s.pointee.objects[o].base) + off]
    }

    @inline(__always)
    func withThread(_ s: inout State, _ t: Int, _ body: (Machine, inout State, inout ThreadState) -> Void) {
        var th = ThreadState(pc: 0)
        swap(&th, &s.threads[t])
        body(self, &s, &th)
        swap(&th, &s.threads[t])
        s.changedThreads |= 1 << UInt64(t)
    }

    /// Cells all the objects of one state may have together (128 MB of values): beyond, an
    /// allocation is a violation, so that no execution (deep recursion with big frames) can take
    /// the process's memory within one step, where the search budget cannot stop it.
    package static let maxCells = 1 << 24

    func allocate(_ s: inout State, size: Int, kind: Int32, origin: ObjectOrigin, owner: Int, location: Int32) -> Int64 {
        if s.cells.count + size > Machine.maxCells {
            if !s.hasViolation {
                s.violation = Violation(kind: .outOfBounds, facts: ViolationFacts(cause: .outOfCells, count: Int64(size)),
                                        thread: owner, location: location)
            }
            return 0
        }
        let id = s.objects.count
        s.objects.append(ObjectMeta(base: Int32(s.cells.count), size: Int32(size), kind: kind, origin: origin, freed: false,
                                    owner: Int16(owner), allocLocation: location, freeLocation: -1, freeThread: -1))
        s.writtenBlocks |= cellBlocks(s.cells.count, s.cells.count + size)
        s.cells.append(contentsOf: repeatElement(0, count: size))
        if s.race != nil { s.race!.shadow.append(contentsOf: repeatElement(0, count: size * s.race!.stride)) }
        return Address.make(object: id, offset: 0)
    }

    func enter(_ s: inout State, _ th: inout ThreadState, thread t: Int, function fi: Int, arguments: [Int64], returnPC: Int32) {
        let base = th.values.count
        th.values.append(contentsOf: arguments)
        th.values.append(contentsOf: repeatElement(0, count: layouts[fi].slotCount - arguments.count))
        th.frames.append(Frame(function: Int32(fi), returnPC: returnPC, base: Int32(base)))
        th.pc = 0
        allocateFrame(&s, &th, t, function: fi, base: base)
    }

    /// The frame object of a function just entered (if it has one), with its parameters copied in.
    @inline(__always)
    func allocateFrame(_ s: inout State, _ th: inout ThreadState, _ t: Int, function fi: Int, base: Int) {
        let f = layouts[fi]
        guard f.frameSize > 0 else { return }
        let a = allocate(&s, size: f.frameSize, kind: 0, origin: .stack, owner: t, location: f.firstLocation)
        th.values[base + Int(f.frameSlot)] = a
        guard a != 0 else { return }            // out of cells: a violation
        let cb = Int(s.objects[Address.object(a)].base)
        for i in f.parameters { s.cells[cb + parametersInFrame[i].1] = th.values[base + parametersInFrame[i].0] }
    }

    // MARK: enabledness

    /// The visible instruction a thread is parked at (nil when finished).
    @inline(__always)
    package func pending(_ s: State, _ t: Int) -> Instr? {
        s.threads.withUnsafeBufferPointer { threads in     // `s.threads[t]` would copy the thread
            let th = threads.baseAddress! + t
            guard th.pointee.status == .running else { return nil }
            return code[th.pointee.function][Int(th.pointee.pc)]
        }
    }

    /// Whether thread `t` can take a step now (it is parked at a visible operation that would
    /// not block). A blocked operation on an invalid address is enabled, so the step reports it.
    package func isEnabled(_ s: State, _ t: Int) -> Bool {
        s.threads.withUnsafeBufferPointer { threads in isEnabled(s, t, threads.baseAddress! + t) }
    }

    @inline(__always)
    func isEnabled(_ s: State, _ t: Int, _ th: UnsafePointer<ThreadState>) -> Bool {
        guard th.pointee.status == .running, (s.yielding >> UInt64(t)) & 1 == 0 else { return false }
        guard case .sync(let op) = code[th.pointee.function][Int(th.pointee.pc)] else { return true }
        switch op {
        case .synchronizeRCU, .tlbShootdown, .synchronizeSRCU:
            if th.pointee.phase == 0 { return true }
            return waitSatisfied(s, th.pointee, op)
        case .rcuCallback:
            guard let head = s.rcuCallbacks.first else { return false }
            return gracePeriodOver(s, head.snapshot)
        default:
            return !waitBlocks(op, th, memory: s)
        }
    }

    /// Whether thread `t`, parked in `s` at a wait that memory alone decides, would block on the
    /// cells of `memory` (an earlier state of the same path; for the RCU callback thread, on its
    /// queue there being empty). Partial-order reduction asks it: a race whose reversal puts such
    /// a wait before the step that let it pass cannot be reversed.
    package func pendingWaitBlocks(_ s: State, _ t: Int, memory: State) -> Bool {
        s.threads.withUnsafeBufferPointer { threads in
            let th = threads.baseAddress! + t
            guard th.pointee.status == .running, case .sync(let op) = code[th.pointee.function][Int(th.pointee.pc)] else { return false }
            if op == .rcuCallback { return memory.rcuCallbacks.isEmpty }
            return waitBlocks(op, th, memory: memory)
        }
    }

    /// Whether a wait decided by memory (a lock, an rwsem, a bit, a wait queue's sequence, a
    /// completion) that `th` is parked at as `op` blocks on the cells of `s`; false for any other
    /// operation and for an invalid address (the step reports it).
    @inline(__always)
    func waitBlocks(_ op: SyncOp, _ th: UnsafePointer<ThreadState>, memory s: State) -> Bool {
        let top = th.pointee.values.count - 1
        switch op {
        case .spinLock, .spinUnlockWait:
            guard let v = peek(s, th.pointee.values[top]) else { return false }
            return v != 0
        case .downRead:
            guard let v = peek(s, th.pointee.values[top]) else { return false }
            return RWSem.writer(v) != 0 || RWSem.waiting(v) != 0
        case .downWrite:
            if th.pointee.phase == 0 { return false }
            guard let v = peek(s, th.pointee.values[top]) else { return false }
            return RWSem.readers(v) != 0 || RWSem.writer(v) != 0
        case .waitOnBit, .waitOnBitLock:
            guard let v = peek(s, th.pointee.values[top - 1]) else { return false }
            return (v >> (th.pointee.values[top] & 63)) & 1 != 0
        case .waitEventSleep:
            guard let v = peek(s, th.pointee.values[top - 1]) else { return false }
            return v == th.pointee.values[top]
        case .waitForCompletion:
            guard let v = peek(s, th.pointee.values[top]) else { return false }
            return v <= 0
        default:
            return false
        }
    }

    func waitSatisfied(_ s: State, _ th: ThreadState, _ op: SyncOp) -> Bool {
        let domain = op == .synchronizeSRCU ? th.values[th.values.count - 1] : 0
        for (u, snap) in th.waitSnapshot.enumerated() where snap >= 0 {
            if stillWaitsFor(s.threads[u], snap, op, domain: domain) { return false }
        }
        return true
    }

    /// Whether every thread a callback's grace period waits for has left the section it was in.
    func gracePeriodOver(_ s: State, _ snapshot: [Int32]) -> Bool {
        for (u, snap) in snapshot.enumerated() where snap >= 0 {
            if stillWaitsFor(s.threads[u], snap, .synchronizeRCU, domain: 0) { return false }
        }
        return true
    }

    /// Whether a grace period (`op`: RCU, a TLB shootdown, SRCU of `domain`) whose snapshot saw
    /// `other` at `snap` still waits for it: it has not left that section.
    @inline(__always)
    func stillWaitsFor(_ other: ThreadState, _ snap: Int32, _ op: SyncOp, domain: Int64) -> Bool {
        switch op {
        case .tlbShootdown: return other.status != .finished && other.irqEnables == snap
        // SRCU: every section of u's open at the start (serial up to `snap`) has ended.
        case .synchronizeSRCU: return other.srcu.contains(where: { $0.domain == domain && $0.serial <= snap })
        default: return other.status != .finished && other.rcuExits == snap
        }
    }

    /// Whether thread `t`, parked in `s` at the end of a grace period (or the RCU callback thread
    /// at its next callback), waits for thread `u` as `u` was in `earlier` (a state of the same
    /// path). Partial-order reduction asks it: u's exit from the section the wait waits for
    /// cannot be reordered after the wait.
    package func pendingWaitHolds(_ s: State, _ t: Int, for u: Int, in earlier: State) -> Bool {
        let th = s.threads[t]
        guard th.status == .running, case .sync(let op) = code[th.function][Int(th.pc)] else { return false }
        switch op {
        case .synchronizeRCU, .tlbShootdown, .synchronizeSRCU:
            guard th.phase == 1, u < th.waitSnapshot.count, th.waitSnapshot[u] >= 0 else { return false }
            return stillWaitsFor(earlier.threads[u], th.waitSnapshot[u], op, domain: op == .synchronizeSRCU ? th.values[th.values.count - 1] : 0)
        case .rcuCallback:
            guard let head = s.rcuCallbacks.first, u < head.snapshot.count, head.snapshot[u] >= 0 else { return false }
            return stillWaitsFor(earlier.threads[u], head.snapshot[u], .synchronizeRCU, domain: 0)
        default: return false
        }
    }

    /// Bit set of the enabled threads (thread i ↔ bit i; at most 64 threads).
    package func enabledMask(_ s: State) -> UInt64 {
        var m: UInt64 = 0
        for t in 0..<s.threads.count where isEnabled(s, t) { m |= 1 << UInt64(t) }
        return m
    }

    // MARK: stepping

    /// Performs thread `t`'s pending visible operation and runs it to its next one.
    /// Precondition: `isEnabled(s, t)` and no violation yet.
    @discardableResult
    package func step(_ s: inout State, _ t: Int) -> StepEvent {
        var ev = StepEvent(thread: t, location: -1, instr: .pop, address: 0, value: 0, result: 0, registered: false)
        s.scheduleLength &+= 1
        s.yielding = 0              // a CPU outside an unfair lap ran (`LoopWatch`)
        var looped = false
        withThread(&s, t) { m, s, th in
            if m.checksDataRaces {
                // A grace period's snapshot is set only while it waits (phase 1): no copy otherwise.
                let phase = th.phase, snapshot = phase == 1 ? th.waitSnapshot : []
                ev = m.perform(&s, &th, t)
                if !s.hasViolation { m.recordForRaces(&s, t, ev, phaseBefore: phase, snapshot: snapshot) }
            } else {
                ev = m.perform(&s, &th, t)
            }
            if !s.hasViolation && !ev.registered {
                th.steps += 1
                if th.steps > m.maxSteps {
                    s.violation = Violation(kind: .stepBound, facts: ViolationFacts(cause: .stepBound, count: Int64(m.maxSteps)),
                                            thread: t, location: ev.location)
                    return
                }
            }
            if !s.hasViolation { m.park(&s, &th, t) }
            looped = th.loopedBack
            th.loopedBack = false
        }
        // Livelocks as cycles (`LoopWatch`): nothing to do until a thread has looped.
        if !s.hasViolation && (looped || s.loop != nil) { watchForCycle(&s, t, ev, sample: looped) }
        return ev
    }

    /// Runs local instructions until the thread reaches a visible operation or finishes.
    /// Accesses to the thread's own stack objects are local too.
    func park(_ s: inout State, _ th: inout ThreadState, _ t: Int) {
        var budget = maxLocalInstructions
        var start = codeStart[th.function]      // the running function's code in `flatCode`
        while th.status == .running && !s.hasViolation {
            let instr = flatCode[start + Int(th.pc)]
            switch instr {
            case .read, .write, .rmw, .sync:    // visible (`Instr.isVisible` is another module's: a call)
                // The RCU callback thread sleeps (is finished) while nothing is queued.
                if case .sync(.rcuCallback) = instr, s.rcuCallbacks.isEmpty { th.status = .finished; return }
                if !ownStackAccess(s, th, t, instr) { return }
                _ = perform(&s, &th, t)
            default:
                budget -= 1
                if budget < 0 {
                    s.violation = Violation(kind: .stepBound, facts: ViolationFacts(cause: .localLoop, count: Int64(maxLocalInstructions)),
                                            thread: t, location: locations[th.function][Int(th.pc)])
                    return
                }
                local(&s, &th, t, instr)
                switch instr {
                case .call, .ret: start = codeStart[th.function]
                default: break
                }
            }
        }
    }

    @inline(__always)
    func ownStackAccess(_ s: State, _ th: ThreadState, _ t: Int, _ instr: Instr) -> Bool {
        let top = th.values.count - 1
        let a: Int64
        switch instr {
        case .read: a = th.values[top]
        case .write: a = th.values[top - 1]
        case .rmw(let op, _): a = th.values[top - ((op == .cmpxchg || op == .addUnless) ? 2 : 1)]
        default: return false
        }
        let o = Address.object(a)
        guard a > 0, o < s.objects.count else { return false }
        let m = s.objects[o]
        // A pattern, not `==` (another module's enum: its `==` is a protocol witness call).
        guard case .stack = m.origin else { return false }
        return Int(m.owner) == t && !m.freed
    }

    @inline(__always)
    func location(_ th: ThreadState) -> Int32 { locations[th.function][Int(th.pc)] }

    /// Executes one local instruction.
    @inline(__always)
    func local(_ s: inout State, _ th: inout ThreadState, _ t: Int, _ instr: Instr) {
        switch instr {
        case .push(let v): th.values.append(v)
        case .load(let i): th.values.append(th.values[th.frameBase + Int(i)])
        case .store(let i): th.values[th.frameBase + Int(i)] = th.values.removeLast()
        case .pop: th.values.removeLast()
        case .dup: th.values.append(th.values[th.values.count - 1])
        case .neg: th.values[th.values.count - 1] = 0 &- th.values[th.values.count - 1]
        case .not: th.values[th.values.count - 1] = th.values[th.values.count - 1] == 0 ? 1 : 0
        case .bitNot: th.values[th.values.count - 1] = ~th.values[th.values.count - 1]
        case .binary(let op):
            let b = th.values.removeLast()
            let a = th.values[th.values.count - 1]
            // The language's one integer semantics (`BinaryOp.apply`): only division by zero is
            // a violation; the other faults have a defined value.
            let (r, fault) = op.apply(a, b)
            if fault == .divisionByZero {
                s.violation = Violation(kind: .divisionByZero, facts: ViolationFacts(cause: .divisionByZero), thread: t, location: location(th))
                return
            }
            th.values[th.values.count - 1] = r
        case .jump(let target):
            if target <= th.pc { th.loopedBack = true }
            th.pc = target; return
        case .jumpIfZero(let target):
            if th.values.removeLast() == 0 { if target <= th.pc { th.loopedBack = true }; th.pc = target; return }
        case .jumpIfNotZero(let target):
            if th.values.removeLast() != 0 { if target <= th.pc { th.loopedBack = true }; th.pc = target; return }
        case .call(let fi):
            let n = layouts[Int(fi)].parameterCount
            let base = th.values.count - n
            th.frames.append(Frame(function: fi, returnPC: th.pc + 1, base: Int32(base)))
            th.values.append(contentsOf: repeatElement(0, count: layouts[Int(fi)].slotCount - n))
            th.pc = 0
            allocateFrame(&s, &th, t, function: Int(fi), base: base)
            if th.frames.count > 512 {
                s.violation = Violation(kind: .stepBound, facts: ViolationFacts(cause: .callDepth, count: 512), thread: t, location: location(th))
            }
            return
        case .ret:
            let v = th.values.removeLast()
            let fr = th.frames[th.frames.count - 1]
            let f = layouts[Int(fr.function)]
            if th.frames.count == 1 {
                th.status = .finished
                th.values.removeSubrange((Int(fr.base) + f.slotCount)...)
                return
            }
            if f.frameSize > 0 {
                let o = Address.object(th.values[Int(fr.base) + Int(f.frameSlot)])
                s.objects[o].freed = true
                s.objects[o].freeLocation = location(th)
                s.objects[o].freeThread = Int16(t)
            }
            th.values.removeSubrange(Int(fr.base)...)
            th.frames.removeLast()
            th.values.append(v)
            th.pc = fr.returnPC
            return
        case .threadId: th.values.append(Int64(t))
        case .check(let kind, let msg):
            if th.values.removeLast() != 0 {
                s.violation = Violation(kind: kind, facts: ViolationFacts(cause: .assertion, text: msg), thread: t, location: location(th))
                return
            }
        case .fail(let kind, let msg):
            s.violation = Violation(kind: kind, facts: ViolationFacts(cause: .assertion, text: msg), thread: t, location: location(th))
            return
        case .assume:
            if th.values.removeLast() == 0 { s.pruned = true; th.status = .finished; return }
        case .alloc(let kind, let origin):
            let size = th.values.removeLast()
            if size <= 0 || size > 4096 {
                s.violation = Violation(kind: .outOfBounds, facts: ViolationFacts(cause: .badAllocationSize, count: size), thread: t, location: location(th))
                return
            }
            th.values.append(allocate(&s, size: Int(size), kind: kind, origin: ObjectOrigin(rawValue: origin)!, owner: -1, location: location(th)))
            if s.violation?.thread == -1 { s.violation?.thread = t }     // out of cells: this thread's allocation
        case .print(_, let n):
            th.values.removeLast(Int(n))
        case .fence(let f):
            // A no-op under SC; for the data-race check, smp_wmb/smp_mb let the thread's later
            // WRITE_ONCEs publish what came before (message passing through a marked flag).
            switch f {      // a pattern: `==` on another module's enum is a protocol witness call
            case .wmb, .mb: if s.race != nil { s.race!.fence(thread: t) }
            default: break
            }
        case .read, .write, .rmw, .sync:
            break
        }
        th.pc += 1
    }

    // MARK: memory checks

    /// Resolves an address to a cell index, or records the violation and returns nil.
    @inline(__always)
    func cell(_ s: inout State, _ a: Int64, kind: Int32, t: Int, loc: Int32, access: AccessKind = .read) -> Int? {
        let o = Address.object(a)
        let off = Address.offset(a)
        if a >= 0 && o == 0 {
            s.violation = Violation(kind: .nullDereference, facts: ViolationFacts(cause: .nullPointer, access: access, address: a), thread: t, location: loc)
            return nil
        }
        guard a > 0, o < s.objects.count else {
            s.violation = Violation(kind: .outOfBounds, facts: ViolationFacts(cause: .wildPointer, access: access, address: a), thread: t, location: loc)
            return nil
        }
        let m = s.objects[o]
        if m.freed {
            s.violation = Violation(kind: .useAfterFree, facts: ViolationFacts(cause: .afterFree, access: access, address: a, object: Int32(o),
                                                                               site: m.freeLocation, siteThread: m.freeThread),
                                    thread: t, location: loc)
            return nil
        }
        if off >= Int(m.size) {
            s.violation = Violation(kind: .outOfBounds, facts: ViolationFacts(cause: .pastEnd, access: access, address: a, object: Int32(o), count: Int64(off)),
                                    thread: t, location: loc)
            return nil
        }
        if kind != 0 && m.kind != 0 && kind != m.kind {
            s.violation = Violation(kind: .typeConfusion, facts: ViolationFacts(cause: .wrongType, access: access, address: a, object: Int32(o), count: Int64(kind)),
                                    thread: t, location: loc)
            return nil
        }
        // Every write of a cell goes through here: a step that may write it marks its block.
        if access != .read { s.writtenBlocks |= cellBlock(Int(m.base) + off) }
        return Int(m.base) + off
    }
}

/// What entering and leaving a function needs (`Machine.layouts`): plain values.
struct FrameLayout {
    var parameterCount: Int
    var slotCount: Int
    var frameSize: Int
    var frameSlot: Int32
    var firstLocation: Int32
    /// Its entries in `Machine.parametersInFrame`.
    var parameters: Range<Int>
}

/// The encoding of a `struct rw_semaphore` cell: readers in bits 0–15, the writer (thread+1)
/// in bits 16–23, queued writers in bits 24–31.
package enum RWSem {
    @inline(__always) package static func readers(_ v: Int64) -> Int64 { v & 0xFFFF }
    @inline(__always) package static func writer(_ v: Int64) -> Int64 { (v >> 16) & 0xFF }
    @inline(__always) package static func waiting(_ v: Int64) -> Int64 { (v >> 24) & 0xFF }
    @inline(__always) package static func make(readers: Int64, writer: Int64, waiting: Int64) -> Int64 {
        readers | (writer << 16) | (waiting << 24)
    }
}
