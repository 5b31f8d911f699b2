import FaultlineLanguage

/// A stable 64-bit fingerprint of a state's canonical encoding (memory, object lifetimes, and
/// every thread's position, registers and synchronisation state, and with the data-race check
/// its clocks and the races found; not the step counters, so paths that reach the same state
/// merge). The same on every machine and every run.
extension State {
    package func fingerprint() -> UInt64 {
        var h = FingerprintHasher()
        h.mix(UInt64(cells.count))
        for c in cells { h.mix(UInt64(bitPattern: c)) }
        h.mix(UInt64(objects.count))
        for o in objects { h.mix(o.freed ? 1 : 0) }
        for th in threads {
            h.mix(UInt64(th.status.rawValue) | UInt64(th.phase) << 8 | (th.irqOff ? 1 << 16 : 0))
            h.mix(UInt64(UInt32(bitPattern: th.pc)) | UInt64(UInt32(bitPattern: th.rcuDepth)) << 32)
            h.mix(UInt64(UInt32(bitPattern: th.rcuExits)) | UInt64(UInt32(bitPattern: th.irqEnables)) << 32)
            h.mix(UInt64(th.frames.count))
            for f in th.frames { h.mix(UInt64(UInt32(bitPattern: f.function)) | UInt64(UInt32(bitPattern: f.returnPC)) << 32) }
            h.mix(UInt64(th.values.count))
            for v in th.values { h.mix(UInt64(bitPattern: v)) }
            for w in th.waitSnapshot { h.mix(UInt64(UInt32(bitPattern: w))) }
            h.mix(UInt64(th.srcu.count) | UInt64(UInt32(bitPattern: th.srcuEntered)) << 32)
            for r in th.srcu { h.mix(UInt64(bitPattern: r.domain)); h.mix(UInt64(UInt32(bitPattern: r.index)) | UInt64(UInt32(bitPattern: r.serial)) << 32) }
        }
        h.mix(UInt64(rcuCallbacks.count))
        for cb in rcuCallbacks {
            h.mix(UInt64(UInt32(bitPattern: cb.function)) | UInt64(cb.snapshot.count) << 32); h.mix(UInt64(bitPattern: cb.head))
            for w in cb.snapshot { h.mix(UInt64(UInt32(bitPattern: w))) }
        }
        h.mix(pruned ? 1 : 0)
        h.mix(yielding)
        // With the data-race check, what happens-before knows decides the races still to come,
        // and the races found so far are reported at the end: paths that differ in either are
        // different states (else bfs would report only the first path's races).
        if let r = race {
            for c in r.clocks { h.mix(UInt64(c)) }
            for w in r.shadow { h.mix(w) }
            for d in dataRaces { h.mix(UInt64(UInt32(bitPattern: d.violation.location)) | UInt64(UInt32(bitPattern: d.violation.otherLocation)) << 32) }
        }
        return h.value
    }
}

/// A fast, stable word hasher (multiply–xorshift mixing), used for state fingerprints.
package struct FingerprintHasher {
    package private(set) var value: UInt64 = 0x243F6A8885A308D3
    package init() {}
    @inline(__always) package mutating func mix(_ x: UInt64) {
        var z = (value ^ x) &* 0x9E3779B97F4A7C15
        z = (z ^ (z >> 32)) &* 0xD6E8FEB86659FD93
        value = z ^ (z >> 32)
    }
}
