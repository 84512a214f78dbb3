import Foundation
import ModelFiles
import Testing
import TestSupport

@Suite("Safetensors reader on well-formed files")
struct SafetensorsReaderTests {
    func floats(_ file: SafetensorsFile, _ name: String) throws -> [Float] {
        let info = try #require(file.tensor(named: name))
        var out = [Float](repeating: .nan, count: info.elementCount)
        try out.withUnsafeMutableBufferPointer { try file.readFloats(info, into: $0) }
        return out
    }

    @Test("F32, F16 and BF16 tensors read back as the values written")
    func roundTrip() throws {
        let values = SafetensorsTestFiles.exactValues(30, seed: 5)
        let bytes = SafetensorsTestFiles.build(tensors: [
            ("a.f32", .f32, [5, 6], SafetensorsTestFiles.f32Bytes(values)),
            ("b.f16", .f16, [2, 3, 5], SafetensorsTestFiles.f16Bytes(values)),
            ("c.bf16", .bf16, [30], SafetensorsTestFiles.bf16Bytes(values)),
        ], metadata: ["format": "pt", "note": "quote \" and \\ survive"])
        let file = try SafetensorsFile(bytes: bytes, name: "mem")
        #expect(file.metadata == ["format": "pt", "note": "quote \" and \\ survive"])
        #expect(file.tensors.map(\.name) == ["a.f32", "b.f16", "c.bf16"])
        for name in ["a.f32", "b.f16", "c.bf16"] { #expect(try floats(file, name) == values, "\(name)") }
        let f16 = try #require(file.tensor(named: "b.f16"))
        #expect(f16.shape == [2, 3, 5] && f16.elementCount == 30 && f16.byteCount == 60)
        #expect(file.data(for: f16).count == 60)
        #expect(f16.byteRange.lowerBound == file.dataOffset + 120)
    }

    @Test("tensors are listed in data-offset order, not header order")
    func fileOrder() throws {
        let header = """
        {"z":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"a":{"dtype":"U8","shape":[1],"data_offsets":[2,3]},\
        "empty":{"dtype":"F32","shape":[0,4],"data_offsets":[3,3]},"m":{"dtype":"U8","shape":[],"data_offsets":[3,4]}}
        """
        let file = try SafetensorsFile(bytes: SafetensorsTestFiles.file(header: header, data: [1, 2, 3, 4]), name: "mem")
        #expect(file.tensors.map(\.name) == ["z", "a", "empty", "m"])
        #expect(file.tensor(named: "empty")?.elementCount == 0)
        #expect(file.tensor(named: "m")?.elementCount == 1)
        #expect(Array(file.data(for: file.tensor(named: "m")!)) == [4])
        #expect(file.tensor(named: "missing") == nil)
    }

    @Test("a row range converts only those elements, also from misaligned data")
    func rowStreamingAndMisalignment() throws {
        let values = SafetensorsTestFiles.exactValues(5000, seed: 9)
        // A 1-byte tensor first puts the F16 and F32 data at odd offsets.
        let bytes = SafetensorsTestFiles.build(tensors: [
            ("pad", .u8, [1], [7]),
            ("h", .f16, [1000, 5], SafetensorsTestFiles.f16Bytes(values)),
            ("pad2", .u8, [1], [7]),
            ("f", .f32, [5000], SafetensorsTestFiles.f32Bytes(values)),
        ])
        let file = try SafetensorsFile(bytes: bytes, name: "mem")
        #expect(try floats(file, "h") == values)
        #expect(try floats(file, "f") == values)
        let h = try #require(file.tensor(named: "h"))
        var row = [Float](repeating: 0, count: 5)
        try row.withUnsafeMutableBufferPointer { try file.readFloats(h, elements: 35..<40, into: $0.baseAddress!) }
        #expect(row == Array(values[35..<40]))
    }

    @Test("non-float dtypes parse but refuse conversion with a typed error")
    func nonFloatRefused() throws {
        let file = try SafetensorsFile(bytes: SafetensorsTestFiles.build(tensors: SafetensorsTestFiles.sampleTensors()), name: "mem")
        let step = try #require(file.tensor(named: "step"))
        #expect(step.dtype == .i64 && step.shape == [] && step.byteCount == 8)
        var out: [Float] = [0]
        #expect(throws: SafetensorsError(file: "mem", problem: .notConvertible(tensor: "step", dtype: .i64))) {
            try out.withUnsafeMutableBufferPointer { try file.readFloats(step, into: $0) }
        }
    }

