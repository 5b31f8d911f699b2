/// A set of events of one candidate execution, as bits.
struct BitSet: Equatable {
    var w: [UInt64]

    init(words: Int) { w = [UInt64](repeating: 0, count: words) }

    @inline(__always) func contains(_ i: Int) -> Bool { w[i >> 6] >> UInt64(i & 63) & 1 == 1 }
    @inline(__always) mutating func insert(_ i: Int) { w[i >> 6] |= 1 << UInt64(i & 63) }
    var isEmpty: Bool { w.allSatisfy { $0 == 0 } }

    static func | (a: BitSet, b: BitSet) -> BitSet { var r = a; for k in r.w.indices { r.w[k] |= b.w[k] }; return r }
    static func & (a: BitSet, b: BitSet) -> BitSet { var r = a; for k in r.w.indices { r.w[k] &= b.w[k] }; return r }
    /// a \ b
    static func - (a: BitSet, b: BitSet) -> BitSet { var r = a; for k in r.w.indices { r.w[k] &= ~b.w[k] }; return r }

    func complement(count n: Int) -> BitSet {
        var r = self
        for k in r.w.indices { r.w[k] = ~r.w[k] }
        let extra = r.w.count * 64 - n
        if extra > 0 { r.w[r.w.count - 1] &= ~UInt64(0) >> UInt64(extra) }
        return r
    }

    var members: [Int] {
        var out: [Int] = []
        for (k, x0) in w.enumerated() {
            var x = x0
            while x != 0 { out.append(k * 64 + x.trailingZeroBitCount); x &= x - 1 }
        }
        return out
    }
}

/// A binary relation on the events of one candidate execution, as an n×n bit matrix (row i: the
/// events i is related to). The operators are the `.cat` language's: `|`, `&`, `\`, `;`, `^-1`,
/// `+`, `*`, `?`, `[S]`.
struct BitRelation: Equatable {
    let n: Int
    let words: Int
    var bits: [UInt64]

    init(count n: Int) {
        self.n = n
        words = max(1, (n + 63) >> 6)
        bits = [UInt64](repeating: 0, count: n * words)
    }

    static func identity(_ n: Int) -> BitRelation {
        var r = BitRelation(count: n)
        for i in 0..<n { r.insert(i, i) }
        return r
    }

    /// [S]
    static func identity(on s: BitSet, count n: Int) -> BitRelation {
        var r = BitRelation(count: n)
        for i in s.members where i < n { r.insert(i, i) }
        return r
    }

    /// S * T
    static func product(_ s: BitSet, _ t: BitSet, count n: Int) -> BitRelation {
        var r = BitRelation(count: n)
        for i in s.members where i < n { for k in 0..<r.words { r.bits[i * r.words + k] = t.w[k] } }
        return r
    }

    @inline(__always) func contains(_ i: Int, _ j: Int) -> Bool { bits[i * words + (j >> 6)] >> UInt64(j & 63) & 1 == 1 }
    @inline(__always) mutating func insert(_ i: Int, _ j: Int) { bits[i * words + (j >> 6)] |= 1 << UInt64(j & 63) }

    var isEmpty: Bool { bits.allSatisfy { $0 == 0 } }

    func row(_ i: Int) -> BitSet {
        var s = BitSet(words: words)
        for k in 0..<words { s.w[k] = bits[i * words + k] }
        return s
    }

    func successors(_ i: Int) -> [Int] {
        var out: [Int] = []
        for k in 0..<words {
            var x = bits[i * words + k]
            while x != 0 { out.append(k * 64 + x.trailingZeroBitCount); x &= x - 1 }
        }
        return out
    }

    var pairs: [(Int, Int)] { (0..<n).flatMap { i in successors(i).map { (i, $0) } } }

    /// Events with at least one successor.
    var domain: BitSet {
        var s = BitSet(words: words)
        for i in 0..<n where (0..<words).contains(where: { bits[i * words + $0] != 0 }) { s.insert(i) }
        return s
    }

    var range: BitSet {
        var s = BitSet(words: words)
        for i in 0..<n { for k in 0..<words { s.w[k] |= bits[i * words + k] } }
        return s
    }

    static func | (a: BitRelation, b: BitRelation) -> BitRelation {
        var r = a
        for k in r.bits.indices { r.bits[k] |= b.bits[k] }
        return r
    }

    static func & (a: BitRelation, b: BitRelation) -> BitRelation {
        var r = a
        for k in r.bits.indices { r.bits[k] &= b.bits[k] }
        return r
    }

    /// a \ b
    static func - (a: BitRelation, b: BitRelation) -> BitRelation {
        var r = a
        for k in r.bits.indices { r.bits[k] &= ~b.bits[k] }
        return r
    }

    mutating func formUnion(_ b: BitRelation) { for k in bits.indices { bits[k] |= b.bits[k] } }

