import Foundation
import Kernels
import ModelFiles
import Testing
import TestSupport

@Suite("GGUF reader on real files")
struct GGUFRealFileTests {
    @Test("SmolLM2's GGUF parses with its true shapes, types and tokenizer",
          .enabled(if: TestAssets.has(TestAssets.smolLM2)))
    func smolLM2() throws {
        let file = try GGUFFile(path: TestAssets.smolLM2.path)
        #expect(file.version == 3)
        #expect(file.architecture == "llama")
        #expect(file.tensors.count == 272)
        #expect(file.alignment == 32)
        #expect(file.dataOffset == 1_785_664)
        #expect(file.metadata.int("llama.block_count") == 30)
        #expect(file.metadata.int("llama.embedding_length") == 576)
        #expect(file.metadata.int("llama.attention.head_count_kv") == 3)
        #expect(file.metadata.string("tokenizer.ggml.pre") == "smollm")
        #expect(file.metadata.strings("tokenizer.ggml.tokens")?.count == 49152)
        #expect(file.metadata.strings("tokenizer.ggml.merges")?.count == 48900)
        #expect(file.metadata.ints("tokenizer.ggml.token_type")?.count == 49152)

        let embedding = try #require(file.tensor(named: "token_embd.weight"))
        #expect(embedding.type == .q8_0)
        #expect(embedding.shape == [576, 49152])
        #expect(embedding.rowCount == 49152)
        #expect(embedding.byteCount == 30_081_024)
        #expect(embedding.offset == 0)
        let q = try #require(file.tensor(named: "blk.0.attn_q.weight"))
        #expect(q.shape == [576, 576])
        #expect(q.type == .q4_1)
        #expect(file.tensor(named: "blk.29.ffn_down.weight")?.shape == [1536, 576])
        #expect(file.tensor(named: "output_norm.weight")?.type == .f32)

        let counts = Dictionary(grouping: file.tensors, by: \.type).mapValues(\.count)
        #expect(counts == [.q4_1: 210, .f32: 61, .q8_0: 1])
        let last = file.tensors.max { $0.offset < $1.offset }!
        #expect(file.dataOffset + last.offset + last.byteCount <= file.fileSize)
        #expect(file.data(for: embedding).count == embedding.byteCount)
    }

    @Test("every tensor matches the python gguf package's reading of SmolLM2",
          .enabled(if: TestAssets.has(TestAssets.smolLM2) && FileManager.default.isExecutableFile(atPath: Self.python)))
    func matchesPythonOracle() throws {
        let script = """
        import gguf, sys
        r = gguf.GGUFReader(sys.argv[1])
        for t in r.tensors:
            print(t.name, ",".join(str(int(d)) for d in t.shape), int(t.tensor_type), int(t.data_offset), int(t.n_bytes))
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = ["-c", script, TestAssets.smolLM2.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)

        let file = try GGUFFile(path: TestAssets.smolLM2.path)
        let ours = file.tensors.map {
            "\($0.name) \($0.shape.map(String.init).joined(separator: ",")) \($0.type.rawValue) \(file.dataOffset + $0.offset) \($0.byteCount)"
        }
        #expect(ours == output.split(separator: "\n").map(String.init))
    }

    @Test("every cached vocab-only GGUF parses, with a token list and no tensors",
          .enabled(if: TestAssets.has(TestAssets.vocab("llama-spm"))))
    func vocabFiles() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: TestAssets.vocabDirectory.path)
            .filter { $0.hasSuffix(".gguf") }.sorted()
        #expect(names.count >= 10)
        for name in names {
            let file = try GGUFFile(path: TestAssets.vocabDirectory.appendingPathComponent(name).path)
            #expect(file.tensors.isEmpty, "\(name)")
            #expect((file.metadata.strings("tokenizer.ggml.tokens")?.count ?? 0) > 1000, "\(name)")
            #expect(file.metadata.string("tokenizer.ggml.model") != nil, "\(name)")
        }
        let spm = try GGUFFile(path: TestAssets.vocab("llama-spm").path)
        #expect(spm.metadata.strings("tokenizer.ggml.tokens")?.count == 32000)
        #expect(spm.metadata.floats("tokenizer.ggml.scores")?.count == 32000)
        let aquila = try GGUFFile(path: TestAssets.vocab("aquila").path)
        #expect(aquila.version == 2)
    }

    @Test("parsing SmolLM2's 98k vocabulary and merge strings takes well under a second",
          .enabled(if: TestAssets.has(TestAssets.smolLM2)))
    func parseSpeed() throws {
        _ = try GGUFFile(path: TestAssets.smolLM2.path)   // warm the page cache
        let clock = ContinuousClock()
        var best = Duration.seconds(100)
        for _ in 0..<3 {
            let elapsed = try clock.measure { _ = try GGUFFile(path: TestAssets.smolLM2.path) }
            best = min(best, elapsed)
        }
        print("GGUF parse of SmolLM2: \(best)")
        // Release builds take ~tens of ms; the bound leaves room for debug builds on a busy machine.
        #expect(best < .seconds(2))
    }

    static let python = TestAssets.cacheDirectory.appendingPathComponent("venv/bin/python").path
}
