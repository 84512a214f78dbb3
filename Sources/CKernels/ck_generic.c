// Portable C kernels: the fallback on CPUs without AVX2 and the arm64 path until a
// NEON kernel exists. Same activation formats and results (up to float summation
// order) as the SIMD paths.
#include "ck_internal.h"
#include <math.h>

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

// Element i of p: a float, or an fp16 value converted exactly (attention's F16 cache).
static inline float ck_g_load(const void *p, size_t i, int half) {
    return half ? ck_half_to_float_inline(((const uint16_t *)p)[i]) : ((const float *)p)[i];
}

// Floats against floats or fp16 values, in one order for both.
static inline float ck_g_dot_any(const float *x, const void *y, size_t n, int half) {
    float acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += x[i + k] * ck_g_load(y, i + k, half);
    float s = 0.0f;
    for (; i < n; i++) s += x[i] * ck_g_load(y, i, half);
    for (int k = 0; k < 8; k++) s += acc[k];
    return s;
}

static inline float ck_g_dot_f32(const void *w, const void *a, size_t n) { return ck_g_dot_any(w, a, n, 0); }

static inline float ck_g_dot_f16(const void *w, const void *a, size_t n) {
    const uint16_t *x = w;
    const float *y = a;
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) s += ck_half_to_float_inline(x[i]) * y[i];
    return s;
}

static inline float ck_g_dot_bf16(const void *w, const void *a, size_t n) {
    const uint16_t *x = w;
    const float *y = a;
    float acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += ck_f32_from_bits((uint32_t)x[i + k] << 16) * y[i + k];
    float s = 0.0f;
    for (; i < n; i++) s += ck_f32_from_bits((uint32_t)x[i] << 16) * y[i];
    for (int k = 0; k < 8; k++) s += acc[k];
    return s;
}

// The x86 levels' Q4_0 order (ck_q32_rows.h): a multiply-add per block over the exact
// integer sum, the offset term in a second chain, joined once; so this path gives
// their bits too.
static inline float ck_g_dot_q4_0(const void *w, const void *a, size_t n) {
    const ck_block_q4_0 *x = w;
    const ck_act_q8 *y = a;
    float acc = 0.0f, off = 0.0f;
    for (size_t i = 0; i < n / CK_QK; i++) {
        int sum = 0;
        for (int j = 0; j < 16; j++) sum += (x[i].qs[j] & 0xF) * y[i].qs[j] + (x[i].qs[j] >> 4) * y[i].qs[j + 16];
        const float dw = ck_half_to_float_inline(x[i].d);
        const float sc = dw * y[i].d;
        acc = fmaf(sc, (float)sum, acc);
        off = fmaf(dw, y[i].s, off);
    }
    return fmaf(-8.0f, off, acc);
}

static inline float ck_g_dot_q4_1(const void *w, const void *a, size_t n) {
    const ck_block_q4_1 *x = w;
    const ck_act_q8 *y = a;
    float s = 0.0f;
    for (size_t i = 0; i < n / CK_QK; i++) {
        int sum = 0;
        for (int j = 0; j < 16; j++) sum += (x[i].qs[j] & 0xF) * y[i].qs[j] + (x[i].qs[j] >> 4) * y[i].qs[j + 16];
        s += ck_half_to_float_inline(x[i].d) * y[i].d * (float)sum + ck_half_to_float_inline(x[i].m) * y[i].s;
    }
    return s;
}

static inline float ck_g_dot_q8_0(const void *w, const void *a, size_t n) {
    const ck_block_q8_0 *x = w;
    const ck_act_q8 *y = a;
    float s = 0.0f;
    for (size_t i = 0; i < n / CK_QK; i++) {
        int sum = 0;
        for (int j = 0; j < CK_QK; j++) sum += x[i].qs[j] * y[i].qs[j];
        s += ck_half_to_float_inline(x[i].d) * y[i].d * (float)sum;
    }
    return s;
}

