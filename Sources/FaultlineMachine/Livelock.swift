import FaultlineLanguage

/// Finds a livelock as a cycle: an execution that comes back to a state it was in. Any cycle
/// passes through a backward jump (a loop), so the states after steps that jumped backwards are
/// the samples; the latest `window` of them are kept with what happened between them (which CPUs
/// stepped, which could run). A revisited sample closes a lap:
/// - every CPU that could run somewhere in the lap took a step in it: a fair scheduler can go
///   round it forever — a `livelock`, whose schedule is the way in plus one lap;
/// - a CPU that could run in some state of the lap was left out: a fair scheduler (strong
///   fairness: a CPU able to run again and again eventually runs — the kernel's spinlocks hand
///   the lock over in FIFO order, so a CPU waiting for a lock the lap keeps releasing gets it)
///   runs it, and it may end the spin (a spin-wait another CPU will release, a retry loop around
///   the lock its victim waits for), so when one of them can run at the sample the CPUs of the
///   lap yield to it (`State.yielding`: they cannot run until another CPU has taken a step).
///   Going round the lap again would only repeat the states of its first time round.
/// An execution that grows without repeating still ends at the step bound.
package struct LoopWatch: Sendable {
    /// How many samples are kept: laps through up to this many backward jumps are found.
    static let window = 64

    struct Sample: Sendable {
        var fingerprint: UInt64
        /// The CPUs that stepped since the previous sample, up to this one.
        var steppers: UInt64
        /// The CPUs that could run in some state since the previous sample (it included), before this one.
        var enabled: UInt64
        /// `State.scheduleLength` at the sample.
        var step: Int32
    }

    /// A ring of the latest samples: `count` of them, the newest at `newest`.
    var samples: [Sample]
    var newest = -1
    var count = 0
    /// Since the newest sample: who stepped, who could run in some state.
    var steppers: UInt64 = 0
    var enabled: UInt64 = 0

    init() { samples = [Sample](repeating: Sample(fingerprint: 0, steppers: 0, enabled: 0, step: 0), count: LoopWatch.window) }
}

extension Machine {
    /// After thread `t`'s step `ev` (no violation): `sample` when the step jumped backwards.
    /// Records who stepped and who can run; at a sample, looks for the same state among the kept
    /// samples (a fair lap: a livelock violation; an unfair one: its CPUs yield).
    func watchForCycle(_ s: inout State, _ t: Int, _ ev: StepEvent, sample: Bool) {
        var w = s.loop ?? LoopWatch()
        s.loop = nil
        defer { s.loop = w }
        w.steppers |= 1 << UInt64(t)
        guard sample else {
            // Only a CPU that has not stepped since the sample and has not been seen able to run matters.
            let n = s.threads.count
            var open = ~w.enabled & ~w.steppers & (n < 64 ? (1 << UInt64(n)) - 1 : ~0)
            while open != 0 {
                let u = open.trailingZeroBitCount
                open &= open - 1
                if isEnabled(s, u) { w.enabled |= 1 << UInt64(u) }
            }
            return
        }
        let mask = enabledMask(s)
        let fp = s.loopFingerprint()
        var steppers = w.steppers, enabled = w.enabled
        var i = w.newest
        for _ in 0..<w.count {
            let old = w.samples[i]
            if old.fingerprint == fp {
                if enabled & ~steppers != 0 {
                    if mask & ~steppers != 0 { s.yielding = steppers }
                    return
                }
                s.violation = Violation(kind: .livelock,
                                        facts: ViolationFacts(cause: .livelock, address: Int64(bitPattern: steppers), count: Int64(s.scheduleLength - old.step)),
                                        thread: -1, location: ev.location)
                return
            }
            steppers |= old.steppers
            enabled |= old.enabled
            i = i == 0 ? LoopWatch.window - 1 : i - 1
        }
        w.newest = w.newest + 1 == LoopWatch.window ? 0 : w.newest + 1
        w.samples[w.newest] = LoopWatch.Sample(fingerprint: fp, steppers: w.steppers, enabled: w.enabled, step: s.scheduleLength)
        w.count = min(w.count + 1, LoopWatch.window)
        w.steppers = 0
        w.enabled = mask
    }
}

