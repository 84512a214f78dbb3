import Foundation
import Kernels
import ModelFiles

/// Builds small GGUF files in memory for tests: well-formed ones through
/// `GGUFWriter`, malformed ones byte by byte through `GGUFBytes`.
public enum GGUFTestFiles {
    /// One tensor of each type this project reads, with deterministic bytes.
    public static func sampleTensors() -> [(name: String, shape: [Int], type: GGMLType, bytes: [UInt8])] {
        let specs: [(String, [Int], GGMLType)] = [
            ("f32.vector", [7], .f32),
            ("f32.matrix", [4, 3], .f32),
            ("f16.matrix", [8, 2], .f16),
            ("bf16.cube", [2, 3, 4], .bf16),
            ("q8_0.matrix", [64, 2], .q8_0),
            ("q4_0.matrix", [32, 3], .q4_0),
            ("q4_1.matrix", [32, 2, 1, 2], .q4_1),
            ("q4_K.matrix", [256, 2], .q4_K),
            ("q6_K.vector", [256], .q6_K),
        ]
        var generator = SeededRandom(seed: 0x6767_7566)
        return specs.map { name, shape, type in
            let count = type.byteCount(elements: shape.reduce(1, *))!
            return (name, shape, type, (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        }
    }

    /// A complete GGUF v3 file from metadata and tensors.
    public static func build(
        metadata: [(key: String, value: GGUFValue)] = [("general.architecture", .string("test"))],
        tensors: [(name: String, shape: [Int], type: GGMLType, bytes: [UInt8])] = sampleTensors()
    ) throws -> [UInt8] {
        var writer = GGUFWriter()
        for (key, value) in metadata { writer.set(key, value) }
        for tensor in tensors {
            try writer.addTensor(name: tensor.name, shape: tensor.shape, type: tensor.type, bytes: tensor.bytes)
        }
        return try writer.serialized()
    }

    /// Writes `bytes` to a fresh file in a new temporary directory and returns its path.
    public static func temporaryFile(_ bytes: [UInt8], name: String = "test.gguf") throws -> String {
        let directory = try temporaryDirectory()
        let path = directory + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A new empty directory under this test process's own temporary root, which is
    /// removed when the process exits (tests need not clean up after themselves).
    public static func temporaryDirectory() throws -> String {
        let path = testRoot + "/" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A tiny seeded PRNG so fuzz cases and random weights are reproducible.
    public struct SeededRandom: RandomNumberGenerator, Sendable {
        private var state: UInt64
        public init(seed: UInt64) { state = seed }
        public mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}

private let testRoot: String = {
    let path = NSTemporaryDirectory() + "lambda-llm-tests-\(getpid())"
    atexit { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "lambda-llm-tests-\(getpid())") }
    return path
}()

/// Hand-assembled little-endian GGUF bytes, for files no well-behaved writer would produce.
public struct GGUFBytes {
    public var bytes: [UInt8] = []

    public init() {}

    /// Magic, version and the two counts.
    public init(version: UInt32 = 3, tensorCount: UInt64, keyCount: UInt64, magic: String = "GGUF") {
        bytes.append(contentsOf: Array(magic.utf8))
        u32(version)
        u64(tensorCount)
        u64(keyCount)
    }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); bytes.append(contentsOf: Array(s.utf8)) }
    public mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }

    /// A string-valued key (value type 8).
    public mutating func keyString(_ key: String, _ value: String) { string(key); u32(8); string(value) }
    /// A uint32-valued key (value type 4).
    public mutating func keyUInt32(_ key: String, _ value: UInt32) { string(key); u32(4); u32(value) }

    public mutating func tensorInfo(_ name: String, dims: [UInt64], type: UInt32, offset: UInt64) {
        string(name)
        u32(UInt32(dims.count))
        for d in dims { u64(d) }
        u32(type)
        u64(offset)
    }

    /// Zero padding up to the next multiple of `alignment`, as before the data section.
    public mutating func pad(to alignment: Int = 32) {
        bytes.append(contentsOf: repeatElement(0, count: (alignment - bytes.count % alignment) % alignment))
    }

    public mutating func zeros(_ n: Int) { bytes.append(contentsOf: repeatElement(0, count: n)) }
}

