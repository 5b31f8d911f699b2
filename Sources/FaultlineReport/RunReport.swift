import FaultlineLanguage
import FaultlineMachine
import FaultlineCheck
import FaultlineExplore

/// A violation ready to show: its facts and their words, its trace (replayed from the
/// schedule) and the command that reproduces it.
package struct ViolationReport: Sendable {
    package var kind: ViolationKind
    package var facts: ViolationFacts
    package var message: String
    package var location: SourceLocation
    package var thread: Int
    package var occurrences: Int
    package var steps: [TraceStep]
    package var token: String
    package var replayCommand: String
}

/// Everything `explore` prints for one file and configuration, in text and JSON.
package struct RunReport: Sendable {
    package var path: String
    package var defines: [Define]
    package var program: Program
    package var result: ExplorationResult
    package var violations: [ViolationReport]
    package var observedNames: [String]
    /// The final states the report lists (the first of `result.outcomes`; see `maxListedValues`).
    package var renderedOutcomes: [(String, Int)]
    /// Each listed final state's values as herd7 spells them (`1`, `x`), in `observedNames` order.
    var renderedValues: [[String]]
    /// Final states found but not listed, and why.
    package var unlisted = 0
    package var listingCut: ListingCut? = nil

    /// Why a report lists fewer final states than the search found.
    package enum ListingCut: String, Sendable {
        /// `maxListedValues`: the same cut on every machine.
        case size
        /// The run's deadline passed while the listing was written (only for a run already
        /// incomplete: its search was cut by a limit).
        case timeout
    }

    /// A report lists at most this many observed values (final states × the locations each
    /// records): the first final states in sorted order, the rest counted. It bounds the time and
    /// size of rendering (220,231 states of 19 registers were a 74 MB JSON report that took 5 s
    /// to write) by a count, so a complete search gives the same report on every machine; only a
    /// search a limit already cut is also cut by the clock (`ListingCut.timeout`).
    package static let maxListedValues = 50_000
    /// Set for a shard's report: what `faultline merge` needs to rebuild the whole result.
    package var shardData: ShardData? = nil
    /// The memory model the verdict is under.
    package var model: MemoryModel = .sc
    /// herd7 flags the search raised (LKMM: `data-race`, ...).
    package var flags: [String] = []
    /// LKMM: the execution shown for the claim (allowed, or the axiom that forbids it).
    package var witness: WitnessReport?

    /// `includeDirs`: the run's `-I` directories, which every printed Replay line repeats.
    /// `traces: false` (`--no-trace`) replays each violation only to name its objects and
    /// builds no trace.
    /// `deadline` (monotonic seconds): the run's; the listing of an incomplete result stops there.
    package init(path: String, defines: [Define], includeDirs: [String] = [], context: ExplorationContext, result: ExplorationResult, traces: Bool = true,
                 deadline: Double? = nil) {
        self.path = path
        self.defines = defines
        let program = context.machine.program
        self.program = program
        self.result = result
        let cap = max(1, RunReport.maxListedValues / max(1, result.outcomes.first?.0.count ?? 1))
        var rendered: [(String, Int)] = [], values: [[String]] = []
        for (k, (state, count)) in result.outcomes.enumerated() {
            if k == cap { listingCut = .size; break }
            if !result.complete, let deadline, k & 255 == 255, monotonicSeconds() > deadline { listingCut = .timeout; break }
            rendered.append((Wording.finalState(state, of: program), count))
            values.append(state.map { Wording.value($0, of: program) })
        }
        renderedOutcomes = rendered
        renderedValues = values
        unlisted = result.outcomes.count - rendered.count
        observedNames = program.observed.map { o in
            switch o { case .register(_, _, let n): return n; case .memory(_, let n, _): return n }
        }
        var vs: [ViolationReport] = []
        for f in result.violations {
            let token = ReplayToken(programHash: context.machine.program.programHash, schedule: f.schedule).description
            var steps: [TraceStep] = []
            var final = context.machine.initialState()
            var events: [StepEvent] = []
            if traces, let rec = try? TraceRenderer.record(context, schedule: f.schedule) {
                steps = rec.steps
                final = rec.outcome.state
                events = rec.outcome.events
                // The step that violated shows the violation, not a value it never produced.
                if let last = steps.indices.last, f.violation.thread == steps[last].thread, f.violation.location == rec.outcome.events[last].location {
                    steps[last].violation = f.violation.kind
                    steps[last].value = ""
                    steps[last].effect = steps[last].operation.isEmpty ? "" : "\(steps[last].operation) \(steps[last].cell)"
                } else if f.violation.thread >= 0, f.violation.location >= 0 {
                    // A check in local code after the thread's last visible step (e.g. a BUG_ON on
                    // registers): one more row, where it fired.
                    let th = rec.outcome.state.threads[f.violation.thread]
                    var (frames, shown) = TraceRenderer.callStack(th, program: program)
                    let loc = program.locations[Int(f.violation.location)]
                    if frames.isEmpty || frames[frames.count - 1].location != loc {
                        frames = [TraceFrame(function: program.functions[program.threadFunctions[f.violation.thread]].name, location: loc)]
                        shown = 0
                    }
                    steps.append(TraceStep(index: steps.count + 1, thread: f.violation.thread, frames: frames, shown: shown, operation: "",
                                           cell: "", value: "", before: "", effect: "", violation: f.violation.kind, local: true))
                }
            } else if let out = try? Replay.run(context, schedule: f.schedule) {
                final = out.state
                events = out.events
            }
            // A livelock shows one lap of its cycle, the steps keeping their numbers (the replay
            // runs the whole schedule, the way into the cycle included); its last step closes it.
            var loop: [Int32] = []
            if f.violation.kind == .livelock {
                let lap = Int(f.violation.facts.count)
                loop = events.suffix(lap).map(\.location)
                if !steps.isEmpty {
                    steps = Array(steps.suffix(lap))
                    steps[steps.count - 1].violation = .livelock
                }
            }
            let namer = Namer(machine: context.machine, state: final)
            let loc = f.violation.location >= 0 ? context.machine.program.locations[Int(f.violation.location)] : SourceLocation.unknown
            let flags = includeDirs.map { " -I " + shellQuote($0) }.joined() + defines.map { " " + shellQuote($0.description) }.joined()
            let how = f.seed.map { "--seed 0x" + String($0, radix: 16) } ?? "--trace \(token)"
            vs.append(ViolationReport(kind: f.violation.kind, facts: f.violation.facts, message: Wording.message(f.violation, namer, loop: loop),
                                      location: loc, thread: f.violation.thread,
                                      occurrences: f.occurrences, steps: steps, token: token,
                                      replayCommand: "faultline replay \(shellQuote(path))\(flags) \(how)"))
        }
        // Under LKMM: the data races the model flags, each with the execution that shows it (the
        // program's paths computed once for them and the witness).
        let prepared = result.lkmm.flatMap { lk in
            lk.races.isEmpty && context.machine.program.claimCondition == nil ? nil : try? LKMMSearch.prepare(context, unroll: lk.unroll)
        }
        if let lk = result.lkmm {
            for race in lk.races {
                if let v = ViolationReport.lkmmRace(race, unroll: lk.unroll, context: context, path: path, defines: defines, prepared: prepared) { vs.append(v) }
            }
        }
        violations = vs
        witness = WitnessReport.select(result, context: context, path: path, defines: defines, prepared: prepared)
    }

    /// The claim's verdict (nil when the file has no claim).
    package var verdict: Expectation.Verdict? { program.claimCondition == nil ? nil : result.verdict(hasClaim: true) }

    /// What an incomplete search adds to a verdict that more executions could change (never,
    /// always, no violations): " so far (incomplete: timeout after N executions)"; empty for a
    /// complete one.
    package var soFar: String { result.complete ? "" : " so far (incomplete: \(stopped))" }

    /// "timeout after N executions".
    var stopped: String {
        "\(result.stopReason?.rawValue ?? "stopped") after \(result.executions) execution\(result.executions == 1 ? "" : "s")"
    }

    /// What a verdict line adds: nothing when complete; " (decided before the search stopped:
    /// timeout after N executions)" when the verdict is final anyway (LKMM searches the
    /// condition's candidates first); else `soFar` for verdicts more executions could change.
    func verdictNote(_ v: Expectation.Verdict) -> String {
        guard !result.complete else { return "" }
        if result.verdictDecided { return " (decided before the search stopped: \(stopped))" }
        return v == .sometimes ? "" : soFar
    }

    var configuration: String { defines.isEmpty ? "" : " [" + defines.map(\.description).joined(separator: " ") + "]" }

    // MARK: text

    var raceLine: String { "Race \(program.name.isEmpty ? path : program.name) (\(path))\(configuration)" }

    package func text(layout: TraceLayout? = TraceLayout()) -> String {
        raceLine + ", model \(model.rawValue)\n" + body(layout: layout)
    }

    /// One file answered under several models: the race line once, each model's answer under
    /// its name, and what the difference means.
    package static func text(_ reports: [RunReport], layout: TraceLayout? = TraceLayout()) -> String {
        guard let first = reports.first, reports.count > 1 else { return reports.first?.text(layout: layout) ?? "" }
        var o = first.raceLine + ", models " + reports.map(\.model.rawValue).joined(separator: " and ") + "\n"
        for r in reports {
            o += "Under \(r.model.rawValue):\n"
            for l in r.body(layout: layout).split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                o += l.isEmpty ? "\n" : "  " + l + "\n"
            }
        }
        if let line = difference(reports) { o += line + "\n" }
        return o
    }

    /// One line when the models disagree on the claim (nil when they agree).
    package static func difference(_ reports: [RunReport]) -> String? {
        guard let lkmm = reports.first(where: { $0.model == .lkmm }), let sc = reports.first(where: { $0.model == .sc }),
              let l = lkmm.verdict, let s = sc.verdict else { return nil }
        if l == s {
            let extra = lkmm.result.outcomes.count - sc.result.outcomes.count
            return extra > 0 ? "LKMM allows \(extra) final state\(extra == 1 ? "" : "s") SC does not (weak ordering); the verdict is the same" : nil
        }
        if s == .never { return "allowed by LKMM, not under SC: the outcome needs weak ordering" }
        if l == .never { return "allowed under SC, not by LKMM: the model forbids an interleaving's outcome" }
        return "the verdict differs: lkmm \(l.rawValue), sc \(s.rawValue)"
    }

    func body(layout: TraceLayout?) -> String {
        var o: [String] = []
        var summary = "Strategy \(result.strategy): \(result.executions) execution\(result.executions == 1 ? "" : "s"), "
        summary += result.complete ? "complete" : "INCOMPLETE (\(result.stopReason?.rawValue ?? "stopped"))"
        if let d = result.distinctStates { summary += ", \(d) distinct states" }
        if result.pruned > 0 { summary += ", \(result.pruned) pruned by assume" }
        if result.filteredOut > 0 { summary += ", \(result.filteredOut) filtered out" }
        o.append(summary)
        if !program.observed.isEmpty {
            // LKMM: the final states of a search cut short are a partial list (the verdict may be decided).
            o.append("States \(result.outcomes.count)" + (result.lkmm != nil && !result.complete ? " (partial)" : ""))
            let w = renderedOutcomes.map { String($0.1).count }.max() ?? 1
            for (s, n) in renderedOutcomes { o.append("  " + TraceRenderer.pad(String(n), w) + "  :> \(s)") }
            if let cut = listingCut {
                let why = cut == .size ? "a report lists at most \(RunReport.maxListedValues) values: \(renderedOutcomes.count) states of \(renderedValues.first?.count ?? 0) locations"
                                       : "the run's time limit passed while the report was written"
                o.append("  … \(unlisted) more final state\(unlisted == 1 ? "" : "s") not listed (\(why))")
            }
        } else if !renderedOutcomes.isEmpty {
            o.append("Final states: \(renderedOutcomes.first!.1) execution\(renderedOutcomes.first!.1 == 1 ? "" : "s") finished")
        }
        if let claim = program.claim, let v = verdict {
            let q = claim.quantifier.rawValue
            o.append("\(q) \(claim.text): \(v.rawValue)\(verdictNote(v)) (\(result.claimSatisfied) of \(result.claimSatisfied + result.claimViolated) executions that finished satisfy it)")
        }
        if let lk = result.lkmm {
            var line = "Model lkmm (linux-kernel.cfg, unroll \(lk.unroll)): \(lk.candidates) candidate execution\(lk.candidates == 1 ? "" : "s")"
            if !lk.rejected.isEmpty { line += ", rejected by " + lk.rejected.map { "\($0.axiom) \($0.count)" }.joined(separator: ", ") }
            o.append(line)
            if lk.boundReached { o.append("Loop bound \(lk.unroll) reached: executions that need more iterations are not counted (as herd7; --unroll N)") }
        }
        if !flags.isEmpty { o.append("Flag \(flags.joined(separator: " "))") }
        if let w = witness, layout != nil {
            o.append(w.axiom == nil ? "Witness: an execution that satisfies the condition" : "Forbidden: the executions that satisfy the condition break \(w.axiom!); one of them")
            for l in w.text(program: program).split(separator: "\n") { o.append(String(l)) }
            o.append("  Replay: \(w.replayCommand)")
        }
        if violations.isEmpty {
            o.append(result.complete ? "No violations." : "No violations\(soFar).")
        }
        for (i, v) in violations.enumerated() {
            o.append("")
            o.append("Violation \(i + 1): \(v.kind.rawValue) at \(v.location)\(v.thread >= 0 ? " (P\(v.thread))" : "") — \(v.occurrences) execution\(v.occurrences == 1 ? "" : "s")")
            o.append("  \(v.message)")
            if v.location.line > 0 { o.append("  > \(v.location.sourceText)") }
            if let layout, !v.steps.isEmpty {
                let folded = TraceRenderer.foldedCount(TraceRenderer.rows(v.steps, full: layout.full))
                o.append("  Trace (\(v.steps.count) step\(v.steps.count == 1 ? "" : "s")" + (folded > 0 ? ", \(folded) folded; --full shows them" : "") + "):")
                var inner = layout
                inner.width = max(40, layout.width - 2)
                for l in TraceRenderer.render(v.steps, threads: program.threadCount, rcuThread: program.rcuCallbackThread, layout: inner).split(separator: "\n", omittingEmptySubsequences: false) {
                    o.append("  " + l)
                }
            }
            o.append("  Replay: \(v.replayCommand)")
        }
        return o.joined(separator: "\n") + "\n"
    }

    // MARK: JSON

    /// The report as schema 1 (docs/json.md).
    package func document() -> Schema.Report {
        var d = Schema.Report(race: program.name, file: path, defines: defines.map(\.description), strategy: result.strategy,
                              model: model.rawValue, complete: result.complete, stopReason: result.stopReason,
                              executions: result.executions, pruned: result.pruned, distinctStates: result.distinctStates,
                              observed: observedNames, outcomes: [], claim: nil, flags: flags.isEmpty ? nil : flags,
                              witness: witness?.json(), violations: violations.map(\.document))
        if let cut = listingCut { d.unlistedOutcomes = unlisted; d.listingCut = cut.rawValue }
        for (k, (values, count)) in result.outcomes.prefix(renderedOutcomes.count).enumerated() {
            var named: [String: Schema.Value] = [:]
            for (i, name) in observedNames.enumerated() where i < values.count {
                let r = renderedValues[k][i]
                named[name] = Int64(r).map(Schema.Value.int) ?? .name(r)
            }
            d.outcomes.append(Schema.Outcome(values: named, state: renderedOutcomes[k].0, count: count))
        }
        if let claim = program.claim, let v = verdict {
            d.claim = Schema.Claim(kind: claim.quantifier.rawValue, condition: claim.text, verdict: v.rawValue,
                                   satisfied: result.claimSatisfied, unsatisfied: result.claimViolated,
                                   decided: result.complete ? nil : result.verdictDecided, location: Schema.Location(claim.location))
        }
        if let data = shardData, let shard = result.shard {
            d.shard = Schema.ShardIndex(index: shard.index, count: shard.count)
            d.parts = data.parts()
        }
        return d
    }

    /// One line of JSON.
    package func json() -> String { Schema.encode(document()) }

    /// One file answered under several models: the first model's report (its claim and
    /// `outcomes` at the top, as with one model), each other model's beside it under its name.
    package static func json(_ reports: [RunReport]) -> String {
        guard var d = reports.first?.document() else { return "null" }
        for r in reports.dropFirst() {
            let nested = Schema.Nested.report(r.document())
            switch r.model {
            case .lkmm: d.lkmm = nested
            case .sc: d.sc = nested
            }
        }
        d.difference = difference(reports)
        return Schema.encode(d)
    }
}

