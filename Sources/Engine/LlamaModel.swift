import Kernels
import ModelFiles

/// A Llama-family model bound to the tensors of a memory-mapped GGUF file.
/// Weights are never copied: each matrix is a view into the mapping, so a
/// loaded model costs about its file size in page cache and little else.
public final class LlamaModel: @unchecked Sendable {
    /// The weights of one transformer block.
    public struct Layer: @unchecked Sendable {
        public let attentionNorm: [Float]
        public let query: WeightMatrix
        public let key: WeightMatrix
        public let value: WeightMatrix
        public let attentionOutput: WeightMatrix
        public let feedForwardNorm: [Float]
        public let gate: WeightMatrix
        public let up: WeightMatrix
        public let down: WeightMatrix
    }

    public let file: GGUFFile
    public let configuration: LlamaConfiguration
    public let tokenEmbedding: WeightMatrix
    public let layers: [Layer]
    public let outputNorm: [Float]
    /// The output head; the token embedding itself when the model ties them.
    public let output: WeightMatrix
    /// Llama-3.1-style per-frequency RoPE divisors (`rope_freqs.weight`), if any.
    public let ropeFrequencyFactors: [Float]?

    public init(file: GGUFFile) throws(EngineError) {
        self.file = file
        let embeddingInfo = file.tensor(named: "token_embd.weight")
        let config = try LlamaConfiguration(
            metadata: file.metadata,
            embeddingRows: embeddingInfo.map { $0.shape.count > 1 ? $0.shape[1] : 1 }
        )
        self.configuration = config

        var binder = TensorBinder(file: file)
        let dim = config.embeddingLength, kvDim = config.kvDimension, ffn = config.feedForwardLength
        let embedding = binder.matrix("token_embd.weight", cols: dim, rows: config.vocabularySize)
        var layers: [Layer] = []
        layers.reserveCapacity(config.layerCount)
        for i in 0..<config.layerCount {
            let p = "blk.\(i)."
            let layer = Layer(
                attentionNorm: binder.vector(p + "attn_norm.weight", count: dim),
                query: binder.matrix(p + "attn_q.weight", cols: dim, rows: dim),
                key: binder.matrix(p + "attn_k.weight", cols: dim, rows: kvDim),
                value: binder.matrix(p + "attn_v.weight", cols: dim, rows: kvDim),
                attentionOutput: binder.matrix(p + "attn_output.weight", cols: dim, rows: dim),
                feedForwardNorm: binder.vector(p + "ffn_norm.weight", count: dim),
                gate: binder.matrix(p + "ffn_gate.weight", cols: dim, rows: ffn),
                up: binder.matrix(p + "ffn_up.weight", cols: dim, rows: ffn),
                down: binder.matrix(p + "ffn_down.weight", cols: ffn, rows: dim)
            )
            layers.append(layer)
        }
        let norm = binder.vector("output_norm.weight", count: dim)
        let head = file.tensor(named: "output.weight") == nil
            ? embedding
            : binder.matrix("output.weight", cols: dim, rows: config.vocabularySize)
        let factors = file.tensor(named: "rope_freqs.weight") == nil
            ? nil : binder.vector("rope_freqs.weight", count: config.ropeDimensionCount / 2)
        try binder.finish()

        self.tokenEmbedding = embedding
        self.layers = layers
        self.outputNorm = norm
        self.output = head
        self.ropeFrequencyFactors = factors
    }

    public convenience init(path: String) throws {
        try self.init(file: try GGUFFile(path: path))
    }
}

/// Collects every missing or malformed tensor before failing, so one error
/// lists all that is wrong with a file instead of the first problem only.
struct TensorBinder {
    let file: GGUFFile
    var missing: [String] = []
    var firstError: EngineError?

    init(file: GGUFFile) { self.file = file }

    private static let placeholder = WeightMatrix(base: UnsafeRawPointer(bitPattern: 64)!, type: .f32, rows: 0, cols: 0)

    mutating func matrix(_ name: String, cols: Int, rows: Int) -> WeightMatrix {
        guard let info = file.tensor(named: name) else {
            missing.append(name)
            return Self.placeholder
        }
        let shape = info.shape + Array(repeating: 1, count: max(0, 2 - info.shape.count))
        guard shape.count == 2 || shape[2...].allSatisfy({ $0 == 1 }), shape[0] == cols, shape[1] == rows else {
            record(.tensorShapeMismatch(name: name, expected: [cols, rows], found: info.shape))
            return Self.placeholder
        }
        let data = file.data(for: info)
        guard let base = data.baseAddress, data.count == info.byteCount else {
            record(.tensorShapeMismatch(name: name, expected: [cols, rows], found: info.shape))
            return Self.placeholder
        }
        return WeightMatrix(base: base, type: info.type, rows: rows, cols: cols)
    }

    /// Small 1-D tensors (norms) are copied out as F32: they are a few KB and
    /// this frees the hot loops from their storage type.
    mutating func vector(_ name: String, count: Int) -> [Float] {
        guard let info = file.tensor(named: name) else {
            missing.append(name)
            return []
        }
        guard info.elementCount == count, info.shape[0] == count else {
            record(.tensorShapeMismatch(name: name, expected: [count], found: info.shape))
            return []
        }
        guard info.type == .f32 || info.type == .f16 || info.type == .bf16 else {
            record(.unsupportedTensorType(name: name, type: info.type))
            return []
        }
        let data = file.data(for: info)
        guard let base = data.baseAddress else { return [] }
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            Dequantize.row(info.type, base, buffer.baseAddress!, count: count)
            initialized = count
        }
    }

    private mutating func record(_ error: EngineError) {
        if firstError == nil { firstError = error }
    }

    func finish() throws(EngineError) {
        if !missing.isEmpty { throw .missingTensors(missing) }
        if let firstError { throw firstError }
    }
}
