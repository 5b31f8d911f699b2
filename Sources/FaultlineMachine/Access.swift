import FaultlineLanguage

/// What a visible step touches, for partial-order reduction: a location (a cell, a whole object,
/// or a virtual location standing for RCU, IRQ or an SRCU domain) and whether it writes it.
/// Two steps of different threads are dependent when they touch the same location and one writes.
package struct Access: Sendable, Equatable {
    package var location: Int64
    package var write: Bool
    package var wholeObject: Bool
    /// An update that commutes with other such updates of the same location and whose result
    /// nobody reads (rwsem reader acquire/release: counter increments).
    package var commutative = false

    /// For virtual locations: the threads involved (the thread of a read-side or IRQ operation;
    /// the threads a waiting grace period or TLB shootdown still waits for). For bit operations
    /// (wait_on_bit_lock; clear_bit and set_bit, fetch-and-not and fetch-or): the bits, as a
    /// mask (a word holds other flags than its bit lock).
    package var threads: UInt64 = 0

    /// What the step does to a lock, for lock-aware reduction: 0 nothing, `acquire` (a blocking
    /// spin_lock/mutex_lock, down_read, down_write, wait_on_bit_lock), `release` (spin_unlock/
    /// mutex_unlock and up_write by the holder; up_read and clear_bit, which the search keeps
    /// only after the thread's own down_read or wait_on_bit_lock of that bit), `queue` (a
    /// down_write that finds the rwsem taken: it registers as a waiter and takes nothing; never
    /// lax, as readers that come later wait behind it), `trylock` (an acquisition that
    /// may fail: its result reads the lock, so it is not lax), `downgrade` (downgrade_write: the
    /// writer stays a reader, so the section goes on under other rules).
    package var lockOp: UInt8 = 0
    package static let acquire: UInt8 = 1
    package static let release: UInt8 = 2
    package static let trylock: UInt8 = 3
    package static let queue: UInt8 = 4
    package static let downgrade: UInt8 = 5

    /// Virtual locations. A thread's read-side and IRQ operations change only that thread's
    /// state, so they commute with each other. The start of a grace period (or TLB shootdown)
    /// takes a snapshot of every other thread's state, so it conflicts with all of them; its end
    /// only waits for the threads in the snapshot to leave their section, so it conflicts only
    /// with those threads' exits (an entry, or another thread's exit, cannot change whether it
    /// may complete). Grace periods commute with each other.
    package static let rcuEnter: Int64 = -1       // rcu_read_lock
    package static let irqOff: Int64 = -2         // local_irq_disable/save (IRQs-off sections are RCU readers too)
    package static let gracePeriod: Int64 = -3    // synchronize_rcu: the snapshot
    package static let shootdown: Int64 = -4      // tlb_shootdown: the snapshot
    package static let rcuExit: Int64 = -5        // rcu_read_unlock
    package static let irqOn: Int64 = -6          // local_irq_enable
    package static let gracePeriodEnd: Int64 = -7 // synchronize_rcu: waiting for `threads`
    package static let shootdownEnd: Int64 = -8   // tlb_shootdown: waiting for `threads`
    package static let irqRestore: Int64 = -9     // local_irq_restore: may enter or leave
    /// call_rcu: queues a callback (the order of the queue is observable) and snapshots every
    /// thread's section, as a grace period's start does.
    package static let callRCU: Int64 = -10
    /// The callback thread taking the oldest callback: waits for `threads` to leave their
    /// sections, as a grace period's end does, and dequeues.
    package static let rcuCallbackRun: Int64 = -11
    /// SRCU domain `d`: readers at -(16 + 2d), grace periods at -(17 + 2d).
    static func srcuReader(_ d: Int64) -> Int64 { -(16 + 2 * (d & (Int64.max >> 8))) }
    static func srcuGracePeriod(_ d: Int64) -> Int64 { srcuReader(d) - 1 }

    /// Whether virtual operations `a` and `b` (of different threads) conflict.
    static func virtualConflict(_ a: Access, _ b: Access) -> Bool {
        func one(_ x: Access, _ y: Access) -> Bool {
            let l = y.location
            switch x.location {
            case gracePeriod: return l == rcuEnter || l == rcuExit || l == irqOff || l == irqOn || l == irqRestore
            case shootdown: return l == irqOff || l == irqOn || l == irqRestore
            case gracePeriodEnd: return (l == rcuExit || l == irqOn || l == irqRestore) && x.threads & y.threads != 0
            case shootdownEnd: return (l == irqOn || l == irqRestore) && x.threads & y.threads != 0
            case callRCU: return l == rcuEnter || l == rcuExit || l == irqOff || l == irqOn || l == irqRestore || l == callRCU || l == rcuCallbackRun
            case rcuCallbackRun: return (l == rcuExit || l == irqOn || l == irqRestore) && x.threads & y.threads != 0
            default:
                // SRCU: a reader (even offset) against the grace period of its domain (reader - 1).
                return x.location <= -16 && (-x.location) % 2 == 0 && l == x.location - 1
            }
        }
        return one(a, b) || one(b, a)
    }

    @inline(__always)
    package func conflicts(with o: Access) -> Bool {
        if location < 0 || o.location < 0 {
            if location >= 0 || o.location >= 0 { return false }
            return Access.virtualConflict(self, o)
        }
        guard write || o.write else { return false }
        if commutative && o.commutative { return false }
        if wholeObject || o.wholeObject { return Address.object(location) == Address.object(o.location) }
        return location == o.location
    }
}

