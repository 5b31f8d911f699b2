import XCTest
import Foundation
import FaultlineLanguage
import FaultlineCheck
@testable import FaultlineCLI

/// Memory models on the command line and in headers: `Result:` lines read as the kernel's
/// scripts read them, `Expect:` lines naming a model, `--model` on every command.
final class ModelTests: XCTestCase {
    override func setUp() {
        FileManager.default.changeCurrentDirectoryPath(CLITests.root)
    }

    func run(_ args: [String]) -> (Int32, String, String) {
        let o = Output(streaming: false)
        let rc = CLI.run(args, output: o)
        return (rc, o.out, o.err)
    }

    func expectations(_ text: String) -> ([Expectation], [Diagnostic]) {
        Expectations.read(LitmusHeader.read(SourceFile(path: "t.litmus", text: text)))
    }

    func testHeaderNameKeysResultAndExpectLines() {
        let h = LitmusHeader.read(SourceFile(path: "t.litmus", text: """
        C MP+test
        Cycle=Rfe PodRR
        Relax=
        (* Result: Sometimes DATARACE *)
        (*
         * Result: Never
         * Expect: -DFIX => lkmm never
         *   Expect: - => sc never clean
         *)
        {}
        """))
        XCTAssertEqual(h.name, "MP+test")
        XCTAssertEqual(h.keys.map(\.key), ["Cycle", "Relax"])
        XCTAssertEqual(h.keys.map(\.value), ["Rfe PodRR", ""])
        // Only the first Result: line counts (judgelitmus.sh: grep -m 1).
        XCTAssertEqual(h.result?.words.map(\.text), ["Sometimes", "DATARACE"])
        XCTAssertEqual(h.result?.location.line, 4)
        XCTAssertEqual(h.expectLines.count, 2)
        XCTAssertEqual(h.expectLines[0].defines.map(\.description), ["-DFIX"])
        XCTAssertEqual(h.expectLines[1].words.map(\.text), ["sc", "never", "clean"])
        XCTAssertEqual(h.expectLines[1].words[1].location.column, 22)
    }

    func testResultLinesAreLKMMExpectations() {
        let (e, errors) = expectations("C t\n(*\n * Result: Sometimes\n *)\n * Expect: - => never\n")
        XCTAssertTrue(errors.isEmpty)
        XCTAssertEqual(e.count, 2)
        XCTAssertEqual(e[0].model, .lkmm)
        XCTAssertEqual(e[0].verdict, .sometimes)
        XCTAssertEqual(e[0].expected, "lkmm sometimes")
        XCTAssertNil(e[1].model)        // the run's model (SC unless --model)
        XCTAssertEqual(expectations("C t\n * Result: DEADLOCK\n").0.first?.herdResult, .deadlock(dataRace: false))
        XCTAssertEqual(expectations("C t\n(* Result: Maybe *)\n").0.first?.herdResult, .maybe(dataRace: false))
        XCTAssertEqual(expectations("C t\n * Result: Never DATARACE\n").0.first?.herdResult, .verdict(dataRace: true))
        // An `Expect: - => lkmm ...` line replaces the Result: line; `sc` does not.
        XCTAssertEqual(expectations(" * Result: Never\n * Expect: - => lkmm sometimes\n").0.map(\.expected), ["lkmm sometimes"])
        XCTAssertEqual(expectations(" * Result: Never\n * Expect: - => sc never\n").0.map(\.expected), ["lkmm never", "sc never"])
        // A word that is not a result states nothing (the corpus's `Result: Flag srcu-bad-nesting`).
        XCTAssertTrue(expectations(" * Result: Flag srcu-bad-nesting\n").0.isEmpty)
    }

    func testBadExpectationWordPointsAtIt() {
        let (e, errors) = expectations("C t\n * Expect: -DX => lkmm sometims\n * Expect: DX => never\n")
        XCTAssertTrue(e.isEmpty)
        XCTAssertEqual(errors.count, 2)
        XCTAssertEqual(errors.map(\.location.line), [2, 3])
        XCTAssertEqual(errors[0].location.column, 24)
        XCTAssertTrue(errors[0].rendered.contains("unknown verdict or violation kind 'sometims'"), errors[0].rendered)
        XCTAssertTrue(errors[0].rendered.hasSuffix("\n                       ^\n"), errors[0].rendered)
        XCTAssertTrue(errors[1].message.contains("found 'DX'"), errors[1].message)
    }

