import Foundation
import FaultlineLanguage
import FaultlineMachine
import FaultlineCheck
import FaultlineExplore
import FaultlineReport

/// `faultline explore`.
struct ExploreCommand {
    let args: Arguments
    let environment: [String: String]
    init(_ words: [String], environment: [String: String] = [:]) throws {
        self.environment = environment
        args = try Arguments(words, flags: CLI.traceFlags.union(["--no-trace", "--no-leak-check", "--no-shrink", "--no-lock-reduction", "--wakeup-trees"]),
                             valued: ["-D", "-I", "--strategy", "--seed", "--runs", "--preemptions", "--depth", "--max-steps",
                                      "--max-executions", "--timeout", "--max-memory", "--format", "--jobs", "--shard", "--model", "--unroll", "--dot",
                                      "--width", "--html"])
    }

    func run(_ output: Output) throws -> Int32 {
        guard !args.positional.isEmpty else { throw UsageError("expected at least one race file") }
        let defines = try CLI.defines(args)
        let format = args.last("--format") ?? "text"
        guard format == "text" || format == "json" else { throw UsageError("--format must be text or json") }
        let layout = try CLI.traceLayout(args)
        let traces = format == "json" || !args.has("--no-trace")
        let strategy = try CLI.strategy(args)
        var options = ExplorationOptions()
        options.maxExecutions = try args.int("--max-executions", default: options.maxExecutions, min: 1)
        options.timeout = try args.double("--timeout")
        options.maxMemory = try args.bytes("--max-memory") ?? defaultMaxMemory()
        if args.has("--preemptions") {
            guard strategy == .dfs else { throw UsageError("--preemptions needs --strategy dfs") }
            options.preemptionBound = try args.int("--preemptions", default: 0)
        }
        if args.has("--depth") {
            guard strategy == .pct else { throw UsageError("--depth needs --strategy pct") }
            options.depth = try args.int("--depth", default: options.depth, min: 1)
        }
        options.seed = try args.seed("--seed") ?? 0
        options.runs = try args.int("--runs", default: 1000, min: 1)
        let maxSteps = try args.int("--max-steps", default: 2000, min: 1)
        options.jobs = try args.int("--jobs", default: 1, min: 1)
        options.lockReduction = !args.has("--no-lock-reduction")
        options.wakeupTrees = args.has("--wakeup-trees")
        options.shard = try CLI.shard(args, environment: environment)
        if options.jobs > 1 || options.shard != nil {
            guard [.auto, .dpor, .random, .axiomatic].contains(strategy) else { throw UsageError("--jobs and --shard need --strategy auto, dpor, random or axiomatic") }
            guard options.preemptionBound == nil else { throw UsageError("--jobs and --shard do not combine with --preemptions") }
        }
        if options.shard != nil && format != "json" { throw UsageError("--shard writes a partial report: use --format json and 'faultline merge'") }
        let chosen = try CLI.model(args)
        if chosen == .lkmm {
            for o in ["--strategy", "--preemptions", "--depth", "--seed", "--runs", "--jobs", "--shard"] where args.has(o) {
                throw UsageError("\(o) chooses how SC interleavings are searched; it does not combine with --model lkmm")
            }
        }
        if chosen == .sc && args.has("--unroll") { throw UsageError("--unroll bounds the LKMM engine's loops; it does not combine with --model sc") }
        let settings = ModelAnswer.Settings(strategy: strategy, unroll: try CLI.unroll(args))
        var worst: Int32 = 0
        var dots: [String] = []
        var htmlParts: [HTMLTrace.Part] = []
        defer { if let f = args.last("--html") { CLI.writeHTML(f, title: args.positional.joined(separator: " "), htmlParts, output) } }
        for (i, path) in args.positional.enumerated() {
            if Interrupts.shared.signal != 0 { break }
            // One budget per file, from before its front end to its last line of output.
            let budget = SearchBudget(timeout: options.timeout, maxExecutions: options.maxExecutions, maxMemory: options.maxMemory,
                                      progress: ProgressLine.make(label: path, unit: strategy == .bfs ? "states" : "executions", output: output))
            let (rc, drawn, pages) = Interrupts.shared.during(budget) {
                explore(path, first: i == 0, defines: defines, chosen: chosen, settings: settings, format: format, maxSteps: maxSteps,
                        traces: traces, layout: layout, options: options, budget: budget, output: output)
            }
            worst = ExitCode.worst(worst, rc)
            dots += drawn
            htmlParts += pages
        }
        if let dot = args.last("--dot") {
            if dots.isEmpty { output.error("faultline explore: no LKMM execution to draw (--dot draws the witness of an exists clause under lkmm)\n") }
            try CLI.write(dots.joined(), to: dot)
        }
        if Interrupts.shared.signal != 0 { return Interrupts.exitCode(Interrupts.shared.signal) }
        return worst
    }

