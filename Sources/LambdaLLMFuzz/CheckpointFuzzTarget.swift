import Convert
import Foundation
import ModelFiles
import Tokenizer

/// A Hugging Face checkpoint's files from a stranger. The first byte picks which:
/// a safetensors file (header, then every tensor read as floats), `config.json`,
/// `tokenizer.json` (+ `tokenizer_config.json` in the same bytes after a NUL), or a
/// SentencePiece `tokenizer.model`. Tokenizer files go through the import into GGUF
/// metadata and on into a working tokenizer, as `convert` would use them.
struct CheckpointFuzzTarget: FuzzTarget {
    static let name = "checkpoint"
    static let summary = "safetensors header and data, config.json, tokenizer.json, tokenizer.model"

    /// Tensors above this many elements are not read back: the header alone is the surface.
    static let readElementLimit = 1 << 16

    private let directory: String
    /// A plausible config.json for the tokenizer import (which reads vocab_size and special ids).
    private let configuration: HFConfiguration

    init() throws {
        directory = try FuzzAssets.scratchDirectory(Self.name)
        let config = #"""
        {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "num_hidden_layers": 1,
         "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 128, "rms_norm_eps": 1e-5,
         "vocab_size": 512, "max_position_embeddings": 256, "bos_token_id": 1, "eos_token_id": 2}
        """#
        configuration = try HFConfiguration.decode(Data(config.utf8))
    }

    func run(_ bytes: [UInt8]) {
        guard let selector = bytes.first else { return }
        let rest = Array(bytes.dropFirst())
        switch selector % 4 {
        case 0: safetensors(rest)
        case 1: config(rest)
        case 2: tokenizerJSON(rest)
        default: sentencePiece(rest)
        }
    }

    private func safetensors(_ bytes: [UInt8]) {
        guard let file = try? SafetensorsFile(bytes: bytes, name: "fuzz.safetensors") else { return }
        for tensor in file.tensors where tensor.elementCount <= Self.readElementLimit {
            var floats = [Float](repeating: 0, count: tensor.elementCount)
            floats.withUnsafeMutableBufferPointer { buffer in
                _ = try? file.readFloats(tensor, into: buffer)
            }
        }
    }

    private func config(_ bytes: [UInt8]) {
        guard let configuration = try? HFConfiguration.decode(Data(bytes)) else { return }
        _ = configuration.ggufMetadata(name: "fuzz")
    }

    private func tokenizerJSON(_ bytes: [UInt8]) {
        let parts = bytes.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
        write(Array(parts[0]), to: "tokenizer.json")
        if parts.count > 1 { write(Array(parts[1]), to: "tokenizer_config.json") } else { remove("tokenizer_config.json") }
        remove("tokenizer.model")
        importTokenizer()
    }

    private func sentencePiece(_ bytes: [UInt8]) {
        guard (try? SentencePieceModelProto(bytes: bytes, file: "tokenizer.model")) != nil else { return }
        write(bytes, to: "tokenizer.model")
        importTokenizer()
    }

    private func importTokenizer() {
        guard let entries = try? HFTokenizerImport.metadata(directory: directory, configuration: configuration),
              let metadata = try? GGUFMetadata(entries.map { (key: $0.0, value: $0.1) }),
              let tokenizer = try? TokenizerLoader.load(from: metadata)
        else { return }
        let ids = tokenizer.encode("The cat sat on the mat, 123 ü <s>", addSpecial: true, parseSpecial: true)
        _ = tokenizer.decode(ids, skipSpecial: false)
    }

    private func write(_ bytes: [UInt8], to name: String) {
        _ = FileManager.default.createFile(atPath: path(name), contents: Data(bytes))
    }

    private func remove(_ name: String) {
        try? FileManager.default.removeItem(atPath: path(name))
    }

    private func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
}
