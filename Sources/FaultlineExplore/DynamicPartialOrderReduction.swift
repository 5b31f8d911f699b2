import FaultlineLanguage
import FaultlineMachine

/// Stateless dynamic partial-order reduction (Flanagan and Godefroid, POPL 2005) with sleep
/// sets: a depth-first search that only tries another thread at a state when, at some later
/// state, that thread's next step depends on (and does not happen after) the step taken there
/// (vector clocks give the happens-before order). Reports the same set of final states and the same
/// violation kinds as `dfs`, with far fewer executions when most steps are independent.
///
/// Blocking is handled soundly: when the racing thread cannot run at the earlier state, every
/// enabled thread is tried there. An `invariant` block watches every intermediate state, which
/// reduction does not preserve in general: so writes (and frees) to any object the invariant has
/// read count as dependent on each other, which keeps the sequence of states the invariant can
/// see the same in every explored order. An invariant violation does not end the execution.
public struct DynamicPartialOrderReduction: Strategy {
    public var name: String { "dpor" }
    /// Sleep sets on top of the persistent-set backtracking. Off: combined with the
    /// Flanagan–Godefroid backtracking rule as implemented here they lost final states
    /// (ISA2+poonceonces); source sets (Abdulla et al.) are the sound way to add them back.
    public var useSleepSets = false
    public init() {}

    struct Node {
        var state: State
        var enabled: UInt64
        var backtrack: UInt64
        var done: UInt64
        var sleep: UInt64
        /// Some thread violated on the way here (and was halted): no outcome for this execution.
        var violated: Bool
    }

    struct Event {
        var thread: Int
        var access: Access
        var clock: [Int32]       // vector clock: events of each thread that happen before (inclusive)
    }

