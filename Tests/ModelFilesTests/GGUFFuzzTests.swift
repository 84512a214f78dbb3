import Foundation
import ModelFiles
import Testing
import TestSupport

/// Truncated and corrupted copies of real and synthetic files: every one must
/// either load or throw GGUFError, and whatever loads must keep its tensors in bounds.
@Suite("GGUF reader under corrupted input")
struct GGUFFuzzTests {
    /// Loads `bytes` or returns the error; a loaded file's tensor views are touched end to end.
    @discardableResult
    func load(_ bytes: [UInt8], _ label: String) -> Bool {
        do {
            let file = try GGUFFile(bytes: bytes, name: label)
            for tensor in file.tensors {
                let data = file.data(for: tensor)
                #expect(data.count == tensor.byteCount)
                let start = file.dataOffset + tensor.offset
                #expect(start >= file.dataOffset && start + tensor.byteCount <= bytes.count, "\(label) \(tensor.name)")
                if let first = data.first, let last = data.last { _ = first &+ last }
            }
            for key in file.metadata.keys { _ = file.metadata[key] }
            return true
        } catch {
            #expect(!error.description.isEmpty)
            return false
        }
    }

    func truncationPoints(count: Int, cases: Int, random: inout GGUFTestFiles.SeededRandom) -> [Int] {
        var points = Set((0..<min(count, 64)))
        while points.count < min(count, cases) { points.insert(Int.random(in: 0..<count, using: &random)) }
        return points.sorted()
    }

    func mutate(_ bytes: [UInt8], random: inout GGUFTestFiles.SeededRandom, headerBias: Int) -> [UInt8] {
        var copy = bytes
        // Most damage lands in the header, where the parser's decisions are made.
        let limit = Int.random(in: 0..<4, using: &random) == 0 ? copy.count : min(copy.count, headerBias)
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let at = Int.random(in: 0..<limit, using: &random)
            switch Int.random(in: 0..<3, using: &random) {
            case 0:
                copy[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
            case 1:
                let value: UInt64 = [0, 1, .max, 1 << 32, 1 << 63, UInt64(Int.max), .random(in: 0...UInt64.max, using: &random)]
                    .randomElement(using: &random)!
                for i in 0..<8 where at + i < copy.count { copy[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
            default:
                copy[at] = UInt8.random(in: 0...255, using: &random)
            }
        }
        return copy
    }

    @Test("truncated and mutated copies of a synthetic file with tensors never crash")
    func syntheticFile() throws {
        let bytes = try GGUFTestFiles.build(metadata: [
            ("general.architecture", .string("llama")),
            ("general.alignment", .uint32(64)),
            ("tokenizer.ggml.tokens", .array((0..<50).map { .string("tok\($0)") })),
            ("nested", .array([.array([.int32(1), .int32(2)]), .array([.float32(1)])])),
        ])
        let intact = try GGUFFile(bytes: bytes, name: "intact")
        // Only the padding after the last tensor may be cut without losing data.
        let dataEnd = intact.tensors.map { intact.dataOffset + $0.offset + $0.byteCount }.max()!
        var random = GGUFTestFiles.SeededRandom(seed: 42)
        for cut in truncationPoints(count: bytes.count, cases: 300, random: &random) {
            let loaded = load(Array(bytes.prefix(cut)), "cut at \(cut)")
            #expect(loaded == (cut >= dataEnd), "cut at \(cut)")
        }
        let headerEnd = intact.dataOffset
        for index in 0..<500 {
            load(mutate(bytes, random: &random, headerBias: headerEnd), "mutation \(index)")
        }
    }

    @Test("truncated and mutated copies of the real llama-spm vocabulary never crash",
          .enabled(if: TestAssets.has(TestAssets.vocab("llama-spm"))))
    func realVocabulary() throws {
        let bytes = Array(try Data(contentsOf: TestAssets.vocab("llama-spm")))
        let intact = load(bytes, "intact")
        #expect(intact)
        var random = GGUFTestFiles.SeededRandom(seed: 7)
        // The file has no tensors and ends at its last metadata byte: every proper prefix is truncated.
        for cut in truncationPoints(count: bytes.count, cases: 200, random: &random) {
            let loaded = load(Array(bytes.prefix(cut)), "cut at \(cut)")
            #expect(!loaded, "cut at \(cut)")
        }
        for index in 0..<300 {
            load(mutate(bytes, random: &random, headerBias: 4096), "mutation \(index)")
        }
    }
}