extension Machine {
    /// Whether thread `t` is parked at an operation that can block (a lock, a wait, a grace
    /// period). A lock holder at such a step makes the order of that lock's critical sections
    /// observable beyond their accesses (deadlocks, waits), so lock-aware reduction needs to know.
    package func pendingMayBlock(_ s: State, _ t: Int) -> Bool {
        guard case .sync(let op)? = pending(s, t) else { return false }
        switch op {
        case .spinLock, .spinUnlockWait, .downRead, .downWrite, .waitOnBit, .waitOnBitLock,
             .synchronizeRCU, .synchronizeSRCU, .tlbShootdown, .rcuCallback, .waitEventSleep, .waitForCompletion: return true
        default: return false
        }
    }

    /// The access thread `t`'s pending visible operation will make (nil when finished).
    package func pendingAccess(_ s: State, _ t: Int) -> Access? {
        withUnsafePointer(to: s) { pendingAccess($0, t) }
    }

    /// The same for a state the caller holds in memory it cannot hand out as a value without a
    /// copy (an element of the search's array of states: a copy retains every buffer).
    package func pendingAccess(_ s: UnsafePointer<State>, _ t: Int) -> Access? {
        s.pointee.threads.withUnsafeBufferPointer { threads in pendingAccess(s, t, threads.baseAddress! + t) }
    }

