// AVX-512 kernels, all in AVX2's floating-point order (so every level gives the same
// bits, and forced dispatch changes speed, never tokens). The "avx512" level runs F16
// prefill on 512-bit registers: AVX2's per-lane order, two rows a register; F16
// decode and every other type fall back to AVX2's kernels. The "avx512vnni" level forms
// the quantized types' exact integer sums with vpdpbusd (256-bit registers, AVX512VL)
// in place of maddubs + madd: the 32-blocks through AVX2's kernels (Q8_0/Q4_1 prefill
// packing rows one per lane in the tiles' order), the K-quants in AVX2's lanes. (512-bit
// F32/BF16 dots, in an order of their own, were ~13% faster in F32 prefill than AVX2's
// and no faster in decode: not worth a second set of bits.)
#include "ck_internal.h"
#include <math.h>
#if defined(__x86_64__) || defined(__i386__)
#include "ck_x86.h"

#ifdef CK_X86_EMULATED  // see ck_x86.h
#define AVX512
#define VNNI
#else
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))
#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))
#endif

// ---- F16 prefill: AVX2's order on 512-bit registers ----
// A zmm holds one vector's 8-lane accumulators for two rows side by side, so every lane
// runs the multiply-adds of AVX2's ymm accumulator in the same order and ends in the
// same ck_f16_finish: the bits are AVX2's (and decode's), at twice the width. A chunk of
// 8 rows is converted once (exactly) into row-pair order, 16 floats per 8 columns, and
// runs against up to 6 vectors a pass: 24 accumulators, 4 weight registers, and one
// 8-float activation broadcast per vector and 8 columns.
enum { CK_ZF16_COLS = 640, CK_ZF16_VECS = 48, CK_ZF16_PAIRS = 4, CK_ZF16_V = 6 };

// The first chunk (c0 == 0) starts from zeros rather than parked sums: no zeroing pass
// over part (~2% of SmolLM2's F16 prefill in a profile).
AVX512 CK_AI void ck_zf16_block(const float *wf, const int P, const uint8_t *a, size_t act_stride, const int V,
                                size_t c0, size_t c1, __m512 *part) {
    __m512 acc[CK_ZF16_PAIRS][CK_ZF16_V];
    for (int p = 0; p < P; p++)
        for (int v = 0; v < V; v++) acc[p][v] = c0 ? part[p * CK_ZF16_VECS + v] : _mm512_setzero_ps();
    for (size_t i = c0; i < c1; i += 8) {
        __m512 wv[CK_ZF16_PAIRS];
        for (int p = 0; p < P; p++) wv[p] = _mm512_load_ps(wf + p * 2 * CK_ZF16_COLS + 2 * (i - c0));
        for (int v = 0; v < V; v++) {
            const __m512 b = _mm512_broadcast_f32x8(_mm256_loadu_ps((const float *)(a + v * act_stride) + i));
            for (int p = 0; p < P; p++) acc[p][v] = _mm512_fmadd_ps(wv[p], b, acc[p][v]);
        }
    }
    for (int p = 0; p < P; p++)
        for (int v = 0; v < V; v++) part[p * CK_ZF16_VECS + v] = acc[p][v];
}

