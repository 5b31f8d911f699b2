/// How a memory access is marked in the source: the annotation the kernel's memory model
/// (`linux-kernel.def`) gives it. `mb` is a fully ordered RMW (bare `xchg`, `cmpxchg`,
/// `atomic_*_return`…), `noreturn` the void atomics (`atomic_inc`…). Only the LKMM engine reads it.
package enum AccessMode: UInt8, Sendable {
    case plain, once, acquire, release, rcu, mb, noreturn
    /// Inside `data_race(...)`: an intentional race, never reported (KCSAN ignores it).
    case unchecked
    /// `ASSERT_EXCLUSIVE_WRITER(x)` (a read) and `ASSERT_EXCLUSIVE_ACCESS(x)` (an RMW that
    /// writes nothing new): no value, only the data-race check, against marked accesses too.
    case exclusiveWriter, exclusiveAccess
}

/// The kernel's memory barriers (the `F` events of `linux-kernel.def`). Local no-ops for the
/// machine, which is sequentially consistent; the LKMM engine orders events by them.
package enum Fence: UInt8, Sendable {
    case mb, rmb, wmb, barrier, beforeAtomic, afterAtomic, afterSpinlock, afterUnlockLock, afterSrcuReadUnlock
}

/// Read-modify-write operations; each returns the old value of the cell.
/// Operands are pushed after the address: xchg/fetch*: [v]; cmpxchg: [old, new]; addUnless: [a, u].
package enum RMWOp: UInt8, Sendable {
    case xchg, cmpxchg, fetchAdd, fetchAnd, fetchOr, fetchXor, fetchAndNot, addUnless
}

/// Synchronisation operations. Each is one visible step; some block until they can proceed.
package enum SyncOp: UInt8, Sendable {
    case spinLock, spinUnlock, spinTrylock, spinIsLocked, spinUnlockWait
    case downRead, upRead, downWrite, upWrite, downReadTrylock, downWriteTrylock, downgradeWrite
    case rcuReadLock, rcuReadUnlock, synchronizeRCU
    case srcuReadLock, srcuReadUnlock, synchronizeSRCU
    case irqDisable, irqEnable, irqSave, irqRestore, tlbShootdown
    case waitOnBit, waitOnBitLock
    case free, freePage
    /// `call_rcu(head, fn)` / `kfree_rcu(p, field)`: operands [head, callback function index
    /// (-1: kfree)]. Queues the callback behind a grace period that waits for every read-side
    /// (and IRQs-off) section in progress, the caller's own included.
    case callRCU
    /// The RCU callback thread (`Program.rcuCallbackThread`, the kernel's `rcu_do_batch()`):
    /// blocks until the oldest queued callback's grace period has ended, dequeues it and
    /// pushes [head, function index].
    case rcuCallback
    /// The sleep of `wait_event(wq, cond)`: operands [wq, seq]; blocks until a `wake_up(wq)`
    /// has moved the queue's wake-up count past `seq`, the count read before `cond` was (and
    /// of `smp_cond_load_*(p, cond)`: until `*p` is no longer the value `cond` rejected).
    case waitEventSleep
    /// The sleep of `wait_event_timeout(wq, cond, timeout)`: operands [wq, seq]; never blocks
    /// (time is not modelled, so the timeout may expire at any moment) and pushes 1 when a
    /// `wake_up(wq)` has moved the count past `seq` (woken), 0 when it has not (timed out).
    case waitEventTimeoutSleep
    /// `wait_for_completion(c)`: operand [c]; blocks until `c->done > 0`, then takes one
    /// (`complete_all()` leaves `UINT_MAX`, which is never taken).
    case waitForCompletion

    /// Operations that take an address operand (a lock, a word, an object).
    package var takesAddress: Bool {
        switch self {
        case .rcuReadLock, .rcuReadUnlock, .synchronizeRCU, .irqDisable, .irqEnable, .irqSave, .irqRestore, .tlbShootdown, .rcuCallback: return false
        default: return true
        }
    }
}

