import XCTest
import FaultlineLanguage
@testable import FaultlineMachine

/// The interpreter one step at a time: parking at visible operations, step events, blocking,
/// the dependency descriptors partial-order reduction uses, and stable fingerprints.
final class MachineTests: XCTestCase {
    func machine(_ text: String) throws -> Machine {
        Machine(program: try Frontend.load(text: text))
    }

    func testThreadsParkAtTheirFirstVisibleOperation() throws {
        let m = try machine("""
        C park
        { x = 5; }
        P0(int *x) { int a = 1; int b = a + 2; WRITE_ONCE(*x, b); int r0 = READ_ONCE(*x); }
        """)
        var s = m.initialState()
        guard case .write? = m.pending(s, 0) else { return XCTFail("not parked at the write") }
        let w = m.step(&s, 0)
        XCTAssertEqual(w.value, 3)
        XCTAssertEqual(w.address, m.program.globals[0].address)
        let r = m.step(&s, 0)
        guard case .read = r.instr else { return XCTFail() }
        XCTAssertEqual(r.result, 3)
        XCTAssertEqual(s.threads[0].status, .finished)
        XCTAssertEqual(m.registerValue(s, thread: 0, home: m.program.threadRegisters[0]["r0"]), 3)
    }

    func testLockBlocksUntilReleased() throws {
        let m = try machine("""
        C lock
        {}
        P0(spinlock_t *l) { spin_lock(l); spin_unlock(l); }
        P1(spinlock_t *l) { spin_lock(l); spin_unlock(l); }
        """)
        var s = m.initialState()
        XCTAssertEqual(m.enabledMask(s), 0b11)
        m.step(&s, 0)                        // P0 holds the lock
        XCTAssertEqual(m.enabledMask(s), 0b01)
        XCTAssertEqual(m.peek(s, m.program.globals[0].address), 1)   // held by P0 (thread + 1)
        m.step(&s, 0)                        // released
        XCTAssertEqual(m.enabledMask(s), 0b10)
    }

    func testContendedDownWriteQueuesThenAcquires() throws {
        let m = try machine("""
        C rw
        {}
        P0(struct rw_semaphore *s) { down_read(s); up_read(s); }
        P1(struct rw_semaphore *s) { down_write(s); up_write(s); }
        """)
        var s = m.initialState()
        m.step(&s, 0)                        // reader in
        let q = m.step(&s, 1)                // writer queues
        XCTAssertTrue(q.registered)
        XCTAssertEqual(m.enabledMask(s), 0b01)
        m.step(&s, 0)                        // reader out
        XCTAssertEqual(m.enabledMask(s), 0b10)
        let a = m.step(&s, 1)
        XCTAssertFalse(a.registered)
        XCTAssertEqual(RWSem.writer(m.peek(s, a.address)!), 2)
    }

    func testPendingAccessDependencies() throws {
        let m = try machine("""
        C dep
        {}
        P0(int *x, int *y, struct rw_semaphore *s) { int r0 = READ_ONCE(*x); down_read(s); rcu_read_lock(); rcu_read_unlock(); }
        P1(int *x, int *y, struct rw_semaphore *s) { WRITE_ONCE(*x, 1); down_read(s); synchronize_rcu(); }
        P2(int *x, int *y, struct rw_semaphore *s) { int r1 = READ_ONCE(*y); down_write(s); synchronize_rcu(); }
        """)
        var s = m.initialState()
        let r0 = m.pendingAccess(s, 0)!, w1 = m.pendingAccess(s, 1)!, ry = m.pendingAccess(s, 2)!
        XCTAssertTrue(r0.conflicts(with: w1))     // read x / write x
        XCTAssertFalse(r0.conflicts(with: ry))    // different locations
        for t in 0..<3 { m.step(&s, t) }
        let dr0 = m.pendingAccess(s, 0)!, dr1 = m.pendingAccess(s, 1)!, dw2 = m.pendingAccess(s, 2)!
        XCTAssertFalse(dr0.conflicts(with: dr1))  // readers commute
        XCTAssertTrue(dr0.conflicts(with: dw2))
        m.step(&s, 0); m.step(&s, 1)
        let lock0 = m.pendingAccess(s, 0)!, gp1 = m.pendingAccess(s, 1)!
        XCTAssertTrue(lock0.conflicts(with: gp1)) // a reader against a grace period
        XCTAssertFalse(gp1.conflicts(with: Access(location: Access.gracePeriod, write: true, wholeObject: false)))
    }

