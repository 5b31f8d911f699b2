import FaultlineLanguage
import FaultlineMachine

/// The candidate executions of prepared thread paths, in a deterministic order: thread paths
/// (first thread slowest), then per location (in slot order) one of its locally consistent
/// choices of a coherence order and sources for its reads.
///
/// Coherence and atomicity are per-location properties (every edge of `po-loc | rf | co | fr`
/// and of `rmw & (fre ; coe)` joins events of one location), so each location's choices are
/// checked on their own first and only the coherent, atomic ones are combined: the product of
/// survivors, not of all choices, reaches the model's other axioms.
///
/// A `Restriction` (from the claim's condition) splits the search in two: candidates that may
/// satisfy the condition (every thread path and every final value compatible with its
/// conjunction of atoms) and the others. The first part decides whether the condition can hold
/// even when the second is too large to finish.
struct LKMMCandidates {
    typealias Prepared = LKMMSearch.Prepared
    let ctx: ExplorationContext
    let prepared: Prepared
    let root: State
    let frameCells: [[Int]]
    let cellOf: [Int]
    let restriction: Restriction?
    /// Per thread, per path: compatible with the restriction.
    let pathOK: [[Bool]]
    /// Whether choices that break coherence or atomicity on their location are left out (always,
    /// except when looking for the axiom a forbidden outcome breaks).
    let prune: Bool
    /// Per thread, per path: the index of its shape (its events without values).
    let shapeOf: [[Int]]
    /// Per location: observed by the final condition or `locations` (herd7's `FW`, for lock-final).
    let finalSlots: [Bool]
    let models = ModelCache()

    /// Models by the shapes of their paths (reference type: the search's functions share it).
    final class ModelCache {
        var entries: [[Int]: LKMMModel] = [:]
        /// Set when `combination` gave up because `keepGoing` said stop.
        var aborted = false
        /// Set when a location had more coherence orders or consistent choices than
        /// `maxChoicesPerLocation`: the search went on with the first ones, and is incomplete.
        var cut = false
    }

    /// At most this many coherence orders, and locally consistent choices, are listed for one
    /// location of a combination (n writers of one location have up to n! orders: 11 writers
    /// once took gigabytes before the first candidate was checked).
    static let maxChoicesPerLocation = 100_000

    /// The atoms of the top-level conjunction of a condition that a candidate's registers and
    /// final memory must meet to satisfy it.
    struct Restriction {
        var registers: [(thread: Int, home: RegisterHome?, equals: Bool, value: Int64)] = []
        /// (slot, equals, value); a location no thread touches is decided statically.
        var memory: [(slot: Int, equals: Bool, value: Int64)] = []
        var impossible = false

        init?(_ c: CompiledCondition, program: Program, prepared: Prepared, root: State, machine: Machine) {
            var atoms: [(Int, Bool, Int64)] = []
            func walk(_ c: CompiledCondition) {
                switch c {
                case .and(let a, let b): walk(a); walk(b)
                case .equals(let i, .constant(let v)): atoms.append((i, true, v))
                case .notEquals(let i, .constant(let v)): atoms.append((i, false, v))
                case .constant(false): impossible = true
                default: break
                }
            }
            walk(c)
            guard !atoms.isEmpty || impossible else { return nil }
            for (i, eq, v) in atoms {
                switch program.observed[i] {
                case .register(let t, let home, _): registers.append((t, home, eq, v))
                case .memory(let a, _, _):
                    if let slot = prepared.addresses.firstIndex(of: a) { memory.append((slot, eq, v)) }
                    else if ((machine.peek(root, a) ?? 0) == v) != eq { impossible = true }
                }
            }
        }

        func allows(register value: Int64, _ atom: (thread: Int, home: RegisterHome?, equals: Bool, value: Int64)) -> Bool {
            (value == atom.value) == atom.equals
        }
    }

