import XCTest
import Foundation

/// A step allocates nothing: the interpreter and the dpor loop run on buffers they reuse
/// (`StatePool`, `State.assign`). Measured exactly in the shipped (release) build of the code:
/// `faultline-bench --allocations` counts every malloc of the search's thread
/// (`Sources/AllocationCounter` replaces glibc's allocator in that binary). A debug build would
/// not do: its unspecialised generic code allocates where the optimised code does not.
final class AllocationTests: XCTestCase {
    /// Two threads that each write `k` cells of their own (plain writes: the data-race clocks
    /// run too) and `x` once, racing: first (`raceFirst`) or last. dpor runs two executions either
    /// way, the same first one, to the same depth, with the same final states; the second
    /// starts at the root when the race comes first and at depth `k` when it comes last, so it
    /// takes `k` more steps. The difference in allocations between the two orders must not
    /// grow with `k`.
    func program(k: Int, raceFirst: Bool) -> String {
        func thread(_ p: Int, _ own: String) -> String {
            let writes = (1...k).map { "*\(own) = \($0);" }.joined(separator: " ")
            let race = "WRITE_ONCE(*x, \(p + 1));"
            return "P\(p)(int *x, int *\(own)) { \(raceFirst ? race + " " + writes : writes + " " + race) }"
        }
        return """
        C allocation-\(raceFirst ? "first" : "last")
        {}
        \(thread(0, "a"))
        \(thread(1, "b"))
        exists (x=2)

        """
    }

    /// `faultline-bench --allocations` on the files: per file, (allocations, executions, steps).
    func measure(_ files: [String]) throws -> [(Int, Int, Int)] {
        let bench = BenchTests.root + "/.build/release/faultline-bench"
        guard FileManager.default.isExecutableFile(atPath: bench) else {
            XCTFail("\(bench) is not built (make test builds it first: swift build -c release)"); return []
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bench)
        p.arguments = ["--allocations"] + files
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, out)
        return out.split(separator: "\n").map { line in
            let n = line.split(separator: ":").last!.split(separator: ",").map { Int($0.split(separator: " ")[0])! }
            return (n[0], n[1], n[2])
        }
    }

    func testADporStepAllocatesNothing() throws {
        let dir = NSTemporaryDirectory() + "faultline-alloc-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var files: [String] = []
        for k in [20, 40] {
            for first in [true, false] {
                let f = dir + "/\(k)-\(first ? "first" : "last").litmus"
                try program(k: k, raceFirst: first).write(toFile: f, atomically: true, encoding: .utf8)
                files.append(f)
            }
        }
        let m = try measure(files)
        guard m.count == 4 else { return XCTFail("\(m)") }
        var extra: [Int] = []                               // per k: allocations(first) - allocations(last)
        for (x, k) in [20, 40].enumerated() {
            let ((af, ef, sf), (al, el, sl)) = (m[2 * x], m[2 * x + 1])
            XCTAssertEqual(ef, 2); XCTAssertEqual(el, 2)
            XCTAssertEqual(sf, 4 * k + 4)                   // (2k + 2) twice
            XCTAssertEqual(sl, 3 * k + 4)                   // 2k + 2, then k + 2
            XCTAssertGreaterThan(af, 0, "the counter counts nothing")   // set-up and executions do allocate
            extra.append(af - al)
        }
        // The race's own work differs a little between the two orders (its reversal's wakeup
        // sequence), by as much for 20 steps more as for 40 more: so the steps allocate nothing.
        // (With a copy on write per step the difference is ~5 per step.)
        XCTAssertEqual(extra[0], extra[1], "\(m)")
        XCTAssertLessThanOrEqual(abs(extra[1]), 8, "\(m)")
    }
}
