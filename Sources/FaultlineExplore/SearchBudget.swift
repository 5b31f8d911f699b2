import Foundation
import FaultlineLanguage

/// Why a search ended before it had explored everything it set out to. `rawValue` is the word
/// reports print (`INCOMPLETE (timeout)`, JSON `stop_reason`).
package enum StopReason: String, Sendable, CaseIterable, Codable {
    case timeout = "timeout"
    case maxExecutions = "max-executions"
    case maxMemory = "max-memory"
    /// SIGINT or SIGTERM (`SearchBudget.interrupt`).
    case interrupted = "interrupted"
    /// `ExplorationOptions.stopWhen` said so (`check` on a buggy configuration).
    case expectationMet = "expectation met"
    /// dfs `--preemptions K` skipped schedules.
    case preemptionBound = "preemption-bound"
    /// random and pct: every requested run was made, but sampling is never exhaustive.
    case sampled = "sampled"
    /// axiomatic on a program outside its scope.
    case outOfScope = "out of scope (axiomatic: only loop-free reads, writes, barriers, RCU and SRCU)"
    /// An engine that cannot take the program (LKMM on a construct it does not model).
    case unsupported = "unsupported by this engine"
    /// LKMM: a location had more coherence orders (or locally consistent choices) than the engine
    /// lists (`LKMMCandidates.maxChoicesPerLocation`); the first ones were searched.
    case orderLimit = "order limit (lkmm: over 100,000 coherence choices of one location)"
    /// replay: the schedule ended while threads could still run.
    case scheduleEnded = "schedule ends before the execution does"
}

