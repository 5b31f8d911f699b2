import XCTest
import FaultlineLanguage
import FaultlineMachine
import FaultlineCheck
@testable import FaultlineExplore

/// Deferred freeing and sleeping: `call_rcu`/`kfree_rcu` (the callback thread runs a callback
/// after a grace period that waits for the sections in progress at `call_rcu`, the caller's
/// own included), `wait_event`/`wake_up` (no lost wake-up; a condition nobody wakes the
/// sleeper for is a deadlock) and completions. Each behaviour has a forbid/allow pair, and
/// dpor must agree with dfs on generated programs that use them.
final class WaitingTests: XCTestCase {
    func explore(_ text: String, defines: [String] = [], strategy: Strategy = DynamicPartialOrderReduction()) throws -> (ExplorationResult, ExplorationContext) {
        let p = try Frontend.load(text: text, defines: defines.map { Define(name: $0, value: "1") })
        let ctx = ExplorationContext(machine: Machine(program: p))
        return (strategy.explore(ctx, options: ExplorationOptions()), ctx)
    }

    func kinds(_ r: ExplorationResult) -> [String] { r.violationKinds.map(\.rawValue).sorted() }

    /// A writer unpublishes an object and frees it with call_rcu (or kfree_rcu, or at once); a
    /// reader dereferences it, inside a read-side section or not.
    static let unpublish = """
    C unpublish
    struct rcu_head { long next; };
    struct obj { struct rcu_head rcu; int val; };
    static void obj_free(struct rcu_head *head)
    {
        struct obj *o = (struct obj *)head;
        o->val = 0;             /* a plain write: ordered after pre-existing readers */
        kfree(o);
    }
    { struct obj *gp; }
    P0(struct obj **gp)
    {
        struct obj *o = kzalloc(sizeof(struct obj), GFP_KERNEL);
        struct obj *old;
        o->val = 1;
        rcu_assign_pointer(*gp, o);
        old = xchg(gp, 0);
    #ifdef KFREE_RCU
        kfree_rcu(old, rcu);
    #elif defined(FREE_NOW)
        kfree(old);
    #else
        call_rcu(&old->rcu, obj_free);
    #endif
    }
    P1(struct obj **gp)
    {
        struct obj *p;
        int r0 = 0;
    #ifndef NO_READER_SECTION
        rcu_read_lock();
    #endif
        p = rcu_dereference(*gp);
        if (p)
            r0 = p->val;
    #ifndef NO_READER_SECTION
        rcu_read_unlock();
    #endif
    }
    """

    func testCallRCUWaitsForPreExistingReaders() throws {
        XCTAssertEqual(kinds(try explore(WaitingTests.unpublish).0), [])
        XCTAssertEqual(kinds(try explore(WaitingTests.unpublish, defines: ["KFREE_RCU"]).0), [])
        // Forbid: without a read-side section nothing delays the callback (and its plain write
        // races with the reader's plain read); freeing at once is a use-after-free.
        XCTAssertEqual(kinds(try explore(WaitingTests.unpublish, defines: ["NO_READER_SECTION"]).0), ["data-race", "use-after-free"])
        XCTAssertEqual(kinds(try explore(WaitingTests.unpublish, defines: ["KFREE_RCU", "NO_READER_SECTION"]).0), ["use-after-free"])
        XCTAssertEqual(kinds(try explore(WaitingTests.unpublish, defines: ["FREE_NOW"]).0), ["use-after-free"])
        // The callback really runs: no leak, the object is freed in every execution.
        let (r, ctx) = try explore(WaitingTests.unpublish)
        XCTAssertTrue(r.complete)
        XCTAssertEqual(ctx.machine.program.threadCount, 3)
        XCTAssertEqual(ctx.machine.program.rcuCallbackThread, 2)
        XCTAssertEqual(ctx.machine.program.functions[ctx.machine.program.threadFunctions[2]].name, "rcu_do_batch")
        XCTAssertEqual(r.executions, 7)
    }

    func testDPORAndBFSAgreeWithDFSOnCallRCU() throws {
        for d in [[], ["KFREE_RCU"], ["NO_READER_SECTION"], ["KFREE_RCU", "NO_READER_SECTION"]] {
            let a = try explore(WaitingTests.unpublish, defines: d, strategy: DepthFirstSearch()).0
            let b = try explore(WaitingTests.unpublish, defines: d).0
            let c = try explore(WaitingTests.unpublish, defines: d, strategy: BreadthFirstSearch()).0
            XCTAssertEqual(Set(a.outcomes.map(\.0)), Set(b.outcomes.map(\.0)), "\(d)")
            XCTAssertEqual(a.violationKinds, b.violationKinds, "\(d)")
            XCTAssertEqual(a.violationKinds.subtracting([.dataRace]), c.violationKinds.subtracting([.dataRace]), "\(d)")
        }
    }

