import Foundation
import Kernels

extension InferenceSession {
    enum LogitRows { case none, last, all }

    /// The Llama forward pass for `count` tokens starting at `tokens[from]`,
    /// llama2.c-style: one step per block, top to bottom.
    func forward(_ tokens: [Int32], from: Int, count n: Int, logitsRows: LogitRows) {
        let model = self.model
        let c = model.configuration
        let dim = c.embeddingLength, kvDim = c.kvDimension, ffn = c.feedForwardLength
        let headDim = c.headDimension, heads = c.headCount
        let group = c.headCount / c.kvHeadCount
        let eps = c.rmsNormEpsilon
        let start = position

        // 1. Token embeddings.
        let embedding = model.tokenEmbedding
        let rowBytes = embedding.type.byteCount(elements: dim)!
        let x = self.x, xb = self.xb, q = self.q, k = self.k, v = self.v
        eachToken(n) { t in
            Dequantize.row(embedding.type, embedding.base + Int(tokens[from + t]) * rowBytes, x + t * dim, count: dim)
        }

        for (l, layer) in model.layers.enumerated() {
            // 2. Attention: norm (after the previous block's residual add), projections,
            // RoPE, cache.
            residualNorm(layer.attentionNorm, n, addingBack: l > 0)
            project([MatMul.Product(layer.query, q), MatMul.Product(layer.key, k), MatMul.Product(layer.value, v)], xb, n)
            let rope = self.rope, cache = self.cache
            eachToken(n) { t in
                let pos = start + t
                for h in 0..<heads { rope.apply(q + t * dim + h * headDim, position: pos) }
                for h in 0..<c.kvHeadCount { rope.apply(k + t * kvDim + h * headDim, position: pos) }
                cache.store(layer: l, position: pos, keys: k + t * kvDim, values: v + t * kvDim)
            }

            // 3. Causal grouped-query attention. A batch splits each head's queries in
            // two interleaved halves (their costs grow with position), so two threads
            // are not left with an odd head count's imbalance; each part has its own scores.
            let scale = 1 / Float(headDim).squareRoot()
            let scores = self.scores, attention = self.attention
            let capacity = contextLength
            let parts = n > 1 ? Self.attentionParts : 1
            pool.parallelFor(heads * parts) { item in
                let h = item / parts, part = item % parts
                let kvOffset = (h / group) * headDim
                let s = scores + item * capacity
                for t in stride(from: part, to: n, by: parts) {
                    cache.attend(
                        layer: l, headOffset: kvOffset, query: q + t * dim + h * headDim, count: start + t + 1,
                        dimension: headDim, scale: scale, scores: s, out: attention + t * dim + h * headDim)
                }
            }
            project(layer.attentionOutput, attention, n, xb)

            // 4. SwiGLU feed-forward.
            residualNorm(layer.feedForwardNorm, n, addingBack: true)
            let hidden = self.hidden, hidden2 = self.hidden2
            project([MatMul.Product(layer.gate, hidden), MatMul.Product(layer.up, hidden2)], xb, n)
            eachToken(n) { t in VectorOps.siluMul(hidden + t * ffn, hidden2 + t * ffn, count: ffn) }
            project(layer.down, hidden, n, xb)
        }
        position = start + n

        // 5. The last block's residual add, final norm and output head, only for the
        // rows asked for: x is not read again after this batch, so other rows skip the add.
        switch logitsRows {
        case .none:
            return
        case .last:
            let last = n - 1
            VectorOps.add(xb + last * dim, into: x + last * dim, count: dim)
            model.outputNorm.withUnsafeBufferPointer { w in
                VectorOps.rmsNorm(x + last * dim, w.baseAddress!, xb, count: dim, epsilon: eps)
            }
            project(model.output, xb, 1, logits)
        case .all:
            residualNorm(model.outputNorm, n, addingBack: true)
            project(model.output, xb, n, logits)
        }
    }

    /// Query parts per head in a batch's attention (see step 3): its scores scratch
    /// holds this many rows per head.
    static let attentionParts = 2

    /// x += xb (the block output waiting in xb, when `addingBack`), then xb = rmsNorm(x),
    /// token by token.
    @inline(__always)
    private func residualNorm(_ weight: [Float], _ n: Int, addingBack: Bool) {
        let dim = model.configuration.embeddingLength, eps = model.configuration.rmsNormEpsilon
        let x = self.x, xb = self.xb
        weight.withUnsafeBufferPointer { w in
            let w = w.baseAddress!
            eachToken(n) { t in
                if addingBack { VectorOps.add(xb + t * dim, into: x + t * dim, count: dim) }
                VectorOps.rmsNorm(x + t * dim, w, xb + t * dim, count: dim, epsilon: eps)
            }
        }
    }

    /// `body(t)` for every token of a batch, in parallel chunks of tokens; one token
    /// (decode) runs inline. The per-token steps between the matrix products (norms,
    /// RoPE, cache stores, SwiGLU) ran on one thread before: ~3% of a 1-thread Q4_0
    /// prefill in a profile on Zen 3, twice that share of a 2-thread one.
    @inline(__always)
    private func eachToken(_ n: Int, _ body: (Int) -> Void) {
        guard n > 1 else {
            body(0)
            return
        }
        let chunks = min(n, 4 * pool.threadCount)
        pool.parallelFor(chunks) { c in
            for t in (c * n / chunks)..<((c + 1) * n / chunks) { body(t) }
        }
    }

    /// Matrices sharing one input: one parallel loop for all of them on the fast path.
    @inline(__always)
    private func project(_ products: [MatMul.Product], _ input: UnsafeMutablePointer<Float>, _ n: Int) {
        switch precision {
        case .floatActivations:
            for p in products { matmul.matmulFloatActivations(p.weights, input, count: n, p.output) }
        case .quantizedActivations:
            matmul.matmul(products, input, count: n)
        }
    }

    @inline(__always)
    private func project(_ w: WeightMatrix, _ input: UnsafeMutablePointer<Float>, _ n: Int, _ output: UnsafeMutablePointer<Float>) {
        project([MatMul.Product(w, output)], input, n)
    }
}
