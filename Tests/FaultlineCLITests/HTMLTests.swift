import XCTest
import Foundation
@testable import FaultlineCLI
import FaultlineReport

/// The HTML trace viewer: self-contained, and stepping works in a real browser (headless
/// Chromium; `.ci/run` installs Debian's `chromium` when it is missing).
final class HTMLTests: CLITestCase {
    static var chromium: String? {
        for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium"] where FileManager.default.isExecutableFile(atPath: p) { return p }
        return nil
    }

    /// The DOM after the page's scripts ran, at `fragment` (`keys=N` presses ↓ N times from step 1).
    func dom(_ page: String, fragment: String) throws -> String {
        guard let chromium = HTMLTests.chromium else {
            print("warning: HTMLTests: SKIPPED — no chromium (apt-get install chromium; .ci/run does it)")
            throw XCTSkip("chromium is not installed")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: chromium)
        let profile = NSTemporaryDirectory() + "faultline-chromium-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: profile) }
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)",
                       "--dump-dom", "file://\(page)#\(fragment)"]
        // A file, not a pipe: the DOM is larger than a pipe's buffer.
        let dump = profile + ".dom"
        FileManager.default.createFile(atPath: dump, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: dump) }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: dump))
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(90)
        while p.isRunning && Date() < deadline { usleep(100_000) }
        if p.isRunning { p.terminate(); XCTFail("chromium did not finish in 90 s") }
        try out.close()
        return try String(contentsOfFile: dump, encoding: .utf8)
    }

    func testPageIsSelfContainedAndStepsWithTheArrowKeys() throws {
        let page = dir + "/b1.html"
        let (rc, _, err) = run(["explore", "races/B1-pmd-alloc-into-thp.litmus", "--html", page])
        XCTAssertEqual(rc, 1, err)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        for remote in ["http://", "https://", "<link", "@import", "src=\""] {
            XCTAssertFalse(html.contains(remote), "the page loads something: \(remote)")
        }
        // The violating step, from the JSON report of the same run.
        let (_, json, _) = run(["explore", "races/B1-pmd-alloc-into-thp.litmus", "--format", "json"])
        let report = try Schema.decode(Schema.Report.self, from: Substring(json.split(separator: "\n")[0]))
        let bad = try XCTUnwrap(report.violations.first?.steps.first { $0.violation != nil })
        // At first the violating step is selected; ↓ three times from step 1 selects step 4.
        let first = try dom(page, fragment: "")
        XCTAssertTrue(first.contains("data-step=\"\(bad.step)\""), String(first.prefix(400)))
        XCTAssertTrue(first.contains("class=\"step violation selected\""))
        let moved = try dom(page, fragment: "keys=3")
        XCTAssertTrue(moved.contains("data-step=\"4\""), String(moved.prefix(400)))
        XCTAssertTrue(moved.contains("class=\"step selected\" data-i=\"3\""))
        // The source pane follows the step into the headers; the memory pane draws the tables.
        let last = try dom(page, fragment: "keys=\(bad.step - 1)")
        XCTAssertTrue(last.contains("data-step=\"\(bad.step)\""))
        XCTAssertTrue(last.contains("<h2 id=\"file\">\(bad.shown.file):\(bad.shown.line)</h2>"), last)
        XCTAssertTrue(last.contains("class=\"hl\" id=\"hl\"><span class=\"ln\">\(bad.shown.line)</span>"))
        XCTAssertTrue(last.contains("data-table=\"pud_page0\""))
        XCTAssertTrue(last.contains("huge pfn=hpage PRESENT"))
    }
}