    func testCallRCUInsideTheCallersOwnSectionWaitsForIt() throws {
        let src = """
        C own-section
        struct rcu_head { long next; };
        struct obj { struct rcu_head rcu; int val; };
        static void obj_free(struct rcu_head *head) { kfree(head); }
        { struct obj o0; }
        P0(void)
        {
            struct obj *o = kzalloc(sizeof(struct obj), GFP_KERNEL);
            int r0;
            rcu_read_lock();
            call_rcu(&o->rcu, obj_free);
            r0 = READ_ONCE(o->val);     /* still inside the section that began before call_rcu */
            rcu_read_unlock();
        #ifdef AFTER_SECTION
            r0 = READ_ONCE(o->val);
        #endif
        }
        """
        XCTAssertEqual(kinds(try explore(src).0), [])
        XCTAssertEqual(kinds(try explore(src, defines: ["AFTER_SECTION"]).0), ["use-after-free"])
    }

    func testCallRCUDiagnostics() throws {
        func error(_ body: String) -> String {
            do { _ = try Frontend.load(text: "C d\nstruct rcu_head { long n; };\nstatic void two(struct rcu_head *h, int x) { }\n{ struct rcu_head h; }\nP0(struct rcu_head *h) { \(body) }\n"); return "" }
            catch { return "\(error)" }
        }
        XCTAssertTrue(error("call_rcu(h, nothing);").contains("callback must be the name of a function defined in the file"))
        XCTAssertTrue(error("call_rcu(h, two);").contains("RCU callback 'two' must take one argument"))
        XCTAssertTrue(error("call_rcu(h);").contains("call_rcu takes 2 arguments"))
        // The callback thread counts against the 64-thread limit.
        let threads = (0..<64).map { "P\($0)(struct rcu_head *h) { \($0 == 0 ? "call_rcu(h, one);" : "") }" }.joined(separator: "\n")
        do {
            _ = try Frontend.load(text: "C d\nstruct rcu_head { long n; };\nstatic void one(struct rcu_head *h) { }\n{ struct rcu_head h; }\n" + threads + "\n")
            XCTFail("64 threads and a callback thread accepted")
        } catch { XCTAssertTrue("\(error)".contains("at most 63 (P0…P62) are supported"), "\(error)") }
    }

    static let sleeper = """
    C sleeper
    struct wait_queue_head { long seq; };
    { struct wait_queue_head wq; int done; int data; }
    P0(struct wait_queue_head *wq, int *done, int *data)
    {
        *data = 42;
    #ifdef WAKE_FIRST
        wake_up(wq);
        smp_store_release(done, 1);
    #else
        smp_store_release(done, 1);
    #ifndef NO_WAKE_UP
        wake_up(wq);
    #endif
    #endif
    }
    P1(struct wait_queue_head *wq, int *done, int *data)
    {
        int r0;
        wait_event(*wq, smp_load_acquire(done));
        r0 = *data;
        BUG_ON(r0 != 42);
    }
    """

    func testWaitEventSleepsUntilWokenAndIsNeverLost() throws {
        let (ok, _) = try explore(WaitingTests.sleeper)
        XCTAssertEqual(kinds(ok), [])
        XCTAssertTrue(ok.complete)
        XCTAssertEqual(ok.executions, 3)
        // Forbid: setting the condition without a wake_up (or waking before setting it) can
        // leave the sleeper asleep for good: a deadlock, worded as what it waits for.
        for d in ["NO_WAKE_UP", "WAKE_FIRST"] {
            let (r, ctx) = try explore(WaitingTests.sleeper, defines: [d])
            XCTAssertEqual(kinds(r), ["deadlock"], d)
            XCTAssertEqual(r.verdict(hasClaim: false), .sometimes, d)
            let v = try XCTUnwrap(r.violations.first)
            var s = ctx.machine.initialState()
            for t in v.schedule { ctx.machine.step(&s, t) }
            XCTAssertEqual(ctx.machine.enabledMask(s), 0, d)
            guard case .sync(.waitEventSleep)? = ctx.machine.pending(s, 1) else { return XCTFail("P1 is not asleep in wait_event: \(d)") }
        }
    }

