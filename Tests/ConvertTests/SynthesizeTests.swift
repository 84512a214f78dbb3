import Foundation
import Testing
@testable import Convert
import ModelFiles
import TestSupport

private let llamaVocab = TestAssets.vocab("llama-spm")

@Suite("Synthesizer", .enabled(if: TestAssets.has(llamaVocab)))
struct SynthesizeTests {
    private func synthesize(_ preset: SynthesisPreset = .tiny, seed: UInt64 = 0, threads: Int = 2) throws -> URL {
        let dir = URL(fileURLWithPath: try GGUFTestFiles.temporaryDirectory())
        _ = try Synthesizer(preset: preset, vocabularyGGUF: llamaVocab.path, seed: seed, threads: threads)
            .synthesize(to: dir.path)
        return dir
    }

    private func remove(_ dir: URL) { try? FileManager.default.removeItem(at: dir) }

    @Test("the tiny preset writes every Hugging Face tensor name and shape in F16, with Llama-like statistics")
    func tensorsAndStatistics() throws {
        let dir = try synthesize()
        defer { remove(dir) }
        let checkpoint = try SafetensorsCheckpoint(directory: dir.path)
        let expected = SynthesisPreset.tiny.tensors
        #expect(checkpoint.tensorNames == expected.map(\.name).sorted())
        #expect(checkpoint.tensorNames.contains("lm_head.weight"))
        #expect(checkpoint.tensorNames.contains("model.layers.1.self_attn.k_proj.weight"))
        for (name, shape) in expected {
            let (file, info) = try #require(checkpoint.tensor(named: name))
            #expect(info.dtype == .f16 && info.shape == shape, "\(name)")
            var values = [Float](repeating: 0, count: info.elementCount)
            try values.withUnsafeMutableBufferPointer { try file.readFloats(info, into: $0) }
            let mean = values.reduce(0, +) / Float(values.count)
            let std = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(values.count)).squareRoot()
            if shape.count == 1 {
                #expect(abs(mean - 1) < 0.01 && std < 0.01, "\(name): mean \(mean) std \(std)")
            } else {
                #expect(abs(mean) < 0.002 && abs(std - 0.02) < 0.002, "\(name): mean \(mean) std \(std)")
                #expect(values.allSatisfy { abs($0) < 0.08 }, "\(name): values beyond 4 sigma")
            }
        }
    }

    @Test("the same seed gives identical bytes whatever the thread count; another seed differs")
    func determinism() throws {
        let one = try synthesize(seed: 7, threads: 1)
        let two = try synthesize(seed: 7, threads: 2)
        let other = try synthesize(seed: 8, threads: 2)
        defer { [one, two, other].forEach(remove) }
        func weights(_ dir: URL) throws -> Data { try Data(contentsOf: dir.appendingPathComponent("model.safetensors")) }
        #expect(try weights(one) == weights(two))
        #expect(try weights(one) != weights(other))
        #expect(try weights(one).count == weights(other).count)
    }

    @Test("tokenizer.model decodes to the GGUF's 32000 Llama-2 pieces, scores and types, as BPE with byte fallback")
    func tokenizerModel() throws {
        let dir = try synthesize()
        defer { remove(dir) }
        let proto = try SentencePieceModelProto(contentsOf: dir.appendingPathComponent("tokenizer.model").path)
        let vocab = try GGUFFile(path: llamaVocab.path).metadata
        #expect(proto.pieces.count == 32000)
        #expect(proto.pieces.map(\.piece) == (try vocab.requireStrings("tokenizer.ggml.tokens")))
        #expect(proto.pieces.map(\.score) == (try vocab.requireFloats("tokenizer.ggml.scores")))
        #expect(proto.pieces.map(\.type.rawValue) == (try vocab.requireInts("tokenizer.ggml.token_type")))
        #expect(proto.modelType == 2 && proto.unkID == 0 && proto.bosID == 1 && proto.eosID == 2 && proto.padID == -1)
        #expect(proto.byteFallback && proto.addDummyPrefix)
    }

    @Test("config.json decodes as a Llama configuration with the preset's shapes and the synthetic marker")
    func configuration() throws {
        let dir = try synthesize(.tiny)
        defer { remove(dir) }
        let config = try HFConfiguration.load(directory: dir.path)
        let p = SynthesisPreset.tiny
        #expect(config.architectures == ["LlamaForCausalLM"])
        #expect(config.hiddenSize == p.hiddenSize && config.numHiddenLayers == p.layers)
        #expect(config.numAttentionHeads == p.heads && config.numKeyValueHeads == p.kvHeads)
        #expect(config.intermediateSize == p.intermediateSize && config.vocabSize == 32000)
        #expect(config.maxPositionEmbeddings == p.contextLength && config.rmsNormEps == 1e-5 && config.ropeTheta == 10000)
        #expect(!config.tieWordEmbeddings && config.torchDtype == "float16")
        #expect(config.bosTokenID == 1 && config.eosTokenIDs == [2])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("config.json"))) as? [String: Any]
        #expect(json?["lambda_llm_synthetic"] as? Bool == true)
        let readme = try String(contentsOf: dir.appendingPathComponent("README.txt"), encoding: .utf8)
        #expect(readme.contains("synthetic weights: accuracy not meaningful"))
    }

    @Test("the tokenizer files import as a SentencePiece Llama tokenizer that adds BOS")
    func tokenizerImport() throws {
        let dir = try synthesize()
        defer { remove(dir) }
        let config = try HFConfiguration.load(directory: dir.path)
        let entries = try HFTokenizerImport.metadata(directory: dir.path, configuration: config)
        let metadata = Dictionary(entries, uniquingKeysWith: { a, _ in a })
        #expect(metadata["tokenizer.ggml.model"] == .string("llama"))
        #expect(metadata["tokenizer.ggml.add_bos_token"] == .bool(true))
        #expect(metadata["tokenizer.ggml.bos_token_id"]?.intValue == 1)
        #expect(metadata["tokenizer.ggml.eos_token_id"]?.intValue == 2)
    }

    @Test("tied presets write no lm_head; SmolLM2's shapes use grouped KV projections")
    func presets() {
        let smol = SynthesisPreset.smolLM2_135M
        #expect(!smol.tensors.contains { $0.name == "lm_head.weight" })
        #expect(smol.tensors.first { $0.name == "model.layers.0.self_attn.k_proj.weight" }?.shape == [192, 576])
        #expect(smol.tensors.count == 2 + 30 * 9)
        let llama = SynthesisPreset.llama2_7B
        #expect(llama.parameterCount == 6_738_415_616)
        #expect(llama.tensors.first { $0.name == "model.layers.31.mlp.down_proj.weight" }?.shape == [4096, 11008])
        #expect(SynthesisPreset.named("llama-2-7b") == llama && SynthesisPreset.named("7b") == nil)
    }

    @Test("a missing vocabulary names the path and says to run scripts/setup-assets")
    func missingVocabulary() throws {
        let synthesizer = Synthesizer(preset: .tiny, vocabularyGGUF: "/nonexistent/vocab.gguf", threads: 1)
        let error = try #require(throws: SynthesisError.self) { try synthesizer.synthesize(to: "/tmp/never-written") }
        #expect(error == .vocabularyMissing(path: "/nonexistent/vocab.gguf"))
        #expect(error.description.contains("scripts/setup-assets"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never-written"))
    }

    @Test("a vocabulary of another size than the preset's is refused before anything is written")
    func vocabularySize() throws {
        var preset = SynthesisPreset.tiny
        preset.vocabSize = 100
        let synthesizer = Synthesizer(preset: preset, vocabularyGGUF: llamaVocab.path, threads: 1)
        #expect(throws: SynthesisError.vocabularySizeMismatch(path: llamaVocab.path, found: 32000, preset: "tiny", expected: 100)) {
            try synthesizer.synthesize(to: "/tmp/never-written")
        }
    }

    @Test("the default vocabulary path follows LAMBDA_LLM_CACHE, then XDG_CACHE_HOME")
    func defaultPath() {
        #expect(Synthesizer.defaultVocabularyPath(environment: ["LAMBDA_LLM_CACHE": "/c"]) == "/c/vocab/ggml-vocab-llama-spm.gguf")
        #expect(Synthesizer.defaultVocabularyPath(environment: ["XDG_CACHE_HOME": "/x"]) == "/x/lambda-llm/vocab/ggml-vocab-llama-spm.gguf")
    }
}
