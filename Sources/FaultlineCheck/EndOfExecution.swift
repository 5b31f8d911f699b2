import FaultlineLanguage
import FaultlineMachine

/// The checks that watch an execution: the `invariant` block after every step, and at the end
/// the `final` block and the leak check; plus the observation of the final state for the
/// outcome histogram and the claim.
package struct ExecutionChecker: Sendable {
    package let machine: Machine
    package var program: Program { machine.program }
    package var checkLeaks = true

    package init(machine: Machine) { self.machine = machine }

    package var hasInvariant: Bool { machine.program.invariantFunction != nil }

    /// Runs the invariant block against the state after a step.
    package func checkInvariant(_ s: State) -> Violation? {
        var ignored: [Int64]? = nil
        return checkInvariant(s, reads: &ignored)
    }

    /// The same, collecting the addresses the invariant read (when `reads` is non-nil).
    package func checkInvariant(_ s: State, reads: inout [Int64]?) -> Violation? {
        guard let f = program.invariantFunction else { return nil }
        guard var v = machine.runAtomically(function: f, on: s, reads: &reads) else { return nil }
        v.facts.block = .invariant
        return v
    }

    /// End-of-execution checks once every thread has finished.
    /// A failing `final` block is reported together with the execution's leak (`alsoFound`).
    package func checkFinal(_ s: State) -> Violation? {
        let leaked = checkLeaks ? leak(s) : nil
        if let f = program.finalFunction, var v = machine.runAtomically(function: f, on: s) {
            v.facts.block = .final
            if let leaked { v.alsoFound = [leaked] }
            return v
        }
        return leaked
    }

    /// Objects allocated during the run (kmalloc, alloc_page), not freed, and not reachable from
    /// the globals through reference cells (`ReferenceCells`: pointers and page-table entries,
    /// both of which name an object in their bits above the cell offset).
    package func leak(_ s: State) -> Violation? {
        let refs = program.referenceCells
        var marked = [Bool](repeating: false, count: s.objects.count)
        var work: [Int] = []
        // Roots: the globals. Registers and stack frames are gone once every thread has finished.
        for (o, m) in s.objects.enumerated() where o > 0 && m.origin == .global {
            marked[o] = true; work.append(o)
        }
        while let o = work.popLast() {
            let m = s.objects[o]
            let mask: [Bool]?
            switch m.origin {
            case .global: mask = o - 1 < refs.globals.count ? refs.globals[o - 1] : nil
            case .page: mask = Int(m.kind) < refs.pageKinds.count ? refs.pageKinds[Int(m.kind)] : nil
            case .heap: mask = refs.allocations[m.allocLocation]
            case .stack: mask = nil
            }
            for k in 0..<Int(m.size) {
                if let mask, !mask.isEmpty, !mask[k % mask.count] { continue }
                let v = s.cells[Int(m.base) + k]
                let target = Address.object(v)
                if v > 0 && target > 0 && target < s.objects.count && !marked[target] && !s.objects[target].freed {
                    marked[target] = true; work.append(target)
                }
            }
        }
        for (o, m) in s.objects.enumerated() where o > 0 && !m.freed && (m.origin == .heap || m.origin == .page) && !marked[o] {
            return Violation(kind: .leak, facts: ViolationFacts(cause: .leak, address: Address.make(object: o, offset: 0), object: Int32(o), site: m.allocLocation),
                             thread: -1, location: m.allocLocation)
        }
        return nil
    }

    /// The observed final values (registers and locations named by the claim and `locations`).
    package func observe(_ s: State) -> [Int64] {
        program.observed.map { o in
            switch o {
            case .register(let t, let home, _): return machine.registerValue(s, thread: t, home: home)
            case .memory(let a, _, _): return machine.peek(s, a) ?? 0
            }
        }
    }
}
