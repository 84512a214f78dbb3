// AVX2 + FMA + F16C kernels. Every function carries the target attribute, so this file
// compiles for the baseline CPU and runs only after ck_cpu_isa() says it may.
#include "ck_internal.h"
#include <math.h>
#if defined(__x86_64__) || defined(__i386__)
#include "ck_x86.h"

AVX2 static inline int ck_hsum256_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

// u8 x s8 products summed in fours into int32 lanes.
AVX2 static inline __m256i ck_dot_u8s8(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

// ---- Activation quantization ----

// 32 floats -> 32 int8 (round to nearest even) with scale 1/id; returns the sum of the int8s.
AVX2 static inline int ck_quantize32(const float *x, float id, int8_t *out, int *half_sums) {
    const __m256 mul = _mm256_set1_ps(id);
    __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), mul));
    __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8), mul));
    __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 16), mul));
    __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 24), mul));
    const int s01 = ck_hsum256_epi32(_mm256_add_epi32(i0, i1));
    const int s23 = ck_hsum256_epi32(_mm256_add_epi32(i2, i3));
    if (half_sums) { half_sums[0] = s01; half_sums[1] = s23; }
    // packs work per 128-bit lane; the final permute restores element order.
    const __m256i p01 = _mm256_packs_epi32(i0, i1), p23 = _mm256_packs_epi32(i2, i3);
    const __m256i p = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(p01, p23),
                                                  _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)out, p);
    return s01 + s23;
}

AVX2 static inline float ck_absmax(const float *x, size_t n) {
    const __m256 signbit = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    for (size_t j = 0; j < n; j += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(signbit, _mm256_loadu_ps(x + j)));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX2 void ck_avx2_quantize_act(uint32_t type, const float *x, void *dst, size_t cols) {
    if (type == CK_TYPE_Q4_0 || type == CK_TYPE_Q4_1 || type == CK_TYPE_Q8_0) {
        ck_act_q8 *y = dst;
        for (size_t i = 0; i < cols / CK_QK; i++, x += CK_QK) {
            const float amax = ck_absmax(x, CK_QK);
            const float d = amax / 127.0f, id = amax != 0.0f ? 127.0f / amax : 0.0f;
            ck_set_act_scales(&y[i], type, d, ck_quantize32(x, id, y[i].qs, 0));
        }
    } else if (type == CK_TYPE_Q4_K || type == CK_TYPE_Q6_K) {
        ck_act_q8k *y = dst;
        for (size_t i = 0; i < cols / CK_QKK; i++, x += CK_QKK) {
            const float d = ck_absmax(x, CK_QKK) / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
            for (int j = 0; j < 8; j++) {
                int hs[2];
                ck_quantize32(x + 32 * j, id, y[i].qs + 32 * j, hs);
                y[i].bsums[2 * j] = (int16_t)hs[0];
                y[i].bsums[2 * j + 1] = (int16_t)hs[1];
            }
            y[i].d = d;
        }
    }
}

// ---- Float weights ----

// 8 floats, or 1, at element i of p: plain, or converted (exactly) from fp16.
AVX2 static inline __m256 ck_load8(const void *p, size_t i, const int half) {
    return half ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)p + i)))
                : _mm256_loadu_ps((const float *)p + i);
}
AVX2 static inline float ck_load1(const void *p, size_t i, const int half) {
    return half ? ck_half(((const uint16_t *)p)[i]) : ((const float *)p)[i];
}

// Floats against floats or fp16 values (attention's keys): the same operations either
// way, so an fp16 cache gives the bits its float values would.
AVX2 CK_AI float ck_a_dot_any(const float *x, const void *y, size_t n, const int half) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        _mm_prefetch((const char *)(x + i) + CK_PREFETCH_AHEAD, _MM_HINT_T0);
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), ck_load8(y, i, half), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), ck_load8(y, i + 8, half), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), ck_load8(y, i + 16, half), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), ck_load8(y, i + 24, half), a3);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), ck_load8(y, i, half), a0);
    float s = ck_hsum256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) s = ck_fma(x[i], ck_load1(y, i, half), s);
    return s;
}

