import FaultlineLanguage

extension Machine {
    func inRCU(_ th: ThreadState) -> Bool { th.rcuDepth > 0 || th.irqOff }

    func misuse(_ s: inout State, _ t: Int, _ loc: Int32, _ cause: ViolationCause, address: Int64 = 0, holder: Int64 = 0) {
        s.violation = Violation(kind: .lockMisuse, facts: ViolationFacts(cause: cause, address: address, object: Int32(Address.object(address)),
                                                                         siteThread: Int16(truncatingIfNeeded: holder - 1)),
                                thread: t, location: loc)
    }

    /// Performs the visible instruction thread `t` is parked at.
    func perform(_ s: inout State, _ th: inout ThreadState, _ t: Int) -> StepEvent {
        let instr = flatCode[codeStart[th.function] + Int(th.pc)]
        let loc = location(th)
        var ev = StepEvent(thread: t, location: loc, instr: instr, address: 0, value: 0, result: 0, registered: false)
        switch instr {
        case .read(let kind, _):
            let a = th.values.removeLast()
            ev.address = a
            guard let c = cell(&s, a, kind: kind, t: t, loc: loc, access: .read) else { return ev }
            ev.result = s.cells[c]
            th.values.append(s.cells[c])
        case .write(let kind, _):
            let v = th.values.removeLast()
            let a = th.values.removeLast()
            ev.address = a; ev.value = v
            guard let c = cell(&s, a, kind: kind, t: t, loc: loc, access: .write) else { return ev }
            s.cells[c] = v
        case .rmw(let op, _):
            var o2: Int64 = 0
            if op == .cmpxchg || op == .addUnless { o2 = th.values.removeLast() }
            let o1 = th.values.removeLast()
            let a = th.values.removeLast()
            ev.address = a; ev.value = o1
            guard let c = cell(&s, a, kind: 0, t: t, loc: loc, access: .atomic) else { return ev }
            let old = s.cells[c]
            switch op {
            case .xchg: s.cells[c] = o1
            case .cmpxchg: if old == o1 { s.cells[c] = o2 }; ev.value = o2
            case .fetchAdd: s.cells[c] = old &+ o1
            case .fetchAnd: s.cells[c] = old & o1
            case .fetchOr: s.cells[c] = old | o1
            case .fetchXor: s.cells[c] = old ^ o1
            case .fetchAndNot: s.cells[c] = old & ~o1
            case .addUnless: if old != o2 { s.cells[c] = old &+ o1 }
            }
            ev.result = old
            th.values.append(old)
        case .sync(let op):
            if !sync(&s, &th, t, op, loc, &ev) { return ev }   // registered only: pc stays
        default:
            fatalError("perform on a local instruction")
        }
        th.pc += 1
        return ev
    }

