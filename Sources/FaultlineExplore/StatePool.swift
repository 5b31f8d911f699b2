import FaultlineMachine

/// One state per depth of a depth-first search, each refilled in place from the one above it
/// (`State.assign`) instead of copying a state on write for every step: once the buffers are
/// big enough a step allocates nothing and retains nothing (`AllocationTests`). A refill copies
/// the stacks only of the threads whose stacks may differ between the two states (`differ`):
/// those that stepped in either since the last refill (`State.steppedThreads`), and those a
/// refill copied in turn.
///
/// `states[k]` is the state of the node at depth k; the search takes state k + 1 out to step it
/// (`child(of:in:)`) and gives it back (`give(_:at:in:)`), whether it becomes a node or not.
/// States at depths up to the current one do not change while those below are in use.
struct StatePool {
    /// `differ[k]`: the threads whose stacks may differ between `states[k]` and `states[k + 1]`.
    private var differ: [UInt64] = []

    /// State k + 1, refilled from state k and taken out of `states` (a blank is left there
    /// until `give`).
    mutating func child(of k: Int, in states: inout [State]) -> State {
        if states.count == k + 1 { states.append(State.blank()) }
        while differ.count <= k + 1 { differ.append(~0) }
        let stacks = differ[k]
        differ[k] = 0
        differ[k + 1] |= stacks
        return states.withUnsafeMutableBufferPointer { s in
            let slot = s.baseAddress! + k + 1
            slot.pointee.assign(s.baseAddress! + k, stacksDiffer: stacks)
            slot.pointee.steppedThreads = 0
            let c = slot.move()
            slot.initialize(to: State.blank())
            return c
        }
    }

    /// Puts state `k` (taken out by `child(of: k - 1)`) back, noting whose stacks changed since.
    mutating func give(_ s: consuming State, at k: Int, in states: inout [State]) {
        differ[k - 1] |= s.steppedThreads
        differ[k] |= s.steppedThreads
        swap(&s, &states[k])
    }
}
