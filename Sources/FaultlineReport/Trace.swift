import FaultlineLanguage
import FaultlineMachine
import FaultlineExplore

/// One function activation a step is in: the function and where it is (for the innermost frame
/// the step itself, for the others the call they are in).
package struct TraceFrame: Sendable {
    package var function: String
    package var location: SourceLocation
}

/// One step of a trace, as facts: which CPU, the call stack, what it did to which cell, and the
/// words for it.
package struct TraceStep: Sendable {
    package var index: Int
    package var thread: Int
    /// Outermost first; the last frame is where the step is.
    package var frames: [TraceFrame]
    /// The frame the row shows: the step's own, or its caller's when the step is in a one-line
    /// helper (`static pte_t ptep_get(pte_t *p) { return READ_ONCE(*p); }`).
    package var shown: Int
    /// `read`, `write`, `atomic add`, `lock`, `down_read`, `kfree`, ...
    package var operation: String
    /// The cell or object it used (`vma.vm_start`), empty when none.
    package var cell: String
    /// The value read or written, as the cell's type reads (empty when none).
    package var value: String
    /// The value before an atomic update (empty otherwise).
    package var before: String
    /// The words: `vma.vm_start == 3`, `lock ptl#9`.
    package var effect: String
    /// The violation this step raised, if any.
    package var violation: ViolationKind?
    /// A local check after the thread's last visible step (a BUG_ON on registers): no operation.
    package var local: Bool = false
    /// What the step touched, for folding.
    var access: Access?

    package var location: SourceLocation { frames.last?.location ?? .unknown }
    package var shownLocation: SourceLocation { frames.isEmpty ? .unknown : frames[shown].location }
    /// `do_swap_page()`, or `do_swap_page() → ptep_get()` when a helper's caller is shown.
    package var function: String {
        guard !frames.isEmpty else { return "" }
        return frames[shown].function + "()" + (shown < frames.count - 1 ? " → \(frames[frames.count - 1].function)()" : "")
    }
    /// The source line the row shows, whitespace collapsed (no tabs).
    package var source: String { TraceRenderer.collapse(shownLocation.sourceText) }
    /// `swap.h:230`
    package var site: String { TraceRenderer.site(shownLocation) }
}

/// How a text trace is laid out: `--width`, `--full` (no folding), `--stacks` (call chains).
package struct TraceLayout: Sendable {
    package var width: Int
    package var full: Bool
    package var stacks: Bool
    package init(width: Int = 100, full: Bool = false, stacks: Bool = false) {
        self.width = width
        self.full = full
        self.stacks = stacks
    }
}

