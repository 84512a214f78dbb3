import Foundation
@testable import Generation
import Testing

/// Runs `sample` on a copy of `logits` (the sampler may overwrite them).
private func sample(_ sampler: inout Sampler, _ logits: [Float]) -> Int32 {
    var copy = logits
    return copy.withUnsafeMutableBufferPointer { sampler.sample(logits: $0) }
}

private func randomLogits(_ count: Int, seed: UInt64, scale: Float = 4) -> [Float] {
    var rng = SeededGenerator(seed: seed)
    return (0..<count).map { _ in Float(rng.nextUnitDouble() * 2 - 1) * scale }
}

/// The sampler's filters written the obvious way (full sort), as the oracle for the
/// selection-based implementation: same tie order and float arithmetic, so it must
/// keep the same tokens with the same weights, best first.
private func referenceKept(_ logits: [Float], _ p: SamplingParameters) -> [(id: Int32, weight: Float)] {
    var ranked = logits.enumerated().filter { $0.element > -.infinity }.map { (id: Int32($0.offset), l: $0.element) }
    ranked.sort { $0.l > $1.l || ($0.l == $1.l && $0.id < $1.id) }
    if p.topK > 0 { ranked = Array(ranked.prefix(p.topK)) }
    let m = ranked[0].l
    let invT = 1 / p.temperature
    // Distinct logits can round to the same scaled value; the sampler then ranks by id.
    ranked.sort { a, b in
        let (sa, sb) = ((a.l - m) * invT, (b.l - m) * invT)
        return sa > sb || (sa == sb && a.id < b.id)
    }
    let scaled = ranked.map { ($0.l - m) * invT }
    let weights = scaled.map { expf($0) }
    let mass = weights.reduce(0.0) { $0 + Double($1) }
    let logMinP = p.minP > 0 ? logf(p.minP) : -.infinity
    var kept = 0
    var cumulative = 0.0
    while kept < ranked.count {
        if kept > 0 && scaled[kept] < logMinP { break }
        cumulative += Double(weights[kept])
        kept += 1
        if p.topP < 1 && cumulative >= Double(p.topP) * mass { break }
    }
    return (0..<kept).map { (ranked[$0].id, weights[$0]) }
}

@Suite("Sampler")
struct SamplerTests {
    @Test("greedy picks the largest logit, the lowest id among ties")
    func greedyArgmax() {
        var s = Sampler(parameters: .greedy)
        #expect(sample(&s, [0.1, 3, -2, 2.9]) == 1)
        #expect(sample(&s, [1, 5, 5, 5]) == 1)
        #expect(sample(&s, [7]) == 0)
    }

    @Test("greedy never picks NaN and copes with infinities")
    func greedyNaNAndInfinity() {
        var s = Sampler(parameters: .greedy)
        #expect(sample(&s, [.nan, 1, .nan, 2, .nan]) == 3)
        #expect(sample(&s, [-.infinity, .nan, -.infinity]) == 0)
        #expect(sample(&s, [.nan, -.infinity, -3]) == 2)
        #expect(sample(&s, [.nan, .nan]) == 0)
        #expect(sample(&s, [1, .infinity, .nan]) == 1)
    }

    @Test("sampling never picks NaN or -inf logits")
    func samplingSkipsNaN() {
        var s = Sampler(parameters: SamplingParameters(temperature: 1, topK: 0, topP: 1, minP: 0, seed: 3))
        for _ in 0..<2000 {
            let t = sample(&s, [.nan, 0, -.infinity, 0.5, .nan])
            #expect(t == 1 || t == 3)
        }
        #expect(sample(&s, [.nan, -.infinity, .nan]) == 1)
        #expect(sample(&s, [0, .infinity, 3]) == 1)
    }

    @Test("the same seed reproduces the same tokens; different seeds differ")
    func seededReproducible() {
        let logits = randomLogits(1000, seed: 1, scale: 2)
        func run(_ seed: UInt64) -> [Int32] {
            var s = Sampler(parameters: SamplingParameters(temperature: 1, topK: 0, topP: 1, minP: 0, seed: seed))
            return (0..<200).map { _ in sample(&s, logits) }
        }
        #expect(run(42) == run(42))
        #expect(run(42) != run(43))
    }

