import XCTest
import Foundation
import FaultlineLanguage
import FaultlineCheck
import FaultlineReport
@testable import FaultlineCLI

/// Memory models on the command line and in headers: `Result:` lines read as the kernel's
/// scripts read them, `Expect:` lines naming a model, `--model` on every command.
final class ModelTests: CLITestCase {

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
        // The first non-blank line, as the lexer takes it; the program's name is the header's.
        XCTAssertEqual(LitmusHeader.read(SourceFile(path: "t", text: "\n  \nC\tX+y \n{}\n")).name, "X+y")
        XCTAssertEqual(try Frontend.load(text: "\nC\tX+y\n{}\nP0(int *x) { WRITE_ONCE(*x, 1); }\n").name, "X+y")
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
        XCTAssertEqual(e[0].expected, "sometimes")
        XCTAssertNil(e[1].model)        // the run's model (SC unless --model)
        XCTAssertEqual(expectations("C t\n * Result: DEADLOCK\n").0.first?.herdResult, .deadlock(dataRace: false))
        XCTAssertEqual(expectations("C t\n(* Result: Maybe *)\n").0.first?.herdResult, .maybe(dataRace: false))
        XCTAssertEqual(expectations("C t\n * Result: Never DATARACE\n").0.first?.herdResult, .verdict(dataRace: true))
        // An `Expect: - => lkmm ...` line replaces the Result: line; `sc` does not.
        XCTAssertEqual(expectations(" * Result: Never\n * Expect: - => lkmm sometimes\n").0.map { "\($0.model!) \($0.expected)" }, ["lkmm sometimes"])
        XCTAssertEqual(expectations(" * Result: Never\n * Expect: - => sc never\n").0.map { "\($0.model!) \($0.expected)" }, ["lkmm never", "sc never"])
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
        // A verdict decided before the limit (LKMM searches the condition's candidates first).
        let decided = Observation(verdict: .never, violations: [], finished: 3, complete: false, stopReason: "timeout", verdictDecided: true)
        XCTAssertTrue(e("Never").evaluate(decided).passed)
        XCTAssertEqual(e("Never").evaluate(decided).observed, "never (decided)")
        XCTAssertFalse(e("Sometimes").evaluate(decided).passed)
        XCTAssertFalse(e("DEADLOCK").evaluate(decided).passed)
        XCTAssertFalse(e("Never DATARACE").evaluate(decided).passed)
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
        try FileManager.default.copyItem(atPath: "Tests/FaultlineCLITests/Golden/uaf.litmus", toPath: dir + "/uaf.litmus")
        let (rc, out, _) = run(["check", dir, "--junit", dir + "/j.xml", "--model", "sc"])
        XCTAssertEqual(rc, 0, out)
        XCTAssertTrue(out.contains("CONFIGURATION  MODEL  EXPECTED"), out)
        XCTAssertTrue(try String(contentsOfFile: dir + "/j.xml", encoding: .utf8).contains("name=\"golden-uaf [-DFIX] sc\""))
    }

    func testCheckRunsEachExpectationUnderItsModel() throws {
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
        XCTAssertTrue(out.contains("SB    -              sc     never     never"), out)
        XCTAssertTrue(out.contains("1 passed, 0 failed"), out)
        XCTAssertTrue(run(["list", dir]).1.contains("  - => lkmm sometimes\n  - => sc never\n"))
        XCTAssertEqual(run(["list", dir, "--model", "sc"]).1, "\(dir)/SB.litmus  SB\n  - => sc never\n")
    }

    /// `check` runs what `explore` runs by default (`CLI.strategy`, `auto`): on a program in the
    /// axiomatic strategy's scope, one grace period against three readers in a ring, that is the
    /// axiomatic search's 192 candidate executions, not dpor's 2,509 interleavings.
    func testCheckRunsTheStrategyExploreRunsByDefault() throws {
        let k = 3, n = k + 1
        var src = "C gp\n(*\n * Expect: - => sc never\n *)\n{}\n"
        src += "P0(int *x0, int *x1) { int r1 = READ_ONCE(*x0); synchronize_rcu(); int r2 = READ_ONCE(*x1); }\n"
        for i in 1...k {
            src += "P\(i)(int *x\(i), int *x\((i + 1) % n)) { rcu_read_lock(); int r1 = READ_ONCE(*x\(i)); int r2 = READ_ONCE(*x\((i + 1) % n)); rcu_read_unlock(); }\n"
        }
        src += "P\(n)(" + (0..<n).map { "int *x\($0)" }.joined(separator: ", ") + ") { " + (0..<n).map { "WRITE_ONCE(*x\($0), 1);" }.joined(separator: " ") + " }\n"
        src += "exists (" + (0..<n).map { "\($0):r1=1 /\\ \($0):r2=0" }.joined(separator: " /\\ ") + ")\n"
        let file = write("gp.litmus", src)
        func executions(_ args: [String]) -> Int? {
            let (_, out, _) = run(args)
            guard let r = out.range(of: "\"executions\":") else { return nil }
            return Int(out[r.upperBound...].prefix { $0.isNumber })
        }
        let checked = executions(["check", dir, "--model", "sc", "--format", "json"])
        XCTAssertEqual(checked, executions(["explore", file, "--model", "sc", "--format", "json"]))
        XCTAssertEqual(checked, 192)
        XCTAssertEqual(executions(["explore", file, "--model", "sc", "--strategy", "dpor", "--format", "json"]), 2509)
        XCTAssertTrue(run(["check", dir, "--model", "sc"]).1.contains("1 passed, 0 failed"))
    }
}