    @Test("every dtype has the element size of the reference implementation")
    func dtypeSizes() {
        let expected: [SafetensorsDType: Int] = [
            .bool: 1, .u8: 1, .i8: 1, .f8e5m2: 1, .f8e4m3: 1, .f8e8m0: 1, .i16: 2, .u16: 2, .f16: 2, .bf16: 2,
            .i32: 4, .u32: 4, .f32: 4, .i64: 8, .u64: 8, .f64: 8, .c64: 8,
        ]
        for dtype in SafetensorsDType.allCases { #expect(dtype.byteSize == expected[dtype], "\(dtype)") }
    }

    @Test("a file on disk is mapped and reads like the same bytes in memory")
    func mappedFromDisk() throws {
        let bytes = SafetensorsTestFiles.build(tensors: SafetensorsTestFiles.sampleTensors(), metadata: ["format": "pt"])
        let path = try GGUFTestFiles.temporaryFile(bytes, name: "model.safetensors")
        let file = try SafetensorsFile(path: path)
        #expect(file.path == path && file.fileSize == bytes.count)
        #expect(try floats(file, "model.norm.weight") == SafetensorsTestFiles.exactValues(6, seed: 3))
        #expect(try floats(file, "model.embed_tokens.weight") == SafetensorsTestFiles.exactValues(24, seed: 1))
    }

    /// Written by the reference implementation (safetensors 0.8.0, numpy 2.4):
    /// save({"w.f32": (np.arange(12, dtype=np.float32).reshape(3,4) - 5.5) / 4,
    ///       "w.f16": (np.arange(10, dtype=np.float16).reshape(2,5) - 3) / 8,
    ///       "ids.i32": np.array([-1, 2, 70000], dtype=np.int32),
    ///       "flag.bool": np.array([True, False])}, metadata={"format": "np"})
    static let pythonFixture = """
    GAEAAAAAAAB7Il9fbWV0YWRhdGFfXyI6eyJmb3JtYXQiOiJucCJ9LCJ3LmYzMiI6eyJkdHlwZSI6IkYzMiIsInNoYXBlIjpbMyw0XSwiZGF0YV9vZmZzZXRzIjpbMCw0OF19LC\
    JpZHMuaTMyIjp7ImR0eXBlIjoiSTMyIiwic2hhcGUiOlszXSwiZGF0YV9vZmZzZXRzIjpbNDgsNjBdfSwidy5mMTYiOnsiZHR5cGUiOiJGMTYiLCJzaGFwZSI6WzIsNV0sImRh\
    dGFfb2Zmc2V0cyI6WzYwLDgwXX0sImZsYWcuYm9vbCI6eyJkdHlwZSI6IkJPT0wiLCJzaGFwZSI6WzJdLCJkYXRhX29mZnNldHMiOls4MCw4Ml19fSAgAACwvwAAkL8AAGC/AA\
    AgvwAAwL4AAAC+AAAAPgAAwD4AACA/AABgPwAAkD8AALA//////wIAAABwEQEAALYAtACwAAAAMAA0ADYAOAA5ADoBAA==
    """

    @Test("a file written by the Python safetensors package loads with identical values")
    func pythonWrittenFile() throws {
        let bytes = try #require(Data(base64Encoded: Self.pythonFixture)).map { $0 }
        let file = try SafetensorsFile(bytes: bytes, name: "python")
        #expect(file.metadata == ["format": "np"])
        #expect(file.tensors.map(\.name) == ["w.f32", "ids.i32", "w.f16", "flag.bool"])
        #expect(try floats(file, "w.f32") == (0..<12).map { (Float($0) - 5.5) / 4 })
        #expect(try floats(file, "w.f16") == (0..<10).map { (Float($0) - 3) / 8 })
        #expect(file.tensor(named: "w.f16")?.shape == [2, 5])
        let ids = file.data(for: try #require(file.tensor(named: "ids.i32")))
        #expect((0..<3).map { ids.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self) } == [-1, 2, 70000])
        #expect(Array(file.data(for: try #require(file.tensor(named: "flag.bool")))) == [1, 0])
    }

    static let python = TestAssets.cacheDirectory.appendingPathComponent("venv/bin/python").path

    static var pythonHasSafetensors: Bool {
        guard FileManager.default.isExecutableFile(atPath: python) else { return false }
        return (try? runPython("import safetensors.numpy")) != nil
    }

    @discardableResult
    static func runPython(_ script: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.executableLoad) }
        return String(decoding: output, as: UTF8.self)
    }

    @Test("our writer's files load in Python and Python's files load here, values identical",
          .enabled(if: SafetensorsReaderTests.pythonHasSafetensors))
    func livePythonCrossCheck() throws {
        let directory = try GGUFTestFiles.temporaryDirectory()
        let ours = directory + "/ours.safetensors", theirs = directory + "/theirs.safetensors"
        let values = SafetensorsTestFiles.exactValues(64, seed: 4)
        try Data(SafetensorsTestFiles.build(tensors: [
            ("x", .f16, [8, 8], SafetensorsTestFiles.f16Bytes(values)),
            ("y", .f32, [64], SafetensorsTestFiles.f32Bytes(values)),
        ])).write(to: URL(fileURLWithPath: ours))
        let printed = try Self.runPython("""
        import numpy as np
        from safetensors.numpy import load_file, save_file
        t = load_file('\(ours)')
        assert t['x'].dtype == np.float16 and t['x'].shape == (8, 8)
        print(','.join(repr(float(v)) for v in t['x'].ravel()))
        rng = np.random.default_rng(7)
        save_file({'r': rng.standard_normal((3, 17)).astype(np.float32),
                   'h': rng.standard_normal(33).astype(np.float16)}, '\(theirs)')
        t2 = load_file('\(theirs)')
        print(','.join(repr(float(v)) for v in t2['r'].ravel()))
        print(','.join(repr(float(v)) for v in t2['h'].ravel()))
        """)
        let lines = printed.split(separator: "\n").map { $0.split(separator: ",").map { Float(String($0))! } }
        #expect(lines[0] == values)
        let file = try SafetensorsFile(path: theirs)
        #expect(try floats(file, "r") == lines[1])
        #expect(try floats(file, "h") == lines[2])
    }
}
