extension MatMul {
    /// The same product as `matmul`, with activations kept in F32: each weight
    /// segment is dequantized into a stack buffer and dotted in float. Exact to
    /// float rounding (the 8-bit activation path costs ~4e-3 relative error per
    /// product), several times slower: for reference checks and accuracy studies.
    public func matmulFloatActivations(
        _ w: WeightMatrix, _ x: UnsafePointer<Float>, count n: Int, _ y: UnsafeMutablePointer<Float>
    ) {
        guard n > 0, w.rows > 0 else { return }
        // 256 is a whole number of blocks for every supported type.
        let segment = min(256, w.cols)
        let rows = w.rows, cols = w.cols, rowBytes = w.rowBytes
        let segmentBytes = w.type.byteCount(elements: segment)!
        let chunkRows = chunkRows(rows: rows, rowBytes: rowBytes, vectors: n)
        let chunks = (rows + chunkRows - 1) / chunkRows
        let type = w.type, isa = self.isa, base = w.base
        pool.parallelFor(chunks) { c in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: segment + n) { scratch in
                let values = scratch.baseAddress!
                let sums = values + segment
                for r in (c * chunkRows)..<min(rows, (c + 1) * chunkRows) {
                    sums.update(repeating: 0, count: n)
                    var offset = 0
                    while offset < cols {
                        let width = min(segment, cols - offset)
                        Dequantize.row(type, base + r * rowBytes + offset / segment * segmentBytes, values, count: width)
                        for v in 0..<n {
                            sums[v] += VectorOps.dot(values, x + v * cols + offset, count: width, isa: isa)
                        }
                        offset += width
                    }
                    for v in 0..<n { y[v * rows + r] = sums[v] }
                }
            }
        }
    }
}
