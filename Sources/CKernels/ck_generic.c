// Portable C kernels: the fallback on CPUs without AVX2 and the arm64 path until a
// NEON kernel exists. For every weight type and every vector helper they follow the
// AVX2 kernels' floating-point order exactly: an AVX2 register is an array of eight
// floats here (lane k of an accumulator sums what lane k sums there), its horizontal
// sum is ck_g_hsum8, a fused multiply-add is fmaf, and exp is the same polynomial;
// activation quantization rounds the same way. So a forced-generic run gives the x86
// levels' bits, the same logits and greedy tokens, and so does an arm64 build
// (ck_check's digest). The eight-lane loops leave the compiler free to vectorize
// without reordering (lanes are independent); on x86 without FMA, fmaf is a library
// call, slow but exact.
#include "ck_internal.h"
#include <math.h>

// No contraction of a*b + c into one rounding unless the source says fmaf: the AVX2
// kernels round the product first wherever they do not fuse, and so must this file,
// whatever the compiler's default (gcc fuses across statements in GNU C mode).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

// ck_hsum256's order: lanes k and k+4, then pairs (0, 2) and (1, 3), then the two.
static inline float ck_g_hsum8(const float *v) {
    const float s0 = v[0] + v[4], s1 = v[1] + v[5], s2 = v[2] + v[6], s3 = v[3] + v[7];
    return (s0 + s2) + (s1 + s3);
}

static void ck_generic_quantize_q8(uint32_t type, const float *x, ck_act_q8 *y, size_t nb) {
    for (size_t i = 0; i < nb; i++, x += CK_QK) {
        float amax = 0.0f;
        for (int j = 0; j < CK_QK; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f, id = amax != 0.0f ? 127.0f / amax : 0.0f;
        int sum = 0;
        for (int j = 0; j < CK_QK; j++) {
            const int q = (int)nearbyintf(x[j] * id);
            y[i].qs[j] = (int8_t)q;
            sum += q;
        }
        ck_set_act_scales(&y[i], type, d, sum);
    }
}

static void ck_generic_quantize_q8k(const float *x, ck_act_q8k *y, size_t nb) {
    for (size_t i = 0; i < nb; i++, x += CK_QKK) {
        float amax = 0.0f;
        for (int j = 0; j < CK_QKK; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            for (int l = 0; l < 16; l++) {
                const int q = (int)nearbyintf(x[16 * g + l] * id);
                y[i].qs[16 * g + l] = (int8_t)q;
                sum += q;
            }
            y[i].bsums[g] = (int16_t)sum;
        }
        y[i].d = d;
    }
}

void ck_generic_quantize_act(uint32_t type, const float *x, void *dst, size_t cols) {
    switch (type) {
    case CK_TYPE_Q4_0: case CK_TYPE_Q4_1: case CK_TYPE_Q8_0: ck_generic_quantize_q8(type, x, dst, cols / CK_QK); break;
    case CK_TYPE_Q4_K: case CK_TYPE_Q6_K: ck_generic_quantize_q8k(x, dst, cols / CK_QKK); break;
    default: break;
    }
}

// Element i of p: a float, an fp16 value or a bf16 value, converted exactly.
enum { CK_G_F32, CK_G_F16, CK_G_BF16 };
static inline float ck_g_load(const void *p, size_t i, int kind) {
    switch (kind) {
    case CK_G_F16: return ck_half_to_float_inline(((const uint16_t *)p)[i]);
    case CK_G_BF16: return ck_f32_from_bits((uint32_t)((const uint16_t *)p)[i] << 16);
    default: return ((const float *)p)[i];
    }
}

// Floats against floats, fp16 or bf16 values: AVX2's ck_a_dot_any (four 8-lane
// accumulators over 32 columns, the rest of the 8s into the first, a horizontal sum,
// then the tail).
static inline float ck_g_dot_any(const float *x, const void *y, size_t n, int kind) {
    float a[4][8] = {{0}};
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int q = 0; q < 4; q++)
            for (int k = 0; k < 8; k++) a[q][k] = fmaf(x[i + 8 * q + k], ck_g_load(y, i + 8 * q + k, kind), a[q][k]);
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) a[0][k] = fmaf(x[i + k], ck_g_load(y, i + k, kind), a[0][k]);
    float t[8];
    for (int k = 0; k < 8; k++) t[k] = (a[0][k] + a[1][k]) + (a[2][k] + a[3][k]);
    float s = ck_g_hsum8(t);
    for (; i < n; i++) s = fmaf(x[i], ck_g_load(y, i, kind), s);
    return s;
}

