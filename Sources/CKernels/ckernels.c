// Dispatch, CPU detection, exact format conversions and the reference quantizers.
#include "ck_internal.h"
#include <math.h>

int ck_cpu_isa(void) {
#if defined(CK_X86_EMULATED)  // see ck_x86.h: every level runs, AVX-512 through SIMDe
    return CK_ISA_AVX512VNNI;
#elif defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")))
        return CK_ISA_GENERIC;
    if (!(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
          __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")))
        return CK_ISA_AVX2;
    return __builtin_cpu_supports("avx512vnni") ? CK_ISA_AVX512VNNI : CK_ISA_AVX512;
#else
    return CK_ISA_GENERIC;
#endif
}

#if defined(__x86_64__) || defined(__i386__)
#define CK_X86 1
#else
#define CK_X86 0
#endif

size_t ck_act_bytes(uint32_t type, size_t cols) {
    switch (type) {
    case CK_TYPE_Q4_0: case CK_TYPE_Q4_1: return cols / CK_QK * sizeof(ck_act_q8);
    case CK_TYPE_Q8_0: return cols / CK_QK * (sizeof(ck_act_q8) + CK_Q8_0_BSUM_BYTES);
    case CK_TYPE_Q4_K: case CK_TYPE_Q6_K: return cols / CK_QKK * sizeof(ck_act_q8k);
    default: return 0;
    }
}

void ck_quantize_act(int isa, uint32_t type, const float *x, void *dst, size_t cols) {
#if CK_X86
    if (isa >= CK_ISA_AVX2) ck_avx2_quantize_act(type, x, dst, cols);
    else
#endif
        ck_generic_quantize_act(type, x, dst, cols);
    (void)isa;
    // On every level, so activations quantized at one level serve any other.
    if (type == CK_TYPE_Q8_0) ck_set_q8_0_block_sums(dst, cols / CK_QK);
}

static ck_rows_fn ck_select_rows(int isa, uint32_t type) {
    ck_rows_fn fn = 0;
#if CK_X86
    if (isa >= CK_ISA_AVX512VNNI && !fn) fn = ck_vnni_rows(type);
    if (isa >= CK_ISA_AVX512 && !fn) fn = ck_avx512_rows(type);
    if (isa >= CK_ISA_AVX2 && !fn) fn = ck_avx2_rows(type);
#endif
    (void)isa;
    return fn ? fn : ck_generic_rows(type);
}

void ck_dot_rows(int isa, uint32_t type, const void *w, size_t row_bytes, size_t nrows, size_t cols,
                 const void *act, size_t act_stride, size_t nvec, float *y, size_t y_stride) {
    ck_rows_fn fn = ck_select_rows(isa, type);
    if (fn) fn(w, row_bytes, nrows, cols, act, act_stride, nvec, y, y_stride);
}

int ck_self_check(int isa) {
    enum { COLS = 512, ROWS = 3 };
    static const uint32_t types[] = {CK_TYPE_F32, CK_TYPE_F16, CK_TYPE_BF16, CK_TYPE_Q4_0,
                                     CK_TYPE_Q4_1, CK_TYPE_Q8_0, CK_TYPE_Q4_K, CK_TYPE_Q6_K};
    float x[COLS], src[COLS], ours[ROWS], ref[ROWS];
    _Alignas(64) uint8_t w[ROWS * COLS * 4];
    // The largest activation layout, Q8_0's (blocks, then block sums).
    _Alignas(64) uint8_t act[COLS / CK_QK * (sizeof(ck_act_q8) + CK_Q8_0_BSUM_BYTES)];
    _Static_assert(COLS / CK_QKK * sizeof(ck_act_q8k) <= sizeof act, "self-check activation buffer");
    uint32_t state = 12345;
    for (size_t i = 0; i < COLS; i++) {
        state = state * 1664525u + 1013904223u;
        x[i] = (float)(state >> 8) / 16777216.0f - 0.5f;
    }
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        const uint32_t type = types[t];
        size_t row_bytes = 0;
        for (size_t r = 0; r < ROWS; r++) {
            for (size_t i = 0; i < COLS; i++) {
                state = state * 1664525u + 1013904223u;
                src[i] = ((float)(state >> 8) / 16777216.0f - 0.5f) * 0.1f;
            }
            switch (type) {
            case CK_TYPE_F32: row_bytes = COLS * 4; break;
            case CK_TYPE_F16: case CK_TYPE_BF16: row_bytes = COLS * 2; break;
            case CK_TYPE_Q4_0: row_bytes = COLS / CK_QK * sizeof(ck_block_q4_0); break;
            case CK_TYPE_Q4_1: row_bytes = COLS / CK_QK * sizeof(ck_block_q4_1); break;
            case CK_TYPE_Q8_0: row_bytes = COLS / CK_QK * sizeof(ck_block_q8_0); break;
            case CK_TYPE_Q4_K: row_bytes = COLS / CK_QKK * sizeof(ck_block_q4_K); break;
            default: row_bytes = COLS / CK_QKK * sizeof(ck_block_q6_K); break;
            }
            ck_quantize_row(type, src, w + r * row_bytes, COLS);
        }
        const size_t act_bytes = ck_act_bytes(type, COLS);
        const void *a = x;
        if (act_bytes) {
            ck_quantize_act(CK_ISA_GENERIC, type, x, act, COLS);
            a = act;
        }
        ck_dot_rows(CK_ISA_GENERIC, type, w, row_bytes, ROWS, COLS, a, 0, 1, ref, ROWS);
        if (act_bytes) ck_quantize_act(isa, type, x, act, COLS);
        ck_dot_rows(isa, type, w, row_bytes, ROWS, COLS, a, 0, 1, ours, ROWS);
        for (size_t r = 0; r < ROWS; r++)
            if (!(fabsf(ours[r] - ref[r]) <= 1e-4f * (fabsf(ref[r]) + 1.0f))) return 0;
    }
    float v[COLS], u[COLS];
    for (size_t i = 0; i < COLS; i++) { v[i] = x[i]; u[i] = x[i]; }
    ck_vec_softmax(isa, v, COLS);
    ck_generic_softmax(u, COLS);
    for (size_t i = 0; i < COLS; i++)
        if (!(fabsf(v[i] - u[i]) <= 1e-5f * u[i] + 1e-9f)) return 0;
    return 1;
}

// ---- Vector helpers ----

float ck_vec_dot(int isa, const float *a, const float *b, size_t n) {
#if CK_X86
    if (isa >= CK_ISA_AVX2) return ck_avx2_dot(a, b, n);
#endif
    (void)isa;
    return ck_generic_dot(a, b, n);
}
void ck_vec_axpy(int isa, float a, const float *x, float *y, size_t n) {
#if CK_X86
    if (isa >= CK_ISA_AVX2) { ck_avx2_axpy(a, x, y, n); return; }
#endif
    (void)isa;
    ck_generic_axpy(a, x, y, n);
}
void ck_vec_scale(int isa, float *x, float s, size_t n) {
#if CK_X86
    if (isa >= CK_ISA_AVX2) { ck_avx2_scale(x, s, n); return; }
#endif
    (void)isa;
    ck_generic_scale(x, s, n);
}
void ck_vec_add(int isa, const float *x, float *y, size_t n) {
#if CK_X86
    if (isa >= CK_ISA_AVX2) { ck_avx2_add(x, y, n); return; }
#endif
    (void)isa;
    ck_generic_add(x, y, n);
}
void ck_vec_rmsnorm(int isa, const float *x, const float *w, float *out, size_t n, float eps) {
#if CK_X86
    if (isa >= CK_ISA_AVX2) { ck_avx2_rmsnorm(x, w, out, n, eps); return; }
#endif
    (void)isa;
    ck_generic_rmsnorm(x, w, out, n, eps);
}
void ck_vec_softmax(int isa, float *x, size_t n) {
#if CK_X86
    if (isa >= CK_ISA_AVX2) { ck_avx2_softmax(x, n); return; }
#endif
    (void)isa;
    ck_generic_softmax(x, n);
}
void ck_vec_silu_mul(int isa, float *gate, const float *up, size_t n) {
#if CK_X86
    if (isa >= CK_ISA_AVX2) { ck_avx2_silu_mul(gate, up, n); return; }
#endif
    (void)isa;
    ck_generic_silu_mul(gate, up, n);
}

// ---- Scalar conversions ----

float ck_fp16_to_fp32(uint16_t h) { return ck_half_to_float_inline(h); }

uint16_t ck_fp32_to_fp16(float f) {
    // Scale so that the float adder itself rounds to the half's precision (nearest even),
    // covering normals, subnormals, overflow to inf and NaN.
    float base = (fabsf(f) * 0x1.0p+112f) * 0x1.0p-110f;
    const uint32_t w = ck_f32_bits(f);
    const uint32_t shl1_w = w + w;
    const uint32_t sign = w & 0x80000000u;
    uint32_t bias = shl1_w & 0xFF000000u;
    if (bias < 0x71000000u) bias = 0x71000000u;
    base = ck_f32_from_bits((bias >> 1) + 0x07800000u) + base;
    const uint32_t bits = ck_f32_bits(base);
    const uint32_t exp_bits = (bits >> 13) & 0x00007C00u;
    const uint32_t mantissa_bits = bits & 0x00000FFFu;
    const uint32_t nonsign = exp_bits + mantissa_bits;
    return (uint16_t)((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

float ck_bf16_to_fp32(uint16_t h) { return ck_f32_from_bits((uint32_t)h << 16); }

uint16_t ck_fp32_to_bf16(float f) {
    const uint32_t u = ck_f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 64);  // quiet NaN
    return (uint16_t)((u + (0x7fffu + ((u >> 16) & 1))) >> 16);
}

// ---- Dequantization ----

void ck_dequantize_row(uint32_t type, const void *src, float *dst, size_t count) {
    switch (type) {
    case CK_TYPE_F32: memcpy(dst, src, count * sizeof(float)); return;
    case CK_TYPE_F16: {
        const uint16_t *s = src;
        for (size_t i = 0; i < count; i++) dst[i] = ck_half_to_float_inline(s[i]);
        return;
    }
    case CK_TYPE_BF16: {
        const uint16_t *s = src;
        for (size_t i = 0; i < count; i++) dst[i] = ck_bf16_to_fp32(s[i]);
        return;
    }
    case CK_TYPE_Q8_0: {
        const ck_block_q8_0 *b = src;
        for (size_t i = 0; i < count / CK_QK; i++, dst += CK_QK) {
            const float d = ck_half_to_float_inline(b[i].d);
            for (int j = 0; j < CK_QK; j++) dst[j] = d * b[i].qs[j];
        }
        return;
    }
    case CK_TYPE_Q4_0: {
        const ck_block_q4_0 *b = src;
        for (size_t i = 0; i < count / CK_QK; i++, dst += CK_QK) {
            const float d = ck_half_to_float_inline(b[i].d);
            for (int j = 0; j < 16; j++) {
                dst[j] = d * ((b[i].qs[j] & 0xF) - 8);
                dst[j + 16] = d * ((b[i].qs[j] >> 4) - 8);
            }
        }
        return;
    }
    case CK_TYPE_Q4_1: {
        const ck_block_q4_1 *b = src;
        for (size_t i = 0; i < count / CK_QK; i++, dst += CK_QK) {
            const float d = ck_half_to_float_inline(b[i].d), m = ck_half_to_float_inline(b[i].m);
            for (int j = 0; j < 16; j++) {
                dst[j] = d * (b[i].qs[j] & 0xF) + m;
                dst[j + 16] = d * (b[i].qs[j] >> 4) + m;
            }
        }
        return;
    }
    case CK_TYPE_Q4_K: {
        const ck_block_q4_K *b = src;
        for (size_t i = 0; i < count / CK_QKK; i++) {
            const float d = ck_half_to_float_inline(b[i].d), dmin = ck_half_to_float_inline(b[i].dmin);
            const uint8_t *q = b[i].qs;
            for (int c = 0; c < 4; c++, q += 32) {
                uint8_t sc0, m0, sc1, m1;
                ck_q4k_scale_min(2 * c, b[i].scales, &sc0, &m0);
                ck_q4k_scale_min(2 * c + 1, b[i].scales, &sc1, &m1);
                const float d0 = d * sc0, o0 = dmin * m0, d1 = d * sc1, o1 = dmin * m1;
                for (int l = 0; l < 32; l++) *dst++ = d0 * (q[l] & 0xF) - o0;
                for (int l = 0; l < 32; l++) *dst++ = d1 * (q[l] >> 4) - o1;
            }
        }
        return;
    }
    case CK_TYPE_Q6_K: {
        const ck_block_q6_K *b = src;
        for (size_t i = 0; i < count / CK_QKK; i++, dst += CK_QKK) {
            const float d = ck_half_to_float_inline(b[i].d);
            for (int h = 0; h < 2; h++) {
                const uint8_t *ql = b[i].ql + 64 * h, *qh = b[i].qh + 32 * h;
                const int8_t *sc = b[i].scales + 8 * h;
                float *y = dst + 128 * h;
                for (int l = 0; l < 32; l++) {
                    const int is = l / 16;
                    y[l] = d * sc[is] * (((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32);
                    y[l + 32] = d * sc[is + 2] * (((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
                    y[l + 64] = d * sc[is + 4] * (((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                    y[l + 96] = d * sc[is + 6] * (((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
                }
            }
        }
        return;
    }
    default: return;
    }
}

// ---- Reference quantizers (ggml-quants.c semantics) ----

static void ck_quantize_q8_0(const float *x, ck_block_q8_0 *y, size_t nb) {
    for (size_t i = 0; i < nb; i++, x += CK_QK) {
        float amax = 0.0f;
        for (int j = 0; j < CK_QK; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = ck_fp32_to_fp16(d);
        for (int j = 0; j < CK_QK; j++) y[i].qs[j] = (int8_t)roundf(x[j] * id);
    }
}

static void ck_quantize_q4_0(const float *x, ck_block_q4_0 *y, size_t nb) {
    for (size_t i = 0; i < nb; i++, x += CK_QK) {
        float amax = 0.0f, max = 0.0f;  // the signed value of largest magnitude, first one wins
        for (int j = 0; j < CK_QK; j++) {
            if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
        }
        const float d = max / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = ck_fp32_to_fp16(d);
        for (int j = 0; j < 16; j++) {
            // ggml built with FMA fuses x*id + 8.5 (gguf-py emulates this in double): so do we.
            const int a = (int8_t)fmaf(x[j], id, 8.5f), b = (int8_t)fmaf(x[j + 16], id, 8.5f);
            const uint8_t q0 = (uint8_t)(a < 15 ? a : 15), q1 = (uint8_t)(b < 15 ? b : 15);
            y[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

static void ck_quantize_q4_1(const float *x, ck_block_q4_1 *y, size_t nb) {
    for (size_t i = 0; i < nb; i++, x += CK_QK) {
        float min = x[0], max = x[0];
        for (int j = 1; j < CK_QK; j++) {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
        const float d = (max - min) / 15.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = ck_fp32_to_fp16(d);
        y[i].m = ck_fp32_to_fp16(min);
        for (int j = 0; j < 16; j++) {
            // Two roundings, unfused, as ggml's reference and gguf-py compute it.
            volatile float s0 = (x[j] - min) * id, s1 = (x[j + 16] - min) * id;
            const int a = (int8_t)(s0 + 0.5f), b = (int8_t)(s1 + 0.5f);
            const uint8_t q0 = (uint8_t)(a < 15 ? a : 15), q1 = (uint8_t)(b < 15 ? b : 15);
            y[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

static inline int ck_nearest_int(float f) { return (int)lrintf(f); }

// Q4_K: each 32-element sub-block gets scale and min = its range over [min(0, lo), hi],
// both then coded with 6 bits against the super-block's fp16 d and dmin.
static void ck_quantize_q4_K(const float *x, ck_block_q4_K *y, size_t nb) {
    for (size_t i = 0; i < nb; i++, x += CK_QKK) {
        float scales[8], mins[8], maxScale = 0.0f, maxMin = 0.0f;
        for (int j = 0; j < 8; j++) {
            float lo = x[32 * j], hi = x[32 * j];
            for (int l = 1; l < 32; l++) {
                lo = fminf(lo, x[32 * j + l]);
                hi = fmaxf(hi, x[32 * j + l]);
            }
            lo = fminf(lo, 0.0f);
            scales[j] = (hi - lo) / 15.0f;
            mins[j] = -lo;
            maxScale = fmaxf(maxScale, scales[j]);
            maxMin = fmaxf(maxMin, mins[j]);
        }
        y[i].d = ck_fp32_to_fp16(maxScale / 63.0f);
        y[i].dmin = ck_fp32_to_fp16(maxMin / 63.0f);
        const float d = ck_half_to_float_inline(y[i].d), dmin = ck_half_to_float_inline(y[i].dmin);
        uint8_t sc[8], mn[8];
        for (int j = 0; j < 8; j++) {
            int s = d > 0.0f ? ck_nearest_int(scales[j] / d) : 0;
            int m = dmin > 0.0f ? ck_nearest_int(mins[j] / dmin) : 0;
            sc[j] = (uint8_t)(s < 0 ? 0 : s > 63 ? 63 : s);
            mn[j] = (uint8_t)(m < 0 ? 0 : m > 63 ? 63 : m);
        }
        memset(y[i].scales, 0, sizeof(y[i].scales));
        for (int j = 0; j < 8; j++) {
            if (j < 4) {
                y[i].scales[j] = sc[j];
                y[i].scales[j + 4] = mn[j];
            } else {
                y[i].scales[j + 4] = (uint8_t)((sc[j] & 0xF) | ((mn[j] & 0xF) << 4));
                y[i].scales[j - 4] |= (uint8_t)((sc[j] >> 4) << 6);
                y[i].scales[j] |= (uint8_t)((mn[j] >> 4) << 6);
            }
        }
        uint8_t L[CK_QKK];
        for (int j = 0; j < 8; j++) {
            const float ds = d * sc[j], off = dmin * mn[j];
            for (int l = 0; l < 32; l++) {
                int q = ds > 0.0f ? ck_nearest_int((x[32 * j + l] + off) / ds) : 0;
                L[32 * j + l] = (uint8_t)(q < 0 ? 0 : q > 15 ? 15 : q);
            }
        }
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
                y[i].qs[32 * c + l] = (uint8_t)(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
    }
}

// Q6_K: each 16-element group maps its largest-magnitude value to -32 (as Q4_0 does
// with -8); group scales are coded as int8 against the super-block's fp16 d.
static void ck_quantize_q6_K(const float *x, ck_block_q6_K *y, size_t nb) {
    for (size_t i = 0; i < nb; i++, x += CK_QKK) {
        float scales[16], maxScale = 0.0f, amaxScale = 0.0f;
        for (int g = 0; g < 16; g++) {
            float amax = 0.0f, max = 0.0f;
            for (int l = 0; l < 16; l++) {
                const float v = x[16 * g + l];
                if (amax < fabsf(v)) { amax = fabsf(v); max = v; }
            }
            scales[g] = max / -32.0f;
            if (amaxScale < fabsf(scales[g])) { amaxScale = fabsf(scales[g]); maxScale = scales[g]; }
        }
        uint8_t L[CK_QKK];
        if (amaxScale == 0.0f) {
            memset(y[i].ql, 0x88, sizeof(y[i].ql));  // q = 32 - 32 = 0 everywhere
            memset(y[i].qh, 0xAA, sizeof(y[i].qh));
            memset(y[i].scales, 0, sizeof(y[i].scales));
            y[i].d = 0;
            continue;
        }
        const float iscale = -128.0f / maxScale;
        y[i].d = ck_fp32_to_fp16(1.0f / iscale);
        const float d = ck_half_to_float_inline(y[i].d);
        for (int g = 0; g < 16; g++) {
            int s = ck_nearest_int(iscale * scales[g]);
            s = s < -128 ? -128 : s > 127 ? 127 : s;
            y[i].scales[g] = (int8_t)s;
            const float dg = d * (float)s;
            for (int l = 0; l < 16; l++) {
                int q = dg != 0.0f ? ck_nearest_int(x[16 * g + l] / dg) : 0;
                q = q < -32 ? -32 : q > 31 ? 31 : q;
                L[16 * g + l] = (uint8_t)(q + 32);
            }
        }
        for (int h = 0; h < 2; h++) {
            const uint8_t *Lh = L + 128 * h;
            for (int l = 0; l < 32; l++) {
                y[i].ql[64 * h + l] = (uint8_t)((Lh[l] & 0xF) | ((Lh[l + 64] & 0xF) << 4));
                y[i].ql[64 * h + l + 32] = (uint8_t)((Lh[l + 32] & 0xF) | ((Lh[l + 96] & 0xF) << 4));
                y[i].qh[32 * h + l] = (uint8_t)((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) |
                                                ((Lh[l + 64] >> 4) << 4) | ((Lh[l + 96] >> 4) << 6));
            }
        }
    }
}

int ck_quantize_row(uint32_t type, const float *src, void *dst, size_t count) {
    switch (type) {
    case CK_TYPE_F32: memcpy(dst, src, count * sizeof(float)); return 0;
    case CK_TYPE_F16: {
        uint16_t *d = dst;
        for (size_t i = 0; i < count; i++) d[i] = ck_fp32_to_fp16(src[i]);
        return 0;
    }
    case CK_TYPE_BF16: {
        uint16_t *d = dst;
        for (size_t i = 0; i < count; i++) d[i] = ck_fp32_to_bf16(src[i]);
        return 0;
    }
    case CK_TYPE_Q8_0: ck_quantize_q8_0(src, dst, count / CK_QK); return 0;
    case CK_TYPE_Q4_0: ck_quantize_q4_0(src, dst, count / CK_QK); return 0;
    case CK_TYPE_Q4_1: ck_quantize_q4_1(src, dst, count / CK_QK); return 0;
    case CK_TYPE_Q4_K: ck_quantize_q4_K(src, dst, count / CK_QKK); return 0;
    case CK_TYPE_Q6_K: ck_quantize_q6_K(src, dst, count / CK_QKK); return 0;
    default: return -1;
    }
}
void ck_vec_attend(int isa, const float *q, const float *k, const float *v, size_t stride, size_t n, size_t dim,
                   float scale, float *scores, float *out) {
#if CK_X86
    if (isa >= CK_ISA_AVX2) { ck_avx2_attend(q, k, v, stride, n, dim, scale, scores, out); return; }
#endif
    (void)isa;
    ck_generic_attend(q, k, v, stride, n, dim, scale, scores, out, 0);
}

void ck_vec_to_f16(int isa, const float *x, uint16_t *out, size_t n) {
#if CK_X86
    if (isa >= CK_ISA_AVX2) { ck_avx2_to_f16(x, out, n); return; }
#endif
    (void)isa;
    for (size_t i = 0; i < n; i++) out[i] = ck_fp32_to_fp16(x[i]);
}

void ck_vec_attend_f16(int isa, const float *q, const uint16_t *k, const uint16_t *v, size_t stride, size_t n,
                       size_t dim, float scale, float *scores, float *out) {
#if CK_X86
    if (isa >= CK_ISA_AVX2) { ck_avx2_attend_f16(q, k, v, stride, n, dim, scale, scores, out); return; }
#endif
    (void)isa;
    ck_generic_attend(q, k, v, stride, n, dim, scale, scores, out, 1);
}