    @Test("without a seed two samplers draw different streams")
    func unseeded() {
        let logits = [Float](repeating: 0, count: 1000)
        var a = Sampler(parameters: SamplingParameters(temperature: 1, topK: 0, topP: 1, minP: 0))
        var b = Sampler(parameters: SamplingParameters(temperature: 1, topK: 0, topP: 1, minP: 0))
        let sa = (0..<20).map { _ in sample(&a, logits) }
        let sb = (0..<20).map { _ in sample(&b, logits) }
        #expect(sa != sb)
    }

    @Test("frequencies follow the softmax at temperature 1")
    func distribution() {
        let probabilities: [Float] = [0.1, 0.2, 0.3, 0.4]
        let logits = probabilities.map { logf($0) + 3 }
        var s = Sampler(parameters: SamplingParameters(temperature: 1, topK: 0, topP: 1, minP: 0, seed: 2024))
        var counts = [Int](repeating: 0, count: 4)
        let n = 20_000
        for _ in 0..<n { counts[Int(sample(&s, logits))] += 1 }
        for i in 0..<4 {
            // 4.5 standard deviations of a binomial with n = 20 000.
            let tolerance = 4.5 * (Double(probabilities[i]) * (1 - Double(probabilities[i])) / Double(n)).squareRoot()
            #expect(abs(Double(counts[i]) / Double(n) - Double(probabilities[i])) < tolerance, "token \(i): \(counts[i])")
        }
    }

    @Test("temperature sharpens the distribution")
    func temperatureSharpens() {
        let logits: [Float] = [0, 1]
        var s = Sampler(parameters: SamplingParameters(temperature: 0.25, topK: 0, topP: 1, minP: 0, seed: 5))
        let ones = (0..<10_000).filter { _ in sample(&s, logits) == 1 }.count
        // softmax([0, 4]) = 0.982
        #expect(abs(Double(ones) / 10_000 - 0.982) < 0.01)
    }

    @Test("top-k 1 and a tiny top-p both equal greedy")
    func degenerateFiltersAreGreedy() {
        for seed in UInt64(0)..<20 {
            let logits = randomLogits(5000, seed: seed)
            var greedy = Sampler(parameters: .greedy)
            let expected = sample(&greedy, logits)
            var k1 = Sampler(parameters: SamplingParameters(temperature: 1.5, topK: 1, seed: seed))
            var p0 = Sampler(parameters: SamplingParameters(temperature: 1.5, topK: 0, topP: 1e-6, minP: 0, seed: seed))
            #expect(sample(&k1, logits) == expected)
            #expect(sample(&p0, logits) == expected)
        }
    }

    @Test("top-k keeps only the k most likely tokens")
    func topK() {
        var s = Sampler(parameters: SamplingParameters(temperature: 5, topK: 2, topP: 1, minP: 0, seed: 9))
        let seen = Set((0..<3000).map { _ in sample(&s, [1, 4, 0, 3.9, 2]) })
        #expect(seen == [1, 3])
    }

    @Test("top-p keeps the smallest set reaching the mass")
    func topP() {
        let logits = [Float]([0.5, 0.3, 0.15, 0.05].map { logf($0) })
        var s = Sampler(parameters: SamplingParameters(temperature: 1, topK: 0, topP: 0.75, minP: 0, seed: 11))
        let seen = Set((0..<3000).map { _ in sample(&s, logits) })
        #expect(seen == [0, 1])
    }

    @Test("min-p drops tokens below a fraction of the best one")
    func minP() {
        let logits = [Float]([0.5, 0.3, 0.15, 0.05].map { logf($0) })
        var s = Sampler(parameters: SamplingParameters(temperature: 1, topK: 0, topP: 1, minP: 0.2, seed: 12))
        let seen = Set((0..<5000).map { _ in sample(&s, logits) })
        #expect(seen == [0, 1, 2])
        var strict = Sampler(parameters: SamplingParameters(temperature: 1, topK: 10, topP: 1, minP: 0.7, seed: 12))
        #expect(Set((0..<1000).map { _ in sample(&strict, logits) }) == [0])
    }

