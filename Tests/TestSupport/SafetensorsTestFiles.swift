import Foundation
import ModelFiles

/// Builds small safetensors files in memory for tests: well-formed ones from
/// tensors, malformed ones from a hand-written header.
public enum SafetensorsTestFiles {
    public typealias Tensor = (name: String, dtype: SafetensorsDType, shape: [Int], bytes: [UInt8])

    /// A complete file: tensors' data laid out back to back in the given order,
    /// header padded with spaces to a multiple of 8 as the reference writer does.
    public static func build(tensors: [Tensor], metadata: [String: String] = [:]) -> [UInt8] {
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { "\(quote($0.key)):\(quote($0.value))" }
            entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var data: [UInt8] = []
        for tensor in tensors {
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append("\(quote(tensor.name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],"
                + "\"data_offsets\":[\(data.count),\(data.count + tensor.bytes.count)]}")
            data += tensor.bytes
        }
        return file(header: "{" + entries.joined(separator: ",") + "}", data: data)
    }

    /// Length prefix + `header` (space-padded to a multiple of 8) + `data`, with no checking.
    public static func file(header: String, data: [UInt8] = []) -> [UInt8] {
        var json = Array(header.utf8)
        json += repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8)
        return file(headerBytes: json, data: data)
    }

    /// Length prefix + exactly `headerBytes` + `data`.
    public static func file(headerBytes: [UInt8], data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: (declaredLength ?? UInt64(headerBytes.count)).littleEndian) { bytes += $0 }
        return bytes + headerBytes + data
    }

    public static func f32Bytes(_ values: [Float]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
    }

    public static func f16Bytes(_ values: [Float]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { Array($0) } }
    }

    /// Truncates to the top 16 bits: exact for values with at most 8 significant bits.
    public static func bf16Bytes(_ values: [Float]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: UInt16(truncatingIfNeeded: v.bitPattern >> 16).littleEndian) { Array($0) } }
    }

    /// Values exactly representable in F32, F16 and BF16 alike.
    public static func exactValues(_ count: Int, seed: Int = 0) -> [Float] {
        (0..<count).map { i in Float((i * 37 + seed * 11) % 255 - 127) / 8 }
    }

    /// One F32, one F16 and one BF16 tensor plus an I64 scalar, as a small model would hold.
    public static func sampleTensors() -> [Tensor] {
        [
            ("model.embed_tokens.weight", .bf16, [4, 6], bf16Bytes(exactValues(24, seed: 1))),
            ("model.layers.0.mlp.up_proj.weight", .f16, [3, 5], f16Bytes(exactValues(15, seed: 2))),
            ("model.norm.weight", .f32, [6], f32Bytes(exactValues(6, seed: 3))),
            ("step", .i64, [], Array(repeating: 0, count: 8)),
        ]
    }

    /// JSON string literal for `s`.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