AVX2 static inline float ck_a_dot_f32(const void *w, const void *a, size_t n) { return ck_a_dot_any(w, a, n, 0); }

AVX2 static inline __m256 ck_bf16x8(const uint16_t *p) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

AVX2 static inline float ck_a_dot_bf16(const void *w, const void *a, size_t n) {
    const uint16_t *x = w;
    const float *y = a;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        _mm_prefetch((const char *)(x + i) + CK_PREFETCH_AHEAD, _MM_HINT_T0);
        a0 = _mm256_fmadd_ps(ck_bf16x8(x + i), _mm256_loadu_ps(y + i), a0);
        a1 = _mm256_fmadd_ps(ck_bf16x8(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
        a2 = _mm256_fmadd_ps(ck_bf16x8(x + i + 16), _mm256_loadu_ps(y + i + 16), a2);
        a3 = _mm256_fmadd_ps(ck_bf16x8(x + i + 24), _mm256_loadu_ps(y + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(ck_bf16x8(x + i), _mm256_loadu_ps(y + i), a0);
    float s = ck_hsum256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) s = ck_fma(ck_bf16_to_fp32(x[i]), y[i], s);
    return s;
}

#define CK_Q32_ATTR AVX2
#define CK_Q32_DOT ck_dot_u8s8
#define CK_Q32_DOTACC(acc, u, s) _mm256_add_epi32(acc, ck_dot_u8s8(u, s))
#define CK_Q32_DOT16 _mm256_maddubs_epi16
#define CK_Q32(name) ck_a_##name
#include "ck_q32_rows.h"

// ---- F16 weights ----
// Every (row, vector) dot keeps one accumulator over the groups of 8 columns in order,
// then a horizontal sum and the scalar tail, whether it runs for decode or prefill, so
// the two agree bit for bit. Decode interleaves 4 rows for independent FMA chains.
// Prefill converts a chunk of 4 rows to floats once (exactly) and runs it against the
// vectors in 4 rows x 3 vectors register blocks: on Zen 3 converting loads next to the
// multiply-adds held a block to under half the FMA peak. (The earlier order, four
// accumulators per row, forced prefill into four passes over parked partial sums: on
// SmolLM2's shapes 25-27 GMAC/s against this kernel's 32-36 in the micro-benchmark.)
// Vectors per pass over the rows: a whole engine batch (64), so a batch converts each
// row once (12 a pass ran ~25% slower on 4096-column rows; 48 left a second pass of 16
// re-reading every row from memory with little work to hide it). While the first block
// of vectors runs, the next 4 rows are prefetched a line per step, so their conversion
// reads cache: its stores were ~15% of F16 prefill samples on Zen 3, ~4% after. Micro-
// benchmark, Zen 3, weights cold, 112-row calls as the engine makes them, min of 6
// alternating: 1536x576 x 64 vectors 1.78-1.84 -> 1.72-1.75 ms, 576x1536 1.76-1.79 -> 1.61-1.72.
enum { CK_F16_COLS = 1024, CK_F16_VECS = 64 };

// Decode: R rows against one vector, prefetching as it goes. A block of short rows
// (up to CK_F16_LINEAR bytes together: SmolLM2's) is one short stream per row, which
// the hardware prefetcher tracks poorly (-20% on the 49152 x 576 output matrix from
// DRAM), so the next block is prefetched whole, front to back, R lines per step. Long
// rows (7B's) each run CK_F16_AHEAD bytes ahead, past their end into the same row of
// the next block: 4 streams together about as far as the one-row kernels' 3 KB (3 KB
// per row was ~15% slower streaming 7B-sized rows).
#define CK_F16_LINEAR 16384
#define CK_F16_AHEAD 1536
AVX2 CK_AI void ck_f16_rows_vec(const uint8_t *w, size_t row_bytes, const int R, size_t n, const float *x, float *y) {
    __m256 acc[4];
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
    const size_t n32 = n / 32 * 32, n8 = n / 8 * 8;
    size_t i = 0;
    for (; i < n32; i += 32) {
        if (R * row_bytes <= CK_F16_LINEAR) {
            const char *next = (const char *)w + R * row_bytes + i / 32 * (size_t)R * 64;
            for (int r = 0; r < R; r++) _mm_prefetch(next + 64 * r, _MM_HINT_T0);
        } else {
            const size_t o = 2 * i + CK_F16_AHEAD, wrap = o >= row_bytes ? (size_t)(R - 1) * row_bytes : 0;
            for (int r = 0; r < R; r++) _mm_prefetch((const char *)(w + r * row_bytes + o + wrap), _MM_HINT_T0);
        }
        for (int k = 0; k < 32; k += 8) {
            const __m256 xv = _mm256_loadu_ps(x + i + k);
            for (int r = 0; r < R; r++)
                acc[r] = _mm256_fmadd_ps(ck_load8(w + r * row_bytes, i + k, 1), xv, acc[r]);
        }
    }
    for (; i < n8; i += 8) {
        const __m256 xv = _mm256_loadu_ps(x + i);
        for (int r = 0; r < R; r++) acc[r] = _mm256_fmadd_ps(ck_load8(w + r * row_bytes, i, 1), xv, acc[r]);
    }
    for (int r = 0; r < R; r++) y[r] = ck_f16_finish(acc[r], (const uint16_t *)(w + r * row_bytes), x, n8, n);
}

// Prefill: columns [c0, c1) of R converted rows (wf) against V vectors, continuing the
// sums parked in part[r * CK_F16_VECS + v] (the first chunk starts from zeros); pf, if
// set, is prefetched a line per 8 columns. Without pf the loop prefetches wf itself (in
// L1), so it has no branch, and it runs two steps a turn: SmolLM2 F16 prefill at 1
// thread, 12 alternating bench runs, median 246 -> 257 tok/s.
AVX2 CK_AI void ck_f16_block(const float *wf, const int R, const uint8_t *a, size_t act_stride, const int V,
                             size_t c0, size_t c1, __m256 *part, const char *pf) {
    __m256 acc[4][3];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++) acc[r][v] = c0 ? part[r * CK_F16_VECS + v] : _mm256_setzero_ps();
    const size_t pfs = pf ? 8 : 0;
    if (!pf) pf = (const char *)wf;
#pragma GCC unroll 2
    for (size_t i = c0; i < c1; i += 8) {
        _mm_prefetch(pf + pfs * (i - c0), _MM_HINT_T0);
        __m256 b[3];
        for (int v = 0; v < V; v++) b[v] = _mm256_loadu_ps((const float *)(a + v * act_stride) + i);
        for (int r = 0; r < R; r++) {
            const __m256 wv = _mm256_load_ps(wf + r * CK_F16_COLS + (i - c0));
            for (int v = 0; v < V; v++) acc[r][v] = _mm256_fmadd_ps(wv, b[v], acc[r][v]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++) part[r * CK_F16_VECS + v] = acc[r][v];
}

AVX2 CK_AI void ck_f16_rows_mat(const uint8_t *w, size_t row_bytes, const int R, size_t n, const uint8_t *a,
                                size_t act_stride, size_t nv, float *y, size_t y_stride, const uint8_t *next) {
    _Alignas(32) float wf[4 * CK_F16_COLS];
    __m256 part[4 * CK_F16_VECS];
    for (int r = 0; n < 8 && r < R; r++)  // no chunk to start the sums
        for (size_t v = 0; v < nv; v++) part[r * CK_F16_VECS + v] = _mm256_setzero_ps();
    const size_t n8 = n / 8 * 8;
    for (size_t c0 = 0; c0 < n8; c0 += CK_F16_COLS) {
        const size_t c1 = c0 + CK_F16_COLS < n8 ? c0 + CK_F16_COLS : n8;
        for (int r = 0; r < R; r++) {
            const uint16_t *x = (const uint16_t *)(w + r * row_bytes);
            for (size_t i = c0; i < c1; i += 8) _mm256_store_ps(wf + r * CK_F16_COLS + (i - c0), ck_load8(x, i, 1));
        }
        for (size_t v = 0; v < nv; v += 3) {
            const uint8_t *av = a + v * act_stride;
            const char *pf = next && v == 0 ? (const char *)next + 8 * c0 : 0;
            switch (nv - v < 3 ? nv - v : 3) {
            case 3: ck_f16_block(wf, R, av, act_stride, 3, c0, c1, part + v, pf); break;
            case 2: ck_f16_block(wf, R, av, act_stride, 2, c0, c1, part + v, pf); break;
            default: ck_f16_block(wf, R, av, act_stride, 1, c0, c1, part + v, pf); break;
            }
        }
    }
    // Four rows' sums for two vectors at a time (one-at-a-time sums were ~5% of F16
    // prefill samples), then each one's scalar tail.
    size_t v = 0;
    for (; R == 4 && v + 2 <= nv; v += 2) {
        __m256 acc[8];
        for (int r = 0; r < 4; r++) {
            acc[2 * r] = part[r * CK_F16_VECS + v];
            acc[2 * r + 1] = part[r * CK_F16_VECS + v + 1];
        }
        float s[8];
        _mm256_storeu_ps(s, ck_hsum256x8(acc));
        for (int k = 0; k < 2; k++) {
            const float *xv = (const float *)(a + (v + k) * act_stride);
            for (int r = 0; r < 4; r++)
                y[(v + k) * y_stride + r] = ck_f16_tail(s[4 * k + r], (const uint16_t *)(w + r * row_bytes), xv, n8, n);
        }
    }
    for (; v < nv; v++)
        for (int r = 0; r < R; r++)
            y[v * y_stride + r] = ck_f16_finish(part[r * CK_F16_VECS + v], (const uint16_t *)(w + r * row_bytes),
                                                (const float *)(a + v * act_stride), n8, n);
}

AVX2 static void ck_a_rows_f16(CK_ROWS_ARGS) {
    const uint8_t *wb = (const uint8_t *)w, *ab = (const uint8_t *)act;
    if (nvec == 1) {
        for (size_t r = 0; r < nrows; r += 4) {
            const uint8_t *wr = wb + r * row_bytes;
            switch (nrows - r < 4 ? nrows - r : 4) {
            case 4: ck_f16_rows_vec(wr, row_bytes, 4, cols, act, y + r); break;
            case 3: ck_f16_rows_vec(wr, row_bytes, 3, cols, act, y + r); break;
            case 2: ck_f16_rows_vec(wr, row_bytes, 2, cols, act, y + r); break;
            default: ck_f16_rows_vec(wr, row_bytes, 1, cols, act, y + r); break;
            }
        }
        return;
    }
    for (size_t v0 = 0; v0 < nvec; v0 += CK_F16_VECS) {
        const size_t nv = nvec - v0 < CK_F16_VECS ? nvec - v0 : CK_F16_VECS;
        for (size_t r = 0; r < nrows; r += 4) {
            const uint8_t *wr = wb + r * row_bytes, *av = ab + v0 * act_stride;
            // The next 4 rows, past the call's last rows too: a prefetch never faults, and
            // at one thread the next call takes the rows that follow (the engine's 32-row
            // calls on 1536-column rows left one group in eight to start cold). 12-15
            // alternating bench runs, SmolLM2 F16 prefill at 1 thread: 231 -> 246 tok/s.
            const uint8_t *next = wr + 4 * row_bytes;
            float *yr = y + v0 * y_stride + r;
            switch (nrows - r < 4 ? nrows - r : 4) {
            case 4: ck_f16_rows_mat(wr, row_bytes, 4, cols, av, act_stride, nv, yr, y_stride, next); break;
            case 3: ck_f16_rows_mat(wr, row_bytes, 3, cols, av, act_stride, nv, yr, y_stride, next); break;
            case 2: ck_f16_rows_mat(wr, row_bytes, 2, cols, av, act_stride, nv, yr, y_stride, next); break;
            default: ck_f16_rows_mat(wr, row_bytes, 1, cols, av, act_stride, nv, yr, y_stride, next); break;
            }
        }
    }
}

// ---- K-quants ----

AVX2 static inline float ck_a_dot_q4_K(const void *w, const void *a, size_t n) {
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
        // Sums of activations per 32, against the mins.
        const __m128i bs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)y[i].bsums),
                                          _mm_loadu_si128((const __m128i *)(y[i].bsums + 8)));
        const __m128i mins = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)mn));
        __m128i msum = _mm_madd_epi16(bs, mins);
        msum = _mm_add_epi32(msum, _mm_shuffle_epi32(msum, _MM_SHUFFLE(1, 0, 3, 2)));
        msum = _mm_add_epi32(msum, _mm_shuffle_epi32(msum, _MM_SHUFFLE(2, 3, 0, 1)));
        __m256i isum = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * c));
            const __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            const __m256i plo = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(y[i].qs + 64 * c)));
            const __m256i phi = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(y[i].qs + 64 * c + 32)));
            isum = _mm256_add_epi32(isum, _mm256_madd_epi16(plo, _mm256_set1_epi16(sc[2 * c])));
            isum = _mm256_add_epi32(isum, _mm256_madd_epi16(phi, _mm256_set1_epi16(sc[2 * c + 1])));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(ck_half(x[i].d) * y[i].d), _mm256_cvtepi32_ps(isum), acc);
        offset = ck_fma(ck_half(x[i].dmin) * y[i].d, (float)_mm_cvtsi128_si32(msum), offset);
    }
    return ck_hsum256(acc) - offset;
}

