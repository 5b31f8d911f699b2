import FaultlineLanguage
import FaultlineMachine
import FaultlineExplore

/// Text for one LKMM execution: events per CPU with their source lines, rf, co, fr and, when the
/// model forbids it, the axiom and its cycle (`RunReport` and `replay --model lkmm` print it).
public enum LKMMText {
    /// One execution: its events by CPU with source lines, then rf, co, fr and, when forbidden,
    /// the axiom and its cycle.
    public static func witness(_ w: LKMMWitness, program: Program) -> String {
        func name(_ e: LKMMWitness.Event) -> String {
            let what = e.kind == "F" ? e.tags.joined(separator: ",") : "\(e.kind)[\(e.tags.joined(separator: ","))] \(e.location)=\(e.value)"
            return "e\(e.id) \(what)"
        }
        var out = ""
        let threads = Set(w.events.map(\.thread)).filter { $0 >= 0 }.sorted()
        let width = w.events.filter { $0.thread >= 0 }.map { name($0).count }.max() ?? 0
        for t in threads {
            out += "  P\(t):\n"
            for e in w.events where e.thread == t {
                var line = "    " + name(e)
                if e.source >= 0 {
                    line += String(repeating: " ", count: width - name(e).count)
                    // The source line; its file too when it is not the test's own.
                    let l = program.locations[Int(e.source)]
                    let at = l.file === program.file.location.file ? "line \(l.line)" : "\(l.file?.path ?? ""):\(l.line)"
                    line += "   \(at): \(l.sourceText)"
                }
                out += line + "\n"
            }
        }
        let inits = w.events.filter { $0.thread < 0 }
        if !inits.isEmpty { out += "  init: " + inits.map { "e\($0.id) \($0.location)=\($0.value)" }.joined(separator: ", ") + "\n" }
        for (rel, edges) in w.relations where ["rf", "co", "fr"].contains(rel) {
            out += "  \(rel): " + (edges.isEmpty ? "-" : edges.map { "e\($0.from)→e\($0.to)" }.joined(separator: " ")) + "\n"
        }
        if w.dataRace { out += "  data-race\n" }
        if let a = w.axiom {
            out += "  violates \(a)"
            if !w.cycle.isEmpty { out += ": " + w.cycle.map { "e\($0.from) -\($0.label)→ " }.joined() + "e\(w.cycle.first!.from)" }
            out += "\n"
        }
        return out
    }
}
