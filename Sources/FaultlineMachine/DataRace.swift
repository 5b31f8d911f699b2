import FaultlineLanguage

/// A data race found in an execution: the violation (at the second access, naming the first)
/// and where in the schedule the second access was (its index), so that the schedule's prefix
/// up to it reproduces the race. Races do not end an execution: KCSAN reports and goes on.
package struct DataRace: Sendable, Equatable {
    package var violation: Violation
    package var step: Int
}

/// Happens-before bookkeeping for the data-race check, as KCSAN means a data race: two accesses
/// to one cell by different CPUs, at least one a write, at least one plain, not ordered by
/// happens-before. Vector clocks, one row of `n` entries per thread and per synchronisation
/// object: program order; lock release → acquire of the same lock (spinlocks, rwsems, bit
/// locks); a release write (`smp_store_release`, `rcu_assign_pointer`, a fully ordered RMW), or
/// a `WRITE_ONCE` after an `smp_wmb`/`smp_mb` (what came before the barrier), → the marked read
/// that reads it (acquire, or `READ_ONCE`/`rcu_dereference`, whose address dependencies the
/// kernel relies on: over-approximated as ordering everything after the read);
/// RCU, SRCU and TLB shootdown: a read-side (IRQs-off) section's exit → the end of a grace period
/// (shootdown) that waited for it or began after it, and a grace period's start → any section
/// entered after it. Only kept for programs that have a plain access (`Machine.checksDataRaces`).
package struct RaceClocks: Sendable {
    let n: Int
    /// Rows of `n` entries: `t` thread t's clock; `n + t` its last RCU exit, `2n + t` its last
    /// IRQ enable, `3n + t` its last SRCU exit, `4n + t` what its pending grace period (or
    /// shootdown) learnt at its start; `5n` every RCU grace-period start, `5n + 1` every
    /// shootdown start; `5n + 2 + t` thread t's clock at its last `smp_wmb`/`smp_mb`.
    var clocks: [UInt32]
    /// Per memory cell, `1 + 2n` words: the last write's record, each thread's last read's
    /// record, and the cell's release clock (what an acquire of it learns).
    var shadow: [UInt64]

    init(threads n: Int, cells: Int) {
        self.n = n
        clocks = [UInt32](repeating: 0, count: (6 * n + 2) * n)
        shadow = [UInt64](repeating: 0, count: cells * (1 + 2 * n))
    }

    var stride: Int { 1 + 2 * n }

    // Access records: epoch (the thread's own clock entry) in bits 0–31, location + 1 in bits
    // 32–55, plain in bit 56, "strict" (a KCSAN assertion: races with marked accesses too) in
    // bit 57, the thread in bits 58–63.
    @inline(__always) static func record(thread: Int, epoch: UInt32, location: Int32, plain: Bool, strict: Bool) -> UInt64 {
        UInt64(epoch) | (UInt64(UInt32(bitPattern: location + 1)) & 0xFF_FFFF) << 32 | (plain ? 1 << 56 : 0) | (strict ? 1 << 57 : 0) | UInt64(thread) << 58
    }
    @inline(__always) static func epoch(_ r: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: r) }
    @inline(__always) static func location(_ r: UInt64) -> Int32 { Int32((r >> 32) & 0xFF_FFFF) - 1 }
    @inline(__always) static func plain(_ r: UInt64) -> Bool { (r >> 56) & 1 == 1 }
    @inline(__always) static func strict(_ r: UInt64) -> Bool { (r >> 57) & 1 == 1 }
    @inline(__always) static func thread(_ r: UInt64) -> Int { Int(r >> 58) }

    /// Joins row `from` (of `clocks`, or the release clock of `cell` when `cell >= 0`) into row `into`.
    @inline(__always) mutating func join(into: Int, row from: Int) {
        for u in 0..<n where clocks[from * n + u] > clocks[into * n + u] { clocks[into * n + u] = clocks[from * n + u] }
    }
    @inline(__always) mutating func join(into: Int, cell c: Int) {
        let b = c * stride + 1 + n
        for u in 0..<n where UInt32(truncatingIfNeeded: shadow[b + u]) > clocks[into * n + u] { clocks[into * n + u] = UInt32(truncatingIfNeeded: shadow[b + u]) }
    }
    @inline(__always) mutating func copy(row from: Int, to: Int) {
        for u in 0..<n { clocks[to * n + u] = clocks[from * n + u] }
    }
    /// The cell's release clock: joined with `row` (`keep`: an RMW continues a release
    /// sequence), or replaced by it.
    @inline(__always) mutating func release(cell c: Int, row: Int, keep: Bool) {
        let b = c * stride + 1 + n
        for u in 0..<n {
            let v = UInt64(clocks[row * n + u])
            if !keep || v > shadow[b + u] { shadow[b + u] = v }
        }
    }
    @inline(__always) mutating func clearRelease(cell c: Int) {
        let b = c * stride + 1 + n
        for u in 0..<n { shadow[b + u] = 0 }
    }
    /// The callback thread `t` starts callback `cb`: it comes after what `call_rcu` saw and
    /// after the exits of the sections its grace period waited for.
    mutating func runCallback(_ cb: RCUCallback, on t: Int) {
        for u in 0..<min(n, cb.clock.count) where cb.clock[u] > clocks[t * n + u] { clocks[t * n + u] = cb.clock[u] }
        for (u, snap) in cb.snapshot.enumerated() where snap >= 0 && u < n { join(into: t, row: n + u) }
    }
    func fenceRow(_ t: Int) -> Int { 5 * n + 2 + t }
    /// smp_wmb / smp_mb by thread `t`: what its later marked writes publish.
    mutating func fence(thread t: Int) { copy(row: t, to: fenceRow(t)) }

    /// Whether the access recorded in `r` (by another thread) does not happen before thread `t` now.
    @inline(__always) func concurrent(_ r: UInt64, with t: Int) -> Bool {
        r != 0 && RaceClocks.thread(r) != t && RaceClocks.epoch(r) > clocks[t * n + RaceClocks.thread(r)]
    }
}

