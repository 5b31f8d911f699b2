import FaultlineLanguage
import FaultlineMachine

/// The words for a violation's facts. The machine and the checkers raise violations as facts
/// (`ViolationFacts`); this is the one place that puts them into sentences.
package enum Wording {
    /// The message line of a violation, with the objects named as of `namer`'s state (the state
    /// the violating execution ended in). `loop`: a livelock's lap, the location of each step.
    package static func message(_ v: Violation, _ n: Namer, loop: [Int32] = []) -> String {
        let f = v.facts
        let p = n.program
        func site(_ l: Int32) -> String {
            guard l >= 0 else { return "?" }
            let loc = p.locations[Int(l)]
            return "\(loc.file.map { baseName($0.path) } ?? "?"):\(loc.line)"
        }
        let what = f.access == .none ? "access" : f.access.rawValue
        let cellName = n.cell(f.address).name
        let object = n.objectDescription(Int(f.object))
        let prefix = f.block == .thread ? "" : f.block.rawValue + ": "
        switch f.cause {
        case .assertion: return prefix + (f.text >= 0 ? p.strings[Int(f.text)] : "assertion")
        case .nullPointer: return "NULL pointer dereference (\(what) at address \(f.address))"
        case .wildPointer: return "\(what) through a wild pointer (\(Namer.hex(f.address)))"
        case .afterFree:
            var s = "\(what) of \(cellName) after it was freed"
            if f.site >= 0 { s += " (by P\(f.siteThread)\(Int(f.siteThread) == p.rcuCallbackThread ? ", the RCU callback thread," : "") at \(site(f.site)))" }
            return s
        case .pastEnd:
            let size = f.object > 0 && Int(f.object) < n.state.objects.count ? n.state.objects[Int(f.object)].size : 0
            return "\(what) at cell \(f.count) of \(object), which has \(size)"
        case .wrongType:
            let o = Int(f.object)
            let kind = o > 0 && o < n.state.objects.count ? p.kindNames[Int(n.state.objects[o].kind)] : "?"
            return "\(p.kindNames[Int(f.count)]) \(what) lands in \(object), a \(kind) page"
        case .divisionByZero: return "division by zero"
        case .badAllocationSize: return "allocation of \(f.count) cells (1…4096 allowed)"
        case .outOfCells: return "allocation of \(f.count) cells exceeds the machine's \(Machine.maxCells) cells"
        case .invalidFree: return "free of an invalid pointer (\(Namer.hex(f.address)))"
        case .freedTwice:
            var s = "\(object) freed twice"
            if f.site >= 0 { s += " (first by P\(f.siteThread) at \(site(f.site)))" }
            return s
        case .freeNotAllocated: return "free of \(cellName), which was not allocated"
        case .unlockNotLocked: return "unlock of \(cellName), which is not locked"
        case .upReadWithoutReader: return "up_read of \(cellName) without a reader"
        case .upWriteNotHeld:
            return "up_write of \(cellName) " + (f.siteThread < 0 ? "which is not write-locked" : "held by P\(f.siteThread)")
        case .downgradeNotHeld: return "downgrade_write of \(cellName) not held for write"
        case .rcuUnlockWithoutLock: return "rcu_read_unlock without rcu_read_lock"
        case .synchronizeInsideRCU: return "synchronize_rcu() inside an RCU read-side critical section (self-deadlock)"
        case .synchronizeInsideSRCU: return "synchronize_srcu() inside its own read-side critical section (self-deadlock)"
        case .srcuUnlockWithoutLock: return "srcu_read_unlock without srcu_read_lock"
        case .blockingInBlock: return "blocking operation in the \(f.block.rawValue) block"
        case .blockTooLong: return "\(f.block.rawValue) block runs too long"
        case .stepBound: return "P\(v.thread) exceeded \(f.count) steps (a possible livelock; see --max-steps)"
        case .livelock:
            let bits = UInt64(bitPattern: f.address)
            let cpus = (0..<64).filter { (bits >> UInt64($0)) & 1 == 1 }.map { "P\($0)" }
            let who = cpus.count == 1 ? "\(cpus[0]) spins" : cpus.dropLast().joined(separator: ", ") + " and \(cpus.last ?? "?") spin"
            var lines: [String] = []
            for l in loop where l >= 0 && !lines.contains(site(l)) { lines.append(site(l)) }
            let shown = lines.count > 8 ? lines.prefix(8).joined(separator: ", ") + ", … (\(lines.count) lines)" : lines.joined(separator: ", ")
            return "\(who) forever: after \(f.count) step\(f.count == 1 ? "" : "s") the execution is back in a state it was in, and every CPU that could run took a step"
                + (lines.isEmpty ? "" : " (the loop: \(shown))")
        case .localLoop: return "P\(v.thread) ran \(f.count) instructions without a shared access (an endless loop?)"
        case .callDepth: return "call depth exceeds \(f.count) (unbounded recursion?)"
        case .deadlock:
            let waits = (0..<n.state.threads.count).filter { n.state.threads[$0].status == .running }.map { waitDescription($0, n) }
            return "no thread can run: " + waits.joined(separator: "; ")
        case .leak:
            return "\(object) allocated at \(site(f.site)) is neither freed nor reachable"
        case .dataRace:
            func access(_ bits: Int32) -> String {
                if bits & 4 != 0 { return bits & 1 != 0 ? "ASSERT_EXCLUSIVE_ACCESS" : "ASSERT_EXCLUSIVE_WRITER" }
                return (bits & 2 != 0 ? "plain " : "marked ") + (bits & 1 != 0 ? "write" : "read")
            }
            return "\(access(f.text)) of \(cellName) by P\(v.thread) races with \(access(f.text >> 3)) by P\(f.siteThread) at \(site(f.site)) (no happens-before between them)"
        }
    }

    /// What a blocked thread waits for: `P1 at mm.h:436 waits for lock ptl#9 (held by P0)`.
    package static func waitDescription(_ t: Int, _ n: Namer) -> String {
        let s = n.state, m = n.machine
        let th = s.threads[t]
        guard th.status == .running, let instr = m.pending(s, t) else { return "P\(t) finished" }
        let loc = n.program.locations[Int(n.program.functions[th.function].locations[Int(th.pc)])]
        let top = th.values.count - 1
        let what: String
        if case .sync(let op) = instr {
            switch op {
            case .spinLock:
                let v = m.peek(s, th.values[top]) ?? 0
                what = "lock \(n.cell(th.values[top]).name) (held by " + (v == Int64(t + 1) ? "itself" : "P\(v - 1)") + ")"
            case .downRead, .downWrite:
                let v = m.peek(s, th.values[top]) ?? 0
                let w = RWSem.writer(v)
                what = "rwsem \(n.cell(th.values[top]).name)" + (w > 0 ? " (held for write by \(w == Int64(t + 1) ? "itself" : "P\(w - 1)"))"
                                                                : RWSem.readers(v) > 0 ? " (held by \(RWSem.readers(v)) reader\(RWSem.readers(v) == 1 ? "" : "s"))" : "")
            case .synchronizeRCU: what = "an RCU grace period"
            case .synchronizeSRCU: what = "an SRCU grace period"
            case .tlbShootdown: what = "TLB-shootdown acknowledgements (a CPU has IRQs off)"
            case .waitOnBit, .waitOnBitLock: what = "bit \(th.values[top]) of \(n.cell(th.values[top - 1]).name)"
            case .spinUnlockWait: what = "lock \(n.cell(th.values[top]).name) to be released"
            case .rcuCallback: what = "the grace period of a queued RCU callback"
            case .waitEventSleep: what = "a wake_up() on (or a store to) \(n.cell(th.values[top - 1]).name)"
            case .waitForCompletion: what = "a complete() on \(n.cell(th.values[top]).name)"
            default: what = "\(op)"
            }
        } else { what = "?" }
        return "P\(t) at \(loc.file.map { baseName($0.path) } ?? "?"):\(loc.line) waits for \(what)"
    }
}

/// The last component of a path: traces name `swap.h:48`, the header names the full path.
func baseName(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
}

extension Wording {
    /// A final state herd-style: `0:r0=1; x=2;`. `values` may be a prefix of the program's
    /// observed locations (LKMM leaves the filter's own out).
    package static func finalState(_ values: [Int64], of program: Program) -> String {
        var parts: [String] = []
        for (i, o) in program.observed.enumerated() where i < values.count {
            let name: String
            switch o {
            case .register(_, _, let n): name = n
            case .memory(_, let n, _): name = n
            }
            parts.append("\(name)=\(value(values[i], of: program))")
        }
        return parts.joined(separator: "; ") + (parts.isEmpty ? "" : ";")
    }

    /// An observed value: the integer, or the name of the global (plus offset) it is the address of.
    package static func value(_ v: Int64, of program: Program) -> String {
        let o = Address.object(v)
        if v > 0, o >= 1, o <= program.globals.count {
            let g = program.globals[o - 1]
            let off = Address.offset(v)
            return off == 0 ? g.name : "\(g.name)+\(off)"
        }
        return String(v)
    }
}
