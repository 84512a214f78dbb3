import Foundation
import ModelFiles

/// A Hugging Face Llama/Mistral directory: config.json, safetensors weights and
/// a tokenizer, mapped onto llama.cpp's GGUF names and layout.
public struct HFCheckpointSource: CheckpointSource {
    public let directory: String
    public let configuration: HFConfiguration
    public let checkpoint: SafetensorsCheckpoint
    public let metadata: [(String, GGUFValue)]
    public let tensors: [SourceTensor]
    public var description: String { directory }

    /// GGUF key set on models whose weights came from `synthesize`.
    public static let syntheticKey = "lambda_llm.synthetic"
    static let syntheticSafetensorsKey = "lambda_llm_synthetic"

    public init(directory: String) throws {
        self.directory = directory
        guard FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("config.json")) else {
            throw ConversionError.unrecognisedSource(directory)
        }
        // Weights first: a directory of pickles is refused for what it is, before
        // any complaint about its config.json.
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        let configuration = try HFConfiguration.load(directory: directory)
        self.configuration = configuration
        self.checkpoint = checkpoint
        let name = URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent
        var metadata = configuration.ggufMetadata(name: name)
            + (try HFTokenizerImport.metadata(directory: directory, configuration: configuration))
        // `synthesize` marks its weights; the mark travels into every GGUF made
        // from them so no report mistakes them for a trained model.
        if checkpoint.files.contains(where: { $0.metadata[Self.syntheticSafetensorsKey] == "true" }) {
            metadata.append((Self.syntheticKey, .bool(true)))
        }
        self.metadata = metadata
        tensors = try Self.mapTensors(checkpoint, configuration)
    }

    /// HF name -> GGUF name, expected GGUF shape, and the row permutation that
    /// turns HF's rotate-half Q/K rows into the interleaved pairs ggml's RoPE uses.
    static func mapTensors(_ checkpoint: SafetensorsCheckpoint, _ c: HFConfiguration) throws -> [SourceTensor] {
        let dim = c.hiddenSize, ffn = c.intermediateSize, vocab = c.vocabSize
        let headDim = c.headDimension
        let qRows = c.numAttentionHeads * headDim, kvRows = c.numKeyValueHeads * headDim
        typealias Plan = (hf: String, gguf: String, shape: [Int], heads: Int?)
        var plan: [Plan] = [("model.embed_tokens.weight", "token_embd.weight", [dim, vocab], nil)]
        for i in 0..<c.numHiddenLayers {
            let hf = "model.layers.\(i).", gg = "blk.\(i)."
            plan += [
                (hf + "input_layernorm.weight", gg + "attn_norm.weight", [dim], nil),
                (hf + "self_attn.q_proj.weight", gg + "attn_q.weight", [dim, qRows], c.numAttentionHeads),
                (hf + "self_attn.k_proj.weight", gg + "attn_k.weight", [dim, kvRows], c.numKeyValueHeads),
                (hf + "self_attn.v_proj.weight", gg + "attn_v.weight", [dim, kvRows], nil),
                (hf + "self_attn.o_proj.weight", gg + "attn_output.weight", [qRows, dim], nil),
                (hf + "post_attention_layernorm.weight", gg + "ffn_norm.weight", [dim], nil),
                (hf + "mlp.gate_proj.weight", gg + "ffn_gate.weight", [dim, ffn], nil),
                (hf + "mlp.up_proj.weight", gg + "ffn_up.weight", [dim, ffn], nil),
                (hf + "mlp.down_proj.weight", gg + "ffn_down.weight", [ffn, dim], nil),
            ]
        }
        plan.append(("model.norm.weight", "output_norm.weight", [dim], nil))
        // Tied models reuse the embedding; some still ship lm_head, which we skip.
        if !c.tieWordEmbeddings { plan.append(("lm_head.weight", "output.weight", [dim, vocab], nil)) }

        let missing = plan.map(\.hf).filter { checkpoint.tensor(named: $0) == nil }
        guard missing.isEmpty else { throw ConversionError.missingTensors(source: checkpoint.directory, names: missing) }

        return try plan.map { entry in
            let (file, info) = checkpoint.tensor(named: entry.hf)!
            guard info.dtype.floatType != nil else {
                throw ConversionError.unsupportedDType(tensor: entry.hf, dtype: info.dtype.rawValue)
            }
            // PyTorch stores Linear weights [out, in]; ggml lists dimensions innermost first.
            let ggmlShape = Array(info.shape.reversed())
            guard ggmlShape == entry.shape else {
                throw ConversionError.shapeMismatch(tensor: entry.hf, expected: Array(entry.shape.reversed()), found: info.shape)
            }
            let rowLength = entry.shape[0]
            let permutation = entry.heads.map { RopePermutation(rows: entry.shape[1], heads: $0) }
            return SourceTensor(
                name: entry.gguf, shape: entry.shape,
                readRows: { row, count, destination in
                    for i in 0..<count {
                        let source = permutation?.sourceRow(row + i) ?? (row + i)
                        try file.readFloats(info, elements: source * rowLength..<(source + 1) * rowLength,
                                            into: destination + i * rowLength)
                    }
                },
                release: { PageRelease.release(file.data(for: info)) }
            )
        }
    }
}

/// llama.cpp's Q/K permutation: within each head, HF keeps the two rotated
/// halves apart (rotate_half); ggml's llama RoPE rotates adjacent pairs.
/// Output row h*d + 2j + k comes from input row h*d + k*d/2 + j.
struct RopePermutation: Sendable {
    let headDimension: Int

    init(rows: Int, heads: Int) {
        headDimension = rows / heads
    }

    func sourceRow(_ row: Int) -> Int {
        let head = row / headDimension, within = row % headDimension
        let j = within / 2, k = within % 2
        return head * headDimension + k * (headDimension / 2) + j
    }
}
