/// The shapes of a Llama model to synthesize. Every preset uses the real
/// Llama-2 SentencePiece vocabulary (32000 pieces), so token counts and the
/// embedding/output sizes match Llama-2 even where the original model differs.
public struct SynthesisPreset: Sendable, Equatable {
    public var name: String
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var intermediateSize: Int
    public var vocabSize: Int
    public var contextLength: Int
    public var ropeTheta: Double
    public var rmsNormEps: Double
    public var tieWordEmbeddings: Bool

    public init(name: String, hiddenSize: Int, layers: Int, heads: Int, kvHeads: Int, intermediateSize: Int,
                vocabSize: Int, contextLength: Int, ropeTheta: Double, rmsNormEps: Double, tieWordEmbeddings: Bool) {
        self.name = name
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.intermediateSize = intermediateSize
        self.vocabSize = vocabSize
        self.contextLength = contextLength
        self.ropeTheta = ropeTheta
        self.rmsNormEps = rmsNormEps
        self.tieWordEmbeddings = tieWordEmbeddings
    }

    public static let llama2_7B = SynthesisPreset(
        name: "llama-2-7b", hiddenSize: 4096, layers: 32, heads: 32, kvHeads: 32, intermediateSize: 11008,
        vocabSize: 32000, contextLength: 4096, ropeTheta: 10000, rmsNormEps: 1e-5, tieWordEmbeddings: false)

    /// SmolLM2-135M's shapes with the Llama-2 vocabulary in place of its own 49152.
    public static let smolLM2_135M = SynthesisPreset(
        name: "smollm2-135m", hiddenSize: 576, layers: 30, heads: 9, kvHeads: 3, intermediateSize: 1536,
        vocabSize: 32000, contextLength: 2048, ropeTheta: 100000, rmsNormEps: 1e-5, tieWordEmbeddings: true)

    /// A few MB, nearly all of it the embedding: for tests.
    public static let tiny = SynthesisPreset(
        name: "tiny", hiddenSize: 64, layers: 2, heads: 4, kvHeads: 2, intermediateSize: 128,
        vocabSize: 32000, contextLength: 256, ropeTheta: 10000, rmsNormEps: 1e-5, tieWordEmbeddings: false)

    public static let all: [SynthesisPreset] = [llama2_7B, smolLM2_135M, tiny]

    public static func named(_ name: String) -> SynthesisPreset? { all.first { $0.name == name } }

    public var headDimension: Int { hiddenSize / heads }
    public var kvDimension: Int { kvHeads * headDimension }

    /// Every tensor in Hugging Face's names and PyTorch's [out, in] shapes, in the order they are written.
    public var tensors: [(name: String, shape: [Int])] {
        var list: [(String, [Int])] = [("model.embed_tokens.weight", [vocabSize, hiddenSize])]
        for layer in 0..<layers {
            let p = "model.layers.\(layer)."
            list += [
                (p + "input_layernorm.weight", [hiddenSize]),
                (p + "self_attn.q_proj.weight", [hiddenSize, hiddenSize]),
                (p + "self_attn.k_proj.weight", [kvDimension, hiddenSize]),
                (p + "self_attn.v_proj.weight", [kvDimension, hiddenSize]),
                (p + "self_attn.o_proj.weight", [hiddenSize, hiddenSize]),
                (p + "post_attention_layernorm.weight", [hiddenSize]),
                (p + "mlp.gate_proj.weight", [intermediateSize, hiddenSize]),
                (p + "mlp.up_proj.weight", [intermediateSize, hiddenSize]),
                (p + "mlp.down_proj.weight", [hiddenSize, intermediateSize]),
            ]
        }
        list.append(("model.norm.weight", [hiddenSize]))
        if !tieWordEmbeddings { list.append(("lm_head.weight", [vocabSize, hiddenSize])) }
        return list
    }

    /// Parameters, counting a tied embedding once.
    public var parameterCount: Int { tensors.reduce(0) { $0 + $1.shape.reduce(1, *) } }
}
