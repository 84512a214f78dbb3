/// The ggml tensor element types this project reads and writes, with their
/// standard type ids and block layouts, so our GGUF files and llama.cpp's are
/// interchangeable.
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q8_0 = 8
    case q4_K = 12
    case q6_K = 14
    case bf16 = 30

    /// Elements per block: a row's length must be a multiple of this.
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q4_0, .q4_1, .q8_0: return 32
        case .q4_K, .q6_K: return 256
        }
    }

    /// Bytes per block in the ggml layout.
    public var bytesPerBlock: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 18   // fp16 d, 16 bytes of nibbles
        case .q4_1: return 20   // fp16 d, fp16 m, 16 bytes of nibbles
        case .q8_0: return 34   // fp16 d, 32 int8
        case .q4_K: return 144  // fp16 d, fp16 dmin, 12 bytes scales, 128 bytes nibbles
        case .q6_K: return 210  // 128 ql, 64 qh, 16 int8 scales, fp16 d
        }
    }

    public var isQuantized: Bool { blockSize > 1 }

    /// ggml's own spelling, as llama.cpp prints it.
    public var description: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .bf16: return "BF16"
        case .q4_0: return "Q4_0"
        case .q4_1: return "Q4_1"
        case .q8_0: return "Q8_0"
        case .q4_K: return "Q4_K"
        case .q6_K: return "Q6_K"
        }
    }

    /// Bytes taken by `elements` values, or nil when `elements` is not a whole
    /// number of blocks or the product overflows (sizes come from untrusted files).
    public func byteCount(elements: Int) -> Int? {
        guard elements >= 0, elements % blockSize == 0 else { return nil }
        let (bytes, overflow) = (elements / blockSize).multipliedReportingOverflow(by: bytesPerBlock)
        return overflow ? nil : bytes
    }
}
