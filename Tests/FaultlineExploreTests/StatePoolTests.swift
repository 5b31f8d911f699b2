import XCTest
import FaultlineLanguage
@testable import FaultlineMachine
@testable import FaultlineExplore

/// dpor's state pool refills a state from its parent copying only what may differ (the threads
/// a step changed, the blocks of cells and data-race shadow that were written):
/// every state it hands out must be what a plain copy of the parent is.
final class StatePoolTests: XCTestCase {
    /// A depth-first walk over the schedules of a program with frame objects, allocations, a
    /// lock, RCU, data races and writes all over a 90-cell array (blocks of 2 cells: every
    /// block, the last one that takes the rest included), driven as dpor drives the pool: each
    /// refilled child equals a copy of its parent, and stepped the same way stays equal. With the
    /// data-race check and without it (then only the machine's own writes mark blocks).
    func testRefilledStatesEqualCopies() throws {
        let program = try Frontend.load(text: """
        C pool
        { int a[90]; x = 0; y = 0; }
        int add(int *p, int v) { int local[2]; local[0] = v; *p = *p + local[0]; return *p; }
        P0(int *x, int *y, int *a, spinlock_t *l) { int *q = kmalloc(2); *q = 1; a[70] = 1; add(x, 2); rcu_read_lock(); WRITE_ONCE(*y, 1); rcu_read_unlock(); a[3] = a[89]; kfree(q); }
        P1(int *x, int *y, int *a, spinlock_t *l) { spin_lock(l); *x = 3; a[89] = 2; spin_unlock(l); if (READ_ONCE(*y)) synchronize_rcu(); a[1] = add(x, 4); }
        P2(int *x, int *a, spinlock_t *l) { spin_lock(l); a[40] = *x; spin_unlock(l); int *r = kmalloc(3); r[2] = a[40]; kfree(r); }
        """)
        for races in [true, false] {
            let m = Machine(program: program, dataRaceCheck: races)
            XCTAssertEqual(m.checksDataRaces, races)
            XCTAssertEqual(m.cellBlockShift, 1)
            walk(m)
        }
    }

    /// Steps that change a thread other than the stepped one: call_rcu wakes the RCU callback
    /// thread, srcu_up_read ends a section another CPU entered, and a BUG_ON halts its thread
    /// (dpor's `haltViolatingThread`, which the walk does as dpor does).
    func testRefilledStatesEqualCopiesWhenAStepChangesAnotherThread() throws {
        let program = try Frontend.load(text: """
        C pool-other-threads
        struct rcu_head { long next; };
        struct obj { struct rcu_head rcu; int val; };
        static void obj_free(struct rcu_head *head) { struct obj *o = (struct obj *)head; o->val = 0; kfree(o); }
        { struct obj *gp; idx = 0; f = 0; }
        P0(struct obj **gp, struct srcu_struct *ss, int *idx, int *f) { struct obj *o = kzalloc(sizeof(struct obj), GFP_KERNEL); rcu_assign_pointer(*gp, o); int i = srcu_down_read(ss); WRITE_ONCE(*idx, i); smp_store_release(f, 1); o = xchg(gp, 0); if (o) call_rcu(&o->rcu, obj_free); }
        P1(struct obj **gp, struct srcu_struct *ss, int *idx, int *f) { struct obj *p; if (smp_load_acquire(f)) srcu_up_read(ss, READ_ONCE(*idx)); rcu_read_lock(); p = rcu_dereference(*gp); if (p) WRITE_ONCE(p->val, 2); rcu_read_unlock(); }
        P2(struct srcu_struct *ss, int *f) { BUG_ON(READ_ONCE(*f) == 1); synchronize_srcu(ss); WRITE_ONCE(*f, 2); }
        """)
        XCTAssertNotNil(program.rcuCallbackThread)
        for races in [true, false] { walk(Machine(program: program, dataRaceCheck: races), halting: true, deeperThan: 15) }
    }

    func walk(_ m: Machine, halting: Bool = false, deeperThan depth: Int = 20) {
        var states = [m.initialState()]
        var pool = StatePool(blockShift: m.cellBlockShift)     // as dpor makes it
        var child = State.blank()
        var path: [(thread: Int, next: Int)] = []     // the thread taken at each depth, and the next to try
        var checked = 0
        func equal(_ a: State, _ b: State, _ what: String) {
            XCTAssertEqual(a.fingerprint(), b.fingerprint(), what)
            XCTAssertEqual(a.cells, b.cells, what)
            XCTAssertEqual(a.race?.shadow, b.race?.shadow, what)
            XCTAssertEqual(a.race?.clocks, b.race?.clocks, what)
            XCTAssertEqual(a.threads.map(\.values), b.threads.map(\.values), what)
            XCTAssertEqual(a.threads.map { $0.frames.map(\.base) }, b.threads.map { $0.frames.map(\.base) }, what)
            XCTAssertEqual(a.dataRaces, b.dataRaces, what)
        }
        // Iterative depth-first search: at depth k, try the enabled threads in order.
        var next = 0
        while checked < 4000 {
            let k = path.count
            let mask = states[k].hasViolation ? 0 : m.enabledMask(states[k])
            guard let t = (next..<states[k].threads.count).first(where: { (mask >> UInt64($0)) & 1 == 1 }) else {
                guard let (_, n) = path.popLast() else { break }
                next = n
                continue
            }
            pool.child(of: k, in: &states, into: &child)
            let parent = states[k]
            equal(child, parent, "refill at depth \(k), schedule \(path.map(\.thread))")
            var expected = parent
            m.step(&expected, t)
            m.step(&child, t)
            if halting { _ = expected.haltViolatingThread(); _ = child.haltViolatingThread() }
            equal(child, expected, "step \(t) at depth \(k), schedule \(path.map(\.thread))")
            checked += 1
            pool.give(&child, at: k + 1, in: &states)
            path.append((t, t + 1))
            next = 0
        }
        XCTAssertEqual(checked, 4000, "the walk ended early")
        XCTAssertGreaterThan(states.count, depth)
    }
}
