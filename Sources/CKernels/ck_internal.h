// Shared by the per-ISA files of CKernels: ggml block layouts, activation layouts,
// and the per-ISA entry points that ckernels.c dispatches to.
#ifndef LAMBDA_LLM_CK_INTERNAL_H
#define LAMBDA_LLM_CK_INTERNAL_H
#include "ckernels.h"
#include <string.h>

#define CK_QK 32    // block size of Q4_0/Q4_1/Q8_0
#define CK_QKK 256  // super-block size of the K-quants

// ggml layouts (ggml-common.h); fp16 fields as raw bits.
typedef struct { uint16_t d; uint8_t qs[16]; } ck_block_q4_0;
typedef struct { uint16_t d, m; uint8_t qs[16]; } ck_block_q4_1;
typedef struct { uint16_t d; int8_t qs[32]; } ck_block_q8_0;
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; } ck_block_q4_K;
typedef struct { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; } ck_block_q6_K;
_Static_assert(sizeof(ck_block_q4_0) == 18, "Q4_0 layout");
_Static_assert(sizeof(ck_block_q4_1) == 20, "Q4_1 layout");
_Static_assert(sizeof(ck_block_q8_0) == 34, "Q8_0 layout");
_Static_assert(sizeof(ck_block_q4_K) == 144, "Q4_K layout");
_Static_assert(sizeof(ck_block_q6_K) == 210, "Q6_K layout");

// Quantized activations. s = d * sum(qs) lets the asymmetric formats fold their
// offset (Q4_0's -8, Q4_1's min) into one multiply per block.
typedef struct { float d; float s; int8_t qs[32]; } ck_act_q8;
typedef struct { float d; int8_t qs[256]; int16_t bsums[16]; } ck_act_q8k;
_Static_assert(sizeof(ck_act_q8) == 40, "activation block");
_Static_assert(sizeof(ck_act_q8k) == 292, "K activation block");

static inline uint32_t ck_f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float ck_f32_from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

// Exact IEEE half -> float without F16C (subnormals, inf, NaN included).
static inline float ck_half_to_float_inline(uint16_t h) {
    const uint32_t w = (uint32_t)h << 16;
    const uint32_t sign = w & 0x80000000u;
    const uint32_t two_w = w + w;
    // Normal/inf/NaN: shift exponent+mantissa into place, then rescale the exponent bias by 2^-112.
    const float normalized = ck_f32_from_bits((two_w >> 4) + (0xE0u << 23)) * 0x1.0p-112f;
    // Subnormal: place the mantissa under a 0.5 exponent and subtract 0.5.
    const float denormalized = ck_f32_from_bits((two_w >> 17) | (126u << 23)) - 0.5f;
    const uint32_t result = sign | (two_w < (1u << 27) ? ck_f32_bits(denormalized) : ck_f32_bits(normalized));
    return ck_f32_from_bits(result);
}

static inline float ck_round_half(float f) { return ck_half_to_float_inline(ck_fp32_to_fp16(f)); }

// Activation scales are rounded through fp16 because ggml stores them as fp16 (block_q8_0
// and block_q8_1): with the same rounding our quantized dot products equal llama.cpp's up
// to float summation order, so greedy outputs on the same file agree. Q4_1 weights fold
// their minimum with s, which ggml also stores as fp16 (of the unrounded d times the sum);
// Q4_0 folds its -8 offset with s, which ggml computes exactly in integers.
static inline void ck_set_act_scales(ck_act_q8 *y, uint32_t type, float d, int sum) {
    y->d = ck_round_half(d);
    y->s = type == CK_TYPE_Q4_1 ? ck_round_half(d * (float)sum) : y->d * (float)sum;
}

// Q8_0 activations carry, after their nb blocks, one int32 per block: -128 times the
// sum of its quantized values. VNNI's packed prefill dots weights offset to unsigned
// (w + 128) and starts each block's integer dot at this, so the block's sum of w*y
// comes out exact without a per-row sign fix.
#define CK_Q8_0_BSUM_BYTES 4
static inline void ck_set_q8_0_block_sums(void *act, size_t nb) {
    const ck_act_q8 *y = act;
    int32_t *g = (int32_t *)((uint8_t *)act + nb * sizeof(ck_act_q8));
    for (size_t i = 0; i < nb; i++) {
        int sum = 0;
        for (int j = 0; j < 32; j++) sum += y[i].qs[j];
        g[i] = -128 * sum;
    }
}

