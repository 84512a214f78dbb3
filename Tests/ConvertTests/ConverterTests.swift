import Convert
import Engine
import Foundation
import Kernels
import ModelFiles
import Testing
import TestSupport

/// The converter on GGUF sources (re-quantization), the per-tensor type policy,
/// and what an interrupted conversion leaves behind.
struct ConverterTests {
    func tinySource(_ type: GGMLType = .f32) throws -> (String, GGUFCheckpointSource) {
        var tiny = TinyLlamaFile()
        tiny.weightType = type
        tiny.tiedOutput = false
        let path = try tiny.write()
        return (path, try GGUFCheckpointSource(path: path))
    }

    func output(_ name: String) throws -> String {
        try GGUFTestFiles.temporaryDirectory() + "/" + name
    }

    @Test("each --type writes its ggml type, with 1-D tensors kept F32", arguments: QuantizationType.allCases)
    func typesPerTensor(type: QuantizationType) throws {
        let (_, source) = try tinySource()
        let out = try output("tiny-\(type.rawValue).gguf")
        let report = try Converter(type: type, threads: 2).convert(source, to: out)
        let file = try GGUFFile(path: out)
        #expect(file.metadata.int("general.file_type") == Int(type.fileType))
        for info in file.tensors {
            if info.shape.count == 1 {
                #expect(info.type == .f32, "\(info.name)")
            } else if (info.name == "token_embd.weight" || info.name == "output.weight") && (type == .int4Sym || type == .int4Asym) {
                #expect(info.type == .q8_0, "\(info.name) keeps 8 bits by default")
            } else {
                #expect(info.type == type.weightType, "\(info.name)")
            }
        }
        #expect(report.bytes == file.fileSize)
        #expect(report.tensorTypes.count == file.tensors.count)
        _ = try LlamaModel(file: file)  // and the engine takes it
    }

    @Test("--all-layers quantizes the embedding and output head as well")
    func allLayers() throws {
        let (_, source) = try tinySource()
        let out = try output("tiny-all.gguf")
        _ = try Converter(type: .int4Asym, allLayers: true).convert(source, to: out)
        let file = try GGUFFile(path: out)
        #expect(file.tensor(named: "token_embd.weight")?.type == .q4_1)
        #expect(file.tensor(named: "output.weight")?.type == .q4_1)
    }

    @Test("re-quantizing a GGUF keeps its metadata and gives logits close to the source's")
    func requantizationKeepsTheModel() throws {
        let (path, source) = try tinySource()
        let out = try output("tiny-q8.gguf")
        _ = try Converter(type: .int8).convert(source, to: out)
        let original = try GGUFFile(path: path), converted = try GGUFFile(path: out)
        for key in original.metadata.keys where key != "general.file_type" {
            #expect(converted.metadata[key] == original.metadata[key], "\(key)")
        }
        let pool = ThreadPool(threads: 1)
        let a = try InferenceSession(model: LlamaModel(file: original), contextLength: 8, pool: pool, precision: .floatActivations)
        let b = try InferenceSession(model: LlamaModel(file: converted), contextLength: 8, pool: pool, precision: .floatActivations)
        let x = Array(try a.evaluate([0, 7, 11, 3])), y = Array(try b.evaluate([0, 7, 11, 3]))
        let scale = x.map(abs).max()!
        let worst = zip(x, y).map { abs($0 - $1) }.max()!
        #expect(worst / scale < 2e-2, "Q8_0 weights: worst \(worst) against scale \(scale)")
    }

    @Test("a source that fails half-way leaves neither the output nor a temporary file")
    func interruptedConversionLeavesNothing() throws {
        struct Failing: CheckpointSource {
            let inner: GGUFCheckpointSource
            var description: String { "failing" }
            var metadata: [(String, GGUFValue)] { inner.metadata }
            var tensors: [SourceTensor] {
                inner.tensors.enumerated().map { i, t in
                    i < 5 ? t : SourceTensor(name: t.name, shape: t.shape, readRows: { _, _, _ in
                        throw ConversionError.input("simulated read failure")
                    }, release: {})
                }
            }
        }
        let (_, source) = try tinySource()
        let directory = try GGUFTestFiles.temporaryDirectory()
        let out = directory + "/model.gguf"
        #expect(throws: ConversionError.self) {
            try Converter(type: .int8).convert(Failing(inner: source), to: out)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test("rows that are not whole 32-element blocks fall back to F16")
    func raggedRowsFallBack() {
        #expect(QuantizationType.int4Sym.tensorType(name: "blk.0.ffn_down.weight", shape: [40, 8], allLayers: false) == .f16)
        #expect(QuantizationType.int4Sym.tensorType(name: "blk.0.ffn_down.weight", shape: [64, 8], allLayers: false) == .q4_0)
        #expect(QuantizationType.int8.tensorType(name: "token_embd.weight", shape: [64, 8], allLayers: false) == .q8_0)
        #expect(QuantizationType.f16.tensorType(name: "output_norm.weight", shape: [64], allLayers: true) == .f32)
    }

    @Test("a vocabulary-only GGUF is refused as a conversion source")
    func vocabularyOnlySource() throws {
        guard TestAssets.has(TestAssets.vocab("llama-spm")) else { return }
        #expect(throws: ConversionError.self) {
            _ = try GGUFCheckpointSource(path: TestAssets.vocab("llama-spm").path)
        }
    }
}