    /// a ; b
    static func * (a: BitRelation, b: BitRelation) -> BitRelation {
        var r = BitRelation(count: a.n)
        let w = a.words
        a.bits.withUnsafeBufferPointer { ab in
            b.bits.withUnsafeBufferPointer { bb in
                r.bits.withUnsafeMutableBufferPointer { rb in
                    for i in 0..<a.n {
                        for k in 0..<w {
                            var x = ab[i * w + k]
                            while x != 0 {
                                let j = k * 64 + x.trailingZeroBitCount
                                x &= x - 1
                                for m in 0..<w { rb[i * w + m] |= bb[j * w + m] }
                            }
                        }
                    }
                }
            }
        }
        return r
    }

    /// [S] ; r
    func domain(_ s: BitSet) -> BitRelation {
        var r = self
        for i in 0..<n where !s.contains(i) { for k in 0..<words { r.bits[i * words + k] = 0 } }
        return r
    }

    /// r ; [S]
    func range(_ s: BitSet) -> BitRelation {
        var r = self
        for i in 0..<n { for k in 0..<words { r.bits[i * words + k] &= s.w[k] } }
        return r
    }

    /// r^-1
    var inverse: BitRelation {
        var r = BitRelation(count: n)
        for i in 0..<n { for j in successors(i) { r.insert(j, i) } }
        return r
    }

    /// r+ (Warshall)
    var plus: BitRelation {
        var r = self
        let w = words
        r.bits.withUnsafeMutableBufferPointer { b in
            for k in 0..<n {
                for i in 0..<n where b[i * w + (k >> 6)] >> UInt64(k & 63) & 1 == 1 {
                    for m in 0..<w { b[i * w + m] |= b[k * w + m] }
                }
            }
        }
        return r
    }

    /// r+ when r is acyclic, nil when it has a cycle: one depth-first pass (each row is the
    /// union of its successors' rows, in reverse topological order), cheaper than `plus`.
    var acyclicClosure: BitRelation? {
        var r = BitRelation(count: n)
        let w = words
        var state = [UInt8](repeating: 0, count: n)      // 0 new, 1 on the stack, 2 done
        var stack: [(node: Int, next: Int)] = []
        var ok = true
        bits.withUnsafeBufferPointer { b in
            r.bits.withUnsafeMutableBufferPointer { rb in
                for s in 0..<n where state[s] == 0 {
                    stack.append((s, 0)); state[s] = 1
                    while let top = stack.last {
                        let x = top.node
                        // The next successor of x at or after bit `next`.
                        var j = top.next
                        var found = -1
                        while j < n {
                            let word = b[x * w + (j >> 6)] >> UInt64(j & 63)
                            if word == 0 { j = ((j >> 6) + 1) << 6; continue }
                            j += word.trailingZeroBitCount
                            found = j
                            break
                        }
                        if found < 0 {
                            stack.removeLast(); state[x] = 2
                            // All successors done: x's row is its successors and their rows.
                            for k in 0..<w {
                                var m = b[x * w + k]
                                while m != 0 {
                                    let y = k * 64 + m.trailingZeroBitCount
                                    m &= m - 1
                                    rb[x * w + (y >> 6)] |= 1 << UInt64(y & 63)
                                    for q in 0..<w { rb[x * w + q] |= rb[y * w + q] }
                                }
                            }
                            continue
                        }
                        stack[stack.count - 1].next = found + 1
                        if state[found] == 1 { ok = false; return }
                        if state[found] == 0 { state[found] = 1; stack.append((found, 0)) }
                    }
                }
            }
        }
        return ok ? r : nil
    }

    /// r* (over every event)
    var star: BitRelation { var r = acyclicClosure ?? plus; for i in 0..<n { r.insert(i, i) }; return r }

    /// r? (over every event)
    var opt: BitRelation { var r = self; for i in 0..<n { r.insert(i, i) }; return r }

    var irreflexive: Bool { (0..<n).allSatisfy { !contains($0, $0) } }

    var acyclic: Bool { acyclicClosure != nil }

    /// A cycle of `self` (each step one edge), or nil when acyclic.
    func cycle() -> [Int]? {
        let closure = plus
        guard let start = (0..<n).first(where: { closure.contains($0, $0) }) else { return nil }
        // Breadth-first from start back to start.
        var previous = [Int](repeating: -1, count: n)
        var queue = [start]
        var k = 0
        while k < queue.count {
            let x = queue[k]; k += 1
            for y in successors(x) {
                if y == start {
                    var path = [x]
                    var z = x
                    while z != start { z = previous[z]; path.append(z) }
                    return path.reversed()
                }
                if previous[y] == -1 { previous[y] = x; queue.append(y) }
            }
        }
        return [start]
    }
}
