import FaultlineLanguage
import FaultlineMachine

/// A set of events of one thread path (bit i: the path's i-th event): what a value, an address
/// or a branch depends on. Four words: a thread path has at most 256 events.
struct EventSet: Hashable, Sendable {
    var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0

    static let capacity = 256

    init() {}
    init(_ i: Int) { insert(i) }

    var isEmpty: Bool { (w0 | w1 | w2 | w3) == 0 }

    mutating func insert(_ i: Int) {
        let b = UInt64(1) << UInt64(i & 63)
        switch i >> 6 { case 0: w0 |= b; case 1: w1 |= b; case 2: w2 |= b; default: w3 |= b }
    }

    func union(_ o: EventSet) -> EventSet {
        var r = self
        r.w0 |= o.w0; r.w1 |= o.w1; r.w2 |= o.w2; r.w3 |= o.w3
        return r
    }

    /// The members, ascending.
    var members: [Int] {
        var out: [Int] = []
        for (k, w) in [w0, w1, w2, w3].enumerated() {
            var x = w
            while x != 0 { let b = x.trailingZeroBitCount; out.append(k * 64 + b); x &= x - 1 }
        }
        return out
    }
}

/// The tags herd7 puts on an event under `linux-kernel.def` / `linux-kernel.bell` / `lock.cat`:
/// access annotations, fence kinds, lock and SRCU event classes.
struct LKTags: OptionSet, Hashable, Sendable {
    let rawValue: UInt32
    static let once = LKTags(rawValue: 1 << 0)
    static let acquire = LKTags(rawValue: 1 << 1)
    static let release = LKTags(rawValue: 1 << 2)
    static let mb = LKTags(rawValue: 1 << 3)             // MB: smp_mb() or a fully ordered RMW
    static let noreturn = LKTags(rawValue: 1 << 4)
    static let rmw = LKTags(rawValue: 1 << 5)            // from an RMW instruction (also when it failed)
    static let lkr = LKTags(rawValue: 1 << 6)
    static let lkw = LKTags(rawValue: 1 << 7)
    static let ul = LKTags(rawValue: 1 << 8)
    static let lf = LKTags(rawValue: 1 << 9)
    static let rl = LKTags(rawValue: 1 << 10)
    static let ru = LKTags(rawValue: 1 << 11)
    static let srcuLock = LKTags(rawValue: 1 << 12)
    static let srcuUnlock = LKTags(rawValue: 1 << 13)
    static let syncSrcu = LKTags(rawValue: 1 << 14)
    static let rmb = LKTags(rawValue: 1 << 15)
    static let wmb = LKTags(rawValue: 1 << 16)
    static let barrier = LKTags(rawValue: 1 << 17)
    static let rcuLock = LKTags(rawValue: 1 << 18)
    static let rcuUnlock = LKTags(rawValue: 1 << 19)
    static let syncRcu = LKTags(rawValue: 1 << 20)
    static let beforeAtomic = LKTags(rawValue: 1 << 21)
    static let afterAtomic = LKTags(rawValue: 1 << 22)
    static let afterSpinlock = LKTags(rawValue: 1 << 23)
    static let afterUnlockLock = LKTags(rawValue: 1 << 24)
    static let afterSrcuReadUnlock = LKTags(rawValue: 1 << 25)
    static let initWrite = LKTags(rawValue: 1 << 26)

    static func access(_ m: AccessMode) -> LKTags {
        switch m {
        case .plain: return []
        case .once, .rcu, .unchecked, .exclusiveWriter, .exclusiveAccess: return .once
        case .acquire: return .acquire
        case .release: return .release
        case .mb: return .mb
        case .noreturn: return .noreturn
        }
    }