/// One budget for a whole run, honoured by every strategy and phase: a deadline, a number of
/// executions, resident memory, an early-stop predicate, a progress sink, and interrupts.
///
/// Why a class: every part of one run shares it — the subtrees `--jobs` searches on worker
/// threads draw on one execution count (a global, not a per-subtree, `--max-executions`), a
/// signal handler stops them all, and the phases after the search (shrinking, rendering) see what
/// is left. A strategy calls `finishedExecution()` once per execution and `exhausted()` in any
/// other loop that can run long (set-up, a frontier level, candidate enumeration); both are cheap
/// (a lock, a clock read; memory is sampled at most every `memoryInterval`). Once it has said
/// stop, it says so to every caller: the first reason wins. Every execution it counts goes to the
/// progress sink (the run's total, the most violations a part has found, the expected total), so
/// every strategy has a progress line without code of its own.
///
/// Adopting it in a new strategy: `let budget = options.runBudget()` at the top of `explore`, pass
/// `options` (which then carries it) to anything it calls, `if let r = budget.finishedExecution()
/// { result.complete = false; result.stopReason = r; break }` per execution, and
/// `budget.exhausted()` in set-up loops.
///
/// Unchecked: shared by worker threads by design; the `let`s are Sendable and `lock` guards every
/// `var`.
package final class SearchBudget: @unchecked Sendable {
    /// Monotonic time (`monotonicSeconds`) the run started; the deadline counts from it.
    package let start: Double
    /// When the search must end (nil: no timeout). Shrinking may run on until `shrinkDeadline`.
    package let searchDeadline: Double?
    /// When shrinking must end and rendering begin: the user's deadline.
    package let deadline: Double?
    package let maxExecutions: Int
    /// Resident set size (bytes) the process may reach (nil: unbounded).
    package let maxMemory: Int?
    package let stopWhen: (@Sendable (ExplorationResult) -> Bool)?
    package let progress: ProgressSink?

    /// How often the resident set size is read (seconds): a read of /proc costs microseconds.
    static let memoryInterval = 0.01
    /// How often `exhausted()` reports progress (the sink draws at most twice a second anyway).
    static let progressInterval = 0.25

    private let lock = NSLock()
    private var executions = 0
    private var reason: StopReason?
    private var nextMemoryCheck = 0.0
    private var memoryExceeded = false
    private var violationsSeen = 0
    private var nextProgress = 0.0
    private var expectedTotal: Double? = nil

    /// `timeout` counts from `start` (default: now); the search gets all but the shrinking share
    /// (a tenth of the timeout, at most 0.3 s).
    package init(timeout: Double? = nil, maxExecutions: Int = .max, maxMemory: Int? = nil,
                stopWhen: (@Sendable (ExplorationResult) -> Bool)? = nil, progress: ProgressSink? = nil,
                start: Double = monotonicSeconds()) {
        self.start = start
        self.deadline = timeout.map { start + $0 }
        self.searchDeadline = timeout.map { start + $0 - min(0.3, $0 / 10) }
        self.maxExecutions = maxExecutions
        self.maxMemory = maxMemory
        self.stopWhen = stopWhen
        self.progress = progress
    }

    /// Why the run stopped (nil while it may go on).
    package var stopReason: StopReason? { lock.lock(); defer { lock.unlock() }; return reason }

    /// Executions counted so far, over every part of the run.
    package var executionsUsed: Int { lock.lock(); defer { lock.unlock() }; return executions }

    /// Stops the run (the first reason stays).
    package func stop(_ r: StopReason) {
        lock.lock(); if reason == nil { reason = r }; lock.unlock()
    }

    /// SIGINT/SIGTERM: every part of the run stops at its next check.
    package func interrupt() {
        lock.lock(); reason = .interrupted; lock.unlock()
    }

    /// For the progress line: how many executions the strategy expects the run to count in all
    /// (random, pct: the runs asked for; dfs, dpor: Knuth's estimate of the tree).
    package func expect(total: Double) {
        lock.lock(); expectedTotal = total; lock.unlock()
    }

    /// Counts one finished execution; the reason to stop now, if any (executions, time, memory,
    /// interrupt). `result` is the caller's result so far, for `stopWhen` and the progress line.
    @inline(__always)
    package func finishedExecution(_ result: ExplorationResult? = nil) -> StopReason? {
        lock.lock()
        executions += 1
        if reason == nil && executions >= maxExecutions { reason = .maxExecutions }
        if let v = result?.violations.count, v > violationsSeen { violationsSeen = v }
        let (n, v, e) = (executions, violationsSeen, expectedTotal)
        lock.unlock()
        progress?.report(executions: n, violations: v, estimatedTotal: e)
        if let stopWhen, let result, stopWhen(result) { stop(.expectationMet) }
        return exhausted()
    }

    /// The reason to stop now, if any: time, memory, interrupt, or an earlier stop.
    /// With a progress sink, also a report now and then (a set-up phase that counts no
    /// execution yet still shows it is alive).
    package func exhausted() -> StopReason? {
        lock.lock()
        if reason == nil, let r = overLimit(searchDeadline) { reason = r }
        let r = reason
        var due = false
        if progress != nil {
            let now = monotonicSeconds()
            if now >= nextProgress { nextProgress = now + SearchBudget.progressInterval; due = true }
        }
        let (n, v, e) = (executions, violationsSeen, expectedTotal)
        lock.unlock()
        if due { progress?.report(executions: n, violations: v, estimatedTotal: e) }
        return r
    }

    /// Whether work after the search (shrinking) may go on: not interrupted, not out of memory,
    /// and before the user's deadline. Does not stop the run.
    package var mayContinueAfterSearch: Bool {
        lock.lock(); defer { lock.unlock() }
        if reason == .interrupted || reason == .maxMemory { return false }
        return overLimit(deadline) == nil
    }

    /// Time or memory exceeded (memory read at most every `memoryInterval`). Under the lock.
    private func overLimit(_ d: Double?) -> StopReason? {
        guard d != nil || maxMemory != nil else { return nil }
        let now = monotonicSeconds()
        if let d, now > d { return .timeout }
        if let maxMemory, now >= nextMemoryCheck {
            nextMemoryCheck = now + SearchBudget.memoryInterval
            if residentBytes() > maxMemory { memoryExceeded = true }
        }
        return memoryExceeded ? .maxMemory : nil
    }
}

extension ExplorationOptions {
    /// The run's budget: the one these options carry, or a new one made from their limits (and
    /// then carried by them, so that everything the caller passes them to shares it).
    package mutating func runBudget() -> SearchBudget {
        if let budget { return budget }
        let b = SearchBudget(timeout: timeout, maxExecutions: maxExecutions, maxMemory: maxMemory, stopWhen: stopWhen, progress: progress)
        budget = b
        return b
    }
}

/// The resident set size of this process in bytes (0 if unknown): /proc/self/statm on Linux,
/// the peak (getrusage) elsewhere.
package func residentBytes() -> Int {
    #if os(Linux)
    let fd = open("/proc/self/statm", O_RDONLY)
    if fd >= 0 {
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 128)
        let n = read(fd, &buf, buf.count)
        if n > 0 {
            let fields = buf[0..<n].split(separator: UInt8(ascii: " "))
            if fields.count > 1, let pages = Int(String(decoding: fields[1], as: UTF8.self)) {
                return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
            }
        }
    }
    return 0
    #else
    var u = rusage()
    getrusage(RUSAGE_SELF, &u)
    return Int(u.ru_maxrss)
    #endif
}

/// The default `--max-memory`: half the machine's physical memory.
package func defaultMaxMemory() -> Int { Int(clamping: ProcessInfo.processInfo.physicalMemory / 2) }