    /// A waiting grace period conflicts only with the exits of the readers it waits for.
    func testGracePeriodEndDependsOnlyOnTheReadersItWaitsFor() throws {
        let m = try machine("""
        C gp
        {}
        P0(int *x) { rcu_read_lock(); WRITE_ONCE(*x, 1); rcu_read_unlock(); }
        P1(int *x) { synchronize_rcu(); }
        P2(int *y) { rcu_read_lock(); WRITE_ONCE(*y, 1); rcu_read_unlock(); }
        """)
        var s = m.initialState()
        m.step(&s, 0)                                   // P0 enters its read-side section
        let start = m.pendingAccess(s, 1)!
        XCTAssertEqual(start.location, Access.gracePeriod)
        XCTAssertTrue(start.conflicts(with: m.pendingAccess(s, 2)!))   // the snapshot sees P2 enter or not
        m.step(&s, 1)                                   // snapshot: waits for P0
        XCTAssertFalse(m.isEnabled(s, 1))
        let end = m.pendingAccess(s, 1)!
        XCTAssertEqual(end.location, Access.gracePeriodEnd)
        XCTAssertEqual(end.threads, 1 << 0)
        XCTAssertFalse(end.conflicts(with: m.pendingAccess(s, 2)!))    // P2 entering cannot matter now
        m.step(&s, 0)                                   // P0's write
        XCTAssertTrue(end.conflicts(with: m.pendingAccess(s, 0)!))     // P0's exit lets it complete
        m.step(&s, 2); m.step(&s, 2)                    // P2 enters and writes
        XCTAssertFalse(end.conflicts(with: m.pendingAccess(s, 2)!))    // P2's exit: not waited for
        m.step(&s, 0)
        XCTAssertTrue(m.isEnabled(s, 1))
    }

    func testFingerprintIsStableAndSensitive() throws {
        let src = """
        C fp
        {}
        P0(int *x) { WRITE_ONCE(*x, 1); }
        P1(int *y) { WRITE_ONCE(*y, 1); }
        """
        let m = try machine(src)
        var a = m.initialState(), b = m.initialState()
        XCTAssertEqual(a.fingerprint(), b.fingerprint())
        m.step(&a, 0); m.step(&a, 1)
        m.step(&b, 1); m.step(&b, 0)
        XCTAssertEqual(a.fingerprint(), b.fingerprint())     // independent steps commute
        var c = m.initialState()
        m.step(&c, 0)
        XCTAssertNotEqual(a.fingerprint(), c.fingerprint())
        var h = FingerprintHasher(); h.mix(1)
        XCTAssertEqual(h.value, { var g = FingerprintHasher(); g.mix(1); return g.value }())
    }

    func testUseAfterFreeNamesWhereItWasFreed() throws {
        let m = try machine("""
        C uaf
        {}
        P0(int **p) { int *q = kmalloc(1, GFP_KERNEL); kfree(q); WRITE_ONCE(*q, 1); }
        """)
        var s = m.initialState()
        m.step(&s, 0)
        m.step(&s, 0)
        XCTAssertEqual(s.violation?.kind, .useAfterFree)
        // Facts, not words: the object, the access and who freed it where.
        let f = s.violation!.facts
        XCTAssertEqual(f.cause, .afterFree)
        XCTAssertEqual(f.access, .write)
        XCTAssertEqual(f.siteThread, 0)
        XCTAssertEqual(Int(f.object), Address.object(f.address))
        XCTAssertEqual(m.program.locations[Int(f.site)].line, 3)
    }
}