    /// wait_event_timeout(): the sleep may time out at any moment, so a missing wake_up() is no
    /// deadlock; the result says how it ended (the timeout: true at a test; 1: timed out, true
    /// at the last test; 0: timed out, false).
    static let timedSleeper = """
    C timed-sleeper
    struct wait_queue_head { long seq; };
    { struct wait_queue_head wq; int done; }
    P0(struct wait_queue_head *wq, int *done)
    {
        smp_store_release(done, 1);
    #ifndef NO_WAKE_UP
        wake_up(wq);
    #endif
    }
    P1(struct wait_queue_head *wq, int *done)
    {
        long r0 = wait_event_timeout(*wq, smp_load_acquire(done), 5);
    }
    exists (1:r0=0)
    """

    func testWaitEventTimeoutTimesOutInsteadOfSleepingForGood() throws {
        for d in [[], ["NO_WAKE_UP"]] {
            let (r, _) = try explore(WaitingTests.timedSleeper, defines: d)
            XCTAssertEqual(kinds(r), [], "\(d)")
            XCTAssertTrue(r.complete)
            XCTAssertEqual(Set(r.outcomes.map(\.0)), [[0], [1], [5]], "\(d)")
            XCTAssertEqual(r.verdict(hasClaim: true), .sometimes, "\(d)")
            let (f, _) = try explore(WaitingTests.timedSleeper, defines: d, strategy: DepthFirstSearch())
            XCTAssertEqual(Set(f.outcomes.map(\.0)), Set(r.outcomes.map(\.0)), "dpor = dfs \(d)")
        }
        // A wait_event() without the timeout, and no wake_up(), can sleep for good.
        let forever = WaitingTests.timedSleeper.replacingOccurrences(of: "wait_event_timeout(*wq, smp_load_acquire(done), 5)",
                                                                    with: "(wait_event(*wq, smp_load_acquire(done)), 5)")
        XCTAssertEqual(kinds(try explore(forever, defines: ["NO_WAKE_UP"]).0), ["deadlock"])
        XCTAssertThrowsError(try explore(WaitingTests.timedSleeper.replacingOccurrences(of: ", 5)", with: ")"))) { e in
            XCTAssertTrue("\(e)".contains("wait_event_timeout"), "\(e)")
        }
    }

    func testCompletions() throws {
        let src = """
        C completion
        struct completion { unsigned int done; };
        { struct completion c; int data; }
        P0(struct completion *c, int *data)
        {
            *data = 1;
        #ifdef COMPLETE_ALL
            complete_all(c);
        #else
            complete(c);
        #endif
        }
        P1(struct completion *c, int *data) { int r0; wait_for_completion(c); r0 = *data; BUG_ON(r0 != 1); }
        #ifdef TWO_WAITERS
        P2(struct completion *c) { wait_for_completion(c); }
        #endif
        """
        let one = try explore(src).0
        XCTAssertEqual(kinds(one), [])
        XCTAssertEqual(one.executions, 1)
        let two = try explore(src, defines: ["TWO_WAITERS"]).0
        XCTAssertEqual(kinds(two), ["deadlock"])
        XCTAssertEqual(two.verdict(hasClaim: false), .always)
        XCTAssertEqual(kinds(try explore(src, defines: ["TWO_WAITERS", "COMPLETE_ALL"]).0), [])
    }

    func testSmpCondLoadIsAFairSpin() throws {
        let src = """
        C cond-load
        { int flag; int data; }
        P0(int *flag, int *data)
        {
            *data = 1;
        #ifdef RELAXED
            WRITE_ONCE(*flag, 2);
        #elif !defined(NO_STORE)
            smp_store_release(flag, 2);
        #endif
        }
        P1(int *flag, int *data)
        {
            int r0, r1;
        #ifdef RELAXED
            r0 = smp_cond_load_relaxed(flag, VAL != 0);
        #else
            r0 = smp_cond_load_acquire(flag, VAL != 0);
        #endif
            r1 = *data;
            BUG_ON(r0 != 2 || r1 != 1);
        }
        """
        let (ok, _) = try explore(src)
        XCTAssertEqual(kinds(ok), [])
        XCTAssertTrue(ok.complete)
        // Never set: the spinner would spin forever; it sleeps, so it is a hang (deadlock).
        let never = try explore(src, defines: ["NO_STORE"]).0
        XCTAssertEqual(kinds(never), ["deadlock"])
        XCTAssertEqual(never.verdict(hasClaim: false), .always)
        // A WRITE_ONCE flag (no release) orders nothing: the plain accesses race.
        XCTAssertEqual(kinds(try explore(src, defines: ["RELAXED"]).0), ["data-race"])
        XCTAssertEqual(kinds(try explore(src, defines: ["RELAXED"], strategy: DepthFirstSearch()).0), ["data-race"])
    }