AVX2 static inline float ck_a_dot_q6_K(const void *w, const void *a, size_t n) {
    const ck_block_q6_K *x = w;
    const ck_act_q8k *y = a;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc = _mm256_setzero_ps();
    for (size_t i = 0; i < n / CK_QKK; i++) {
        _mm_prefetch((const char *)(x + i) + CK_PREFETCH_AHEAD, _MM_HINT_T0);
        _mm_prefetch((const char *)(x + i) + CK_PREFETCH_AHEAD + 64, _MM_HINT_T0);
        _mm_prefetch((const char *)(x + i) + CK_PREFETCH_AHEAD + 128, _MM_HINT_T0);
        const int8_t *sc = x[i].scales;
        // The stored quants are q+32: subtract 32 * sum(scale_g * sum of activations in g).
        const __m256i scales16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)sc));
        __m256i isum = _mm256_slli_epi32(
            _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)y[i].bsums), scales16), 5);
        isum = _mm256_sub_epi32(_mm256_setzero_si256(), isum);
        for (int h = 0; h < 2; h++) {
            const __m256i ql0 = _mm256_loadu_si256((const __m256i *)(x[i].ql + 64 * h));
            const __m256i ql1 = _mm256_loadu_si256((const __m256i *)(x[i].ql + 64 * h + 32));
            const __m256i qh = _mm256_loadu_si256((const __m256i *)(x[i].qh + 32 * h));
            const __m256i q1 = _mm256_or_si256(_mm256_and_si256(ql0, m4),
                                               _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x03)), 4));
            const __m256i q2 = _mm256_or_si256(_mm256_and_si256(ql1, m4),
                                               _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x0C)), 2));
            const __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                                               _mm256_and_si256(qh, _mm256_set1_epi8(0x30)));
            const __m256i q4 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                               _mm256_srli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8((char)0xC0)), 2));
            const int8_t *p = y[i].qs + 128 * h;
            const int8_t *s = sc + 8 * h;
            const __m256i p1 = _mm256_maddubs_epi16(q1, _mm256_loadu_si256((const __m256i *)p));
            const __m256i p2 = _mm256_maddubs_epi16(q2, _mm256_loadu_si256((const __m256i *)(p + 32)));
            const __m256i p3 = _mm256_maddubs_epi16(q3, _mm256_loadu_si256((const __m256i *)(p + 64)));
            const __m256i p4 = _mm256_maddubs_epi16(q4, _mm256_loadu_si256((const __m256i *)(p + 96)));
            isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p1, _mm256_set_m128i(_mm_set1_epi16(s[1]), _mm_set1_epi16(s[0]))));
            isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p2, _mm256_set_m128i(_mm_set1_epi16(s[3]), _mm_set1_epi16(s[2]))));
            isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p3, _mm256_set_m128i(_mm_set1_epi16(s[5]), _mm_set1_epi16(s[4]))));
            isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p4, _mm256_set_m128i(_mm_set1_epi16(s[7]), _mm_set1_epi16(s[6]))));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(ck_half(x[i].d) * y[i].d), _mm256_cvtepi32_ps(isum), acc);
    }
    return ck_hsum256(acc);
}