    static func fence(_ f: Fence) -> LKTags {
        switch f {
        case .mb: return .mb
        case .rmb: return .rmb
        case .wmb: return .wmb
        case .barrier: return .barrier
        case .beforeAtomic: return .beforeAtomic
        case .afterAtomic: return .afterAtomic
        case .afterSpinlock: return .afterSpinlock
        case .afterUnlockLock: return .afterUnlockLock
        case .afterSrcuReadUnlock: return .afterSrcuReadUnlock
        }
    }

    /// herd7's names, for witnesses.
    var names: [String] {
        let all: [(LKTags, String)] = [
            (.once, "once"), (.acquire, "acquire"), (.release, "release"), (.mb, "mb"), (.noreturn, "noreturn"),
            (.rmw, "rmw"), (.lkr, "LKR"), (.lkw, "LKW"), (.ul, "UL"), (.lf, "LF"), (.rl, "RL"), (.ru, "RU"),
            (.srcuLock, "srcu-lock"), (.srcuUnlock, "srcu-unlock"), (.syncSrcu, "sync-srcu"), (.rmb, "rmb"),
            (.wmb, "wmb"), (.barrier, "barrier"), (.rcuLock, "rcu-lock"), (.rcuUnlock, "rcu-unlock"),
            (.syncRcu, "sync-rcu"), (.beforeAtomic, "before-atomic"), (.afterAtomic, "after-atomic"),
            (.afterSpinlock, "after-spinlock"), (.afterUnlockLock, "after-unlock-lock"),
            (.afterSrcuReadUnlock, "after-srcu-read-unlock"), (.initWrite, "IW"),
        ]
        return all.filter { contains($0.0) }.map(\.1)
    }
}

/// One event of a thread path, as herd7 generates it from the kernel's C.
struct LKEvent: Sendable {
    enum Kind: UInt8, Sendable { case read, write, fence }
    var kind: Kind
    var tags: LKTags
    /// The location (0 for fences; the srcu_struct for sync-srcu).
    var address: Int64
    /// The value read or written.
    var value: Int64
    /// Reads (of the same path) its address, its written value, and the branches around it depend on.
    var addr = EventSet()
    var data = EventSet()
    var ctrl = EventSet()
    /// An RMW's other half (index in the path), -1 if none.
    var partner: Int32 = -1
    /// Source location (index into Program.locations).
    var location: Int32
    /// Dense index of the location among the program's (set when paths are combined).
    var slot: Int32 = -1

    var isRead: Bool { kind == .read }

    /// Everything but the value: two paths with the same shapes have the same model relations.
    struct Shape: Hashable {
        var kind: Kind, tags: LKTags, address: Int64, addr: EventSet, data: EventSet, ctrl: EventSet, partner: Int32, slot: Int32
    }
    var shape: Shape { Shape(kind: kind, tags: tags, address: address, addr: addr, data: data, ctrl: ctrl, partner: partner, slot: slot) }
    var isWrite: Bool { kind == .write }
}

/// One way a thread can run alone: its events, its final state (registers), and whether a loop
/// reached the unrolling bound on the way (herd7's "unrolling limit exceeded").
struct LKPath: Sendable {
    var events: [LKEvent]
    var state: State
}

/// Why a program is outside the LKMM engine's scope (reported as `unsupported under lkmm: …`).
package struct LKMMUnsupported: Error, Sendable, CustomStringConvertible {
    package var construct: String
    /// Index into `Program.locations` (-1: see `source`).
    package var location: Int32
    /// Where in the source, for a construct found in the AST (no compiled location).
    package var source: SourceLocation? = nil
    package var description: String { "unsupported under lkmm: \(construct)" }
}

/// Runs one thread of a compiled program on its own, once per choice of the value each read
/// returns, and records the events herd7 would generate with their dependencies: `addr` (the
/// address depends on a read), `data` (the written value does), `ctrl` (the event is inside a
/// branch whose condition does, up to the branch's join point — herd7 does not extend control
/// dependencies past the end of an `if`). Dependencies are tracked through registers, the
/// operand stack and the thread's own stack frame. Loops are unrolled as herd7 does: a path
/// that would take a backward jump more than `unroll` times (per loop entry) is dropped.
struct LKThreadRunner {
    let machine: Machine
    let code: [[Instr]]
    /// Per function, per conditional jump pc: its immediate post-dominator (the join point).
    let joins: [[Int32]]
    let unroll: Int
    static let maxPathsPerThread = 1 << 16