    /// Small programs mixing call_rcu, kfree_rcu, read-side sections, wait_event/wake_up,
    /// smp_cond_load_acquire and completions: dpor reports what dfs reports.
    static func generate(_ g: inout SplitMix64) -> String {
        var body: [String] = []
        let threads = 2 + g.below(2)
        for t in 0..<threads {
            var lines: [String] = []
            for _ in 0..<(1 + g.below(2)) {
                switch g.below(11) {
                case 10: lines.append("r\(t) = smp_cond_load_acquire(x, VAL != 0);")
                case 9: lines.append("o = READ_ONCE(*gp); if (o) kfree_rcu(o, rcu);")
                case 0: lines.append("o = xchg(gp, 0); if (o) call_rcu(&o->rcu, obj_free);")
                case 1: lines.append("o = xchg(gp, 0); kfree_rcu(o, rcu);")
                case 2: lines.append("rcu_read_lock(); o = rcu_dereference(*gp); if (o) r\(t) = READ_ONCE(o->val); rcu_read_unlock();")
                case 3: lines.append("o = READ_ONCE(*gp); if (o) r\(t) = READ_ONCE(o->val);")
                case 4: lines.append("WRITE_ONCE(*x, 1); wake_up(wq);")
                case 5: lines.append("wait_event(*wq, READ_ONCE(*x));")
                case 6: lines.append("complete(c);")
                case 7: lines.append("if (READ_ONCE(*x)) wait_for_completion(c);")
                default: lines.append("local_irq_disable(); o = READ_ONCE(*gp); if (o) r\(t) = READ_ONCE(o->val); local_irq_enable();")
                }
            }
            body.append("P\(t)(struct obj **gp, int *x, struct wait_queue_head *wq, struct completion *c) {\n  struct obj *o; int r\(t) = 0;\n  "
                        + lines.joined(separator: "\n  ") + "\n}")
        }
        return """
        C generated
        struct rcu_head { long next; };
        struct obj { struct rcu_head rcu; int val; };
        struct wait_queue_head { long seq; };
        struct completion { unsigned int done; };
        static void obj_free(struct rcu_head *head) { kfree(head); }
        { struct obj o1; struct obj *gp; }

        """ + body.joined(separator: "\n")
            + "\nP\(threads)(struct obj **gp) { struct obj *o = kzalloc(sizeof(struct obj), GFP_KERNEL); rcu_assign_pointer(*gp, o); }\n"
    }

    func testDPORMatchesDFSOnGeneratedWaitingPrograms() throws {
        var g = SplitMix64(seed: 0xCA11_5C0)
        var compared = 0, withCallbacks = 0, kindsSeen: Set<ViolationKind> = []
        for i in 0..<400 where compared < 120 {
            let src = WaitingTests.generate(&g)
            let p = try Frontend.load(text: src)
            let ctx = ExplorationContext(machine: Machine(program: p))
            var limited = ExplorationOptions()
            limited.maxExecutions = 1_500
            let a = DepthFirstSearch().explore(ctx, options: limited)
            guard a.complete else { continue }
            compared += 1
            if p.rcuCallbackThread != nil { withCallbacks += 1 }
            let b = DynamicPartialOrderReduction().explore(ctx, options: ExplorationOptions())
            XCTAssertTrue(b.complete)
            kindsSeen.formUnion(a.violationKinds)
            let sa = Set(a.outcomes.map(\.0)), sb = Set(b.outcomes.map(\.0))
            if sa != sb || a.violationKinds != b.violationKinds {
                return XCTFail("program \(i) differs (dfs \(sa.count) states \(a.violationKinds), dpor \(sb.count) states \(b.violationKinds)):\n\(src)")
            }
        }
        XCTAssertEqual(compared, 120)
        XCTAssertGreaterThan(withCallbacks, 40)
        XCTAssertTrue(kindsSeen.isSuperset(of: [.useAfterFree, .deadlock, .doubleFree]), "\(kindsSeen)")
    }
}