    init(ctx: ExplorationContext, prepared: Prepared, restrict: Bool, prune: Bool = true) {
        self.ctx = ctx
        self.prune = prune
        self.prepared = prepared
        let machine = ctx.machine
        root = machine.initialState()
        let n = prepared.paths.count
        self.frameCells = AxiomaticSearch.frameCells(root, threads: n)
        let root = self.root
        cellOf = prepared.addresses.map { AxiomaticSearch.cellIndex(root, $0) ?? -1 }
        let program = machine.program
        var r: Restriction? = nil
        if restrict, let claim = program.claim, claim.quantifier != .forall, let c = program.claimCondition {
            r = Restriction(c, program: program, prepared: prepared, root: root, machine: machine)
        }
        restriction = r
        var finalSlots = [Bool](repeating: false, count: prepared.addresses.count)
        for o in program.observed { if case .memory(let a, _, _) = o, let k = prepared.addresses.firstIndex(of: a) { finalSlots[k] = true } }
        self.finalSlots = finalSlots
        shapeOf = prepared.paths.map { ps in
            var ids: [[LKEvent.Shape]: Int] = [:]
            return ps.map { p in
                let key = p.events.map(\.shape)
                if let k = ids[key] { return k }
                ids[key] = ids.count
                return ids.count - 1
            }
        }
        pathOK = (0..<n).map { t in
            prepared.paths[t].map { p in
                guard let r else { return true }
                if r.impossible { return false }
                return r.registers.allSatisfy { a in a.thread != t || r.allows(register: machine.registerValue(p.state, thread: t, home: a.home), a) }
            }
        }
    }

    /// One location of a combination: its events, coherence orders, and the locally consistent
    /// choices (an order and a source per read).
    struct Location {
        var slot: Int
        var reads: [Int] = []
        var sources: [[Int]] = []
        var orders: [[Int]] = [[]]
        var choices: [(order: Int, rf: [Int])] = []
        /// Per choice: whether its final value meets the restriction's atoms on this location.
        var choiceOK: [Bool] = []
    }

    /// One combination of thread paths: its model and per-location choices.
    struct Combination {
        var model: LKMMModel
        var locations: [Location]
    }