/// The modes the data-race check tells apart, by pattern: `==` on an enum of another module is a
/// call through its protocol witness, and these are asked at every access.
extension AccessMode {
    var isPlain: Bool { if case .plain = self { return true } else { return false } }
    var isUnchecked: Bool { if case .unchecked = self { return true } else { return false } }
    var isExclusiveWriter: Bool { if case .exclusiveWriter = self { return true } else { return false } }
    var isExclusiveAccess: Bool { if case .exclusiveAccess = self { return true } else { return false } }
    var isRelease: Bool { if case .release = self { return true } else { return false } }
    var isMB: Bool { if case .mb = self { return true } else { return false } }
}

/// How a step touches a cell, for the data-race check.
struct RaceAccess {
    var write: Bool
    var plain: Bool
    /// ASSERT_EXCLUSIVE_WRITER (a read that races with any concurrent write) or
    /// ASSERT_EXCLUSIVE_ACCESS (a write that races with any concurrent access).
    var strict: Bool
    var acquire: Bool
    /// What the write publishes: the thread's clock (a release), its clock at its last
    /// `smp_wmb`/`smp_mb` (a `WRITE_ONCE`), nothing (a plain write).
    var release: Publication
    /// An RMW: its write continues the cell's release sequence.
    var rmw: Bool

    enum Publication { case nothing, fence, everything }
}

extension Machine {
    /// Whether a program needs the data-race check: some thread code makes a plain access or a
    /// KCSAN assertion (thread code only: the invariant and final blocks run atomically).
    static func needsRaceCheck(_ p: Program) -> Bool {
        for (i, f) in p.functions.enumerated() where i != p.invariantFunction && i != p.finalFunction {
            for instr in f.code {
                switch instr {
                case .read(_, let m), .write(_, let m), .rmw(_, let m):
                    if m == .plain || m == .exclusiveWriter || m == .exclusiveAccess { return true }
                default: break
                }
            }
        }
        return false
    }

    @inline(__always)
    func cellIndex(_ s: State, _ a: Int64) -> Int? {
        let o = Address.object(a), off = Address.offset(a)
        guard a > 0, o < s.objects.count, off < Int(s.objects[o].size) else { return nil }
        return Int(s.objects[o].base) + off
    }