/// The LKMM engine behind the command line: both models by default on a plain herd7 test, the
/// witness as text, DOT and a replay command, and what is outside its scope.
final class LKMMCommandTests: CLITestCase {
    static let sb = """
    C SB+poonceonces
    (* Result: Sometimes *)
    {}
    P0(int *x, int *y) { int r0; WRITE_ONCE(*x, 1); r0 = READ_ONCE(*y); }
    P1(int *x, int *y) { int r0; WRITE_ONCE(*y, 1); r0 = READ_ONCE(*x); }
    exists (0:r0=0 /\\ 1:r0=0)
    """
    static let mp = """
    C MP+pooncerelease+poacquireonce
    (* Result: Never *)
    {}
    P0(int *buf, int *flag) { WRITE_ONCE(*buf, 1); smp_store_release(flag, 1); }
    P1(int *buf, int *flag) { int r0; int r1; r0 = smp_load_acquire(flag); r1 = READ_ONCE(*buf); }
    exists (1:r0=1 /\\ 1:r1=0)
    """
    override func setUpWithError() throws {
        try super.setUpWithError()
        write("SB.litmus", LKMMCommandTests.sb)
        write("MP.litmus", LKMMCommandTests.mp)
    }

    func testPlainHerdTestIsAnsweredUnderBothModels() throws {
        let (rc, out, err) = run(["explore", dir + "/SB.litmus", "--no-trace"])
        XCTAssertEqual(rc, 0, err)
        XCTAssertTrue(out.hasPrefix("Race SB+poonceonces (\(dir)/SB.litmus), models lkmm and sc\nUnder lkmm:\n  Strategy lkmm: 4 executions, complete\n"), out)
        XCTAssertTrue(out.contains("  exists (0:r0=0 /\\ 1:r0=0): sometimes (1 of 4 executions that finished satisfy it)\n"), out)
        XCTAssertTrue(out.contains("Under sc:\n"), out)
        XCTAssertTrue(out.contains("  exists (0:r0=0 /\\ 1:r0=0): never (0 of 3 executions that finished satisfy it)\n"), out)
        XCTAssertTrue(out.hasSuffix("allowed by LKMM, not under SC: the outcome needs weak ordering\n"), out)
        // JSON: the LKMM answer at the top, the SC one beside it.
        let obj = try JSONSerialization.jsonObject(with: Data(run(["explore", dir + "/SB.litmus", "--format", "json"]).1.utf8)) as! [String: Any]
        XCTAssertEqual(obj["model"] as? String, "lkmm")
        XCTAssertEqual((obj["claim"] as? [String: Any])?["verdict"] as? String, "sometimes")
        XCTAssertEqual((obj["outcomes"] as? [Any])?.count, 4)
        let sc = try XCTUnwrap(obj["sc"] as? [String: Any])
        XCTAssertEqual(sc["model"] as? String, "sc")
        XCTAssertEqual((sc["claim"] as? [String: Any])?["verdict"] as? String, "never")
        XCTAssertEqual((sc["outcomes"] as? [Any])?.count, 3)
        XCTAssertEqual(obj["difference"] as? String, "allowed by LKMM, not under SC: the outcome needs weak ordering")
        // One --model: that model's exists and outcomes, nothing beside.
        let one = try JSONSerialization.jsonObject(with: Data(run(["explore", dir + "/SB.litmus", "--format", "json", "--model", "sc"]).1.utf8)) as! [String: Any]
        XCTAssertEqual((one["claim"] as? [String: Any])?["verdict"] as? String, "never")
        XCTAssertNil(one["sc"])
        XCTAssertNil(one["difference"])
    }

