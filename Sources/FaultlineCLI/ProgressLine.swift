import Foundation
import FaultlineLanguage
import FaultlineExplore

/// The progress line `explore` keeps on stderr while it searches — only when stderr is a
/// terminal (nothing in logs or CI): executions, rate, violations found so far and, when the
/// strategy can estimate the size of its tree (Knuth's estimator), how much seems to be left.
final class ProgressLine: ProgressSink, @unchecked Sendable {
    private let lock = NSLock()
    private let label: String
    private let start = monotonicSeconds()
    private var executions = 0
    private var violations = 0
    private var estimate: Double? = nil
    private var lastDraw = 0.0
    private var drawn = false

    init(label: String) { self.label = label }

    /// A progress line when stderr is a terminal and output is not captured, else nil.
    static func make(label: String, output: Output) -> ProgressLine? {
        guard output.streaming, isatty(STDERR_FILENO) == 1 else { return nil }
        return ProgressLine(label: label)
    }

    func report(executions n: Int, violations v: Int, estimatedTotal: Double?) {
        lock.lock(); defer { lock.unlock() }
        executions += n
        violations = max(violations, v)
        if let e = estimatedTotal { estimate = e }
        let now = monotonicSeconds()
        guard now - lastDraw >= 0.5 else { return }
        lastDraw = now
        let elapsed = now - start
        var line = "\(label): \(executions) executions, \(Int(Double(executions) / max(elapsed, 1e-3)))/s, \(violations) violation\(violations == 1 ? "" : "s")"
        if let e = estimate, e >= Double(executions) {
            let left = e - Double(executions)
            line += String(format: ", ~%.2g left (estimate)", left)
        }
        // Never wider than the terminal: a wrapped line cannot be redrawn in place.
        if let cols = CLI.terminalColumns(), line.count > cols - 1 { line = String(line.prefix(max(1, cols - 2))) + "…" }
        Output.writeAll(STDERR_FILENO, "\r\u{1B}[K" + line)
        drawn = true
    }

    /// Clears the line before the report is printed.
    func finish() {
        lock.lock(); defer { lock.unlock() }
        if drawn { Output.writeAll(STDERR_FILENO, "\r\u{1B}[K") }
    }
}
