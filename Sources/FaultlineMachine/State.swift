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
    /// SRCU read-side sections: (domain address, depth, exits).
    public var srcu: [SRCUReader] = []
    public var steps: Int32 = 0

    @inline(__always) public var frameBase: Int { Int(frames[frames.count - 1].base) }
    @inline(__always) public var function: Int { Int(frames[frames.count - 1].function) }
}

/// Per-thread, per-domain SRCU reader state.
public struct SRCUReader: Sendable {
    public var domain: Int64
    public var depth: Int32
    public var exits: Int32
}

/// A violated invariant: what, where, and which thread.
public struct Violation: Sendable, Equatable {
    public var kind: ViolationKind
    public var message: String
    public var thread: Int        // -1: not a thread (final block, deadlock, leak)
    public var location: Int32    // index into Program.locations, -1 if none

    public init(kind: ViolationKind, message: String, thread: Int, location: Int32) {
        self.kind = kind
        self.message = message
        self.thread = thread
        self.location = location
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