    /// Updates the happens-before clocks for the step thread `t` just took (`ev`) and records
    /// the data races it makes. `phaseBefore` and `snapshot` are the thread's blocking phase
    /// and grace-period snapshot before the step.
    @inline(never)
    func recordForRaces(_ s: inout State, _ t: Int, _ ev: StepEvent, phaseBefore: UInt8, snapshot: [Int32]) {
        guard var r = s.race else { return }
        s.race = nil
        defer { s.race = r }
        // Every shadow word a step changes is of the cell at `ev.address` (`cellIndex` below).
        if let c = cellIndex(s, ev.address) { s.writtenBlocks |= cellBlock(c) }
        let n = r.n
        r.clocks[t * n + t] &+= 1
        func waited(_ body: (Int) -> Void) { for (u, snap) in snapshot.enumerated() where snap >= 0 { body(u) } }
        switch ev.instr {
        case .read(_, let m):
            guard !m.isUnchecked, let c = cellIndex(s, ev.address) else { return }
            access(&s, &r, t, c, ev, RaceAccess(write: false, plain: m.isPlain, strict: m.isExclusiveWriter,
                                                acquire: !m.isPlain && !m.isExclusiveWriter, release: .nothing, rmw: false))
        case .write(_, let m):
            guard !m.isUnchecked, let c = cellIndex(s, ev.address) else { return }
            access(&s, &r, t, c, ev, RaceAccess(write: true, plain: m.isPlain, strict: false, acquire: false,
                                                release: m.isPlain ? .nothing : m.isRelease ? .everything : .fence, rmw: false))
        case .rmw(_, let m):
            guard !m.isUnchecked, let c = cellIndex(s, ev.address) else { return }
            let assertion = m.isExclusiveAccess
            access(&s, &r, t, c, ev, RaceAccess(write: true, plain: false, strict: assertion, acquire: !assertion,
                                                release: m.isRelease || m.isMB ? .everything : .fence, rmw: !assertion))
        case .sync(let op):
            let me = t
            switch op {
            case .spinLock, .spinUnlockWait, .waitOnBit, .waitOnBitLock, .downRead, .downWrite:
                if !ev.registered, let c = cellIndex(s, ev.address) { r.join(into: me, cell: c) }
            case .spinTrylock, .downReadTrylock, .downWriteTrylock:
                if ev.result == 1, let c = cellIndex(s, ev.address) { r.join(into: me, cell: c) }
            case .spinUnlock, .upRead, .upWrite, .downgradeWrite:
                if let c = cellIndex(s, ev.address) { r.release(cell: c, row: me, keep: true) }
            case .rcuReadLock:
                r.join(into: me, row: 5 * n)
            case .irqDisable, .irqSave:
                r.join(into: me, row: 5 * n); r.join(into: me, row: 5 * n + 1)
            case .rcuReadUnlock:
                r.copy(row: me, to: n + me)
            case .irqEnable, .irqRestore:
                r.copy(row: me, to: n + me); r.copy(row: me, to: 2 * n + me)
            case .srcuReadLock:
                if let c = cellIndex(s, ev.address) { r.join(into: me, cell: c) }
            case .srcuReadUnlock:
                r.copy(row: me, to: 3 * n + me)
            case .synchronizeRCU, .tlbShootdown, .synchronizeSRCU:
                let exits = op == .synchronizeRCU ? n : op == .tlbShootdown ? 2 * n : 3 * n
                if phaseBefore == 0 {
                    // The start: sections entered from now on come after it; sections that
                    // ended before it come before its end.
                    if op == .synchronizeSRCU { if let c = cellIndex(s, ev.address) { r.release(cell: c, row: me, keep: true) } }
                    else { r.join(into: op == .synchronizeRCU ? 5 * n : 5 * n + 1, row: me) }
                    for u in 0..<n { r.clocks[(4 * n + me) * n + u] = 0 }
                    for u in 0..<n where u != me { r.join(into: 4 * n + me, row: exits + u) }
                }
                if !ev.registered {
                    r.join(into: me, row: 4 * n + me)
                    waited { u in r.join(into: me, row: exits + u) }
                }
            case .waitEventSleep, .waitForCompletion:
                if let c = cellIndex(s, ev.address) { r.join(into: me, cell: c) }
            case .waitEventTimeoutSleep:
                // Woken: the wake_up() that moved the count comes before; timed out: nothing does.
                if ev.value != 0, let c = cellIndex(s, ev.address) { r.join(into: me, cell: c) }
            case .callRCU:
                // A grace period starts: sections entered from now on come after it; the callback
                // comes after the caller's steps so far and the sections that ended before.
                guard ev.address != 0, !s.rcuCallbacks.isEmpty else { break }
                r.join(into: 5 * n, row: me)
                var clock = Array(r.clocks[(me * n)..<(me * n + n)])
                for u in 0..<n where u != me {
                    for v in 0..<n where r.clocks[(n + u) * n + v] > clock[v] { clock[v] = r.clocks[(n + u) * n + v] }
                }
                s.rcuCallbacks[s.rcuCallbacks.count - 1].clock = clock
            case .rcuCallback, .free, .freePage, .spinIsLocked:
                break
            }
        default:
            break
        }
    }

