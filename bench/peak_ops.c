// The register-only ceilings of the two inner loops that bound prefill on one core:
// 8-lane float multiply-adds (F16/F32 weights: 12 independent chains, as the 4 x 3
// register block runs them) and AVX2's signed-byte dot step, psign + maddubs + madd
// (Q8_0: 32 multiply-adds per step, 8 independent chains). Nothing touches memory, so
// the figures are what the execution ports allow; a kernel's GMAC/s over these is how
// close it runs to its ceiling. Prints the best of 20 passes.
//   cc -O2 bench/peak_ops.c -o peak_ops && ./peak_ops
#include "bench_threads.h"
#include <immintrin.h>

__attribute__((target("avx2,fma"))) static float fma_chains(long n, float s) {
    __m256 a[12];
    const __m256 x = _mm256_set1_ps(0.999f), y = _mm256_set1_ps(s);
    for (int k = 0; k < 12; k++) a[k] = _mm256_set1_ps((float)k);
    for (long i = 0; i < n; i++)
#pragma GCC unroll 12  // the chains must live in registers (gcc -O2 kept them on the stack)
        for (int k = 0; k < 12; k++) a[k] = _mm256_fmadd_ps(a[k], x, y);
    __m256 t = a[0];
    for (int k = 1; k < 12; k++) t = _mm256_add_ps(t, a[k]);
    return _mm256_cvtss_f32(t);
}

// Only the sign chain and the int32 sums carry across iterations (1-cycle latency),
// so the loop measures the three operations' throughput, as the kernel's blocks do.
__attribute__((target("avx2"))) static int byte_dot_chains(long n, int s) {
    __m256i acc[8], yk[8];
    const __m256i w = _mm256_set1_epi8(3), one = _mm256_set1_epi16(1);
    for (int k = 0; k < 8; k++) {
        acc[k] = _mm256_set1_epi32(k);
        yk[k] = _mm256_set1_epi8((char)(s + k));
    }
    for (long i = 0; i < n; i++)
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) {
            yk[k] = _mm256_sign_epi8(yk[k], w);
            acc[k] = _mm256_add_epi32(acc[k], _mm256_madd_epi16(_mm256_maddubs_epi16(w, yk[k]), one));
        }
    __m256i t = acc[0];
    for (int k = 1; k < 8; k++) t = _mm256_add_epi32(t, acc[k]);
    return _mm256_extract_epi32(t, 0);
}

int main(void) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        fprintf(stderr, "peak_ops: this CPU lacks AVX2/FMA\n");
        return 1;
    }
    const long n = 20000000;
    double best_f = 1e30, best_q = 1e30, sink = 0;
    for (int pass = 0; pass < 20; pass++) {
        const double t0 = bench_now();
        sink += fma_chains(n, 1e-3f * pass);
        const double t1 = bench_now();
        sink += byte_dot_chains(n / 8, pass);
        const double t2 = bench_now();
        if (t1 - t0 < best_f) best_f = t1 - t0;
        if (t2 - t1 < best_q) best_q = t2 - t1;
    }
    printf("f32 FMA: %.1f GMAC/s (%.2f G 8-lane FMAs/s)\n", n * 12 * 8 / best_f * 1e-9, n * 12 / best_f * 1e-9);
    printf("psign+maddubs+madd: %.1f GMAC/s (%.2f G steps/s)  [check %g]\n", n / 8 * 8 * 32 / best_q * 1e-9,
           n / 8 * 8 / best_q * 1e-9, sink);
    return 0;
}
