import Foundation
import Dispatch
import FaultlineLanguage
import FaultlineMachine
import FaultlineCheck
import FaultlineExplore
import FaultlineReport

/// `faultline check`: the CI gate. Every race file runs in every configuration its header
/// declares; the observed verdict and violation kinds are compared with the expectation.
struct CheckCommand {
    let args: Arguments
    init(_ words: [String]) throws {
        args = try Arguments(words, flags: [], valued: ["--junit", "--sarif", "--html", "--format", "--jobs", "--max-steps", "--timeout", "--max-memory",
                                                        "-I", "--model", "--unroll"])
    }

    /// One race × configuration × memory model.
    struct Task {
        var path: String
        var name: String
        var expectation: Expectation?
        var model: MemoryModel = .sc
        var error: String?
    }

    /// One task's outcome: its result as `--format json` writes it (the table, JUnit and SARIF
    /// read it too), and what only those others need.
    struct Outcome {
        var result: Schema.Check.Result
        var seconds: Double
        /// The task's `Expect:` line (nil: the header had none), where SARIF points a mismatch.
        var expectation: SourceLocation?
        /// The violations found, shrunk, with their traces (SARIF's code flows); `result.violations`
        /// is their JSON form.
        var violations: [ViolationReport] = []
        /// With `--html`: the page's part for them.
        var html: HTMLTrace.Part? = nil

        /// A task that ran to an evaluation, or stopped before one (`observed` says how).
        init(_ task: Task, expected: String, observed: String, passed: Bool = false, executions: Int = 0, stoppedEarly: Bool = false,
             seconds: Double = 0, detail: String, violations: [ViolationReport] = [], html: HTMLTrace.Part? = nil) {
            result = Schema.Check.Result(file: task.path, race: task.name, configuration: task.expectation?.configuration ?? "?",
                                         model: task.model.rawValue, expected: expected, observed: observed, passed: passed,
                                         executions: executions, stoppedEarly: stoppedEarly, detail: detail, violations: violations.map(\.document))
            self.seconds = seconds
            expectation = task.expectation?.location
            self.violations = violations
            self.html = html
        }

        var sarifEntry: Sarif.Entry { Sarif.Entry(result: result, expectation: expectation, violations: violations) }
    }

