import FaultlineLanguage

/// Bookkeeping for one memory object: where its cells are, what it is, and whether it is live.
public struct ObjectMeta: Sendable {
    public var base: Int32
    public var size: Int32
    /// Storage kind (index into Program.kindNames; 0 = unchecked).
    public var kind: Int32
    public var origin: ObjectOrigin
    public var freed: Bool
    /// Owning thread of a stack frame object (-1 otherwise).
    public var owner: Int16
    /// Where it was allocated and freed (location index, -1 if none).
    public var allocLocation: Int32
    public var freeLocation: Int32
    public var freeThread: Int16
}

/// One activation record of a thread.
public struct Frame: Sendable {
    public var function: Int32
    public var returnPC: Int32
    /// Index of slot 0 in the thread's value stack.
    public var base: Int32
}

/// Why a thread is not running.
public enum ThreadStatus: UInt8, Sendable {
    case running, finished
}

/// A simulated CPU: where it is in its code, its registers and operand stack, and its
/// synchronisation state (IRQs, RCU nesting, what a blocked operation is waiting for).
public struct ThreadState: Sendable {
    public var pc: Int32
    public var status: ThreadStatus = .running
    public var values: [Int64] = []
    public var frames: [Frame] = []
    /// 0: a blocking operation has not started; 1: it registered and now waits.
    public var phase: UInt8 = 0
    public var irqOff = false
    public var rcuDepth: Int32 = 0
    /// Completed outermost RCU read-side sections / IRQ-off sections (grace-period bookkeeping).
    public var rcuExits: Int32 = 0
    public var irqEnables: Int32 = 0
    /// Snapshot taken by a waiting synchronize_rcu / tlb_shootdown / synchronize_srcu:
    /// for each thread, the exit counter it must move past (-1: nothing to wait for).
    public var waitSnapshot: [Int32] = []
    /// The SRCU read-side sections this thread entered that have not ended (`srcu_read_lock`,
    /// `srcu_down_read`; `srcu_up_read` may end one on another CPU).
    public var srcu: [SRCUSection] = []
    /// SRCU sections this thread has entered so far: the next one's serial number.
    public var srcuEntered: Int32 = 0
    public var steps: Int32 = 0
    /// The last step jumped backwards (a loop): its state is a sample for `LoopWatch`.
    public var loopedBack = false

    @inline(__always) public var frameBase: Int { Int(frames[frames.count - 1].base) }
    @inline(__always) public var function: Int { Int(frames[frames.count - 1].function) }
}

/// One SRCU read-side section: its srcu_struct, the index `srcu_read_lock()` returned for it (the
/// smallest one no other open section of its thread and domain has: 0 unless sections overlap,
/// so two overlapping sections are two, ended by their own indices), and its serial number in
/// its thread (a grace period waits, in each thread, for the open sections up to the newest one
/// open when it started).
public struct SRCUSection: Sendable {
    public var domain: Int64
    public var index: Int32
    public var serial: Int32
}

/// A queued RCU callback (`call_rcu`, `kfree_rcu`): what to run, on what, and the grace period
/// it waits for.
public struct RCUCallback: Sendable {
    /// Function index of the callback; -1: kfree the object (`kfree_rcu`).
    public var function: Int32
    public var head: Int64
    /// For each thread, the RCU exit counter it must move past (-1: it was in no section).
    public var snapshot: [Int32]
    /// Happens-before: the queuing thread's clock, joined with the ends of the read-side sections
    /// that ended before `call_rcu` (empty without the data-race check).
    public var clock: [UInt32] = []
}

/// A violated invariant: what, where, which thread, and the facts the report puts into words
/// (the machine builds no text: `FaultlineReport` words every violation).
public struct Violation: Sendable, Equatable, Hashable {
    public var kind: ViolationKind
    public var facts: ViolationFacts
    public var thread: Int        // -1: not a thread (final block, deadlock, leak)
    public var location: Int32    // index into Program.locations, -1 if none
    /// A data race: the other access's location and thread (-1 otherwise).
    public var otherLocation: Int32 = -1
    public var otherThread: Int = -1
    /// Violations of the same execution reported with this one (the leak of an execution whose
    /// `final` block failed).
    public var alsoFound: [Violation] = []