// Rows [0, R) in P = ceil(R / 2) pairs; an odd R's last pair is padded with zeros.
AVX512 CK_AI void ck_zf16_rows_mat(const uint8_t *w, size_t row_bytes, const int P, size_t R, size_t n,
                                   const uint8_t *a, size_t act_stride, size_t nv, float *y, size_t y_stride) {
    _Alignas(64) float wf[CK_ZF16_PAIRS * 2 * CK_ZF16_COLS];
    __m512 part[CK_ZF16_PAIRS * CK_ZF16_VECS];
    for (int p = 0; n < 8 && p < P; p++)  // no chunk to start the sums
        for (size_t v = 0; v < nv; v++) part[p * CK_ZF16_VECS + v] = _mm512_setzero_ps();
    // Equal chunks: a short last one (576 columns as 512 + 64) pays the parked sums'
    // loads and stores for a few columns' work.
    const size_t n8 = n / 8 * 8, nchunks = n8 ? (n8 + CK_ZF16_COLS - 1) / CK_ZF16_COLS : 1;
    const size_t chunk = (n8 / 8 + nchunks - 1) / nchunks * 8;
    for (size_t c0 = 0; c0 < n8; c0 += chunk) {
        const size_t c1 = c0 + chunk < n8 ? c0 + chunk : n8;
        for (int p = 0; p < P; p++) {
            const uint16_t *lo = (const uint16_t *)(w + 2 * p * row_bytes);
            const uint16_t *hi = (size_t)(2 * p + 1) < R ? (const uint16_t *)(w + (2 * p + 1) * row_bytes) : 0;
            for (size_t i = c0; i < c1; i += 8) {
                const __m256 l = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(lo + i)));
                const __m256 h = hi ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(hi + i))) : _mm256_setzero_ps();
                _mm512_store_ps(wf + p * 2 * CK_ZF16_COLS + 2 * (i - c0), _mm512_insertf32x8(_mm512_castps256_ps512(l), h, 1));
            }
        }
        for (size_t v = 0; v < nv; v += CK_ZF16_V) {
            const uint8_t *av = a + v * act_stride;
            switch (nv - v < CK_ZF16_V ? nv - v : CK_ZF16_V) {
            case 6: ck_zf16_block(wf, P, av, act_stride, 6, c0, c1, part + v); break;
            case 5: ck_zf16_block(wf, P, av, act_stride, 5, c0, c1, part + v); break;
            case 4: ck_zf16_block(wf, P, av, act_stride, 4, c0, c1, part + v); break;
            case 3: ck_zf16_block(wf, P, av, act_stride, 3, c0, c1, part + v); break;
            case 2: ck_zf16_block(wf, P, av, act_stride, 2, c0, c1, part + v); break;
            default: ck_zf16_block(wf, P, av, act_stride, 1, c0, c1, part + v); break;
            }
        }
    }
    for (size_t r = 0; r < R; r++) {
        const uint16_t *x = (const uint16_t *)(w + r * row_bytes);
        for (size_t v = 0; v < nv; v++) {
            const __m512 pv = part[(r / 2) * CK_ZF16_VECS + v];
            const __m256 acc = r % 2 ? _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(pv), 1)) : _mm512_castps512_ps256(pv);
            y[v * y_stride + r] = ck_f16_finish(acc, x, (const float *)(a + v * act_stride), n8, n);
        }
    }
}

// Decode (one vector) streams each row once and stays on AVX2's kernel: a 512-bit
// one-row dot would change the order, and the row-pair form gains nothing there.
AVX512 static void ck_z_rows_f16(CK_ROWS_ARGS) {
    if (nvec < 2) {
        ck_avx2_rows(CK_TYPE_F16)(w, row_bytes, nrows, cols, act, act_stride, nvec, y, y_stride);
        return;
    }
    const uint8_t *wb = (const uint8_t *)w, *ab = (const uint8_t *)act;
    for (size_t v0 = 0; v0 < nvec; v0 += CK_ZF16_VECS) {
        const size_t nv = nvec - v0 < CK_ZF16_VECS ? nvec - v0 : CK_ZF16_VECS;
        for (size_t r = 0; r < nrows; r += 2 * CK_ZF16_PAIRS) {
            const uint8_t *wr = wb + r * row_bytes, *av = ab + v0 * act_stride;
            float *yr = y + v0 * y_stride + r;
            const size_t R = nrows - r < 2 * CK_ZF16_PAIRS ? nrows - r : 2 * CK_ZF16_PAIRS;
            switch ((R + 1) / 2) {
            case 4: ck_zf16_rows_mat(wr, row_bytes, 4, R, cols, av, act_stride, nv, yr, y_stride); break;
            case 3: ck_zf16_rows_mat(wr, row_bytes, 3, R, cols, av, act_stride, nv, yr, y_stride); break;
            case 2: ck_zf16_rows_mat(wr, row_bytes, 2, R, cols, av, act_stride, nv, yr, y_stride); break;
            default: ck_zf16_rows_mat(wr, row_bytes, 1, R, cols, av, act_stride, nv, yr, y_stride); break;
            }
        }
    }
}

ck_rows_fn ck_avx512_rows(uint32_t type) {
    switch (type) {
    case CK_TYPE_F16: return ck_z_rows_f16;
    default: return 0;
    }
}

// ---- VNNI: u8 x s8 -> int32 in one instruction, no int16 saturation ----

// u8 x s8 products summed in fours into int32 lanes, in one instruction.
VNNI static inline __m256i ck_v_dp(__m256i u, __m256i s) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
}

#define CK_Q32_ATTR VNNI
#define CK_Q32_DOT ck_v_dp
#define CK_Q32_DOTACC(acc, u, s) _mm256_dpbusd_epi32(acc, u, s)
#define CK_Q32(name) ck_v_##name
#define CK_Q32_PACKED
#include "ck_q32_rows.h"
#undef CK_Q32_PACKED