    /// Checks one access against the cell's records, records it, and moves the clocks.
    @inline(__always)
    func access(_ s: inout State, _ r: inout RaceClocks, _ t: Int, _ c: Int, _ ev: StepEvent, _ a: RaceAccess) {
        let n = r.n
        let base = c * r.stride
        let w = r.shadow[base]
        if r.concurrent(w, with: t), a.plain || a.strict || RaceClocks.plain(w) || RaceClocks.strict(w) {
            reportRace(&s, t, ev, a, other: w, otherWrote: true)
        }
        if a.write {
            for u in 0..<n where u != t {
                let rd = r.shadow[base + 1 + u]
                if r.concurrent(rd, with: t), a.plain || a.strict || RaceClocks.plain(rd) || RaceClocks.strict(rd) {
                    reportRace(&s, t, ev, a, other: rd, otherWrote: false)
                }
            }
        }
        if a.acquire { r.join(into: t, cell: c) }
        let rec = RaceClocks.record(thread: t, epoch: r.clocks[t * n + t], location: ev.location, plain: a.plain, strict: a.strict)
        if a.write {
            r.shadow[base] = rec
            if !a.strict {
                switch a.release {
                case .everything: r.release(cell: c, row: t, keep: a.rmw)
                case .fence: r.release(cell: c, row: r.fenceRow(t), keep: a.rmw)
                case .nothing: r.clearRelease(cell: c)
                }
            }
        } else {
            r.shadow[base + 1 + t] = rec
        }
    }

    func reportRace(_ s: inout State, _ t: Int, _ ev: StepEvent, _ a: RaceAccess, other: UInt64, otherWrote: Bool) {
        let otherLocation = RaceClocks.location(other)
        // One race per pair of source lines per execution (in either order), and not too many.
        func line(_ l: Int32) -> Int64 {
            guard l >= 0 else { return 0 }
            let loc = program.locations[Int(l)]
            let file = loc.file.map { f in Int64(program.file.location.file === f ? 0 : 1 + (f.path.utf8.reduce(0) { ($0 &* 31 &+ Int($1)) & 0xFFFF })) } ?? 0
            return file << 20 | Int64(loc.line)
        }
        let here = line(ev.location), there = line(otherLocation)
        let pair = min(here, there) << 32 | max(here, there)
        if s.dataRaces.count >= 16 || s.dataRaces.contains(where: { $0.violation.facts.count == pair }) { return }
        // `text` bits: this access writes (1), is plain (2), is an assertion (4); the other: 8, 16, 32.
        var bits: Int32 = (a.write ? 1 : 0) | (a.plain ? 2 : 0) | (a.strict ? 4 : 0)
        bits |= (otherWrote ? 8 : 0) | (RaceClocks.plain(other) ? 16 : 0) | (RaceClocks.strict(other) ? 32 : 0)
        let facts = ViolationFacts(cause: .dataRace, access: a.write ? .write : .read, address: ev.address,
                                   object: Int32(Address.object(ev.address)), site: otherLocation,
                                   siteThread: Int16(RaceClocks.thread(other)), count: pair, text: bits)
        var v = Violation(kind: .dataRace, facts: facts, thread: t, location: ev.location)
        v.otherLocation = otherLocation
        v.otherThread = RaceClocks.thread(other)
        s.dataRaces.append(DataRace(violation: v, step: Int(s.scheduleLength) - 1))
    }
}
