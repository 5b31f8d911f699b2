import FaultlineMachine

/// Spare states whose buffers a depth-first search refills (`State.assign`) instead of copying
/// a state on write for every step: a step takes one, the search gives it back when it leaves
/// the node. Once the spares' buffers are as big as the states they hold, a step allocates
/// nothing and retains nothing (`AllocationTests`).
struct StatePool {
    private var spare: [State] = []

    /// A state equal to `s` in buffers of its own (allocated the first time at a depth).
    mutating func copy(of s: UnsafePointer<State>) -> State {
        var c = spare.popLast() ?? State.blank()
        c.assign(s)
        return c
    }

    mutating func recycle(_ s: consuming State) { spare.append(s) }
}