    /// The kernel's judgelitmus.sh: DEADLOCK passes only with no execution; any other result fails
    /// with none; Maybe takes any verdict; DATARACE must match the flag both ways; a flagged data
    /// race forgives a verdict mismatch.
    func testEvaluateAsTheKernelScriptsDo() {
        func obs(_ v: Expectation.Verdict?, finished: Int = 3, flags: [String] = []) -> Observation {
            Observation(verdict: v, violations: [], finished: finished, flags: flags, complete: true)
        }
        func e(_ line: String) -> Expectation { expectations("C t\n * Result: \(line)\n").0[0] }
        XCTAssertTrue(e("Never").evaluate(obs(.never)).passed)
        XCTAssertFalse(e("Never").evaluate(obs(.sometimes)).passed)
        XCTAssertFalse(e("Never").evaluate(obs(.never, finished: 0)).passed)
        XCTAssertTrue(e("DEADLOCK").evaluate(obs(.never, finished: 0)).passed)
        XCTAssertFalse(e("DEADLOCK").evaluate(obs(.never)).passed)
        XCTAssertTrue(e("Maybe").evaluate(obs(.always)).passed)
        XCTAssertTrue(e("Sometimes DATARACE").evaluate(obs(.sometimes, flags: ["data-race"])).passed)
        XCTAssertFalse(e("Sometimes DATARACE").evaluate(obs(.sometimes)).passed)
        XCTAssertFalse(e("Sometimes").evaluate(obs(.sometimes, flags: ["data-race"])).passed)
        let forgiven = e("Never DATARACE").evaluate(obs(.sometimes, flags: ["data-race"]))
        XCTAssertTrue(forgiven.passed)
        XCTAssertTrue(forgiven.detail.contains("forgiven"), forgiven.detail)
        XCTAssertEqual(forgiven.observed, "sometimes data-race")
        XCTAssertFalse(e("Sometimes").evaluate(Observation(verdict: .sometimes, violations: [], finished: 3, complete: false, stopReason: "timeout")).passed)
    }

    func testModelOptionIsCheckedOnEveryCommand() {
        for cmd in ["explore", "check", "list", "replay"] {
            let (rc, _, err) = run([cmd, "Tests/FaultlineCLITests/Golden/uaf.litmus", "--model", "tso"])
            XCTAssertEqual(rc, 2, cmd)
            XCTAssertTrue(err.contains("--model must be lkmm or sc, got 'tso'"), "\(cmd): \(err)")
        }
        let (rc, _, err) = run(["explore", "Tests/FaultlineCLITests/Golden/uaf.litmus", "--model", "lkmm", "--strategy", "dfs"])
        XCTAssertEqual(rc, 2)
        XCTAssertTrue(err.contains("--strategy chooses how SC interleavings are searched"), err)
    }

    func testModelIsNamedInTextJSONAndJUnit() throws {
        let (_, text, _) = run(["explore", "Tests/FaultlineCLITests/Golden/uaf.litmus", "--model", "sc", "--no-trace"])
        XCTAssertTrue(text.hasPrefix("Race golden-uaf (Tests/FaultlineCLITests/Golden/uaf.litmus), model sc\n"), text)
        let (_, json, _) = run(["explore", "Tests/FaultlineCLITests/Golden/uaf.litmus", "--format", "json"])
        let obj = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        XCTAssertEqual(obj["model"] as? String, "sc")
        let dir = NSTemporaryDirectory() + "faultline-model-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: "Tests/FaultlineCLITests/Golden/uaf.litmus", toPath: dir + "/uaf.litmus")
        let (rc, out, _) = run(["check", dir, "--junit", dir + "/j.xml", "--model", "sc"])
        XCTAssertEqual(rc, 0, out)
        XCTAssertTrue(out.contains("CONFIGURATION  MODEL  EXPECTED"), out)
        XCTAssertTrue(try String(contentsOfFile: dir + "/j.xml", encoding: .utf8).contains("name=\"golden-uaf [-DFIX] sc\""))
    }

    func testCheckRunsEachExpectationUnderItsModel() throws {
        let dir = NSTemporaryDirectory() + "faultline-models-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
        C SB
        (*
         * Result: Sometimes
         * Expect: - => sc never
         *)
        {}
        P0(int *x, int *y) { int r0; WRITE_ONCE(*x, 1); r0 = READ_ONCE(*y); }
        P1(int *x, int *y) { int r0; WRITE_ONCE(*y, 1); r0 = READ_ONCE(*x); }
        exists (0:r0=0 /\\ 1:r0=0)
        """.write(toFile: dir + "/SB.litmus", atomically: true, encoding: .utf8)
        let (rc, out, _) = run(["check", dir, "--model", "sc"])
        XCTAssertEqual(rc, 0, out)
        XCTAssertTrue(out.contains("SB    -              sc     sc never  never"), out)
        XCTAssertTrue(out.contains("1 passed, 0 failed"), out)
        XCTAssertTrue(run(["list", dir]).1.contains("  - => lkmm sometimes\n  - => sc never\n"))
        XCTAssertEqual(run(["list", dir, "--model", "sc"]).1, "\(dir)/SB.litmus  SB\n  - => sc never\n")
    }
}
