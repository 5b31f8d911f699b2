import FaultlineLanguage

/// Bookkeeping for one memory object: where its cells are, what it is, and whether it is live.
package struct ObjectMeta: Sendable {
    package var base: Int32
    package var size: Int32
    /// Storage kind (index into Program.kindNames; 0 = unchecked).
    package var kind: Int32
    package var origin: ObjectOrigin
    package var freed: Bool
    /// Owning thread of a stack frame object (-1 otherwise).
    package var owner: Int16
    /// Where it was allocated and freed (location index, -1 if none).
    package var allocLocation: Int32
    package var freeLocation: Int32
    package var freeThread: Int16
}

/// One activation record of a thread.
package struct Frame: Sendable {
    package var function: Int32
    package var returnPC: Int32
    /// Index of slot 0 in the thread's value stack.
    package var base: Int32
}

/// Why a thread is not running.
package enum ThreadStatus: UInt8, Sendable {
    case running, finished
}

/// A simulated CPU: where it is in its code, its registers and operand stack, and its
/// synchronisation state (IRQs, RCU nesting, what a blocked operation is waiting for).
package struct ThreadState: Sendable {
    package var pc: Int32
    package var status: ThreadStatus = .running
    package var values: [Int64] = []
    package var frames: [Frame] = []
    /// 0: a blocking operation has not started; 1: it registered and now waits.
    package var phase: UInt8 = 0
    package var irqOff = false
    package var rcuDepth: Int32 = 0
    /// Completed outermost RCU read-side sections / IRQ-off sections (grace-period bookkeeping).
    package var rcuExits: Int32 = 0
    package var irqEnables: Int32 = 0
    /// Snapshot taken by a waiting synchronize_rcu / tlb_shootdown / synchronize_srcu:
    /// for each thread, the exit counter it must move past (-1: nothing to wait for).
    package var waitSnapshot: [Int32] = []
    /// The SRCU read-side sections this thread entered that have not ended (`srcu_read_lock`,
    /// `srcu_down_read`; `srcu_up_read` may end one on another CPU).
    package var srcu: [SRCUSection] = []
    /// SRCU sections this thread has entered so far: the next one's serial number.
    package var srcuEntered: Int32 = 0
    package var steps: Int32 = 0
    /// The last step jumped backwards (a loop): its state is a sample for `LoopWatch`.
    package var loopedBack = false

    @inline(__always) package var frameBase: Int { Int(frames[frames.count - 1].base) }
    @inline(__always) package var function: Int { Int(frames[frames.count - 1].function) }
}

/// One SRCU read-side section: its srcu_struct, the index `srcu_read_lock()` returned for it (the
/// smallest one no other open section of its thread and domain has: 0 unless sections overlap,
/// so two overlapping sections are two, ended by their own indices), and its serial number in
/// its thread (a grace period waits, in each thread, for the open sections up to the newest one
/// open when it started).
package struct SRCUSection: Sendable {
    package var domain: Int64
    package var index: Int32
    package var serial: Int32
}

/// A queued RCU callback (`call_rcu`, `kfree_rcu`): what to run, on what, and the grace period
/// it waits for.
package struct RCUCallback: Sendable {
    /// Function index of the callback; -1: kfree the object (`kfree_rcu`).
    package var function: Int32
    package var head: Int64
    /// For each thread, the RCU exit counter it must move past (-1: it was in no section).
    package var snapshot: [Int32]
    /// Happens-before: the queuing thread's clock, joined with the ends of the read-side sections
    /// that ended before `call_rcu` (empty without the data-race check).
    package var clock: [UInt32] = []
}

