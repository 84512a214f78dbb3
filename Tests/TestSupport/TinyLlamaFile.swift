import Foundation
import Kernels
import ModelFiles

/// Builds small random-weight Llama GGUF files for engine tests: real layout,
/// real metadata keys, a toy byte-level vocabulary.
public struct TinyLlamaFile {
    public var dim = 32
    public var layers = 2
    public var heads = 4
    public var kvHeads = 2
    public var ffn = 64
    public var vocab = 64
    public var context = 128
    public var weightType: GGMLType = .f32
    public var tiedOutput = true
    public var seed: UInt64 = 1

    public init() {}

    /// Every tensor name the model needs, in the order they are written.
    public var tensorShapes: [(name: String, shape: [Int])] {
        let kvDim = dim / heads * kvHeads
        var list: [(String, [Int])] = [("token_embd.weight", [dim, vocab])]
        for i in 0..<layers {
            let p = "blk.\(i)."
            list += [
                (p + "attn_norm.weight", [dim]),
                (p + "attn_q.weight", [dim, dim]),
                (p + "attn_k.weight", [dim, kvDim]),
                (p + "attn_v.weight", [dim, kvDim]),
                (p + "attn_output.weight", [dim, dim]),
                (p + "ffn_norm.weight", [dim]),
                (p + "ffn_gate.weight", [dim, ffn]),
                (p + "ffn_up.weight", [dim, ffn]),
                (p + "ffn_down.weight", [ffn, dim]),
            ]
        }
        list.append(("output_norm.weight", [dim]))
        if !tiedOutput { list.append(("output.weight", [dim, vocab])) }
        return list
    }

    /// The writer, so a test can still change metadata or drop tensors.
    public func writer(omitting omitted: Set<String> = []) throws -> GGUFWriter {
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        w.set("general.name", .string("tiny-test"))
        w.set("llama.block_count", .uint32(UInt32(layers)))
        w.set("llama.context_length", .uint32(UInt32(context)))
        w.set("llama.embedding_length", .uint32(UInt32(dim)))
        w.set("llama.feed_forward_length", .uint32(UInt32(ffn)))
        w.set("llama.attention.head_count", .uint32(UInt32(heads)))
        w.set("llama.attention.head_count_kv", .uint32(UInt32(kvHeads)))
        w.set("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        w.set("llama.rope.freq_base", .float32(10000))
        w.set("tokenizer.ggml.model", .string("gpt2"))
        w.set("tokenizer.ggml.pre", .string("gpt2"))
        let tokens = (0..<vocab).map { i -> GGUFValue in .string(i < 2 ? ["<s>", "</s>"][i] : "t\(i)") }
        w.set("tokenizer.ggml.tokens", .array(tokens))
        w.set("tokenizer.ggml.token_type", .array((0..<vocab).map { .int32($0 < 2 ? 3 : 1) }))
        w.set("tokenizer.ggml.merges", .array([]))
        w.set("tokenizer.ggml.bos_token_id", .uint32(0))
        w.set("tokenizer.ggml.eos_token_id", .uint32(1))

        var random = GGUFTestFiles.SeededRandom(seed: seed)
        for (name, shape) in tensorShapes where !omitted.contains(name) {
            let count = shape.reduce(1, *)
            let isNorm = shape.count == 1
            let values: [Float] = (0..<count).map { _ in
                isNorm ? 1 + Float.random(in: -0.1...0.1, using: &random) : Float.random(in: -0.5...0.5, using: &random)
            }
            let type: GGMLType = isNorm ? .f32 : weightType
            let bytes = [UInt8](unsafeUninitializedCapacity: type.byteCount(elements: count)!) { buffer, initialized in
                values.withUnsafeBufferPointer { src in
                    Quantize.row(type, src.baseAddress!, buffer.baseAddress!, count: count)
                }
                initialized = buffer.count
            }
            try w.addTensor(name: name, shape: shape, type: type, bytes: bytes)
        }
        return w
    }

    /// Writes the model to a fresh temporary file and returns its path.
    public func write(omitting omitted: Set<String> = [], edit: (inout GGUFWriter) -> Void = { _ in }) throws -> String {
        var w = try writer(omitting: omitted)
        edit(&w)
        return try GGUFTestFiles.temporaryFile(try w.serialized(), name: "tiny-llama.gguf")
    }
}
