import ModelFiles

/// Hyper-parameters of a Llama-family model, read from GGUF metadata under the
/// architecture's own key names (`llama.embedding_length`, ...).
public struct LlamaConfiguration: Sendable, Equatable {
    public var architecture: String
    public var embeddingLength: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var feedForwardLength: Int
    public var vocabularySize: Int
    public var contextLength: Int
    public var rmsNormEpsilon: Float
    public var ropeFreqBase: Float
    public var ropeDimensionCount: Int

    public var headDimension: Int { embeddingLength / headCount }
    public var kvDimension: Int { kvHeadCount * headDimension }

    /// Architectures whose GGUF tensors follow llama's names and math.
    public static let supportedArchitectures: Set<String> = ["llama"]

    public init(
        architecture: String = "llama", embeddingLength: Int, layerCount: Int, headCount: Int,
        kvHeadCount: Int, feedForwardLength: Int, vocabularySize: Int, contextLength: Int,
        rmsNormEpsilon: Float = 1e-5, ropeFreqBase: Float = 10000, ropeDimensionCount: Int? = nil
    ) {
        self.architecture = architecture
        self.embeddingLength = embeddingLength
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.feedForwardLength = feedForwardLength
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.rmsNormEpsilon = rmsNormEpsilon
        self.ropeFreqBase = ropeFreqBase
        self.ropeDimensionCount = ropeDimensionCount ?? (headCount > 0 ? embeddingLength / headCount : 0)
    }

    /// Reads and validates the configuration. `vocabularySize` falls back to the
    /// token embedding's row count, as many converters omit the key.
    public init(metadata: GGUFMetadata, embeddingRows: Int?) throws(EngineError) {
        let arch = metadata.string("general.architecture")
        guard let arch, Self.supportedArchitectures.contains(arch) else {
            throw .unsupportedArchitecture(arch)
        }
        func required(_ name: String) throws(EngineError) -> Int {
            guard let value = metadata.int("\(arch).\(name)") else {
                throw .invalidConfiguration(key: "\(arch).\(name)", reason: "missing or not an integer")
            }
            return value
        }
        let dim = try required("embedding_length")
        let heads = try required("attention.head_count")
        let vocab = metadata.int("\(arch).vocab_size") ?? embeddingRows ?? 0
        // Linear and YaRN context extension change the rotary angles; running without
        // them would answer wrongly and quietly, so such files are refused by name.
        // (Llama-3.1's scaling arrives as the rope_freqs tensor, which the model applies.)
        if let scaling = metadata.string("\(arch).rope.scaling.type"), scaling != "none",
           (metadata.float("\(arch).rope.scaling.factor") ?? 1) != 1 {
            throw .invalidConfiguration(key: "\(arch).rope.scaling.type",
                                        reason: "\"\(scaling)\" RoPE scaling is not supported yet (only unscaled RoPE and Llama-3.1 rope_freqs)")
        }
        if let linear = metadata.float("\(arch).rope.scale_linear"), linear != 1 {
            throw .invalidConfiguration(key: "\(arch).rope.scale_linear", reason: "linear RoPE scaling \(linear) is not supported yet")
        }
        self.init(
            architecture: arch,
            embeddingLength: dim,
            layerCount: try required("block_count"),
            headCount: heads,
            kvHeadCount: metadata.int("\(arch).attention.head_count_kv") ?? heads,
            feedForwardLength: try required("feed_forward_length"),
            vocabularySize: vocab,
            contextLength: metadata.int("\(arch).context_length") ?? 2048,
            rmsNormEpsilon: Float(metadata.float("\(arch).attention.layer_norm_rms_epsilon") ?? 1e-5),
            ropeFreqBase: Float(metadata.float("\(arch).rope.freq_base") ?? 10000),
            ropeDimensionCount: metadata.int("\(arch).rope.dimension_count")
        )
        try validate()
    }

    /// Bounds are generous but finite: a stranger's file must not make us
    /// allocate terabytes or divide by zero.
    public func validate() throws(EngineError) {
        let prefix = architecture
        func check(_ ok: Bool, _ key: String, _ reason: String) throws(EngineError) {
            if !ok { throw .invalidConfiguration(key: "\(prefix).\(key)", reason: reason) }
        }
        try check((1...65536).contains(embeddingLength), "embedding_length", "\(embeddingLength) is outside 1...65536")
        try check((1...1024).contains(layerCount), "block_count", "\(layerCount) is outside 1...1024")
        try check((1...1024).contains(headCount), "attention.head_count", "\(headCount) is outside 1...1024")
        try check(embeddingLength % headCount == 0, "attention.head_count", "embedding_length \(embeddingLength) is not a multiple of head_count \(headCount)")
        try check(kvHeadCount >= 1 && headCount % kvHeadCount == 0, "attention.head_count_kv", "\(kvHeadCount) must divide head_count \(headCount)")
        try check(headDimension % 2 == 0, "attention.head_count", "head dimension \(headDimension) must be even for RoPE")
        try check((1...1_048_576).contains(feedForwardLength), "feed_forward_length", "\(feedForwardLength) is outside 1...1048576")
        try check((1...4_194_304).contains(vocabularySize), "vocab_size", "\(vocabularySize) is outside 1...4194304")
        try check((1...16_777_216).contains(contextLength), "context_length", "\(contextLength) is outside 1...16777216")
        try check(ropeDimensionCount > 0 && ropeDimensionCount <= headDimension && ropeDimensionCount % 2 == 0,
                  "rope.dimension_count", "\(ropeDimensionCount) must be even and at most the head dimension \(headDimension)")
        try check(rmsNormEpsilon.isFinite && rmsNormEpsilon > 0 && rmsNormEpsilon < 1, "attention.layer_norm_rms_epsilon", "\(rmsNormEpsilon) must be in (0, 1)")
        try check(ropeFreqBase.isFinite && ropeFreqBase > 1, "rope.freq_base", "\(ropeFreqBase) must be > 1")
    }
}