/// Replays a schedule into trace steps, and renders them one column per CPU.
package enum TraceRenderer {
    /// The replayed steps of a schedule, the state it ended in and how it ended.
    package struct Recording {
        package var steps: [TraceStep]
        package var outcome: Replay.Outcome
        /// With `keepStates`: the state after each step.
        package var states: [State] = []
    }

    /// Replays `schedule`, reading each step's call stack and access before it runs.
    package static func record(_ ctx: ExplorationContext, schedule: [Int], keepStates: Bool = false) throws -> Recording {
        let m = ctx.machine, p = m.program
        var stacks: [[TraceFrame]] = []
        var accesses: [Access?] = []
        var shown: [Int] = []
        var after: [Int64?] = []
        var states: [State] = []
        let outcome = try Replay.run(ctx, schedule: schedule) { s, t in
            if keepStates && !accesses.isEmpty { states.append(s) }
            if let a = accesses.last { after.append(a.flatMap { m.peek(s, $0.location) }) }
            let (frames, k) = callStack(s.threads[t], program: p)
            stacks.append(frames)
            shown.append(k)
            accesses.append(m.pendingAccess(s, t))
        }
        if let a = accesses.last { after.append(a.flatMap { m.peek(outcome.state, $0.location) }) }
        let namer = Namer(machine: m, state: outcome.state)
        var steps: [TraceStep] = []
        for (i, e) in outcome.events.enumerated() {
            var st = step(e, namer: namer, after: after[i])
            st.index = i + 1
            st.frames = stacks[i]
            st.shown = shown[i]
            st.access = accesses[i]
            steps.append(st)
        }
        if keepStates { states.append(outcome.state) }
        return Recording(steps: steps, outcome: outcome, states: states)
    }

    /// The frames of a thread parked at its next step, outermost first, and the frame to show.
    static func callStack(_ th: ThreadState, program p: Program) -> ([TraceFrame], Int) {
        var frames: [TraceFrame] = []
        for (k, fr) in th.frames.enumerated() {
            let f = p.functions[Int(fr.function)]
            // Where this frame is: the step for the innermost, the call for the others.
            let pc = k == th.frames.count - 1 ? Int(th.pc) : Int(th.frames[k + 1].returnPC) - 1
            let loc = pc >= 0 && pc < f.locations.count ? p.locations[Int(f.locations[pc])] : f.location
            frames.append(TraceFrame(function: f.name, location: loc))
        }
        // One-line helpers: the step's line is the function's own line; show the caller's.
        var shown = frames.count - 1
        while shown > 0 {
            let f = p.functions[Int(th.frames[shown].function)]
            guard frames[shown].location.line == f.location.line, frames[shown].location.file === f.location.file else { break }
            shown -= 1
        }
        return (frames, max(shown, 0))
    }

    static func step(_ e: StepEvent, namer n: Namer, after: Int64?) -> TraceStep {
        var st = TraceStep(index: 0, thread: e.thread, frames: [], shown: 0, operation: "", cell: "", value: "", before: "", effect: "", violation: nil)
        let cell = n.cell(e.address)
        st.cell = cell.name
        func value(_ v: Int64) -> String { n.value(v, type: cell.type, field: cell.field) }
        switch e.instr {
        case .read:
            st.operation = "read"; st.value = value(e.result)
            st.effect = "\(cell.name) == \(st.value)"
        case .write:
            st.operation = "write"; st.value = value(e.value)
            st.effect = "\(cell.name) := \(st.value)"
        case .rmw(let op, _):
            let old = e.result
            let name: String
            switch op {
            case .xchg: name = "xchg"
            case .cmpxchg: name = "cmpxchg"
            case .fetchAdd: name = e.value < 0 ? "atomic sub \(-e.value)" : "atomic add \(e.value)"
            case .fetchAnd: name = "atomic and \(Namer.hex(e.value))"
            case .fetchOr: name = "atomic or \(Namer.hex(e.value))"
            case .fetchXor: name = "atomic xor \(Namer.hex(e.value))"
            case .fetchAndNot: name = "clear bits \(Namer.hex(e.value))"
            case .addUnless: name = "atomic add_unless \(e.value)"
            }
            st.operation = name
            st.before = value(old)
            // The new value is the cell's after the step (a failed cmpxchg leaves it).
            st.value = after.map(value) ?? ""
            if let new = after, new == old, op == .cmpxchg || op == .addUnless {
                st.effect = "\(cell.name) == \(st.before)  (\(name) failed)"
            } else {
                st.effect = "\(cell.name): \(st.before) → \(st.value)  (\(name))"
            }
        case .sync(let op):
            let name: String
            switch op {
            case .spinLock: name = "lock"
            case .spinUnlock: name = "unlock"
            case .spinTrylock: name = e.result == 1 ? "trylock ok" : "trylock failed"
            case .spinIsLocked: name = e.result == 1 ? "is_locked: yes" : "is_locked: no"
            case .spinUnlockWait: name = "unlock_wait"
            case .downRead: name = "down_read"
            case .upRead: name = "up_read"
            case .downWrite: name = e.registered ? "down_write (queued)" : "down_write"
            case .upWrite: name = "up_write"
            case .downReadTrylock: name = e.result == 1 ? "down_read_trylock ok" : "down_read_trylock failed"
            case .downWriteTrylock: name = e.result == 1 ? "down_write_trylock ok" : "down_write_trylock failed"
            case .downgradeWrite: name = "downgrade_write"
            case .rcuReadLock: name = "rcu_read_lock"
            case .rcuReadUnlock: name = "rcu_read_unlock"
            case .synchronizeRCU: name = e.registered ? "grace period starts, waiting" : "grace period done"
            case .synchronizeSRCU: name = e.registered ? "SRCU grace period starts, waiting" : "SRCU grace period done"
            case .srcuReadLock: name = "srcu_read_lock"
            case .srcuReadUnlock: name = "srcu_read_unlock"
            case .irqDisable: name = "IRQs off"
            case .irqEnable: name = "IRQs on"
            case .irqSave: name = "IRQs off (saved)"
            case .irqRestore: name = "IRQs restored"
            case .tlbShootdown: name = e.registered ? "TLB shootdown sent, waiting" : "TLB shootdown acknowledged"
            case .waitOnBit: name = "bit \(e.value) clear"
            case .waitOnBitLock: name = "bit \(e.value) locked"
            case .free: name = "kfree"
            case .freePage: name = "free_page"
            case .callRCU: name = e.value < 0 ? "kfree_rcu queued" : "call_rcu queued"
            case .rcuCallback: name = "grace period done, callback runs"
            case .waitEventSleep: name = "woken (changed)"
            case .waitEventTimeoutSleep: name = e.value != 0 ? "woken (changed)" : "timed out"
            case .waitForCompletion: name = "completion taken"
            }
            st.operation = name
            if !op.takesAddress || op == .synchronizeSRCU && e.address == 0 { st.cell = "" }
            if op == .free || op == .freePage || op == .callRCU || op == .rcuCallback {
                st.cell = e.address == 0 ? "NULL" : n.objectName(Address.object(e.address))
            }
            st.effect = st.cell.isEmpty ? name : "\(name) \(st.cell)"
        default: break
        }
        return st
    }

    /// `swap.h:230`
    static func site(_ l: SourceLocation) -> String {
        guard let f = l.file else { return "?" }
        return "\(baseName(f.path)):\(l.line)"
    }

    /// Source text with tabs and runs of spaces as one space.
    static func collapse(_ s: String) -> String {
        var out = ""
        var space = false
        for c in s {
            if c == " " || c == "\t" { space = true; continue }
            if space && !out.isEmpty { out += " " }
            space = false
            out.append(c)
        }
        return out
    }

    // MARK: folding

    /// A row of the rendered trace: one step, or a run of one CPU's steps folded into one.
    package enum Row: Sendable {
        case step(TraceStep)
        case folded(thread: Int, first: Int, last: Int, function: String)
    }

    /// Which steps matter to the violation: those that touch a location another CPU's step in
    /// the trace also touches (one of them writing: the steps that order the CPUs), the
    /// violating step, and each CPU's last step. Runs of two or more other steps of one CPU fold.
    package static func rows(_ steps: [TraceStep], full: Bool) -> [Row] {
        guard !full else { return steps.map { .step($0) } }
        var keep = [Bool](repeating: false, count: steps.count)
        for i in steps.indices {
            if steps[i].violation != nil || steps[i].local { keep[i] = true; continue }
            guard let a = steps[i].access else { keep[i] = true; continue }
            for j in steps.indices where steps[j].thread != steps[i].thread {
                if let b = steps[j].access, a.conflicts(with: b) { keep[i] = true; break }
            }
        }
        var lastOf: [Int: Int] = [:]
        for i in steps.indices { lastOf[steps[i].thread] = i }
        for (_, i) in lastOf { keep[i] = true }
        var rows: [Row] = []
        var i = 0
        while i < steps.count {
            if keep[i] { rows.append(.step(steps[i])); i += 1; continue }
            var j = i
            while j + 1 < steps.count && !keep[j + 1] && steps[j + 1].thread == steps[i].thread { j += 1 }
            if j == i { rows.append(.step(steps[i])); i += 1; continue }
            rows.append(.folded(thread: steps[i].thread, first: steps[i].index, last: steps[j].index,
                                function: commonFunction(steps[i...j])))
            i = j + 1
        }
        return rows
    }

    /// The innermost function every step of a run is in.
    static func commonFunction(_ run: ArraySlice<TraceStep>) -> String {
        guard var common = run.first?.frames.map(\.function) else { return "" }
        for s in run.dropFirst() {
            let f = s.frames.map(\.function)
            var k = 0
            while k < common.count && k < f.count && common[k] == f[k] { k += 1 }
            common = Array(common.prefix(k))
        }
        return common.last ?? ""
    }

    // MARK: text

    /// Columns, one per CPU: for each step where it is (`file:line function()`), the source line
    /// and what it did; folded runs as one line. No tabs; every line fits `layout.width`.
    /// `rcuThread`: the program's RCU callback thread, whose column is headed `P<n> rcu`.
    package static func render(_ steps: [TraceStep], threads: Int, rcuThread: Int? = nil, layout: TraceLayout = TraceLayout()) -> String {
        let rows = rows(steps, full: layout.full)
        var labels: [String] = []
        for r in rows {
            switch r {
            case .step(let s): labels.append(String(s.index))
            case .folded(_, let a, let b, _): labels.append("\(a)-\(b)")
            }
        }
        let numberWidth = max(3, labels.map(\.count).max() ?? 1)
        let n = max(threads, 1)
        let cw = max(12, (layout.width - numberWidth - 2 - 3 * (n - 1)) / n)
        func fit(_ s: String) -> String {
            if s.count <= cw { return s + String(repeating: " ", count: cw - s.count) }
            return String(s.prefix(cw - 1)) + "…"
        }
        func line(_ label: String, _ thread: Int, _ text: String) -> String {
            var row = pad(label, numberWidth) + "  "
            for t in 0..<n { row += fit(t == thread ? text : "") + (t < n - 1 ? " | " : "") }
            return row.trimmedRight()
        }
        var lines: [String] = []
        var header = String(repeating: " ", count: numberWidth) + "  "
        for t in 0..<n { header += fit(t == rcuThread ? "P\(t) rcu" : "P\(t)") + (t < n - 1 ? " | " : "") }
        lines.append(header.trimmedRight())
        for (k, r) in rows.enumerated() {
            switch r {
            case .step(let s):
                var head = s.site + " " + s.function
                if s.local { head += " (local check)" }
                lines.append(line(labels[k], s.thread, head))
                if layout.stacks && s.frames.count > 1 {
                    let chain = s.frames.dropLast().map { "\($0.function)() \(site($0.location))" }.joined(separator: " › ")
                    lines.append(line("", s.thread, "  via " + chain))
                }
                lines.append(line("", s.thread, "  " + s.source))
                if !s.effect.isEmpty { lines.append(line("", s.thread, "  " + s.effect)) }
                if let v = s.violation { lines.append(line("", s.thread, "  ✗ " + v.rawValue)) }
            case .folded(let t, let a, let b, let f):
                lines.append(line(labels[k], t, "P\(t): \(b - a + 1) steps" + (f.isEmpty ? "" : " in \(f)()")))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// How many steps the rows fold away (for the trace heading).
    package static func foldedCount(_ rows: [Row]) -> Int {
        rows.reduce(0) { n, r in
            if case .folded(_, let a, let b, _) = r { return n + b - a + 1 }
            return n
        }
    }

    static func pad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
}

extension String {
    func trimmedRight() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