    public func explore(_ ctx: ExplorationContext, options: ExplorationOptions) -> ExplorationResult {
        let start = monotonicSeconds()
        let machine = ctx.machine
        let hasInvariant = ctx.checker.hasInvariant
        // Objects the invariant may read: every global it (or a helper it calls) names, plus
        // whatever it is seen reading at run time (through pointers).
        var observedObjects = Set<Int>()
        if let inv = machine.program.invariantFunction {
            var work = [inv], seen = Set([inv])
            while let f = work.popLast() {
                for instr in machine.program.functions[f].code {
                    switch instr {
                    case .push(let v):
                        let o = Address.object(v)
                        if v > 0, o >= 1, o <= machine.program.globals.count { observedObjects.insert(o) }
                    case .call(let g):
                        if seen.insert(Int(g)).inserted { work.append(Int(g)) }
                    default: break
                    }
                }
            }
        }
        var builder = ResultBuilder(strategy: name, program: machine.program)
        let root = machine.initialState()
        let rootMask = machine.enabledMask(root)
        if let t = ctx.terminal(root, mask: rootMask) {
            builder.add(t, schedule: [])
            return builder.finish(elapsed: monotonicSeconds() - start)
        }
        let n = root.threads.count
        func lowest(_ m: UInt64) -> Int { m.trailingZeroBitCount }
        var stack: [Node] = [Node(state: root, enabled: rootMask, backtrack: rootMask & (0 &- rootMask), done: 0, sleep: 0, violated: false)]
        var events: [Event] = []
        var schedule: [Int] = []
        var lastClock = [[Int32]](repeating: [Int32](repeating: 0, count: n), count: n)
        var clockStack: [[Int32]] = []     // the previous clock of the thread of each event
        // Events by the object (memory) they touch, and the events on virtual locations: the only
        // candidates for dependency, so race detection does not scan the whole execution.
        var objectEvents: [Int: [Int32]] = [:]
        var virtualEvents: [Int32] = []
        func pushEvent(_ e: Event) {
            let idx = Int32(events.count)
            events.append(e)
            if e.access.location < 0 { virtualEvents.append(idx) }
            else { objectEvents[Address.object(e.access.location), default: []].append(idx) }
            clockStack.append(lastClock[e.thread])
            lastClock[e.thread] = e.clock
        }
        func popEvent() {
            let e = events.removeLast()
            if e.access.location < 0 { virtualEvents.removeLast() }
            else { objectEvents[Address.object(e.access.location)]!.removeLast() }
            lastClock[e.thread] = clockStack.removeLast()
            schedule.removeLast()
        }
        /// Calls `body` with the indices of earlier events that may conflict with `a`, latest first;
        /// `body` returns false to stop.
        func forCandidates(_ a: Access, _ body: (Int) -> Bool) {
            if hasInvariant {
                var i = events.count - 1
                while i >= 0 { if !body(i) { return }; i -= 1 }
                return
            }
            if a.location < 0 {
                for i in virtualEvents.reversed() { if !body(Int(i)) { return } }
            } else if let list = objectEvents[Address.object(a.location)] {
                for i in list.reversed() { if !body(Int(i)) { return } }
            }
        }
        var steps = 0
        var sleepBlocked = 0
        var sinceClock = 0
        var invariantBroken = false

        func dependent(_ a: Access, _ b: Access) -> Bool {
            if a.conflicts(with: b) { return true }
            guard hasInvariant, a.write, b.write, a.location > 0, b.location > 0 else { return false }
            return observedObjects.contains(Address.object(a.location)) && observedObjects.contains(Address.object(b.location))
        }

        search: while !stack.isEmpty {
            let k = stack.count - 1
            let todo = stack[k].backtrack & ~stack[k].done & ~stack[k].sleep
            if todo == 0 {
                stack.removeLast()
                if k > 0 { popEvent() }
                continue
            }
            let t = lowest(todo)
            let access = machine.pendingAccess(stack[k].state, t)!
            // Sleep set of the child: threads asleep here or already explored, whose next step
            // is independent of this one.
            var childSleep: UInt64 = 0
            var cand = useSleepSets ? (stack[k].sleep | stack[k].done) & ~(1 << UInt64(t)) : 0
            while cand != 0 {
                let q = lowest(cand); cand &= cand - 1
                if let a = machine.pendingAccess(stack[k].state, q), !dependent(a, access) { childSleep |= 1 << UInt64(q) }
            }
            stack[k].done |= 1 << UInt64(t)
            // Vector clock of the new event: after t's previous event and every earlier dependent event.
            var clock = lastClock[t]
            forCandidates(access) { j in
                let e = events[j]
                if e.thread != t && dependent(e.access, access) {
                    for i in 0..<n where e.clock[i] > clock[i] { clock[i] = e.clock[i] }
                }
                return true
            }
            clock[t] += 1
            var child = stack[k].state
            machine.step(&child, t)
            if hasInvariant && child.violation == nil && !stack[k].violated {
                var reads: [Int64]? = []
                if let v = ctx.checker.checkInvariant(child, reads: &reads) {
                    builder.addViolation(v, schedule: schedule + [t])
                    child.violation = nil
                    invariantBroken = true
                }
                for a in reads! where a > 0 { observedObjects.insert(Address.object(a)) }
            }
            steps += 1
            schedule.append(t)
            pushEvent(Event(thread: t, access: access, clock: clock))
            // A thread that violates is halted and the others go on, so that races with their
            // later steps are still seen (a truncated execution would hide them).
            var violated = stack[k].violated || invariantBroken
            invariantBroken = false
            if let v = child.violation, v.thread >= 0 {
                builder.addViolation(v, schedule: schedule)
                child.violation = nil
                child.threads[v.thread].status = .finished
                violated = true
            }
            let cmask = child.violation == nil ? machine.enabledMask(child) : 0
            // Flanagan–Godefroid: for every thread's next step, the last earlier step of another
            // thread that it depends on and does not happen after is a race; try the other order.
            for p in 0..<n {
                guard let a = machine.pendingAccess(child, p) else { continue }
                forCandidates(a) { i in
                    let e = events[i]
                    if e.thread != p && dependent(e.access, a) && e.clock[e.thread] > lastClock[p][e.thread] {
                        if (stack[i].enabled >> UInt64(p)) & 1 == 1 { stack[i].backtrack |= 1 << UInt64(p) }
                        else { stack[i].backtrack |= stack[i].enabled }
                        return false
                    }
                    return true
                }
            }
            let term: Terminal? = violated ? (cmask == 0 ? .pruned : nil) : ctx.terminal(child, mask: cmask)
            if let term {
                if violated { builder.result.executions += 1; builder.result.violatedExecutions += 1 } else { builder.add(term, schedule: schedule) }
                popEvent()
                sinceClock += 1
                if builder.result.executions >= options.maxExecutions {
                    builder.result.complete = false; builder.result.stopReason = "max-executions"; break search
                }
                if let stop = options.stopWhen, stop(builder.result) {
                    builder.result.complete = false; builder.result.stopReason = "expectation met"; break search
                }
                if sinceClock >= 256, let limit = options.timeout {
                    sinceClock = 0
                    if monotonicSeconds() - start > limit { builder.result.complete = false; builder.result.stopReason = "timeout"; break search }
                }
                continue
            }
            let awake = cmask & ~childSleep
            if awake == 0 {
                // Every enabled thread is asleep: this execution is equivalent to one explored already.
                sleepBlocked += 1
                popEvent()
                continue
            }
            stack.append(Node(state: child, enabled: cmask, backtrack: awake & (0 &- awake), done: 0, sleep: childSleep, violated: violated))
        }
        builder.result.steps = steps
        builder.result.sleepBlocked = sleepBlocked
        return builder.finish(elapsed: monotonicSeconds() - start)
    }
}
