import CKernels

/// Element-wise and reduction helpers for attention and norms, vectorised in C
/// at the given ISA level (default: `KernelISA.active`).
public enum VectorOps {
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int,
                           isa: KernelISA = .active) -> Float {
        ck_vec_dot(isa.level, a, b, count)
    }

    /// y += a * x
    public static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int,
                            isa: KernelISA = .active) {
        ck_vec_axpy(isa.level, a, x, y, count)
    }

    /// x *= s
    public static func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, count: Int, isa: KernelISA = .active) {
        ck_vec_scale(isa.level, x, s, count)
    }

    /// y += x
    public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int,
                           isa: KernelISA = .active) {
        ck_vec_add(isa.level, x, y, count)
    }

    /// out = x / sqrt(mean(x^2) + epsilon) * weight; `out` may be `x`.
    public static func rmsNorm(_ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                               count: Int, epsilon: Float, isa: KernelISA = .active) {
        ck_vec_rmsnorm(isa.level, x, weight, out, count, epsilon)
    }

    /// In place, max-subtracted so large scores do not overflow.
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int, isa: KernelISA = .active) {
        ck_vec_softmax(isa.level, x, count)
    }

    /// gate = silu(gate) * up, the SwiGLU of a Llama feed-forward block.
    public static func siluMul(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int,
                               isa: KernelISA = .active) {
        ck_vec_silu_mul(isa.level, gate, up, count)
    }

    /// One attention head for one query: scores[j] = scale * q.k_j for j < count,
    /// softmax, then out = sum_j scores[j] * v_j, with key and value rows `stride`
    /// floats apart. Equal to dot, softmax and axpy in turn, without a call per row.
    public static func attend(query q: UnsafePointer<Float>, keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>,
                              stride: Int, count: Int, dimension: Int, scale: Float,
                              scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>,
                              isa: KernelISA = .active) {
        ck_vec_attend(isa.level, q, k, v, stride, count, dimension, scale, scores, out)
    }

    /// `attend` over fp16 keys and values: the same result as attending their float
    /// values, bit for bit, reading half the bytes.
    public static func attend(query q: UnsafePointer<Float>, keys k: UnsafePointer<UInt16>, values v: UnsafePointer<UInt16>,
                              stride: Int, count: Int, dimension: Int, scale: Float,
                              scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>,
                              isa: KernelISA = .active) {
        ck_vec_attend_f16(isa.level, q, k, v, stride, count, dimension, scale, scores, out)
    }

    /// Rounds `count` floats to fp16 bits (nearest, ties to even).
    public static func toHalf(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<UInt16>, count: Int,
                              isa: KernelISA = .active) {
        ck_vec_to_f16(isa.level, x, out, count)
    }
}
