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
/// buffer is sized to the vocabulary once and reused. No step sorts the vocabulary:
/// top-k keeps a k-sized heap while scanning; without top-k, tokens below the min-p
/// threshold are dropped while scanning (they could never be drawn), and the rest
/// are ordered only as far as top-p needs, in growing chunks (quickselect, then sort
/// the chunk).
///
/// Reproducibility: with a seed, the random stream is fixed (see `SeededGenerator`)
/// and ties are broken by token id, so the same logits give the same tokens. Across
/// platforms, `exp` from different C libraries may differ in the last bit, which can
/// flip a draw that lands exactly on a boundary; that is the only source of drift.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var rng: SeededGenerator
    /// Ring buffer of the last `repetitionWindow` accepted tokens.
    private var recent: [Int32]
    private var recentNext = 0
    private var recentCount = 0
    private var pool: [Candidate] = []

    struct Candidate {
        var value: Float
        var id: Int32

        /// Descending by value, then ascending by id: a strict total order, so
        /// every sort and selection below has exactly one answer.
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

        var maxLogit = -Float.infinity
        for l in logits where l > maxLogit { maxLogit = l }
        // Nothing finite to weigh (all -inf/NaN) or a +inf logit: only argmax makes sense.
        guard maxLogit > -.infinity, maxLogit < .infinity else { return Self.argmax(logits) }

        if pool.count < logits.count { reserve(logits.count) }
        let invT = 1 / parameters.temperature
        let logMinP = parameters.minP > 0 ? logf(parameters.minP) : -.infinity
        let needMass = parameters.topP < 1
        let parameters = parameters
        let u = rng.nextUnitDouble()
        return pool.withUnsafeMutableBufferPointer { pool in
            var count = 0
            var mass = 0.0
            if parameters.topK > 0 && parameters.topK < logits.count {
                count = Self.topKHeap(logits, k: parameters.topK, into: pool)
                for i in 0..<count {
                    pool[i].value = (pool[i].value - maxLogit) * invT
                    if needMass { mass += Double(expf(pool[i].value)) }
                }
            } else {
                for (i, l) in logits.enumerated() where l > -.infinity {
                    let s = (l - maxLogit) * invT
                    if needMass { mass += Double(expf(s)) }
                    if s >= logMinP {
                        pool[count] = Candidate(value: s, id: Int32(truncatingIfNeeded: i))
                        count += 1
                    }
                }
            }
            let kept = Self.nucleus(pool, count: count, massTarget: needMass ? Double(parameters.topP) * mass : .infinity, logMinP: logMinP)
            return Self.draw(pool, kept: kept, uniform: u)
        }
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
        pool = [Candidate](repeating: Candidate(value: 0, id: 0), count: vocabularySize)
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
            let c = Candidate(value: l, id: Int32(truncatingIfNeeded: i))
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

    /// Orders the pool best-first only as far as needed and returns how many tokens
    /// survive top-p (smallest prefix reaching `massTarget`) and min-p (scaled logit
    /// at least log(min_p) above the best, i.e. p >= min_p * p_max). On return
    /// `pool[0..<kept]` hold the unnormalised probabilities exp(s).
    private static func nucleus(_ pool: UnsafeMutableBufferPointer<Candidate>, count: Int, massTarget: Double, logMinP: Float) -> Int {
        var kept = 0
        var sortedEnd = 0
        var chunk = 64
        var cumulative = 0.0
        while kept < count {
            if kept == sortedEnd {
                let end = min(count, sortedEnd + chunk)
                selectBest(pool, from: sortedEnd, to: count, first: end)
                sort(pool, from: sortedEnd, to: end)
                sortedEnd = end
                chunk *= 4
            }
            let s = pool[kept].value
            if kept > 0 && s < logMinP { break }
            let p = expf(s)
            pool[kept].value = p
            cumulative += Double(p)
            kept += 1
            if cumulative >= massTarget { break }
        }
        return kept
    }

    /// Inverse-CDF draw over the kept unnormalised probabilities, `uniform` in [0, 1).
    private static func draw(_ pool: UnsafeMutableBufferPointer<Candidate>, kept: Int, uniform: Double) -> Int32 {
        var total = 0.0
        for i in 0..<kept { total += Double(pool[i].value) }
        let target = uniform * total
        var cumulative = 0.0
        for i in 0..<kept {
            cumulative += Double(pool[i].value)
            if target < cumulative { return pool[i].id }
        }
        return pool[kept - 1].id
    }

    /// Quickselect: afterwards `pool[from..<first]` hold the best of `pool[from..<to]`.
    private static func selectBest(_ pool: UnsafeMutableBufferPointer<Candidate>, from: Int, to: Int, first: Int) {
        var lo = from, hi = to
        while hi - lo > 16 {
            let split = partition(pool, lo, hi)
            if split == first { return }
            if split < first { lo = split } else { hi = split }
        }
        insertionSort(pool, lo, hi)
    }

    /// Quicksort best-first, recursing into the smaller side to bound the stack.
    private static func sort(_ pool: UnsafeMutableBufferPointer<Candidate>, from: Int, to: Int) {
        var lo = from, hi = to
        while hi - lo > 16 {
            let split = partition(pool, lo, hi)
            if split - lo < hi - split {
                sort(pool, from: lo, to: split)
                lo = split
            } else {
                sort(pool, from: split, to: hi)
                hi = split
            }
        }
        insertionSort(pool, lo, hi)
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
