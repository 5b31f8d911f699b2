import Foundation
import FaultlineLanguage
import FaultlineExplore

/// One line redrawn in place on stderr, at most twice a second — only when stderr is a
/// terminal (nothing in logs or CI) — and never wider than the terminal: a line that wraps
/// cannot be redrawn in place. `explore`'s and `check`'s progress lines draw on it.
/// Unchecked: worker threads redraw it; `lock` guards the time and state of the last draw, and
/// `columns`/`write` are only called under it.
final class TerminalLine: @unchecked Sendable {
    private let lock = NSLock()
    private let columns: () -> Int
    private let write: (String) -> Void
    private var lastDraw = monotonicSeconds()
    private var drawn = false

    /// The widest a line may be on `columns` columns (the last one is left free).
    static func width(_ columns: Int) -> Int { max(1, columns - 1) }

    init(columns: @escaping () -> Int, write: @escaping (String) -> Void) {
        self.columns = columns
        self.write = write
    }

    /// A line on stderr when stderr is a terminal and output is not captured, else nil.
    static func make(_ output: Output) -> TerminalLine? {
        guard output.streaming, isatty(STDERR_FILENO) == 1 else { return nil }
        return TerminalLine(columns: { CLI.terminalColumns() ?? 80 }, write: { Output.writeAll(STDERR_FILENO, $0) })
    }

    /// Redraws the line with `text(width)` if half a second has passed since the last draw (the
    /// first draw waits half a second too: a quick run shows none).
    func redraw(_ text: (Int) -> String) {
        let now = monotonicSeconds()
        lock.lock(); defer { lock.unlock() }
        guard now - lastDraw >= 0.5 else { return }
        lastDraw = now
        let w = TerminalLine.width(columns())
        write("\r\u{1B}[K" + TerminalLine.fit(text(w), w))
        drawn = true
    }

    /// Clears the line (before a report is printed).
    func finish() {
        lock.lock(); defer { lock.unlock() }
        if drawn { write("\r\u{1B}[K"); drawn = false }
    }

    /// `text` cut to `width` characters, ending in `…` when cut.
    static func fit(_ text: String, _ width: Int) -> String {
        text.count <= width ? text : String(text.prefix(max(0, width - 1))) + "…"
    }

    /// `label` then `rest` in `width` characters: the label loses its start first (`…/B1.litmus`),
    /// so the numbers stay.
    static func fit(label: String, _ rest: String, _ width: Int) -> String {
        if label.count + rest.count <= width { return label + rest }
        let room = width - rest.count - 1
        if room >= 8 { return "…" + label.suffix(room) + rest }
        return fit(label + rest, width)
    }
}

/// The progress line of one search (`explore`, every strategy): the run's executions (bfs:
/// states expanded), their rate, violations found so far and, when the strategy can tell
/// (random and pct: the runs asked for; dfs and dpor: Knuth's estimate of the tree), how many
/// seem left. Fed by the run's `SearchBudget` at every execution it counts.
final class ProgressLine: ProgressSink, Sendable {
    private let line: TerminalLine
    private let label: String
    private let unit: String
    private let start = monotonicSeconds()

    init(label: String, unit: String = "executions", line: TerminalLine) {
        self.label = label
        self.unit = unit
        self.line = line
    }

    /// A progress line when stderr is a terminal and output is not captured, else nil.
    static func make(label: String, unit: String = "executions", output: Output) -> ProgressLine? {
        TerminalLine.make(output).map { ProgressLine(label: label, unit: unit, line: $0) }
    }

    func report(executions n: Int, violations v: Int, estimatedTotal e: Double?) {
        line.redraw { w in
            ProgressLine.text(label: label, unit: unit, executions: n, seconds: monotonicSeconds() - start, violations: v, estimatedTotal: e, width: w)
        }
    }

    /// The line's text in at most `width` characters.
    /// What does not fit goes first: the label's start (down to 12 characters), then the
    /// estimate, then the rate; the count and the violations stay.
    static func text(label: String, unit: String, executions n: Int, seconds: Double, violations v: Int, estimatedTotal e: Double?,
                     width: Int) -> String {
        let count = ": \(n) \(unit)", found = ", \(v) violation\(v == 1 ? "" : "s")"
        let rate = ", \(Int(Double(n) / max(seconds, 1e-3)))/s"
        let left = e.flatMap { $0 >= Double(n) ? String(format: ", ~%.2g left", $0 - Double(n)) : nil } ?? ""
        for rest in [count + rate + found + left, count + rate + found, count + found] where min(label.count, 12) + rest.count <= width {
            return TerminalLine.fit(label: label, rest, width)
        }
        // Narrower still: what is left of the label, then none (the numbers, cut last).
        let room = width - count.count - found.count - 1
        if room >= 1 { return "…" + label.suffix(room) + count + found }
        return TerminalLine.fit(String((count + found).dropFirst(2)), width)
    }

    /// Clears the line before the report is printed.
    func finish() { line.finish() }
}

/// `check`'s progress line: configurations done of all, and the executions of each one running
/// (`check 12/89 · B1-pmd-alloc-into-thp -DFIX_HUGE_PUD_RACE: 3200 executions, 14 s`).
/// Unchecked: the configurations run on worker threads; `lock` guards every `var`.
final class CheckProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let line: TerminalLine
    private let total: Int
    private var done = 0
    /// The configurations running, in the order they began, with their executions so far.
    private var running: [(sink: Running, executions: Int)] = []
    private var nextID = 0

    /// One configuration's search: a sink for its budget (its count lives in `running`).
    final class Running: ProgressSink, Sendable {
        let id: Int
        let label: String
        let start = monotonicSeconds()
        let parent: CheckProgress
        init(id: Int, label: String, parent: CheckProgress) { self.id = id; self.label = label; self.parent = parent }
        func report(executions n: Int, violations: Int, estimatedTotal: Double?) { parent.update(self, executions: n) }
    }

    init(total: Int, line: TerminalLine) {
        self.total = total
        self.line = line
    }

    static func make(total: Int, output: Output) -> CheckProgress? {
        TerminalLine.make(output).map { CheckProgress(total: total, line: $0) }
    }

    /// A configuration starts: its sink.
    func begin(_ label: String) -> Running {
        lock.lock(); defer { lock.unlock() }
        let r = Running(id: nextID, label: label, parent: self)
        nextID += 1
        running.append((r, 0))
        return r
    }

    /// A configuration is done (`nil`: one that never started a search).
    func end(_ r: Running?) {
        lock.lock()
        done += 1
        if let r { running.removeAll { $0.sink.id == r.id } }
        lock.unlock()
        draw()
    }

    func update(_ r: Running, executions n: Int) {
        lock.lock()
        if let i = running.firstIndex(where: { $0.sink.id == r.id }) { running[i].executions = n }
        lock.unlock()
        draw()
    }

    private func draw() {
        line.redraw { w in
            lock.lock(); defer { lock.unlock() }
            return CheckProgress.text(done: done, total: total, running: running.map { ($0.sink.label, $0.executions, monotonicSeconds() - $0.sink.start) }, width: w)
        }
    }

    static func text(done: Int, total: Int, running: [(label: String, executions: Int, seconds: Double)], width: Int) -> String {
        var s = "check \(done)/\(total)"
        for r in running { s += " · \(r.label): \(r.executions) executions, \(Int(r.seconds)) s" }
        return TerminalLine.fit(s, width)
    }

    /// Clears the line before the table is printed.
    func finish() { line.finish() }
}