/// Kinds of violation the machine and the checkers report. The raw value is the name users see.
package enum ViolationKind: String, Sendable, CaseIterable, Comparable {
    case assertion
    case dataRace = "data-race"
    case deadlock
    case doubleFree = "double-free"
    case leak
    case livelock
    case lockMisuse = "lock-misuse"
    case nullDereference = "null-dereference"
    case outOfBounds = "out-of-bounds"
    case stepBound = "step-bound"
    case typeConfusion = "type-confusion"
    case useAfterFree = "use-after-free"
    case divisionByZero = "division-by-zero"

    package static func < (a: ViolationKind, b: ViolationKind) -> Bool { a.rawValue < b.rawValue }
}

/// One instruction of the register/stack IR. Local instructions run without a scheduling
/// point; `read`, `write`, `rmw` and `sync` are the visible steps.
package enum Instr: Sendable {
    case push(Int64)
    case load(Int32)                 // slot → stack
    case store(Int32)                // stack → slot
    case pop
    case dup
    case neg, not, bitNot
    case binary(BinaryOp)
    case jump(Int32)
    case jumpIfZero(Int32)
    case jumpIfNotZero(Int32)
    case call(Int32)                 // function index; arguments on the stack
    case ret                         // return value on the stack
    case threadId                    // pushes the running thread's index
    case check(ViolationKind, Int32) // pops a condition; non-zero → violation with message string index
    case fail(ViolationKind, Int32)  // unconditional violation (BUG())
    case assume                      // pops a condition; zero → execution pruned
    case alloc(kind: Int32, origin: UInt8) // pops a size in cells; pushes the new object's address
    case print(Int32, Int32)         // pr_cont(format string index, argument count): pops the arguments; text only a formatter collects
    case read(kind: Int32, mode: AccessMode)           // visible: pops address, pushes value
    case write(kind: Int32, mode: AccessMode)          // visible: pops value then address
    case rmw(RMWOp, mode: AccessMode)                  // visible: pops operands then address, pushes old
    case sync(SyncOp)                                   // visible: see SyncOp
    case fence(Fence)                                   // local no-op: a memory barrier

    package var isVisible: Bool {
        switch self {
        case .read, .write, .rmw, .sync: return true
        default: return false
        }
    }
}

/// Where an object came from; decides the leak check and thread-private access.
package enum ObjectOrigin: UInt8, Sendable {
    case global = 0, heap = 1, page = 2, stack = 3
}

/// A compiled function: its code, one source location per instruction, and its frame layout.
package struct Function: Sendable {
    package var name: String
    package var code: [Instr]
    package var locations: [Int32]          // index into Program.locations, one per instruction
    package var parameterCount: Int
    package var slotCount: Int
    /// Cells of the frame object holding address-taken and aggregate locals (0: none).
    package var frameSize: Int
    /// The slot that holds the frame object's address, if frameSize > 0.
    package var frameSlot: Int32
    /// Parameters that live in the frame object: (parameter index, cell offset).
    package var parametersInFrame: [(Int, Int)]
    package var location: SourceLocation
    /// The named locals that live in the frame object, with their cell offsets (for traces).
    package var frameFields: [(name: String, type: CType, offset: Int)] = []
}

/// Where a thread keeps a named register, for `exists (0:r0=…)`.
package enum RegisterHome: Sendable {
    case slot(Int32)
    case frame(Int)
}

/// A shared location from the init block or the thread parameters.
package struct Global: Sendable {
    package var name: String
    package var type: CType
    package var size: Int
    package var kind: Int32
    package var address: Int64
}

/// A location whose final value the outcome histogram records.
package enum OutcomeLocation: Sendable {
    case register(thread: Int, home: RegisterHome?, name: String)
    case memory(address: Int64, name: String, pointerish: Bool)
}

