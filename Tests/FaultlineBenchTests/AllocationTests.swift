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
    /// takes `k` more steps.
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
        let k = 40
        let dir = NSTemporaryDirectory() + "faultline-alloc-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = dir + "/first.litmus", last = dir + "/last.litmus"
        try program(k: k, raceFirst: true).write(toFile: first, atomically: true, encoding: .utf8)
        try program(k: k, raceFirst: false).write(toFile: last, atomically: true, encoding: .utf8)
        let m = try measure([first, last])
        guard m.count == 2 else { return XCTFail("\(m)") }
        let ((af, ef, sf), (al, el, sl)) = (m[0], m[1])
        XCTAssertEqual(ef, 2); XCTAssertEqual(el, 2)
        XCTAssertEqual(sf, 4 * k + 4)                       // (2k + 2) twice
        XCTAssertEqual(sl, 3 * k + 4)                       // 2k + 2, then k + 2
        XCTAssertGreaterThan(af, 0, "the counter counts nothing")   // set-up and executions do allocate
        // So the k steps more allocate this much more: nothing.
        XCTAssertEqual(af - al, 0, "\(af) allocations for \(sf) steps, \(al) for \(sl)")
    }
}
