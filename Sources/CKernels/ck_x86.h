// x86 helpers shared by the AVX2 and AVX-512 files: the AVX2 target attribute and the
// small reductions and loads whose exact operation order both levels must share (a
// level that reuses another's kernels gives the same bits only through the same code).
#ifndef LAMBDA_LLM_CK_X86_H
#define LAMBDA_LLM_CK_X86_H
#include "ck_internal.h"
#ifdef CK_X86_EMULATED
// Test builds only (test_ckernels_cross.py): SIMDe's portable intrinsics stand in for
// the AVX-512 ones a CPU without them lacks, so ck_check can hold the AVX-512 and VNNI
// levels to the portable level's bits on an AVX2 machine. The whole file is then built
// with -mavx2 -mfma -mf16c and no per-function targets, which would let the compiler
// emit real AVX-512 for SIMDe's loops.
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <simde/x86/f16c.h>
#include <simde/x86/fma.h>
#define AVX2
#else
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma,f16c")))
#endif
#define CK_AI static inline __attribute__((always_inline))

AVX2 static inline float ck_hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Eight ck_hsum256s at once, each lane's sum in ck_hsum256's order (upper half onto the
// lower, then lanes 2-3 onto 0-1, then lane 1 onto 0), so the bits are the same:
// lane j of the low half is the sum of a[2j], of the high half the sum of a[2j+1].
// ~21 operations for eight sums where one at a time takes ~48.
AVX2 static inline __m256 ck_hsum256x8(const __m256 *a) {
    __m256 t[4], u[2];
    for (int j = 0; j < 4; j++)
        t[j] = _mm256_add_ps(_mm256_permute2f128_ps(a[2 * j], a[2 * j + 1], 0x20),
                             _mm256_permute2f128_ps(a[2 * j], a[2 * j + 1], 0x31));
    for (int j = 0; j < 2; j++)
        u[j] = _mm256_add_ps(_mm256_shuffle_ps(t[2 * j], t[2 * j + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm256_shuffle_ps(t[2 * j], t[2 * j + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    return _mm256_add_ps(_mm256_shuffle_ps(u[0], u[1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm256_shuffle_ps(u[0], u[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

AVX2 static inline float ck_half(uint16_t h) { return _cvtsh_ss(h); }

// a*b + c rounded once. Scalar tails that must equal each other bit for bit spell the
// fused multiply-add out: gcc's default -ffp-contract=fast fuses by context, not by
// expression, so two alike-looking tails could round differently.
AVX2 static inline float ck_fma(float a, float b, float c) {
    return _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(c)));
}

// One row's dot from its accumulator: the horizontal sum, then the scalar tail from n8.
// Decode and prefill, on the AVX2 and AVX-512 levels, all end here, which keeps
// their bits equal.
AVX2 CK_AI float ck_f16_tail(float s, const uint16_t *wr, const float *x, size_t n8, size_t n) {
    for (size_t j = n8; j < n; j++) s = ck_fma(ck_half(wr[j]), x[j], s);
    return s;
}
AVX2 CK_AI float ck_f16_finish(__m256 acc, const uint16_t *wr, const float *x, size_t n8, size_t n) {
    return ck_f16_tail(ck_hsum256(acc), wr, x, n8, n);
}

// 16 bytes of nibbles -> 32 bytes: low nibbles (elements 0..15) then high nibbles (16..31).
// A broadcast load and one per-lane shift, rather than a shift and a lane insert: one
// shuffle fewer per block, ~11% faster Q4 decode in cache on Zen 3.
AVX2 static inline __m256i ck_unpack_nibbles(const uint8_t *qs) {
    const __m256i both = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    return _mm256_and_si256(_mm256_srlv_epi32(both, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)), _mm256_set1_epi8(0x0F));
}

#endif