    /// One file: its exit code (0, 1 violation, 2 bad input, 4 incomplete and nothing found), the
    /// witnesses to draw (`--dot`) and its violations for the `--html` page.
    func explore(_ path: String, first: Bool, defines: [Define], chosen: MemoryModel?, settings: ModelAnswer.Settings, format: String,
                 maxSteps: Int, traces: Bool, layout: TraceLayout, options: ExplorationOptions, budget: SearchBudget, output: Output)
        -> (Int32, [String], [HTMLTrace.Part]) {
        let program: Program
        do {
            program = try Frontend.load(path: path, defines: defines, includeDirs: args.all("-I"), deadline: budget.deadline)
        } catch {
            output.error((error as? Diagnostic)?.rendered ?? "faultline: internal error: \(error)\n")
            return (error is Diagnostic ? ExitCode.badInput.rawValue : ExitCode.internalError.rawValue, [], [])
        }
        let machine = Machine(program: program, maxSteps: maxSteps)
        var ctx = ExplorationContext(machine: machine)
        if args.has("--no-leak-check") { var c = ctx.checker; c.checkLeaks = false; ctx = ExplorationContext(machine: machine, checker: c) }
        // A split search is an SC search (merge puts SC results together).
        let models = options.shard != nil ? [MemoryModel.sc] : CLI.models(chosen, program)
        if models.contains(.sc) && settings.strategy == .axiomatic && !AxiomaticSearch.applies(ctx) {
            output.error("faultline explore: \(path): outside the axiomatic strategy's scope (it takes threads of loop-free reads, writes, barriers, RCU and SRCU only, with no check that can fail and no final/invariant block); use --strategy dpor or auto\n")
            return (ExitCode.badInput.rawValue, [], [])
        }
        var worst: Int32 = 0
        var reports: [RunReport] = []
        var executions = 0, elapsed = 0.0
        for model in models {
            var runOptions = options
            runOptions.budget = budget          // the models of one file share the run's budget
            let answer: ModelAnswer
            do { answer = try ModelAnswer.explore(model, ctx, options: runOptions, settings: settings) } catch {
                (budget.progress as? ProgressLine)?.finish()
                output.error((error as? Diagnostic)?.rendered ?? "faultline: internal error: \(error)\n")
                worst = ExitCode.worst(worst, ExitCode.badInput.rawValue)
                continue
            }
            (budget.progress as? ProgressLine)?.finish()
            var report = answer.report(path: path, defines: defines, includeDirs: args.all("-I"), context: ctx, shrink: !args.has("--no-shrink"),
                                       traces: traces, budget: budget)
            if answer.result.shard != nil {
                report.shardData = ShardData(result: answer.result, programHash: program.programHash, maxSteps: maxSteps,
                                             leakCheck: !args.has("--no-leak-check"), shrink: !args.has("--no-shrink"),
                                             includeDirs: args.all("-I"))
            }
            reports.append(report)
            executions += answer.result.executions
            elapsed += answer.result.elapsed
            worst = ExitCode.worst(worst, answer.result.hasViolations ? ExitCode.violation.rawValue
                                          : answer.result.complete ? ExitCode.ok.rawValue : ExitCode.incomplete.rawValue)
        }
        if reports.isEmpty { return (worst, [], []) }
        var dots: [String] = []
        for r in reports { if let w = r.witness { dots.append(w.dot(program: program, title: program.name.isEmpty ? path : program.name)) } }
        if format == "json" { output.print(RunReport.json(reports) + "\n") }
        else {
            if !first { output.print("\n") }
            output.print(RunReport.text(reports, layout: traces ? layout : nil))
        }
        output.error(String(format: "faultline: %@: %d executions in %.3f s\n", path, executions, elapsed))
        let pages = args.has("--html") ? reports.map { HTMLTrace.violations($0, context: ctx) } : []
        return (worst, dots, pages)
    }
}

/// `faultline replay`.
struct ReplayCommand {
    let args: Arguments
    init(_ words: [String]) throws {
        args = try Arguments(words, flags: CLI.traceFlags, valued: ["-D", "-I", "--trace", "--seed", "--format", "--max-steps", "--model", "--unroll", "--dot", "--width", "--html"])
    }

