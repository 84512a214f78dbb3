import CKernels
import Foundation

/// Persistent worker threads for data-parallel loops. `threads - 1` workers are
/// started once; the caller of `parallelFor` is the last participant, so nothing is
/// created per call. Idle workers spin briefly (a decode step calls this hundreds of
/// times per token, microseconds apart) and then sleep on a condition variable.
///
/// The caller waits only for items that were started, never for a worker to wake:
/// on a busy host a descheduled worker costs nothing, the caller does its share.
///
/// One `parallelFor` at a time: a call made while another is running (from inside a
/// body, or from a second thread) runs its loop serially on the calling thread.
public final class ThreadPool: @unchecked Sendable {
    public let threadCount: Int
    private let state: State

    public init(threads: Int) {
        threadCount = max(1, threads)
        state = State(workers: threadCount - 1)
        for _ in 0..<(threadCount - 1) {
            let state = self.state
            let thread = Thread { state.workerLoop() }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    deinit { state.stop() }

    /// Runs `body(i)` for every i in 0..<count, each exactly once, spread over the
    /// threads; indices are handed out one at a time, so give it coarse items (row
    /// chunks, heads), not single elements. Returns when all are done.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        guard state.workers > 0, count > 1, state.enter() else {
            for i in 0..<count { body(i) }
            return
        }
        defer { state.leave() }
        withoutActuallyEscaping(body) { body in
            if count <= State.maxItems {
                state.run(count, body)
            } else {
                let per = (count + State.maxItems - 1) / State.maxItems
                state.run((count + per - 1) / per) { item in
                    for i in (item * per)..<min(count, (item + 1) * per) { body(i) }
                }
            }
        }
    }
}

extension ThreadPool {
    /// Shared between the pool and its workers (the workers must not keep the pool alive).
    ///
    /// One atomic ticket holds generation (24 bits) | item count (20) | next index (20).
    /// Claiming an item is a compare-and-swap on the whole ticket, so a worker that wakes
    /// late, after the caller moved on, can never claim an index of a finished call.
    final class State: @unchecked Sendable {
        static let maxItems = (1 << 20) - 1
        private static let indexBits = 20
        private static let countBits = 20

        let workers: Int
        /// Counters on separate cache lines: [ticket, completed items, sleepers, exited, busy].
        private let counters: UnsafeMutablePointer<Int>
        private let mutex: UnsafeMutablePointer<pthread_mutex_t>
        private let cond: UnsafeMutablePointer<pthread_cond_t>
        private var job: ((Int) -> Void)?
        private var generation = 0
        /// ~100-200 microseconds of `pause` before a worker sleeps.
        private let spinLimit = 4000
        private static let stride = 16

        init(workers: Int) {
            self.workers = workers
            counters = .allocate(capacity: 5 * Self.stride)
            counters.initialize(repeating: 0, count: 5 * Self.stride)
            mutex = .allocate(capacity: 1)
            cond = .allocate(capacity: 1)
            pthread_mutex_init(mutex, nil)
            pthread_cond_init(cond, nil)
        }

        private var ticket: UnsafeMutablePointer<Int> { counters }
        private var completed: UnsafeMutablePointer<Int> { counters + Self.stride }
        private var sleepers: UnsafeMutablePointer<Int> { counters + 2 * Self.stride }
        private var exited: UnsafeMutablePointer<Int> { counters + 3 * Self.stride }
        private var busy: UnsafeMutablePointer<Int> { counters + 4 * Self.stride }

        /// Takes the pool for one call; false while another call holds it.
        func enter() -> Bool { ck_atomic_cas(busy, 0, 1) != 0 }
        func leave() { ck_atomic_store(busy, 0) }

        private static func generation(of ticket: Int) -> Int { ticket >> (indexBits + countBits) }
        private static func count(of ticket: Int) -> Int { (ticket >> indexBits) & ((1 << countBits) - 1) }
        private static func index(of ticket: Int) -> Int { ticket & ((1 << indexBits) - 1) }

        func run(_ count: Int, _ body: @escaping (Int) -> Void) {
            job = body
            ck_atomic_store(completed, 0)
            generation = (generation + 1) & ((1 << 23) - 1)
            publish(generation << (Self.indexBits + Self.countBits) | count << Self.indexBits)
            claimAndRun()
            var spins = 0
            while ck_atomic_load(completed) < count {
                spins += 1
                if spins < spinLimit { ck_cpu_relax() } else { sched_yield() }
            }
            job = nil
        }

        /// Stores the new ticket (the job was written before it) and wakes sleepers. A
        /// worker registers as a sleeper before re-reading the ticket, both sequentially
        /// consistent, so either it sees the new ticket or we see it sleeping.
        private func publish(_ value: Int) {
            ck_atomic_store_seq(ticket, value)
            if ck_atomic_load_seq(sleepers) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(cond)
                pthread_mutex_unlock(mutex)
            }
        }

        /// Claims items of the current ticket until none are left; returns its generation.
        @discardableResult
        private func claimAndRun() -> Int {
            while true {
                let t = ck_atomic_load(ticket)
                let index = Self.index(of: t)
                if index >= Self.count(of: t) { return Self.generation(of: t) }
                if ck_atomic_cas(ticket, t, t + 1) != 0 {
                    // A claimed, unfinished item keeps the caller waiting, so `job` is this call's.
                    job!(index)
                    _ = ck_atomic_fetch_add(completed, 1)
                }
            }
        }

        func workerLoop() {
            var seen = 0
            while true {
                var spins = 0
                while Self.generation(of: ck_atomic_load(ticket)) == seen {
                    if spins < spinLimit {
                        ck_cpu_relax()
                        spins += 1
                    } else {
                        pthread_mutex_lock(mutex)
                        _ = ck_atomic_add_seq(sleepers, 1)
                        while Self.generation(of: ck_atomic_load_seq(ticket)) == seen { pthread_cond_wait(cond, mutex) }
                        _ = ck_atomic_add_seq(sleepers, -1)
                        pthread_mutex_unlock(mutex)
                    }
                }
                // The stop ticket is recognised from the ticket itself: a worker still
                // inside claimAndRun when stop() publishes returns the stop generation
                // here, and must leave rather than wait for a generation change that
                // will never come.
                seen = claimAndRun()
                if Self.isStop(seen) { break }
            }
            _ = ck_atomic_fetch_add(exited, 1)
        }

        /// Call generations wrap below this bit; the stop ticket alone sets it.
        private static let stopBit = 1 << 23
        private static func isStop(_ generation: Int) -> Bool { generation & stopBit != 0 }

        func stop() {
            publish((Self.stopBit | generation) << (Self.indexBits + Self.countBits))
            while ck_atomic_load(exited) < workers { sched_yield() }
        }

        deinit {
            pthread_mutex_destroy(mutex)
            pthread_cond_destroy(cond)
            mutex.deallocate()
            cond.deallocate()
            counters.deallocate()
        }
    }
}
