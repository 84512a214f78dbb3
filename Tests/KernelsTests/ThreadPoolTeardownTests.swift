import Kernels
import Synchronization
import Testing

/// Regression: a worker still claiming items when its pool was released could
/// take the stop signal for an ordinary new job and sleep forever, leaving the
/// releasing thread spinning in deinit (seen as a hung test run).
@Test("releasing a pool right after a call never waits forever for its workers")
func poolTeardownRightAfterUse() {
    let total = Atomic<Int>(0)
    for round in 0..<3000 {
        let pool = ThreadPool(threads: 2 + round % 3)
        pool.parallelFor(4) { _ in total.add(1, ordering: .relaxed) }
    }
    #expect(total.load(ordering: .relaxed) == 3000 * 4)
}
