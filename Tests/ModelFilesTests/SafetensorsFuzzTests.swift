import Foundation
import ModelFiles
import Testing
import TestSupport

/// Truncated and corrupted copies of a valid file: each must load with every
/// tensor inside the file, or throw SafetensorsError; nothing may crash.
@Suite("Safetensors reader under corrupted input")
struct SafetensorsFuzzTests {
    @discardableResult
    func load(_ bytes: [UInt8], _ label: String) -> Bool {
        do {
            let file = try SafetensorsFile(bytes: bytes, name: label)
            var covered = file.dataOffset
            for tensor in file.tensors {
                #expect(tensor.byteRange.lowerBound >= file.dataOffset && tensor.byteRange.upperBound <= bytes.count, "\(label)")
                #expect(tensor.byteCount == tensor.elementCount * tensor.dtype.byteSize, "\(label)")
                let data = file.data(for: tensor)
                if let first = data.first, let last = data.last { _ = first &+ last }
                if tensor.dtype.floatType != nil {
                    var out = [Float](repeating: 0, count: tensor.elementCount)
                    try out.withUnsafeMutableBufferPointer { try file.readFloats(tensor, into: $0) }
                }
                covered = max(covered, tensor.byteRange.upperBound)
            }
            #expect(covered == bytes.count, "\(label)")
            return true
        } catch {
            // Anything but the reader's typed error (a crash would not get here) is a bug.
            #expect(error is SafetensorsError, "\(label): \(error)")
            return false
        }
    }

    @Test("300 truncations and 500 mutations of a small file end in a load or a typed error")
    func truncationsAndMutations() {
        let bytes = SafetensorsTestFiles.build(tensors: SafetensorsTestFiles.sampleTensors(), metadata: ["format": "pt"])
        #expect(load(bytes, "intact"))
        var random = GGUFTestFiles.SeededRandom(seed: 0x5AFE)
        var cuts = Set(0..<min(bytes.count, 64))
        while cuts.count < min(bytes.count, 300) { cuts.insert(Int.random(in: 0..<bytes.count, using: &random)) }
        for cut in cuts.sorted() {
            // The format forbids unindexed bytes, so any cut loses a tensor's data and must fail.
            #expect(!load(Array(bytes.prefix(cut)), "cut at \(cut)"), "cut at \(cut)")
        }
        let headerEnd = 8 + Int(bytes[0]) + Int(bytes[1]) << 8
        let interesting = Array("{}[]\",:0123456789-.e \\u".utf8)
        var loaded = 0
        for index in 0..<500 {
            var copy = bytes
            // Most damage lands in the header, where the decisions are made.
            let limit = Int.random(in: 0..<4, using: &random) == 0 ? copy.count : headerEnd
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let at = Int.random(in: 0..<limit, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: copy[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
                case 1: copy[at] = interesting.randomElement(using: &random)!
                default: copy[at] = UInt8.random(in: 0...255, using: &random)
                }
            }
            if load(copy, "mutation \(index)") { loaded += 1 }
        }
        // Data-only damage still loads; header damage mostly does not.
        #expect(loaded > 0 && loaded < 500)
    }
}
