import Foundation
import Dispatch
import FaultlineExplore

/// SIGINT and SIGTERM stop the running searches instead of killing the process: every budget
/// registered here is interrupted, so each search ends at its next check and the command prints
/// (and writes) the partial report, then exits 130 or 143. A second signal exits at once.
/// Installed only by the real process (`Output.streaming`); tests call `interrupt` directly.
/// Unchecked: the signal handler runs on a Dispatch queue while searches register; `lock` guards
/// every `var`.
final class Interrupts: @unchecked Sendable {
    static let shared = Interrupts()

    private let lock = NSLock()
    private var budgets: [ObjectIdentifier: SearchBudget] = [:]
    private var received: Int32 = 0
    private var sources: [DispatchSourceSignal] = []

    /// The signal received so far (0: none).
    var signal: Int32 { lock.lock(); defer { lock.unlock() }; return received }

    /// Turns SIGINT/SIGTERM into `interrupt` (idempotent).
    func install() {
        lock.lock(); defer { lock.unlock() }
        guard sources.isEmpty else { return }
        for sig in [SIGINT, SIGTERM] {
            Foundation.signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: DispatchQueue.global())
            s.setEventHandler { [unowned self] in self.interrupt(sig) }
            s.resume()
            sources.append(s)
        }
    }

    /// Stops every registered search; the second signal ends the process.
    func interrupt(_ sig: Int32) {
        lock.lock()
        let again = received != 0
        if !again { received = sig }
        let all = Array(budgets.values)
        lock.unlock()
        if again { exit(128 + sig) }
        for b in all { b.interrupt() }
    }

    /// Registers a budget for the duration of `body`; interrupted at once if a signal came first.
    func during<T>(_ budget: SearchBudget, _ body: () throws -> T) rethrows -> T {
        lock.lock()
        budgets[ObjectIdentifier(budget)] = budget
        let sig = received
        lock.unlock()
        if sig != 0 { budget.interrupt() }
        defer { lock.lock(); budgets[ObjectIdentifier(budget)] = nil; lock.unlock() }
        return try body()
    }

    /// The exit code for an interrupted command (130 for SIGINT, 143 for SIGTERM).
    static func exitCode(_ sig: Int32) -> Int32 { 128 + sig }
}