    func run(_ output: Output) throws -> Int32 {
        let model = try CLI.model(args)
        guard args.positional.count == 1 else { throw UsageError("expected exactly one race file") }
        if model == .lkmm || args.last("--trace")?.hasPrefix("lk1:") == true { return try replayLKMM(output) }
        if args.has("--dot") || args.has("--unroll") { throw UsageError("--dot and --unroll replay an LKMM execution: --model lkmm --trace lk1:...") }
        let path = args.positional[0]
        let defines = try CLI.defines(args)
        let format = args.last("--format") ?? "text"
        guard format == "text" || format == "json" else { throw UsageError("--format must be text or json") }
        let layout = try CLI.traceLayout(args)
        let program = try Frontend.load(path: path, defines: defines, includeDirs: args.all("-I"))
        let machine = Machine(program: program, maxSteps: try args.int("--max-steps", default: 2000, min: 1))
        let ctx = ExplorationContext(machine: machine)
        let outcome: Replay.Outcome
        var seed: UInt64? = nil
        var schedule: [Int]
        if let tokenText = args.last("--trace") {
            if args.has("--seed") { throw UsageError("give --trace or --seed, not both") }
            let token: ReplayToken
            do { token = try ReplayToken(parsing: tokenText) } catch { throw UsageError("\(error)") }
            if token.programHash != program.programHash {
                output.error("faultline replay: the token was made for another version of \(path) or other -D flags (program hash \(String(format: "%016llx", token.programHash)), this one is \(String(format: "%016llx", program.programHash)))\n")
                return ExitCode.badInput.rawValue
            }
            schedule = token.schedule
            do { outcome = try Replay.run(ctx, schedule: schedule) } catch {
                output.error("faultline replay: \(error)\n"); return ExitCode.badInput.rawValue
            }
        } else if let s = try args.seed("--seed") {
            seed = s
            outcome = try Replay.run(ctx, seed: s)
            schedule = outcome.events.map(\.thread)
        } else {
            throw UsageError("expected --trace TOKEN or --seed S")
        }
        var builder = ExplorationResult(strategy: "replay")
        builder.executions = 1
        var found: [FoundViolation] = []
        switch outcome.terminal {
        case .violation(let v)?:
            for w in [v] + v.alsoFound { found.append(FoundViolation(violation: w, schedule: schedule, seed: seed, occurrences: 1)) }
        case .outcome(let values)?:
            builder.outcomes = [(values, 1)]
            if let c = program.claimCondition { if c.evaluate(values) { builder.claimSatisfied = 1 } else { builder.claimViolated = 1 } }
        case .pruned?: builder.pruned = 1
        case nil: builder.complete = false; builder.stopReason = .scheduleEnded
        }
        for r in outcome.state.dataRaces {
            found.append(FoundViolation(violation: r.violation, schedule: Array(schedule.prefix(r.step + 1)), seed: nil, occurrences: 1))
        }
        builder.violations = found
        let report = RunReport(path: path, defines: defines, includeDirs: args.all("-I"), context: ctx, result: builder)
        if let f = args.last("--html") {
            CLI.writeHTML(f, title: path, [found.isEmpty ? HTMLTrace.replay(ctx, schedule: schedule, path: path) : HTMLTrace.violations(report, context: ctx)], output)
        }
        if found.isEmpty {
            // Still show the trace of the replayed schedule.
            let steps = (try? TraceRenderer.record(ctx, schedule: schedule).steps) ?? []
            if format == "text" {
                output.print(report.text(layout: layout))
                output.print("Trace (\(steps.count) steps):\n" + TraceRenderer.render(steps, threads: program.threadCount, rcuThread: program.rcuCallbackThread, layout: layout) + "\n")
            } else { output.print(report.json() + "\n") }
            return builder.complete ? ExitCode.ok.rawValue : ExitCode.incomplete.rawValue
        }
        output.print(format == "json" ? report.json() + "\n" : report.text(layout: layout))
        return ExitCode.violation.rawValue
    }
}