/// A compiled condition over final values (indices into the observed locations).
package indirect enum CompiledCondition: Sendable {
    case equals(Int, ConditionOperand)
    case notEquals(Int, ConditionOperand)
    case and(CompiledCondition, CompiledCondition)
    case or(CompiledCondition, CompiledCondition)
    case not(CompiledCondition)
    case implies(CompiledCondition, CompiledCondition)
    case constant(Bool)

    package func evaluate(_ values: [Int64]) -> Bool {
        switch self {
        case .equals(let i, let v): return values[i] == v.value(values)
        case .notEquals(let i, let v): return values[i] != v.value(values)
        case .and(let a, let b): return a.evaluate(values) && b.evaluate(values)
        case .or(let a, let b): return a.evaluate(values) || b.evaluate(values)
        case .not(let a): return !a.evaluate(values)
        case .implies(let a, let b): return !a.evaluate(values) || b.evaluate(values)
        case .constant(let c): return c
        }
    }
}

package enum ConditionOperand: Sendable {
    case constant(Int64)
    case observed(Int)
    func value(_ values: [Int64]) -> Int64 {
        switch self { case .constant(let c): return c; case .observed(let i): return values[i] }
    }
}

/// The whole compiled race: code, initial memory, what to observe at the end, and the claim.
package struct Program: Sendable {
    package var name: String
    package var file: LitmusFile
    package var functions: [Function]
    package var threadFunctions: [Int]
    package var invariantFunction: Int?
    package var finalFunction: Int?
    package var globals: [Global]
    /// Initial cell values of the globals, object by object (object id = index + 1).
    package var globalCells: [[Int64]]
    /// Initial register values per thread: (slot home, value).
    package var registerInits: [[(RegisterHome, Int64)]]
    package var locations: [SourceLocation]
    package var strings: [String]
    package var kindNames: [String]           // index 0 = "" (unchecked)
    package var observed: [OutcomeLocation]
    package var claim: Claim?
    package var claimCondition: CompiledCondition?
    package var filterCondition: CompiledCondition?
    package var programHash: UInt64
    package var threadRegisters: [[String: RegisterHome]]
    /// The type an allocation site (location index of its `alloc`) creates, when the source says
    /// it (`alloc_page(pte_t)`, `spinlock_t *l = kzalloc(...)`, `kmalloc(sizeof(struct foo))`).
    package var allocationTypes: [Int32: CType] = [:]
    /// Which cells can keep an object reachable, for the leak check.
    package var referenceCells = ReferenceCells()

    /// The thread that runs RCU callbacks (`call_rcu`, `kfree_rcu`), after the file's threads;
    /// nil when the program queues none.
    package var rcuCallbackThread: Int? = nil

    package var threadCount: Int { threadFunctions.count }
}

/// Which memory cells hold references, for the leak check: a cell of pointer type, or of a
/// page-table entry type (a typedef'd scalar that pages are allocated as, `alloc_page(pte_t)`,
/// whose frame number sits above the flags), keeps the object it names reachable; an integer
/// that happens to equal an address does not. An object whose type is not known (a kmalloc
/// whose type the source does not say) counts every cell as a possible reference.
package struct ReferenceCells: Sendable {
    /// Per global (object id - 1), per cell.
    package var globals: [[Bool]] = []
    /// Per page kind (index into `Program.kindNames`), the cells of one page.
    package var pageKinds: [[Bool]] = []
    /// Per allocation site whose type is known (`Program.allocationTypes`), the type's cells
    /// (repeated over the object).
    package var allocations: [Int32: [Bool]] = [:]
    package init() {}
}

/// Addresses: object id in the bits above `cellBits`, cell offset below.
package enum Address {
    package static let cellBits: Int64 = 12
    package static let cellMask: Int64 = (1 << cellBits) - 1
    @inline(__always) package static func object(_ a: Int64) -> Int { Int(a >> cellBits) }
    @inline(__always) package static func offset(_ a: Int64) -> Int { Int(a & cellMask) }
    @inline(__always) package static func make(object: Int, offset: Int) -> Int64 { (Int64(object) << cellBits) + Int64(offset) }
    package static let pageCells = 8
}
