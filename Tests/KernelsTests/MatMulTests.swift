import CKernels
import Testing
@testable import Kernels

/// matvec/matmul against a double-precision dot of the dequantized weights with the
/// unquantized activations. Tolerance, stated: for quantized types the only error
/// beyond float rounding is the 8-bit activation quantization, at most half a step
/// (amax/127/2) per element, so |error| <= sum over blocks of sum|w| * amax(x)/254
/// (plus 1e-5 relative for float summation). For F32/F16/BF16: 1e-5 relative to sum|w*x|.
@Suite("MatMul")
struct MatMulTests {
    static let types: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q4_K, .q6_K]
    static let shapes: [(rows: Int, cols: Int)] = [
        (1, 256), (3, 512), (17, 256), (577, 256), (17, 1536), (3, 768), (65, 576), (33, 64), (5, 32),
    ]

    /// Random weights for `type`, `rows` x `cols`: K-quants get raw random bytes
    /// (every scale bit exercised) with a small fp16 super-scale; others quantize floats.
    static func weights(_ type: GGMLType, rows: Int, cols: Int, rng: inout TestRandom) -> [UInt8] {
        let rowBytes = type.byteCount(elements: cols)!
        var data = [UInt8](repeating: 0, count: rowBytes * rows)
        if type == .q4_K || type == .q6_K {
            data = rng.bytes(data.count)
            let blocks = data.count / type.bytesPerBlock
            for b in 0..<blocks {
                let start = b * type.bytesPerBlock
                let d = Float16(Float.random(in: 0.0005...0.004, using: &rng)).bitPattern
                let offset = type == .q4_K ? 0 : 208
                data[start + offset] = UInt8(d & 0xFF)
                data[start + offset + 1] = UInt8(d >> 8)
                if type == .q4_K {
                    let dmin = Float16(Float.random(in: 0.0005...0.004, using: &rng)).bitPattern
                    data[start + 2] = UInt8(dmin & 0xFF)
                    data[start + 3] = UInt8(dmin >> 8)
                }
            }
            return data
        }
        let source = rng.floats(rows * cols, scale: 0.05)
        source.withUnsafeBufferPointer { src in
            data.withUnsafeMutableBytes { dst in
                for r in 0..<rows {
                    Quantize.row(type, src.baseAddress! + r * cols, dst.baseAddress! + r * rowBytes, count: cols)
                }
            }
        }
        return data
    }

    struct Expected {
        var value: Double
        /// Allowed error against the reference.
        var tolerance: Double
        /// sum |w*x|: the scale of float summation error.
        var magnitude: Double
    }

    static func reference(_ type: GGMLType, _ weights: [UInt8], rows: Int, cols: Int, x: [Float]) -> [Expected] {
        let rowBytes = type.byteCount(elements: cols)!
        var deq = [Float](repeating: 0, count: cols)
        let actBlock = type == .q4_K || type == .q6_K ? 256 : 32
        return (0..<rows).map { r in
            weights.withUnsafeBytes { Dequantize.row(type, $0.baseAddress! + r * rowBytes, &deq, count: cols) }
            var dot = 0.0, magnitude = 0.0, quantBound = 0.0
            for i in 0..<cols {
                dot += Double(deq[i]) * Double(x[i])
                magnitude += abs(Double(deq[i]) * Double(x[i]))
            }
            if type.isQuantized {
                for b in stride(from: 0, to: cols, by: actBlock) {
                    let amax = x[b..<b + actBlock].map { abs(Double($0)) }.max()!
                    let wsum = deq[b..<b + actBlock].reduce(0.0) { $0 + abs(Double($1)) }
                    quantBound += wsum * amax / 254
                }
            }
            return Expected(value: dot, tolerance: 1.001 * quantBound + 1e-5 * magnitude + 1e-30, magnitude: magnitude)
        }
    }

    @Test("matvec equals the dequantized double reference within the activation-quantization bound, every type, ISA and ragged shape",
          arguments: types)
    func matvecMatchesReference(type: GGMLType) {
        var rng = TestRandom(seed: 0x5EED + UInt64(type.rawValue))
        for isa in KernelISA.supported {
            for threads in [1, 3] {
                let mm = MatMul(pool: ThreadPool(threads: threads), isa: isa)
                for shape in Self.shapes where shape.cols % type.blockSize == 0 {
                    let w = Self.weights(type, rows: shape.rows, cols: shape.cols, rng: &rng)
                    let x = rng.floats(shape.cols)
                    let expected = Self.reference(type, w, rows: shape.rows, cols: shape.cols, x: x)
                    var y = [Float](repeating: .nan, count: shape.rows)
                    w.withUnsafeBytes { wp in
                        let m = WeightMatrix(base: wp.baseAddress!, type: type, rows: shape.rows, cols: shape.cols)
                        mm.matvec(m, x, &y)
                    }
                    for r in 0..<shape.rows {
                        let ref = expected[r].value, tol = expected[r].tolerance
                        #expect(abs(Double(y[r]) - ref) <= tol,
                                "\(type) \(isa) \(threads)t \(shape.rows)x\(shape.cols) row \(r): \(y[r]) vs \(ref) tol \(tol)")
                    }
                }
            }
        }
    }

    @Test("matmul over n vectors equals n matvecs (tiles and chunks do not change results)", arguments: types)
    func matmulEqualsMatvecs(type: GGMLType) {
        var rng = TestRandom(seed: 0xBEEF + UInt64(type.rawValue))
        for isa in KernelISA.supported {
            let mm = MatMul(pool: ThreadPool(threads: 2), isa: isa)
            // The float types' ragged widths (past the last 32 and the last 8), 1000 to 2080
            // columns and 49 to 53 vectors cross the F16 prefill's 4-row blocks (8-row on
            // AVX-512, odd rows padded), 3- and 6-vector register blocks, 1024- and
            // 640-column chunks and 48-vector passes.
            let shapes = [(17, 256, 3), (577, 256, 11), (40, 512, 9), (3, 1536, 17), (6, 200, 14), (7, 37, 26),
                          (5, 1000, 13), (9, 1100, 53), (6, 2080, 49)]
            for (rows, cols, n) in shapes where cols % type.blockSize == 0 {
                let w = Self.weights(type, rows: rows, cols: cols, rng: &rng)
                let x = rng.floats(cols * n)
                var y = [Float](repeating: .nan, count: rows * n)
                var single = [Float](repeating: .nan, count: rows)
                w.withUnsafeBytes { wp in
                    let m = WeightMatrix(base: wp.baseAddress!, type: type, rows: rows, cols: cols)
                    x.withUnsafeBufferPointer { xp in
                        mm.matmul(m, xp.baseAddress!, count: n, &y)
                        for v in 0..<n {
                            mm.matvec(m, xp.baseAddress! + v * cols, &single)
                            // Same kernel, same quantized activations: identical bits.
                            #expect(Array(y[v * rows..<(v + 1) * rows]) == single, "\(type) \(isa) \(rows)x\(cols) vector \(v)")
                        }
                    }
                }
            }
        }
    }

    @Test("several products of one input (mixed types, sizes and vector counts) equal separate matmuls bit for bit")
    func productsOfOneInputEqualSeparateMatmuls() {
        var rng = TestRandom(seed: 0xF00D)
        let cols = 512
        let specs: [(GGMLType, Int)] = [(.q4_0, 577), (.q4_1, 40), (.q4_0, 17), (.q8_0, 129), (.f16, 33), (.q4_K, 65), (.q6_K, 3)]
        let weights = specs.map { Self.weights($0.0, rows: $0.1, cols: cols, rng: &rng) }
        for isa in KernelISA.supported {
            for threads in [1, 3] {
                let mm = MatMul(pool: ThreadPool(threads: threads), isa: isa)
                for n in [1, 2, 5, 9] {
                    let x = rng.floats(cols * n)
                    let together = specs.map { UnsafeMutableBufferPointer<Float>.allocate(capacity: $0.1 * n) }
                    let alone = specs.map { UnsafeMutableBufferPointer<Float>.allocate(capacity: $0.1 * n) }
                    defer { (together + alone).forEach { $0.deallocate() } }
                    (together + alone).forEach { $0.initialize(repeating: .nan) }
                    withMatrices(specs, weights, cols: cols) { matrices in
                        x.withUnsafeBufferPointer { xp in
                            for i in matrices.indices { mm.matmul(matrices[i], xp.baseAddress!, count: n, alone[i].baseAddress!) }
                            mm.matmul(zip(matrices, together).map { MatMul.Product($0, $1.baseAddress!) }, xp.baseAddress!, count: n)
                        }
                    }
                    for i in specs.indices {
                        #expect(Array(together[i]) == Array(alone[i]), "\(specs[i].0) \(isa) \(threads)t n=\(n)")
                    }
                }
            }
        }
    }

    /// WeightMatrix views of `weights` for the body's duration.
    private func withMatrices(_ specs: [(GGMLType, Int)], _ weights: [[UInt8]], cols: Int, _ body: ([WeightMatrix]) -> Void) {
        let buffers = weights.map { w -> UnsafeMutableRawBufferPointer in
            let b = UnsafeMutableRawBufferPointer.allocate(byteCount: w.count, alignment: 64)
            w.withUnsafeBytes { b.copyMemory(from: $0) }
            return b
        }
        defer { buffers.forEach { $0.deallocate() } }
        body(zip(specs, buffers).map { WeightMatrix(base: UnsafeRawPointer($1.baseAddress!), type: $0.0, rows: $0.1, cols: cols) })
    }

    @Test("every ISA gives the portable path's exact bits, one vector or many", arguments: types)
    func isasAgree(type: GGMLType) {
        var rng = TestRandom(seed: 0xCAFE + UInt64(type.rawValue))
        // 37 rows: ragged 8-, 4- and 2-row groups; 13 vectors: past the 8-vector tiles and
        // the packed prefill's pairs; F16/F32/BF16 get a column tail too.
        let (rows, n) = (37, 13)
        let cols = type.blockSize == 1 ? 1540 : 1536
        let w = Self.weights(type, rows: rows, cols: cols, rng: &rng)
        let x = rng.floats(cols * n)
        func run(_ isa: KernelISA) -> (one: [Float], many: [Float]) {
            var one = [Float](repeating: .nan, count: rows)
            var many = [Float](repeating: .nan, count: rows * n)
            w.withUnsafeBytes { wp in
                let m = WeightMatrix(base: wp.baseAddress!, type: type, rows: rows, cols: cols)
                let mm = MatMul(pool: ThreadPool(threads: 1), isa: isa)
                mm.matvec(m, Array(x[0..<cols]), &one)
                x.withUnsafeBufferPointer { xp in
                    many.withUnsafeMutableBufferPointer { mm.matmul(m, xp.baseAddress!, count: n, $0.baseAddress!) }
                }
            }
            return (one, many)
        }
        let generic = run(.generic)
        let expected = Self.reference(type, w, rows: rows, cols: cols, x: Array(x[0..<cols]))
        for r in 0..<rows {
            #expect(abs(Double(generic.one[r]) - expected[r].value) <= expected[r].tolerance,
                    "\(type) row \(r): \(generic.one[r]) vs reference \(expected[r].value)")
        }
        for isa in KernelISA.supported where isa != .generic {
            let y = run(isa)
            #expect(y.one.map(\.bitPattern) == generic.one.map(\.bitPattern), "\(type) \(isa), one vector")
            #expect(y.many.map(\.bitPattern) == generic.many.map(\.bitPattern), "\(type) \(isa), \(n) vectors")
        }
    }

    @Test("a zero activation vector gives exact zeros, with no NaN from a zero scale", arguments: types)
    func zeroActivations(type: GGMLType) {
        var rng = TestRandom(seed: 7)
        let w = Self.weights(type, rows: 5, cols: 256, rng: &rng)
        let x = [Float](repeating: 0, count: 256)
        for isa in KernelISA.supported {
            var y = [Float](repeating: .nan, count: 5)
            w.withUnsafeBytes { wp in
                MatMul(pool: ThreadPool(threads: 1), isa: isa)
                    .matvec(WeightMatrix(base: wp.baseAddress!, type: type, rows: 5, cols: 256), x, &y)
            }
            #expect(y == [0, 0, 0, 0, 0], "\(type) \(isa)")
        }
    }

    @Test("chunks are whole multiples of 16 rows and cover every row")
    func chunking() {
        let mm = MatMul(pool: ThreadPool(threads: 2))
        for rows in [1, 17, 576, 577, 4096, 49152] {
            for vectors in [1, 8] {
                let c = mm.chunkRows(rows: rows, rowBytes: 2304, vectors: vectors)
                #expect(c % MatMul.rowAlignment == 0 && c > 0)
                #expect((rows + c - 1) / c * c >= rows)
                if vectors > 1 { #expect(c * 2304 <= MatMul.chunkBytesForTiles) }
            }
        }
    }

    @Test("8-bit activation blocks store ggml's fp16-rounded scales on every ISA path")
    func activationScalesRoundLikeGGML() throws {
        var rng = TestRandom(seed: 11)
        let x = (0..<64).map { _ in Float.random(in: -3...3, using: &rng) }
        for isa in KernelISA.supported {
            for type in [GGMLType.q8_0, .q4_0, .q4_1] {
                var block = [UInt8](repeating: 0, count: ck_act_bytes(type.rawValue, 64))
                x.withUnsafeBufferPointer { ck_quantize_act(isa.level, type.rawValue, $0.baseAddress, &block, 64) }
                for b in 0..<2 {
                    let values = x[(32 * b)..<(32 * b + 32)]
                    let amax = values.map(abs).max()!
                    let d = block.withUnsafeBytes { $0.load(fromByteOffset: 40 * b, as: Float.self) }
                    let s = block.withUnsafeBytes { $0.load(fromByteOffset: 40 * b + 4, as: Float.self) }
                    let q = block[(40 * b + 8)..<(40 * b + 40)].map { Int(Int8(bitPattern: $0)) }
                    #expect(d == Float(Float16(amax / 127)), "\(isa) \(type) block \(b)")
                    // Q4_1 folds its minimum with s, which ggml also keeps in fp16.
                    let exact = (amax / 127) * Float(q.reduce(0, +))
                    #expect(s == (type == .q4_1 ? Float(Float16(exact)) : d * Float(q.reduce(0, +))), "\(isa) \(type)")
                }
            }
        }
    }
}