    func run(_ output: Output) throws -> Int32 {
        let files = try CLI.raceFiles(args.positional.isEmpty ? ["races"] : args.positional)
        if files.isEmpty { throw UsageError("no *.litmus files under \(args.positional.isEmpty ? "races" : args.positional.joined(separator: " "))") }
        let jobs = try args.int("--jobs", default: ProcessInfo.processInfo.activeProcessorCount, min: 1)
        let maxSteps = try args.int("--max-steps", default: 2000, min: 1)
        let timeout = try args.double("--timeout") ?? 300
        let maxMemory = try args.bytes("--max-memory") ?? defaultMaxMemory()
        let format = args.last("--format") ?? "text"
        guard format == "text" || format == "json" else { throw UsageError("--format must be text or json") }
        let only = try CLI.model(args)
        var tasks: [Task] = []
        for f in files {
            guard let header = Frontend.header(path: f) else { tasks.append(Task(path: f, name: f, expectation: nil, error: "cannot read file: \(FileSystemLoader.unreadable(f) ?? "unreadable")")); continue }
            let name = header.name.isEmpty ? f : header.name
            let (exps, errors) = Expectations.read(header)
            for e in errors { tasks.append(Task(path: f, name: name, expectation: nil, error: e.rendered)) }
            if exps.isEmpty && errors.isEmpty {
                tasks.append(Task(path: f, name: name, expectation: nil, error: "no 'Expect:' or 'Result:' line in the header"))
            }
            // An expectation that names no model is under --model, else SC; with --model, the
            // expectations of the other model are not run.
            for e in exps where only == nil || e.model == nil || e.model == only {
                tasks.append(Task(path: f, name: name, expectation: e, model: e.model ?? only ?? .sc, error: nil))
            }
        }
        let includeDirs = args.all("-I")
        let settings = ModelAnswer.Settings(strategy: try CLI.strategy(args), unroll: try CLI.unroll(args))
        let planned = tasks
        let html = args.has("--html")
        let progress = CheckProgress.make(total: planned.count, output: output)
        let outcomes = parallelMap(planned.count, jobs: jobs) { i in
            CheckCommand.runTask(planned[i], maxSteps: maxSteps, timeout: timeout, maxMemory: maxMemory, includeDirs: includeDirs, settings: settings,
                                 html: html, progress: progress)
        }
        progress?.finish()
        if let f = args.last("--html") { CLI.writeHTML(f, title: "faultline check", outcomes.compactMap(\.html), output) }
        let failed = outcomes.filter { !$0.result.passed }
        if let sarif = args.last("--sarif") {
            let log = Schema.encode(Sarif.log(outcomes.map(\.sarifEntry), version: CLI.version))
            do { try (log + "\n").write(toFile: sarif, atomically: true, encoding: .utf8) } catch {
                output.error("faultline check: cannot write \(sarif): \(error)\n")
                return ExitCode.badInput.rawValue
            }
        }
        if format == "json" {
            output.print(Schema.encode(Schema.Check(results: outcomes.map(\.result), passed: outcomes.count - failed.count, failed: failed.count)) + "\n")
        } else {
            printTable(outcomes, output)
        }
        if let junit = args.last("--junit") {
            let xml = CheckCommand.junit(outcomes)
            do { try xml.write(toFile: junit, atomically: true, encoding: .utf8) } catch {
                output.error("faultline check: cannot write \(junit): \(error)\n")
                return ExitCode.badInput.rawValue
            }
        }
        if Interrupts.shared.signal != 0 { return Interrupts.exitCode(Interrupts.shared.signal) }
        return failed.isEmpty ? 0 : ExitCode.violation.rawValue
    }