CK_DEFINE_ROWS(ck_a_rows_f32, AVX2, ck_a_dot_f32)
CK_DEFINE_ROWS(ck_a_rows_bf16, AVX2, ck_a_dot_bf16)
CK_DEFINE_ROWS(ck_a_rows_q4_K, AVX2, ck_a_dot_q4_K)
CK_DEFINE_ROWS(ck_a_rows_q6_K, AVX2, ck_a_dot_q6_K)

ck_rows_fn ck_avx2_rows(uint32_t type) {
    switch (type) {
    case CK_TYPE_F32: return ck_a_rows_f32;
    case CK_TYPE_F16: return ck_a_rows_f16;
    case CK_TYPE_BF16: return ck_a_rows_bf16;
    case CK_TYPE_Q4_0: return ck_a_rows_q4_0;
    case CK_TYPE_Q4_1: return ck_a_rows_q4_1;
    case CK_TYPE_Q8_0: return ck_a_rows_q8_0;
    case CK_TYPE_Q4_K: return ck_a_rows_q4_K;
    case CK_TYPE_Q6_K: return ck_a_rows_q6_K;
    default: return 0;
    }
}

// ---- Vector helpers ----

// exp(x) by 2^n * e^r with |r| <= ln2/2 and a degree-6 polynomial: ~2 ulp over the
// clamped range; below -87 it returns ~1e-38 rather than 0, harmless for softmax/silu.
AVX2 static inline __m256 ck_exp256(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

AVX2 float ck_avx2_dot(const float *a, const float *b, size_t n) { return ck_a_dot_f32(a, b, n); }

// y += a*x over floats or fp16 values (attention's F16 cache), one order for both.
AVX2 CK_AI void ck_axpy_any(float a, const void *x, float *y, size_t n, const int half) {
    const __m256 va = _mm256_set1_ps(a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, ck_load8(x, i, half), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] = ck_fma(a, ck_load1(x, i, half), y[i]);
}

AVX2 void ck_avx2_axpy(float a, const float *x, float *y, size_t n) { ck_axpy_any(a, x, y, n, 0); }

AVX2 void ck_avx2_scale(float *x, float s, size_t n) {
    const __m256 vs = _mm256_set1_ps(s);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(vs, _mm256_loadu_ps(x + i)));
    for (; i < n; i++) x[i] *= s;
}