/// A violated invariant: what, where, which thread, and the facts the report puts into words
/// (the machine builds no text: `FaultlineReport` words every violation).
package struct Violation: Sendable, Equatable, Hashable {
    package var kind: ViolationKind
    package var facts: ViolationFacts
    package var thread: Int        // -1: not a thread (final block, deadlock, leak)
    package var location: Int32    // index into Program.locations, -1 if none
    /// A data race: the other access's location and thread (-1 otherwise).
    package var otherLocation: Int32 = -1
    package var otherThread: Int = -1
    /// Violations of the same execution reported with this one (the leak of an execution whose
    /// `final` block failed).
    package var alsoFound: [Violation] = []

    package init(kind: ViolationKind, facts: ViolationFacts = ViolationFacts(), thread: Int, location: Int32) {
        self.kind = kind
        self.facts = facts
        self.thread = thread
        self.location = location
    }
}

/// Why a violation was raised, beyond its kind (the report words each case).
package enum ViolationCause: String, Sendable, Codable, CaseIterable {
    case assertion             // BUG_ON & co: `text` is the condition
    case nullPointer           // access to the NULL page
    case wildPointer           // address of no object
    case afterFree             // `object` was freed (by `siteThread` at `site`)
    case pastEnd               // cell `count` of `object`
    case wrongType             // a `kind` access lands in a page of another type
    case divisionByZero
    case badAllocationSize     // `count` cells
    case outOfCells            // an allocation of `count` cells past the machine's `Machine.maxCells`
    case invalidFree           // free of `address`, which names no object
    case freedTwice            // first by `siteThread` at `site`
    case freeNotAllocated      // a global, a stack object or an interior pointer
    case unlockNotLocked
    case upReadWithoutReader
    case upWriteNotHeld        // `siteThread` holds it for write (-1: nobody)
    case downgradeNotHeld
    case rcuUnlockWithoutLock
    case synchronizeInsideRCU
    case synchronizeInsideSRCU
    case srcuUnlockWithoutLock
    case blockingInBlock       // a blocking operation in the invariant/final block
    case blockTooLong
    case stepBound             // more than `count` visible steps
    case localLoop             // `count` local instructions without a visible one
    case callDepth
    case deadlock              // no thread can run (the report reads the waits off the state)
    case leak                  // `object`, allocated at `site`, is unreachable
    case dataRace              // with the access at `site` by `siteThread`; `text`: DataRace.describe bits
    case livelock              // a lap of `count` steps back to the same state; `address`: the CPUs that step in it (bit i = Pi)
}

/// The access a violating step was making.
package enum AccessKind: String, Sendable, Codable {
    case none, read, write, atomic, lock, rwsem, srcu, waitOnBit = "wait_on_bit", free
}

/// Where a check ran: in a thread, or in the `invariant` or `final` block.
package enum CheckBlock: String, Sendable, Codable {
    case thread, invariant, final
}

/// The facts of one violation: plain values, so raising one allocates nothing.
package struct ViolationFacts: Sendable, Equatable, Hashable, Codable {
    package var cause: ViolationCause = .assertion
    package var access: AccessKind = .none
    /// The address the step used, and the object it lands in (0: none).
    package var address: Int64 = 0
    package var object: Int32 = 0
    /// The other site: where the object was freed, first freed or allocated (-1: none).
    package var site: Int32 = -1
    /// The other thread: who freed it, who holds the lock (-1: none).
    package var siteThread: Int16 = -1
    /// A number the cause speaks of (a cell, a size, a bound), or the storage kind of the access.
    package var count: Int64 = 0
    /// `Program.strings` index of an assertion's text (-1: none).
    package var text: Int32 = -1
    package var block: CheckBlock = .thread

    package init(cause: ViolationCause = .assertion, access: AccessKind = .none, address: Int64 = 0, object: Int32 = 0,
                site: Int32 = -1, siteThread: Int16 = -1, count: Int64 = 0, text: Int32 = -1, block: CheckBlock = .thread) {
        self.cause = cause; self.access = access; self.address = address; self.object = object
        self.site = site; self.siteThread = siteThread; self.count = count; self.text = text; self.block = block
    }

    /// A total order on facts, for the report's order of violations at one location.
    package static func precedes(_ a: ViolationFacts, _ b: ViolationFacts) -> Bool {
        if a.cause != b.cause { return a.cause.rawValue < b.cause.rawValue }
        return (a.object, a.address, a.count, a.text, a.site, a.siteThread) < (b.object, b.address, b.count, b.text, b.site, b.siteThread)
    }
}