    init(machine: Machine, unroll: Int) {
        self.machine = machine
        self.code = machine.program.functions.map(\.code)
        self.joins = code.map(LKThreadRunner.postDominators)
        self.unroll = unroll
    }

    /// Immediate post-dominator of every instruction (`code.count`: the function's exit).
    static func postDominators(_ code: [Instr]) -> [Int32] {
        let n = code.count
        let exit = n
        var succ = [[Int]](repeating: [], count: n + 1)
        for p in 0..<n {
            switch code[p] {
            case .jump(let t): succ[p] = [Int(t)]
            case .jumpIfZero(let t), .jumpIfNotZero(let t): succ[p] = [p + 1, Int(t)]
            case .ret, .fail: succ[p] = [exit]
            default: succ[p] = [p + 1 <= n ? p + 1 : exit]
            }
        }
        // pdom(p) as bit sets, iterated to the greatest fixpoint.
        let words = (n + 1 + 63) / 64
        var pdom = [UInt64](repeating: ~0, count: (n + 1) * words)
        for w in 0..<words { pdom[exit * words + w] = 0 }
        pdom[exit * words + exit / 64] |= 1 << UInt64(exit % 64)
        var changed = true
        while changed {
            changed = false
            for p in stride(from: n - 1, through: 0, by: -1) {
                var row = [UInt64](repeating: ~0, count: words)
                for s in succ[p] { for w in 0..<words { row[w] &= pdom[s * words + w] } }
                row[p / 64] |= 1 << UInt64(p % 64)
                for w in 0..<words where row[w] != pdom[p * words + w] { pdom[p * words + w] = row[w]; changed = true }
            }
        }
        func count(_ p: Int) -> Int { (0..<words).reduce(0) { $0 + pdom[p * words + $1].nonzeroBitCount } }
        var ipdom = [Int32](repeating: Int32(exit), count: n)
        for p in 0..<n {
            let c = count(p)
            for q in 0...n where q != p && pdom[p * words + q / 64] >> UInt64(q % 64) & 1 == 1 && count(q) == c - 1 {
                ipdom[p] = Int32(q); break
            }
        }
        return ipdom
    }

    /// A path being explored.
    struct Run {
        var s: State
        var taint: [EventSet]             // parallel to s.threads[t].values
        var cellTaint: [Int: EventSet] = [:]
        var events: [LKEvent] = []
        /// Open branches: (join pc, frame depth, what the condition depends on).
        var branches: [(join: Int32, depth: Int, on: EventSet)] = []
        /// Backward jumps taken per (frame depth, target pc), reset when the loop is left.
        var loops: [(depth: Int, target: Int32, from: Int32, count: Int)] = []
        /// The value a choice point must take (set on the alternatives pushed for later).
        var forced: Int64? = nil
        var popped: (value: Int64, taint: EventSet) = (0, EventSet())
        /// Dropped at a dereference of a value that is no location.
        var badPointer = false
    }