    func testRaceFileStaysSCAndIsUnsupportedUnderLKMM() throws {
        let (rc, out, _) = run(["explore", "Tests/FaultlineCLITests/Golden/uaf.litmus", "--no-trace"])
        XCTAssertEqual(rc, 1)
        XCTAssertTrue(out.hasPrefix("Race golden-uaf (Tests/FaultlineCLITests/Golden/uaf.litmus), model sc\n"), out)
        let (rc2, out2, err2) = run(["explore", "Tests/FaultlineCLITests/Golden/uaf.litmus", "--model", "lkmm"])
        XCTAssertEqual(rc2, 2)
        XCTAssertEqual(out2, "")     // never an SC answer under the name lkmm
        XCTAssertEqual(err2, "Tests/FaultlineCLITests/Golden/uaf.litmus:12:11: error: unsupported under lkmm: kzalloc (not in linux-kernel.def)\n\tint *p = kzalloc(1, GFP_KERNEL);\n\t         ^\n")
        // A final block: at the block.
        try? (LKMMCommandTests.sb + "\nfinal {\n}\n").write(toFile: dir + "/F.litmus", atomically: true, encoding: .utf8)
        let (rc3, out3, err3) = run(["explore", dir + "/F.litmus"])
        XCTAssertEqual(rc3, 0, err3)
        XCTAssertTrue(out3.hasPrefix("Race SB+poonceonces (\(dir)/F.litmus), model sc\n"), out3)     // a final block: a race file
        let (rc4, _, err4) = run(["explore", dir + "/F.litmus", "--model", "lkmm"])
        XCTAssertEqual(rc4, 2)
        XCTAssertEqual(err4, "\(dir)/F.litmus:7:1: error: unsupported under lkmm: an invariant or final block\nfinal {\n^\n")
    }

    func testAllowedWitnessTextDotAndReplay() throws {
        let dot = dir + "/sb.dot"
        let (rc, out, err) = run(["explore", dir + "/SB.litmus", "--model", "lkmm", "--dot", dot])
        XCTAssertEqual(rc, 0, err)
        XCTAssertTrue(out.contains("Witness: an execution that satisfies the condition\n  P0:\n"), out)
        XCTAssertTrue(out.contains("\n    e2 W[once] x=1   line 4: P0(int *x, int *y) { int r0; WRITE_ONCE(*x, 1); r0 = READ_ONCE(*y); }\n"), out)
        XCTAssertTrue(out.contains("  rf: "), out)
        XCTAssertTrue(out.contains("  fr: "), out)
        XCTAssertTrue(out.contains("\n  ppo: -\n"), out)      // nothing orders either CPU's store before its load
        // Each load reads before the other CPU's store propagates; nothing happens before anything.
        XCTAssertTrue(out.contains("\n  hb: -\n  prop (between CPUs): e3→e4 e5→e2\n  pb: -\n"), out)
        let replay = try XCTUnwrap(out.split(separator: "\n").first { $0.contains("Replay: faultline replay") })
        let words = replay.split(separator: " ").dropFirst(2).map(String.init)   // "Replay:", "faultline"
        XCTAssertEqual(Array(words.suffix(4)).prefix(3), ["--model", "lkmm", "--trace"])
        let (rrc, rout, rerr) = run(words)
        XCTAssertEqual(rrc, 0, rerr)
        XCTAssertTrue(rout.contains("model lkmm, execution \(words.last!)\nAllowed: final state 0:r0=0; 1:r0=0;\n"), rout)
        // The same events and relations as explore showed.
        let shown = out.components(separatedBy: "Witness: an execution that satisfies the condition\n")[1].components(separatedBy: "  Replay:")[0]
        XCTAssertTrue(rout.hasSuffix(shown), rout)
        // DOT: a cluster per CPU and the initial writes, one node per event, rf/co/fr edges.
        let g = try String(contentsOfFile: dot, encoding: .utf8)
        XCTAssertTrue(g.hasPrefix("digraph \"SB+poonceonces\" {\n"), g)
        for c in ["subgraph cluster_init", "subgraph cluster_P0", "subgraph cluster_P1"] { XCTAssertTrue(g.contains(c), c) }
        XCTAssertEqual(g.components(separatedBy: " [label=\"e").count - 1, 6, g)     // x, y initial + 2 per CPU
        XCTAssertEqual(g.components(separatedBy: "[label=\"rf\"").count - 1, 2, g)
        XCTAssertEqual(g.components(separatedBy: "[label=\"fr\"").count - 1, 2, g)
        XCTAssertEqual(g.components(separatedBy: "[label=\"po\"").count - 1, 2, g)
        XCTAssertTrue(g.contains("\\nline 4: P0(int *x, int *y)"), g)
        // The ordering relations the text shows: prop between CPUs (e3→e4, e5→e2), no hb, no pb.
        XCTAssertTrue(g.contains("  e3 -> e4 [label=\"prop\", color=brown"), g)
        XCTAssertTrue(g.contains("  e5 -> e2 [label=\"prop\", color=brown"), g)
        XCTAssertEqual(g.components(separatedBy: "[label=\"prop\"").count - 1, 2, g)
        XCTAssertFalse(g.contains("[label=\"hb\"") || g.contains("[label=\"pb\""), g)
        XCTAssertFalse(g.contains("penwidth"), g)     // allowed: no cycle
        XCTAssertTrue(g.hasSuffix("}\n"))
    }

