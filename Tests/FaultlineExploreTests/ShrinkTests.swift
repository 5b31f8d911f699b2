import XCTest
import FaultlineLanguage
import FaultlineMachine
import FaultlineCheck
@testable import FaultlineExplore

/// The shrinker keeps the violation and removes context switches; what it returns replays exactly.
final class ShrinkTests: XCTestCase {
    /// A lost update: each CPU reads a counter, does unrelated shared reads, and writes it back.
    static let lostUpdate = """
    C lost-update
    { int n = 0; int z = 0; }
    P0(int *n, int *z) { int r = READ_ONCE(*n); READ_ONCE(*z); READ_ONCE(*z); WRITE_ONCE(*n, r + 1); }
    P1(int *n, int *z) { int r = READ_ONCE(*n); READ_ONCE(*z); READ_ONCE(*z); WRITE_ONCE(*n, r + 1); }
    final { BUG_ON(n != 2); }
    """

    func context() throws -> ExplorationContext {
        ExplorationContext(machine: Machine(program: try Frontend.load(text: ShrinkTests.lostUpdate)))
    }

    func testAlternatingScheduleShrinksToTwoSwitches() throws {
        let ctx = try context()
        let bloated = [0, 1, 0, 1, 0, 1, 0, 1]          // 7 switches
        let full = try Replay.run(ctx, schedule: bloated)
        guard case .violation(let target)? = full.terminal else { return XCTFail("the bloated schedule must fail") }
        XCTAssertEqual(target.kind, .assertion)
        var shrinker = Shrinker(ctx)
        let shrunk = shrinker.shrink(bloated, target: target)
        XCTAssertEqual(Shrinker.cost(shrunk).0, 2, "\(shrunk)")   // one CPU must run between the other's read and write
        XCTAssertEqual(shrunk, [1, 1, 1, 0, 0, 0, 0, 1])   // P1 reads, P0 runs through, P1 writes back
        // It replays strictly, to the same violation.
        guard case .violation(let again)? = try Replay.run(ctx, schedule: shrunk).terminal else { return XCTFail("shrunk schedule must fail") }
        XCTAssertEqual(again.kind, target.kind)
        XCTAssertEqual(again.location, target.location)
        // Deterministic.
        var second = Shrinker(ctx)
        XCTAssertEqual(second.shrink(bloated, target: target), shrunk)
    }

    func testScheduleNotReachingTheTargetIsKept() throws {
        let ctx = try context()
        let other = Violation(kind: .useAfterFree, thread: 0, location: 0)
        var shrinker = Shrinker(ctx)
        XCTAssertEqual(shrinker.shrink([0, 1, 0, 1, 0, 1, 0, 1], target: other), [0, 1, 0, 1, 0, 1, 0, 1])
    }

    func testBudgetBoundsTheWork() throws {
        let ctx = try context()
        let bloated = [0, 1, 0, 1, 0, 1, 0, 1]
        guard case .violation(let target)? = try Replay.run(ctx, schedule: bloated).terminal else { return XCTFail() }
        var shrinker = Shrinker(ctx, stepBudget: 8)     // enough to confirm the input, nothing more
        XCTAssertEqual(shrinker.shrink(bloated, target: target), bloated)
        XCTAssertLessThanOrEqual(shrinker.stepBudget, 0)
    }

    func testExplorationResultsAreShrunk() throws {
        let ctx = try context()
        var r = DepthFirstSearch().explore(ctx, options: ExplorationOptions())
        XCTAssertEqual(r.violations.count, 1)
        r.shrinkViolations(ctx)
        XCTAssertEqual(Shrinker.cost(r.violations[0].schedule).0, 2)
    }
}
