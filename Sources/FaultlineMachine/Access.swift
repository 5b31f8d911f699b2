import FaultlineLanguage

/// What a visible step touches, for partial-order reduction: a location (a cell, a whole object,
/// or a virtual location standing for RCU, IRQ or an SRCU domain) and whether it writes it.
/// Two steps of different threads are dependent when they touch the same location and one writes.
public struct Access: Sendable, Equatable {
    public var location: Int64
    public var write: Bool
    public var wholeObject: Bool

    public static let rcu: Int64 = -1
    public static let irq: Int64 = -2

    @inline(__always)
    public func conflicts(with o: Access) -> Bool {
        guard write || o.write else { return false }
        if location < 0 || o.location < 0 { return location == o.location }
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
            case .spinLock, .spinUnlock, .spinTrylock, .downRead, .upRead, .downWrite, .upWrite, .downReadTrylock,
                 .downWriteTrylock, .downgradeWrite:
                return Access(location: th.values[top], write: true, wholeObject: false)
            case .spinIsLocked, .spinUnlockWait:
                return Access(location: th.values[top], write: false, wholeObject: false)
            case .rcuReadLock, .rcuReadUnlock: return Access(location: Access.rcu, write: false, wholeObject: false)
            case .synchronizeRCU: return Access(location: Access.rcu, write: true, wholeObject: false)
            case .irqDisable, .irqEnable, .irqSave, .irqRestore: return Access(location: Access.irq, write: false, wholeObject: false)
            case .tlbShootdown: return Access(location: Access.irq, write: true, wholeObject: false)
            case .srcuReadLock, .srcuReadUnlock:
                let d = op == .srcuReadLock ? th.values[top] : th.values[top]
                return Access(location: -16 - (d & Int64.max >> 8), write: false, wholeObject: false)
            case .synchronizeSRCU:
                return Access(location: -16 - (th.values[top] & Int64.max >> 8), write: true, wholeObject: false)
            case .waitOnBit: return Access(location: th.values[top - 1], write: false, wholeObject: false)
            case .waitOnBitLock: return Access(location: th.values[top - 1], write: true, wholeObject: false)
            case .free, .freePage: return Access(location: th.values[top], write: true, wholeObject: true)
            }
        default: return nil
        }
    }
}