/// The whole machine state: memory, threads, and the outcome of the execution so far.
/// A value: the explorer copies it to branch (the arrays are copy-on-write).
package struct State: Sendable {
    package var cells: [Int64]
    package var objects: [ObjectMeta]          // index = object id; 0 is the NULL page
    package var threads: [ThreadState]
    package var violation: Violation? { didSet { hasViolation = violation != nil } }
    /// Whether `violation` is set. The interpreter's loops test this flag: testing the optional
    /// itself goes through `Violation`'s value witnesses (it holds an array), every instruction.
    package private(set) var hasViolation = false
    package var pruned = false
    /// Steps taken (schedule entries), for `DataRace.step`.
    package var scheduleLength: Int32 = 0
    /// Happens-before clocks (nil when the program has no plain access: no data-race check).
    package var race: RaceClocks? = nil
    /// Data races found so far; they do not end the execution.
    package var dataRaces: [DataRace] = []
    /// Queued RCU callbacks, oldest first (the callback thread runs them in this order).
    package var rcuCallbacks: [RCUCallback] = []
    /// Samples of this execution's states once a thread has looped, to find a state it comes
    /// back to (`Machine.watchForCycle`).
    package var loop: LoopWatch? = nil
    /// The CPUs of an unfair lap (`LoopWatch`): they cannot run until another CPU has taken a step.
    package var yielding: UInt64 = 0
    /// The threads changed since this was last cleared (bit i: thread i): the stepped ones, one
    /// another's step woke or ended an SRCU section of, one halted (`haltViolatingThread`). dpor's
    /// state pool copies only those threads when it refills a state from its parent
    /// (`StatePool`). Not part of the state's value: `assign` leaves it.
    package var changedThreads: UInt64 = 0
    /// The blocks of cells (`Machine.cellBlockShift`) whose value or data-race shadow the machine
    /// changed since this was last cleared, allocated cells included: the pool copies only those
    /// (and any difference in length). Not part of the state's value either.
    package var writtenBlocks: UInt64 = 0

    package var allFinished: Bool { threads.allSatisfy { $0.status == .finished } }

    /// A state with nothing in it, to `assign` a state to (`StatePool`).
    package static func blank() -> State { State(cells: [], objects: [], threads: []) }

    /// Makes this state a copy of `other` in its own buffers: what a copy-on-write copy would
    /// hold, without allocating once the buffers are big enough and this state's own. dpor keeps one state per depth
    /// and refills it for every step (`StatePool`), so a step neither allocates nor retains.
    /// Every stored property is copied here (`StateTests.testAssignCopiesEveryField` lists them).
    /// `threadsDiffer`: the threads whose state may differ from `other`'s (the others' are known
    /// to be equal, and are left alone).
    /// `cellsDiffer`: likewise the blocks of cells (of `1 << blockShift` cells each) whose values
    /// or shadow may differ. Returns the blocks whose cells it added or dropped (a difference in
    /// length), which a state assigned from this one must then copy.
    @discardableResult
    package mutating func assign(_ other: UnsafePointer<State>, threadsDiffer: UInt64 = ~0, cellsDiffer: UInt64 = ~0, blockShift: Int = 0) -> UInt64 {
        var blocks = cellsDiffer
        // The source's arrays are read through their addresses (`Array.elements`): reading one
        // through the pointer as a value would retain its buffer for the copy.
        let resized = cells.overwrite(with: Array.elements(other.pointer(to: \.cells)!), blocks: blocks, blockLength: 1 << blockShift)
        objects.overwrite(with: Array.elements(other.pointer(to: \.objects)!))
        // A buffer shared with another state is copied once here (written in place, it becomes
        // this state's own), so states refilled this way never share one.
        var differ = threadsDiffer
        if threads.count != other.pointee.threads.count {
            threads = [ThreadState](repeating: ThreadState(pc: 0), count: other.pointee.threads.count)
            differ = ~0
        }
        let src = Array.elements(other.pointer(to: \.threads)!)
        threads.withUnsafeMutableBufferPointer { to in
            for i in 0..<to.count where (differ >> UInt64(i)) & 1 == 1 { to[i].assign(src.baseAddress! + i) }
        }
        if hasViolation || other.pointee.hasViolation { violation = other.pointee.violation }
        pruned = other.pointee.pruned
        scheduleLength = other.pointee.scheduleLength
        // Optional fields are read through `?.` (binding the optional would copy, and retain, it all).
        if let n = other.pointee.race?.n {
            if race?.n != n { race = RaceClocks(threads: n, cells: 0); blocks = ~0 }
            let source = UnsafeMutablePointer(mutating: other)     // only read: the optional's payload has no key path
            race!.clocks.overwrite(with: withUnsafePointer(to: &source.pointee.race!.clocks) { Array.elements($0) })
            let stride = race!.stride
            _ = race!.shadow.overwrite(with: withUnsafePointer(to: &source.pointee.race!.shadow) { Array.elements($0) }, blocks: blocks, blockLength: stride << blockShift)
        } else { race = nil }
        if !dataRaces.isEmpty || !other.pointee.dataRaces.isEmpty { dataRaces.overwrite(with: Array.elements(other.pointer(to: \.dataRaces)!)) }
        if !rcuCallbacks.isEmpty || !other.pointee.rcuCallbacks.isEmpty { rcuCallbacks.overwrite(with: Array.elements(other.pointer(to: \.rcuCallbacks)!)) }
        if let newest = other.pointee.loop?.newest {
            if loop == nil { loop = LoopWatch() }
            other.pointee.loop!.samples.withUnsafeBufferPointer { loop!.samples.overwrite(with: $0) }
            loop!.newest = newest; loop!.count = other.pointee.loop!.count
            loop!.steppers = other.pointee.loop!.steppers; loop!.enabled = other.pointee.loop!.enabled
        } else { loop = nil }
        yielding = other.pointee.yielding
        return resized
    }
}