    func combination(_ choice: [Int], keepGoing: () -> Bool = { true }) -> Combination? {
        var work = 0
        let paths = (0..<choice.count).map { prepared.paths[$0][choice[$0]].events }
        let shapes = (0..<choice.count).map { shapeOf[$0][choice[$0]] }
        var model: LKMMModel
        if let m = models.entries[shapes] {
            model = m
            var i = prepared.addresses.count
            for p in paths { for e in p { model.nodes[i].event.value = e.value; i += 1 } }
        } else {
            model = LKMMModel(paths: paths, locations: prepared.addresses.count, initialValues: prepared.initial, initialAddresses: prepared.addresses,
                              finalSlots: finalSlots)
            if models.entries.count >= 256 { models.entries.removeAll() }
            models.entries[shapes] = model
        }
        if model.staticFailure != nil { return Combination(model: model, locations: []) }
        let nodes = model.nodes
        let L = prepared.addresses.count
        var locations = (0..<L).map { Location(slot: $0) }
        var writes = [[Int]](repeating: [], count: L)
        for i in L..<model.n where nodes[i].event.isWrite && !nodes[i].event.tags.contains(.ul) { writes[Int(nodes[i].event.slot)].append(i) }
        for l in 0..<L where !writes[l].isEmpty {
            var orders: [[Int]] = []
            // Lock writes: every matched LKW before an unmatched one (lock.cat's co0).
            let ws = writes[l]
            let isLock = ws.map { model.LKW.contains($0) }
            let unlock = ws.indices.map { isLock[$0] ? criticalUnlock(model, ws[$0]) : nil }
            let unmatched = ws.indices.first { isLock[$0] && unlock[$0] == nil }
            let models = self.models   // (the closure then captures no copy of `self`)
            LKMMCandidates.permutations(ws.count, thread: ws.map { nodes[$0].thread }) { o in
                work += 1
                if work & 4095 == 0 && !keepGoing() { models.aborted = true; return false }
                if orders.count >= LKMMCandidates.maxChoicesPerLocation { models.cut = true; return false }
                if let u = unmatched, let ku = o.firstIndex(of: u), o[(ku + 1)...].contains(where: { isLock[$0] }) { return true }
                // Unlocks go right after their lock write.
                var full: [Int] = []
                for k in o { full.append(ws[k]); if let u = unlock[k] { full.append(u) } }
                orders.append(full)
                return true
            }
            if orders.isEmpty || models.aborted { return nil }
            locations[l].orders = orders
        }
        for i in L..<model.n where nodes[i].event.isRead && !nodes[i].event.tags.contains(.lkr) {
            let e = nodes[i].event
            let l = Int(e.slot)
            var src: [Int] = []
            if !e.tags.isDisjoint(with: [.lf, .rl]) {
                // In its own critical section: reads from that lock write; else from another thread's.
                if let w = (L..<model.n).last(where: { model.LKW.contains($0) && model.poLoc.contains($0, i) }),
                   !(L..<model.n).contains(where: { model.UL.contains($0) && model.poLoc.contains(w, $0) && model.poLoc.contains($0, i) }) {
                    src = [w]
                } else {
                    src = (L..<model.n).filter { model.LKW.contains($0) && model.loc.contains($0, i) && nodes[$0].thread != nodes[i].thread }
                }
            } else if e.tags.contains(.ru) {
                if let u = (L..<model.n).last(where: { model.UL.contains($0) && model.poLoc.contains($0, i) }) { src.append(u) }
                src.append(l)
                src += (L..<model.n).filter { model.UL.contains($0) && model.loc.contains($0, i) && nodes[$0].thread != nodes[i].thread }
            } else {
                if prepared.initial[l] == e.value { src.append(l) }
                for w in writes[l] where nodes[w].event.value == e.value && !model.LKW.contains(w) { src.append(w) }
            }
            if src.isEmpty { return nil }
            locations[l].reads.append(i)
            locations[l].sources.append(src)
        }
        // The coherent, atomic choices of each location.
        for l in 0..<L {
            var loc = locations[l]
            let memoryAtoms = restriction?.memory.filter { $0.slot == l } ?? []
            let frame = LocalFrame(model, loc)
            choices: for (k, order) in loc.orders.enumerated() {
                var rf = [Int](repeating: 0, count: loc.reads.count)
                while true {
                    work += 1
                    if work & 4095 == 0 && !keepGoing() { models.aborted = true; return nil }
                    if loc.choices.count >= LKMMCandidates.maxChoicesPerLocation { models.cut = true; break choices }
                    if !prune || locallyConsistent(model, loc, frame, order, rf) {
                        loc.choices.append((k, rf))
                        let last = order.last.map { model.UL.contains($0) ? 0 : nodes[$0].event.value } ?? prepared.initial[l]
                        loc.choiceOK.append(memoryAtoms.allSatisfy { (last == $0.value) == $0.equals })
                    }
                    var j = rf.count - 1
                    while j >= 0 { rf[j] += 1; if rf[j] < loc.sources[j].count { break }; rf[j] = 0; j -= 1 }
                    if j < 0 { break }
                }
            }
            if loc.choices.isEmpty { return nil }
            locations[l] = loc
        }
        return Combination(model: model, locations: locations)
    }

    /// The events of one location (its initial write, writes, unlocks, reads, lock reads) and
    /// their po-loc edges as a small relation: built once per location of a combination, copied
    /// for each of its choices.
    struct LocalFrame {
        /// Per event of the model: its index in the small relation (-1: another location).
        var index: [Int]
        var poLoc: BitRelation
        /// No reads and no lock events: every order (each thread's writes kept in program order)
        /// is coherent and atomic, with nothing to check.
        var alwaysConsistent: Bool

        init(_ model: LKMMModel, _ loc: Location) {
            alwaysConsistent = loc.reads.isEmpty && !(loc.orders.first ?? []).contains { model.LKW.contains($0) || model.UL.contains($0) }
            var members = [loc.slot]
            for i in 0..<model.n where i != loc.slot && model.loc.contains(loc.slot, i) { members.append(i) }
            // Every order lists the same writes.
            for w in loc.orders.first ?? [] where !members.contains(w) { members.append(w) }
            for src in loc.sources { for w in src where !members.contains(w) { members.append(w) } }
            for r in loc.reads where !members.contains(r) { members.append(r) }
            index = [Int](repeating: -1, count: model.n)
            for (k, i) in members.enumerated() { index[i] = k }
            poLoc = BitRelation(count: members.count)
            for (a, i) in members.enumerated() { for (b, j) in members.enumerated() where model.poLoc.contains(i, j) { poLoc.insert(a, b) } }
        }
    }

