import Testing
import CKernels
@testable import Kernels

/// Each helper at every ISA this CPU runs, against scalar double math; lengths
/// include non-multiples of the vector width. Tolerance: 1e-5 relative (5e-6 of the
/// largest term for the exp-based ones, whose vector exp is within a few ulp).
@Suite("VectorOps")
struct VectorOpsTests {
    static let lengths = [0, 1, 7, 8, 9, 31, 64, 100, 576, 1537]

    @Test("dot, axpy, scale and add match scalar math", arguments: KernelISA.supported)
    func linear(isa: KernelISA) {
        var rng = TestRandom(seed: 21)
        for n in Self.lengths {
            let a = rng.floats(n), b = rng.floats(n)
            let ref = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let mag = zip(a, b).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
            #expect(abs(Double(VectorOps.dot(a, b, count: n, isa: isa)) - ref) <= 1e-6 * mag + 1e-7)

            var y = b
            VectorOps.axpy(0.75, a, &y, count: n, isa: isa)
            for i in 0..<n { #expect(abs(Double(y[i]) - (Double(b[i]) + 0.75 * Double(a[i]))) <= 1e-6 * (abs(Double(b[i])) + 1)) }

            var s = a
            VectorOps.scale(&s, by: -1.5, count: n, isa: isa)
            #expect(s == a.map { $0 * -1.5 })

            var sum = b
            VectorOps.add(a, into: &sum, count: n, isa: isa)
            #expect(sum == zip(a, b).map { $0 + $1 })
        }
    }

    @Test("rmsNorm matches x / sqrt(mean(x^2) + eps) * w, also in place", arguments: KernelISA.supported)
    func rmsNorm(isa: KernelISA) {
        var rng = TestRandom(seed: 22)
        for n in Self.lengths where n > 0 {
            let x = rng.floats(n, scale: 3), w = rng.floats(n)
            let eps: Float = 1e-5
            let r = 1 / (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n) + Double(eps)).squareRoot()
            var out = [Float](repeating: .nan, count: n)
            VectorOps.rmsNorm(x, w, &out, count: n, epsilon: eps, isa: isa)
            var inPlace = x
            inPlace.withUnsafeMutableBufferPointer { VectorOps.rmsNorm($0.baseAddress!, w, $0.baseAddress!, count: n, epsilon: eps, isa: isa) }
            for i in 0..<n {
                let ref = Double(x[i]) * r * Double(w[i])
                #expect(abs(Double(out[i]) - ref) <= 1e-5 * abs(ref) + 1e-7)
            }
            #expect(inPlace == out)
        }
    }

    @Test("softmax sums to one, matches exp(x - max) / sum, and survives huge and -inf scores", arguments: KernelISA.supported)
    func softmax(isa: KernelISA) {
        var rng = TestRandom(seed: 23)
        for n in Self.lengths where n > 0 {
            var x = rng.floats(n, scale: 4)
            if n > 8 { x[3] = 1e4; x[5] = -.infinity }
            let m = Double(x.max()!)
            let e = x.map { Foundation_exp(Double($0) - m) }
            let total = e.reduce(0, +)
            var y = x
            VectorOps.softmax(&y, count: n, isa: isa)
            for i in 0..<n { #expect(abs(Double(y[i]) - e[i] / total) <= 5e-6 * (e[i] / total) + 1e-7, "n \(n) i \(i)") }
            #expect(abs(y.reduce(0.0) { $0 + Double($1) } - 1) <= 1e-5)
        }
    }

    @Test("attention over an F16 cache equals attention over its float values bit for bit; toHalf rounds as ck_fp32_to_fp16",
          arguments: KernelISA.supported)
    func attendHalf(isa: KernelISA) {
        var rng = TestRandom(seed: 25)
        for (dim, count) in [(64, 1), (64, 77), (128, 9), (80, 33), (37, 5)] {
            let stride = dim + 8
            let kv = rng.floats(2 * stride * count, scale: 2)
            let q = rng.floats(dim)
            var half = [UInt16](repeating: 0, count: kv.count)
            VectorOps.toHalf(kv, &half, count: kv.count, isa: isa)
            #expect(half == kv.map(ck_fp32_to_fp16), "dim \(dim)")
            let floats = half.map(ck_fp16_to_fp32)
            var s1 = [Float](repeating: 0, count: count), s2 = s1
            var o1 = [Float](repeating: 0, count: dim), o2 = o1
            VectorOps.attend(query: q, keys: floats, values: Array(floats[(stride * count)...]), stride: stride, count: count,
                             dimension: dim, scale: 0.125, scores: &s1, out: &o1, isa: isa)
            VectorOps.attend(query: q, keys: half, values: Array(half[(stride * count)...]), stride: stride, count: count,
                             dimension: dim, scale: 0.125, scores: &s2, out: &o2, isa: isa)
            #expect(s1 == s2 && o1 == o2, "dim \(dim) count \(count)")
            #expect(o1.contains { $0 != 0 })
        }
    }

    @Test("siluMul computes silu(gate) * up, including large magnitudes", arguments: KernelISA.supported)
    func siluMul(isa: KernelISA) {
        var rng = TestRandom(seed: 24)
        for n in Self.lengths {
            var gate = rng.floats(n, scale: 4)
            if n > 8 { gate[0] = 100; gate[1] = -100; gate[2] = -1e30 }
            let up = rng.floats(n)
            var out = gate
            VectorOps.siluMul(&out, up, count: n, isa: isa)
            for i in 0..<n {
                let g = Double(gate[i])
                let ref = g / (1 + Foundation_exp(-g)) * Double(up[i])
                #expect(abs(Double(out[i]) - ref) <= 5e-6 * abs(ref) + 1e-7, "n \(n) g \(g)")
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
func Foundation_exp(_ x: Double) -> Double { Glibc.exp(x) }
#else
import Darwin
func Foundation_exp(_ x: Double) -> Double { Darwin.exp(x) }
#endif
