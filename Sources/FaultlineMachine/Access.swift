import FaultlineLanguage

/// What a visible step touches, for partial-order reduction: a location (a cell, a whole object,
/// or a virtual location standing for RCU, IRQ or an SRCU domain) and whether it writes it.
/// Two steps of different threads are dependent when they touch the same location and one writes.
public struct Access: Sendable, Equatable {
    public var location: Int64
    public var write: Bool
    public var wholeObject: Bool
    /// An update that commutes with other such updates of the same location and whose result
    /// nobody reads (rwsem reader acquire/release: counter increments).
    public var commutative = false

    /// Virtual locations. A thread's read-side and IRQ operations change only that thread's
    /// state, so readers commute with each other; a grace period (or TLB shootdown) reads
    /// every other thread's state, so it conflicts with them, and grace periods commute.
    public static let rcuReader: Int64 = -1      // rcu_read_lock/unlock
    public static let irqOp: Int64 = -2          // local_irq_* (IRQs-off sections are RCU readers too)
    public static let gracePeriod: Int64 = -3    // synchronize_rcu
    public static let shootdown: Int64 = -4      // tlb_shootdown
    /// SRCU domain `d`: readers at -(16 + 2d), grace periods at -(17 + 2d).
    static func srcuReader(_ d: Int64) -> Int64 { -(16 + 2 * (d & (Int64.max >> 8))) }
    static func srcuGracePeriod(_ d: Int64) -> Int64 { srcuReader(d) - 1 }

    @inline(__always)
    public func conflicts(with o: Access) -> Bool {
        if location < 0 || o.location < 0 {
            if location >= 0 || o.location >= 0 { return false }
            let (a, b) = location > o.location ? (location, o.location) : (o.location, location)  // a > b
            switch (a, b) {
            case (Access.rcuReader, Access.gracePeriod), (Access.irqOp, Access.gracePeriod), (Access.irqOp, Access.shootdown):
                return true
            default:
                // SRCU: a reader (even offset) against the grace period of its domain (reader - 1).
                return a <= -16 && (-a) % 2 == 0 && b == a - 1
            }
        }
        guard write || o.write else { return false }
        if commutative && o.commutative { return false }
        if wholeObject || o.wholeObject { return Address.object(location) == Address.object(o.location) }
        return location == o.location
    }
}

extension Machine {
    /// The access thread `t`'s pending visible operation will make (nil when finished).
    public func pendingAccess(_ s: State, _ t: Int) -> Access? {
        let th = s.threads[t]
        guard th.status == .running else { return nil }
        let top = th.values.count - 1
        switch code[th.function][Int(th.pc)] {
        case .read: return Access(location: th.values[top], write: false, wholeObject: false)
        case .write: return Access(location: th.values[top - 1], write: true, wholeObject: false)
        case .rmw(let op, _):
            return Access(location: th.values[top - ((op == .cmpxchg || op == .addUnless) ? 2 : 1)], write: true, wholeObject: false)
        case .sync(let op):
            switch op {
            case .downRead, .upRead:
                return Access(location: th.values[top], write: true, wholeObject: false, commutative: true)
            case .spinLock, .spinUnlock, .spinTrylock, .downWrite, .upWrite, .downReadTrylock,
                 .downWriteTrylock, .downgradeWrite:
                return Access(location: th.values[top], write: true, wholeObject: false)
            case .spinIsLocked, .spinUnlockWait:
                return Access(location: th.values[top], write: false, wholeObject: false)
            case .rcuReadLock, .rcuReadUnlock: return Access(location: Access.rcuReader, write: true, wholeObject: false)
            case .synchronizeRCU: return Access(location: Access.gracePeriod, write: true, wholeObject: false)
            case .irqDisable, .irqEnable, .irqSave, .irqRestore: return Access(location: Access.irqOp, write: true, wholeObject: false)
            case .tlbShootdown: return Access(location: Access.shootdown, write: true, wholeObject: false)
            case .srcuReadLock, .srcuReadUnlock:
                return Access(location: Access.srcuReader(th.values[top]), write: true, wholeObject: false)
            case .synchronizeSRCU:
                return Access(location: Access.srcuGracePeriod(th.values[top]), write: true, wholeObject: false)
            case .waitOnBit: return Access(location: th.values[top - 1], write: false, wholeObject: false)
            case .waitOnBitLock: return Access(location: th.values[top - 1], write: true, wholeObject: false)
            case .free, .freePage: return Access(location: th.values[top], write: true, wholeObject: true)
            }
        default: return nil
        }
    }
}