    /// po-loc | rf | co | fr acyclic and rmw & (fre ; coe) empty, on one location's events.
    /// (co and fr as their immediate edges: the rest follows by transitivity and changes no cycle.)
    func locallyConsistent(_ model: LKMMModel, _ loc: Location, _ frame: LocalFrame, _ order: [Int], _ rfChoice: [Int]) -> Bool {
        if frame.alwaysConsistent { return true }
        let index = frame.index
        let chain = [loc.slot] + order
        // Position in the coherence order, by local index (-1: not a write of the chain).
        var rank = [Int](repeating: -1, count: frame.poLoc.n)
        for (p, w) in chain.enumerated() { rank[index[w]] = p }
        // Each read's source (lock reads: the write before their lock write, if IW or an unlock).
        var source: [(read: Int, from: Int)] = []
        for (k, r) in loc.reads.enumerated() { source.append((r, loc.sources[k][rfChoice[k]])) }
        for w in order where model.LKW.contains(w) {
            let r = Int(model.nodes[w].event.partner) - model.nodes[w].index + w
            let p = chain[rank[index[w]] - 1]
            if model.IW.contains(p) || model.UL.contains(p) { source.append((r, p)) }
        }
        var rel = frame.poLoc
        for p in 1..<chain.count { rel.insert(index[chain[p - 1]], index[chain[p]]) }
        for s in source {
            rel.insert(index[s.from], index[s.read])
            // fr: the read before the write after its source.
            let p = rank[index[s.from]]
            if p >= 0 && p + 1 < chain.count { rel.insert(index[s.read], index[chain[p + 1]]) }
        }
        guard rel.acyclic else { return false }
        // atomic: no write of another thread between an RMW's read's source and its write.
        for s in source {
            let partner = model.nodes[s.read].event.partner
            guard partner >= 0, model.rmw.contains(s.read, Int(partner) - model.nodes[s.read].index + s.read) else { continue }
            let w = Int(partner) - model.nodes[s.read].index + s.read
            guard index[w] >= 0 else { continue }
            let ps = rank[index[s.from]], pw = rank[index[w]]
            guard ps >= 0 && pw >= 0 else { continue }
            // fre from the read to a write w' of another thread, coe from w' to w.
            let me = model.nodes[s.read].thread
            if ps + 1 < pw, chain[(ps + 1)..<pw].contains(where: { model.nodes[$0].thread != me }) { return false }
        }
        return true
    }

    func criticalUnlock(_ model: LKMMModel, _ lkw: Int) -> Int? {
        let L = prepared.addresses.count
        for u in L..<model.n where model.UL.contains(u) && model.poLoc.contains(lkw, u) {
            let between = (L..<model.n).contains { x in (model.LKW.contains(x) || model.UL.contains(x)) && model.poLoc.contains(lkw, x) && model.poLoc.contains(x, u) }
            if !between { return u }
        }
        return nil
    }

    /// Calls `body` with each order of the indices `0..<count` that keeps the indices of one
    /// thread ascending (coherence forbids the rest), in lexicographic order; false from `body`
    /// stops the listing (and is returned).
    @discardableResult
    static func permutations(_ count: Int, thread: [Int], _ body: ([Int]) -> Bool) -> Bool {
        var order: [Int] = []
        order.reserveCapacity(count)
        var used = [Bool](repeating: false, count: count)
        func extend() -> Bool {
            if order.count == count { return body(order) }
            for i in 0..<count where !used[i] {
                if (0..<i).contains(where: { !used[$0] && thread[$0] == thread[i] }) { continue }
                used[i] = true; order.append(i)
                if !extend() { return false }
                order.removeLast(); used[i] = false
            }
            return true
        }
        return extend()
    }

    /// rf, co and final values of one choice per location.
    func relations(_ c: Combination, _ pick: [Int]) -> (rf: BitRelation, co: BitRelation, final: [Int64]) {
        let model = c.model
        let n = model.n
        var co = BitRelation(count: n)
        var rf = BitRelation(count: n)
        var final = prepared.initial
        for (l, loc) in c.locations.enumerated() {
            let ch = loc.choices[pick[l]]
            let chain = [l] + loc.orders[ch.order]
            for a in 0..<chain.count { for b in (a + 1)..<max(a + 1, chain.count) { co.insert(chain[a], chain[b]) } }
            if chain.count > 1 { final[l] = model.UL.contains(chain.last!) ? 0 : model.nodes[chain.last!].event.value }
            for (k, r) in loc.reads.enumerated() { rf.insert(loc.sources[k][ch.rf[k]], r) }
            for (p, w) in chain.enumerated() where p > 0 && model.LKW.contains(w) {
                let r = Int(model.nodes[w].event.partner) - model.nodes[w].index + w
                let prev = chain[p - 1]
                if model.IW.contains(prev) || model.UL.contains(prev) { rf.insert(prev, r) }
            }
        }
        return (rf, co, final)
    }