    /// Returns false when the operation only registered a wait (the thread stays at it).
    func sync(_ s: inout State, _ th: inout ThreadState, _ t: Int, _ op: SyncOp, _ loc: Int32, _ ev: inout StepEvent) -> Bool {
        switch op {
        case .spinLock, .spinUnlock, .spinTrylock, .spinIsLocked, .spinUnlockWait:
            let a = th.values.removeLast()
            ev.address = a
            guard let c = cell(&s, a, kind: 0, t: t, loc: loc, access: .lock) else { return true }
            let v = s.cells[c]
            switch op {
            case .spinLock: s.cells[c] = Int64(t + 1)
            case .spinUnlock:
                if v == 0 { misuse(&s, t, loc, .unlockNotLocked, address: a); return true }
                s.cells[c] = 0
            case .spinTrylock:
                if v == 0 { s.cells[c] = Int64(t + 1); th.values.append(1) } else { th.values.append(0) }
                ev.result = th.values[th.values.count - 1]
            case .spinIsLocked: th.values.append(v != 0 ? 1 : 0); ev.result = v != 0 ? 1 : 0
            default: break
            }
        case .downRead, .upRead, .downWrite, .upWrite, .downReadTrylock, .downWriteTrylock, .downgradeWrite:
            let a = th.values[th.values.count - 1]
            ev.address = a
            guard let c = cell(&s, a, kind: 0, t: t, loc: loc, access: .rwsem) else { return true }
            let v = s.cells[c]
            var r = RWSem.readers(v), w = RWSem.writer(v), q = RWSem.waiting(v)
            let me = Int64(t + 1)
            switch op {
            case .downRead: r += 1
            case .upRead:
                if r == 0 { misuse(&s, t, loc, .upReadWithoutReader, address: a); return true }
                r -= 1
            case .downWrite:
                if th.phase == 0 {
                    if r == 0 && w == 0 { w = me }
                    else {
                        q += 1; th.phase = 1; ev.registered = true
                        s.cells[c] = RWSem.make(readers: r, writer: w, waiting: q)
                        return false
                    }
                } else { q -= 1; w = me; th.phase = 0 }
            case .upWrite:
                if w != me { misuse(&s, t, loc, .upWriteNotHeld, address: a, holder: w); return true }
                w = 0
            case .downReadTrylock:
                if w == 0 && q == 0 { r += 1; ev.result = 1 } else { ev.result = 0 }
            case .downWriteTrylock:
                if w == 0 && r == 0 { w = me; ev.result = 1 } else { ev.result = 0 }
            case .downgradeWrite:
                if w != me { misuse(&s, t, loc, .downgradeNotHeld, address: a, holder: w); return true }
                w = 0; r += 1
            default: break
            }
            s.cells[c] = RWSem.make(readers: r, writer: w, waiting: q)
            th.values.removeLast()
            if op == .downReadTrylock || op == .downWriteTrylock { th.values.append(ev.result) }
        case .rcuReadLock:
            th.rcuDepth += 1
        case .rcuReadUnlock:
            if th.rcuDepth == 0 { misuse(&s, t, loc, .rcuUnlockWithoutLock); return true }
            let before = inRCU(th)
            th.rcuDepth -= 1
            if before && !inRCU(th) { th.rcuExits += 1 }
        case .synchronizeRCU, .tlbShootdown, .synchronizeSRCU:
            if th.phase == 1 {
                th.phase = 0
                th.waitSnapshot.removeAll(keepingCapacity: true)
                if op == .synchronizeSRCU { ev.address = th.values.removeLast() }
                return true
            }
            if op == .synchronizeRCU && th.rcuDepth > 0 {
                misuse(&s, t, loc, .synchronizeInsideRCU); return true
            }
            var any = false
            let domain = op == .synchronizeSRCU ? th.values[th.values.count - 1] : 0
            if op == .synchronizeSRCU {
                ev.address = domain
                if th.srcu.contains(where: { $0.domain == domain }) {
                    misuse(&s, t, loc, .synchronizeInsideSRCU, address: domain); return true
                }
            }
            // The snapshot is filled in the thread's own buffer (empty: not waiting).
            th.waitSnapshot.removeAll(keepingCapacity: true)
            th.waitSnapshot.append(contentsOf: repeatElement(-1, count: s.threads.count))
            for u in 0..<s.threads.count where u != t {
                let o = s.threads[u]
                // A finished thread's SRCU section is still open until an srcu_up_read() ends it.
                if o.status == .finished && op != .synchronizeSRCU { continue }
                switch op {
                case .synchronizeRCU: if inRCU(o) { th.waitSnapshot[u] = o.rcuExits; any = true }
                case .tlbShootdown: if o.irqOff { th.waitSnapshot[u] = o.irqEnables; any = true }
                default:
                    if let r = o.srcu.last(where: { $0.domain == domain }) { th.waitSnapshot[u] = r.serial; any = true }
                }
            }
            if any {
                th.phase = 1
                ev.registered = true
                return false
            }
            th.waitSnapshot.removeAll(keepingCapacity: true)
            if op == .synchronizeSRCU { th.values.removeLast() }
        case .srcuReadLock:
            let d = th.values.removeLast()
            ev.address = d
            guard cell(&s, d, kind: 0, t: t, loc: loc, access: .srcu) != nil else { return true }
            var index: Int32 = 0
            while th.srcu.contains(where: { $0.domain == d && $0.index == index }) { index += 1 }
            th.srcu.append(SRCUSection(domain: d, index: index, serial: th.srcuEntered))
            th.srcuEntered += 1
            ev.result = Int64(index)
            th.values.append(Int64(index))
        case .srcuReadUnlock:
            // srcu_read_unlock(ss, idx) / srcu_up_read(ss, idx): ends the section `idx` names —
            // this thread's, else another's (srcu_up_read may run on another CPU); an index no
            // section has ends this thread's newest section of the domain.
            let d = th.values.removeLast()
            let index = th.values.removeLast()
            ev.address = d
            ev.value = index
            guard cell(&s, d, kind: 0, t: t, loc: loc, access: .srcu) != nil else { return true }
            if let i = th.srcu.lastIndex(where: { $0.domain == d && Int64($0.index) == index }) {
                th.srcu.remove(at: i)
            } else if let u = s.threads.indices.first(where: { $0 != t && s.threads[$0].srcu.contains { $0.domain == d && Int64($0.index) == index } }) {
                s.threads[u].srcu.remove(at: s.threads[u].srcu.lastIndex { $0.domain == d && Int64($0.index) == index }!)
                s.changedThreads |= 1 << UInt64(u)
            } else if let i = th.srcu.lastIndex(where: { $0.domain == d }) {
                th.srcu.remove(at: i)
            } else {
                misuse(&s, t, loc, .srcuUnlockWithoutLock, address: d); return true
            }
        case .irqDisable:
            th.irqOff = true
        case .irqEnable:
            enableIRQs(&th)
        case .irqSave:
            th.values.append(th.irqOff ? 1 : 0)
            th.irqOff = true
        case .irqRestore:
            let f = th.values.removeLast()
            if f == 0 { enableIRQs(&th) } else { th.irqOff = true }
        case .waitOnBit, .waitOnBitLock:
            let nr = th.values.removeLast()
            let a = th.values.removeLast()
            ev.address = a; ev.value = nr
            guard let c = cell(&s, a, kind: 0, t: t, loc: loc, access: .waitOnBit) else { return true }
            if op == .waitOnBitLock { s.cells[c] |= Int64(1) << (nr & 63) }
        case .callRCU:
            let fn = Int32(th.values.removeLast())
            let head = th.values.removeLast()
            ev.address = head; ev.value = Int64(fn)
            if head == 0 {
                if fn < 0 { return true }                   // kfree_rcu(NULL)
                s.violation = Violation(kind: .nullDereference, facts: ViolationFacts(cause: .nullPointer, access: .write), thread: t, location: loc)
                return true
            }
            // The grace period waits for every section in progress, the caller's own included.
            var snap = [Int32](repeating: -1, count: s.threads.count)
            for u in 0..<s.threads.count {
                let o = u == t ? th : s.threads[u]
                if o.status != .finished && inRCU(o) { snap[u] = o.rcuExits }
            }
            s.rcuCallbacks.append(RCUCallback(function: fn, head: head, snapshot: snap))
            if let r = program.rcuCallbackThread, r != t, s.threads[r].status == .finished {
                s.threads[r].status = .running
                s.changedThreads |= 1 << UInt64(r)
            }
        case .rcuCallback:
            let cb = s.rcuCallbacks.removeFirst()
            ev.address = cb.head; ev.value = Int64(cb.function)
            if s.race != nil { s.race!.runCallback(cb, on: t) }
            th.values.append(cb.head)
            th.values.append(Int64(cb.function))
        case .waitEventSleep:
            let seq = th.values.removeLast()
            let a = th.values.removeLast()
            ev.address = a; ev.value = seq
            guard cell(&s, a, kind: 0, t: t, loc: loc, access: .read) != nil else { return true }
        case .waitEventTimeoutSleep:
            let seq = th.values.removeLast()
            let a = th.values.removeLast()
            ev.address = a; ev.value = seq
            guard let c = cell(&s, a, kind: 0, t: t, loc: loc, access: .read) else { return true }
            ev.value = s.cells[c] != seq ? 1 : 0
            th.values.append(ev.value)
        case .waitForCompletion:
            let a = th.values.removeLast()
            ev.address = a
            guard let c = cell(&s, a, kind: 0, t: t, loc: loc, access: .atomic) else { return true }
            if s.cells[c] != Int64(UInt32.max) { s.cells[c] -= 1 }
        case .free, .freePage:
            let a = th.values.removeLast()
            ev.address = a
            if a == 0 && op == .free { return true }    // kfree(NULL)
            let o = Address.object(a)
            guard a > 0, o > 0, o < s.objects.count else {
                s.violation = Violation(kind: a == 0 ? .nullDereference : .outOfBounds, facts: ViolationFacts(cause: .invalidFree, access: .free, address: a),
                                        thread: t, location: loc)
                return true
            }
            let m = s.objects[o]
            if m.freed {
                s.violation = Violation(kind: .doubleFree, facts: ViolationFacts(cause: .freedTwice, access: .free, address: a, object: Int32(o),
                                                                                 site: m.freeLocation, siteThread: m.freeThread),
                                        thread: t, location: loc)
                return true
            }
            if m.origin == .global || m.origin == .stack || Address.offset(a) != 0 {
                s.violation = Violation(kind: .doubleFree, facts: ViolationFacts(cause: .freeNotAllocated, access: .free, address: a, object: Int32(o)),
                                        thread: t, location: loc)
                return true
            }
            s.objects[o].freed = true
            s.objects[o].freeLocation = loc
            s.objects[o].freeThread = Int16(t)
        }
        return true
    }

