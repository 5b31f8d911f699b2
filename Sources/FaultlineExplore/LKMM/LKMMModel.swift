/// The Linux-kernel memory model (`linux-kernel.bell`, `linux-kernel.cat`, `lock.cat`, as herd7
/// 7.58 runs them with `linux-kernel.cfg`) written out natively over bit matrices: the
/// relations of one combination of thread paths that do not depend on reads-from and coherence
/// are computed once (`init`), the rest per candidate (`check`). Each `let` of the `.cat` files
/// is one line here, under the same name.
/// herd7's flags: the model files' `flag ~empty <relation> as <name>` lines, raised by an
/// execution the model allows (herd7 prints a flag when some allowed execution raises it).
struct LKMMFlags: OptionSet, Sendable {
    let rawValue: UInt16
    static let dataRace = LKMMFlags(rawValue: 1 << 0)
    static let mixedAccesses = LKMMFlags(rawValue: 1 << 1)
    static let mixedLockAccesses = LKMMFlags(rawValue: 1 << 2)
    static let lockFinal = LKMMFlags(rawValue: 1 << 3)
    static let unmatchedUnlock = LKMMFlags(rawValue: 1 << 4)
    static let unmatchedRcuLock = LKMMFlags(rawValue: 1 << 5)
    static let unmatchedRcuUnlock = LKMMFlags(rawValue: 1 << 6)
    static let unmatchedSrcuLock = LKMMFlags(rawValue: 1 << 7)
    static let unmatchedSrcuUnlock = LKMMFlags(rawValue: 1 << 8)
    static let multipleSrcuMatches = LKMMFlags(rawValue: 1 << 9)
    static let invalidSleep = LKMMFlags(rawValue: 1 << 10)
    static let srcuBadValueMatch = LKMMFlags(rawValue: 1 << 11)

    /// The names herd7 prints (`Flag <name>`), sorted.
    var names: [String] {
        let all: [(LKMMFlags, String)] = [
            (.dataRace, "data-race"), (.invalidSleep, "invalid-sleep"), (.lockFinal, "lock-final"),
            (.mixedAccesses, "mixed-accesses"), (.mixedLockAccesses, "mixed-lock-accesses"),
            (.multipleSrcuMatches, "multiple-srcu-matches"), (.srcuBadValueMatch, "srcu-bad-value-match"),
            (.unmatchedRcuLock, "unmatched-rcu-lock"), (.unmatchedRcuUnlock, "unmatched-rcu-unlock"),
            (.unmatchedSrcuLock, "unmatched-srcu-lock"), (.unmatchedSrcuUnlock, "unmatched-srcu-unlock"),
            (.unmatchedUnlock, "unmatched-unlock"),
        ]
        return all.filter { contains($0.0) }.map(\.1)
    }
}

struct LKMMModel {
    /// One event of the combination: init writes first (one per location), then each thread's.
    struct Node {
        var thread: Int          // -1: an initial write
        var index: Int           // index in its thread path (-1 for init writes)
        var event: LKEvent
    }

    let n: Int
    let words: Int
    /// (Values are set per combination: a model is shared by combinations of paths of the same shapes.)
    var nodes: [Node]
    let locations: Int

    // Sets.
    let R, W, M, IW, Marked, Plain, RMW, LKR, LKW, UL, LF, RU, Acquire, Release, Mb, Noreturn, R4rmb, notNoreturn: BitSet
    let SrcuLock, SrcuUnlock: BitSet
    // Relations that do not depend on rf/co.
    let po, poOpt, loc, poLoc, int, ext, addr0, data0, ctrl0, rmw: BitRelation
    let acqPo, poRel, rmb, wmb, mbStatic, gp, fencerelRmb: BitRelation
    let poULpo, poUL, lkrPo: BitRelation           // pieces of po-unlock-lock-po
    let afterUnlockLockPo: BitRelation             // [After-unlock-lock] ; po ; [M]
    let rcuRscsi: BitRelation
    let SyncRcu, SyncSrcu: BitSet
    // Precomputed for `check`.
    let identity, identityMarked, dataToNonSrcuUnlock, strongFenceStatic, nonrwFenceStatic, fenceStatic: BitRelation
    let rmbToNonNoreturn, nonNoreturnRmb, preRace, markedToW, wToMarked: BitRelation
    let hasLocks, hasRCU, hasSRCU, hasPlain: Bool
    /// Set when lock.cat's static axioms (lock-nest, nested-is-locked, unmatched-locks) fail.
    let staticFailure: String?
    /// The flags that depend on neither rf nor co (every allowed candidate raises them).
    let staticFlags: LKMMFlags