    func testForbiddenOutcomeNamesTheAxiomAndItsCycle() throws {
        let dot = dir + "/mp.dot"
        let (rc, out, err) = run(["explore", dir + "/MP.litmus", "--model", "lkmm", "--dot", dot])
        XCTAssertEqual(rc, 0, err)
        XCTAssertTrue(out.contains("exists (1:r0=1 /\\ 1:r1=0): never"), out)
        XCTAssertTrue(out.contains("Forbidden: the executions that satisfy the condition break happens-before; one of them\n"), out)
        XCTAssertTrue(out.contains("  violates happens-before: "), out)
        XCTAssertTrue(out.contains("\n  ppo: e2→e3 e4→e5\n"), out)  // the release and the acquire order each CPU's pair
        let hb = try XCTUnwrap(out.split(separator: "\n").first { $0.hasPrefix("  hb: ") })
        for e in ["e2→e3", "e3→e4", "e4→e5"] { XCTAssertTrue(hb.contains(e), String(hb)) }   // ppo, rfe, ppo: the cycle closes with fr
        let g = try String(contentsOfFile: dot, encoding: .utf8)
        XCTAssertTrue(g.contains("— forbidden by happens-before\""), g)
        for e in ["e2 -> e3", "e3 -> e4", "e4 -> e5"] { XCTAssertTrue(g.contains("  \(e) [label=\"hb\", color=purple"), e + "\n" + g) }
        XCTAssertGreaterThanOrEqual(g.components(separatedBy: "penwidth=2.5").count - 1, 2, g)   // a cycle has two edges or more
        let token = String(try XCTUnwrap(out.split(whereSeparator: { $0 == " " || $0 == "\n" }).last { $0.hasPrefix("lk1:") }))
        let (rrc, rout, _) = run(["replay", dir + "/MP.litmus", "--model", "lkmm", "--trace", token])
        XCTAssertEqual(rrc, 1)   // the execution breaks an axiom
        XCTAssertTrue(rout.contains("Forbidden by happens-before\n"), rout)
        // A token naming no execution of this program, or made for another program, is refused.
        let parts = token.split(separator: ":").map(String.init)
        XCTAssertEqual(parts.count, 5, token)
        XCTAssertEqual(parts[1].count, 16, token)     // the program hash
        let (brc, _, berr) = run(["replay", dir + "/MP.litmus", "--model", "lkmm", "--trace", "lk1:\(parts[1]):7.7:0.0:0.0"])
        XCTAssertEqual(brc, 2)
        XCTAssertTrue(berr.contains("names no execution"), berr)
        let (frc, _, ferr) = run(["replay", dir + "/SB.litmus", "--model", "lkmm", "--trace", token])
        XCTAssertEqual(frc, 2)
        XCTAssertTrue(ferr.contains("the token was made for another version of \(dir)/SB.litmus or other -D flags"), ferr)
        XCTAssertEqual(run(["replay", dir + "/MP.litmus", "--model", "lkmm", "--trace", "lk1:0.1:0.0:0.0"]).0, 2)   // no hash
    }

