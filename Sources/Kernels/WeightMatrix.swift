/// A weight matrix in a ggml layout: `rows` rows of `cols` elements each, rows back
/// to back (ggml ne0 = cols). It does not own its memory (usually an mmap'd file);
/// whoever builds one guarantees `base` holds `byteCount` bytes for the matrix's lifetime.
public struct WeightMatrix: @unchecked Sendable {
    public let base: UnsafeRawPointer
    public let type: GGMLType
    public let rows: Int
    public let cols: Int

    /// `cols` must be a whole number of blocks: check sizes read from a file with
    /// `GGMLType.byteCount(elements:)` before building one.
    public init(base: UnsafeRawPointer, type: GGMLType, rows: Int, cols: Int) {
        precondition(rows >= 0 && cols >= 0 && cols % type.blockSize == 0,
                     "WeightMatrix \(rows)x\(cols) of \(type): cols must be a multiple of \(type.blockSize)")
        self.base = base
        self.type = type
        self.rows = rows
        self.cols = cols
    }

    public var rowBytes: Int { cols / type.blockSize * type.bytesPerBlock }
    public var byteCount: Int { rowBytes * rows }

    /// Start of row `index`.
    public func row(_ index: Int) -> UnsafeRawPointer { base + index * rowBytes }
}
