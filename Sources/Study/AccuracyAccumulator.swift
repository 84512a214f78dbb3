import Foundation

/// Running accuracy figures of one model against a reference on the same tokens:
/// perplexity (of the candidate on the real next tokens), mean KL(reference || candidate)
/// of the next-token distributions, and top-1 agreement. Sums are in Double because
/// thousands of positions of small terms lose digits in Float.
public struct AccuracyAccumulator: Sendable {
    public private(set) var tokens = 0
    private var negativeLogLikelihood = 0.0
    private var divergence = 0.0
    private var agreements = 0

    public init() {}

    /// log(softmax(logits)), max-subtracted so large logits cannot overflow.
    public static func logSoftmax(_ logits: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(out.count >= logits.count, "output shorter than logits")
        guard let maximum = logits.max() else { return }
        var sum = 0.0
        for v in logits { sum += exp(Double(v - maximum)) }
        let logSum = Float(log(sum))
        for i in logits.indices { out[i] = logits[i] - maximum - logSum }
    }

    /// Adds one position: both arguments are log-probabilities over the same vocabulary
    /// and `next` is the token that really follows.
    public mutating func add(reference: UnsafeBufferPointer<Float>, candidate: UnsafeBufferPointer<Float>, next: Int) {
        precondition(reference.count == candidate.count && reference.indices.contains(next), "mismatched distributions")
        negativeLogLikelihood -= Double(candidate[next])
        var kl = 0.0
        var bestReference = 0, bestCandidate = 0
        for i in reference.indices {
            let r = reference[i]
            if r > -80 { kl += exp(Double(r)) * Double(r - candidate[i]) }  // e^-80 terms add nothing
            if r > reference[bestReference] { bestReference = i }
            if candidate[i] > candidate[bestCandidate] { bestCandidate = i }
        }
        divergence += max(0, kl)
        if bestReference == bestCandidate { agreements += 1 }
        tokens += 1
    }

    public var perplexity: Double { tokens == 0 ? .nan : exp(negativeLogLikelihood / Double(tokens)) }
    public var meanKLDivergence: Double { tokens == 0 ? .nan : divergence / Double(tokens) }
    public var top1Agreement: Double { tokens == 0 ? .nan : Double(agreements) / Double(tokens) }
}
