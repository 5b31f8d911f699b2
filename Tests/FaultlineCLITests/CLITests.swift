import XCTest
import Foundation
@testable import FaultlineCLI
import FaultlineReport

/// End-to-end tests of the CLI, in process: exit codes, golden outputs, replay, help layout,
/// and the kernel litmus corpus verdicts.
final class CLITests: CLITestCase {

    /// The kernel litmus corpus: $FAULTLINE_LITMUS_DIR or ../shared/litmus/linux; a test that
    /// needs it fails under CI without it and is skipped (loudly) elsewhere.
    static func litmusDirectory() throws -> String {
        let env = ProcessInfo.processInfo.environment
        let dir = env["FAULTLINE_LITMUS_DIR"] ?? root + "/../shared/litmus/linux"
        if FileManager.default.fileExists(atPath: dir) { return dir }
        struct CorpusMissing: Error, CustomStringConvertible { var description: String }
        if env["CI"] != nil { throw CorpusMissing(description: "kernel litmus corpus not found at \(dir) (set FAULTLINE_LITMUS_DIR)") }
        throw XCTSkip("KERNEL LITMUS CORPUS NOT FOUND at \(dir): set FAULTLINE_LITMUS_DIR")
    }

    func testExploreTextGolden() {
        let (rc, out, _) = run(["explore", "\(golden)/uaf.litmus"])
        XCTAssertEqual(rc, 1)
        assertGolden(out, "uaf.explore.txt")
    }

    func testExploreFixedConfigurationIsClean() {
        let (rc, out, _) = run(["explore", "\(golden)/uaf.litmus", "-DFIX"])
        XCTAssertEqual(rc, 0)
        XCTAssertTrue(out.contains("No violations."))
        XCTAssertTrue(out.contains("exists (2:r0=42): sometimes"))
    }

    func testExploreJSONGoldenAndOneLinePerFile() {
        let (rc, out, _) = run(["explore", "\(golden)/uaf.litmus", "--format", "json"])
        XCTAssertEqual(rc, 1)
        assertGolden(out, "uaf.explore.json")
        let (_, two, _) = run(["explore", "\(golden)/uaf.litmus", "\(golden)/uaf.litmus", "-DFIX", "--format=json"])
        XCTAssertEqual(two.split(separator: "\n").count, 2)
        for line in two.split(separator: "\n") {
            let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            XCTAssertNotNil(obj)
            for key in ["schema", "race", "file", "defines", "strategy", "complete", "executions", "outcomes", "claim", "violations"] {
                XCTAssertNotNil(obj?[key], "missing key \(key)")
            }
        }
    }

    func testReplayReproducesThePrintedCommand() throws {
        let (_, out, _) = run(["explore", "\(golden)/uaf.litmus", "--format", "json"])
        let obj = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
        let v = (obj["violations"] as! [[String: Any]])[0]
        let command = (v["replay"] as! String).split(separator: " ").map(String.init)
        XCTAssertEqual(Array(command.prefix(2)), ["faultline", "replay"])
        let (rc, text, _) = run(Array(command.dropFirst()))
        XCTAssertEqual(rc, 1)
        XCTAssertTrue(text.contains("use-after-free"), text)
        XCTAssertTrue(text.contains("kfree(old);"), text)
        // The same token against another configuration is refused.
        let (rc2, _, err2) = run(Array(command.dropFirst()) + ["-DFIX"])
        XCTAssertEqual(rc2, 2)
        XCTAssertTrue(err2.contains("another version"), err2)
    }

