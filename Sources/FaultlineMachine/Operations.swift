import FaultlineLanguage

extension Machine {
    func inRCU(_ th: ThreadState) -> Bool { th.rcuDepth > 0 || th.irqOff }

    func misuse(_ s: inout State, _ t: Int, _ loc: Int32, _ msg: String) {
        s.violation = Violation(kind: .lockMisuse, message: msg, thread: t, location: loc)
    }

    /// Performs the visible instruction thread `t` is parked at.
    func perform(_ s: inout State, _ th: inout ThreadState, _ t: Int) -> StepEvent {
        let instr = code[th.function][Int(th.pc)]
        let loc = location(th)
        var ev = StepEvent(thread: t, location: loc, instr: instr, address: 0, value: 0, result: 0, registered: false)
        switch instr {
        case .read(let kind, _):
            let a = th.values.removeLast()
            ev.address = a
            guard let c = cell(&s, a, kind: kind, t: t, loc: loc, what: "read") else { return ev }
            ev.result = s.cells[c]
            th.values.append(s.cells[c])
        case .write(let kind, _):
            let v = th.values.removeLast()
            let a = th.values.removeLast()
            ev.address = a; ev.value = v
            guard let c = cell(&s, a, kind: kind, t: t, loc: loc, what: "write") else { return ev }
            s.cells[c] = v
        case .rmw(let op, _):
            var o2: Int64 = 0
            if op == .cmpxchg || op == .addUnless { o2 = th.values.removeLast() }
            let o1 = th.values.removeLast()
            let a = th.values.removeLast()
            ev.address = a; ev.value = o1
            guard let c = cell(&s, a, kind: 0, t: t, loc: loc, what: "atomic access") else { return ev }
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
            guard let c = cell(&s, a, kind: 0, t: t, loc: loc, what: "lock") else { return true }
            let v = s.cells[c]
            switch op {
            case .spinLock: s.cells[c] = Int64(t + 1)
            case .spinUnlock:
                if v == 0 { misuse(&s, t, loc, "unlock of \(describe(s, a)), which is not locked"); return true }
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
            guard let c = cell(&s, a, kind: 0, t: t, loc: loc, what: "rwsem") else { return true }
            let v = s.cells[c]
            var r = RWSem.readers(v), w = RWSem.writer(v), q = RWSem.waiting(v)
            let me = Int64(t + 1)
            switch op {
            case .downRead: r += 1
            case .upRead:
                if r == 0 { misuse(&s, t, loc, "up_read of \(describe(s, a)) without a reader"); return true }
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
                if w != me { misuse(&s, t, loc, "up_write of \(describe(s, a)) " + (w == 0 ? "which is not write-locked" : "held by P\(w - 1)")); return true }
                w = 0
            case .downReadTrylock:
                if w == 0 && q == 0 { r += 1; ev.result = 1 } else { ev.result = 0 }
            case .downWriteTrylock:
                if w == 0 && r == 0 { w = me; ev.result = 1 } else { ev.result = 0 }
            case .downgradeWrite:
                if w != me { misuse(&s, t, loc, "downgrade_write of \(describe(s, a)) not held for write"); return true }
                w = 0; r += 1
            default: break
            }
            s.cells[c] = RWSem.make(readers: r, writer: w, waiting: q)
            th.values.removeLast()
            if op == .downReadTrylock || op == .downWriteTrylock { th.values.append(ev.result) }
        case .rcuReadLock:
            th.rcuDepth += 1
        case .rcuReadUnlock:
            if th.rcuDepth == 0 { misuse(&s, t, loc, "rcu_read_unlock without rcu_read_lock"); return true }
            let before = inRCU(th)
            th.rcuDepth -= 1
            if before && !inRCU(th) { th.rcuExits += 1 }
        case .synchronizeRCU, .tlbShootdown, .synchronizeSRCU:
            if th.phase == 1 {
                th.phase = 0
                th.waitSnapshot = []
                if op == .synchronizeSRCU { ev.address = th.values.removeLast() }
                return true
            }
            if op == .synchronizeRCU && th.rcuDepth > 0 {
                misuse(&s, t, loc, "synchronize_rcu() inside an RCU read-side critical section (self-deadlock)"); return true
            }
            var snap = [Int32](repeating: -1, count: s.threads.count)
            var any = false
            let domain = op == .synchronizeSRCU ? th.values[th.values.count - 1] : 0
            if op == .synchronizeSRCU {
                ev.address = domain
                if th.srcu.contains(where: { $0.domain == domain && $0.depth > 0 }) {
                    misuse(&s, t, loc, "synchronize_srcu() inside its own read-side critical section (self-deadlock)"); return true
                }
            }
            for u in 0..<s.threads.count where u != t {
                let o = s.threads[u]
                if o.status == .finished { continue }
                switch op {
                case .synchronizeRCU: if inRCU(o) { snap[u] = o.rcuExits; any = true }
                case .tlbShootdown: if o.irqOff { snap[u] = o.irqEnables; any = true }
                default:
                    if let r = o.srcu.first(where: { $0.domain == domain }), r.depth > 0 { snap[u] = r.exits; any = true }
                }
            }
            if any {
                th.phase = 1
                th.waitSnapshot = snap
                ev.registered = true
                return false
            }
            if op == .synchronizeSRCU { th.values.removeLast() }
        case .srcuReadLock, .srcuReadUnlock:
            let d = th.values.removeLast()
            ev.address = d
            guard cell(&s, d, kind: 0, t: t, loc: loc, what: "srcu_struct") != nil else { return true }
            var i = th.srcu.firstIndex { $0.domain == d }
            if i == nil { th.srcu.append(SRCUReader(domain: d, depth: 0, exits: 0)); i = th.srcu.count - 1 }
            if op == .srcuReadLock {
                th.srcu[i!].depth += 1
                th.values.append(0)
            } else {
                if th.srcu[i!].depth == 0 { misuse(&s, t, loc, "srcu_read_unlock without srcu_read_lock"); return true }
                th.srcu[i!].depth -= 1
                if th.srcu[i!].depth == 0 { th.srcu[i!].exits += 1 }
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
            guard let c = cell(&s, a, kind: 0, t: t, loc: loc, what: "wait_on_bit") else { return true }
            if op == .waitOnBitLock { s.cells[c] |= Int64(1) << (nr & 63) }
        case .free, .freePage:
            let a = th.values.removeLast()
            ev.address = a
            if a == 0 && op == .free { return true }    // kfree(NULL)
            let o = Address.object(a)
            guard a > 0, o > 0, o < s.objects.count else {
                s.violation = Violation(kind: a == 0 ? .nullDereference : .outOfBounds, message: "free of an invalid pointer (\(hex(a)))", thread: t, location: loc)
                return true
            }
            let m = s.objects[o]
            if m.freed {
                var msg = "\(describeObject(s, o)) freed twice"
                if m.freeLocation >= 0 { let fl = program.locations[Int(m.freeLocation)]; msg += " (first by P\(m.freeThread) at \(fl.file?.path ?? ""):\(fl.line))" }
                s.violation = Violation(kind: .doubleFree, message: msg, thread: t, location: loc)
                return true
            }
            if m.origin == .global || m.origin == .stack || Address.offset(a) != 0 {
                s.violation = Violation(kind: .doubleFree, message: "free of \(describe(s, a)), which was not allocated", thread: t, location: loc)
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
    public func runAtomically(function fi: Int, on state: State) -> Violation? {
        var ignored: [Int64]? = nil
        return runAtomically(function: fi, on: state, reads: &ignored)
    }

    /// The same, appending the address of every shared read to `reads` when it is non-nil
    /// (partial-order reduction needs to know what an invariant looks at).
    public func runAtomically(function fi: Int, on state: State, reads: inout [Int64]?) -> Violation? {
        var s = state
        s.violation = nil
        let t = s.threads.count
        var th = ThreadState(pc: 0)
        enter(&s, &th, thread: t, function: fi, arguments: [], returnPC: -1)
        var budget = maxLocalInstructions
        while th.status == .running && s.violation == nil {
            let instr = code[th.function][Int(th.pc)]
            budget -= 1
            if budget < 0 {
                return Violation(kind: .stepBound, message: "\(program.functions[fi].name) block runs too long", thread: -1, location: location(th))
            }
            if instr.isVisible {
                if case .sync(let op) = instr, [.spinLock, .downRead, .downWrite, .synchronizeRCU, .synchronizeSRCU, .tlbShootdown, .waitOnBit, .waitOnBitLock, .spinUnlockWait].contains(op) {
                    return Violation(kind: .lockMisuse, message: "blocking operation in the \(program.functions[fi].name) block", thread: -1, location: location(th))
                }
                if reads != nil, case .read = instr { reads!.append(th.values[th.values.count - 1]) }
                _ = perform(&s, &th, t)
            } else {
                local(&s, &th, t, instr)
            }
        }
        if var v = s.violation { v.thread = -1; return v }
        return nil
    }
}
