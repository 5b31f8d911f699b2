import FaultlineMachine

/// One state per depth of a depth-first search, each refilled in place from the one above it
/// (`State.assign`) instead of copying a state on write for every step: once the buffers are
/// big enough a step allocates nothing and retains nothing (`AllocationTests`). A refill copies
/// only what may differ between the two states (`differ`, `cellsDiffer`): the threads either
/// changed since the last refill (`State.changedThreads`), the blocks of
/// cells either wrote (`State.writtenBlocks`, with their data-race shadow), and whatever a
/// refill copied in turn.
///
/// `states[k]` is the state of the node at depth k; the search swaps state k + 1 out into its
/// own variable to step it (`child(of:in:into:)`) and back (`give(_:at:in:)`), whether it becomes
/// a node or not (a swap moves a state: no retain, no blank state made). States at depths up to
/// the current one do not change while those below are in use.
struct StatePool {
    /// `differ[k]`: the threads whose state may differ between `states[k]` and `states[k + 1]`.
    private var differ: [UInt64] = []
    /// `cellsDiffer[k]`: the blocks of cells that may differ between them.
    private var cellsDiffer: [UInt64] = []
    /// `Machine.cellBlockShift`.
    let blockShift: Int

    init(blockShift: Int) { self.blockShift = blockShift }

    /// Makes `child` state k + 1, refilled from state k: it is swapped with `states[k + 1]` (a
    /// spare state of the caller's, at first, is left there until `give`).
    mutating func child(of k: Int, in states: inout [State], into child: inout State) {
        if states.count == k + 1 { states.append(State.blank()) }
        while differ.count <= k + 1 { differ.append(~0); cellsDiffer.append(~0) }
        swap(&child, &states[k + 1])
        let threads = differ[k], cells = cellsDiffer[k]
        differ[k] = 0; cellsDiffer[k] = 0
        differ[k + 1] |= threads
        let shift = blockShift
        let resized = states.withUnsafeBufferPointer { child.assign($0.baseAddress! + k, threadsDiffer: threads, cellsDiffer: cells, blockShift: shift) }
        cellsDiffer[k + 1] |= cells | resized
        child.changedThreads = 0
        child.writtenBlocks = 0
    }

    /// Puts state `k` (made by `child(of: k - 1)`) back, noting what changed in it since.
    mutating func give(_ child: inout State, at k: Int, in states: inout [State]) {
        differ[k - 1] |= child.changedThreads
        differ[k] |= child.changedThreads
        cellsDiffer[k - 1] |= child.writtenBlocks
        cellsDiffer[k] |= child.writtenBlocks
        swap(&child, &states[k])
    }
}