    /// The text report: one row per race × configuration, then each mismatch.
    func printTable(_ outcomes: [Outcome], _ output: Output) {
        let headers = ["RACE", "CONFIGURATION", "MODEL", "EXPECTED", "OBSERVED", "EXECUTIONS", "TIME", "RESULT"]
        var rows: [[String]] = []
        for o in outcomes {
            let r = o.result
            rows.append([r.race, r.configuration, r.model, r.expected, r.observed,
                         String(r.executions) + (r.stoppedEarly ? "+" : ""), String(format: "%.2fs", o.seconds), r.passed ? "ok" : "MISMATCH"])
        }
        var widths = headers.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == cells.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count) }.joined(separator: "  ")
        }
        output.print(line(headers) + "\n")
        for r in rows { output.print(line(r) + "\n") }
        let failed = outcomes.filter { !$0.result.passed }
        for f in failed {
            let r = f.result
            let which = f.expectation == nil ? "" : " \(r.configuration) \(r.model)"
            output.print("\nMISMATCH \(r.file)\(which): \(r.detail)\n")
        }
        if outcomes.contains(where: \.result.stoppedEarly) {
            output.print("(N+: a buggy configuration stops once every expected violation kind has been found)\n")
        }
        output.print("\n\(outcomes.count - failed.count) passed, \(failed.count) failed\n")
    }

    static func runTask(_ task: Task, maxSteps: Int, timeout: Double, maxMemory: Int, includeDirs: [String], settings: ModelAnswer.Settings, html: Bool = false,
                        progress: CheckProgress? = nil) -> Outcome {
        var running: CheckProgress.Running? = nil
        defer { progress?.end(running) }
        if Interrupts.shared.signal != 0 {
            return Outcome(task, expected: task.expectation?.expected ?? "?", observed: "-", detail: "not run: interrupted")
        }
        guard let e = task.expectation else {
            return Outcome(task, expected: "?", observed: "-", detail: task.error ?? "unreadable expectation")
        }
        let program: Program
        do {
            program = try Frontend.load(path: task.path, defines: e.defines, includeDirs: includeDirs, deadline: monotonicSeconds() + timeout)
        } catch let d as Diagnostic {
            return Outcome(task, expected: e.expected, observed: "error", detail: d.rendered)
        } catch {
            return Outcome(task, expected: e.expected, observed: "error", detail: "\(error)")
        }
        let ctx = ExplorationContext(machine: Machine(program: program, maxSteps: maxSteps))
        var options = ExplorationOptions()
        options.timeout = timeout
        options.maxMemory = maxMemory
        running = progress?.begin("\(task.name) \(e.configuration)\(task.model == .sc ? "" : " " + task.model.rawValue)")
        options.progress = running
        // A buggy configuration need not be explored exhaustively: stop once every expected kind
        // has been seen (and a `sometimes` verdict is established). Clean ones run to the end.
        let hasClaim = program.claimCondition != nil
        if e.mayStopEarly {
            options.stopWhen = { r in e.isSettled(by: r.observation(hasClaim: hasClaim)) }
        }
        let answer: ModelAnswer
        let budget = options.runBudget()
        do {
            answer = try Interrupts.shared.during(budget) {
                try ModelAnswer.explore(task.model, ctx, options: options, settings: settings)
            }
        } catch let d as Diagnostic {
            return Outcome(task, expected: e.expected, observed: "unsupported", detail: d.rendered)
        } catch {
            return Outcome(task, expected: e.expected, observed: "error", detail: "\(error)")
        }
        let result = answer.result
        let met = result.stopReason == .expectationMet
        let evaluation = e.evaluate(answer.observation(hasClaim: hasClaim), settled: met)
        var detail = evaluation.detail
        var violations: [ViolationReport] = []
        var page: HTMLTrace.Part? = nil
        if !evaluation.passed || result.hasViolations {
            let report = answer.report(path: task.path, defines: e.defines, includeDirs: includeDirs, context: ctx, shrink: true, budget: budget)
            violations = report.violations
            if html { page = HTMLTrace.violations(report, context: ctx) }
            for v in report.violations.prefix(3) {
                detail += "\n  \(v.kind.rawValue) at \(v.location): \(v.message)\n  replay: \(v.replayCommand)"
            }
            // Under LKMM: the execution behind the verdict (a witness of the condition, or the
            // forbidden one and its axiom).
            if !evaluation.passed, let w = report.witness {
                detail += "\n  \(w.axiom.map { "forbidden by \($0)" } ?? "allowed"): \(w.replayCommand)"
            }
        }
        return Outcome(task, expected: e.expected, observed: evaluation.observed, passed: evaluation.passed,
                       executions: result.executions, stoppedEarly: met, seconds: result.elapsed, detail: detail, violations: violations, html: page)
    }

    static func xmlEscape(_ s: String) -> String {
        var o = ""
        for c in s {
            switch c {
            case "<": o += "&lt;"; case ">": o += "&gt;"; case "&": o += "&amp;"; case "\"": o += "&quot;"
            default: o.append(c)
            }
        }
        return o
    }

    static func junit(_ outcomes: [Outcome]) -> String {
        let failures = outcomes.filter { !$0.result.passed }.count
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<testsuites><testsuite name=\"faultline check\" tests=\"\(outcomes.count)\" failures=\"\(failures)\">\n"
        for o in outcomes {
            let r = o.result
            let name = "\(r.race) [\(r.configuration)] \(r.model)"
            x += "  <testcase classname=\"\(xmlEscape(r.file))\" name=\"\(xmlEscape(name))\" time=\"\(String(format: "%.3f", o.seconds))\""
            if r.passed { x += "/>\n" } else {
                x += ">\n    <failure message=\"expected \(xmlEscape(r.expected)), observed \(xmlEscape(r.observed))\">\(xmlEscape(r.detail))</failure>\n  </testcase>\n"
            }
        }
        x += "</testsuite></testsuites>\n"
        return x
    }
}