extension ThreadState {
    /// This thread's state made a copy of `other` in its own buffers (see `State.assign`).
    package mutating func assign(_ other: UnsafePointer<ThreadState>) {
        pc = other.pointee.pc
        status = other.pointee.status
        values.overwrite(with: Array.elements(other.pointer(to: \.values)!))
        frames.overwrite(with: Array.elements(other.pointer(to: \.frames)!))
        phase = other.pointee.phase
        irqOff = other.pointee.irqOff
        rcuDepth = other.pointee.rcuDepth
        rcuExits = other.pointee.rcuExits
        irqEnables = other.pointee.irqEnables
        if !waitSnapshot.isEmpty || !other.pointee.waitSnapshot.isEmpty { waitSnapshot.overwrite(with: Array.elements(other.pointer(to: \.waitSnapshot)!)) }
        if !srcu.isEmpty || !other.pointee.srcu.isEmpty { srcu.overwrite(with: Array.elements(other.pointer(to: \.srcu)!)) }
        srcuEntered = other.pointee.srcuEntered
        steps = other.pointee.steps
        loopedBack = other.pointee.loopedBack
    }
}

extension Array {
    /// The elements of the array at `array`, which the caller keeps alive and unchanged while it
    /// uses them (a pooled state's: `State.assign`). `withUnsafeBufferPointer` on an array read
    /// through a pointer retains its buffer for the call; reading its address only does not.
    @inline(__always)
    static func elements(_ array: UnsafePointer<[Element]>) -> UnsafeBufferPointer<Element> {
        array.pointee.withUnsafeBufferPointer { $0 }
    }