extension ViolationReport {
    /// The violation as schema 1.
    package var document: Schema.Violation {
        Schema.Violation(kind: kind.rawValue, cause: facts.cause.rawValue, message: message,
                         location: location.line > 0 ? Schema.Location(location) : nil, thread: thread >= 0 ? thread : nil,
                         occurrences: occurrences, steps: steps.map(\.document), token: token, replay: replayCommand)
    }
}

extension TraceStep {
    /// The step as schema 1.
    package var document: Schema.Step {
        Schema.Step(step: index, thread: thread, location: Schema.Location(location), shown: Schema.Location(shownLocation),
                    function: frames.last?.function ?? "",
                    stack: frames.map { Schema.Frame(function: $0.function, location: Schema.Location($0.location)) },
                    source: source, operation: operation, cell: cell.isEmpty ? nil : cell, value: value.isEmpty ? nil : value,
                    before: before.isEmpty ? nil : before, effect: effect, violation: violation?.rawValue, local: local ? true : nil)
    }
}

/// Quotes a word for a POSIX shell when it needs it.
package func shellQuote(_ s: String) -> String {
    let safe = s.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:+,@%".contains($0) }
    if safe && !s.isEmpty { return s }
    return "'" + s.replacing("'", with: "'\\''") + "'"
}
