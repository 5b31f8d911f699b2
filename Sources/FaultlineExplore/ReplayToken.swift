import FaultlineLanguage

/// A schedule (the sequence of thread choices) bound to one version of a program.
/// Text form, version 1: `fl1:<program hash, 16 hex>:<runs>`, where runs are `T` or `TxN`
/// (thread T for N consecutive steps) joined by `.`, e.g. `fl1:9c0ffee012345678:0x3.1.0x2`.
package struct ReplayToken: Equatable, Sendable, CustomStringConvertible {
    package var programHash: UInt64
    package var schedule: [Int]

    package init(programHash: UInt64, schedule: [Int]) {
        self.programHash = programHash
        self.schedule = schedule
    }

    package var description: String {
        var runs: [String] = []
        var i = 0
        while i < schedule.count {
            var j = i
            while j < schedule.count && schedule[j] == schedule[i] { j += 1 }
            runs.append(j - i == 1 ? "\(schedule[i])" : "\(schedule[i])x\(j - i)")
            i = j
        }
        let h = String(programHash, radix: 16)
        return "fl1:" + String(repeating: "0", count: 16 - h.count) + h + ":" + (runs.isEmpty ? "-" : runs.joined(separator: "."))
    }

    package enum ParseError: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case unknownVersion(String)
        package var description: String {
            switch self {
            case .malformed(let m): return "malformed replay token: \(m)"
            case .unknownVersion(let v): return "replay token version '\(v)' is not understood by this faultline (it reads fl1)"
            }
        }
    }

    package init(parsing text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw ParseError.malformed("expected fl1:HASH:SCHEDULE") }
        guard parts[0] == "fl1" else { throw ParseError.unknownVersion(String(parts[0])) }
        guard parts[1].count == 16, let h = UInt64(parts[1], radix: 16) else { throw ParseError.malformed("bad program hash '\(parts[1])'") }
        var schedule: [Int] = []
        if parts[2] != "-" {
            for run in parts[2].split(separator: ".", omittingEmptySubsequences: false) {
                let tn = run.split(separator: "x", omittingEmptySubsequences: false)
                guard tn.count == 1 || tn.count == 2, let t = Int(tn[0]), t >= 0, t < 64 else { throw ParseError.malformed("bad step '\(run)'") }
                var n = 1
                if tn.count == 2 { guard let k = Int(tn[1]), k >= 1, k <= 1_000_000 else { throw ParseError.malformed("bad count in '\(run)'") }; n = k }
                schedule.append(contentsOf: repeatElement(t, count: n))
            }
        }
        self.programHash = h
        self.schedule = schedule
    }
}