    /// Replaces the elements with `other`'s, in this array's buffer when it is unique and big enough.
    @inline(__always)
    mutating func overwrite(with other: [Element]) {
        other.withUnsafeBufferPointer { overwrite(with: $0) }
    }

    /// The same from a buffer (no reference to the source array is held: no retain).
    @inline(__always)
    mutating func overwrite(with other: UnsafeBufferPointer<Element>) {
        let n = other.count
        // The elements both have are written over; the rest is dropped or appended (a stack
        // that is a few values deeper or shallower: `removeAll` and a whole `append` cost more).
        var common = count
        if count > n {
            if count - n <= 4 { while count > n { removeLast() } } else { removeLast(count - n) }
            common = n
        } else if count < n {
            // Room for what another state at this depth may hold (a thread that is still running
            // where this one had finished, an object more).
            if capacity < n { reserveCapacity(n + n / 2 + 16) }
            append(contentsOf: UnsafeBufferPointer(rebasing: other[count...]))
        }
        guard common > 0 else { return }
        withUnsafeMutableBufferPointer { to in to.baseAddress!.update(from: other.baseAddress!, count: common) }
    }
}

extension Array {
    /// `overwrite(with:)` that copies, of the elements both arrays have, only the 64 blocks of
    /// `blockLength` elements in `blocks` (bit b: elements from b × `blockLength`; the last block
    /// runs to the end): the caller knows the others are equal. Returns the blocks of the elements
    /// it dropped or appended.
    @inline(__always)
    mutating func overwrite(with other: UnsafeBufferPointer<Element>, blocks: UInt64, blockLength: Int) -> UInt64 {
        let old = count, n = other.count
        guard blocks != ~0 else {
            overwrite(with: other)
            return old == n ? 0 : Array.blocks(Swift.min(old, n), Swift.max(old, n), blockLength)
        }
        let common = Swift.min(old, n)
        if old > n {
            if old - n <= 4 { while count > n { removeLast() } } else { removeLast(old - n) }
        } else if old < n {
            if capacity < n { reserveCapacity(n + n / 2 + 16) }
            append(contentsOf: UnsafeBufferPointer(rebasing: other[old...]))
        }
        var m = blocks
        if m != 0 && common > 0 {
            withUnsafeMutableBufferPointer { to in
                while m != 0 {
                    // A run of neighbouring blocks is one copy.
                    let first = m.trailingZeroBitCount
                    let run = (~(m >> UInt64(first))).trailingZeroBitCount
                    let lo = first * blockLength
                    if lo >= common { break }
                    let hi = first + run >= 64 ? common : Swift.min(common, (first + run) * blockLength)
                    (to.baseAddress! + lo).update(from: other.baseAddress! + lo, count: hi - lo)
                    m = first + run >= 64 ? 0 : m & (~0 << UInt64(first + run))
                }
            }
        }
        return old == n ? 0 : Array.blocks(common, Swift.max(old, n), blockLength)
    }

    /// The blocks of `blockLength` elements that elements `first..<end` (not empty) lie in.
    @inline(__always)
    static func blocks(_ first: Int, _ end: Int, _ blockLength: Int) -> UInt64 {
        let lo = Swift.min(63, first / blockLength), hi = Swift.min(63, (end - 1) / blockLength)
        return (~0 >> UInt64(63 - hi)) & (~0 << UInt64(lo))
    }
}

/// What one visible step did, for traces.
package struct StepEvent: Sendable {
    package var thread: Int
    package var location: Int32
    package var instr: Instr
    package var address: Int64
    package var value: Int64
    package var result: Int64
    /// A blocking operation that only registered (phase 0 → 1) in this step.
    package var registered: Bool
}
