import CKernels
import Testing
@testable import Kernels

@Suite("ThreadPool")
struct ThreadPoolTests {
    @Test("parallelFor runs every index exactly once, over many calls, with 1 to 6 threads", arguments: 1...6)
    func everyIndexOnce(threads: Int) {
        let pool = ThreadPool(threads: threads)
        #expect(pool.threadCount == threads)
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: 1000)
        defer { hits.deallocate() }
        for call in 0..<2000 {
            let count = [0, 1, 2, 5, 7, 64, 999][call % 7]
            hits.initialize(repeating: 0, count: 1000)
            pool.parallelFor(count) { i in _ = ck_atomic_fetch_add(hits + i, 1) }
            for i in 0..<1000 where hits[i] != (i < count ? 1 : 0) {
                Issue.record("call \(call) count \(count): index \(i) ran \(hits[i]) times")
                return
            }
        }
    }

    @Test("a parallelFor inside a body runs serially and still covers every index once")
    func nested() {
        let pool = ThreadPool(threads: 3)
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: 8 * 16)
        defer { hits.deallocate() }
        hits.initialize(repeating: 0, count: 8 * 16)
        pool.parallelFor(8) { i in
            pool.parallelFor(16) { j in _ = ck_atomic_fetch_add(hits + i * 16 + j, 1) }
        }
        #expect((0..<128).allSatisfy { hits[$0] == 1 })
    }

    @Test("work is spread over the threads when items take time")
    func usesWorkers() {
        let pool = ThreadPool(threads: 3)
        let seen = UnsafeMutablePointer<Int>.allocate(capacity: 3)
        defer { seen.deallocate() }
        seen.initialize(repeating: 0, count: 3)
        let counter = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        defer { counter.deallocate() }
        counter.initialize(to: 0)
        // Each item waits until three items are running at once: only possible with 3 threads.
        pool.parallelFor(3) { i in
            _ = ck_atomic_fetch_add(counter, 1)
            while ck_atomic_load(counter) < 3 { ck_cpu_relax() }
            seen[i] = 1
        }
        #expect(seen[0] + seen[1] + seen[2] == 3)
    }

    @Test("workers that went to sleep wake up for the next call")
    func wakesSleepers() async throws {
        let pool = ThreadPool(threads: 4)
        for _ in 0..<3 {
            try await Task.sleep(for: .milliseconds(30))
            let total = UnsafeMutablePointer<Int>.allocate(capacity: 1)
            total.initialize(to: 0)
            pool.parallelFor(100) { i in _ = ck_atomic_fetch_add(total, i) }
            #expect(total.pointee == 4950)
            total.deallocate()
        }
    }

    @Test("a pool can be created and released repeatedly without leaking running workers")
    func teardown() {
        for threads in 1...4 {
            let pool = ThreadPool(threads: threads)
            var sum = 0
            let box = UnsafeMutablePointer<Int>.allocate(capacity: 1)
            box.initialize(to: 0)
            pool.parallelFor(10) { i in _ = ck_atomic_fetch_add(box, i) }
            sum = box.pointee
            box.deallocate()
            #expect(sum == 45)
        }
    }
}
