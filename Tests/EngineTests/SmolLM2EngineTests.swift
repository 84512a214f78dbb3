import Engine
import Kernels
import ModelFiles
import Testing
import TestSupport

/// The engine on the real SmolLM2-135M file: configuration, batching
/// consistency, and the errors a caller can provoke.
@Suite(.enabled(if: TestAssets.has(TestAssets.smolLM2)), .serialized)
struct SmolLM2EngineTests {
    static let model: LlamaModel? = try? LlamaModel(path: TestAssets.smolLM2.path)
    static let pool = ThreadPool(threads: 2)
    // Arbitrary ids inside the vocabulary: these tests compare the engine with itself.
    static let tokens: [Int32] = [504, 2365, 6354, 16438, 27003, 690, 260, 23790, 2767, 30, 657, 436, 253, 3790, 2615, 1124, 281, 4178]

    @Test("reads SmolLM2's configuration from its GGUF metadata")
    func configuration() throws {
        let c = try #require(Self.model).configuration
        #expect(c.embeddingLength == 576)
        #expect(c.layerCount == 30)
        #expect(c.headCount == 9)
        #expect(c.kvHeadCount == 3)
        #expect(c.feedForwardLength == 1536)
        #expect(c.vocabularySize == 49152)
        #expect(c.ropeFreqBase == 100000)
        #expect(c.headDimension == 64)
    }

    @Test("ties the output head to the token embedding when output.weight is absent")
    func tiedOutput() throws {
        let model = try #require(Self.model)
        #expect(model.output.base == model.tokenEmbedding.base)
        #expect(model.output.type == .q8_0)
    }

    @Test("batched prefill gives the same logits as feeding tokens one at a time")
    func batchedMatchesSequential() throws {
        let model = try #require(Self.model)
        let batched = try InferenceSession(model: model, contextLength: 64, pool: Self.pool)
        var allBatched: [[Float]] = []
        try batched.evaluateAll(Self.tokens) { _, row in allBatched.append(Array(row)) }

        let sequential = try InferenceSession(model: model, contextLength: 64, pool: Self.pool)
        for (i, token) in Self.tokens.enumerated() {
            let row = try sequential.evaluate([token])
            let reference = allBatched[i]
            let maxAbs = reference.map(abs).max() ?? 1
            var worst: Float = 0
            for j in 0..<row.count { worst = max(worst, abs(row[j] - reference[j])) }
            // Both paths quantize activations to 8 bits the same way; only the
            // order of float sums differs.
            #expect(worst / maxAbs < 1e-3, "position \(i): max abs diff \(worst) vs scale \(maxAbs)")
            #expect(argmax(row) == argmax(reference[...]), "position \(i)")
        }
        #expect(sequential.position == Self.tokens.count)
    }

    @Test("an F16 KV cache (the fast path's) takes half the bytes and moves logits by half-precision rounding only")
    func halfPrecisionCache() throws {
        let model = try #require(Self.model)
        #expect(try InferenceSession(model: model, contextLength: 64, pool: Self.pool).cache.element == .f16)
        #expect(InferenceSession.Precision.floatActivations.cacheElement == .f32)
        // Float activations on both sides: with 8-bit ones any perturbation can round an
        // activation the other way and travel through 30 layers, hiding what the cache does.
        let half = try InferenceSession(
            model: model, contextLength: 64, pool: Self.pool, precision: .floatActivations, cacheElement: .f16)
        let full = try InferenceSession(model: model, contextLength: 64, pool: Self.pool, precision: .floatActivations)
        #expect(half.cache.byteCount * 2 == full.cache.byteCount)
        var references: [[Float]] = []
        try full.evaluateAll(Self.tokens) { _, row in references.append(Array(row)) }
        var worst: Float = 0, scale: Float = 0
        var sameArgmax = true
        try half.evaluateAll(Self.tokens) { i, row in
            let reference = references[i]
            scale = max(scale, reference.map(abs).max() ?? 0)
            for j in 0..<row.count { worst = max(worst, abs(row[j] - reference[j])) }
            sameArgmax = sameArgmax && argmax(row) == argmax(reference[...])
        }
        // Rounding keys and values to fp16 (5e-4 relative) moved these logits by 5e-4
        // of their scale; a cache read or written wrongly moves them by far more.
        #expect(worst > 0, "the F16 cache must round something")
        #expect(worst / scale < 5e-3, "max abs diff \(worst) vs scale \(scale)")
        #expect(sameArgmax)
    }

    @Test("truncating and re-evaluating reproduces the same logits")
    func truncateAndReplay() throws {
        let model = try #require(Self.model)
        let session = try InferenceSession(model: model, contextLength: 64, pool: Self.pool)
        let first = Array(try session.evaluate(Self.tokens))
        session.truncate(to: 5)
        let again = Array(try session.evaluate(Array(Self.tokens[5...])))
        #expect(first == again)
    }

    @Test("evaluating past the context length is a contextOverflow error naming both sizes")
    func contextOverflow() throws {
        let model = try #require(Self.model)
        let session = try InferenceSession(model: model, contextLength: 8, pool: Self.pool)
        #expect(throws: EngineError.contextOverflow(needed: 18, limit: 8)) {
            try session.evaluate(Self.tokens)
        }
        #expect(session.position == 0)
    }

    @Test("a token id outside the vocabulary is rejected before touching memory")
    func tokenOutOfRange() throws {
        let model = try #require(Self.model)
        let session = try InferenceSession(model: model, contextLength: 8, pool: Self.pool)
        #expect(throws: EngineError.tokenOutOfRange(id: 49152, vocabularySize: 49152)) {
            try session.evaluate([1, 49152])
        }
        #expect(throws: EngineError.tokenOutOfRange(id: -1, vocabularySize: 49152)) {
            try session.evaluate([-1])
        }
    }

    @Test("a context longer than the model was trained for is refused")
    func contextBeyondTraining() throws {
        let model = try #require(Self.model)
        #expect(throws: EngineError.self) {
            _ = try InferenceSession(model: model, contextLength: 1_000_000, pool: Self.pool)
        }
    }

    func argmax(_ values: some Collection<Float>) -> Int {
        var best = 0, bestValue = -Float.infinity
        for (i, v) in values.enumerated() where v > bestValue { best = i; bestValue = v }
        return best
    }
}