    func enableIRQs(_ th: inout ThreadState) {
        guard th.irqOff else { return }
        let before = inRCU(th)
        th.irqOff = false
        th.irqEnables += 1
        if before && !inRCU(th) { th.rcuExits += 1 }
    }

    // MARK: atomic execution (invariant and final blocks)

    /// Runs a function to completion with every visible operation performed inline, on a copy of
    /// the state (the block's own effects are discarded). Returns the violation it raised, if any.
    package func runAtomically(function fi: Int, on state: State) -> Violation? {
        var ignored: [Int64]? = nil
        return runAtomically(function: fi, on: state, reads: &ignored)
    }

    /// The same, appending the address of every shared read to `reads` when it is non-nil
    /// (partial-order reduction needs to know what an invariant looks at).
    package func runAtomically(function fi: Int, on state: State, reads: inout [Int64]?) -> Violation? {
        var printed: [PrintedText]? = nil
        return runAtomically(function: fi, arguments: [], on: state, reads: &reads, printed: &printed)
    }

    /// Runs a trace formatter (`__format_T(value)`) on a copy of the state and returns the text
    /// its `pr_cont` calls produced, as format strings with their arguments (nil if it failed).
    package func runFormatter(function fi: Int, argument: Int64, on state: State) -> [PrintedText]? {
        var reads: [Int64]? = nil
        var printed: [PrintedText]? = []
        if runAtomically(function: fi, arguments: [argument], on: state, reads: &reads, printed: &printed) != nil { return nil }
        return printed
    }