    /// The state a candidate ends in (registers from the paths, memory from coherence).
    func finalState(_ choice: [Int], _ final: [Int64]) -> State {
        var s = root
        for t in 0..<choice.count {
            let ps = prepared.paths[t][choice[t]].state
            s.threads[t] = ps.threads[t]
            for c in frameCells[t] { s.cells[c] = ps.cells[c] }
        }
        for (k, v) in final.enumerated() where cellOf[k] >= 0 { s.cells[cellOf[k]] = v }
        return s
    }

    /// Which candidates `enumerate` visits.
    enum Part { case all, mayHold, rest }

    /// The name of a candidate: paths, each location's order index and its reads' source indices.
    func execution(_ choice: [Int], _ c: Combination, _ pick: [Int]) -> LKMMExecution {
        var co: [Int] = [], rf: [Int] = []
        for (l, loc) in c.locations.enumerated() {
            co.append(loc.choices[pick[l]].order)
            rf.append(contentsOf: loc.choices[pick[l]].rf)
        }
        return LKMMExecution(paths: choice, co: co, rf: rf)
    }

    /// Calls `body` with every candidate of `part` (its name, the model's verdict, its final
    /// state on demand); stops when `body` returns false.
    /// `keepGoing` is asked now and then between combinations (a deadline).
    func enumerate(_ part: Part, keepGoing: () -> Bool = { true }, _ body: (LKMMExecution, LKMMModel.Outcome, () -> State) -> Bool) {
        let n = prepared.paths.count
        // The paths each thread may take: those compatible with the restriction, for `mayHold`.
        let domain: [[Int]] = (0..<n).map { t in part == .mayHold ? prepared.paths[t].indices.filter { pathOK[t][$0] } : Array(prepared.paths[t].indices) }
        guard domain.allSatisfy({ !$0.isEmpty }) else { return }
        var at = [Int](repeating: 0, count: n)
        var choice = domain.map { $0[0] }
        var combinations = 0
        while true {
            combinations += 1
            if combinations & 255 == 0 && !keepGoing() { return }
            let pathsOK = (0..<n).allSatisfy { pathOK[$0][choice[$0]] }
            let c = part != .mayHold || pathsOK ? combination(choice, keepGoing: keepGoing) : nil
            if models.aborted { return }
            if let c {
                if let f = c.model.staticFailure {
                    if part != .rest || !pathsOK {
                        let ch = choice
                        var outcome = LKMMModel.Outcome()
                        outcome.failedAxiom = f
                        if !body(LKMMExecution(paths: choice, co: [], rf: []), outcome, { finalState(ch, prepared.initial) }) { return }
                    }
                } else {
                    // Each location's choices to go through: for `mayHold`, only those whose final
                    // value meets the restriction (the product of them is the part).
                    let picks: [[Int]] = c.locations.map { loc in
                        part == .mayHold ? loc.choices.indices.filter { loc.choiceOK[$0] } : Array(loc.choices.indices)
                    }
                    if picks.allSatisfy({ !$0.isEmpty }) {
                        var at = [Int](repeating: 0, count: picks.count)
                        var pick = picks.map { $0[0] }
                        var skipped = 0
                        while true {
                            let ok = pathsOK && (0..<pick.count).allSatisfy { c.locations[$0].choiceOK[pick[$0]] }
                            if part == .all || (part == .mayHold) == ok {
                                let (rf, co, final) = relations(c, pick)
                                let outcome = c.model.check(rf: rf, co: co, locallyChecked: prune)
                                let ch = choice
                                if !body(execution(choice, c, pick), outcome, { finalState(ch, final) }) { return }
                            } else {
                                skipped += 1
                                if skipped & 4095 == 0 && !keepGoing() { return }
                            }
                            var k = pick.count - 1
                            while k >= 0 { at[k] += 1; if at[k] < picks[k].count { pick[k] = picks[k][at[k]]; break }; at[k] = 0; pick[k] = picks[k][0]; k -= 1 }
                            if k < 0 { break }
                        }
                    }
                }
            }
            var t = n - 1
            while t >= 0 {
                at[t] += 1
                if at[t] < domain[t].count { choice[t] = domain[t][at[t]]; break }
                at[t] = 0; choice[t] = domain[t][0]; t -= 1
            }
            if t < 0 { return }
        }
    }

