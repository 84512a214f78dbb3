import Foundation
import Testing
@testable import ModelFiles
import TestSupport

@Suite("SafetensorsWriter")
struct SafetensorsWriterTests {
    private func sample() throws -> SafetensorsWriter {
        var writer = SafetensorsWriter(metadata: [("format", "pt"), ("note", "quote \" and \\ slash")])
        try writer.addTensor(name: "b.weight", dtype: .f32, shape: [2, 3], bytes: [Float](arrayLiteral: 1, 2, 3, 4, 5, 6).bytes)
        try writer.addTensor(name: "a.bias", dtype: .f16, shape: [3]) { sink in
            try sink.write(contentsOf: [Float16(0.5), Float16(-1), Float16(2)])
        }
        try writer.addTensor(name: "scalar", dtype: .i64, shape: [], bytes: Int64(7).bytes)
        return writer
    }

    @Test("a written file reads back with the same names, shapes, dtypes, bytes and metadata")
    func roundTrip() throws {
        let file = try SafetensorsFile(bytes: try sample().serialized(), name: "mem")
        #expect(file.metadata == ["format": "pt", "note": "quote \" and \\ slash"])
        #expect(file.tensors.map(\.name) == ["b.weight", "a.bias", "scalar"])
        let b = try #require(file.tensor(named: "b.weight"))
        #expect(b.dtype == .f32 && b.shape == [2, 3])
        var floats = [Float](repeating: 0, count: 6)
        try floats.withUnsafeMutableBufferPointer { try file.readFloats(b, into: $0) }
        #expect(floats == [1, 2, 3, 4, 5, 6])
        let a = try #require(file.tensor(named: "a.bias"))
        #expect(a.dtype == .f16 && a.shape == [3])
        var halves = [Float](repeating: 0, count: 3)
        try halves.withUnsafeMutableBufferPointer { try file.readFloats(a, into: $0) }
        #expect(halves == [0.5, -1, 2])
        #expect(file.tensor(named: "scalar")?.shape == [])
    }

    @Test("the data section starts 8-byte aligned and the header pads with spaces")
    func alignment() throws {
        let bytes = try sample().serialized()
        let file = try SafetensorsFile(bytes: bytes, name: "mem")
        #expect(file.dataOffset % 8 == 0)
        #expect(bytes[file.dataOffset - 1] == UInt8(ascii: " ") || bytes[file.dataOffset - 1] == UInt8(ascii: "}"))
    }

    @Test("a duplicate tensor name is refused")
    func duplicate() throws {
        var writer = SafetensorsWriter()
        try writer.addTensor(name: "x", dtype: .u8, shape: [1], bytes: [1])
        #expect(throws: GGUFWriterError.duplicateTensorName("x")) {
            try writer.addTensor(name: "x", dtype: .u8, shape: [1], bytes: [1])
        }
    }

    @Test("bytes that do not match the shape are refused, up front or while streaming")
    func byteCounts() throws {
        var writer = SafetensorsWriter()
        #expect(throws: GGUFWriterError.byteCountMismatch(name: "x", expected: 4, written: 3)) {
            try writer.addTensor(name: "x", dtype: .f16, shape: [2], bytes: [1, 2, 3])
        }
        try writer.addTensor(name: "y", dtype: .f16, shape: [2]) { sink in try sink.write([1, 2]) }
        #expect(throws: GGUFWriterError.byteCountMismatch(name: "y", expected: 4, written: 2)) {
            _ = try writer.serialized()
        }
    }

    @Test("writing to a path is atomic: a failing source leaves nothing behind")
    func atomicWrite() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("st-writer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("model.safetensors").path
        try sample().write(to: path)
        #expect(try SafetensorsFile(path: path).tensors.count == 3)

        struct Boom: Error {}
        var failing = SafetensorsWriter()
        try failing.addTensor(name: "x", dtype: .u8, shape: [1]) { _ in throw Boom() }
        #expect(throws: Boom.self) { try failing.write(to: dir.appendingPathComponent("bad.safetensors").path) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.safetensors"])
    }

    @Test("Python's safetensors package loads a written file with the same values",
          .enabled(if: SafetensorsWriterTests.pythonHasSafetensors))
    func pythonReadsIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("st-py-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("model.safetensors").path
        try sample().write(to: path)
        let script = """
        import sys
        from safetensors.numpy import load_file
        from safetensors import safe_open
        t = load_file(sys.argv[1])
        with safe_open(sys.argv[1], "np") as f: meta = f.metadata()
        print(t["b.weight"].dtype, t["b.weight"].shape, t["b.weight"].ravel().tolist())
        print(t["a.bias"].dtype, t["a.bias"].tolist(), int(t["scalar"]), meta["format"])
        """
        let output = try Self.run(Self.python, ["-c", script, path])
        #expect(output == "float32 (2, 3) [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]\nfloat16 [0.5, -1.0, 2.0] 7 pt\n")
    }

    static var python: String { TestAssets.cacheDirectory.appendingPathComponent("venv/bin/python").path }

    static var pythonHasSafetensors: Bool {
        FileManager.default.isExecutableFile(atPath: python) && (try? run(python, ["-c", "import safetensors.numpy"])) != nil
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        struct Failed: Error {}
        guard process.terminationStatus == 0 else { throw Failed() }
        return String(decoding: data, as: UTF8.self)
    }
}

private extension Array where Element == Float {
    var bytes: [UInt8] { withUnsafeBytes { [UInt8]($0) } }
}

private extension Int64 {
    var bytes: [UInt8] { withUnsafeBytes(of: littleEndian) { Array($0) } }
}