    @Test("repetition penalty divides positive and multiplies negative logits of recent tokens")
    func repetitionPenalty() {
        var s = Sampler(parameters: SamplingParameters(temperature: 0, repetitionPenalty: 1.1))
        #expect(sample(&s, [2.0, 1.9]) == 0)
        s.accept(0)
        #expect(sample(&s, [2.0, 1.9]) == 1)   // 2.0 / 1.1 = 1.82
        #expect(sample(&s, [-1.0, -1.05]) == 1) // -1.0 * 1.1 = -1.1
        s.resetHistory()
        #expect(sample(&s, [2.0, 1.9]) == 0)
    }

    @Test("repetition penalty applies once per distinct token and only within the window")
    func repetitionWindow() {
        var s = Sampler(parameters: SamplingParameters(temperature: 0, repetitionPenalty: 1.1, repetitionWindow: 3))
        s.accept(0)
        s.accept(0)
        #expect(sample(&s, [2.0, 1.7]) == 0)    // 1.82 once; twice would be 1.65
        s.accept(5)
        s.accept(6)
        s.accept(99_999)                        // out of vocabulary: ignored
        #expect(sample(&s, [2.0, 1.9]) == 0)    // token 0 left the window
    }

    @Test("keeps exactly the tokens a full-sort reference keeps, on large vocabularies",
          arguments: [
              SamplingParameters(temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05),
              SamplingParameters(temperature: 1.0, topK: 0, topP: 0.95, minP: 0),
              SamplingParameters(temperature: 1.3, topK: 0, topP: 0.9, minP: 0.05),
              SamplingParameters(temperature: 0.7, topK: 0, topP: 1, minP: 0.1),
              SamplingParameters(temperature: 1.0, topK: 1000, topP: 0.99, minP: 0),
              SamplingParameters(temperature: 3.0, topK: 0, topP: 0.5, minP: 0),
          ])
    func matchesReference(_ parameters: SamplingParameters) {
        for (trial, vocab) in [32000, 128_256].enumerated() {
            // A few strong tokens over a broad tail.
            var logits = randomLogits(vocab, seed: UInt64(trial), scale: 6)
            for i in stride(from: trial * 7, to: vocab, by: 9973) { logits[i] += 8 }
            var sampler = Sampler(parameters: parameters, vocabularySize: vocab)
            var work = logits
            let filtered = work.withUnsafeMutableBufferPointer { sampler.filter($0) }
            #expect(filtered)
            let kept = sampler.keptCandidates
            let expected = referenceKept(logits, parameters)
            #expect(kept.map(\.id) == expected.map(\.id))
            #expect(kept.map(\.weight) == expected.map(\.weight))
            let allowed = Set(expected.map(\.id))
            for _ in 0..<5 { #expect(allowed.contains(sample(&sampler, logits))) }
        }
    }
}

@Suite("Seeded generator")
struct SeededGeneratorTests {
    @Test("the stream for a seed is fixed (xoshiro256** seeded by SplitMix64)")
    func knownValues() {
        var zero = SeededGenerator(seed: 0)
        #expect((0..<4).map { _ in zero.next() } == [0x99ec5f36cb75f2b4, 0xbf6e1f784956452a, 0x1a5f849d4933e6e0, 0x6aa594f1262d2d2c])
        var answer = SeededGenerator(seed: 42)
        #expect((0..<4).map { _ in answer.next() } == [0x15780b2e0c2ec716, 0x6104d9866d113a7e, 0xae17533239e499a1, 0xecb8ad4703b360a1])
    }

    @Test("unit doubles stay in [0, 1)")
    func unitRange() {
        var g = SeededGenerator(seed: 7)
        for _ in 0..<10_000 {
            let u = g.nextUnitDouble()
            #expect(u >= 0 && u < 1)
        }
    }
}
