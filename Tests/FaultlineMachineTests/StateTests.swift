import XCTest
import FaultlineLanguage
@testable import FaultlineMachine

/// `State.assign`, which dpor's state pool refills states with instead of copying them on write:
/// it copies every stored property, into buffers of the target's own.
final class StateTests: XCTestCase {
    /// `assign` names every field; one added to `State` or `ThreadState` must be added there too
    /// (then here): a field it missed would carry one branch's value into another.
    func testAssignCopiesEveryField() {
        XCTAssertEqual(Mirror(reflecting: State.blank()).children.map { $0.label ?? "" },
                       ["cells", "objects", "threads", "violation", "hasViolation", "pruned", "scheduleLength", "race", "dataRaces",
                        "rcuCallbacks", "loop", "yielding", "changedThreads", "writtenBlocks"])
        XCTAssertEqual(Mirror(reflecting: ThreadState(pc: 0)).children.map { $0.label ?? "" },
                       ["pc", "status", "values", "frames", "phase", "irqOff", "rcuDepth", "rcuExits", "irqEnables", "waitSnapshot",
                        "srcu", "srcuEntered", "steps", "loopedBack"])
    }

    /// Every intermediate state of a run with calls (frame objects), an allocation, a data race,
    /// RCU, a wait and a loop, assigned over a blank state and over a state of another run, gives
    /// the same fingerprint and the same run onwards; the source is left as it was.
    func testAssignedStatesRunOnAsTheirSource() throws {
        let m = Machine(program: try Frontend.load(text: """
        C assign
        { x = 0; y = 0; }
        int add(int *p, int v) { int local[2]; local[0] = v; *p = *p + local[0]; return *p; }
        P0(int *x, int *y) { int *q = kmalloc(2); *q = 1; add(x, 2); rcu_read_lock(); WRITE_ONCE(*y, 1); rcu_read_unlock(); kfree(q); }
        P1(int *x, int *y) { *x = 3; while (READ_ONCE(*y) == 0) {} synchronize_rcu(); *x = 4; }
        """))
        let schedule = [0, 0, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1, 1, 1]
        var s = m.initialState(), other = m.initialState()
        m.step(&other, 1)
        var states: [State] = []
        for t in schedule where (m.enabledMask(s) >> UInt64(t)) & 1 == 1 && !s.hasViolation {
            states.append(s)
            m.step(&s, t)
        }
        XCTAssertGreaterThan(states.count, 8)
        XCTAssertFalse(s.dataRaces.isEmpty, "the plain accesses of x race")
        for (i, source) in states.enumerated() {
            let before = source.fingerprint()
            var fresh = State.blank(), reused = other
            withUnsafePointer(to: source) { fresh.assign($0); reused.assign($0) }
            for var copy in [fresh, reused] {
                XCTAssertEqual(copy.fingerprint(), source.fingerprint(), "state \(i)")
                XCTAssertEqual(copy.cells, source.cells); XCTAssertEqual(copy.scheduleLength, source.scheduleLength)
                XCTAssertEqual(copy.threads.map(\.values), source.threads.map(\.values))
                var orig = source
                for t in schedule.dropFirst(i) where (m.enabledMask(orig) >> UInt64(t)) & 1 == 1 && !orig.hasViolation {
                    let a = m.step(&orig, t), b = m.step(&copy, t)
                    XCTAssertEqual([a.address, a.value, a.result], [b.address, b.value, b.result], "state \(i)")
                }
                XCTAssertEqual(copy.cells, orig.cells); XCTAssertEqual(copy.dataRaces.count, orig.dataRaces.count)
            }
            XCTAssertEqual(source.fingerprint(), before)
        }
    }
}