    static let race = """
    C MP+plain
    (* Result: Sometimes DATARACE *)
    {}
    P0(int *x, int *y) { *x = 1; WRITE_ONCE(*y, 1); }
    P1(int *x, int *y) { int r0; int r1; r0 = READ_ONCE(*y); r1 = *x; }
    exists (1:r0=1 /\\ 1:r1=0)
    """

    /// Issue 8: a plain-access data race under LKMM is a `data-race` finding (not only herd7's
    /// flag): the pair of accesses with their source lines, as the SC check reports one, a
    /// two-step trace, and the replay of the execution that shows it; text, JSON, SARIF; `check`
    /// still reads `Result: ... DATARACE` both ways.
    func testDataRaceIsAFindingUnderLKMM() throws {
        let file = dir + "/R.litmus"
        write("R.litmus", LKMMCommandTests.race)
        let (rc, out, err) = run(["explore", file, "--model", "lkmm"])
        XCTAssertEqual(rc, 1, err)     // a violation
        XCTAssertTrue(out.contains("Flag data-race\n"), out)
        XCTAssertTrue(out.contains("\n  data-race: e5↔e2\n"), out)      // the witness names the pair
        XCTAssertTrue(out.contains("\nViolation 1: data-race at \(file):4:25 (P0) — 4 executions\n"
            + "  plain write of x by P0 races with plain read by P1 at R.litmus:5 (no happens-before between them)\n  > P0(int *x, int *y) { *x = 1; WRITE_ONCE(*y, 1); }\n"
            + "  Trace (2 steps):\n"), out)
        XCTAssertFalse(out.contains("No violations"), out)
        let replay = try XCTUnwrap(out.split(separator: "\n").last { $0.hasPrefix("  Replay: faultline replay") })
        let words = replay.split(separator: " ").dropFirst(2).map(String.init)
        XCTAssertEqual(Array(words.suffix(4).prefix(3)), ["--model", "lkmm", "--trace"])
        XCTAssertTrue(words.last!.hasPrefix("lk1:"), String(replay))
        // The replay shows that execution with the race, and exits 1 as an SC replay of a violation does.
        let (rrc, rout, rerr) = run(words)
        XCTAssertEqual(rrc, 1, rerr)
        XCTAssertTrue(rout.contains("Flag data-race\n"), rout)
        XCTAssertTrue(rout.contains("\n  data-race: e5↔e2\n"), rout)
        // JSON: one data-race violation, both accesses as its steps, the lk1: replay.
        let o = try JSONSerialization.jsonObject(with: Data(run(["explore", file, "--model", "lkmm", "--format", "json"]).1.utf8)) as! [String: Any]
        let vs = try XCTUnwrap(o["violations"] as? [[String: Any]])
        XCTAssertEqual(vs.count, 1)
        XCTAssertEqual(vs[0]["kind"] as? String, "data-race")
        XCTAssertEqual(vs[0]["occurrences"] as? Int, 4)
        XCTAssertEqual(vs[0]["replay"] as? String, words.joined(separator: " ").replacingOccurrences(of: "replay ", with: "faultline replay ", options: .anchored))
        let steps = try XCTUnwrap(vs[0]["steps"] as? [[String: Any]])
        XCTAssertEqual(steps.map { $0["thread"] as? Int }, [1, 0])
        XCTAssertEqual(steps.map { $0["effect"] as? String }, ["x == 0", "x := 1"])
        XCTAssertEqual(steps.map { ($0["location"] as? [String: Any])?["line"] as? Int }, [5, 4])
        XCTAssertEqual(steps.last?["violation"] as? String, "data-race")
        // The HTML page has it too (the pair of steps; no memory: an LKMM execution is no interleaving).
        let page = dir + "/r.html"
        XCTAssertEqual(run(["explore", file, "--model", "lkmm", "--html", page]).0, 1)
        XCTAssertTrue(try String(contentsOfFile: page, encoding: .utf8).contains("plain write of x by P0 races with plain read by P1"))
        // check: the Result line with DATARACE passes, and the finding goes to SARIF.
        let sarif = dir + "/r.sarif"
        let (crc, cout, _) = run(["check", file, "--sarif", sarif])
        XCTAssertEqual(crc, 0, cout)
        XCTAssertTrue(cout.contains("sometimes data-race"), cout)
        XCTAssertTrue(try String(contentsOfFile: sarif, encoding: .utf8).contains("\"ruleId\":\"data-race\""))
        // Without DATARACE the same file fails: the race is unexpected.
        write("R.litmus", LKMMCommandTests.race.replacingOccurrences(of: " DATARACE", with: ""))
        let (frc, fout, _) = run(["check", file])
        XCTAssertEqual(frc, 1, fout)
        XCTAssertTrue(fout.contains("unexpected data race flagged"), fout)
        // Marked accesses: no race, no violation.
        write("R.litmus", LKMMCommandTests.race.replacingOccurrences(of: "*x = 1", with: "WRITE_ONCE(*x, 1)")
            .replacingOccurrences(of: "r1 = *x", with: "r1 = READ_ONCE(*x)"))
        let (orc, oout, oerr) = run(["explore", file, "--model", "lkmm"])
        XCTAssertEqual(orc, 0, oerr)
        XCTAssertTrue(oout.contains("No violations."), oout)
    }