    /// The witness of one named execution (nil if it names none).
    func witness(_ x: LKMMExecution) -> LKMMWitness? {
        let n = prepared.paths.count
        guard x.paths.count == n, (0..<n).allSatisfy({ x.paths[$0] >= 0 && x.paths[$0] < prepared.paths[$0].count }),
              let c = LKMMCandidates(ctx: ctx, prepared: prepared, restrict: false, prune: false).combination(x.paths) else { return nil }
        var pick: [Int] = []
        var offset = 0
        if c.model.staticFailure == nil {
            guard x.co.count == c.locations.count else { return nil }
            for (l, loc) in c.locations.enumerated() {
                guard offset + loc.reads.count <= x.rf.count else { return nil }
                let rf = Array(x.rf[offset..<(offset + loc.reads.count)])
                offset += loc.reads.count
                guard let k = loc.choices.firstIndex(where: { $0.order == x.co[l] && $0.rf == rf }) else { return nil }
                pick.append(k)
            }
            guard offset == x.rf.count else { return nil }
        }
        let (rf, co, final) = c.model.staticFailure == nil ? relations(c, pick) : (BitRelation(count: c.model.n), BitRelation(count: c.model.n), prepared.initial)
        let outcome = c.model.check(rf: rf, co: co, keepRelations: true)
        let machine = ctx.machine
        let model = c.model
        let events: [LKMMWitness.Event] = model.nodes.enumerated().map { i, node in
            let e = node.event
            let kind = e.kind == .read ? "R" : e.kind == .write ? "W" : "F"
            let place = e.kind == .fence && !e.tags.contains(.syncSrcu) ? "" : LKMMSearch.globalName(e.address, machine.program)
            return LKMMWitness.Event(id: i, thread: node.thread, index: node.index, kind: kind, tags: e.tags.names, location: place, value: e.value,
                                     source: e.location, address: e.address, plain: model.Plain.contains(i))
        }
        var relations: [(String, [LKMMWitness.Edge])] = []
        var immediateCo = BitRelation(count: model.n)
        for i in 0..<model.n { for j in co.successors(i) where !(0..<model.n).contains(where: { co.contains(i, $0) && co.contains($0, j) }) { immediateCo.insert(i, j) } }
        for (name, r) in outcome.relations {
            let shown = name == "co" ? immediateCo : r
            let ordering = !["rf", "co", "fr"].contains(name)
            let edges = shown.pairs.filter { !ordering || (model.nodes[$0.0].thread >= 0 && model.nodes[$0.1].thread >= 0) }
                .map { LKMMWitness.Edge(from: $0.0, to: $0.1, label: name) }
            relations.append((name, edges))
        }
        var cycle: [LKMMWitness.Edge] = []
        if outcome.failedAxiom != nil, !outcome.cycle.isEmpty {
            let cyc = outcome.cycle
            for k in 0..<cyc.count {
                let a = cyc[k], b = cyc[(k + 1) % cyc.count]
                let label = outcome.relations.first { $0.1.contains(a, b) }?.0 ?? (model.po.contains(a, b) ? "po" : "")
                cycle.append(LKMMWitness.Edge(from: a, to: b, label: label))
            }
        }
        var values: [Int64]? = nil
        if case .outcome(let v)? = ctx.terminal(finalState(x.paths, final), mask: 0) { values = v }
        func node(_ a: LKMMRace.Access) -> Int { model.nodes.firstIndex { $0.thread == a.thread && $0.index == a.index } ?? 0 }
        let races = outcome.races.map { LKMMWitness.Edge(from: node($0.0), to: node($0.1), label: "data-race") }
        return LKMMWitness(execution: x, events: events, relations: relations, axiom: outcome.failedAxiom, cycle: cycle,
                           dataRace: outcome.dataRace, races: races, outcome: values)
    }
}
