import Foundation

/// Bytes received per part, shared by the part tasks: gives the total for the
/// progress callback and the contiguous prefix (every byte from 0 up to it is on
/// disk) that the hasher may read. Parts only ever grow from their start, a retry
/// resuming at the first missing byte, so the prefix only moves forward.
final class DownloadProgress: @unchecked Sendable {
    let plan: PartPlan
    /// Wakes the hasher whenever bytes arrive; only the newest wake-up matters.
    let updates: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    private let lock = NSLock()
    private var received: [Int64]
    private var total: Int64 = 0
    private var firstIncomplete = 0

    init(plan: PartPlan) {
        self.plan = plan
        received = Array(repeating: 0, count: plan.parts.count)
        (updates, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Records `count` more bytes of part `index` and returns the bytes received over all parts.
    @discardableResult
    func record(part index: Int, bytes count: Int64) -> Int64 {
        let now: Int64 = lock.withLock {
            received[index] += count
            total += count
            while firstIncomplete < received.count, received[firstIncomplete] == plan.parts[firstIncomplete].length {
                firstIncomplete += 1
            }
            return total
        }
        continuation.yield()
        return now
    }

    var bytesReceived: Int64 { lock.withLock { total } }

    /// Every byte before this offset has been written.
    var contiguousPrefix: Int64 {
        lock.withLock {
            firstIncomplete < plan.parts.count ? plan.parts[firstIncomplete].start + received[firstIncomplete] : plan.objectSize
        }
    }

    /// No more bytes will come (all parts done, or the download failed).
    func finish() { continuation.finish() }
}
