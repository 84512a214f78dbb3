import Engine
import Kernels
import ModelFiles
import Testing
import TestSupport

/// Loading tiny random-weight models: what the engine accepts, and the clear
/// errors for what it does not.
struct LlamaModelLoadingTests {
    @Test("a tiny model of each weight type loads and produces finite logits", arguments: [GGMLType.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1])
    func tinyModelRuns(type: GGMLType) throws {
        var tiny = TinyLlamaFile()
        tiny.weightType = type
        tiny.tiedOutput = false
        let model = try LlamaModel(path: try tiny.write())
        let session = try InferenceSession(model: model, contextLength: 16, pool: ThreadPool(threads: 2))
        let logits = try session.evaluate([0, 5, 9, 13])
        #expect(logits.count == 64)
        let finite = logits.allSatisfy { $0.isFinite }
        #expect(finite)
    }

    @Test("missing tensors are all listed in one error")
    func missingTensors() throws {
        let path = try TinyLlamaFile().write(omitting: ["blk.1.ffn_up.weight", "output_norm.weight"])
        #expect(throws: EngineError.missingTensors(["blk.1.ffn_up.weight", "output_norm.weight"])) {
            _ = try LlamaModel(file: try GGUFFile(path: path))
        }
    }

    @Test("an architecture other than llama is refused by name")
    func unsupportedArchitecture() throws {
        let path = try TinyLlamaFile().write { $0.set("general.architecture", .string("gpt-neox")) }
        #expect(throws: EngineError.unsupportedArchitecture("gpt-neox")) {
            _ = try LlamaModel(file: try GGUFFile(path: path))
        }
    }

    @Test("a head count that does not divide the embedding is an invalid configuration")
    func badHeadCount() throws {
        let path = try TinyLlamaFile().write { $0.set("llama.attention.head_count", .uint32(5)) }
        do {
            _ = try LlamaModel(file: try GGUFFile(path: path))
            Issue.record("expected an error")
        } catch let error as EngineError {
            guard case .invalidConfiguration(let key, _) = error else {
                Issue.record("unexpected \(error)"); return
            }
            #expect(key == "llama.attention.head_count")
        }
    }

    @Test("a tensor whose shape disagrees with the configuration is named in the error")
    func shapeMismatch() throws {
        let path = try TinyLlamaFile().write { $0.set("llama.feed_forward_length", .uint32(32)) }
        #expect(throws: EngineError.tensorShapeMismatch(name: "blk.0.ffn_gate.weight", expected: [32, 32], found: [32, 64])) {
            _ = try LlamaModel(file: try GGUFFile(path: path))
        }
    }

    @Test("a missing required hyper-parameter names its key")
    func missingKey() throws {
        let path = try TinyLlamaFile().write { $0.removeValue(forKey: "llama.block_count") }
        #expect(throws: EngineError.invalidConfiguration(key: "llama.block_count", reason: "missing or not an integer")) {
            _ = try LlamaModel(file: try GGUFFile(path: path))
        }
    }

    @Test("a RoPE scaling the engine does not implement is refused by key, not run wrongly")
    func ropeScalingRefused() throws {
        let path = try TinyLlamaFile().write {
            $0.set("llama.rope.scaling.type", .string("yarn"))
            $0.set("llama.rope.scaling.factor", .float32(4))
        }
        do {
            _ = try LlamaModel(file: try GGUFFile(path: path))
            Issue.record("expected an error")
        } catch let error as EngineError {
            guard case .invalidConfiguration(let key, let reason) = error else {
                Issue.record("unexpected \(error)"); return
            }
            #expect(key == "llama.rope.scaling.type")
            #expect(reason.contains("yarn"))
        }
        // "none" (what llama.cpp writes for unscaled models) still loads.
        let plain = try TinyLlamaFile().write { $0.set("llama.rope.scaling.type", .string("none")) }
        _ = try LlamaModel(file: try GGUFFile(path: plain))
    }
}