    /// Every path of thread `t`; a read returns each value in `values` of its location.
    /// `droppedWrites` gets the writes of paths dropped at a dereference of a value that is no
    /// location: such a path may have read a pointer too early in the values' fixpoint (its own
    /// write of that pointer, read back, is among them), so its writes feed the next round.
    func paths(_ root: State, _ t: Int, values: inout [Int64: Set<Int64>], boundHit: inout Bool,
               droppedWrites: inout [Int64: Set<Int64>]) throws -> [LKPath] {
        var out: [LKPath] = []
        var work: [Run] = [Run(s: root, taint: [EventSet](repeating: EventSet(), count: root.threads[t].values.count))]
        while var r = work.popLast() {
            if try run(&r, t, root: root, values: &values, work: &work, boundHit: &boundHit) {
                out.append(LKPath(events: r.events, state: r.s))
                if out.count > LKThreadRunner.maxPathsPerThread {
                    throw LKMMUnsupported(construct: "more than \(LKThreadRunner.maxPathsPerThread) paths in P\(t)", location: -1)
                }
            } else if r.badPointer {
                for e in r.events where e.isWrite { droppedWrites[e.address, default: []].insert(e.value) }
            }
        }
        return out.reversed()
    }

    func cellIndex(_ s: State, _ a: Int64) -> Int? { AxiomaticSearch.cellIndex(s, a) }

    func ownStack(_ s: State, _ t: Int, _ a: Int64) -> Int? {
        let o = Address.object(a)
        guard a > 0, o > 0, o < s.objects.count, s.objects[o].origin == .stack, Int(s.objects[o].owner) == t else { return nil }
        return cellIndex(s, a)
    }

