#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Picks the next token from a row of logits.
///
/// Pipeline (Hugging Face's order): repetition penalty -> temperature -> top-k ->
/// softmax -> top-p -> min-p -> draw. Temperature 0 (or top-k 1) is greedy argmax.
///
/// Cost per token is O(vocab) with no allocation after the first call: the working
/// buffer is sized to the vocabulary once and reused, and nothing is sorted.
/// - top-k keeps a k-sized heap while scanning, so most tokens cost one comparison;
/// - min-p needs no ordering: its threshold is relative to the best token, which is
///   known before the scan, so tokens below it are dropped while scanning;
/// - top-p keeps the smallest best-first set reaching the mass; it is found by a
///   quickselect that partitions on the logit and recurses on the side holding the
///   mass boundary (expected O(n)), not by sorting 128k candidates.
/// The survivors are drawn from in the (deterministic) order this leaves them in.
/// top-p and min-p both keep a best-first prefix, so applying them in either order
/// keeps the same set; what the order changes is only top-p's mass, which is
/// measured over the top-k set as in the reference pipeline.
///
/// Reproducibility: with a seed, the random stream is fixed (see `SeededGenerator`)
/// and every selection breaks ties by token id, so the same logits give the same
/// tokens. Across platforms, `expf` from different C libraries may differ in the
/// last bit, which can flip a draw landing exactly on a boundary.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var rng: SeededGenerator
    /// Ring buffer of the last `repetitionWindow` accepted tokens.
    private var recent: [Int32]
    private var recentNext = 0
    private var recentCount = 0
    /// Working buffer, vocabulary-sized; `pool[0..<keptCount]` are the candidates
    /// that survived the filters of the last `sample` call.
    private var pool: [Candidate] = []
    private(set) var keptCount = 0

    struct Candidate {
        /// Scaled logit (logit - max) / temperature; raw logit inside the top-k heap.
        var value: Float
        /// exp(value): the unnormalised probability.
        var weight: Float
        var id: Int32

        /// Descending by value, then ascending by id: a strict total order, so
        /// every selection below has exactly one answer.
        @inline(__always)
        func precedes(_ other: Candidate) -> Bool {
            value > other.value || (value == other.value && id < other.id)
        }
    }

    /// `vocabularySize`, when known, sizes the working buffer up front so that even
    /// the first `sample` call does not allocate.
    public init(parameters: SamplingParameters, vocabularySize: Int = 0) {
        self.parameters = parameters
        rng = parameters.seed.map(SeededGenerator.init(seed:)) ?? SeededGenerator()
        recent = [Int32](repeating: 0, count: max(0, parameters.repetitionWindow))
        if vocabularySize > 0 { reserve(vocabularySize) }
    }

    /// Records a token of the context (prompt or generated) for the repetition penalty.
    public mutating func accept(_ token: Int32) {
        guard !recent.isEmpty else { return }
        recent[recentNext] = token
        recentNext = (recentNext + 1) % recent.count
        recentCount = min(recentCount + 1, recent.count)
    }

    /// Forgets the accepted tokens (a new conversation); the random stream continues.
    public mutating func resetHistory() {
        recentNext = 0
        recentCount = 0
    }

    /// Chooses a token id in `0..<logits.count`. May overwrite `logits`. NaN logits
    /// are never chosen; if every logit is NaN the answer is 0.
    public mutating func sample(logits: UnsafeMutableBufferPointer<Float>) -> Int32 {
        precondition(!logits.isEmpty, "Sampler.sample needs at least one logit")
        applyRepetitionPenalty(logits)
        if parameters.temperature == 0 || parameters.topK == 1 { return Self.argmax(logits) }
        guard filter(logits) else { return Self.argmax(logits) }
        let uniform = rng.nextUnitDouble()
        let kept = keptCount
        return pool.withUnsafeBufferPointer { Self.draw($0, kept: kept, uniform: uniform) }
    }

    /// Applies temperature, top-k, top-p and min-p, leaving the survivors in
    /// `pool[0..<keptCount]`. False when no finite logit exists (all NaN/-inf) or one
    /// is +inf: then only argmax makes sense.
    mutating func filter(_ logits: UnsafeMutableBufferPointer<Float>) -> Bool {
        var maxLogit = -Float.infinity
        for l in logits where l > maxLogit { maxLogit = l }
        guard maxLogit > -.infinity, maxLogit < .infinity else { return false }

        if pool.count < logits.count { reserve(logits.count) }
        let invT = 1 / parameters.temperature
        let logMinP = parameters.minP > 0 ? logf(parameters.minP) : -.infinity
        let topP = parameters.topP
        let topK = parameters.topK
        keptCount = pool.withUnsafeMutableBufferPointer { pool in
            var count = 0
            var mass = 0.0
            if topK > 0 && topK < logits.count {
                let heapCount = Self.topKHeap(logits, k: topK, into: pool)
                for i in 0..<heapCount {
                    let s = (pool[i].value - maxLogit) * invT
                    let w = expf(s)
                    mass += Double(w)
                    if s >= logMinP {
                        pool[count] = Candidate(value: s, weight: w, id: pool[i].id)
                        count += 1
                    }
                }
            } else {
                for i in 0..<logits.count {
                    let l = logits[i]
                    guard l > -.infinity else { continue }
                    let s = (l - maxLogit) * invT
                    if topP < 1 {
                        let w = expf(s)
                        mass += Double(w)
                        if s >= logMinP {
                            pool[count] = Candidate(value: s, weight: w, id: Int32(truncatingIfNeeded: i))
                            count += 1
                        }
                    } else if s >= logMinP {
                        pool[count] = Candidate(value: s, weight: expf(s), id: Int32(truncatingIfNeeded: i))
                        count += 1
                    }
                }
            }
            guard topP < 1 else { return count }
            return Self.nucleus(pool, count: count, target: Double(topP) * mass)
        }
        return true
    }

    /// The survivors of the last `filter`, best first (for tests and diagnostics).
    var keptCandidates: [(id: Int32, weight: Float)] {
        pool[0..<keptCount].sorted { $0.precedes($1) }.map { ($0.id, $0.weight) }
    }

    /// Greedy choice: the largest logit, lowest id among equals, never NaN.
    static func argmax(_ logits: UnsafeMutableBufferPointer<Float>) -> Int32 {
        var best = -1
        var bestValue = -Float.infinity
        for (i, l) in logits.enumerated() where l > bestValue || (best < 0 && l == bestValue) {
            best = i
            bestValue = l
        }
        return Int32(truncatingIfNeeded: max(best, 0))
    }

    private mutating func reserve(_ vocabularySize: Int) {
        pool = [Candidate](repeating: Candidate(value: 0, weight: 0, id: 0), count: vocabularySize)
    }

    /// llama.cpp `penalty_repeat`: once per distinct token in the window, whatever its count.
    private func applyRepetitionPenalty(_ logits: UnsafeMutableBufferPointer<Float>) {
        let penalty = parameters.repetitionPenalty
        guard penalty != 1, recentCount > 0 else { return }
        recent.withUnsafeBufferPointer { recent in
            for j in 0..<recentCount {
                let token = Int(recent[j])
                guard token >= 0, token < logits.count else { continue }
                var seenBefore = false
                for earlier in 0..<j where recent[earlier] == recent[j] {
                    seenBefore = true
                    break
                }
                if seenBefore { continue }
                let l = logits[token]
                logits[token] = l > 0 ? l / penalty : l * penalty
            }
        }
    }

    /// The k best tokens (NaN and -inf excluded) in `pool[0..<result]`, unordered:
    /// a min-heap of the kept ones, so most tokens cost one comparison with the root.
    private static func topKHeap(_ logits: UnsafeMutableBufferPointer<Float>, k: Int, into heap: UnsafeMutableBufferPointer<Candidate>) -> Int {
        var count = 0
        for (i, l) in logits.enumerated() where l > -.infinity {
            let c = Candidate(value: l, weight: 0, id: Int32(truncatingIfNeeded: i))
            if count < k {
                // Sift up: the root is the candidate that would be dropped first.
                var child = count
                heap[child] = c
                count += 1
                while child > 0 {
                    let parent = (child - 1) / 2
                    guard heap[parent].precedes(heap[child]) else { break }
                    heap.swapAt(parent, child)
                    child = parent
                }
            } else if c.precedes(heap[0]) {
                heap[0] = c
                var parent = 0
                while true {
                    let left = 2 * parent + 1
                    guard left < count else { break }
                    var worst = left
                    if left + 1 < count && heap[worst].precedes(heap[left + 1]) { worst = left + 1 }
                    guard heap[parent].precedes(heap[worst]) else { break }
                    heap.swapAt(parent, worst)
                    parent = worst
                }
            }
        }
        return count
    }

    /// How many of the best candidates top-p keeps: the smallest best-first prefix
    /// whose weight reaches `target`, moved to the front of the pool (unordered).
    /// Quickselect on the ordering, deciding each round by the mass of the better side.
    private static func nucleus(_ pool: UnsafeMutableBufferPointer<Candidate>, count: Int, target: Double) -> Int {
        var lo = 0, hi = count
        var need = target
        while hi - lo > 16 {
            let split = partition(pool, lo, hi)
            var better = 0.0
            for i in lo..<split { better += Double(pool[i].weight) }
            if better >= need {
                hi = split
            } else {
                need -= better
                lo = split
            }
        }
        insertionSort(pool, lo, hi)
        var cumulative = 0.0
        for i in lo..<hi {
            cumulative += Double(pool[i].weight)
            if cumulative >= need { return i + 1 }
        }
        return hi
    }

    /// Inverse-CDF draw over the kept unnormalised probabilities, `uniform` in [0, 1).
    private static func draw(_ pool: UnsafeBufferPointer<Candidate>, kept: Int, uniform: Double) -> Int32 {
        var total = 0.0
        for i in 0..<kept { total += Double(pool[i].weight) }
        let target = uniform * total
        var cumulative = 0.0
        for i in 0..<kept {
            cumulative += Double(pool[i].weight)
            if target < cumulative { return pool[i].id }
        }
        return pool[kept - 1].id
    }

    /// Splits `lo..<hi` (at least 3 elements) around a median-of-three pivot; every
    /// element before the returned index precedes every element from it on, and both
    /// sides are non-empty.
    private static func partition(_ a: UnsafeMutableBufferPointer<Candidate>, _ lo: Int, _ hi: Int) -> Int {
        let mid = lo + (hi - lo) / 2
        if a[mid].precedes(a[lo]) { a.swapAt(mid, lo) }
        if a[hi - 1].precedes(a[lo]) { a.swapAt(hi - 1, lo) }
        if a[hi - 1].precedes(a[mid]) { a.swapAt(hi - 1, mid) }
        // a[lo] <= a[mid] <= a[hi-1] in best-first order; pivot is the median.
        let pivot = a[mid]
        var i = lo - 1, j = hi
        while true {
            repeat { i += 1 } while a[i].precedes(pivot)
            repeat { j -= 1 } while pivot.precedes(a[j])
            if i >= j { return j + 1 }
            a.swapAt(i, j)
        }
    }

    private static func insertionSort(_ a: UnsafeMutableBufferPointer<Candidate>, _ lo: Int, _ hi: Int) {
        guard hi - lo > 1 else { return }
        for i in (lo + 1)..<hi {
            let x = a[i]
            var j = i - 1
            while j >= lo && x.precedes(a[j]) {
                a[j + 1] = a[j]
                j -= 1
            }
            a[j + 1] = x
        }
    }
}
