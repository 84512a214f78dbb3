import Foundation
import ModelFiles
import TestSupport
import Tokenizer
@testable import Convert

/// Builds checkpoint directories for the converter's tests.
enum ConvertFixtures {
    static func llamaConfig(_ overrides: [String: Any] = [:], removing: [String] = []) -> [String: Any] {
        var config: [String: Any] = [
            "architectures": ["LlamaForCausalLM"],
            "hidden_size": 576, "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
            "intermediate_size": 1536, "vocab_size": 49152, "max_position_embeddings": 8192,
            "rms_norm_eps": 1e-5, "rope_theta": 100000.0, "tie_word_embeddings": true,
            "torch_dtype": "bfloat16", "bos_token_id": 1, "eos_token_id": 2, "rope_scaling": NSNull(),
        ]
        for (key, value) in overrides { config[key] = value }
        for key in removing { config.removeValue(forKey: key) }
        return config
    }

    /// A fresh directory holding each file: JSON objects are serialised, byte arrays written as is.
    static func directory(_ files: [String: Any]) throws -> String {
        let directory = try GGUFTestFiles.temporaryDirectory()
        for (name, content) in files {
            let data: Data
            if let bytes = content as? [UInt8] {
                data = Data(bytes)
            } else if let text = content as? String {
                data = Data(text.utf8)
            } else {
                data = try JSONSerialization.data(withJSONObject: content, options: [.sortedKeys])
            }
            try data.write(to: URL(fileURLWithPath: directory + "/" + name))
        }
        return directory
    }

    /// Serialises metadata to a vocab-only GGUF and loads its tokenizer the way the product does.
    static func tokenizer(from entries: [(String, GGUFValue)]) throws -> (GGUFFile, any Tokenizer) {
        let bytes = try GGUFTestFiles.build(metadata: entries.map { (key: $0.0, value: $0.1) }, tensors: [])
        let file = try GGUFFile(bytes: bytes, name: "converted.gguf")
        return (file, try TokenizerLoader.load(from: file))
    }

    static func value(_ entries: [(String, GGUFValue)], _ key: String) -> GGUFValue? {
        entries.first { $0.0 == key }?.1
    }
}
