import Foundation
import Testing
@testable import Kernels

@Suite("Quantize and Dequantize")
struct QuantizeTests {
    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    static func floats(hex: String) -> [Float] {
        let b = bytes(hex: hex)
        return (0..<b.count / 4).map { i in
            Float(bitPattern: UInt32(b[4 * i]) | UInt32(b[4 * i + 1]) << 8 | UInt32(b[4 * i + 2]) << 16 | UInt32(b[4 * i + 3]) << 24)
        }
    }

    static func quantize(_ type: GGMLType, _ x: [Float]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: type.byteCount(elements: x.count)!)
        out.withUnsafeMutableBytes { Quantize.row(type, x, $0.baseAddress!, count: x.count) }
        return out
    }

    static func dequantize(_ type: GGMLType, _ data: [UInt8], count: Int) -> [Float] {
        var out = [Float](repeating: .nan, count: count)
        data.withUnsafeBytes { Dequantize.row(type, $0.baseAddress!, &out, count: count) }
        return out
    }

    @Test("Q8_0, Q4_0, Q4_1, F16 and BF16 quantizers equal ggml's reference bit for bit (committed gguf-py fixture)")
    func fixtureBitExact() {
        let x = Self.floats(hex: QuantizeFixture.blockInputs)
        let all = x + Self.floats(hex: QuantizeFixture.specialInputs)
        #expect(Self.quantize(.q8_0, x) == Self.bytes(hex: QuantizeFixture.q8_0))
        #expect(Self.quantize(.q4_0, x) == Self.bytes(hex: QuantizeFixture.q4_0))
        #expect(Self.quantize(.q4_1, x) == Self.bytes(hex: QuantizeFixture.q4_1))
        #expect(Self.quantize(.f16, all) == Self.bytes(hex: QuantizeFixture.f16))
        #expect(Self.quantize(.bf16, all) == Self.bytes(hex: QuantizeFixture.bf16))
    }

    static let python = URL(fileURLWithPath: NSHomeDirectory() + "/.cache/lambda-llm/venv/bin/python")

    @Test("quantizers equal gguf-py on 64K fresh random values (live, when the cached venv exists)",
          .enabled(if: FileManager.default.isExecutableFile(atPath: python.path)))
    func liveGGUFPy() throws {
        var rng = TestRandom(seed: 99)
        var x: [Float] = []
        for b in 0..<2048 {
            let scale = Float([1e-7, 1e-3, 0.02, 1, 300][b % 5])
            x += rng.floats(32, scale: scale).map { b % 7 == 3 ? $0 + scale : $0 }
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kernels-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try x.withUnsafeBytes { try Data($0).write(to: dir.appendingPathComponent("x.f32")) }
        let script = """
        import sys, numpy as np
        from gguf.quants import quantize
        from gguf.constants import GGMLQuantizationType as T
        d = sys.argv[1]
        x = np.fromfile(d + "/x.f32", dtype=np.float32)
        for name, t in [("q8_0", T.Q8_0), ("q4_0", T.Q4_0), ("q4_1", T.Q4_1), ("bf16", T.BF16)]:
            quantize(x.reshape(-1, 32) if t != T.BF16 else x, t).tofile(d + "/" + name)
        x.astype(np.float16).tofile(d + "/f16")
        """
        let process = Process()
        process.executableURL = Self.python
        process.arguments = ["-c", script, dir.path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "gguf-py failed")
        for type in [GGMLType.q8_0, .q4_0, .q4_1, .bf16, .f16] {
            let expected = try [UInt8](Data(contentsOf: dir.appendingPathComponent(type.description.lowercased())))
            let ours = Self.quantize(type, x)
            let firstDiff = zip(ours, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            #expect(ours == expected, "\(type) first differing byte \(firstDiff.map(String.init) ?? "none (length)")")
        }
    }

    @Test("F16 conversion round-trips all 65536 halves and rounds floats to nearest even like Swift's Float16")
    func halfConversions() {
        let halves = (0...UInt16.max).map { $0 }
        let widened = halves.withUnsafeBytes { raw in
            var out = [Float](repeating: .nan, count: halves.count)
            Dequantize.row(.f16, raw.baseAddress!, &out, count: halves.count)
            return out
        }
        for (bits, ours) in zip(halves, widened) {
            let h = Float16(bitPattern: bits)
            if h.isNaN { #expect(ours.isNaN) } else if ours.bitPattern != Float(h).bitPattern { Issue.record("half \(bits) -> \(ours)") }
        }
        var rng = TestRandom(seed: 3)
        var samples: [Float] = (0..<20000).map { _ in Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng)) }
        samples += [0x1.ffcp15, 0x1.ffdp15, 0x1.ffep15, 0x1p-24, 0x1p-25, 0x1.8p-25, 0x1.0p-26, .infinity, -.infinity]
        let q = Self.quantize(.f16, samples)
        for (i, f) in samples.enumerated() {
            let ours = UInt16(q[2 * i]) | UInt16(q[2 * i + 1]) << 8
            let swift = Float16(f)
            if f.isNaN { #expect(Float16(bitPattern: ours).isNaN) } else { #expect(ours == swift.bitPattern, "\(f)") }
        }
    }

    @Test("BF16 rounds to nearest even, keeps NaN quiet, and widens exactly")
    func bf16() {
        let x: [Float] = [1, Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000), Float(bitPattern: 0x3F80_8001),
                          .infinity, Float(bitPattern: 0x7F80_0001), -0.0]
        let q = Self.quantize(.bf16, x)
        let bits = (0..<x.count).map { UInt16(q[2 * $0]) | UInt16(q[2 * $0 + 1]) << 8 }
        #expect(Array(bits[0..<5]) == [0x3F80, 0x3F80, 0x3F82, 0x3F81, 0x7F80])
        #expect(bits[5] & 0x7FC0 == 0x7FC0)
        #expect(bits[6] == 0x8000)
        #expect(Self.dequantize(.bf16, q, count: x.count)[2] == Float(bitPattern: 0x3F82_0000))
    }

    /// Largest error of a block after a round trip, against the bound each format promises.
    @Test("round trips stay within each format's per-block error bound", arguments: GGMLType.allCases)
    func roundTripBounds(type: GGMLType) {
        var rng = TestRandom(seed: 11 + UInt64(type.rawValue))
        let n = 256 * 64
        var x = rng.floats(n, scale: 0.1)
        for i in stride(from: 512, to: 1024, by: 1) { x[i] = abs(x[i]) + 0.05 }  // all-positive blocks
        let back = Self.dequantize(type, Self.quantize(type, x), count: n)
        let block = max(type.blockSize, 32)
        var sumSq = 0.0, errSq = 0.0
        for b in stride(from: 0, to: n, by: block) {
            let xs = x[b..<b + block], ys = back[b..<b + block]
            let amax = Double(xs.map { abs($0) }.max()!)
            let range = Double(xs.max()! - xs.min()!)
            let worst = zip(xs, ys).map { abs(Double($0) - Double($1)) }.max()!
            let bound: Double
            switch type {
            case .f32: bound = 0
            case .f16: bound = amax * 0x1p-11
            case .bf16: bound = amax * 0x1p-8
            case .q8_0: bound = amax / 127 * (0.5 + 127 * 0x1p-11) * 1.0001
            case .q4_0: bound = amax / 8 * (1 + 8 * 0x1p-11) * 1.0001   // +max maps to 7: one full step
            case .q4_1: bound = range / 15 * (0.5 + 16 * 0x1p-11) + amax * 0x1p-11
            case .q4_K: bound = range / 15 * 1.6 + amax * 0.02
            case .q6_K: bound = amax / 32 * 1.2
            }
            #expect(worst <= bound, "\(type) block at \(b): error \(worst) > \(bound)")
            for (a, c) in zip(xs, ys) {
                sumSq += Double(a) * Double(a)
                errSq += (Double(a) - Double(c)) * (Double(a) - Double(c))
            }
        }
        let relativeRMS = (errSq / sumSq).squareRoot()
        let limit: [GGMLType: Double] = [.f32: 0, .f16: 3e-4, .bf16: 3e-3, .q8_0: 6e-3, .q4_0: 0.12, .q4_1: 0.1, .q4_K: 0.12, .q6_K: 0.03]
        #expect(relativeRMS <= limit[type]!, "\(type) relative RMS error \(relativeRMS)")
    }

    @Test("an all-zero row quantizes to zeros and back, every type", arguments: GGMLType.allCases)
    func zeros(type: GGMLType) {
        let x = [Float](repeating: 0, count: 512)
        #expect(Self.dequantize(type, Self.quantize(type, x), count: 512) == x)
    }
}
