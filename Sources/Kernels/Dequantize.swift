import CKernels

/// Whole rows of ggml-typed data to F32: embedding lookups, norms stored as F16, tests.
public enum Dequantize {
    /// `count` must be a whole number of the type's blocks; `src` holds
    /// `type.byteCount(elements: count)` bytes.
    public static func row(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count >= 0 && count % type.blockSize == 0, "\(type) row of \(count) is not whole blocks")
        ck_dequantize_row(type.rawValue, src, dst, count)
    }
}
