import Foundation
import Testing
import ModelFiles
import TestSupport
@testable import Convert

@Suite("HFConfiguration")
struct HFConfigurationTests {
    private func decode(_ config: [String: Any]) throws(CheckpointFileError) -> HFConfiguration {
        let data = try! JSONSerialization.data(withJSONObject: config)
        return try HFConfiguration.decode(data, file: "config.json")
    }

    private func error(_ config: [String: Any]) -> CheckpointFileError? {
        do { _ = try decode(config); return nil } catch { return error }
    }

    @Test("reads a Llama config.json keeping Hugging Face's key names")
    func readsLlamaConfig() throws {
        let directory = try ConvertFixtures.directory(["config.json": ConvertFixtures.llamaConfig()])
        let config = try HFConfiguration.load(directory: directory)
        #expect(config.hiddenSize == 576 && config.numHiddenLayers == 30)
        #expect(config.numAttentionHeads == 9 && config.numKeyValueHeads == 3)
        #expect(config.intermediateSize == 1536 && config.vocabSize == 49152)
        #expect(config.maxPositionEmbeddings == 8192 && config.ropeTheta == 100000)
        #expect(config.tieWordEmbeddings && config.torchDtype == "bfloat16")
        #expect(config.bosTokenID == 1 && config.eosTokenIDs == [2] && config.ropeScaling == nil)
        #expect(config.headDimension == 64)
    }

    @Test("fills llama.cpp's defaults for optional keys and accepts several eos ids")
    func defaults() throws {
        let config = try decode(ConvertFixtures.llamaConfig(
            ["architectures": ["MistralForCausalLM"], "eos_token_id": [2, 32000], "vocab_size": 32768],
            removing: ["num_key_value_heads", "rope_theta", "tie_word_embeddings", "torch_dtype", "rope_scaling"]))
        #expect(config.numKeyValueHeads == 9)
        #expect(config.ropeTheta == 10000)
        #expect(!config.tieWordEmbeddings && config.torchDtype == nil)
        #expect(config.eosTokenIDs == [2, 32000])
    }

    @Test("writes the llama.* keys llama.cpp's converter writes, with its value types")
    func ggufMetadata() throws {
        let entries = try decode(ConvertFixtures.llamaConfig()).ggufMetadata(name: "SmolLM2 135M")
        let metadata = try GGUFMetadata(entries.map { (key: $0.0, value: $0.1) })
        #expect(metadata.string("general.architecture") == "llama")
        #expect(metadata.string("general.name") == "SmolLM2 135M")
        #expect(metadata["llama.block_count"] == .uint32(30))
        #expect(metadata["llama.context_length"] == .uint32(8192))
        #expect(metadata["llama.embedding_length"] == .uint32(576))
        #expect(metadata["llama.feed_forward_length"] == .uint32(1536))
        #expect(metadata["llama.attention.head_count"] == .uint32(9))
        #expect(metadata["llama.attention.head_count_kv"] == .uint32(3))
        #expect(metadata["llama.attention.layer_norm_rms_epsilon"] == .float32(1e-5))
        #expect(metadata["llama.rope.freq_base"] == .float32(100000))
        #expect(metadata["llama.rope.dimension_count"] == .uint32(64))
        #expect(metadata["llama.vocab_size"] == .uint32(49152))
        #expect(!metadata.contains("llama.rope.scaling.type"))
    }

    @Test("matches the SmolLM2 GGUF's own llama.* values", .enabled(if: TestAssets.has(TestAssets.smolLM2)))
    func matchesSmolLM2() throws {
        let original = try GGUFFile(path: TestAssets.smolLM2.path).metadata
        let entries = try decode(ConvertFixtures.llamaConfig()).ggufMetadata(name: "x")
        for (key, value) in entries where key.hasPrefix("llama.") && key != "llama.context_length" {
            #expect(original[key]?.floatValue == value.floatValue, "\(key)")
        }
    }

    @Test("records linear rope scaling and refuses kinds the engine cannot run, naming them")
    func ropeScaling() throws {
        let linear = try decode(ConvertFixtures.llamaConfig(["rope_scaling": ["type": "linear", "factor": 4.0]]))
        #expect(linear.ropeScaling == .init(type: "linear", factor: 4))
        let entries = linear.ggufMetadata(name: "x")
        #expect(ConvertFixtures.value(entries, "llama.rope.scaling.type") == .string("linear"))
        #expect(ConvertFixtures.value(entries, "llama.rope.scaling.factor") == .float32(4))

        let llama3 = error(ConvertFixtures.llamaConfig(["rope_scaling": [
            "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0]]))
        #expect(llama3 == .unsupportedRopeScaling(file: "config.json", type: "llama3", supported: ["linear"]))
        #expect(llama3?.description.contains("llama3") == true)
        let noFactor = error(ConvertFixtures.llamaConfig(["rope_scaling": ["type": "linear"]]))
        guard case .invalidField(_, "rope_scaling.factor", _)? = noFactor else {
            Issue.record("expected rope_scaling.factor error, got \(String(describing: noFactor))"); return
        }
    }

    @Test("refuses other architectures, listing the supported ones")
    func unsupportedArchitecture() {
        let found = error(ConvertFixtures.llamaConfig(["architectures": ["GPT2LMHeadModel"]]))
        #expect(found == .unsupportedArchitecture(file: "config.json", found: ["GPT2LMHeadModel"],
                                                  supported: ["LlamaForCausalLM", "MistralForCausalLM"]))
        #expect(found?.description.contains("MistralForCausalLM") == true)
    }

    /// Values are JSON text so that the arguments stay Sendable.
    @Test("names the field that is out of range", arguments: [
        ("hidden_size", "0"), ("num_hidden_layers", "-1"), ("num_attention_heads", "0"),
        ("num_key_value_heads", "4"), ("intermediate_size", "0"), ("vocab_size", "0"),
        ("max_position_embeddings", "0"), ("rms_norm_eps", "0.0"), ("rope_theta", "0.5"),
        ("hidden_size", "577"), ("bos_token_id", "49152"), ("eos_token_id", "[2, -1]"), ("head_dim", "63"),
        ("vocab_size", "1099511627776"),
    ])
    func outOfRange(field: String, json: String) throws {
        let value = try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
        let found = error(ConvertFixtures.llamaConfig([field: value]))
        guard case .invalidField(let file, let named, _)? = found else {
            Issue.record("\(field)=\(json): expected invalidField, got \(String(describing: found))"); return
        }
        #expect(file == "config.json" && named == field)
        #expect(found?.description.contains(field) == true)
    }

    @Test("reports a missing file, bad JSON, a missing key and a wrong type with the file and field")
    func badFiles() throws {
        let empty = try GGUFTestFiles.temporaryDirectory()
        #expect(throws: CheckpointFileError.missingFile(empty + "/config.json")) { try HFConfiguration.load(directory: empty) }

        let broken = try ConvertFixtures.directory(["config.json": "{\"hidden_size\": 5,"])
        #expect { try HFConfiguration.load(directory: broken) } throws: { error in
            guard case .invalidJSON(let file, _) = error as? CheckpointFileError else { return false }
            return file.hasSuffix("/config.json")
        }
        let missing = error(ConvertFixtures.llamaConfig(removing: ["intermediate_size"]))
        #expect(missing?.description.contains("intermediate_size") == true)
        let wrongType = error(ConvertFixtures.llamaConfig(["hidden_size": "576"]))
        #expect(wrongType?.description.contains("hidden_size") == true)
    }
}
