import Foundation
import Study
import Testing

@Suite struct AccuracyAccumulatorTests {
    func logProbs(_ logits: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: logits.count)
        logits.withUnsafeBufferPointer { l in
            out.withUnsafeMutableBufferPointer { AccuracyAccumulator.logSoftmax(l, into: $0) }
        }
        return out
    }

    func add(_ acc: inout AccuracyAccumulator, _ reference: [Float], _ candidate: [Float], next: Int) {
        reference.withUnsafeBufferPointer { r in
            candidate.withUnsafeBufferPointer { c in acc.add(reference: r, candidate: c, next: next) }
        }
    }

    @Test("log-softmax of large logits stays finite and normalised")
    func logSoftmaxIsStable() {
        let p = logProbs([1000, 999, 998])
        #expect(p.allSatisfy { $0.isFinite })
        let total = p.reduce(0.0) { $0 + exp(Double($1)) }
        #expect(abs(total - 1) < 1e-6)
        #expect(abs(Double(p[0] - p[1]) - 1) < 1e-5)
    }

    @Test("a model compared with itself has zero divergence and full agreement")
    func identicalDistributions() {
        var acc = AccuracyAccumulator()
        let p = logProbs([0.1, 2.0, -1.0, 0.5])
        add(&acc, p, p, next: 1)
        add(&acc, p, p, next: 3)
        #expect(acc.tokens == 2)
        #expect(abs(acc.meanKLDivergence) < 1e-9)
        #expect(acc.top1Agreement == 1)
    }

    @Test("perplexity, KL and agreement match a hand computation")
    func handComputedCase() {
        // Reference (1/2, 1/2), candidate (1/4, 3/4): KL = 1/2 ln(2) + 1/2 ln(2/3).
        let reference: [Float] = [log(0.5), log(0.5)]
        let candidate: [Float] = [log(0.25), log(0.75)]
        var acc = AccuracyAccumulator()
        add(&acc, reference, candidate, next: 0)
        let kl = 0.5 * log(2.0) + 0.5 * log(2.0 / 3.0)
        #expect(abs(acc.meanKLDivergence - kl) < 1e-6)
        #expect(abs(acc.perplexity - 4) < 1e-5)  // exp(-ln 0.25)
        // Reference argmax is index 0 (ties keep the first), candidate's is 1.
        #expect(acc.top1Agreement == 0)
    }

    @Test("an empty accumulator reports NaN rather than a made-up figure")
    func emptyIsNaN() {
        let acc = AccuracyAccumulator()
        #expect(acc.perplexity.isNaN && acc.meanKLDivergence.isNaN && acc.top1Agreement.isNaN)
    }
}
