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
        let path = dir + "/check.sarif"
        let (rc, _, err) = run(["check", "\(golden)/uaf.litmus", "\(golden)/trace.litmus", "--sarif", path, "--jobs", "1"])
        XCTAssertEqual(rc, 0, err)
        let data = try XCTUnwrap(FileManager.default.contents(atPath: path))
        let log = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        validateSarif(log)
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

    /// Checks a SARIF 2.1.0 log the way a validator would for the objects faultline writes: the
    /// properties the standard requires, their types and ranges (levels, 1-based lines, rule
    /// indices, execution order), only properties the standard defines (a misspelled one is an
    /// error), and every location on a line that exists in a file under the package root.
    func validateSarif(_ log: [String: Any], file: StaticString = #filePath, line: UInt = #line) {
        var problems: [String] = []
        func keys(_ o: [String: Any], _ allowed: Set<String>, _ required: Set<String>, _ at: String) {
            for k in o.keys where !allowed.contains(k) { problems.append("\(at): property '\(k)' is not SARIF 2.1.0") }
            for k in required where o[k] == nil { problems.append("\(at): '\(k)' is required") }
        }
        func message(_ any: Any?, _ at: String) {
            guard let m = any as? [String: Any], let t = m["text"] as? String, !t.isEmpty else { return problems.append("\(at): no message text") }
            keys(m, ["text", "markdown", "id", "arguments"], ["text"], at)
        }
        var lineCounts: [String: Int] = [:]
        func location(_ any: Any?, _ at: String) {
            guard let l = any as? [String: Any] else { return problems.append("\(at): not a location") }
            keys(l, ["physicalLocation", "message", "id", "logicalLocations", "annotations", "relationships"], ["physicalLocation"], at)
            if l["message"] != nil { message(l["message"], at + ".message") }
            guard let p = l["physicalLocation"] as? [String: Any], let a = p["artifactLocation"] as? [String: Any],
                  let uri = a["uri"] as? String, let r = p["region"] as? [String: Any] else { return problems.append("\(at): incomplete physicalLocation") }
            keys(p, ["artifactLocation", "region", "contextRegion", "address"], ["artifactLocation"], at + ".physicalLocation")
            keys(a, ["uri", "uriBaseId", "index", "description"], ["uri"], at + ".artifactLocation")
            keys(r, ["startLine", "startColumn", "endLine", "endColumn", "snippet", "message"], ["startLine"], at + ".region")
            if uri.isEmpty || uri.hasPrefix("/") || uri.contains("://") { problems.append("\(at): uri '\(uri)' is not relative to the repository") }
            let count = lineCounts[uri] ?? ((try? String(contentsOfFile: uri, encoding: .utf8)).map { $0.split(separator: "\n", omittingEmptySubsequences: false).count } ?? 0)
            lineCounts[uri] = count
            guard let start = r["startLine"] as? Int, start >= 1, start <= count else { return problems.append("\(at): startLine \(r["startLine"] ?? "nil") not in \(uri) (1…\(count))") }
            if let c = r["startColumn"], !((c as? Int).map { $0 >= 1 } ?? false) { problems.append("\(at): startColumn \(c)") }
        }
        let levels: Set<String> = ["none", "note", "warning", "error"]
        keys(log, ["$schema", "version", "runs", "inlineExternalProperties", "properties"], ["version", "runs"], "log")
        if log["version"] as? String != "2.1.0" { problems.append("version is not 2.1.0") }
        if (log["$schema"] as? String)?.hasSuffix("sarif-2.1.0.json") != true { problems.append("$schema is not SARIF 2.1.0's") }
        for (ri, run) in ((log["runs"] as? [[String: Any]]) ?? []).enumerated() {
            let at = "runs[\(ri)]"
            keys(run, ["tool", "results", "artifacts", "invocations", "properties", "originalUriBaseIds"], ["tool"], at)
            let driver = (run["tool"] as? [String: Any])?["driver"] as? [String: Any] ?? [:]
            keys(driver, ["name", "version", "semanticVersion", "informationUri", "rules", "fullName"], ["name"], at + ".tool.driver")
            let rules = driver["rules"] as? [[String: Any]] ?? []
            let ids = rules.compactMap { $0["id"] as? String }
            if Set(ids).count != rules.count { problems.append("\(at): rule ids missing or not unique") }
            for (k, rule) in rules.enumerated() {
                keys(rule, ["id", "name", "shortDescription", "fullDescription", "defaultConfiguration", "help", "helpUri"], ["id"], "\(at).rules[\(k)]")
                message(rule["shortDescription"], "\(at).rules[\(k)].shortDescription")
                if let c = rule["defaultConfiguration"] as? [String: Any], !levels.contains(c["level"] as? String ?? "") { problems.append("\(at).rules[\(k)]: level") }
            }
            guard let results = run["results"] as? [[String: Any]] else { problems.append("\(at): no results array"); continue }
            for (k, r) in results.enumerated() {
                let rat = "\(at).results[\(k)]"
                keys(r, ["ruleId", "ruleIndex", "level", "message", "locations", "codeFlows", "kind", "partialFingerprints", "fingerprints",
                         "relatedLocations", "properties"], ["message"], rat)
                message(r["message"], rat + ".message")
                if !levels.contains(r["level"] as? String ?? "warning") { problems.append("\(rat): level") }
                if let i = r["ruleIndex"] as? Int, !(i >= 0 && i < ids.count && ids[i] == r["ruleId"] as? String) { problems.append("\(rat): ruleIndex \(i) is not rule \(r["ruleId"] ?? "?")") }
                let locs = r["locations"] as? [Any] ?? []
                if locs.isEmpty { problems.append("\(rat): no location") }
                for (j, l) in locs.enumerated() { location(l, "\(rat).locations[\(j)]") }
                for (j, f) in ((r["codeFlows"] as? [[String: Any]]) ?? []).enumerated() {
                    keys(f, ["message", "threadFlows", "properties"], ["threadFlows"], "\(rat).codeFlows[\(j)]")
                    let flows = f["threadFlows"] as? [[String: Any]] ?? []
                    if flows.isEmpty { problems.append("\(rat).codeFlows[\(j)]: no threadFlows") }
                    var orders: [Int] = []
                    for (t, flow) in flows.enumerated() {
                        let fat = "\(rat).codeFlows[\(j)].threadFlows[\(t)]"
                        keys(flow, ["id", "message", "locations", "initialState", "immutableState", "properties"], ["locations"], fat)
                        let steps = flow["locations"] as? [[String: Any]] ?? []
                        if steps.isEmpty { problems.append("\(fat): no locations") }
                        let mine = steps.compactMap { $0["executionOrder"] as? Int }
                        if mine.count != steps.count || mine != mine.sorted() || Set(mine).count != mine.count { problems.append("\(fat): executionOrder not increasing") }
                        orders += mine
                        for (n, step) in steps.enumerated() {
                            keys(step, ["location", "executionOrder", "nestingLevel", "importance", "kinds", "state", "index", "module", "stack"], ["location"], "\(fat).locations[\(n)]")
                            if let nl = step["nestingLevel"], !((nl as? Int).map { $0 >= 0 } ?? false) { problems.append("\(fat): nestingLevel") }
                            location(step["location"], "\(fat).locations[\(n)].location")
                        }
                    }
                    if Set(orders).count != orders.count { problems.append("\(rat).codeFlows[\(j)]: two steps share an executionOrder") }
                }
            }
        }
        XCTAssertEqual(problems, [], file: file, line: line)
    }

    /// A catalogue race whose steps run through four headers, and a mismatch: a valid log.
    func testSarifOfACatalogueRaceValidates() throws {
        let path = dir + "/b1.sarif"
        let (rc, out, err) = run(["check", "races/B1-pmd-alloc-into-thp.litmus", "\(golden)/uaf.litmus", "--sarif", path, "--jobs", "2"])
        XCTAssertEqual(rc, 0, out + err)
        let log = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        validateSarif(log)
        let results = (log["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]] ?? []
        let uris = Set(results.flatMap { r in
            ((r["codeFlows"] as? [[String: Any]]) ?? []).flatMap { ($0["threadFlows"] as? [[String: Any]]) ?? [] }
                .flatMap { ($0["locations"] as? [[String: Any]]) ?? [] }
                .compactMap { (($0["location"] as? [String: Any])?["physicalLocation"] as? [String: Any]).flatMap { ($0["artifactLocation"] as? [String: Any])?["uri"] as? String } }
        })
        XCTAssertTrue(uris.contains("races/B1-pmd-alloc-into-thp.litmus") && uris.contains { $0.hasPrefix("races/include/") }, "\(uris)")
        // A mismatch is an error on the Expect: line.
        let text = try String(contentsOfFile: "\(golden)/uaf.litmus", encoding: .utf8).replacing("- => sometimes use-after-free", with: "- => clean")
        let wrong = "Tests/FaultlineCLITests/Golden/mismatch-\(getpid()).litmus"
        _ = FileManager.default.createFile(atPath: wrong, contents: Data(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: wrong) }
        let (rc2, _, _) = run(["check", wrong, "--sarif", path, "--jobs", "1"])
        XCTAssertEqual(rc2, 1)
        let log2 = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        validateSarif(log2)
        let mismatch = try XCTUnwrap(((log2["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]])?.first)
        XCTAssertEqual(mismatch["ruleId"] as? String, "expectation-mismatch")
        XCTAssertEqual(mismatch["level"] as? String, "error")
        let region = ((mismatch["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])?["region"] as? [String: Any]
        XCTAssertEqual(region?["startLine"] as? Int, 5)
    }
}
