import FaultlineLanguage
import FaultlineMachine

/// The checks that watch an execution: the `invariant` block after every step, and at the end
/// the `final` block and the leak check; plus the observation of the final state for the
/// outcome histogram and the claim.
public struct ExecutionChecker: Sendable {
    public let machine: Machine
    public var program: Program { machine.program }
    public var checkLeaks = true

    public init(machine: Machine) { self.machine = machine }

    public var hasInvariant: Bool { machine.program.invariantFunction != nil }

    /// Runs the invariant block against the state after a step.
    public func checkInvariant(_ s: State) -> Violation? {
        var ignored: [Int64]? = nil
        return checkInvariant(s, reads: &ignored)
    }

    /// The same, collecting the addresses the invariant read (when `reads` is non-nil).
    public func checkInvariant(_ s: State, reads: inout [Int64]?) -> Violation? {
        guard let f = program.invariantFunction else { return nil }
        guard var v = machine.runAtomically(function: f, on: s, reads: &reads) else { return nil }
        v.facts.block = .invariant
        return v
    }

    /// End-of-execution checks once every thread has finished.
    public func checkFinal(_ s: State) -> Violation? {
        if let f = program.finalFunction, var v = machine.runAtomically(function: f, on: s) {
            v.facts.block = .final
            return v
        }
        if checkLeaks, let v = leak(s) { return v }
        return nil
    }

    /// Objects allocated during the run (kmalloc, alloc_page), not freed, and not reachable from
    /// the globals. A pointer is any cell value naming a live object
    /// (page-table entries hold frame numbers: `value >> 12` is tried too via the pfn rule).
    public func leak(_ s: State) -> Violation? {
        var marked = [Bool](repeating: false, count: s.objects.count)
        var work: [Int] = []
        func consider(_ v: Int64) {
            for cand in [Address.object(v), Int(truncatingIfNeeded: v)] where v > 0 {
                if cand > 0 && cand < s.objects.count && !marked[cand] && !s.objects[cand].freed {
                    marked[cand] = true; work.append(cand)
                }
            }
        }
        // Roots: the globals. Registers and stack frames are gone once every thread has finished.
        for (o, m) in s.objects.enumerated() where o > 0 && m.origin == .global {
            marked[o] = true; work.append(o)
        }
        while let o = work.popLast() {
            let m = s.objects[o]
            for k in 0..<Int(m.size) {
                let v = s.cells[Int(m.base) + k]
                consider(v)
                // A table entry: frame number in the high bits (pfn << PAGE_SHIFT | flags).
                consider(v >> Address.cellBits)
                consider((v >> Address.cellBits) << Address.cellBits)
            }
        }
        for (o, m) in s.objects.enumerated() where o > 0 && !m.freed && (m.origin == .heap || m.origin == .page) && !marked[o] {
            return Violation(kind: .leak, facts: ViolationFacts(cause: .leak, address: Address.make(object: o, offset: 0), object: Int32(o), site: m.allocLocation),
                             thread: -1, location: m.allocLocation)
        }
        return nil
    }

    /// The observed final values (registers and locations named by the claim and `locations`).
    public func observe(_ s: State) -> [Int64] {
        program.observed.map { o in
            switch o {
            case .register(let t, let home, _): return machine.registerValue(s, thread: t, home: home)
            case .memory(let a, _, _): return machine.peek(s, a) ?? 0
            }
        }
    }

    /// Renders observed values herd-style: `0:r0=1; x=2;` (addresses of globals by name).
    public func render(_ values: [Int64]) -> String {
        var parts: [String] = []
        for (i, o) in program.observed.enumerated() {
            let name: String
            switch o {
            case .register(_, _, let n): name = n
            case .memory(_, let n, _): name = n
            }
            parts.append("\(name)=\(renderValue(values[i]))")
        }
        return parts.joined(separator: "; ") + (parts.isEmpty ? "" : ";")
    }

    public func renderValue(_ v: Int64) -> String {
        let o = Address.object(v)
        if v > 0, o >= 1, o <= program.globals.count {
            let g = program.globals[o - 1]
            let off = Address.offset(v)
            return off == 0 ? g.name : "\(g.name)+\(off)"
        }
        return String(v)
    }
}
