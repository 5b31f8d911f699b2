import FaultlineLanguage
import FaultlineMachine
import FaultlineCheck
import FaultlineExplore

/// The LKMM execution a report shows for the claim: an execution that reaches the claim's
/// condition when the model allows one, else the first candidate that would and the axiom that
/// forbids it — with the command that replays exactly that execution, as text and as Graphviz DOT.
package struct WitnessReport: Sendable {
    package var witness: LKMMWitness
    /// The token of the execution (`lk1:...`) and the command that shows it again.
    package var token: String
    package var replayCommand: String

    /// nil when allowed; else the axiom the execution breaks.
    package var axiom: String? { witness.axiom }

    /// The execution to show for `result` (nil without a claim, or when no candidate reaches its condition).
    package static func select(_ result: ExplorationResult, context ctx: ExplorationContext, path: String, defines: [Define],
                               prepared: LKMMSearch.Prepared? = nil) -> WitnessReport? {
        guard let lk = result.lkmm, let claim = ctx.machine.program.claimCondition else { return nil }
        let execution: LKMMExecution
        if let k = result.outcomes.firstIndex(where: { claim.evaluate($0.0) }), k < lk.witnesses.count {
            execution = lk.witnesses[k]
        } else if let f = lk.forbidden {
            execution = f.execution
        } else { return nil }
        return make(execution, unroll: lk.unroll, context: ctx, path: path, defines: defines, prepared: prepared)
    }

    /// The execution a token names (nil when it names none of this program's).
    package static func make(_ execution: LKMMExecution, unroll: Int, context ctx: ExplorationContext, path: String, defines: [Define],
                             prepared: LKMMSearch.Prepared? = nil) -> WitnessReport? {
        guard let w = LKMMSearch(unroll: unroll).witness(ctx, execution, prepared: prepared) else { return nil }
        let flags = defines.map { " " + shellQuote($0.description) }.joined() + (unroll == 2 ? "" : " --unroll \(unroll)")
        let token = WitnessToken(programHash: ctx.machine.program.programHash, execution: execution).description
        return WitnessReport(witness: w, token: token,
                             replayCommand: "faultline replay \(shellQuote(path))\(flags) --model lkmm --trace \(token)")
    }

    /// How an event reads: `e3 R[once] y=0`, `e4 F[mb]`.
    static func name(_ e: LKMMWitness.Event, after: String = " ") -> String {
        "e\(e.id)" + after + (e.kind == "F" ? "F[\(e.tags.joined(separator: ","))]" : "\(e.kind)[\(e.tags.joined(separator: ","))] \(e.location)=\(e.value)")
    }

    /// Where an event is in the source: `line 17: WRITE_ONCE(*x, 1);` (with the file when it is
    /// not the test's own); nil for an initial write.
    static func source(_ e: LKMMWitness.Event, _ program: Program) -> String? {
        guard e.source >= 0, Int(e.source) < program.locations.count else { return nil }
        let l = program.locations[Int(e.source)]
        return (l.file === program.file.location.file ? "line \(l.line)" : "\(l.file?.path ?? ""):\(l.line)") + ": " + l.sourceText
    }

    /// The execution as text: events per CPU with their source lines, rf, co, fr, ppo (what
    /// orders a CPU's own events; `-` says nothing does), the relations the axioms are about —
    /// hb (happens-before), prop between CPUs, pb (propagates-before), rb (RCU, when the test has
    /// grace periods) — and, when the model forbids it, the axiom and its cycle.
    package func text(program: Program) -> String {
        let w = witness
        var out = ""
        let width = w.events.filter { $0.thread >= 0 }.map { WitnessReport.name($0).count }.max() ?? 0
        for t in Set(w.events.map(\.thread)).filter({ $0 >= 0 }).sorted() {
            out += "  P\(t):\n"
            for e in w.events where e.thread == t {
                let n = WitnessReport.name(e)
                out += "    " + n + (WitnessReport.source(e, program).map { String(repeating: " ", count: width - n.count) + "   " + $0 } ?? "") + "\n"
            }
        }
        let inits = w.events.filter { $0.thread < 0 }
        if !inits.isEmpty { out += "  init: " + inits.map { "e\($0.id) \($0.location)=\($0.value)" }.joined(separator: ", ") + "\n" }
        for (rel, edges) in w.relations where ["rf", "co", "fr", "ppo", "hb", "prop", "pb", "rb"].contains(rel) {
            // prop within a CPU is part of hb; between CPUs it says which writes propagate before which.
            let shown = rel == "prop" ? edges.filter { w.events[$0.from].thread != w.events[$0.to].thread } : edges
            let name = rel == "prop" ? "prop (between CPUs)" : rel
            out += "  \(name): " + (shown.isEmpty ? "-" : shown.map { "e\($0.from)→e\($0.to)" }.joined(separator: " ")) + "\n"
        }
        if w.dataRace { out += "  data-race" + (w.races.isEmpty ? "" : ": " + w.races.map { "e\($0.from)↔e\($0.to)" }.joined(separator: " ")) + "\n" }
        if let a = w.axiom {
            out += "  violates \(a)"
            if !w.cycle.isEmpty { out += ": " + w.cycle.map { "e\($0.from) -\($0.label)→ " }.joined() + "e\(w.cycle.first!.from)" }
            out += "\n"
        }
        return out
    }

    /// The execution as a Graphviz digraph: one cluster per CPU (events in program order, with
    /// their source lines), the initial writes apart, the edges of the relations the text shows
    /// (rf, co, fr, ppo, hb, prop between CPUs, pb, rb), the racing pairs dashed, and the
    /// forbidding axiom's cycle drawn bold.
    package func dot(program: Program, title: String) -> String {
        func esc(_ s: String) -> String { s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") }
        func q(_ s: String) -> String { "\"" + esc(s) + "\"" }
        /// Already escaped: lines joined by DOT's `\n`.
        func label(_ e: LKMMWitness.Event) -> String {
            esc(WitnessReport.name(e, after: ": ")) + (WitnessReport.source(e, program).map { "\\n" + esc($0) } ?? "")
        }
        var o = "digraph \(q(title)) {\n"
        o += "  label=\(q(title + (axiom.map { " — forbidden by \($0)" } ?? " — allowed"))); labelloc=t;\n"
        o += "  node [shape=box, fontname=\"monospace\", fontsize=10];\n"
        let inits = witness.events.filter { $0.thread < 0 }
        if !inits.isEmpty {
            o += "  subgraph cluster_init {\n    label=\"init\"; style=dashed;\n"
            for e in inits { o += "    e\(e.id) [label=\(q("e\(e.id): \(e.location)=\(e.value)"))];\n" }
            o += "  }\n"
        }
        for t in Set(witness.events.map(\.thread)).filter({ $0 >= 0 }).sorted() {
            let es = witness.events.filter { $0.thread == t }
            o += "  subgraph cluster_P\(t) {\n    label=\"P\(t)\";\n"
            for e in es { o += "    e\(e.id) [label=\"\(label(e))\"];\n" }
            for (a, b) in zip(es, es.dropFirst()) { o += "    e\(a.id) -> e\(b.id) [label=\"po\", color=gray, fontcolor=gray];\n" }
            o += "  }\n"
        }
        let colours = ["rf": "red", "co": "blue", "fr": "darkorange", "ppo": "darkgreen", "hb": "purple", "prop": "brown",
                       "pb": "magenta", "rb": "cyan4"]
        for (name, edges) in witness.relations where colours[name] != nil {
            // As in the text: prop within a CPU is part of hb.
            for e in edges where name != "prop" || witness.events[e.from].thread != witness.events[e.to].thread {
                o += "  e\(e.from) -> e\(e.to) [label=\"\(name)\", color=\(colours[name]!), fontcolor=\(colours[name]!), constraint=false];\n"
            }
        }
        for e in witness.races {
            o += "  e\(e.from) -> e\(e.to) [label=\"data-race\", color=red, fontcolor=red, style=dashed, dir=both, constraint=false];\n"
        }
        for e in witness.cycle {
            o += "  e\(e.from) -> e\(e.to) [label=\(q(e.label)), penwidth=2.5, style=bold, constraint=false];\n"
        }
        return o + "}\n"
    }

    /// The JSON beside a report's outcomes.
    package func json() -> JSON {
        var kv: [(String, JSON)] = [("token", .string(token)), ("allowed", .bool(axiom == nil))]
        if let a = axiom {
            kv.append(("axiom", .string(a)))
            kv.append(("cycle", .array(witness.cycle.map { .object([("from", .int($0.from)), ("to", .int($0.to)), ("relation", .string($0.label))]) })))
        }
        kv.append(("replay", .string(replayCommand)))
        return .object(kv)
    }
}

extension ViolationReport {
    /// A data race the LKMM engine found, as the SC data-race check reports one: at the second
    /// access (the later in rf/co/fr), naming the first with its source line, a two-step trace of
    /// the pair, and the LKMM replay command of the execution that shows it.
    static func lkmmRace(_ race: LKMMRace, unroll: Int, context ctx: ExplorationContext, path: String, defines: [Define],
                         prepared: LKMMSearch.Prepared?) -> ViolationReport? {
        guard let w = WitnessReport.make(race.execution, unroll: unroll, context: ctx, path: path, defines: defines, prepared: prepared) else { return nil }
        let program = ctx.machine.program
        let a = race.first, b = race.second
        var facts = ViolationFacts(cause: .dataRace, access: b.write ? .write : .read, address: b.address,
                                   object: Int32(Address.object(b.address)), site: a.location, siteThread: Int16(a.thread))
        facts.text = (b.write ? 1 : 0) | (b.plain ? 2 : 0) | (a.write ? 8 : 0) | (a.plain ? 16 : 0)
        var violation = Violation(kind: .dataRace, facts: facts, thread: b.thread, location: b.location)
        violation.otherLocation = a.location
        violation.otherThread = a.thread
        let namer = Namer(machine: ctx.machine, state: ctx.machine.initialState())
        // The pair's events in the witness, for the values they read or wrote.
        let pair = w.witness.races.first { e in
            let x = w.witness.events[e.from], y = w.witness.events[e.to]
            return (x.thread, x.source, y.thread, y.source) == (a.thread, a.location, b.thread, b.location)
        }
        let steps: [TraceStep] = [(a, pair?.from), (b, pair?.to)].enumerated().map { k, access in
            let (acc, id) = access
            let cell = namer.cell(acc.address)
            let value = id.map { namer.value(w.witness.events[$0].value, type: cell.type, field: cell.field) } ?? ""
            let function = program.functions[program.threadFunctions[acc.thread]].name
            let loc = acc.location >= 0 ? program.locations[Int(acc.location)] : SourceLocation.unknown
            return TraceStep(index: k + 1, thread: acc.thread, frames: [TraceFrame(function: function, location: loc)], shown: 0,
                             operation: acc.write ? "write" : "read", cell: cell.name, value: value, before: "",
                             effect: value.isEmpty ? "" : acc.write ? "\(cell.name) := \(value)" : "\(cell.name) == \(value)",
                             violation: k == 1 ? .dataRace : nil)
        }
        return ViolationReport(kind: .dataRace, facts: facts, message: Wording.message(violation, namer),
                               location: b.location >= 0 ? program.locations[Int(b.location)] : .unknown, thread: b.thread,
                               occurrences: race.occurrences, steps: steps, token: w.token, replayCommand: w.replayCommand)
    }
}

/// An LKMM execution bound to the program it was found in: `lk1:<program hash>:<paths>:<co>:<rf>`
/// (the hash of the preprocessed program, as in SC replay tokens, so a token made for another
/// version of the file or other `-D` flags is refused instead of naming another execution).
package struct WitnessToken: Sendable, Equatable, CustomStringConvertible {
    package var programHash: UInt64
    package var execution: LKMMExecution

    package init(programHash: UInt64, execution: LKMMExecution) {
        self.programHash = programHash
        self.execution = execution
    }

    package init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "lk1", parts[1].count == 16, let h = UInt64(parts[1], radix: 16),
              let x = LKMMExecution(token: "lk1:" + parts[2...].joined(separator: ":")) else { return nil }
        programHash = h
        execution = x
    }

    package var description: String {
        let h = String(programHash, radix: 16)
        return "lk1:" + String(repeating: "0", count: 16 - h.count) + h + String(execution.description.dropFirst(3))
    }
}