AVX2 void ck_avx2_add(const float *x, float *y, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += x[i];
}

AVX2 void ck_avx2_rmsnorm(const float *x, const float *w, float *out, size_t n, float eps) {
    const float r = 1.0f / sqrtf(ck_a_dot_f32(x, x, n) / (float)n + eps);
    const __m256 vr = _mm256_set1_ps(r);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vr), _mm256_loadu_ps(w + i)));
    for (; i < n; i++) out[i] = x[i] * r * w[i];
}

AVX2 void ck_avx2_softmax(float *x, size_t n) {
    if (n == 0) return;
    float max = x[0];
    size_t i = 0;
    if (n >= 8) {
        __m256 m = _mm256_loadu_ps(x);
        for (i = 8; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
        __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        s = _mm_max_ps(s, _mm_movehl_ps(s, s));
        s = _mm_max_ss(s, _mm_movehdup_ps(s));
        max = _mm_cvtss_f32(s);
    }
    for (; i < n; i++) max = fmaxf(max, x[i]);
    const __m256 vmax = _mm256_set1_ps(max);
    __m256 vsum = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        const __m256 e = ck_exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmax));
        _mm256_storeu_ps(x + i, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    float sum = ck_hsum256(vsum);
    for (; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    ck_avx2_scale(x, 1.0f / sum, n);
}

// The weighted sum keeps 64 outputs in eight registers while every value row passes,
// instead of a load and store of the output per row: the same fused multiply-adds in
// the same order as ck_avx2_axpy row after row, so the same bits. Keys and values are
// floats or fp16 (converted exactly, so an fp16 cache attends as its float values would).
AVX2 CK_AI void ck_attend_any(const float *q, const void *k, const void *v, size_t stride, size_t n, size_t dim,
                              float scale, float *scores, float *out, const int half) {
    const size_t esize = half ? 2 : 4;
    for (size_t j = 0; j < n; j++)
        scores[j] = ck_a_dot_any(q, (const uint8_t *)k + j * stride * esize, dim, half) * scale;
    ck_avx2_softmax(scores, n);
    size_t d = 0;
    for (; d + 64 <= dim; d += 64) {
        __m256 acc[8];
        for (int i = 0; i < 8; i++) acc[i] = _mm256_setzero_ps();
        for (size_t j = 0; j < n; j++) {
            const __m256 p = _mm256_set1_ps(scores[j]);
            for (int i = 0; i < 8; i++) acc[i] = _mm256_fmadd_ps(p, ck_load8(v, j * stride + d + 8 * i, half), acc[i]);
        }
        for (int i = 0; i < 8; i++) _mm256_storeu_ps(out + d + 8 * i, acc[i]);
    }
    if (d < dim) {
        memset(out + d, 0, (dim - d) * sizeof(float));
        for (size_t j = 0; j < n; j++)
            ck_axpy_any(scores[j], (const uint8_t *)v + (j * stride + d) * esize, out + d, dim - d, half);
    }
}

AVX2 void ck_avx2_attend(const float *q, const float *k, const float *v, size_t stride, size_t n, size_t dim, float scale,
                         float *scores, float *out) {
    ck_attend_any(q, k, v, stride, n, dim, scale, scores, out, 0);
}

AVX2 void ck_avx2_attend_f16(const float *q, const uint16_t *k, const uint16_t *v, size_t stride, size_t n, size_t dim,
                             float scale, float *scores, float *out) {
    ck_attend_any(q, k, v, stride, n, dim, scale, scores, out, 1);
}

AVX2 void ck_avx2_to_f16(const float *x, uint16_t *out, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) out[i] = ck_fp32_to_fp16(x[i]);
}

AVX2 void ck_avx2_silu_mul(float *gate, const float *up, size_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        const __m256 e = ck_exp256(_mm256_sub_ps(_mm256_setzero_ps(), g));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), _mm256_loadu_ps(up + i)));
    }
    for (; i < n; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

#endif
