import Foundation
import Kernels
import ModelFiles
import Testing
import TestSupport

@Suite("GGUF writer to reader round trip")
struct GGUFRoundTripTests {
    static let everyValue: [(key: String, value: GGUFValue)] = [
        ("general.architecture", .string("llama")),
        ("t.uint8", .uint8(250)),
        ("t.int8", .int8(-7)),
        ("t.uint16", .uint16(65_000)),
        ("t.int16", .int16(-32_000)),
        ("t.uint32", .uint32(4_000_000_000)),
        ("t.int32", .int32(-2_000_000_000)),
        ("t.uint64", .uint64(UInt64.max)),
        ("t.int64", .int64(Int64.min)),
        ("t.float32", .float32(3.25)),
        ("t.float64", .float64(-1e-300)),
        ("t.bool.true", .bool(true)),
        ("t.bool.false", .bool(false)),
        ("t.string", .string("héllo ▁wörld 🦙")),
        ("t.string.empty", .string("")),
        ("t.array.strings", .array([.string("a"), .string(""), .string("ü")])),
        ("t.array.int32", .array([.int32(1), .int32(-2), .int32(3)])),
        ("t.array.float32", .array([.float32(0.5), .float32(-1.5)])),
        ("t.array.bool", .array([.bool(true), .bool(false)])),
        ("t.array.empty", .array([])),
        ("t.array.nested", .array([.array([.uint8(1), .uint8(2)]), .array([]), .array([.uint8(3)])])),
        ("t.array.deep", .array([.array([.array([.string("deep")])])])),
    ]

    @Test("every value type and nested arrays survive writing and reading, in order")
    func everyValueType() throws {
        let bytes = try GGUFTestFiles.build(metadata: Self.everyValue, tensors: [])
        let file = try GGUFFile(bytes: bytes, name: "values.gguf")
        #expect(file.version == 3)
        #expect(file.metadata.keys == Self.everyValue.map(\.key))
        for (key, value) in Self.everyValue {
            #expect(file.metadata[key] == value, "\(key)")
        }
        #expect(file.tensors.isEmpty)
        #expect(file.architecture == "llama")
    }

    @Test("tensor shapes, types, offsets and bytes survive writing and reading")
    func tensors() throws {
        let sample = GGUFTestFiles.sampleTensors()
        let file = try GGUFFile(bytes: try GGUFTestFiles.build(tensors: sample), name: "tensors.gguf")
        #expect(file.tensors.map(\.name) == sample.map(\.name))
        for expected in sample {
            let info = try #require(file.tensor(named: expected.name))
            #expect(info.shape == expected.shape)
            #expect(info.type == expected.type)
            #expect(info.byteCount == expected.bytes.count)
            #expect(info.offset % 32 == 0)
            #expect(Array(file.data(for: info)) == expected.bytes)
        }
        let cube = try #require(file.tensor(named: "bf16.cube"))
        #expect(cube.elementCount == 24)
        #expect(cube.rowCount == 12)
        #expect(file.dataOffset % 32 == 0)
        #expect(file.tensor(named: "missing") == nil)
    }

    @Test("general.alignment sets the data section's and each tensor's alignment")
    func customAlignment() throws {
        let bytes = try GGUFTestFiles.build(metadata: [("general.alignment", .uint32(256))])
        let file = try GGUFFile(bytes: bytes, name: "aligned.gguf")
        #expect(file.alignment == 256)
        #expect(file.dataOffset % 256 == 0)
        #expect(file.tensors.allSatisfy { $0.offset % 256 == 0 })
    }

    @Test("the writer refuses an alignment that is not a uint32 power of two")
    func writerRejectsBadAlignment() {
        var writer = GGUFWriter()
        writer.set("general.alignment", .uint32(48))
        #expect(throws: GGUFWriterError.self) { try writer.serialized() }
        writer.set("general.alignment", .uint64(64))
        #expect(throws: GGUFWriterError.self) { try writer.serialized() }
    }

    @Test("setting an existing key replaces it in place; removing it drops it")
    func writerKeyOrder() throws {
        var writer = GGUFWriter()
        writer.set("a", .uint8(1))
        writer.set("b", .uint8(2))
        writer.set("a", .uint8(3))
        writer.set("c", .uint8(4))
        writer.removeValue(forKey: "b")
        let file = try GGUFFile(bytes: try writer.serialized(), name: "order.gguf")
        #expect(file.metadata.keys == ["a", "c"])
        #expect(file.metadata["a"] == .uint8(3))
    }

