import Kernels
import ModelFiles
import Testing
import TestSupport

/// Hand-made malformed files: each must fail with the one problem it contains.
@Suite("GGUF validation of untrusted bytes")
struct GGUFValidationTests {
    func problem(_ bytes: [UInt8]) -> GGUFError.Problem? {
        do {
            _ = try GGUFFile(bytes: bytes, name: "bad.gguf")
            return nil
        } catch {
            #expect(error.file == "bad.gguf")
            return error.problem
        }
    }

    /// A file with one metadata key and the given tensor infos, then `dataBytes` of data.
    func fileWithTensors(_ infos: [(String, [UInt64], UInt32, UInt64)], dataBytes: Int) -> [UInt8] {
        var b = GGUFBytes(tensorCount: UInt64(infos.count), keyCount: 1)
        b.keyString("general.architecture", "llama")
        for (name, dims, type, offset) in infos { b.tensorInfo(name, dims: dims, type: type, offset: offset) }
        b.pad()
        b.zeros(dataBytes)
        return b.bytes
    }

    @Test("a file that does not start with GGUF is rejected as not GGUF")
    func badMagic() {
        #expect(problem(GGUFBytes(tensorCount: 0, keyCount: 0, magic: "GGML").bytes) == .badMagic(found: Array("GGML".utf8)))
        #expect(problem(Array("{\"a\"".utf8)) == .badMagic(found: Array("{\"a\"".utf8)))
        #expect(problem([0x47, 0x00]) == .badMagic(found: [0x47, 0x00]))
    }

    @Test("a PyTorch checkpoint given as a model is named as a pickle that is never loaded")
    func pickleMagic() {
        for start: [UInt8] in [[0x50, 0x4B, 0x03, 0x04], [0x80, 0x02, 0x7D, 0x71]] {
            let text = GGUFError(file: "pytorch_model.bin", problem: .badMagic(found: start)).description
            #expect(text.contains("PyTorch checkpoint") && text.contains("safetensors"), "\(text)")
        }
        #expect(!GGUFError(file: "m", problem: .badMagic(found: Array("GGML".utf8))).description.contains("PyTorch"))
    }

    @Test("empty and cut-short headers report truncation with offset and size")
    func truncatedHeader() {
        #expect(problem([]) == .truncated(what: "GGUF magic", offset: 0, needed: 4, fileSize: 0))
        #expect(problem(Array("GG".utf8)) == .truncated(what: "GGUF magic", offset: 0, needed: 4, fileSize: 2))
        let header = GGUFBytes(tensorCount: 0, keyCount: 0).bytes
        #expect(problem(Array(header.prefix(8))) == .truncated(what: "tensor count", offset: 8, needed: 8, fileSize: 8))
        #expect(problem(Array(header.prefix(20))) == .truncated(what: "metadata key count", offset: 16, needed: 8, fileSize: 20))
    }

    @Test("versions other than 2 and 3 are unsupported; version 2 reads")
    func versions() throws {
        #expect(problem(GGUFBytes(version: 1, tensorCount: 0, keyCount: 0).bytes) == .unsupportedVersion(1))
        #expect(problem(GGUFBytes(version: 4, tensorCount: 0, keyCount: 0).bytes) == .unsupportedVersion(4))
        let v2 = try GGUFFile(bytes: GGUFBytes(version: 2, tensorCount: 0, keyCount: 0).bytes, name: "v2.gguf")
        #expect(v2.version == 2)
        let message = GGUFError(file: "old.gguf", problem: .unsupportedVersion(1)).description
        #expect(message.contains("version 1") && message.contains("2 and 3"))
    }

    @Test("byte-swapped big-endian files are recognised and rejected clearly")
    func bigEndian() {
        #expect(problem(GGUFBytes(version: 0x0300_0000, tensorCount: 0, keyCount: 0).bytes) == .bigEndian)
        #expect(problem(GGUFBytes(version: 0x0200_0000, tensorCount: 0, keyCount: 0).bytes) == .bigEndian)
        #expect(problem(GGUFBytes(version: 3, tensorCount: 0, keyCount: 0, magic: "FUGG").bytes) == .bigEndian)
    }

