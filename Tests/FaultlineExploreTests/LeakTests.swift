import XCTest
import FaultlineLanguage
import FaultlineMachine
import FaultlineCheck
@testable import FaultlineExplore

/// Exact leaks: only pointer cells and page-table entries keep an object reachable; a failing
/// `final` block is reported together with the execution's leak.
final class LeakTests: XCTestCase {
    func explore(_ text: String) throws -> ExplorationResult {
        let ctx = ExplorationContext(machine: Machine(program: try Frontend.load(text: text)))
        return DepthFirstSearch().explore(ctx, options: ExplorationOptions())
    }
    func kinds(_ r: ExplorationResult) -> [String] { r.violationKinds.map(\.rawValue).sorted() }

    func testAnIntegerEqualToAnObjectIdKeepsNothingAlive() throws {
        // The counter reaches 2 and the kmalloc object is object #2 (x is #1): still a leak.
        let src = """
        C counter
        { int n = 0; }
        P0(int *n) { int *q = kmalloc(2, GFP_KERNEL); WRITE_ONCE(*n, 2); WRITE_ONCE(*n, 8192); }
        """
        let r = try explore(src)
        XCTAssertEqual(kinds(r), ["leak"])
        XCTAssertEqual(r.violations[0].violation.facts.object, 2)
        // A pointer-typed cell does keep it, and so does a page-table entry (frame number << 12 | flags).
        XCTAssertEqual(kinds(try explore("""
        C pointer
        { int *p = NULL; }
        P0(int **p) { int *q = kmalloc(2, GFP_KERNEL); WRITE_ONCE(*p, q); }
        """)), [])
        XCTAssertEqual(kinds(try explore("""
        C entry
        typedef unsigned long pte_t;
        { pte_t *dir = NULL; }
        P0(pte_t **dir) {
          pte_t *table = alloc_page(pte_t);
          pte_t *leaf = alloc_page(pte_t);
          table[0] = ((unsigned long)leaf >> 12 << 12) | 1;
          WRITE_ONCE(*dir, table);
        }
        """)), [])
        // An unsigned long holding an address is an integer, not a reference.
        XCTAssertEqual(kinds(try explore("""
        C cast
        { unsigned long v = 0; }
        P0(unsigned long *v) { int *q = kmalloc(2, GFP_KERNEL); WRITE_ONCE(*v, (unsigned long)q); }
        """)), ["leak"])
        // A kmalloc'd struct keeps what its pointer fields point to, not what its ints equal.
        XCTAssertEqual(kinds(try explore("""
        C nested
        struct node { int key; struct node *next; };
        { struct node *head = NULL; }
        P0(struct node **head) {
          struct node *a = kmalloc(sizeof(struct node), GFP_KERNEL);
          struct node *b = kmalloc(sizeof(*b), GFP_KERNEL);
          a->next = b; a->key = 4;
          WRITE_ONCE(*head, a);
        }
        """)), [])
        XCTAssertEqual(kinds(try explore("""
        C nested-int
        struct node { int key; struct node *next; };
        { struct node *head = NULL; }
        P0(struct node **head) {
          struct node *a = kmalloc(sizeof(struct node), GFP_KERNEL);
          struct node *b = kmalloc(sizeof(*b), GFP_KERNEL);
          a->key = (long)b;
          WRITE_ONCE(*head, a);
        }
        """)), ["leak"])
    }

    func testFailingFinalBlockAndLeakAreReportedTogether() throws {
        let r = try explore("""
        C final-and-leak
        { x = 0; }
        P0(int *x) { int *q = kmalloc(2, GFP_KERNEL); WRITE_ONCE(*x, 1); }
        final { BUG_ON(x == 1); }
        """)
        XCTAssertEqual(kinds(r), ["assertion", "leak"])
        XCTAssertEqual(r.violations.map(\.schedule), [[0], [0]])
    }
}