    /// `finalSlots`: the locations the final condition and `locations` observe (herd7's `FW`).
    init(paths: [[LKEvent]], locations: Int, initialValues: [Int64], initialAddresses: [Int64], finalSlots: [Bool]) {
        var nodes: [Node] = []
        for l in 0..<locations {
            nodes.append(Node(thread: -1, index: -1, event: LKEvent(kind: .write, tags: .initWrite, address: initialAddresses[l], value: initialValues[l], location: -1, slot: Int32(l))))
        }
        var first: [Int] = []
        for (t, p) in paths.enumerated() {
            first.append(nodes.count)
            for (i, e) in p.enumerated() { nodes.append(Node(thread: t, index: i, event: e)) }
        }
        self.nodes = nodes
        self.locations = locations
        let n = nodes.count
        self.n = n
        let words = max(1, (n + 63) >> 6)
        self.words = words
        func set(_ p: (Node) -> Bool) -> BitSet {
            var s = BitSet(words: words)
            for i in 0..<n where p(nodes[i]) { s.insert(i) }
            return s
        }
        func tagged(_ t: LKTags) -> BitSet { set { !$0.event.tags.isDisjoint(with: t) } }
        func id(_ s: BitSet) -> BitRelation { BitRelation.identity(on: s, count: n) }

        // Events.
        var po = BitRelation(count: n), loc = BitRelation(count: n), int = BitRelation(count: n)
        var addr = BitRelation(count: n), data = BitRelation(count: n), ctrl = BitRelation(count: n)
        var rmwBase = BitRelation(count: n)
        for i in 0..<n {
            let a = nodes[i]
            for j in 0..<n where j != i {
                let b = nodes[j]
                if a.thread >= 0 && a.thread == b.thread {
                    int.insert(i, j)
                    if a.index < b.index { po.insert(i, j) }
                }
                if a.event.kind != .fence || a.event.tags.contains(.syncSrcu), b.event.kind != .fence || b.event.tags.contains(.syncSrcu),
                   a.event.address == b.event.address { loc.insert(i, j) }
            }
            int.insert(i, i)
            if a.thread >= 0 {
                let base = first[a.thread]
                for d in a.event.addr.members { addr.insert(base + d, i) }
                for d in a.event.data.members { data.insert(base + d, i) }
                for d in a.event.ctrl.members { ctrl.insert(base + d, i) }
                if a.event.partner >= 0 && a.event.isRead && !a.event.tags.contains(.lkr) { rmwBase.insert(i, base + Int(a.event.partner)) }
            }
        }
        // Same location holds for equal addresses, including an event with itself.
        for i in 0..<n where nodes[i].event.kind != .fence || nodes[i].event.tags.contains(.syncSrcu) { loc.insert(i, i) }
        let all = BitSet(words: words).complement(count: n)
        var ext = BitRelation.product(all, all, count: n) - int
        for i in 0..<n where nodes[i].thread == -1 { ext.insert(i, i) }
        ext = ext - BitRelation.identity(n)
        self.po = po
        self.poOpt = po.opt
        self.loc = loc
        self.int = int
        self.ext = ext
        self.addr0 = addr
        self.data0 = data
        self.ctrl0 = ctrl
        let poLoc = po & loc
        self.poLoc = poLoc

        let IW = tagged(.initWrite)
        let LKR = tagged(.lkr), LKW = tagged(.lkw), UL = tagged(.ul), RL = tagged(.rl), RU = tagged(.ru)
        let LF = tagged(.lf) | RL
        let R = set { $0.event.isRead }
        let W = set { $0.event.isWrite }
        let M = R | W
        let RMW = tagged(.rmw)
        let failedRMW = RMW - (rmwBase.domain | rmwBase.range)
        let srcuLock = tagged(.srcuLock), srcuUnlock = tagged(.srcuUnlock), syncSrcu = tagged(.syncSrcu)
        let markedTags: LKTags = [.initWrite, .once, .release, .acquire, .mb, .rmw, .lkr, .lkw, .ul, .lf, .rl, .ru, .srcuLock, .srcuUnlock]
        let Marked = M.complement(count: n) | tagged(markedTags)
        let Plain = M - Marked
        let Acquire = ((tagged(.acquire) - W) - failedRMW) | LKR
        let Release = ((tagged(.release) - R) - failedRMW) | UL
        let Mb = tagged(.mb) - failedRMW
        let Noreturn = tagged(.noreturn) - W
        let R4rmb = R - Noreturn
        self.IW = IW; self.LKR = LKR; self.LKW = LKW; self.UL = UL; self.LF = LF; self.RU = RU
        self.R = R; self.W = W; self.M = M; self.RMW = RMW; self.Marked = Marked; self.Plain = Plain
        self.Acquire = Acquire; self.Release = Release; self.Mb = Mb; self.Noreturn = Noreturn; self.R4rmb = R4rmb
        self.notNoreturn = Noreturn.complement(count: n)
        self.SrcuUnlock = srcuUnlock
        self.SrcuLock = srcuLock
        self.hasLocks = !(LKR.isEmpty && UL.isEmpty && LF.isEmpty && RU.isEmpty)
        self.hasPlain = !Plain.isEmpty

        // lock.cat
        let lkRmw = (id(LKR) * poLoc * id(LKW)) - (po * po)
        self.rmw = rmwBase | lkRmw
        let critical = (id(LKW) * poLoc * id(UL)) - (poLoc * id(LKW | UL) * poLoc)
        let unmatchedLKW = LKW - critical.domain
        var failure: String? = nil
        if !((id(LKW) * poLoc * id(LKR)) - (poLoc * id(UL) * poLoc)).isEmpty { failure = "lock-nest" }
        else if !((id(LKW) * poLoc * id(RU)) - (poLoc * id(UL) * poLoc)).isEmpty { failure = "nested-is-locked" }
        else if !((id(unmatchedLKW) * loc * id(unmatchedLKW)) - BitRelation.identity(n)).isEmpty { failure = "unmatched-locks" }
        self.staticFailure = failure

        // Fences.
        func fencerel(_ s: BitSet) -> BitRelation { po * id(s) * po }
        let idM = id(M)
        self.acqPo = id(Acquire) * po * idM
        self.poRel = idM * po * id(Release)
        self.fencerelRmb = fencerel(tagged(.rmb))
        self.rmb = id(R4rmb) * fencerelRmb * id(R4rmb)
        self.wmb = id(W) * fencerel(tagged(.wmb)) * id(W)
        let poOpt = po.opt
        var mb = idM * fencerel(Mb) * idM
        mb.formUnion(idM * po * id(Mb & R))
        mb.formUnion(id(Mb & W) * po * idM)
        mb.formUnion(idM * fencerel(tagged(.beforeAtomic)) * id(RMW) * poOpt * idM)
        mb.formUnion(idM * poOpt * id(RMW) * fencerel(tagged(.afterAtomic)) * idM)
        mb.formUnion(idM * poOpt * id(LKW) * fencerel(tagged(.afterSpinlock)) * idM)
        mb.formUnion(idM * poOpt * id(srcuUnlock) * fencerel(tagged(.afterSrcuReadUnlock)) * idM)
        self.mbStatic = mb
        self.afterUnlockLockPo = id(tagged(.afterUnlockLock)) * po * idM
        self.poUL = po * id(UL)
        self.poULpo = po * id(UL) * po * id(LKR) * po
        self.lkrPo = id(LKR) * po
        let syncRcu = tagged(.syncRcu)
        let gp = po * id(syncRcu | syncSrcu) * poOpt
        self.gp = gp
        self.SyncRcu = syncRcu
        self.SyncSrcu = syncSrcu
        self.strongFenceStatic = mb | gp
        self.nonrwFenceStatic = strongFenceStatic | poRel | acqPo
        self.fenceStatic = nonrwFenceStatic | wmb | rmb
        self.identity = BitRelation.identity(n)
        self.identityMarked = id(Marked)
        self.dataToNonSrcuUnlock = data.range(srcuUnlock.complement(count: n))
        self.rmbToNonNoreturn = (id(R4rmb) * fencerelRmb).range(Noreturn.complement(count: n))
        self.nonNoreturnRmb = fencerelRmb.domain(Noreturn.complement(count: n)).range(R4rmb)
        self.preRace = ext & (BitRelation.product(Plain, M, count: n) | BitRelation.product(M - IW, Plain, count: n))
        self.markedToW = BitRelation.product(Marked, W, count: n)
        self.wToMarked = BitRelation.product(W, Marked, count: n)
        self.hasSRCU = !(srcuLock.isEmpty && syncSrcu.isEmpty)

        // rcu-rscs: matching nested rcu_read_lock / rcu_read_unlock pairs (innermost first).
        let rcuLock = tagged(.rcuLock), rcuUnlock = tagged(.rcuUnlock)
        var matched = BitRelation(count: n)
        while true {
            let unmatchedLocks = rcuLock - matched.domain
            let unmatchedUnlocks = rcuUnlock - matched.range
            let unmatched = unmatchedLocks | unmatchedUnlocks
            let unmatchedPo = id(unmatched) * po * id(unmatched)
            let next = matched | ((id(unmatchedLocks) * po * id(unmatchedUnlocks)) - (unmatchedPo * unmatchedPo))
            if next == matched { break }
            matched = next
        }
        self.rcuRscsi = matched.inverse
        self.hasRCU = !(syncRcu.isEmpty && syncSrcu.isEmpty)

        // The flags of linux-kernel.bell, lock.cat and linux-kernel.cat that need no rf/co.
        var flags: LKMMFlags = []
        let allLocks = LKR | LKW | UL | LF | RU | srcuLock | srcuUnlock | syncSrcu
        if !(id(M - IW - allLocks) * loc * id(allLocks)).isEmpty { flags.insert(.mixedLockAccesses) }
        if nodes.indices.contains(where: { allLocks.contains($0) && finalSlots[Int(nodes[$0].event.slot)] }) { flags.insert(.lockFinal) }
        if !(UL - critical.range).isEmpty { flags.insert(.unmatchedUnlock) }
        if !(rcuLock - matched.domain).isEmpty { flags.insert(.unmatchedRcuLock) }
        if !(rcuUnlock - matched.range).isEmpty { flags.insert(.unmatchedRcuUnlock) }
        if !(matched & (po * id(syncSrcu) * po)).isEmpty { flags.insert(.invalidSleep) }
        let barrierEvents = tagged([.barrier, .rmb, .wmb, .beforeAtomic, .afterAtomic, .rcuLock, .rcuUnlock]) | Mb | syncRcu | syncSrcu
            | Acquire | Release | srcuLock | srcuUnlock
        let barrier = fencerel(barrierEvents) | (po * id(Release)) | (id(Acquire) * po)
        let plainW = Plain & W
        let unbarred = poLoc - barrier
        if !((id(plainW) * unbarred * id(Marked)) | (id(Marked) * unbarred * id(plainW))).isEmpty { flags.insert(.mixedAccesses) }
        self.staticFlags = flags
    }