static inline float ck_g_dot_f32(const void *w, const void *a, size_t n) { return ck_g_dot_any(w, a, n, CK_G_F32); }

// Weights first in AVX2's bf16 dot; the products are the same either way.
static inline float ck_g_dot_bf16(const void *w, const void *a, size_t n) { return ck_g_dot_any(a, w, n, CK_G_BF16); }

// AVX2's F16 rows (decode and prefill alike): one 8-lane accumulator over the groups of
// eight columns, its horizontal sum, then the tail (ck_f16_finish).
static inline float ck_g_dot_f16(const void *w, const void *a, size_t n) {
    const uint16_t *x = w;
    const float *y = a;
    float acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] = fmaf(ck_half_to_float_inline(x[i + k]), y[i + k], acc[k]);
    float s = ck_g_hsum8(acc);
    for (; i < n; i++) s = fmaf(ck_half_to_float_inline(x[i]), y[i], s);
    return s;
}

// The x86 levels' order for the 32-blocks (ck_q32_rows.h): a multiply-add per block
// over the exact integer sum of its products (Q4 nibbles taken as unsigned), the offset
// term (Q4_0's d_w and -8, Q4_1's minimum) in a second chain, joined once.
static inline float ck_g_dot_q32(uint32_t type, const void *w, const void *a, size_t n) {
    const uint8_t *x = w;
    const size_t bytes = type == CK_TYPE_Q4_1 ? sizeof(ck_block_q4_1)
                         : type == CK_TYPE_Q8_0 ? sizeof(ck_block_q8_0) : sizeof(ck_block_q4_0);
    const size_t qs = type == CK_TYPE_Q4_1 ? offsetof(ck_block_q4_1, qs) : offsetof(ck_block_q4_0, qs);
    const ck_act_q8 *y = a;
    float acc = 0.0f, off = 0.0f;
    for (size_t i = 0; i < n / CK_QK; i++, x += bytes) {
        int sum = 0;
        if (type == CK_TYPE_Q8_0)
            for (int j = 0; j < 32; j++) sum += (int8_t)x[qs + j] * y[i].qs[j];
        else
            for (int j = 0; j < 16; j++) sum += (x[qs + j] & 0xF) * y[i].qs[j] + (x[qs + j] >> 4) * y[i].qs[j + 16];
        uint16_t h[2];
        memcpy(h, x, sizeof h);
        const float dw = ck_half_to_float_inline(h[0]);
        acc = fmaf(dw * y[i].d, (float)sum, acc);
        if (type != CK_TYPE_Q8_0) off = fmaf(type == CK_TYPE_Q4_1 ? ck_half_to_float_inline(h[1]) : dw, y[i].s, off);
    }
    return type == CK_TYPE_Q4_1 ? acc + off : type == CK_TYPE_Q4_0 ? fmaf(-8.0f, off, acc) : acc;
}
static inline float ck_g_dot_q4_0(const void *w, const void *a, size_t n) { return ck_g_dot_q32(CK_TYPE_Q4_0, w, a, n); }
static inline float ck_g_dot_q4_1(const void *w, const void *a, size_t n) { return ck_g_dot_q32(CK_TYPE_Q4_1, w, a, n); }
static inline float ck_g_dot_q8_0(const void *w, const void *a, size_t n) { return ck_g_dot_q32(CK_TYPE_Q8_0, w, a, n); }