    func runAtomically(function fi: Int, arguments: [Int64], on state: State, reads: inout [Int64]?, printed: inout [PrintedText]?) -> Violation? {
        var s = state
        s.violation = nil
        let t = s.threads.count
        var th = ThreadState(pc: 0)
        enter(&s, &th, thread: t, function: fi, arguments: arguments, returnPC: -1)
        var budget = maxLocalInstructions
        while th.status == .running && !s.hasViolation {
            let instr = code[th.function][Int(th.pc)]
            budget -= 1
            if budget < 0 {
                return Violation(kind: .stepBound, facts: ViolationFacts(cause: .blockTooLong), thread: -1, location: location(th))
            }
            if instr.isVisible {
                if case .sync(let op) = instr, [.spinLock, .downRead, .downWrite, .synchronizeRCU, .synchronizeSRCU, .tlbShootdown, .waitOnBit, .waitOnBitLock, .spinUnlockWait,
                                                .rcuCallback, .waitEventSleep, .waitForCompletion, .callRCU].contains(op) {
                    return Violation(kind: .lockMisuse, facts: ViolationFacts(cause: .blockingInBlock), thread: -1, location: location(th))
                }
                if reads != nil, case .read = instr { reads!.append(th.values[th.values.count - 1]) }
                _ = perform(&s, &th, t)
            } else {
                if printed != nil, case .print(let format, let n) = instr {
                    printed!.append(PrintedText(format: format, arguments: Array(th.values.suffix(Int(n)))))
                }
                local(&s, &th, t, instr)
            }
        }
        if var v = s.violation { v.thread = -1; return v }
        return nil
    }
}

/// One `pr_cont` call of a trace formatter: the format (a `Program.strings` index) and its
/// arguments.
package struct PrintedText: Sendable {
    package var format: Int32
    package var arguments: [Int64]
}
