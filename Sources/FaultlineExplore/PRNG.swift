/// The project's seeded PRNG (SplitMix64): the same seed gives the same stream on every machine.
/// Never use the system generator for anything that reaches output.
package struct SplitMix64: RandomNumberGenerator, Sendable {
    package private(set) var state: UInt64
    package init(seed: UInt64) { state = seed }
    @inline(__always) package mutating func next() -> UInt64 {
        state = state &+ 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    /// Uniform in 0..<n without modulo bias.
    package mutating func below(_ n: Int) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        let limit = UInt64.max - UInt64.max % bound
        while true { let x = next(); if x < limit { return Int(x % bound) } }
    }
    /// The seed of run `index` of a sampling session seeded with `seed`.
    package static func derive(_ seed: UInt64, _ index: Int) -> UInt64 {
        var g = SplitMix64(seed: seed ^ (UInt64(index) &* 0xD1B54A32D192ED03))
        return g.next()
    }
}