    /// A replay command's words (file names, -D values) survive the shell as they were — quotes,
    /// runs of quotes, spaces, `$`, backslashes (the quoting once went through a helper that
    /// trapped on a pattern longer than one character).
    func testReplayCommandQuotingSurvivesTheShell() throws {
        for word in ["plain", "", "it's", "''", "a''b'", "x y", "$HOME", "back\\slash", "-DX=\"1 2\"", "tab\there", "é'ü"] {
            let quoted = shellQuote(word)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "printf %s " + quoted]
            let pipe = Pipe()
            p.standardOutput = pipe
            try p.run()
            let out = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            XCTAssertEqual(String(decoding: out, as: UTF8.self), word, quoted)
        }
        XCTAssertEqual(shellQuote("it's"), "'it'\\''s'")
    }

    func testRandomStrategyPrintsSeedReplay() {
        let (rc, out, _) = run(["explore", "\(golden)/uaf.litmus", "--strategy", "random", "--seed", "7", "--runs", "200", "--format", "json"])
        XCTAssertEqual(rc, 1)
        guard let r = out.range(of: "--seed 0x") else { return XCTFail(out) }
        let seed = out[r.upperBound...].prefix { $0.isHexDigit }
        let (rc2, text, _) = run(["replay", "\(golden)/uaf.litmus", "--seed", "0x" + seed])
        XCTAssertEqual(rc2, 1)
        XCTAssertTrue(text.contains("use-after-free"))
        // Same flags, same bytes.
        XCTAssertEqual(out, run(["explore", "\(golden)/uaf.litmus", "--strategy", "random", "--seed", "7", "--runs", "200", "--format", "json"]).1)
    }

    func testBadInputIsExitTwoWithCaret() {
        let (rc, out, err) = run(["explore", "\(golden)/bad.litmus"])
        XCTAssertEqual(rc, 2)
        XCTAssertEqual(out, "")
        XCTAssertEqual(err, """
        \(golden)/bad.litmus:6:1: error: expected ';' after the expression, found '}'
        }
        ^

        """)
        XCTAssertEqual(run(["explore"]).0, 2)
        XCTAssertEqual(run(["explore", "--strategy", "nope", "x"]).0, 2)
        XCTAssertEqual(run(["frobnicate"]).0, 2)
        XCTAssertEqual(run(["explore", "no-such-file.litmus"]).0, 2)
        XCTAssertEqual(run(["replay", "\(golden)/uaf.litmus", "--trace", "fl9:00:0"]).0, 2)
    }

    func testHelpLayoutAndVersion() {
        for cmd in ["explore", "replay", "list", "check"] {
            let (rc, out, _) = run([cmd, "--help"])
            XCTAssertEqual(rc, 0)
            for section in ["OVERVIEW:", "USAGE:", "OPTIONS:"] { XCTAssertTrue(out.contains(section), "\(cmd) help lacks \(section)") }
        }
        XCTAssertEqual(run(["--version"]).1, CLI.version + "\n")
    }

    func testCheckComparesExpectations() throws {
        try FileManager.default.copyItem(atPath: "\(golden)/uaf.litmus", toPath: dir + "/uaf.litmus")
        let junit = dir + "/junit.xml"
        let (rc, out, _) = run(["check", dir, "--junit", junit, "--jobs", "2"])
        XCTAssertEqual(rc, 0, out)
        XCTAssertTrue(out.contains("2 passed, 0 failed"), out)
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        XCTAssertTrue(xml.contains("tests=\"2\" failures=\"0\""))
        // A wrong expectation and an unreadable one are mismatches.
        let text = try String(contentsOfFile: dir + "/uaf.litmus", encoding: .utf8)
            .replacingOccurrences(of: "Expect: -DFIX => sometimes clean", with: "Expect: -DFIX => never clean\n * Expect: -DFIX => frobbed")
        try text.write(toFile: dir + "/uaf.litmus", atomically: true, encoding: .utf8)
        let (rc2, out2, _) = run(["check", dir])
        XCTAssertEqual(rc2, 1)
        XCTAssertTrue(out2.contains("1 passed, 2 failed"), out2)
        XCTAssertTrue(out2.contains("unknown verdict or violation kind 'frobbed'"), out2)
        XCTAssertEqual(run(["check", dir, "--jobs", "1"]).1.replacingOccurrences(of: #"\d+\.\d\ds"#, with: "T", options: .regularExpression),
                       out2.replacingOccurrences(of: #"\d+\.\d\ds"#, with: "T", options: .regularExpression))
    }

    /// The kernel's own litmus tests: every one runs to a verdict, and `Result: Never` (LKMM,
    /// which allows more than SC) must be `never` under Faultline's SC.
    func testKernelLitmusTestsResultNever() throws {
        let dir = try CLITests.litmusDirectory()
        var files: [String] = []
        for sub in ["tools-memory-model", "Documentation-litmus-tests", "herdtools7-catalogue"] {
            let base = dir + "/" + sub
            let e = FileManager.default.enumerator(atPath: base)
            while let f = e?.nextObject() as? String { if f.hasSuffix(".litmus") { files.append(base + "/" + f) } }
        }
        XCTAssertEqual(files.count, 91)
        var nevers = 0
        for f in files.sorted() {
            let (rc, out, err) = run(["explore", f, "--format", "json", "--no-trace"])
            XCTAssertTrue(rc == 0 || rc == 1, "\(f): \(err)")
            let obj = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
            XCTAssertEqual(obj["complete"] as? Bool, true, f)
            let text = try String(contentsOfFile: f, encoding: .utf8)
            if text.range(of: #"Result:\s*Never"#, options: .regularExpression) != nil {
                nevers += 1
                let observed = (obj["claim"] as? [String: Any])?["verdict"] as? String
                XCTAssertEqual(observed, "never", f)
            }
        }
        XCTAssertGreaterThan(nevers, 30)
    }

    // MARK: --jobs, --shard, merge

    /// Byte-identical reports for any --jobs, and for shards put back together by merge.
    func testJobsAndShardsGiveTheUnsplitReport() throws {
        let configs: [[String]] = [
            ["races/A1-spf-vs-free-pgtables.litmus", "-DCONFIG_SPECULATIVE_PAGE_FAULT", "-DSPF_PLAIN_LOCK"],
            ["races/D2-uffd-wp-across-zap-swap.litmus", "-DCONFIG_PTE_MARKER_UFFD_WP", "-DMARKER_AFTER_UNLOCK"],
            ["races/E-faultaround-prealloc-pte.litmus", "-DNO_PMD_RECHECK"],
            ["\(golden)/uaf.litmus"],
            ["\(golden)/uaf.litmus", "--strategy", "random", "--seed", "7", "--runs", "300"],
        ]
        for c in configs {
            let (rc1, one, _) = run(["explore"] + c + ["--format", "json"])
            XCTAssertEqual(rc1, 1, "\(c) has violations")
            let (rc2, two, _) = run(["explore"] + c + ["--format", "json", "--jobs", "2"])
            XCTAssertEqual(rc2, rc1)
            XCTAssertEqual(two, one, "\(c): --jobs 2 differs")
            var files: [String] = []
            for k in 0..<3 {
                let (_, part, _) = run(["explore"] + c + ["--format", "json", "--shard", "\(k)/3"])
                XCTAssertTrue(part.contains("\"shard\":{\"count\":3,\"index\":\(k)}"))
                let f = "\(dir)/\(k).json"
                try part.write(toFile: f, atomically: true, encoding: .utf8)
                files.append(f)
            }
            let (rc3, merged, err) = run(["merge"] + files.reversed() + ["--format", "json"])
            XCTAssertEqual(rc3, 1, err)
            XCTAssertEqual(merged, one, "\(c): merged shards differ")
            let (_, text, _) = run(["explore"] + c)
            let (_, mergedText, _) = run(["merge"] + files)
            XCTAssertEqual(mergedText, text)
        }
    }

    func testShardFromKubernetesIndexedJobEnvironment() throws {
        let o = Output(streaming: false)
        let rc = CLI.run(["explore", "\(golden)/uaf.litmus", "--format", "json"], output: o,
                         environment: ["JOB_COMPLETION_INDEX": "1", "JOB_COMPLETIONS": "2"])
        XCTAssertNotEqual(rc, 2, o.err)
        XCTAssertTrue(o.out.contains("\"shard\":{\"count\":2,\"index\":1}"), o.out + o.err)
        let bad = Output(streaming: false)
        XCTAssertEqual(CLI.run(["explore", "\(golden)/uaf.litmus", "--format", "json"], output: bad,
                               environment: ["JOB_COMPLETION_INDEX": "2", "JOB_COMPLETIONS": "2"]), 2)
        XCTAssertTrue(bad.err.contains("0 ≤ I < N"), bad.err)
    }

    func testMergeRefusesIncompleteOrForeignInput() throws {
        let (_, part, _) = run(["explore", "\(golden)/uaf.litmus", "--format", "json", "--shard", "0/2"])
        try part.write(toFile: "\(dir)/0.json", atomically: true, encoding: .utf8)
        var (rc, _, err) = run(["merge", "\(dir)/0.json"])
        XCTAssertEqual(rc, 2)
        XCTAssertTrue(err.contains("missing shard 1/2"), err)
        (rc, _, err) = run(["merge", "\(dir)/0.json", "\(dir)/0.json"])
        XCTAssertEqual(rc, 2)
        XCTAssertTrue(err.contains("given twice"), err)
        let (_, whole, _) = run(["explore", "\(golden)/uaf.litmus", "--format", "json"])
        try whole.write(toFile: "\(dir)/whole.json", atomically: true, encoding: .utf8)
        (rc, _, err) = run(["merge", "\(dir)/whole.json"])
        XCTAssertEqual(rc, 2)
        XCTAssertTrue(err.contains("not a shard report"), err)
        (rc, _, err) = run(["explore", "\(golden)/uaf.litmus", "--shard", "0/2"])
        XCTAssertEqual(rc, 2)
        XCTAssertTrue(err.contains("--format json"), err)
    }

    func testPCTStrategyPrintsTraceReplayAndDepthNeedsPCT() {
        let args = ["explore", "\(golden)/uaf.litmus", "--strategy", "pct", "--depth", "3", "--seed", "7", "--runs", "200", "--format", "json"]
        let (rc, out, _) = run(args)
        XCTAssertEqual(rc, 1)
        XCTAssertTrue(out.contains("\"strategy\":\"pct\""), out)
        XCTAssertFalse(out.contains("--seed 0x"), out)
        guard let r = out.range(of: "--trace fl1:") else { return XCTFail(out) }
        let token = "fl1:" + out[r.upperBound...].prefix { $0.isHexDigit || $0 == ":" || $0 == "." || $0 == "x" }
        let (rc2, text, _) = run(["replay", "\(golden)/uaf.litmus", "--trace", token])
        XCTAssertEqual(rc2, 1)
        XCTAssertTrue(text.contains("use-after-free"), text)
        // Same flags, same bytes.
        XCTAssertEqual(out, run(args).1)
        // --depth only with pct, and at least 1.
        let (rc3, _, err3) = run(["explore", "\(golden)/uaf.litmus", "--depth", "2"])
        XCTAssertEqual(rc3, 2)
        XCTAssertTrue(err3.contains("--depth needs --strategy pct"), err3)
        XCTAssertEqual(run(["explore", "\(golden)/uaf.litmus", "--strategy", "random", "--depth", "2"]).0, 2)
        XCTAssertEqual(run(["explore", "\(golden)/uaf.litmus", "--strategy", "pct", "--depth", "0"]).0, 2)
        XCTAssertTrue(run(["explore", "--help"]).1.contains("--depth D"))
    }

    func testAxiomaticOutsideItsScopeIsBadUsage() {
        let (rc, _, err) = run(["explore", "races/B1-pmd-alloc-into-thp.litmus", "--strategy", "axiomatic"])
        XCTAssertEqual(rc, 2)
        XCTAssertTrue(err.contains("outside the axiomatic strategy's scope"), err)
        let (rc2, out, _) = run(["explore", "races/B1-pmd-alloc-into-thp.litmus"])   // auto: dpor
        XCTAssertEqual(rc2, 1)
        XCTAssertTrue(out.contains("Strategy dpor:"), out)
    }
}

extension XCTestCase {
    /// Compares with a golden file; FAULTLINE_UPDATE_GOLDEN=1 rewrites it instead.
    func assertGolden(_ text: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        let path = "Tests/FaultlineCLITests/Golden/\(name)"
        if ProcessInfo.processInfo.environment["FAULTLINE_UPDATE_GOLDEN"] == "1" {
            try? text.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOfFile: path, encoding: .utf8) else {
            return XCTFail("missing golden \(path); run with FAULTLINE_UPDATE_GOLDEN=1 and review it", file: file, line: line)
        }
        XCTAssertEqual(text, expected, "output differs from \(path)", file: file, line: line)
    }
}