extension State {
    /// The fingerprint a revisited state is recognised by within one execution: memory, object
    /// lifetimes and every thread's position, registers and synchronisation state, equal up to a
    /// renaming of the objects allocated during the run (a loop that calls a function allocates
    /// a new stack frame every time round, and object ids are never reused). The live objects are
    /// numbered in allocation order, objects freed since are left out (a pointer to one counts
    /// as "a freed object", whichever), and every value that points into an object is renamed.
    /// Progress counters a waiting grace period or queued RCU callback only compares (`rcuExits`,
    /// `irqEnables`, SRCU exits) count only as what the waiter can tell: whether each thread moved
    /// past its snapshot.
    /// Step counters and data-race clocks are bookkeeping, not state.
    package func loopFingerprint() -> UInt64 {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: objects.count) { rank in
            var h = FingerprintHasher()
            var live: Int32 = 0
            for o in objects.indices {
                if objects[o].origin == .global || !objects[o].freed { rank[o] = live; live += 1 } else { rank[o] = -1 }
            }
            @inline(__always) func renamed(_ v: Int64) -> UInt64 {
                let o = Address.object(v)
                guard v > 0, o < rank.count else { return UInt64(bitPattern: v) }
                let r = rank[o]
                return r < 0 ? 0xDEAD_0000_0000_0000 | UInt64(Address.offset(v)) : UInt64(bitPattern: Address.make(object: Int(r), offset: Address.offset(v)))
            }
            h.mix(UInt64(live))
            for o in objects.indices where rank[o] >= 0 {
                let m = objects[o]
                h.mix(UInt64(UInt32(bitPattern: m.size)) | UInt64(UInt32(bitPattern: m.kind)) << 32)
                h.mix(UInt64(m.origin.rawValue) | (m.freed ? 1 << 8 : 0) | UInt64(UInt16(bitPattern: m.owner)) << 16)
                for c in Int(m.base)..<Int(m.base + m.size) { h.mix(renamed(cells[c])) }
            }
            h.mix(yielding)
            for th in threads {
                h.mix(UInt64(th.status.rawValue) | UInt64(th.phase) << 8 | (th.irqOff ? 1 << 16 : 0))
                h.mix(UInt64(UInt32(bitPattern: th.pc)) | UInt64(UInt32(bitPattern: th.rcuDepth)) << 32)
                h.mix(UInt64(th.frames.count))
                for f in th.frames { h.mix(UInt64(UInt32(bitPattern: f.function)) | UInt64(UInt32(bitPattern: f.returnPC)) << 32) }
                h.mix(UInt64(th.values.count))
                for v in th.values { h.mix(renamed(v)) }
                for (u, snap) in th.waitSnapshot.enumerated() {
                    let o = threads[u]
                    h.mix(snap < 0 ? 7 : (o.rcuExits == snap ? 1 : 0) | (o.irqEnables == snap ? 2 : 0) | (o.srcu.contains { $0.serial <= snap } ? 4 : 0))
                }
                // SRCU: which sections are open, not how many came before (serials only order them).
                h.mix(UInt64(th.srcu.count))
                for r in th.srcu { h.mix(renamed(r.domain)); h.mix(UInt64(UInt32(bitPattern: r.index))) }
            }
            h.mix(UInt64(rcuCallbacks.count))
            for cb in rcuCallbacks {
                h.mix(UInt64(UInt32(bitPattern: cb.function))); h.mix(renamed(cb.head))
                for (u, snap) in cb.snapshot.enumerated() { h.mix(snap < 0 ? 2 : (threads[u].rcuExits == snap ? 1 : 0)) }
            }
            return h.value
        }
    }
}