extension ReplayCommand {
    /// `replay --model lkmm --trace lk1:...`: the LKMM execution the token names, with its events,
    /// relations and, when the model forbids it, the axiom and cycle. Exit 1 when forbidden.
    func replayLKMM(_ output: Output) throws -> Int32 {
        let path = args.positional[0]
        guard let text = args.last("--trace"), let token = WitnessToken(parsing: text) else {
            throw UsageError("--model lkmm replays an execution token printed by explore --model lkmm: --trace lk1:HASH:PATHS:CO:RF")
        }
        if args.has("--seed") { throw UsageError("--seed replays an SC random run; it does not combine with --model lkmm") }
        let defines = try CLI.defines(args)
        let program = try Frontend.load(path: path, defines: defines, includeDirs: args.all("-I"))
        let ctx = ExplorationContext(machine: Machine(program: program, maxSteps: try args.int("--max-steps", default: 2000, min: 1)))
        do { _ = try LKMMSearch.prepare(ctx, unroll: try CLI.unroll(args)) } catch let e as LKMMUnsupported {
            throw Diagnostic(e.description, at: ModelAnswer.location(of: e, in: program))
        }
        if token.programHash != program.programHash {
            output.error("faultline replay: the token was made for another version of \(path) or other -D flags (program hash \(String(format: "%016llx", token.programHash)), this one is \(String(format: "%016llx", program.programHash)))\n")
            return ExitCode.badInput.rawValue
        }
        guard let w = WitnessReport.make(token.execution, unroll: try CLI.unroll(args), context: ctx, path: path, defines: defines) else {
            output.error("faultline replay: \(text) names no execution of \(path) (made with another --unroll?)\n")
            return ExitCode.badInput.rawValue
        }
        let name = program.name.isEmpty ? path : program.name
        if let dot = args.last("--dot") { try CLI.write(w.dot(program: program, title: name), to: dot) }
        var o = "Race \(name) (\(path)), model lkmm, execution \(w.token)\n"
        o += w.axiom.map { "Forbidden by \($0)\n" } ?? "Allowed\(w.witness.outcome.map { ": final state " + Wording.finalState($0, of: program) } ?? "")\n"
        if w.witness.dataRace { o += "Flag data-race\n" }
        o += w.text(program: program)
        if args.last("--format") == "json" {
            output.print(LKMMReplay.report(w, execution: token.execution, unroll: try CLI.unroll(args), path: path, defines: defines,
                                           includeDirs: args.all("-I"), context: ctx).json() + "\n")
        } else { output.print(o) }
        // A forbidden execution, or an allowed one with a data race (the finding), is a violation.
        return w.axiom == nil && !w.witness.dataRace ? 0 : ExitCode.violation.rawValue
    }
}

/// The report of one replayed LKMM execution, in the schema `explore` writes: one execution, its
/// final state when the model allows it, its data races as violations, and the execution as the
/// witness.
enum LKMMReplay {
    static func report(_ w: WitnessReport, execution: LKMMExecution, unroll: Int, path: String, defines: [Define], includeDirs: [String],
                       context ctx: ExplorationContext) -> RunReport {
        var result = ExplorationResult(strategy: "replay")
        result.executions = 1
        if w.axiom == nil, let v = w.witness.outcome {
            result.outcomes = [(v, 1)]
            if let c = ctx.machine.program.claimCondition { if c.evaluate(v) { result.claimSatisfied = 1 } else { result.claimViolated = 1 } }
        }
        let flags = w.witness.dataRace ? ["data-race"] : []
        result.lkmm = LKMMReport(unroll: unroll, boundReached: false, flags: flags, races: w.witness.raceFindings,
                                 witnesses: result.outcomes.isEmpty ? [] : [execution], forbidden: nil, candidates: 1,
                                 rejected: w.axiom.map { [($0, 1)] } ?? [], conditionDecided: true)
        var report = RunReport(path: path, defines: defines, includeDirs: includeDirs, context: ctx, result: result)
        report.model = .lkmm
        report.flags = flags
        report.witness = w
        return report
    }
}

/// `faultline list`.
struct ListCommand {
    let args: Arguments
    init(_ words: [String]) throws { args = try Arguments(words, flags: [], valued: ["--model", "--format"]) }

    func run(_ output: Output) throws -> Int32 {
        let files = try CLI.raceFiles(args.positional.isEmpty ? ["races"] : args.positional)
        let only = try CLI.model(args)
        let format = args.last("--format") ?? "text"
        guard format == "text" || format == "json" else { throw UsageError("--format must be text or json") }
        var rc: Int32 = 0
        for f in files {
            guard let header = Frontend.header(path: f) else {
                output.error("faultline list: cannot read \(f): \(FileSystemLoader.unreadable(f) ?? "unreadable")\n"); rc = 2; continue
            }
            let (exps, errors) = Expectations.read(header)
            let shown = exps.filter { only == nil || $0.model == nil || $0.model == only }
            if format == "json" {
                let entry = Schema.ListEntry(file: f, race: header.name, configurations: shown.map { e in
                    Schema.ListEntry.Configuration(configuration: e.configuration, defines: e.defines.map(\.description),
                                                   model: e.model?.rawValue, expected: e.expected)
                }, errors: errors.map { Schema.ListEntry.Problem(line: $0.location.line, message: $0.message) })
                output.print(Schema.encode(entry) + "\n")
                if !errors.isEmpty { rc = 2 }
                continue
            }
            output.print("\(f)  \(header.name)\n")
            for e in shown { output.print("  \(e.configuration) => \(e.model.map { $0.rawValue + " " } ?? "")\(e.expected)\n") }
            if exps.isEmpty && errors.isEmpty { output.print("  (no expectations)\n") }
            else if shown.isEmpty && errors.isEmpty { output.print("  (no expectations under \(only!.rawValue))\n") }
            for e in errors { output.error(e.rendered); rc = 2 }
        }
        return rc
    }
}
