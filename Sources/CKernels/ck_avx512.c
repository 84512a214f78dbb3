// AVX-512 kernels: 512-bit float dots for F32/BF16 weights ("avx512" level) and VNNI
// integer dots (vpdpbusd on 256-bit registers, AVX512VL) for the quantized types
// ("avx512vnni" level). Types a level lacks fall back to the level below: F16 runs
// AVX2's register-blocked kernels (the 512-bit dot, one row and vector at a time, was
// 2.2x slower in prefill on a Xeon), and the 32-blocks run AVX2's tiles with vpdpbusd
// in place of maddubs + madd, so those types give the AVX2 level's bits.
#include "ck_internal.h"
#include <math.h>
#if defined(__x86_64__) || defined(__i386__)
#include "ck_x86.h"

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))
#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

AVX512 static inline float ck_z_dot_f32(const void *w, const void *a, size_t n) {
    const float *x = w, *y = a;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        _mm_prefetch((const char *)(x + i) + CK_PREFETCH_AHEAD, _MM_HINT_T0);
        _mm_prefetch((const char *)(x + i) + CK_PREFETCH_AHEAD + 64, _MM_HINT_T0);
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16), a1);
    }
    float s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
    for (; i < n; i++) s += x[i] * y[i];
    return s;
}

AVX512 static inline __m512 ck_z_bf16x16(const uint16_t *p) {
    const __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}

AVX512 static inline float ck_z_dot_bf16(const void *w, const void *a, size_t n) {
    const uint16_t *x = w;
    const float *y = a;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        _mm_prefetch((const char *)(x + i) + CK_PREFETCH_AHEAD, _MM_HINT_T0);
        a0 = _mm512_fmadd_ps(ck_z_bf16x16(x + i), _mm512_loadu_ps(y + i), a0);
        a1 = _mm512_fmadd_ps(ck_z_bf16x16(x + i + 16), _mm512_loadu_ps(y + i + 16), a1);
    }
    float s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
    for (; i < n; i++) s += ck_bf16_to_fp32(x[i]) * y[i];
    return s;
}

CK_DEFINE_ROWS(ck_z_rows_f32, AVX512, ck_z_dot_f32)
CK_DEFINE_ROWS(ck_z_rows_bf16, AVX512, ck_z_dot_bf16)

ck_rows_fn ck_avx512_rows(uint32_t type) {
    switch (type) {
    case CK_TYPE_F32: return ck_z_rows_f32;
    case CK_TYPE_BF16: return ck_z_rows_bf16;
    default: return 0;
    }
}

// ---- VNNI: u8 x s8 -> int32 in one instruction, no int16 saturation ----

// u8 x s8 products summed in fours into int32 lanes, in one instruction.
VNNI static inline __m256i ck_v_dp(__m256i u, __m256i s) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
}

#define CK_Q32_STEP 8
#define CK_Q32_ATTR VNNI
#define CK_Q32_DOT ck_v_dp
#define CK_Q32_DOTACC(acc, u, s) _mm256_dpbusd_epi32(acc, u, s)
#define CK_Q32(name) ck_v_##name
#include "ck_q32_rows.h"

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
        offset += _cvtsh_ss(x[i].dmin) * y[i].d * (float)msum;
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
