import FaultlineLanguage
import FaultlineMachine
import FaultlineExplore

/// One line of a trace: which CPU did what, where, with the source text.
public struct TraceStep: Sendable {
    public var index: Int
    public var thread: Int
    public var location: SourceLocation
    public var source: String
    public var effect: String
}

/// Turns replayed step events into trace steps and renders them one column per CPU.
public enum TraceRenderer {
    public static func steps(_ events: [StepEvent], machine: Machine, state: State) -> [TraceStep] {
        var out: [TraceStep] = []
        for (i, e) in events.enumerated() {
            let loc = e.location >= 0 ? machine.program.locations[Int(e.location)] : .unknown
            out.append(TraceStep(index: i + 1, thread: e.thread, location: loc, source: loc.sourceText, effect: effect(e, machine: machine, state: state)))
        }
        return out
    }

    static func effect(_ e: StepEvent, machine: Machine, state: State) -> String {
        let where_ = machine.describe(state, e.address)
        switch e.instr {
        case .read: return "\(where_) == \(value(e.result, machine, state))"
        case .write: return "\(where_) := \(value(e.value, machine, state))"
        case .rmw(let op, _):
            switch op {
            case .cmpxchg: return "cmpxchg \(where_): was \(value(e.result, machine, state))"
            case .xchg: return "xchg \(where_): \(value(e.result, machine, state)) -> \(value(e.value, machine, state))"
            default: return "\(op) \(where_): was \(value(e.result, machine, state))"
            }
        case .sync(let op):
            let name: String
            switch op {
            case .spinLock: name = "lock"
            case .spinUnlock: name = "unlock"
            case .spinTrylock: name = e.result == 1 ? "trylock ok" : "trylock failed"
            case .spinIsLocked: name = "is_locked: \(e.result)"
            case .spinUnlockWait: name = "unlock_wait"
            case .downRead: name = "down_read"
            case .upRead: name = "up_read"
            case .downWrite: name = e.registered ? "down_write: queued" : "down_write"
            case .upWrite: name = "up_write"
            case .downReadTrylock: name = e.result == 1 ? "down_read_trylock ok" : "down_read_trylock failed"
            case .downWriteTrylock: name = e.result == 1 ? "down_write_trylock ok" : "down_write_trylock failed"
            case .downgradeWrite: name = "downgrade_write"
            case .rcuReadLock: return "rcu_read_lock"
            case .rcuReadUnlock: return "rcu_read_unlock"
            case .synchronizeRCU: return e.registered ? "grace period starts, waiting" : "grace period done"
            case .synchronizeSRCU: return e.registered ? "SRCU grace period starts, waiting" : "SRCU grace period done"
            case .srcuReadLock: return "srcu_read_lock"
            case .srcuReadUnlock: return "srcu_read_unlock"
            case .irqDisable: return "IRQs off"
            case .irqEnable: return "IRQs on"
            case .irqSave: return "IRQs off (saved)"
            case .irqRestore: return "IRQs restored"
            case .tlbShootdown: return e.registered ? "TLB shootdown sent, waiting" : "TLB shootdown acknowledged"
            case .waitOnBit: name = "bit \(e.value) clear"
            case .waitOnBitLock: name = "bit \(e.value) locked"
            case .free: name = "kfree"
            case .freePage: name = "free_page"
            }
            return "\(name) \(where_)"
        default: return ""
        }
    }

    static func value(_ v: Int64, _ m: Machine, _ s: State) -> String {
        let o = Address.object(v)
        if v > 0 && o > 0 && o < s.objects.count && Address.offset(v) < Int(max(s.objects[o].size, 1)) {
            return "&" + m.describe(s, v)
        }
        return String(v)
    }

    /// Columns, one per CPU: step number, then the source line and its effect in that CPU's column.
    public static func render(_ steps: [TraceStep], threads: Int, width: Int = 46) -> String {
        func fit(_ s: String) -> String {
            if s.count <= width { return s + String(repeating: " ", count: width - s.count) }
            return String(s.prefix(width - 1)) + "…"
        }
        var lines: [String] = []
        var header = "   #  "
        for t in 0..<threads { header += fit("P\(t)") + (t < threads - 1 ? " | " : "") }
        lines.append(header.trimmedRight())
        for st in steps {
            for (k, text) in ["\(st.source)", "  \(st.effect)  [line \(st.location.line)]"].enumerated() {
                var row = k == 0 ? pad(String(st.index), 4) + "  " : "      "
                for t in 0..<threads {
                    row += fit(t == st.thread ? text : "") + (t < threads - 1 ? " | " : "")
                }
                lines.append(row.trimmedRight())
            }
        }
        return lines.joined(separator: "\n")
    }

    static func pad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
}

extension String {
    func trimmedRight() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