    public init(kind: ViolationKind, facts: ViolationFacts = ViolationFacts(), thread: Int, location: Int32) {
        self.kind = kind
        self.facts = facts
        self.thread = thread
        self.location = location
    }
}

/// Why a violation was raised, beyond its kind (the report words each case).
public enum ViolationCause: String, Sendable, Codable, CaseIterable {
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
public enum AccessKind: String, Sendable, Codable {
    case none, read, write, atomic, lock, rwsem, srcu, waitOnBit = "wait_on_bit", free
}

/// Where a check ran: in a thread, or in the `invariant` or `final` block.
public enum CheckBlock: String, Sendable, Codable {
    case thread, invariant, final
}

/// The facts of one violation: plain values, so raising one allocates nothing.
public struct ViolationFacts: Sendable, Equatable, Hashable, Codable {
    public var cause: ViolationCause = .assertion
    public var access: AccessKind = .none
    /// The address the step used, and the object it lands in (0: none).
    public var address: Int64 = 0
    public var object: Int32 = 0
    /// The other site: where the object was freed, first freed or allocated (-1: none).
    public var site: Int32 = -1
    /// The other thread: who freed it, who holds the lock (-1: none).
    public var siteThread: Int16 = -1
    /// A number the cause speaks of (a cell, a size, a bound), or the storage kind of the access.
    public var count: Int64 = 0
    /// `Program.strings` index of an assertion's text (-1: none).
    public var text: Int32 = -1
    public var block: CheckBlock = .thread

    public init(cause: ViolationCause = .assertion, access: AccessKind = .none, address: Int64 = 0, object: Int32 = 0,
                site: Int32 = -1, siteThread: Int16 = -1, count: Int64 = 0, text: Int32 = -1, block: CheckBlock = .thread) {
        self.cause = cause; self.access = access; self.address = address; self.object = object
        self.site = site; self.siteThread = siteThread; self.count = count; self.text = text; self.block = block
    }

    /// A total order on facts, for the report's order of violations at one location.
    public static func precedes(_ a: ViolationFacts, _ b: ViolationFacts) -> Bool {
        if a.cause != b.cause { return a.cause.rawValue < b.cause.rawValue }
        return (a.object, a.address, a.count, a.text, a.site, a.siteThread) < (b.object, b.address, b.count, b.text, b.site, b.siteThread)
    }
}

/// The whole machine state: memory, threads, and the outcome of the execution so far.
/// A value: the explorer copies it to branch (the arrays are copy-on-write).
public struct State: Sendable {
    public var cells: [Int64]
    public var objects: [ObjectMeta]          // index = object id; 0 is the NULL page
    public var threads: [ThreadState]
    public var violation: Violation?
    public var pruned = false
    /// Steps taken (schedule entries), for `DataRace.step`.
    public var scheduleLength: Int32 = 0
    /// Happens-before clocks (nil when the program has no plain access: no data-race check).
    public var race: RaceClocks? = nil
    /// Data races found so far; they do not end the execution.
    public var dataRaces: [DataRace] = []
    /// Queued RCU callbacks, oldest first (the callback thread runs them in this order).
    public var rcuCallbacks: [RCUCallback] = []
    /// Samples of this execution's states once a thread has looped, to find a state it comes
    /// back to (`Machine.watchForCycle`).
    public var loop: LoopWatch? = nil
    /// The CPUs of an unfair lap (`LoopWatch`): they cannot run until another CPU has taken a step.
    public var yielding: UInt64 = 0

    public var allFinished: Bool { threads.allSatisfy { $0.status == .finished } }
}

/// What one visible step did, for traces.
public struct StepEvent: Sendable {
    public var thread: Int
    public var location: Int32
    public var instr: Instr
    public var address: Int64
    public var value: Int64
    public var result: Int64
    /// A blocking operation that only registered (phase 0 → 1) in this step.
    public var registered: Bool
}
