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
        for t in 0..<n {
            let row = embedding.base + Int(tokens[from + t]) * rowBytes
            Dequantize.row(embedding.type, row, x + t * dim, count: dim)
        }

        for (l, layer) in model.layers.enumerated() {
            // 2. Attention: norm, projections, RoPE, cache.
            layer.attentionNorm.withUnsafeBufferPointer { w in
                for t in 0..<n {
                    VectorOps.rmsNorm(x + t * dim, w.baseAddress!, xb + t * dim, count: dim, epsilon: eps)
                }
            }
            project([MatMul.Product(layer.query, q), MatMul.Product(layer.key, k), MatMul.Product(layer.value, v)], xb, n)
            for t in 0..<n {
                let pos = start + t
                for h in 0..<heads { rope.apply(q + t * dim + h * headDim, position: pos) }
                for h in 0..<c.kvHeadCount { rope.apply(k + t * kvDim + h * headDim, position: pos) }
                cache.store(layer: l, position: pos, keys: k + t * kvDim, values: v + t * kvDim)
            }

            // 3. Causal grouped-query attention, heads in parallel.
            let scale = 1 / Float(headDim).squareRoot()
            let cache = self.cache, q = self.q, scores = self.scores, attention = self.attention
            let capacity = contextLength
            pool.parallelFor(heads) { h in
                let kvOffset = (h / group) * headDim
                let s = scores + h * capacity
                for t in 0..<n {
                    cache.attend(
                        layer: l, headOffset: kvOffset, query: q + t * dim + h * headDim, count: start + t + 1,
                        dimension: headDim, scale: scale, scores: s, out: attention + t * dim + h * headDim)
                }
            }
            project(layer.attentionOutput, attention, n, xb)
            VectorOps.add(xb, into: x, count: n * dim)

            // 4. SwiGLU feed-forward.
            layer.feedForwardNorm.withUnsafeBufferPointer { w in
                for t in 0..<n {
                    VectorOps.rmsNorm(x + t * dim, w.baseAddress!, xb + t * dim, count: dim, epsilon: eps)
                }
            }
            project([MatMul.Product(layer.gate, hidden), MatMul.Product(layer.up, hidden2)], xb, n)
            VectorOps.siluMul(hidden, hidden2, count: n * ffn)
            project(layer.down, hidden, n, xb)
            VectorOps.add(xb, into: x, count: n * dim)
        }
        position = start + n

        // 5. Final norm and output head, only for the rows asked for.
        switch logitsRows {
        case .none:
            return
        case .last:
            model.outputNorm.withUnsafeBufferPointer { w in
                VectorOps.rmsNorm(x + (n - 1) * dim, w.baseAddress!, xb, count: dim, epsilon: eps)
            }
            project(model.output, xb, 1, logits)
        case .all:
            model.outputNorm.withUnsafeBufferPointer { w in
                for t in 0..<n {
                    VectorOps.rmsNorm(x + t * dim, w.baseAddress!, xb + t * dim, count: dim, epsilon: eps)
                }
            }
            project(model.output, xb, n, logits)
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
