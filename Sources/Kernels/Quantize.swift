import CKernels

/// F32 rows to ggml-typed data. F32/F16/BF16 (round to nearest even), Q8_0, Q4_0 and
/// Q4_1 match ggml's reference quantizers bit for bit, so files we write equal
/// llama.cpp's. Q4_K and Q6_K use ggml's layout with a simpler, one-pass scale
/// choice than ggml's iterative search (a little more error, same format).
public enum Quantize {
    /// `count` must be a whole number of the type's blocks; `dst` receives
    /// `type.byteCount(elements: count)` bytes.
    public static func row(_ type: GGMLType, _ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int) {
        precondition(count >= 0 && count % type.blockSize == 0, "\(type) row of \(count) is not whole blocks")
        let status = ck_quantize_row(type.rawValue, src, dst, count)
        precondition(status == 0, "no quantizer for \(type)")
    }
}