    @Test("absurd key and tensor counts are rejected before allocating")
    func absurdCounts() {
        #expect(problem(GGUFBytes(tensorCount: 0, keyCount: .max).bytes) == .tooManyKeys(count: .max, limit: GGUFLimits.maxKeys))
        // 1000 keys cannot fit in the few bytes that follow: reported as truncation, before reading any.
        #expect(problem(GGUFBytes(tensorCount: 0, keyCount: 1000).bytes + [UInt8](repeating: 0, count: 100))
                == .truncated(what: "metadata (1000 keys)", offset: 24, needed: 13_000, fileSize: 124))
        #expect(problem(GGUFBytes(tensorCount: .max, keyCount: 0).bytes) == .tooManyTensors(count: .max, limit: GGUFLimits.maxTensors))
        #expect(problem(GGUFBytes(tensorCount: 10, keyCount: 0).bytes + [UInt8](repeating: 0, count: 64))
                == .truncated(what: "tensor infos (10 tensors)", offset: 24, needed: 320, fileSize: 88))
    }

    @Test("over-long keys and strings, and strings past the end, are errors")
    func strings() {
        var longKey = GGUFBytes(tensorCount: 0, keyCount: 1)
        longKey.u64(70_000)
        longKey.zeros(70_100)
        #expect(problem(longKey.bytes) == .stringTooLong(what: "metadata key #0", length: 70_000, limit: GGUFLimits.maxKeyLength))

        var hugeValue = GGUFBytes(tensorCount: 0, keyCount: 1)
        hugeValue.string("k")
        hugeValue.u32(8)
        hugeValue.u64(1 << 40)
        hugeValue.zeros(64)
        #expect(problem(hugeValue.bytes) == .stringTooLong(what: "metadata 'k'", length: 1 << 40, limit: GGUFLimits.maxStringLength))

        var pastEnd = GGUFBytes(tensorCount: 0, keyCount: 1)
        pastEnd.string("k")
        pastEnd.u32(8)
        pastEnd.u64(100)
        pastEnd.zeros(10)
        #expect(problem(pastEnd.bytes) == .truncated(what: "metadata 'k'", offset: 45, needed: 100, fileSize: 55))
    }

    @Test("arrays longer than the file could hold, or nested too deep, are errors")
    func arrays() {
        var huge = GGUFBytes(tensorCount: 0, keyCount: 1)
        huge.string("a")
        huge.u32(9); huge.u32(0); huge.u64(1 << 40)
        #expect(problem(huge.bytes) == .arrayTooLong(key: "a", count: 1 << 40, limit: GGUFLimits.maxArrayCount))

        var overRemaining = GGUFBytes(tensorCount: 0, keyCount: 1)
        overRemaining.string("a")
        overRemaining.u32(9); overRemaining.u32(4); overRemaining.u64(100)
        overRemaining.zeros(20)
        #expect(problem(overRemaining.bytes) == .truncated(what: "array 'a' of 100 uint32", offset: 49, needed: 400, fileSize: 69))

        var deep = GGUFBytes(tensorCount: 0, keyCount: 1)
        deep.string("deep")
        deep.u32(9)
        for _ in 0..<12 { deep.u32(9); deep.u64(1) }
        deep.zeros(64)
        #expect(problem(deep.bytes) == .nestingTooDeep(key: "deep", limit: GGUFLimits.maxArrayNesting))
    }

    @Test("unknown value types, in keys or array elements, name the key and id")
    func unknownValueTypes() {
        var scalar = GGUFBytes(tensorCount: 0, keyCount: 1)
        scalar.string("k"); scalar.u32(13); scalar.zeros(8)
        #expect(problem(scalar.bytes) == .unknownValueType(key: "k", id: 13))
        var element = GGUFBytes(tensorCount: 0, keyCount: 1)
        element.string("arr"); element.u32(9); element.u32(99); element.u64(1); element.zeros(8)
        #expect(problem(element.bytes) == .unknownValueType(key: "arr", id: 99))
    }

    @Test("a repeated metadata key is an error")
    func duplicateKey() {
        var b = GGUFBytes(tensorCount: 0, keyCount: 2)
        b.keyUInt32("x", 1)
        b.keyUInt32("x", 2)
        #expect(problem(b.bytes) == .duplicateKey("x"))
    }

    @Test("general.alignment must be a uint32 power of two")
    func alignment() {
        for bad: UInt32 in [0, 48, 3] {
            var b = GGUFBytes(tensorCount: 0, keyCount: 1)
            b.keyUInt32("general.alignment", bad)
            #expect(problem(b.bytes) == .badAlignment(UInt64(bad)))
        }
        var wide = GGUFBytes(tensorCount: 0, keyCount: 1)
        wide.string("general.alignment"); wide.u32(10); wide.u64(32)
        #expect(problem(wide.bytes) == .wrongType(key: "general.alignment", expected: "uint32", found: "uint64"))
    }

    @Test("unknown tensor types name the tensor, the id and ggml's name for it")
    func unknownTensorType() {
        #expect(problem(fileWithTensors([("blk.0.w", [32], 6, 0)], dataBytes: 64)) == .unknownTensorType(name: "blk.0.w", id: 6))
        #expect(problem(fileWithTensors([("w", [32], 999, 0)], dataBytes: 64)) == .unknownTensorType(name: "w", id: 999))
        let message = GGUFError(file: "m.gguf", problem: .unknownTensorType(name: "blk.0.w", id: 6)).description
        #expect(message.contains("Q5_0") && message.contains("blk.0.w"))
    }

    @Test("bad dimension counts and shapes are errors naming the tensor")
    func shapes() {
        #expect(problem(fileWithTensors([("w", [1, 1, 1, 1, 1], 0, 0)], dataBytes: 32)) == .tooManyDims(name: "w", count: 5))
        #expect(problem(fileWithTensors([("w", [], 0, 0)], dataBytes: 32)) == .badShape(name: "w", shape: [], issue: .noDimensions))
        #expect(problem(fileWithTensors([("w", [4, 0], 0, 0)], dataBytes: 32)) == .badShape(name: "w", shape: [4, 0], issue: .zeroDimension))
        #expect(problem(fileWithTensors([("w", [1 << 40, 1 << 40], 0, 0)], dataBytes: 32))
                == .badShape(name: "w", shape: [1 << 40, 1 << 40], issue: .overflow))
        #expect(problem(fileWithTensors([("w", [1 << 62], 0, 0)], dataBytes: 32)) == .badShape(name: "w", shape: [1 << 62], issue: .overflow))
        #expect(problem(fileWithTensors([("w", .init(repeating: UInt64.max, count: 1), 0, 0)], dataBytes: 32))
                == .badShape(name: "w", shape: [.max], issue: .overflow))
        #expect(problem(fileWithTensors([("w", [31, 2], 8, 0)], dataBytes: 128))
                == .badShape(name: "w", shape: [31, 2], issue: .rowNotMultipleOfBlock(type: .q8_0)))
    }

    @Test("tensor data must lie inside the file, with a message giving bytes and size")
    func outOfBounds() throws {
        let bytes = fileWithTensors([("w", [8], 0, 0)], dataBytes: 16)
        let dataStart = bytes.count - 16
        #expect(problem(bytes) == .tensorOutOfBounds(name: "w", start: dataStart, end: dataStart + 32, fileSize: bytes.count))
        let message = GGUFError(file: "SmolLM2.gguf", problem: .tensorOutOfBounds(name: "blk.0.attn_q.weight", start: 1000, end: 1234, fileSize: 1000)).description
        #expect(message == "SmolLM2.gguf: tensor 'blk.0.attn_q.weight' data spans bytes 1000..<1234 but the file has 1000 bytes")
        #expect(problem(fileWithTensors([("w", [1], 0, UInt64.max - 31)], dataBytes: 32)) != nil)
        #expect(problem(fileWithTensors([("w", [1], 0, 1 << 61)], dataBytes: 32)) != nil)
    }

    @Test("tensor offsets must be multiples of the alignment")
    func misaligned() {
        #expect(problem(fileWithTensors([("w", [1], 0, 4)], dataBytes: 64)) == .tensorMisaligned(name: "w", offset: 4, alignment: 32))
    }

    @Test("overlapping tensors and repeated tensor names are errors")
    func overlapAndDuplicates() {
        #expect(problem(fileWithTensors([("a", [16], 0, 0), ("b", [16], 0, 32)], dataBytes: 128)) == .tensorsOverlap("a", "b"))
        #expect(problem(fileWithTensors([("b", [16], 0, 32), ("a", [16], 0, 0)], dataBytes: 128)) == .tensorsOverlap("a", "b"))
        #expect(problem(fileWithTensors([("a", [1], 0, 0), ("a", [1], 0, 32)], dataBytes: 64)) == .duplicateTensorName("a"))
    }

    @Test("a file cut inside the tensor infos reports what was being read")
    func truncatedTensorInfo() {
        let bytes = fileWithTensors([("weights", [8, 8], 0, 0)], dataBytes: 256)
        let infoStart = GGUFBytes(tensorCount: 1, keyCount: 1).bytes.count + 8 + 20 + 4 + 8 + 5
        let found = problem(Array(bytes.prefix(infoStart + 8 + 7 + 4 + 3)) + [UInt8](repeating: 0, count: 16))
        guard case .truncated(let what, _, _, _)? = found else {
            Issue.record("expected truncation, got \(String(describing: found))")
            return
        }
        #expect(what == "tensor info 'weights'")
    }

    @Test("tensor-free files, even without trailing padding, are valid; invalid UTF-8 is repaired")
    func vocabOnlyAndUTF8() throws {
        var b = GGUFBytes(tensorCount: 0, keyCount: 2)
        b.keyString("general.architecture", "llama")
        b.string("tokenizer.ggml.tokens"); b.u32(9); b.u32(8); b.u64(2)
        b.u64(2); b.raw([0xC3, 0x28])
        b.u64(1); b.raw([0xFF])
        let file = try GGUFFile(bytes: b.bytes, name: "vocab.gguf")
        #expect(file.tensors.isEmpty)
        #expect(file.metadata.strings("tokenizer.ggml.tokens") == ["\u{FFFD}(", "\u{FFFD}"])
    }

    @Test("data views point at each tensor's bytes in place")
    func dataViews() throws {
        var b = GGUFBytes(tensorCount: 2, keyCount: 0)
        b.tensorInfo("a", dims: [2], type: 0, offset: 32)
        b.tensorInfo("b", dims: [1], type: 0, offset: 0)
        b.pad()
        let dataStart = b.bytes.count
        b.raw([1, 2, 3, 4]); b.zeros(28); b.raw([5, 6, 7, 8, 9, 10, 11, 12])
        let file = try GGUFFile(bytes: b.bytes, name: "views.gguf")
        #expect(file.dataOffset == dataStart)
        #expect(Array(file.data(for: file.tensor(named: "a")!)) == [5, 6, 7, 8, 9, 10, 11, 12])
        #expect(Array(try #require(file.tensorData(named: "b")).bytes) == [1, 2, 3, 4])
    }
}