// 6-bit scale and min j of a Q4_K super-block.
static inline void ck_q4k_scale_min(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

// Per-ISA row kernels: y[v*ys + r] for r < nrows, v < nvec.
#define CK_ROWS_ARGS const void *w, size_t row_bytes, size_t nrows, size_t cols, \
                     const void *act, size_t act_stride, size_t nvec, float *y, size_t y_stride
typedef void (*ck_rows_fn)(CK_ROWS_ARGS);

ck_rows_fn ck_generic_rows(uint32_t type);
ck_rows_fn ck_avx2_rows(uint32_t type);
ck_rows_fn ck_avx512_rows(uint32_t type);
ck_rows_fn ck_vnni_rows(uint32_t type);

void ck_generic_quantize_act(uint32_t type, const float *x, void *dst, size_t cols);
void ck_avx2_quantize_act(uint32_t type, const float *x, void *dst, size_t cols);

float ck_generic_dot(const float *a, const float *b, size_t n);
void ck_generic_axpy(float a, const float *x, float *y, size_t n);
void ck_generic_scale(float *x, float s, size_t n);
void ck_generic_add(const float *x, float *y, size_t n);
void ck_generic_rmsnorm(const float *x, const float *w, float *out, size_t n, float eps);
void ck_generic_softmax(float *x, size_t n);
void ck_generic_silu_mul(float *gate, const float *up, size_t n);
// half: keys and values are fp16 rather than float.
void ck_generic_attend(const float *q, const void *k, const void *v, size_t stride, size_t n, size_t dim, float scale,
                       float *scores, float *out, int half);

float ck_avx2_dot(const float *a, const float *b, size_t n);
void ck_avx2_axpy(float a, const float *x, float *y, size_t n);
void ck_avx2_scale(float *x, float s, size_t n);
void ck_avx2_add(const float *x, float *y, size_t n);
void ck_avx2_rmsnorm(const float *x, const float *w, float *out, size_t n, float eps);
void ck_avx2_softmax(float *x, size_t n);
void ck_avx2_silu_mul(float *gate, const float *up, size_t n);
void ck_avx2_attend(const float *q, const float *k, const float *v, size_t stride, size_t n, size_t dim, float scale,
                    float *scores, float *out);
void ck_avx2_attend_f16(const float *q, const uint16_t *k, const uint16_t *v, size_t stride, size_t n, size_t dim,
                        float scale, float *scores, float *out);
void ck_avx2_to_f16(const float *x, uint16_t *out, size_t n);

// Tile of activation vectors processed per pass over the rows: their quantized
// form (<= 16 * ~4.3 KB for 4096 columns) stays in L1/L2 while weights stream.
#define CK_VEC_TILE 8

#endif

// Row driver shared by every ISA (instantiated inside each ISA's file so the dot
// inlines under that file's target attribute). Vectors go in tiles; inside a tile
// each weight row is read once and dotted against every vector of the tile.
#define CK_DEFINE_ROWS(NAME, ATTR, DOT)                                                        \
    ATTR static void NAME(CK_ROWS_ARGS) {                                                      \
        const uint8_t *wb = (const uint8_t *)w, *ab = (const uint8_t *)act;                    \
        for (size_t v0 = 0; v0 < nvec; v0 += CK_VEC_TILE) {                                    \
            const size_t v1 = v0 + CK_VEC_TILE < nvec ? v0 + CK_VEC_TILE : nvec;               \
            for (size_t r = 0; r < nrows; r++) {                                               \
                const uint8_t *wr = wb + r * row_bytes;                                        \
                for (size_t v = v0; v < v1; v++) y[v * y_stride + r] = DOT(wr, ab + v * act_stride, cols); \
            }                                                                                  \
        }                                                                                      \
    }

// Software prefetch distance in bytes of weights ahead of the current block: far
// enough to cover DRAM latency at one core's streaming rate (3 KB beat 768 bytes by
// ~10% on Q4_0/Q8_0 decode from DRAM on the 2-core EPYC).
#define CK_PREFETCH_AHEAD 3072
