import XCTest
import Foundation
@testable import FaultlineCLI
import FaultlineReport

/// JSON schema 1 (written and read by the same Codable types) and SARIF 2.1.0.
final class SchemaTests: CLITestCase {
    func testReportReadsBackWithStructuredOutcomesLocationsAndSteps() throws {
        let (rc, out, _) = run(["explore", "\(golden)/uaf.litmus", "--format", "json"])
        XCTAssertEqual(rc, 1)
        let r = try Schema.decode(Schema.Report.self, from: Substring(out.split(separator: "\n")[0]))
        XCTAssertEqual(r.schema, 1)
        XCTAssertEqual(r.outcomes.map(\.state), ["2:r0=0;", "2:r0=42;"])
        XCTAssertEqual(r.outcomes.map(\.values), [["2:r0": .int(0)], ["2:r0": .int(42)]])
        XCTAssertEqual(r.claim?.kind, "exists")
        XCTAssertEqual(r.claim?.condition, "(2:r0=42)")
        XCTAssertEqual(r.claim?.verdict, "sometimes")
        let v = try XCTUnwrap(r.violations.first)
        XCTAssertEqual(v.kind, "use-after-free")
        XCTAssertEqual(v.cause, "afterFree")
        XCTAssertEqual(v.location, Schema.Location(file: "\(golden)/uaf.litmus", line: 35, column: 19))
        XCTAssertEqual(v.steps.count, 8)
        XCTAssertEqual(v.steps[6].operation, "kfree")
        XCTAssertEqual(v.steps[6].cell, "kmalloc#3")
        XCTAssertEqual(v.steps[7].violation, "use-after-free")
        XCTAssertEqual(v.steps[1].value, "&kmalloc#3")
        XCTAssertFalse(out.contains("✗"), "a glyph in the data")
        // Written again from what was read: the same bytes.
        XCTAssertEqual(Schema.encode(r) + "\n", out)
    }

    func testClaimKindIsForallOrNotExists() throws {
        let dir = NSTemporaryDirectory() + "faultline-schema-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (q, kind) in [("forall", "forall"), ("~exists", "~exists")] {
            let path = dir + "/q.litmus"
            try "C q\n{ int x = 0; }\nP0(int *x) { WRITE_ONCE(*x, 1); }\n\(q) (x=1)\n".write(toFile: path, atomically: true, encoding: .utf8)
            let (_, out, _) = run(["explore", path, "--format", "json"])
            let r = try Schema.decode(Schema.Report.self, from: Substring(out.split(separator: "\n")[0]))
            XCTAssertEqual(r.claim?.kind, kind)
            XCTAssertEqual(r.claim?.condition, "(x=1)")
        }
    }

    func testListAndCheckSpeakJSON() throws {
        let (rc, out, _) = run(["list", "\(golden)/uaf.litmus", "--format", "json"])
        XCTAssertEqual(rc, 0)
        let l = try Schema.decode(Schema.ListEntry.self, from: Substring(out.split(separator: "\n")[0]))
        XCTAssertEqual(l.race, "golden-uaf")
        XCTAssertEqual(l.configurations.map(\.configuration), ["-", "-DFIX"])
        XCTAssertEqual(l.configurations.map(\.expected), ["sometimes use-after-free", "sometimes clean"])

        let (crc, cout, _) = run(["check", "\(golden)/uaf.litmus", "--format", "json", "--jobs", "1"])
        XCTAssertEqual(crc, 0)
        let c = try Schema.decode(Schema.Check.self, from: Substring(cout.split(separator: "\n")[0]))
        XCTAssertEqual([c.passed, c.failed], [2, 0])
        XCTAssertEqual(c.results.map(\.configuration), ["-", "-DFIX"])
        XCTAssertEqual(c.results[0].violations.map(\.kind), ["use-after-free"])
        XCTAssertFalse(c.results[0].violations[0].steps.isEmpty)
    }

    func testSarifHasTheRequiredStructure() throws {
        let path = NSTemporaryDirectory() + "faultline-\(getpid()).sarif"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (rc, _, err) = run(["check", "\(golden)/uaf.litmus", "\(golden)/trace.litmus", "--sarif", path, "--jobs", "1"])
        XCTAssertEqual(rc, 0, err)
        let data = try XCTUnwrap(FileManager.default.contents(atPath: path))
        let log = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(log["version"] as? String, "2.1.0")
        XCTAssertEqual(log["$schema"] as? String, "https://json.schemastore.org/sarif-2.1.0.json")
        let runs = try XCTUnwrap(log["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.count, 1)
        let driver = try XCTUnwrap((runs[0]["tool"] as? [String: Any])?["driver"] as? [String: Any])
        XCTAssertEqual(driver["name"] as? String, "faultline")
        let rules = try XCTUnwrap(driver["rules"] as? [[String: Any]])
        let ruleIds = rules.compactMap { $0["id"] as? String }
        XCTAssertTrue(ruleIds.contains("use-after-free") && ruleIds.contains("expectation-mismatch"))
        let results = try XCTUnwrap(runs[0]["results"] as? [[String: Any]])
        // One use-after-free in uaf.litmus (-), one in trace.litmus; -DFIX is clean; nothing mismatched.
        XCTAssertEqual(results.compactMap { $0["ruleId"] as? String }, ["use-after-free", "use-after-free"])
        for r in results {
            let index = try XCTUnwrap(r["ruleIndex"] as? Int)
            XCTAssertEqual(ruleIds[index], r["ruleId"] as? String)
            XCTAssertNotNil((r["message"] as? [String: Any])?["text"] as? String)
            let loc = try XCTUnwrap((r["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
            XCTAssertNotNil((loc["artifactLocation"] as? [String: Any])?["uri"] as? String)
            XCTAssertNotNil((loc["region"] as? [String: Any])?["startLine"] as? Int)
            let flows = try XCTUnwrap((r["codeFlows"] as? [[String: Any]])?.first?["threadFlows"] as? [[String: Any]])
            XCTAssertGreaterThanOrEqual(flows.count, 2)
            var orders: [Int] = []
            for f in flows {
                XCTAssertTrue((f["id"] as? String)?.hasPrefix("P") ?? false)
                let steps = try XCTUnwrap(f["locations"] as? [[String: Any]])
                XCTAssertFalse(steps.isEmpty)
                orders += steps.compactMap { $0["executionOrder"] as? Int }
            }
            XCTAssertEqual(orders.sorted(), Array(1...orders.count))
        }
        let first = try XCTUnwrap((results[0]["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
        XCTAssertEqual((first["region"] as? [String: Any])?["startLine"] as? Int, 35)
    }
}
