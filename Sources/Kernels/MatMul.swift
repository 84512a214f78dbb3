import CKernels

/// Weight-matrix times activation products, parallel over row chunks. Owns the
/// scratch for quantized activations, kept across calls once the largest shape has
/// been seen (a call allocates only its few bookkeeping entries). One call at a time
/// per instance.
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
        matmul([Product(w, y)], x, count: n)
    }

    /// One weight matrix and where its output goes.
    public struct Product {
        public let weights: WeightMatrix
        public let output: UnsafeMutablePointer<Float>
        public init(_ weights: WeightMatrix, _ output: UnsafeMutablePointer<Float>) {
            self.weights = weights
            self.output = output
        }
    }

    /// Several matrices applied to the same input (attention's Q/K/V, the feed-forward's
    /// gate and up): the input is quantized once per weight type and one parallel loop
    /// covers every matrix, so a decode step wakes the threads once, not once per
    /// matrix. Each output equals what `matmul` gives for that matrix alone.
    public func matmul(_ products: [Product], _ x: UnsafePointer<Float>, count n: Int) {
        guard n > 0, let cols = products.first?.weights.cols else { return }
        precondition(products.allSatisfy { $0.weights.cols == cols }, "MatMul: products of one input need equal cols")
        let level = isa.level

        // Quantized activations, one copy per distinct weight type, back to back in scratch.
        var types: [UInt32] = []
        for p in products where ck_act_bytes(p.weights.type.rawValue, cols) > 0 && !types.contains(p.weights.type.rawValue) {
            types.append(p.weights.type.rawValue)
        }
        let actBytes = types.map { ck_act_bytes($0, cols) }
        let buffer = scratchBuffer(max(1, actBytes.reduce(0, +) * n))
        var offsets: [Int] = []
        var offset = 0
        for bytes in actBytes {
            offsets.append(offset)
            offset += bytes * n
        }
        for (i, type) in types.enumerated() {
            let dst = buffer + offsets[i], bytes = actBytes[i]
            if n >= 2 * pool.threadCount {
                pool.parallelFor(n) { v in ck_quantize_act(level, type, x + v * cols, dst + v * bytes, cols) }
            } else {
                for v in 0..<n { ck_quantize_act(level, type, x + v * cols, dst + v * bytes, cols) }
            }
        }

        // Row chunks of every product, numbered consecutively.
        var jobs: [Job] = []
        jobs.reserveCapacity(products.count)
        var firstChunk = 0
        for p in products {
            let w = p.weights
            guard w.rows > 0 else { continue }
            let chunkRows = chunkRows(rows: w.rows, rowBytes: w.rowBytes, vectors: n)
            let act: UnsafeRawPointer, stride: Int
            if let i = types.firstIndex(of: w.type.rawValue) {
                act = UnsafeRawPointer(buffer + offsets[i])
                stride = actBytes[i]
            } else {
                act = UnsafeRawPointer(x)
                stride = cols * MemoryLayout<Float>.stride
            }
            jobs.append(Job(weights: w, output: p.output, act: act, actStride: stride, chunkRows: chunkRows,
                            firstChunk: firstChunk))
            firstChunk += (w.rows + chunkRows - 1) / chunkRows
        }
        jobs.withUnsafeBufferPointer { jobs in
            pool.parallelFor(firstChunk) { c in
                var j = jobs.count - 1
                while jobs[j].firstChunk > c { j -= 1 }
                let job = jobs[j], w = job.weights
                let r0 = (c - job.firstChunk) * job.chunkRows
                let count = min(job.chunkRows, w.rows - r0)
                ck_dot_rows(level, w.type.rawValue, w.base + r0 * w.rowBytes, w.rowBytes, count, cols,
                            job.act, job.actStride, n, job.output + r0, w.rows)
            }
        }
    }

    private struct Job {
        let weights: WeightMatrix
        let output: UnsafeMutablePointer<Float>
        let act: UnsafeRawPointer
        let actStride: Int
        let chunkRows: Int
        let firstChunk: Int
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