    @Test("a streamed tensor source writes the same file as in-memory bytes")
    func streamedTensor() throws {
        let values: [Float] = (0..<96).map { Float($0) * 0.5 }
        let bytes = values.withUnsafeBytes { Array($0) }
        var streamed = GGUFWriter()
        try streamed.addTensor(name: "w", shape: [32, 3], type: .f32) { sink in
            for row in 0..<3 { try sink.write(contentsOf: Array(values[(row * 32)..<(row * 32 + 32)])) }
        }
        var inMemory = GGUFWriter()
        try inMemory.addTensor(name: "w", shape: [32, 3], type: .f32, bytes: bytes)
        #expect(try streamed.serialized() == inMemory.serialized())
    }

    @Test("a tensor source that writes the wrong number of bytes is an error naming the tensor")
    func streamedTensorWrongSize() throws {
        var writer = GGUFWriter()
        try writer.addTensor(name: "short", shape: [4], type: .f32) { sink in try sink.write([1, 2, 3]) }
        #expect(throws: GGUFWriterError.byteCountMismatch(name: "short", expected: 16, written: 3)) {
            try writer.serialized()
        }
    }

    @Test("the writer rejects bad tensors and mixed-type arrays before writing")
    func writerValidation() throws {
        var writer = GGUFWriter()
        #expect(throws: GGUFWriterError.self) { try writer.addTensor(name: "q", shape: [31], type: .q8_0, bytes: []) }
        #expect(throws: GGUFWriterError.self) { try writer.addTensor(name: "z", shape: [0], type: .f32, bytes: []) }
        #expect(throws: GGUFWriterError.self) { try writer.addTensor(name: "d", shape: [1, 1, 1, 1, 1], type: .f32, bytes: [0, 0, 0, 0]) }
        #expect(throws: GGUFWriterError.byteCountMismatch(name: "n", expected: 8, written: 4)) {
            try writer.addTensor(name: "n", shape: [2], type: .f32, bytes: [0, 0, 0, 0])
        }
        try writer.addTensor(name: "ok", shape: [1], type: .f32, bytes: [0, 0, 0, 0])
        #expect(throws: GGUFWriterError.duplicateTensorName("ok")) {
            try writer.addTensor(name: "ok", shape: [1], type: .f32, bytes: [0, 0, 0, 0])
        }
        writer.set("mixed", .array([.uint8(1), .string("x")]))
        #expect(throws: GGUFWriterError.mixedArray(key: "mixed")) { try writer.serialized() }
    }

    @Test("writing to a path is atomic, leaves no temporary file, and reads back by path")
    func writeToPath() throws {
        let directory = try GGUFTestFiles.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.gguf"
        try "old".write(toFile: path, atomically: false, encoding: .utf8)

        var writer = GGUFWriter()
        writer.set("general.architecture", .string("llama"))
        for tensor in GGUFTestFiles.sampleTensors() {
            try writer.addTensor(name: tensor.name, shape: tensor.shape, type: tensor.type, bytes: tensor.bytes)
        }
        try writer.write(to: path)

        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["model.gguf"])
        let file = try GGUFFile(path: path)
        #expect(file.path == path)
        #expect(Array(file.bytes) == (try writer.serialized()))
        #expect(file.tensors.count == GGUFTestFiles.sampleTensors().count)
    }

    @Test("a failing tensor source leaves the destination untouched and no temporary file")
    func failedWriteCleansUp() throws {
        struct Boom: Error {}
        let directory = try GGUFTestFiles.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.gguf"
        var writer = GGUFWriter()
        try writer.addTensor(name: "w", shape: [4], type: .f32) { _ in throw Boom() }
        #expect(throws: Boom.self) { try writer.write(to: path) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test("a writer seeded from a file's metadata keeps its keys and order")
    func writerFromMetadata() throws {
        let source = try GGUFFile(bytes: try GGUFTestFiles.build(metadata: Self.everyValue, tensors: []), name: "src")
        let copy = try GGUFFile(bytes: try GGUFWriter(metadata: source.metadata).serialized(), name: "copy")
        #expect(copy.metadata.keys == source.metadata.keys)
        for key in source.metadata.keys { #expect(copy.metadata[key] == source.metadata[key]) }
    }
}
