/// One generation at a time on the model, with a bounded line of waiters: a request
/// that would make the line longer than `capacity` is refused at once (429) instead
/// of waiting unboundedly while its client times out.
public actor GenerationQueue {
    public let capacity: Int
    private var running = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init(capacity: Int) { self.capacity = max(0, capacity) }

    /// Requests running or waiting.
    public var depth: Int { waiters.count + (running ? 1 : 0) }

    /// Takes the model, waiting in line if needed; false when the line is full.
    public func enter() async -> Bool {
        if !running {
            running = true
            return true
        }
        guard waiters.count < capacity else { return false }
        await withCheckedContinuation { waiters.append($0) }
        return true  // `leave` handed the model straight to us: `running` stays true
    }

    public func leave() {
        if waiters.isEmpty {
            running = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}