    /// What `check` found about one candidate.
    struct Outcome {
        /// nil: consistent; else the first axiom (in the `.cat` files' order) that fails.
        var failedAxiom: String?
        /// For a failed acyclicity/irreflexivity axiom: a cycle of its relation; for an `empty`
        /// axiom: one offending pair.
        var cycle: [Int] = []
        /// Flags this candidate raises (meaningful when it is allowed).
        var flags: LKMMFlags = []
        var dataRace: Bool { flags.contains(.dataRace) }
        /// With `dataRace`: the racing pairs, the access earlier in rf/co/fr first.
        var races: [(LKMMRace.Access, LKMMRace.Access)] = []
        /// The relations of the candidate, for witnesses (computed on request).
        var relations: [(String, BitRelation)] = []
    }

    /// Checks one candidate: `rf` (write → read, lock reads included) and `co` (the coherence
    /// order, transitive, per location, initial writes first, unlocks merged).
    /// `locallyChecked`: coherence and atomic were checked location by location already.
    func check(rf: BitRelation, co: BitRelation, keepRelations: Bool = false, locallyChecked: Bool = false) -> Outcome {
        var out = Outcome()
        if let f = staticFailure { out.failedAxiom = f; return out }
        out.flags = staticFlags
        let fr = rf.inverse * co
        let rfe = rf & ext, rfi = rf & int
        if !locallyChecked {
            // coherence
            let coherence = poLoc | rf | co | fr
            if !coherence.acyclic { out.failedAxiom = "coherence"; out.cycle = coherence.cycle() ?? []; return out }
            // atomic
            let atomic = rmw & ((fr & ext) * (co & ext))
            if !atomic.isEmpty { out.failedAxiom = "atomic"; if let p = atomic.pairs.first { out.cycle = [p.0, p.1] }; return out }
        }

        // Dependencies carried through plain accesses (linux-kernel.bell).
        var addr = addr0, ctrl = ctrl0, data = data0
        let carry = dataToNonSrcuUnlock * rfi
        if !carry.isEmpty {
            let carryDep = carry.star
            addr = carryDep * addr0; ctrl = carryDep * ctrl0; data = carryDep * data0
        }

        // po-unlock-lock-po and the fences that use it.
        var poUnlockLockPo = BitRelation(count: n)
        var strongFence = strongFenceStatic, nonrwFence = nonrwFenceStatic, fence = fenceStatic
        if hasLocks {
            poUnlockLockPo = poULpo | (poUL * rf * lkrPo)
            let extra = (poUnlockLockPo * afterUnlockLockPo).domain(M)
            strongFence.formUnion(extra); nonrwFence.formUnion(extra); fence.formUnion(extra)
        }

        // ppo
        let dep = addr | data
        let rwdep = (dep | ctrl).range(W)
        let overwrite = co | fr
        let toW = rwdep | (overwrite & int) | (addr.range(Plain) * wmb)
        let toR = addr.range(R) | (dep.range(Marked) * rfi)
        let ppo = toR | toW | (fence & int) | (poUnlockLockPo & int)

        // Propagation.
        let rfeMarked = rfe.range(Marked)
        let cumulBase = strongFence | poRel
        let aCumul = cumulBase | (rfeMarked * cumulBase)
        let rmwChain = rf * rmw
        let cumulFence0 = (aCumul | wmb | poUnlockLockPo).domain(Marked).range(Marked)
        let cumulFence = rmwChain.isEmpty ? cumulFence0 : cumulFence0 * rmwChain.star
        let cumulStar = cumulFence.star
        let overwriteExt = overwrite & ext
        let p0 = (cumulStar | (overwriteExt * cumulStar)).domain(Marked).range(Marked)
        let prop = (p0 | (p0 * rfe)).range(Marked)
        let hb = (ppo | rfe | ((prop - identity) & int)).domain(Marked).range(Marked)
        if keepRelations {
            out.relations = [("rf", rf), ("co", co), ("fr", fr), ("ppo", ppo), ("hb", hb), ("prop", prop)]
        }
        guard let hbPlus = hb.acyclicClosure else { out.failedAxiom = "happens-before"; out.cycle = hb.cycle() ?? []; return out }
        let hbStar = hbPlus | identity
        let pb = prop * strongFence * hbStar.range(Marked)
        guard let pbPlus = pb.acyclicClosure else { out.failedAxiom = "propagation"; out.cycle = pb.cycle() ?? []; return out }
        let pbStar = pbPlus | identity
        if keepRelations { out.relations.append(("pb", pb)) }

        // SRCU read-side sections matched through data and rf (linux-kernel.bell), and their flags.
        var srcuRscs = BitRelation(count: n)
        if !SrcuLock.isEmpty || !SrcuUnlock.isEmpty {
            let carrySrcuData = (dataToNonSrcuUnlock * rf).star
            srcuRscs = (carrySrcuData * data0.range(SrcuUnlock)).domain(SrcuLock) & loc
            if !(SrcuLock - srcuRscs.domain).isEmpty { out.flags.insert(.unmatchedSrcuLock) }
            if !(SrcuUnlock - srcuRscs.range).isEmpty { out.flags.insert(.unmatchedSrcuUnlock) }
            if !((srcuRscs.inverse * srcuRscs) - identity).isEmpty { out.flags.insert(.multipleSrcuMatches) }
            if srcuRscs.pairs.contains(where: { nodes[$0.0].event.value != nodes[$0.1].event.value }) { out.flags.insert(.srcuBadValueMatch) }
        }

        // RCU
        var rcuFence = BitRelation(count: n)
        var rb = BitRelation(count: n)
        if hasRCU {
            let hbPb = hbStar * pbStar
            let l0 = hbPb * prop * po
            let rcuLink = l0 | (po * l0)
            let srcuRscsi = srcuRscs.inverse
            // let rec rcu-order, to its least fixpoint.
            var order = BitRelation.identity(on: SyncRcu | SyncSrcu, count: n)
            let linkRscs = rcuLink * rcuRscsi, rscsLink = rcuRscsi * rcuLink
            order.formUnion(linkRscs.domain(SyncRcu) | rscsLink.range(SyncRcu))
            let srcuLinkRscs = rcuLink * srcuRscsi, srcuRscsLink = srcuRscsi * rcuLink
            if hasSRCU { order.formUnion((srcuLinkRscs.domain(SyncSrcu) & loc) | (srcuRscsLink.range(SyncSrcu) & loc)) }
            while true {
                var next = order
                let inner = rcuLink * order * rcuLink
                next.formUnion((inner * rcuRscsi).domain(SyncRcu))
                next.formUnion((rcuRscsi * inner).range(SyncRcu))
                if hasSRCU {
                    next.formUnion((inner * srcuRscsi).domain(SyncSrcu) & loc)
                    next.formUnion((srcuRscsi * inner).range(SyncSrcu) & loc)
                }
                next.formUnion(order * rcuLink * order)
                if next == order { break }
                order = next
            }
            let f0 = po * order
            rcuFence = f0 | (f0 * po)
            rb = (prop * rcuFence * hbPb).range(Marked)
            if !rb.irreflexive {
                out.failedAxiom = "rcu"
                if let i = (0..<n).first(where: { rb.contains($0, $0) }) { out.cycle = [i] }
                return out
            }
            if keepRelations { out.relations.append(("rb", rb)) }
        }
        guard hasPlain else { return out }

        // Plain accesses and data races.
        let fence2 = fence | rcuFence
        let strongFence2 = strongFence | rcuFence
        let xbstar = (hb | pb | rb).star
        let vis0 = (cumulStar | (cumulStar * rfe)).range(Marked)
        let vis = vis0 * ((strongFence2.range(Marked) * xbstar) | (xbstar & int))
        let wPreBounded = (addr | fence2).domain(Marked) | identityMarked
        let rPreBounded = (addr | nonrwFence | rmbToNonNoreturn).domain(Marked) | identityMarked
        let wPostBounded = fence2.range(Marked).opt.range(Marked) * (rmwChain.isEmpty ? identity : rmwChain.star)
        let rPostBounded = (nonrwFence | nonNoreturnRmb).range(Marked) | identityMarked
        let wwVis = fence2 | (strongFence2 * xbstar * wPreBounded) | (wPostBounded * vis * wPreBounded)
        let wrVis = fence2 | (strongFence2 * xbstar * rPreBounded) | (wPostBounded * vis * rPreBounded)
        let rwXbstar = fence2 | (rPostBounded * xbstar * wPreBounded)
        let rwXbstarInv = rwXbstar.inverse
        let incoherent = (preRace & rf & rwXbstarInv) | (preRace & fr & wrVis.inverse) | (preRace & co & wwVis.inverse)
        if !incoherent.isEmpty {
            out.failedAxiom = "plain-coherence"
            if let p = incoherent.pairs.first { out.cycle = [p.0, p.1] }
            return out
        }
        let wwNonrace = wwVis & (markedToW | rwXbstar) & (wToMarked | wrVis)
        let wwRace = (preRace & co) - wwNonrace
        let wrRace = ((preRace & (rf | (co * rf))) - wrVis) - rwXbstarInv
        let rwRace = (preRace & fr) - rwXbstar
        if !(wwRace.isEmpty && wrRace.isEmpty && rwRace.isEmpty) {
            out.flags.insert(.dataRace)
            func access(_ i: Int) -> LKMMRace.Access {
                LKMMRace.Access(thread: nodes[i].thread, index: nodes[i].index, location: -1, write: W.contains(i), plain: Plain.contains(i),
                                address: nodes[i].event.address)
            }
            out.races = (wwRace | wrRace | rwRace).pairs.map { (access($0.0), access($0.1)) }
        }
        return out
    }
}