    /// `replay --model lkmm --format json` writes the one report schema (docs/json.md).
    func testLKMMReplayJSONIsTheReportSchema() throws {
        let (_, out, _) = run(["explore", dir + "/SB.litmus", "--model", "lkmm"])
        let token = String(try XCTUnwrap(out.split(whereSeparator: { $0 == " " || $0 == "\n" }).last { $0.hasPrefix("lk1:") }))
        let (rc, json, err) = run(["replay", dir + "/SB.litmus", "--model", "lkmm", "--trace", token, "--format", "json"])
        XCTAssertEqual(rc, 0, err)
        let line = Substring(json.trimmingCharacters(in: .newlines))
        let r = try Schema.decodeReport(line)      // what merge reads: the schema, checked first
        XCTAssertEqual(r.schema, Schema.version)
        XCTAssertEqual(r.model, "lkmm")
        XCTAssertEqual(r.strategy, "replay")
        XCTAssertEqual(r.executions, 1)
        XCTAssertEqual(r.outcomes.map(\.state), ["0:r0=0; 1:r0=0;"])
        XCTAssertEqual(r.claim?.verdict, "always")    // of the one execution replayed
        XCTAssertTrue(r.violations.isEmpty)
        XCTAssertNotNil(r.witness, json)
        XCTAssertTrue(json.contains("\"token\":\"\(token)\""), json)
    }

    func testCheckPassesResultLinesUnderLKMMAndNamesTheModel() throws {
        let junit = dir + "/j.xml"
        let (rc, out, _) = run(["check", dir, "--junit", junit])
        XCTAssertEqual(rc, 0, out)
        XCTAssertTrue(out.contains("MP+pooncerelease+poacquireonce  -              lkmm   never      never"), out)
        XCTAssertTrue(out.contains("2 passed, 0 failed"), out)
        XCTAssertTrue(try String(contentsOfFile: junit, encoding: .utf8).contains("name=\"SB+poonceonces [-] lkmm\""))
        // The same Result line is missed under SC.
        try LKMMCommandTests.sb.replacingOccurrences(of: "(* Result: Sometimes *)", with: "(* Result: Sometimes *)\n(* Expect: - => sc sometimes *)")
            .write(toFile: dir + "/SB.litmus", atomically: true, encoding: .utf8)
        let (rc2, out2, _) = run(["check", dir])
        XCTAssertEqual(rc2, 1)
        XCTAssertTrue(out2.contains("MISMATCH \(dir)/SB.litmus - sc: expected sometimes, observed never"), out2)
        // A missed LKMM expectation shows the execution behind the verdict.
        try LKMMCommandTests.mp.replacingOccurrences(of: "(* Result: Never *)", with: "(* Result: Sometimes *)")
            .write(toFile: dir + "/MP.litmus", atomically: true, encoding: .utf8)
        let (_, out3, _) = run(["check", dir + "/MP.litmus"])
        XCTAssertTrue(out3.contains("MISMATCH \(dir)/MP.litmus - lkmm: expected sometimes, observed never\n  forbidden by happens-before: faultline replay \(dir)/MP.litmus --model lkmm --trace lk1:"), out3)
    }