// The K-quants in AVX2's order too: lane k of eight holds, per super-block, the exact
// integer sum over elements 4k..4k+3 of each 32-column chunk (what maddubs + madd, or
// vpdpbusd, leave in 32-bit lane k), scaled per chunk; one multiply-add per lane and
// super-block, a horizontal sum, and Q4_K's minimum term in a chain of its own.
static inline float ck_g_dot_q4_K(const void *w, const void *a, size_t n) {
    const ck_block_q4_K *x = w;
    const ck_act_q8k *y = a;
    float acc[8] = {0}, offset = 0.0f;
    for (size_t i = 0; i < n / CK_QKK; i++) {
        uint8_t sc[8], mn[8];
        for (int j = 0; j < 8; j++) ck_q4k_scale_min(j, x[i].scales, &sc[j], &mn[j]);
        int msum = 0;
        for (int j = 0; j < 8; j++) msum += mn[j] * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
        const float d = ck_half_to_float_inline(x[i].d) * y[i].d;
        for (int k = 0; k < 8; k++) {
            int isum = 0;
            for (int c = 0; c < 4; c++) {
                const uint8_t *q = x[i].qs + 32 * c;
                const int8_t *p = y[i].qs + 64 * c;
                int lo = 0, hi = 0;
                for (int l = 4 * k; l < 4 * k + 4; l++) {
                    lo += (q[l] & 0xF) * p[l];
                    hi += (q[l] >> 4) * p[l + 32];
                }
                isum += sc[2 * c] * lo + sc[2 * c + 1] * hi;
            }
            acc[k] = fmaf(d, (float)isum, acc[k]);
        }
        offset = fmaf(ck_half_to_float_inline(x[i].dmin) * y[i].d, (float)msum, offset);
    }
    return ck_g_hsum8(acc) - offset;
}

// Q6_K's quants (stored q + 32) for a 32-column chunk k (0..3) of half h, element l.
static inline int ck_g_q6(const ck_block_q6_K *x, int h, int k, int l) {
    const uint8_t *ql = x->ql + 64 * h + (k & 1) * 32, *qh = x->qh + 32 * h;
    const int lo = k < 2 ? ql[l] & 0xF : ql[l] >> 4;
    return lo | (((qh[l] >> (2 * k)) & 3) << 4);
}

static inline float ck_g_dot_q6_K(const void *w, const void *a, size_t n) {
    const ck_block_q6_K *x = w;
    const ck_act_q8k *y = a;
    float acc[8] = {0};
    for (size_t i = 0; i < n / CK_QKK; i++) {
        const int8_t *sc = x[i].scales;
        for (int k = 0; k < 8; k++) {
            int isum = -32 * (y[i].bsums[2 * k] * sc[2 * k] + y[i].bsums[2 * k + 1] * sc[2 * k + 1]);
            for (int h = 0; h < 2; h++)
                for (int c = 0; c < 4; c++) {
                    const int8_t *p = y[i].qs + 128 * h + 32 * c;
                    int dot = 0;
                    for (int l = 4 * k; l < 4 * k + 4; l++) dot += ck_g_q6(&x[i], h, c, l) * p[l];
                    isum += sc[8 * h + 2 * c + (k >= 4)] * dot;
                }
            acc[k] = fmaf(ck_half_to_float_inline(x[i].d) * y[i].d, (float)isum, acc[k]);
        }
    }
    return ck_g_hsum8(acc);
}

#define CK_NOATTR
CK_DEFINE_ROWS(ck_g_rows_f32, CK_NOATTR, ck_g_dot_f32)
CK_DEFINE_ROWS(ck_g_rows_f16, CK_NOATTR, ck_g_dot_f16)
CK_DEFINE_ROWS(ck_g_rows_bf16, CK_NOATTR, ck_g_dot_bf16)
CK_DEFINE_ROWS(ck_g_rows_q4_0, CK_NOATTR, ck_g_dot_q4_0)
CK_DEFINE_ROWS(ck_g_rows_q4_1, CK_NOATTR, ck_g_dot_q4_1)
CK_DEFINE_ROWS(ck_g_rows_q8_0, CK_NOATTR, ck_g_dot_q8_0)
CK_DEFINE_ROWS(ck_g_rows_q4_K, CK_NOATTR, ck_g_dot_q4_K)
CK_DEFINE_ROWS(ck_g_rows_q6_K, CK_NOATTR, ck_g_dot_q6_K)