static inline float ck_g_dot_q4_K(const void *w, const void *a, size_t n) {
    const ck_block_q4_K *x = w;
    const ck_act_q8k *y = a;
    float s = 0.0f;
    for (size_t i = 0; i < n / CK_QKK; i++) {
        const uint8_t *q = x[i].qs;
        const int8_t *p = y[i].qs;
        int isum = 0, msum = 0;
        for (int c = 0; c < 4; c++, q += 32, p += 64) {
            uint8_t sc0, m0, sc1, m1;
            ck_q4k_scale_min(2 * c, x[i].scales, &sc0, &m0);
            ck_q4k_scale_min(2 * c + 1, x[i].scales, &sc1, &m1);
            int s0 = 0, s1 = 0;
            for (int l = 0; l < 32; l++) {
                s0 += (q[l] & 0xF) * p[l];
                s1 += (q[l] >> 4) * p[l + 32];
            }
            isum += sc0 * s0 + sc1 * s1;
            msum += m0 * (y[i].bsums[4 * c] + y[i].bsums[4 * c + 1]) + m1 * (y[i].bsums[4 * c + 2] + y[i].bsums[4 * c + 3]);
        }
        const float d = y[i].d;
        s += d * (ck_half_to_float_inline(x[i].d) * (float)isum - ck_half_to_float_inline(x[i].dmin) * (float)msum);
    }
    return s;
}

static inline float ck_g_dot_q6_K(const void *w, const void *a, size_t n) {
    const ck_block_q6_K *x = w;
    const ck_act_q8k *y = a;
    float s = 0.0f;
    for (size_t i = 0; i < n / CK_QKK; i++) {
        int isum = 0;
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = x[i].ql + 64 * h, *qh = x[i].qh + 32 * h;
            const int8_t *sc = x[i].scales + 8 * h, *p = y[i].qs + 128 * h;
            int g[8] = {0};
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                g[is] += ((ql[l] & 0xF) | ((qh[l] & 3) << 4)) * p[l];
                g[is + 2] += ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) * p[l + 32];
                g[is + 4] += ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) * p[l + 64];
                g[is + 6] += ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) * p[l + 96];
            }
            for (int k = 0; k < 8; k++) isum += sc[k] * (g[k] - 32 * y[i].bsums[8 * h + k]);
        }
        s += ck_half_to_float_inline(x[i].d) * y[i].d * (float)isum;
    }
    return s;
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

// ---- Vector helpers ----

float ck_generic_dot(const float *a, const float *b, size_t n) { return ck_g_dot_f32(a, b, n); }

static inline void ck_g_axpy_any(float a, const void *x, float *y, size_t n, int half) {
    for (size_t i = 0; i < n; i++) y[i] += a * ck_g_load(x, i, half);
}

void ck_generic_axpy(float a, const float *x, float *y, size_t n) { ck_g_axpy_any(a, x, y, n, 0); }

void ck_generic_scale(float *x, float s, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] *= s;
}

void ck_generic_add(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

void ck_generic_rmsnorm(const float *x, const float *w, float *out, size_t n, float eps) {
    const float ss = ck_g_dot_f32(x, x, n);
    const float r = 1.0f / sqrtf(ss / (float)n + eps);
    for (size_t i = 0; i < n; i++) out[i] = x[i] * r * w[i];
}

void ck_generic_softmax(float *x, size_t n) {
    if (n == 0) return;
    float max = x[0];
    for (size_t i = 1; i < n; i++) max = fmaxf(max, x[i]);
    float sum = 0.0f;
    for (size_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    const float inv = 1.0f / sum;
    for (size_t i = 0; i < n; i++) x[i] *= inv;
}

void ck_generic_silu_mul(float *gate, const float *up, size_t n) {
    for (size_t i = 0; i < n; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

// Dot, softmax and axpy in turn, over float or fp16 keys and values: one code path, so
// an fp16 cache attends exactly as its float values would.
void ck_generic_attend(const float *q, const void *k, const void *v, size_t stride, size_t n, size_t dim, float scale,
                       float *scores, float *out, int half) {
    const size_t esize = half ? 2 : 4;
    for (size_t j = 0; j < n; j++) scores[j] = ck_g_dot_any(q, (const uint8_t *)k + j * stride * esize, dim, half) * scale;
    ck_generic_softmax(scores, n);
    memset(out, 0, dim * sizeof(float));
    for (size_t j = 0; j < n; j++) ck_g_axpy_any(scores[j], (const uint8_t *)v + j * stride * esize, out, dim, half);
}