    /// Issue 8: a limit that cuts the search after every candidate that may satisfy the condition
    /// was checked (those go first) leaves a decided verdict: explore prints it with the final
    /// states marked partial (exit 4: the search is incomplete); check accepts it against the
    /// file's `Result:` line.
    func testDecidedVerdictOfAnIncompleteSearch() throws {
        // 7 writers of x, 7 of y: 5040 × 5040 candidates, none of which can end with x=1.
        let writers = (0..<14).map { "P\($0)(int *x, int *y) { WRITE_ONCE(*\($0 < 7 ? "x" : "y"), \($0 + 2)); }\n" }.joined()
        let file = dir + "/W14.litmus"
        try ("C W14\n(* Result: Never *)\n{}\n" + writers + "exists (x=1)\n").write(toFile: file, atomically: true, encoding: .utf8)
        let (rc, out, _) = run(["explore", file, "--model", "lkmm", "--no-trace", "--max-executions", "50"])
        XCTAssertEqual(rc, 4, out)
        XCTAssertNotNil(out.range(of: #"\nStates \d+ \(partial\)\n"#, options: .regularExpression), out)
        XCTAssertTrue(out.contains("exists (x=1): never (decided before the search stopped: max-executions after 50 executions) (0 of 50 executions that finished satisfy it)\n"), out)
        let (_, json, _) = run(["explore", file, "--model", "lkmm", "--no-trace", "--max-executions", "50", "--format", "json"])
        let o = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        XCTAssertEqual(o["complete"] as? Bool, false)
        XCTAssertEqual((o["claim"] as? [String: Any])?["decided"] as? Bool, true)
        // Without the condition searched first nothing is decided: a limit inside the condition's part.
        let (_, cut, _) = run(["explore", file, "--model", "lkmm", "--no-trace", "--max-executions", "50", "--max-memory", "1"])
        XCTAssertTrue(cut.contains("exists (x=1): never so far (incomplete: max-memory after "), cut)
        // check: the Result: line is met although the timeout cuts the search.
        let (rc2, out2, _) = run(["check", file, "--timeout", "2"])
        XCTAssertEqual(rc2, 0, out2)
        XCTAssertTrue(out2.contains("never (decided)"), out2)
        XCTAssertTrue(out2.contains("1 passed, 0 failed"), out2)
        try ("C W14\n(* Result: Sometimes *)\n{}\n" + writers + "exists (x=1)\n").write(toFile: file, atomically: true, encoding: .utf8)
        let (rc3, out3, _) = run(["check", file, "--timeout", "2"])
        XCTAssertEqual(rc3, 1, out3)
        XCTAssertTrue(out3.contains("expected sometimes, observed never"), out3)
    }

    /// Every kernel test with a `Result:` line (tools/memory-model/litmus-tests,
    /// Documentation/litmus-tests and the herdtools7 catalogue's) passes check under LKMM.
    func testKernelResultLinesPassUnderLKMM() throws {
        let root = try CLITests.litmusDirectory()
        var files: [String] = []
        for sub in ["tools-memory-model", "Documentation-litmus-tests", "herdtools7-catalogue"] {
            let e = FileManager.default.enumerator(atPath: root + "/" + sub)
            while let f = e?.nextObject() as? String {
                guard f.hasSuffix(".litmus") else { continue }
                let text = try String(contentsOfFile: root + "/" + sub + "/" + f, encoding: .utf8)
                if text.range(of: #"(?m)^[( ]\* Result: "#, options: .regularExpression) != nil { files.append(root + "/" + sub + "/" + f) }
            }
        }
        XCTAssertEqual(files.count, 50)
        let (rc, out, _) = run(["check", "--model", "lkmm"] + files.sorted())
        XCTAssertTrue(out.hasSuffix("\n50 passed, 0 failed\n"), out)
        XCTAssertEqual(rc, 0)
        for kind in ["deadlock ", "sometimes ", "never "] { XCTAssertTrue(out.contains("   lkmm   \(kind)"), kind) }
    }
}
