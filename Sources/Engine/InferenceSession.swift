import Foundation
import Kernels

/// One conversation's state on a model: the KV cache, the position reached and
/// every scratch buffer the forward pass needs, allocated once so that decoding
/// a token allocates nothing.
public final class InferenceSession: @unchecked Sendable {
    public let model: LlamaModel
    public let contextLength: Int
    /// Tokens evaluated so far (the next token's position).
    public internal(set) var position: Int = 0
    public let cache: KVCache
    public let precision: Precision

    /// How activations meet quantized weights.
    public enum Precision: String, Sendable, CaseIterable {
        /// 8-bit activation blocks and integer dot products, as ggml does, and an F16
        /// KV cache: fast, ~4e-3 relative error per product.
        case quantizedActivations = "fast"
        /// F32 activations against dequantized weights and an F32 KV cache: exact to
        /// float rounding, several times slower. For reference checks and accuracy baselines.
        case floatActivations = "exact"

        /// The KV cache each precision keeps.
        public var cacheElement: KVCache.Element { self == .quantizedActivations ? .f16 : .f32 }
    }

    let pool: ThreadPool
    let matmul: MatMul
    /// Prompt tokens are pushed through the weights in batches of this many.
    let batchCapacity: Int

    // Scratch, batchCapacity rows each.
    let x: UnsafeMutablePointer<Float>
    let xb: UnsafeMutablePointer<Float>
    let q: UnsafeMutablePointer<Float>
    let k: UnsafeMutablePointer<Float>
    let v: UnsafeMutablePointer<Float>
    let attention: UnsafeMutablePointer<Float>
    let hidden: UnsafeMutablePointer<Float>
    let hidden2: UnsafeMutablePointer<Float>
    let scores: UnsafeMutablePointer<Float>
    let logits: UnsafeMutablePointer<Float>
    let rope: RotaryTable

    public init(
        model: LlamaModel, contextLength: Int, pool: ThreadPool, batchCapacity: Int = 64,
        precision: Precision = .quantizedActivations, cacheElement: KVCache.Element? = nil
    ) throws(EngineError) {
        let c = model.configuration
        guard contextLength >= 1 else {
            throw .invalidConfiguration(key: "context", reason: "context length must be at least 1")
        }
        guard contextLength <= c.contextLength else {
            throw .invalidConfiguration(key: "context", reason: "\(contextLength) exceeds the model's trained context \(c.contextLength)")
        }
        self.model = model
        self.precision = precision
        self.contextLength = contextLength
        self.pool = pool
        self.matmul = MatMul(pool: pool)
        self.batchCapacity = max(1, batchCapacity)
        self.cache = KVCache(
            layerCount: c.layerCount, capacity: contextLength, kvDimension: c.kvDimension,
            element: cacheElement ?? precision.cacheElement)
        let b = self.batchCapacity
        x = .allocate(capacity: b * c.embeddingLength)
        xb = .allocate(capacity: b * c.embeddingLength)
        q = .allocate(capacity: b * c.embeddingLength)
        k = .allocate(capacity: b * c.kvDimension)
        v = .allocate(capacity: b * c.kvDimension)
        attention = .allocate(capacity: b * c.embeddingLength)
        hidden = .allocate(capacity: b * c.feedForwardLength)
        hidden2 = .allocate(capacity: b * c.feedForwardLength)
        scores = .allocate(capacity: Self.attentionParts * c.headCount * contextLength)
        logits = .allocate(capacity: b * c.vocabularySize)
        rope = RotaryTable(
            positions: contextLength, dimensions: c.ropeDimensionCount,
            base: c.ropeFreqBase, factors: model.ropeFrequencyFactors
        )
    }

    deinit {
        for p in [x, xb, q, k, v, attention, hidden, hidden2, scores, logits] { p.deallocate() }
    }

    /// Forgets the conversation; the cache is overwritten as positions are reused.
    public func reset() { position = 0 }

    /// Rewinds to an earlier position, keeping the cached prefix (prompt reuse).
    public func truncate(to newPosition: Int) {
        position = min(max(0, newPosition), position)
    }

    /// Evaluates `tokens` after the current position and returns the logits of
    /// the last one. The buffer is reused by the next call.
    @discardableResult
    public func evaluate(_ tokens: [Int32]) throws(EngineError) -> UnsafeBufferPointer<Float> {
        guard !tokens.isEmpty else {
            throw .invalidConfiguration(key: "tokens", reason: "nothing to evaluate")
        }
        try check(tokens)
        var start = 0
        while start < tokens.count {
            let n = min(batchCapacity, tokens.count - start)
            let isLast = start + n == tokens.count
            forward(tokens, from: start, count: n, logitsRows: isLast ? .last : .none)
            start += n
        }
        return UnsafeBufferPointer(start: logits, count: model.configuration.vocabularySize)
    }

    /// Evaluates `tokens` and hands the logits of every one of them to `body`
    /// in order (perplexity, KL divergence, reference checks).
    public func evaluateAll(
        _ tokens: [Int32], _ body: (Int, UnsafeBufferPointer<Float>) throws -> Void
    ) throws {
        guard !tokens.isEmpty else { return }
        try check(tokens)
        let vocab = model.configuration.vocabularySize
        var start = 0
        while start < tokens.count {
            let n = min(batchCapacity, tokens.count - start)
            forward(tokens, from: start, count: n, logitsRows: .all)
            for i in 0..<n {
                try body(start + i, UnsafeBufferPointer(start: logits + i * vocab, count: vocab))
            }
            start += n
        }
    }

    private func check(_ tokens: [Int32]) throws(EngineError) {
        let vocab = model.configuration.vocabularySize
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= vocab }) {
            throw .tokenOutOfRange(id: bad, vocabularySize: vocab)
        }
        if position + tokens.count > contextLength {
            throw .contextOverflow(needed: position + tokens.count, limit: contextLength)
        }
    }
}
