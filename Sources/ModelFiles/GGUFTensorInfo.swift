import Kernels

/// Where one tensor lives in a GGUF file, already validated against the file.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// ggml order: `shape[0]` (ne0) is the row length, the fastest-varying axis.
    public let shape: [Int]
    public let type: GGMLType
    /// Byte offset relative to the start of the data section.
    public let offset: Int
    public let byteCount: Int

    public var elementCount: Int { shape.reduce(1, *) }
    /// Number of rows of length `shape[0]`: the product of `shape[1...]`.
    public var rowCount: Int { shape.dropFirst().reduce(1, *) }
    /// Bytes in one row of `shape[0]` elements.
    public var rowByteCount: Int { byteCount / rowCount }
}

/// Caps on what a GGUF file may claim, so that a hostile or corrupt header
/// cannot make the reader allocate or loop without bound. Every count is also
/// checked against the bytes left in the file before anything is allocated.
public enum GGUFLimits {
    /// The spec's own cap on key length.
    public static let maxKeyLength = 65_535
    /// Tensor names are at most 64 bytes in ggml; allow slack for other writers.
    public static let maxTensorNameLength = 65_535
    /// Longest string value (chat templates are the longest seen: tens of KiB).
    public static let maxStringLength = 16 << 20
    /// Elements in one array (the largest vocabularies have ~256 Ki tokens, merges ~300 Ki).
    public static let maxArrayCount = 4 << 20
    /// Elements in all arrays together: bounds the memory a parse may take. A parsed
    /// element takes 24 bytes, so one-byte elements grow 24-fold: at most 192 MiB.
    public static let maxTotalArrayElements = 8 << 20
    /// Arrays of arrays, counting the outermost.
    public static let maxArrayNesting = 8
    public static let maxTensors = 1 << 20
    public static let maxKeys = 1 << 20
    public static let maxDimensions = 4
    public static let maxAlignment = 1 << 30
    public static let defaultAlignment = 32
}
