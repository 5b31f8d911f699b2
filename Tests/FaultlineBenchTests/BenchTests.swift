import XCTest
import Foundation
import FaultlineBench
import FaultlineCLI

/// `faultline-bench`, in process: the header, one measured row, and that the shipped `faultline`
/// no longer has the command.
final class BenchTests: XCTestCase {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    override func setUp() {
        FileManager.default.changeCurrentDirectoryPath(BenchTests.root)
    }

    func run(_ args: [String]) -> (Int32, String, String) {
        let o = Output(streaming: false)
        let rc = Bench.run(args, output: o)
        return (rc, o.out, o.err)
    }

    func testBenchPrintsOneMeasuredRow() {
        let (rc, header, _) = run(["--header"])
        XCTAssertEqual(rc, 0)
        XCTAssertTrue(header.hasPrefix("| group | files | dfs executions | dpor, no lock reduction | dpor executions | traces | redundancy |"), header)
        let (rc2, row, err) = run(["Tests/FaultlineCLITests/Golden/uaf.litmus", "--label", "uaf", "--timeout", "5"])
        XCTAssertEqual(rc2, 0, err)
        let cells = row.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(cells.count, 15, row)
        // files, dfs executions, dpor without and with lock reduction, distinct traces, redundancy,
        // sleep-blocked (also as a share of the complete executions), sleep-blocked without lock
        // reduction under wakeup trees, bfs states
        XCTAssertEqual(Array(cells.prefix(11)), ["uaf", "1", "126", "6", "6", "6", "1.00", "0", "0.0 %", "0", "52"], row)
    }

    func testUsageErrorsNameTheBenchBinary() {
        let (rc, _, err) = run(["--bogus"])
        XCTAssertEqual(rc, 2)
        XCTAssertEqual(err, "faultline-bench: unknown option '--bogus'\n(see 'faultline-bench --help')\n")
        let (rc2, help, _) = run(["--help"])
        XCTAssertEqual(rc2, 0)
        XCTAssertTrue(help.contains("USAGE: faultline-bench <file>..."), help)
    }

    func testShippedBinaryHasNoBenchCommand() {
        let o = Output(streaming: false)
        XCTAssertEqual(CLI.run(["bench", "--header"], output: o), 2)
        XCTAssertTrue(o.err.hasPrefix("faultline: unknown command 'bench'"), o.err)
    }

    /// `--model lkmm`: its own header and a row with the engine's executions and candidates (the
    /// kernel's SB test: four executions allowed, four candidates), and a model that is not one.
    func testLKMMRow() throws {
        let dir = NSTemporaryDirectory() + "faultline-bench-lkmm-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
        C SB
        {}
        P0(int *x, int *y) { int r0; WRITE_ONCE(*x, 1); r0 = READ_ONCE(*y); }
        P1(int *x, int *y) { int r0; WRITE_ONCE(*y, 1); r0 = READ_ONCE(*x); }
        exists (0:r0=0 /\\ 1:r0=0)
        """.write(toFile: dir + "/SB.litmus", atomically: true, encoding: .utf8)
        XCTAssertTrue(run(["--header", "--model", "lkmm"]).1.hasPrefix("| group | files | lkmm executions | candidates | lkmm time | sc time (auto) | peak RSS |\n"))
        let (rc, row, err) = run([dir + "/SB.litmus", "--model", "lkmm", "--label", "sb"])
        XCTAssertEqual(rc, 0, err)
        let cells = row.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(cells.count, 7, row)
        XCTAssertEqual(Array(cells.prefix(4)), ["sb", "1", "4", "4"], row)
        XCTAssertEqual(run([dir + "/SB.litmus", "--model", "tso"]).0, 2)
    }
}