    @inline(__always)
    func pendingAccess(_ s: UnsafePointer<State>, _ t: Int, _ th: UnsafePointer<ThreadState>) -> Access? {
        guard th.pointee.status == .running else { return nil }
        let top = th.pointee.values.count - 1
        switch code[th.pointee.function][Int(th.pointee.pc)] {
        case .read: return Access(location: th.pointee.values[top], write: false, wholeObject: false)
        case .write: return Access(location: th.pointee.values[top - 1], write: true, wholeObject: false)
        case .rmw(let op, _):
            // A bit cleared may be a bit lock's release (lock-aware reduction keeps it one only
            // after the thread's own wait_on_bit_lock of that bit).
            if op == .fetchAndNot || op == .fetchOr {
                return Access(location: th.pointee.values[top - 1], write: true, wholeObject: false,
                              threads: UInt64(bitPattern: th.pointee.values[top]), lockOp: op == .fetchAndNot ? Access.release : 0)
            }
            return Access(location: th.pointee.values[top - ((op == .cmpxchg || op == .addUnless) ? 2 : 1)], write: true, wholeObject: false)
        case .sync(let op):
            switch op {
            case .downRead:
                return Access(location: th.pointee.values[top], write: true, wholeObject: false, commutative: true, lockOp: Access.acquire)
            case .upRead:
                return Access(location: th.pointee.values[top], write: true, wholeObject: false, commutative: true, lockOp: Access.release)
            case .downWrite:
                // Phase 0 takes a free rwsem or queues behind its holders; phase 1 (a queued
                // writer, enabled once the rwsem is free) takes it.
                var op = Access.acquire
                if th.pointee.phase == 0, let v = peek(s, th.pointee.values[top]), RWSem.readers(v) != 0 || RWSem.writer(v) != 0 { op = Access.queue }
                return Access(location: th.pointee.values[top], write: true, wholeObject: false, lockOp: op)
            case .upWrite:
                let holder = peek(s, th.pointee.values[top]).map { RWSem.writer($0) == Int64(t + 1) } ?? false
                return Access(location: th.pointee.values[top], write: true, wholeObject: false, lockOp: holder ? Access.release : 0)
            case .spinLock:
                return Access(location: th.pointee.values[top], write: true, wholeObject: false, lockOp: Access.acquire)
            case .spinUnlock:
                let holder = peek(s, th.pointee.values[top]) == Int64(t + 1)
                return Access(location: th.pointee.values[top], write: true, wholeObject: false, lockOp: holder ? Access.release : 0)
            case .spinTrylock:
                return Access(location: th.pointee.values[top], write: true, wholeObject: false, lockOp: Access.trylock)
            case .downReadTrylock, .downWriteTrylock:
                return Access(location: th.pointee.values[top], write: true, wholeObject: false, lockOp: Access.trylock)
            case .downgradeWrite:
                return Access(location: th.pointee.values[top], write: true, wholeObject: false, lockOp: Access.downgrade)
            case .spinIsLocked, .spinUnlockWait:
                return Access(location: th.pointee.values[top], write: false, wholeObject: false)
            case .rcuReadLock: return Access(location: Access.rcuEnter, write: true, wholeObject: false, threads: 1 << UInt64(t))
            case .rcuReadUnlock: return Access(location: Access.rcuExit, write: true, wholeObject: false, threads: 1 << UInt64(t))
            case .irqDisable, .irqSave: return Access(location: Access.irqOff, write: true, wholeObject: false, threads: 1 << UInt64(t))
            case .irqEnable: return Access(location: Access.irqOn, write: true, wholeObject: false, threads: 1 << UInt64(t))
            case .irqRestore: return Access(location: Access.irqRestore, write: true, wholeObject: false, threads: 1 << UInt64(t))
            case .synchronizeRCU, .tlbShootdown:
                let start = op == .synchronizeRCU ? Access.gracePeriod : Access.shootdown
                guard th.pointee.phase == 1 else { return Access(location: start, write: true, wholeObject: false) }
                var waiting: UInt64 = 0
                for (u, snap) in th.pointee.waitSnapshot.enumerated() where snap >= 0 { waiting |= 1 << UInt64(u) }
                return Access(location: start == Access.gracePeriod ? Access.gracePeriodEnd : Access.shootdownEnd,
                              write: true, wholeObject: false, threads: waiting)
            case .srcuReadLock, .srcuReadUnlock:
                return Access(location: Access.srcuReader(th.pointee.values[top]), write: true, wholeObject: false)
            case .synchronizeSRCU:
                return Access(location: Access.srcuGracePeriod(th.pointee.values[top]), write: true, wholeObject: false)
            case .waitOnBit: return Access(location: th.pointee.values[top - 1], write: false, wholeObject: false)
            case .waitOnBitLock:
                return Access(location: th.pointee.values[top - 1], write: true, wholeObject: false,
                              threads: 1 << UInt64(th.pointee.values[top] & 63), lockOp: Access.acquire)
            case .free, .freePage: return Access(location: th.pointee.values[top], write: true, wholeObject: true)
            case .callRCU: return Access(location: Access.callRCU, write: true, wholeObject: false, threads: 1 << UInt64(t))
            case .rcuCallback:
                var waiting: UInt64 = 0
                for (u, snap) in (s.pointee.rcuCallbacks.first?.snapshot ?? []).enumerated() where snap >= 0 { waiting |= 1 << UInt64(u) }
                return Access(location: Access.rcuCallbackRun, write: true, wholeObject: false, threads: waiting)
            case .waitEventSleep, .waitEventTimeoutSleep: return Access(location: th.pointee.values[top - 1], write: false, wholeObject: false)
            case .waitForCompletion: return Access(location: th.pointee.values[top], write: true, wholeObject: false)
            }
        default: return nil
        }
    }
}