    /// Runs `r` to the end of the thread; false when the path is dropped (assume, unroll bound).
    func run(_ r: inout Run, _ t: Int, root: State, values: inout [Int64: Set<Int64>], work: inout [Run], boundHit: inout Bool) throws -> Bool {
        let program = machine.program
        var budget = 1_000_000
        func unsupported(_ what: String, _ th: ThreadState) -> LKMMUnsupported {
            LKMMUnsupported(construct: what, location: program.functions[th.function].locations[Int(th.pc)])
        }
        while r.s.threads[t].status == .running {
            budget -= 1
            if budget < 0 { throw unsupported("a loop without shared accesses", r.s.threads[t]) }
            var th = r.s.threads[t]
            let fn = th.function
            let pc = th.pc
            let depth = th.frames.count
            // Leaving a branch region: its join point is reached.
            if let k = r.branches.firstIndex(where: { $0.depth == depth && $0.join == pc }) { r.branches.removeSubrange(k...) }
            let instr = code[fn][Int(pc)]
            let top = th.values.count - 1
            var ctrl: EventSet { r.branches.reduce(EventSet()) { $0.union($1.on) } }
            func choose(_ choices: [Int64]) -> Int64 {
                if let f = r.forced { r.forced = nil; return f }
                for v in choices.dropFirst().reversed() { var alt = r; alt.forced = v; work.append(alt) }
                return choices[0]
            }
            func readChoices(_ a: Int64, _ c: Int) -> [Int64] {
                if values[a] == nil { values[a] = [root.cells[c]] }
                return values[a]!.sorted()
            }
            func event(_ e: LKEvent) throws {
                guard r.events.count < EventSet.capacity else { throw unsupported("more than \(EventSet.capacity) events in P\(t)", th) }
                r.events.append(e)
            }
            let loc = program.functions[fn].locations[Int(pc)]
            th.pc += 1
            switch instr {
            case .push(let v): th.values.append(v); r.taint.append(EventSet())
            case .load(let i):
                let k = th.frameBase + Int(i)
                th.values.append(th.values[k]); r.taint.append(r.taint[k])
            case .store(let i):
                let k = th.frameBase + Int(i)
                th.values[k] = th.values.removeLast(); r.taint[k] = r.taint.removeLast()
            case .pop:
                r.popped = (th.values.removeLast(), r.taint.removeLast())
            case .dup: th.values.append(th.values[top]); r.taint.append(r.taint[top])
            case .print(_, let n): th.values.removeLast(Int(n)); r.taint.removeLast(Int(n))
            case .neg: th.values[top] = 0 &- th.values[top]
            case .not: th.values[top] = th.values[top] == 0 ? 1 : 0
            case .bitNot: th.values[top] = ~th.values[top]
            case .binary(let op):
                let b = th.values.removeLast(), tb = r.taint.removeLast()
                let a = th.values[top - 1]
                r.taint[top - 1] = r.taint[top - 1].union(tb)
                let (v, fault) = op.apply(a, b)         // the language's one integer semantics
                if fault == .divisionByZero { throw unsupported("division by zero", th) }
                th.values[top - 1] = v
            case .jump(let target):
                th.pc = target
                if target <= pc, !loop(&r, depth, target, pc, &boundHit) { return false }
            case .jumpIfZero(let target), .jumpIfNotZero(let target):
                let v = th.values.removeLast(), tv = r.taint.removeLast()
                if !tv.isEmpty { r.branches.append((joins[fn][Int(pc)], depth, tv)) }
                var taken = v == 0
                if case .jumpIfNotZero = instr { taken = v != 0 }
                if taken {
                    th.pc = target
                    if target <= pc, !loop(&r, depth, target, pc, &boundHit) { return false }
                }
            case .call(let fi):
                let f = program.functions[Int(fi)]
                guard f.frameSize == 0 else { throw unsupported("a helper function with address-taken locals (\(f.name))", th) }
                let n = f.parameterCount
                let base = th.values.count - n
                var frame = th.frames[th.frames.count - 1]     // (Frame's initializer is the machine's)
                frame.function = fi; frame.returnPC = th.pc; frame.base = Int32(base)
                th.frames.append(frame)
                th.values.append(contentsOf: repeatElement(0, count: f.slotCount - n))
                r.taint.append(contentsOf: repeatElement(EventSet(), count: f.slotCount - n))
                th.pc = 0
                if th.frames.count > 64 { throw unsupported("recursion", th) }
            case .ret:
                let v = th.values.removeLast(), tv = r.taint.removeLast()
                let fr = th.frames[th.frames.count - 1]
                let f = program.functions[Int(fr.function)]
                r.branches.removeAll { $0.depth >= depth }
                r.loops.removeAll { $0.depth >= depth }
                if th.frames.count == 1 {
                    th.status = .finished
                    th.values.removeSubrange((Int(fr.base) + f.slotCount)...)
                    r.taint.removeSubrange((Int(fr.base) + f.slotCount)...)
                } else {
                    th.values.removeSubrange(Int(fr.base)...)
                    r.taint.removeSubrange(Int(fr.base)...)
                    th.frames.removeLast()
                    th.values.append(v); r.taint.append(tv)
                    th.pc = fr.returnPC
                }
            case .threadId: th.values.append(Int64(t)); r.taint.append(EventSet())
            case .check(_, let msg):
                if th.values.removeLast() != 0 { throw unsupported(program.strings[Int(msg)], th) }
                r.taint.removeLast()
            case .fail(_, let msg): throw unsupported(program.strings[Int(msg)], th)
            case .assume:
                r.taint.removeLast()
                if th.values.removeLast() == 0 { return false }
            case .alloc: throw unsupported("allocation", th)
            case .fence(let f):
                try event(LKEvent(kind: .fence, tags: .fence(f), address: 0, value: 0, ctrl: ctrl, location: loc))
            case .read(_, let mode):
                // Choice points come before anything changes: the alternatives restart here.
                if let c = ownStack(r.s, t, th.values[top]) {
                    th.values.removeLast(); r.taint.removeLast()
                    th.values.append(r.s.cells[c]); r.taint.append(r.cellTaint[c] ?? EventSet())
                    break
                }
                // A path that dereferences a value that is no location (a pointer read under a value
                // choice no execution makes, or a NULL) is dropped: herd7 has no such execution.
                guard let c = cellIndex(r.s, th.values[top]) else { r.badPointer = true; return false }
                let v = choose(readChoices(th.values[top], c))
                let a = th.values.removeLast(), ta = r.taint.removeLast()
                try event(LKEvent(kind: .read, tags: .access(mode), address: a, value: v, addr: ta, ctrl: ctrl, location: loc))
                th.values.append(v); r.taint.append(EventSet(r.events.count - 1))
            case .write(_, let mode):
                let v = th.values.removeLast(), tv = r.taint.removeLast()
                let a = th.values.removeLast(), ta = r.taint.removeLast()
                if let c = ownStack(r.s, t, a) { r.s.cells[c] = v; r.cellTaint[c] = tv; break }
                guard cellIndex(r.s, a) != nil else { r.badPointer = true; return false }
                try event(LKEvent(kind: .write, tags: .access(mode), address: a, value: v, addr: ta, data: tv, ctrl: ctrl, location: loc))
            case .rmw(let op, let mode):
                let at = top - (op == .cmpxchg || op == .addUnless ? 2 : 1)
                guard ownStack(r.s, t, th.values[at]) == nil, let c = cellIndex(r.s, th.values[at]) else { throw unsupported("an atomic operation on a register or an invalid pointer", th) }
                let old = choose(readChoices(th.values[at], c))
                var o2: Int64 = 0, t2 = EventSet()
                if op == .cmpxchg || op == .addUnless { o2 = th.values.removeLast(); t2 = r.taint.removeLast() }
                let o1 = th.values.removeLast(), t1 = r.taint.removeLast()
                let a = th.values.removeLast(), ta = r.taint.removeLast()
                var new: Int64? = nil
                var data = t1
                switch op {
                case .xchg: new = o1
                case .cmpxchg: if old == o1 { new = o2 }; data = t2
                case .fetchAdd: new = old &+ o1
                case .fetchAnd: new = old & o1
                case .fetchOr: new = old | o1
                case .fetchXor: new = old ^ o1
                case .fetchAndNot: new = old & ~o1
                case .addUnless: if old != o2 { new = old &+ o1 }
                }
                let tags = LKTags.access(mode).union(.rmw)
                let ri = r.events.count
                try event(LKEvent(kind: .read, tags: tags, address: a, value: old, addr: ta, ctrl: ctrl, location: loc))
                if let new {
                    r.events[ri].partner = Int32(ri + 1)
                    try event(LKEvent(kind: .write, tags: tags, address: a, value: new, addr: ta, data: data, ctrl: ctrl, partner: Int32(ri), location: loc))
                }
                th.values.append(old); r.taint.append(EventSet(ri))
            case .sync(let op):
                switch op {
                case .spinLock, .spinUnlock, .spinTrylock, .spinIsLocked:
                    let choice = op == .spinTrylock || op == .spinIsLocked ? choose([1, 0]) : 0
                    let a = th.values.removeLast(), ta = r.taint.removeLast()
                    guard cellIndex(r.s, a) != nil else { throw unsupported("a lock through an invalid pointer", th) }
                    let ri = r.events.count
                    var result: Int64? = nil
                    switch op {
                    case .spinLock:
                        try lockPair(&r, a, ta, ctrl, loc, th)
                    case .spinUnlock:
                        try event(LKEvent(kind: .write, tags: .ul, address: a, value: 0, addr: ta, ctrl: ctrl, location: loc))
                    case .spinTrylock:
                        // Success (LKR+LKW, returns 1) or failure (LF, returns 0); lock.cat decides.
                        if choice == 1 { try lockPair(&r, a, ta, ctrl, loc, th); result = 1 }
                        else { try event(LKEvent(kind: .read, tags: .lf, address: a, value: 1, addr: ta, ctrl: ctrl, location: loc)); result = 0 }
                    default:
                        let locked = choice
                        try event(LKEvent(kind: .read, tags: locked == 1 ? .rl : .ru, address: a, value: locked, addr: ta, ctrl: ctrl, location: loc))
                        result = locked
                    }
                    if let result { th.values.append(result); r.taint.append(EventSet(ri)) }
                case .rcuReadLock: try event(LKEvent(kind: .fence, tags: .rcuLock, address: 0, value: 0, ctrl: ctrl, location: loc))
                case .rcuReadUnlock: try event(LKEvent(kind: .fence, tags: .rcuUnlock, address: 0, value: 0, ctrl: ctrl, location: loc))
                case .synchronizeRCU: try event(LKEvent(kind: .fence, tags: .syncRcu, address: 0, value: 0, ctrl: ctrl, location: loc))
                case .srcuReadLock:
                    guard let c = cellIndex(r.s, th.values[top]) else { throw unsupported("srcu_read_lock through an invalid pointer", th) }
                    let v = choose(readChoices(th.values[top], c))
                    let a = th.values.removeLast(), ta = r.taint.removeLast()
                    try event(LKEvent(kind: .read, tags: .srcuLock, address: a, value: v, addr: ta, ctrl: ctrl, location: loc))
                    th.values.append(v); r.taint.append(EventSet(r.events.count - 1))
                case .srcuReadUnlock:
                    // The operands: the index under the srcu_struct (see Builtins).
                    let a = th.values.removeLast(), ta = r.taint.removeLast()
                    let v = th.values.removeLast(), tv = r.taint.removeLast()
                    guard cellIndex(r.s, a) != nil else { throw unsupported("srcu_read_unlock through an invalid pointer", th) }
                    try event(LKEvent(kind: .write, tags: .srcuUnlock, address: a, value: v, addr: ta, data: tv, ctrl: ctrl, location: loc))
                case .synchronizeSRCU:
                    let a = th.values.removeLast(), ta = r.taint.removeLast()
                    try event(LKEvent(kind: .fence, tags: .syncSrcu, address: a, value: 0, addr: ta, ctrl: ctrl, location: loc))
                default:
                    throw unsupported(LKThreadRunner.syncName(op), th)
                }
            }
            r.s.threads[t] = th
        }
        return true
    }