ck_rows_fn ck_generic_rows(uint32_t type) {
    switch (type) {
    case CK_TYPE_F32: return ck_g_rows_f32;
    case CK_TYPE_F16: return ck_g_rows_f16;
    case CK_TYPE_BF16: return ck_g_rows_bf16;
    case CK_TYPE_Q4_0: return ck_g_rows_q4_0;
    case CK_TYPE_Q4_1: return ck_g_rows_q4_1;
    case CK_TYPE_Q8_0: return ck_g_rows_q8_0;
    case CK_TYPE_Q4_K: return ck_g_rows_q4_K;
    case CK_TYPE_Q6_K: return ck_g_rows_q6_K;
    default: return 0;
    }
}

// ---- Vector helpers (AVX2's order: full groups of eight as lanes, then the tail) ----

// AVX2's ck_exp256, one lane: 2^n * e^r with a degree-6 polynomial. (Tails past the
// last group of eight use expf there and here.)
static inline float ck_g_exp(float x) {
    x = fminf(fmaxf(x, -87.3f), 88.3f);
    const float n = rintf(x * 1.44269504088896341f);
    float r = fmaf(-n, 0.693359375f, x);
    r = fmaf(-n, -2.12194440e-4f, r);
    float p = 1.0f / 720.0f;
    p = fmaf(p, r, 1.0f / 120.0f);
    p = fmaf(p, r, 1.0f / 24.0f);
    p = fmaf(p, r, 1.0f / 6.0f);
    p = fmaf(p, r, 0.5f);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    return p * ck_f32_from_bits((uint32_t)((int32_t)n + 127) << 23);
}

float ck_generic_dot(const float *a, const float *b, size_t n) { return ck_g_dot_f32(a, b, n); }

static inline void ck_g_axpy_any(float a, const void *x, float *y, size_t n, int kind) {
    for (size_t i = 0; i < n; i++) y[i] = fmaf(a, ck_g_load(x, i, kind), y[i]);
}

void ck_generic_axpy(float a, const float *x, float *y, size_t n) { ck_g_axpy_any(a, x, y, n, CK_G_F32); }

void ck_generic_scale(float *x, float s, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] *= s;
}

void ck_generic_add(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

void ck_generic_rmsnorm(const float *x, const float *w, float *out, size_t n, float eps) {
    const float r = 1.0f / sqrtf(ck_g_dot_f32(x, x, n) / (float)n + eps);
    for (size_t i = 0; i < n; i++) out[i] = x[i] * r * w[i];
}

void ck_generic_softmax(float *x, size_t n) {
    if (n == 0) return;
    float max = x[0];
    for (size_t i = 1; i < n; i++) max = fmaxf(max, x[i]);
    float lanes[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) {
            x[i + k] = ck_g_exp(x[i + k] - max);
            lanes[k] += x[i + k];
        }
    float sum = ck_g_hsum8(lanes);
    for (; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    ck_generic_scale(x, 1.0f / sum, n);
}

void ck_generic_silu_mul(float *gate, const float *up, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) {
            const float g = gate[i + k];
            gate[i + k] = g / (1.0f + ck_g_exp(0.0f - g)) * up[i + k];
        }
    for (; i < n; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

// Dot, softmax and axpy in turn, over float or fp16 keys and values: one code path, so
// an fp16 cache attends exactly as its float values would.
void ck_generic_attend(const float *q, const void *k, const void *v, size_t stride, size_t n, size_t dim, float scale,
                       float *scores, float *out, int half) {
    const size_t esize = half ? 2 : 4;
    const int kind = half ? CK_G_F16 : CK_G_F32;
    for (size_t j = 0; j < n; j++) scores[j] = ck_g_dot_any(q, (const uint8_t *)k + j * stride * esize, dim, kind) * scale;
    ck_generic_softmax(scores, n);
    memset(out, 0, dim * sizeof(float));
    for (size_t j = 0; j < n; j++) ck_g_axpy_any(scores[j], (const uint8_t *)v + j * stride * esize, out, dim, kind);
}
