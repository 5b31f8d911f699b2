import XCTest
import Foundation
@testable import FaultlineCLI

/// The progress line (issue 12 item 5): every strategy and `check` draw one on a terminal, never
/// wider than the terminal; nothing when stderr is not a terminal.
final class ProgressTests: CLITestCase {
    /// 12 threads reading and writing two locations, with an expectation for `check`: far more
    /// executions than fit in a second, under a long path.
    func bigRace() -> String {
        let threads = (0..<12).map { "P\($0)(int *x, int *y) { int r0 = READ_ONCE(*x); WRITE_ONCE(*y, r0); WRITE_ONCE(*x, \($0)); }\n" }.joined()
        return write("a-directory-name-long-enough-to-need-cutting/twelve-cpus.litmus",
                     "C twelve-cpus\n(* Expect: - => never *)\n{ int x = 0; int y = 0; }\n" + threads + "exists (x=1)\n")
    }

    /// The lines a terminal shows: what is between carriage returns and newlines, without the
    /// erase-line sequence.
    func lines(_ terminal: String) -> [String] {
        terminal.replacingOccurrences(of: "\u{1B}[K", with: "").split(omittingEmptySubsequences: true) { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
            .map(String.init)
    }

    func testTextFitsEveryWidthAndKeepsTheNumbers() {
        let label = "races/include/../B2x3-walk-pud-range-vs-two-faults.litmus"
        for columns in [1, 2, 10, 20, 40, 60, 80, 120, 300] {
            let w = TerminalLine.width(columns)
            let explore = ProgressLine.text(label: label, unit: "executions", executions: 1_234_567, seconds: 12.5, violations: 3,
                                            estimatedTotal: 9.9e9, width: w)
            XCTAssertLessThanOrEqual(explore.count, columns - 1 > 0 ? columns - 1 : 1, "\(columns): \(explore)")
            let check = CheckProgress.text(done: 12, total: 89, running: [(label, 3200, 14), ("A1-spf-vs-free-pgtables -DSPF_PLAIN_LOCK", 7, 0)],
                                           width: w)
            XCTAssertLessThanOrEqual(check.count, max(1, columns - 1), "\(columns): \(check)")
        }
        // Wide enough: all of it. Narrower: the label loses its start, the numbers stay.
        XCTAssertEqual(ProgressLine.text(label: "a.litmus", unit: "executions", executions: 500, seconds: 2, violations: 1, estimatedTotal: 2000, width: 99),
                       "a.litmus: 500 executions, 250/s, 1 violation, ~1.5e+03 left")
        XCTAssertEqual(ProgressLine.text(label: label, unit: "states", executions: 500, seconds: 2, violations: 0, estimatedTotal: nil, width: 50),
                       "…wo-faults.litmus: 500 states, 250/s, 0 violations")
        // Too narrow for everything: the estimate goes first, then the rate.
        XCTAssertEqual(ProgressLine.text(label: label, unit: "executions", executions: 24693, seconds: 0.5, violations: 0, estimatedTotal: 1e9, width: 59),
                       "…two-faults.litmus: 24693 executions, 49386/s, 0 violations")
        XCTAssertEqual(ProgressLine.text(label: label, unit: "executions", executions: 24693, seconds: 0.5, violations: 0, estimatedTotal: 1e9, width: 40),
                       "….litmus: 24693 executions, 0 violations")
        XCTAssertEqual(ProgressLine.text(label: label, unit: "executions", executions: 24693, seconds: 0.5, violations: 0, estimatedTotal: 1e9, width: 25),
                       "24693 executions, 0 viol…")
        XCTAssertEqual(CheckProgress.text(done: 3, total: 89, running: [("B1 -DFIX", 42, 1.5)], width: 99), "check 3/89 · B1 -DFIX: 42 executions, 1 s")
        // Captured output (tests, pipes): no line at all.
        XCTAssertNil(ProgressLine.make(label: "x", output: Output(streaming: false)))
        XCTAssertNil(CheckProgress.make(total: 1, output: Output(streaming: false)))
    }

    func testEveryStrategyAndCheckDrawWithinTheTerminal() {
        let race = bigRace()
        let columns = 80
        for strategy in ["dfs", "dpor", "bfs", "random", "pct", "axiomatic"] {
            let (e, terminal) = Subprocess.onTerminal(columns: columns, ["explore", race, "--model", "sc", "--strategy", strategy, "--timeout", "1.2",
                                                                         "--runs", "100000000"], in: dir)
            XCTAssertEqual(e.status, 4, "\(strategy): \(terminal)")
            // (The line `faultline: FILE: N executions in T s` after the report is not a progress line.)
            let drawn = lines(terminal).filter { $0.contains("/s, ") }
            XCTAssertFalse(drawn.isEmpty, "\(strategy) drew no progress line: \(terminal.debugDescription)")
            for l in drawn { XCTAssertLessThanOrEqual(l.count, columns - 1, "\(strategy): \(l)") }
            XCTAssertTrue(drawn.allSatisfy { $0.hasPrefix("…") && $0.contains(strategy == "bfs" ? " states, " : " executions, ") }, "\(strategy): \(drawn)")
        }
        // The LKMM engine (a plain herd7 test under --model lkmm) counts candidates through the same budget.
        let (l, lt) = Subprocess.onTerminal(columns: columns, ["explore", race, "--model", "lkmm", "--timeout", "1.2"], in: dir)
        XCTAssertTrue([0, 4].contains(l.status), lt)
        let lkmm = lines(lt).filter { $0.contains("/s, ") }
        XCTAssertFalse(lkmm.isEmpty, lt.debugDescription)
        for line in lkmm { XCTAssertLessThanOrEqual(line.count, columns - 1, "lkmm: \(line)") }
        // check: one line for the run, configurations done and the running one's executions.
        let (c, ct) = Subprocess.onTerminal(columns: columns, ["check", race, "--timeout", "1.2", "--jobs", "1"], in: dir)
        let drawn = lines(ct).filter { $0.hasPrefix("check 0/1 · twelve-cpus -: ") }
        XCTAssertFalse(drawn.isEmpty, "\(c.status) \(ct.debugDescription)")
        for line in lines(ct) { XCTAssertLessThanOrEqual(line.count, columns - 1, "check: \(line)") }
        XCTAssertTrue(c.out.contains(" passed, "), c.out)
    }

    func testNothingIsDrawnWhenStderrIsNotATerminal() {
        let race = bigRace()
        for args in [["explore", race, "--model", "sc", "--strategy", "dpor", "--timeout", "1.2"], ["check", race, "--timeout", "1.2", "--jobs", "1"]] {
            let e = Subprocess.run(args, in: dir)
            XCTAssertFalse(e.err.contains("\r") || e.err.contains("\u{1B}"), e.err.debugDescription)
            XCTAssertFalse(e.err.contains("/s, "), e.err)
        }
    }
}
