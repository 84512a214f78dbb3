import Foundation

/// Precomputed cos/sin of RoPE angles for every position and frequency, so
/// the forward pass does no transcendental math per token.
struct RotaryTable: @unchecked Sendable {
    let pairs: Int
    private let cosines: [Float]
    private let sines: [Float]

    init(positions: Int, dimensions: Int, base: Float, factors: [Float]?) {
        pairs = dimensions / 2
        var cosines = [Float](repeating: 0, count: positions * pairs)
        var sines = [Float](repeating: 0, count: positions * pairs)
        for i in 0..<pairs {
            var frequency = pow(Double(base), -2.0 * Double(i) / Double(dimensions))
            if let factors, i < factors.count, factors[i] > 0 { frequency /= Double(factors[i]) }
            for p in 0..<positions {
                let angle = Double(p) * frequency
                cosines[p * pairs + i] = Float(cos(angle))
                sines[p * pairs + i] = Float(sin(angle))
            }
        }
        self.cosines = cosines
        self.sines = sines
    }

    /// Rotates consecutive pairs (x[2i], x[2i+1]) of the first `2 * pairs`
    /// values of one head: ggml's "normal" RoPE, which llama GGUF files expect
    /// (converters permute HF's Q/K weights to match it).
    @inline(__always)
    func apply(_ x: UnsafeMutablePointer<Float>, position: Int) {
        cosines.withUnsafeBufferPointer { c in
            sines.withUnsafeBufferPointer { s in
                let base = position * pairs
                for i in 0..<pairs {
                    let cv = c[base + i], sv = s[base + i]
                    let a = x[2 * i], b = x[2 * i + 1]
                    x[2 * i] = a * cv - b * sv
                    x[2 * i + 1] = a * sv + b * cv
                }
            }
        }
    }
}