VNNI static inline float ck_v_dot_q4_K(const void *w, const void *a, size_t n) {
    const ck_block_q4_K *x = w;
    const ck_act_q8k *y = a;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc = _mm256_setzero_ps();
    float offset = 0.0f;
    for (size_t i = 0; i < n / CK_QKK; i++) {
        _mm_prefetch((const char *)(x + i) + CK_PREFETCH_AHEAD, _MM_HINT_T0);
        _mm_prefetch((const char *)(x + i) + CK_PREFETCH_AHEAD + 64, _MM_HINT_T0);
        uint8_t sc[8], mn[8];
        for (int j = 0; j < 8; j++) ck_q4k_scale_min(j, x[i].scales, &sc[j], &mn[j]);
        int msum = 0;
        for (int j = 0; j < 8; j++) msum += mn[j] * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
        __m256i isum = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * c));
            const __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            const __m256i plo = ck_v_dp(lo, _mm256_loadu_si256((const __m256i *)(y[i].qs + 64 * c)));
            const __m256i phi = ck_v_dp(hi, _mm256_loadu_si256((const __m256i *)(y[i].qs + 64 * c + 32)));
            isum = _mm256_add_epi32(isum, _mm256_mullo_epi32(plo, _mm256_set1_epi32(sc[2 * c])));
            isum = _mm256_add_epi32(isum, _mm256_mullo_epi32(phi, _mm256_set1_epi32(sc[2 * c + 1])));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(x[i].d) * y[i].d), _mm256_cvtepi32_ps(isum), acc);
        offset = ck_fma(ck_half(x[i].dmin) * y[i].d, (float)msum, offset);
    }
    return ck_hsum256(acc) - offset;
}

VNNI static inline float ck_v_dot_q6_K(const void *w, const void *a, size_t n) {
    const ck_block_q6_K *x = w;
    const ck_act_q8k *y = a;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc = _mm256_setzero_ps();
    for (size_t i = 0; i < n / CK_QKK; i++) {
        _mm_prefetch((const char *)(x + i) + CK_PREFETCH_AHEAD, _MM_HINT_T0);
        _mm_prefetch((const char *)(x + i) + CK_PREFETCH_AHEAD + 64, _MM_HINT_T0);
        _mm_prefetch((const char *)(x + i) + CK_PREFETCH_AHEAD + 128, _MM_HINT_T0);
        const int8_t *sc = x[i].scales;
        const __m256i scales16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)sc));
        __m256i isum = _mm256_slli_epi32(
            _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)y[i].bsums), scales16), 5);
        isum = _mm256_sub_epi32(_mm256_setzero_si256(), isum);
        for (int h = 0; h < 2; h++) {
            const __m256i ql0 = _mm256_loadu_si256((const __m256i *)(x[i].ql + 64 * h));
            const __m256i ql1 = _mm256_loadu_si256((const __m256i *)(x[i].ql + 64 * h + 32));
            const __m256i qh = _mm256_loadu_si256((const __m256i *)(x[i].qh + 32 * h));
            const __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x03)), 4)),
                _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x0C)), 2)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, _mm256_set1_epi8(0x30))),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                _mm256_srli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8((char)0xC0)), 2)),
            };
            const int8_t *p = y[i].qs + 128 * h, *s = sc + 8 * h;
            for (int k = 0; k < 4; k++) {
                // int32 lanes 0-3 hold elements 0..15 (scale 2k), lanes 4-7 elements 16..31 (2k+1).
                const __m256i d = ck_v_dp(q[k], _mm256_loadu_si256((const __m256i *)(p + 32 * k)));
                const __m256i scale = _mm256_set_m128i(_mm_set1_epi32(s[2 * k + 1]), _mm_set1_epi32(s[2 * k]));
                isum = _mm256_add_epi32(isum, _mm256_mullo_epi32(d, scale));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(x[i].d) * y[i].d), _mm256_cvtepi32_ps(isum), acc);
    }
    return ck_hsum256(acc);
}

CK_DEFINE_ROWS(ck_v_rows_q4_K, VNNI, ck_v_dot_q4_K)
CK_DEFINE_ROWS(ck_v_rows_q6_K, VNNI, ck_v_dot_q6_K)

ck_rows_fn ck_vnni_rows(uint32_t type) {
    switch (type) {
    case CK_TYPE_Q4_0: return ck_v_rows_q4_0;
    case CK_TYPE_Q4_1: return ck_v_rows_q4_1;
    case CK_TYPE_Q8_0: return ck_v_rows_q8_0;
    case CK_TYPE_Q4_K: return ck_v_rows_q4_K;
    case CK_TYPE_Q6_K: return ck_v_rows_q6_K;
    default: return 0;
    }
}

#endif