    func lockPair(_ r: inout Run, _ a: Int64, _ ta: EventSet, _ ctrl: EventSet, _ loc: Int32, _ th: ThreadState) throws {
        guard r.events.count + 2 <= EventSet.capacity else {
            throw LKMMUnsupported(construct: "more than \(EventSet.capacity) events in a thread", location: loc)
        }
        let ri = r.events.count
        r.events.append(LKEvent(kind: .read, tags: .lkr, address: a, value: 0, addr: ta, ctrl: ctrl, partner: Int32(ri + 1), location: loc))
        r.events.append(LKEvent(kind: .write, tags: .lkw, address: a, value: 1, addr: ta, ctrl: ctrl, partner: Int32(ri), location: loc))
    }

    /// Counts a backward jump to `target` from `from`; false when it is one more than the bound.
    func loop(_ r: inout Run, _ depth: Int, _ target: Int32, _ from: Int32, _ boundHit: inout Bool) -> Bool {
        // Loops nested inside this one start afresh on each of its iterations.
        r.loops.removeAll { $0.depth == depth && $0.target > target && $0.from < from }
        if let k = r.loops.firstIndex(where: { $0.depth == depth && $0.target == target }) {
            r.loops[k].count += 1
            if r.loops[k].count > unroll { boundHit = true; return false }
        } else {
            if unroll < 1 { boundHit = true; return false }
            r.loops.append((depth, target, from, 1))
        }
        return true
    }

    static func syncName(_ op: SyncOp) -> String {
        switch op {
        case .spinUnlockWait: return "spin_unlock_wait"
        case .downRead, .upRead, .downWrite, .upWrite, .downReadTrylock, .downWriteTrylock, .downgradeWrite: return "rw_semaphore operations"
        case .irqDisable, .irqEnable, .irqSave, .irqRestore: return "interrupt disabling"
        case .tlbShootdown: return "tlb_shootdown"
        case .waitOnBit, .waitOnBitLock: return "wait_on_bit"
        case .free, .freePage: return "freeing memory"
        default: return "\(op)"
        }
    }
}
