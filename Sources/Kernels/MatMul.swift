import CKernels

/// Weight-matrix times activation products, parallel over row chunks. Owns the
/// scratch for quantized activations, so calls allocate nothing once the largest
/// shape has been seen. One call at a time per instance.
///
/// Quantized weight types (Q4_0, Q4_1, Q8_0, Q4_K, Q6_K) quantize the activations to
/// 8-bit blocks first and use integer dot products: about 4e-3 relative error
/// against float math. F32/F16/BF16 weights are dotted in float against F32 activations.
public final class MatMul: @unchecked Sendable {
    public let pool: ThreadPool
    public let isa: KernelISA
    private var scratch: UnsafeMutableRawPointer?
    private var scratchBytes = 0

    /// Rows per chunk are a multiple of this, so chunks never share a cache line of outputs.
    static let rowAlignment = 16
    /// Weight bytes per chunk in prefill: they stay in L2 while each tile of vectors passes.
    static let chunkBytesForTiles = 128 * 1024

    public init(pool: ThreadPool, isa: KernelISA = .active) {
        self.pool = pool
        self.isa = isa.isSupported ? isa : KernelISA.best
    }

    deinit { scratch?.deallocate() }

    /// y[rows] = W x[cols]
    public func matvec(_ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        matmul(w, x, count: 1, y)
    }

    /// For n vectors of `cols` (contiguous in x), y holds n vectors of `rows`:
    /// y[v * rows + r] = row r of W dot vector v. Weights stream from memory once per
    /// tile of vectors (prompt prefill).
    public func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, count n: Int, _ y: UnsafeMutablePointer<Float>) {
        guard n > 0, w.rows > 0 else { return }
        let type = w.type.rawValue
        let cols = w.cols
        let actBytes = ck_act_bytes(type, cols)
        let act: UnsafeRawPointer
        let actStride: Int
        if actBytes == 0 {
            act = UnsafeRawPointer(x)
            actStride = cols * MemoryLayout<Float>.stride
        } else {
            let buffer = scratchBuffer(actBytes * n)
            let level = isa.level
            if n >= 2 * pool.threadCount {
                pool.parallelFor(n) { v in ck_quantize_act(level, type, x + v * cols, buffer + v * actBytes, cols) }
            } else {
                for v in 0..<n { ck_quantize_act(level, type, x + v * cols, buffer + v * actBytes, cols) }
            }
            act = UnsafeRawPointer(buffer)
            actStride = actBytes
        }

        let rows = w.rows
        let rowBytes = w.rowBytes
        let chunkRows = chunkRows(rows: rows, rowBytes: rowBytes, vectors: n)
        let chunks = (rows + chunkRows - 1) / chunkRows
        let level = isa.level
        let base = w.base
        pool.parallelFor(chunks) { c in
            let r0 = c * chunkRows
            let count = min(chunkRows, rows - r0)
            ck_dot_rows(level, type, base + r0 * rowBytes, rowBytes, count, cols, act, actStride, n, y + r0, rows)
        }
    }

    /// About four chunks per thread balance the load when threads run at different
    /// speeds (shared vCPUs), yet keep each chunk long enough to stream well.
    func chunkRows(rows: Int, rowBytes: Int, vectors: Int) -> Int {
        let align = Self.rowAlignment
        let threads = pool.threadCount
        if threads == 1 && vectors == 1 { return rows }
        let balanced = (rows + 4 * threads - 1) / (4 * threads)
        var chunk = max(align, (balanced + align - 1) / align * align)
        if vectors > 1 {
            let fitting = Self.chunkBytesForTiles / max(1, rowBytes) / align * align
            chunk = min(chunk, max(align, fitting))
        }
        return chunk
    }

    private func scratchBuffer(_ bytes: Int) -> UnsafeMutableRawPointer {
        if let scratch, scratchBytes >= bytes { return scratch }
        scratch?.deallocate()
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        scratch = fresh
        scratchBytes = bytes
        return fresh
    }
}
