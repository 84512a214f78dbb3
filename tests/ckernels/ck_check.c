// CKernels on their own, for targets where the Swift tests cannot run here: built by
// tests/python/test_ckernels_cross.py for arm64 (cross gcc, run under qemu-aarch64)
// and natively. For every weight type and every level this CPU has, each row's dot
// with each vector must match a double-precision reference of the dequantized weights
// within the 8-bit activation bound (the Swift MatMulTests' bound), and a many-vector
// call must equal one call per vector bit for bit; attention in one call must equal
// its dot/softmax/axpy composition bit for bit. On x86, every level must give the
// portable path's bits on every type and in every vector helper (dot, axpy, scale,
// add, rmsnorm, softmax, silu, attention, fp16 rounding): the portable C keeps AVX2's
// floating-point order, and the AVX-512 levels keep it too (vpdpbusd forming the same
// exact integer sums; F16 and the packed Q8_0/Q4_1 prefill holding AVX2's lanes in
// other registers). A digest of the portable outputs lets test_ckernels_cross.py
// check that the arm64 build gives the x86_64 build's bits.
// Prints one line per failure and a summary; exits 1 on any failure.
#include "ckernels.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static float frand(void) {  // uniform in [-1, 1)
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng_state >> 40) & 0xFFFFFF) / 8388608.0f - 1.0f;
}

static const struct { uint32_t type; const char *name; size_t block, bytes; } TYPES[] = {
    {CK_TYPE_F32, "f32", 1, 4},      {CK_TYPE_F16, "f16", 1, 2},      {CK_TYPE_BF16, "bf16", 1, 2},
    {CK_TYPE_Q8_0, "q8_0", 32, 34},  {CK_TYPE_Q4_0, "q4_0", 32, 18},  {CK_TYPE_Q4_1, "q4_1", 32, 20},
    {CK_TYPE_Q4_K, "q4_K", 256, 144}, {CK_TYPE_Q6_K, "q6_K", 256, 210},
};

// FNV-1a over the portable level's outputs: test_ckernels_cross.py compares the x86_64
// build's with the arm64 build's, so the portable path gives the same bits on both.
static uint64_t digest = 0xcbf29ce484222325ull;
static void digest_add(const void *p, size_t n) {
    for (size_t i = 0; i < n; i++) digest = (digest ^ ((const uint8_t *)p)[i]) * 0x100000001b3ull;
}

static int same_bits(const float *a, const float *b, size_t n) { return memcmp(a, b, sizeof(float) * n) == 0; }

// Every level's vector helpers against the portable ones, bit for bit, on lengths with
// and without tails, and values reaching exp's clamps.
static int check_vector_helpers(int *checks) {
    static const size_t lens[] = {1, 7, 8, 9, 31, 32, 33, 64, 100, 576, 1536};
    enum { MAXN = 1536 };
    static float x[MAXN], y[MAXN], w[MAXN], r0[MAXN], r1[MAXN], g0[MAXN], g1[MAXN];
    int failures = 0;
    rng_state = 42;  // the same inputs whatever ran before on this CPU's levels
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
        const size_t n = lens[l];
        for (size_t i = 0; i < n; i++) {
            x[i] = 4 * frand() * (i % 13 == 0 ? 30.0f : 1.0f);
            y[i] = frand();
            w[i] = 1 + frand();
        }
        for (int isa = CK_ISA_GENERIC; isa <= ck_cpu_isa(); isa++) {
            const char *bad = 0;
            const float d0 = ck_vec_dot(CK_ISA_GENERIC, x, y, n), d1 = ck_vec_dot(isa, x, y, n);
            if (memcmp(&d0, &d1, sizeof d0)) bad = "dot";
            memcpy(r0, y, n * 4); memcpy(r1, y, n * 4);
            ck_vec_axpy(CK_ISA_GENERIC, 0.37f, x, r0, n); ck_vec_axpy(isa, 0.37f, x, r1, n);
            if (!same_bits(r0, r1, n)) bad = "axpy";
            ck_vec_scale(CK_ISA_GENERIC, r0, 1.7f, n); ck_vec_scale(isa, r1, 1.7f, n);
            if (!same_bits(r0, r1, n)) bad = "scale";
            ck_vec_add(CK_ISA_GENERIC, x, r0, n); ck_vec_add(isa, x, r1, n);
            if (!same_bits(r0, r1, n)) bad = "add";
            ck_vec_rmsnorm(CK_ISA_GENERIC, x, w, r0, n, 1e-5f); ck_vec_rmsnorm(isa, x, w, r1, n, 1e-5f);
            if (!same_bits(r0, r1, n)) bad = "rmsnorm";
            memcpy(r0, x, n * 4); memcpy(r1, x, n * 4);
            ck_vec_softmax(CK_ISA_GENERIC, r0, n); ck_vec_softmax(isa, r1, n);
            if (!same_bits(r0, r1, n)) bad = "softmax";
            memcpy(g0, x, n * 4); memcpy(g1, x, n * 4);
            ck_vec_silu_mul(CK_ISA_GENERIC, g0, y, n); ck_vec_silu_mul(isa, g1, y, n);
            if (!same_bits(g0, g1, n)) bad = "silu_mul";
            uint16_t h0[MAXN], h1[MAXN];
            ck_vec_to_f16(CK_ISA_GENERIC, x, h0, n); ck_vec_to_f16(isa, x, h1, n);
            if (memcmp(h0, h1, n * 2)) bad = "to_f16";
            if (isa == CK_ISA_GENERIC) {
                digest_add(&d0, sizeof d0);
                digest_add(r0, n * 4);
                digest_add(g0, n * 4);
                digest_add(h0, n * 2);
                continue;
            }
            *checks += 1;
            if (bad) {
                printf("FAIL %s isa %d n %zu: differs from the portable level's bits\n", bad, isa, n);
                failures++;
            }
        }
    }
    return failures;
}

// Weights and activations at their largest magnitudes, where AVX2 forms integer sums in
// int16 (Q8_0's |w| = 128 times |s| = 127 in pairs, Q4_0's nibbles of 15 summed over a
// block's eight groups), then random activations: every level gives the portable
// level's bits, in decode and in prefill, on a ragged group of rows, with block counts
// that are and are not multiples of four, on both of Q8_0's decode kernels (short rows
// read one after the other, long ones as four streams).
static int check_integer_extremes(int *checks) {
    enum { rows = 9, max_cols = 2336, nvec = 8 };
    static const size_t col_counts[] = {256, 576, 2336};
    static const uint32_t types[] = {CK_TYPE_Q8_0, CK_TYPE_Q4_0, CK_TYPE_Q4_1};
    static float x[nvec * max_cols], ref[nvec * rows], got[nvec * rows];
    static uint8_t w[rows * max_cols / 32 * 34], act[nvec * max_cols / 32 * 44];
    int failures = 0;
    for (size_t c = 0; c < sizeof col_counts / sizeof col_counts[0]; c++) {
        const size_t cols = col_counts[c];
        for (size_t t = 0; t < 3; t++) {
            const size_t bytes = types[t] == CK_TYPE_Q8_0 ? 34 : types[t] == CK_TYPE_Q4_0 ? 18 : 20;
            const size_t qs = bytes - 32 / (types[t] == CK_TYPE_Q8_0 ? 1 : 2);
            const uint16_t d = ck_fp32_to_fp16(1.0f / 64), m = ck_fp32_to_fp16(0.5f);
            for (size_t b = 0; b < rows * cols / 32; b++) {
                uint8_t *blk = w + b * bytes;
                memcpy(blk, &d, 2);
                if (types[t] == CK_TYPE_Q4_1) memcpy(blk + 2, &m, 2);
                // Q8_0: -128 (a file may hold it) in even rows, 127 in odd; Q4: every nibble 15.
                memset(blk + qs, types[t] != CK_TYPE_Q8_0 ? 0xFF : (b / (cols / 32)) % 2 ? 0x7F : 0x80, bytes - qs);
            }
            const size_t act_bytes = ck_act_bytes(types[t], cols);
            for (int sign = -1; sign <= 1; sign++) {  // all negative, random, all positive
                rng_state = 11;
                for (size_t i = 0; i < nvec * cols; i++) x[i] = sign ? (float)sign * (1.0f + (float)(i / cols)) : frand();
                for (size_t n = 1; n <= nvec; n += nvec - 1) {  // decode's kernels, then prefill's
                    for (int isa = CK_ISA_GENERIC; isa <= ck_cpu_isa(); isa++) {
                        for (size_t v = 0; v < n; v++) ck_quantize_act(isa, types[t], x + v * cols, act + v * act_bytes, cols);
                        ck_dot_rows(isa, types[t], w, bytes * cols / 32, rows, cols, act, act_bytes, n, isa ? got : ref, rows);
                        if (isa == CK_ISA_GENERIC) continue;
                        *checks += 1;
                        if (!same_bits(ref, got, rows * n)) {
                            printf("FAIL type %u isa %d extreme weights, %zu columns, activations %d, %zu vectors: "
                                   "differs from the portable level's bits\n", types[t], isa, cols, sign, n);
                            failures++;
                        }
                    }
                }
            }
        }
    }
    return failures;
}

// Float weights on ragged shapes (a column tail past the last 8 and 32, a row tail,
// vectors past the prefill blocks; then columns past one prefill chunk and vectors past
// one prefill pass): every level's bits are the portable level's.
static int check_float_tails(int *checks) {
    static const size_t shapes[][3] = {{13, 100, 9}, {13, 1100, 67}};  // rows, columns, vectors
    static const uint32_t types[] = {CK_TYPE_F32, CK_TYPE_F16, CK_TYPE_BF16};
    int failures = 0;
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const size_t rows = shapes[k][0], cols = shapes[k][1], nvec = shapes[k][2];
        float *src = malloc(sizeof(float) * rows * cols), *x = malloc(sizeof(float) * nvec * cols);
        float *ref = malloc(sizeof(float) * nvec * rows), *got = malloc(sizeof(float) * nvec * rows);
        uint8_t *w = malloc(rows * cols * 4);
        rng_state = 7;
        for (size_t i = 0; i < rows * cols; i++) src[i] = frand();
        for (size_t i = 0; i < nvec * cols; i++) x[i] = frand();
        for (size_t t = 0; t < 3; t++) {
            const size_t row_bytes = cols * (types[t] == CK_TYPE_F32 ? 4 : 2);
            for (size_t r = 0; r < rows; r++) ck_quantize_row(types[t], src + r * cols, w + r * row_bytes, cols);
            for (size_t n = 1; n <= nvec; n += nvec - 1) {  // decode's kernels, then prefill's
                for (int isa = CK_ISA_GENERIC; isa <= ck_cpu_isa(); isa++) {
                    ck_dot_rows(isa, types[t], w, row_bytes, rows, cols, x, cols * 4, n, isa ? got : ref, rows);
                    if (isa == CK_ISA_GENERIC) { digest_add(ref, sizeof(float) * rows * n); continue; }
                    *checks += 1;
                    if (!same_bits(ref, got, rows * n)) {
                        printf("FAIL type %u isa %d %zu columns, %zu vectors: differs from the portable level's bits\n",
                               types[t], isa, cols, n);
                        failures++;
                    }
                }
            }
        }
        free(src); free(x); free(ref); free(got); free(w);
    }
    return failures;
}

int main(void) {
    const size_t rows = 37, cols = 768, nvec = 11;
    int failures = 0, checks = 0;
    float *x = malloc(sizeof(float) * cols * nvec), *deq = malloc(sizeof(float) * cols);
    float *src = malloc(sizeof(float) * cols * rows);
    float *many = malloc(sizeof(float) * rows * nvec), *one = malloc(sizeof(float) * rows);
    float *at_generic = malloc(sizeof(float) * rows * nvec);
    for (size_t i = 0; i < cols * nvec; i++) x[i] = frand() * (i % 97 == 0 ? 8.0f : 1.0f);
    for (size_t i = 0; i < cols * rows; i++) src[i] = 0.05f * frand();
    for (size_t t = 0; t < sizeof TYPES / sizeof TYPES[0]; t++) {
        const uint32_t type = TYPES[t].type;
        const size_t row_bytes = cols / TYPES[t].block * TYPES[t].bytes;
        uint8_t *w = malloc(row_bytes * rows);
        for (size_t r = 0; r < rows; r++)
            if (ck_quantize_row(type, src + r * cols, w + r * row_bytes, cols) != 0) {
                printf("FAIL %s: ck_quantize_row refused the type\n", TYPES[t].name);
                return 1;
            }
        const size_t act_bytes = ck_act_bytes(type, cols), stride = act_bytes ? act_bytes : cols * sizeof(float);
        const size_t act_block = type == CK_TYPE_Q4_K || type == CK_TYPE_Q6_K ? 256 : 32;
        for (int isa = CK_ISA_GENERIC; isa <= ck_cpu_isa(); isa++) {
            uint8_t *act = act_bytes ? malloc(act_bytes * nvec) : (uint8_t *)x;
            for (size_t v = 0; act_bytes && v < nvec; v++) ck_quantize_act(isa, type, x + v * cols, act + v * act_bytes, cols);
            ck_dot_rows(isa, type, w, row_bytes, rows, cols, act, stride, nvec, many, rows);
            if (isa == CK_ISA_GENERIC) {
                memcpy(at_generic, many, sizeof(float) * rows * nvec);
                digest_add(many, sizeof(float) * rows * nvec);
            }
            if (isa > CK_ISA_GENERIC) {
                checks++;
                if (memcmp(at_generic, many, sizeof(float) * rows * nvec) != 0) {
                    printf("FAIL %s isa %d: differs from the portable level's bits\n", TYPES[t].name, isa);
                    failures++;
                }
            }
            for (size_t v = 0; v < nvec; v++) {
                ck_dot_rows(isa, type, w, row_bytes, rows, cols, act + v * stride, stride, 1, one, rows);
                for (size_t r = 0; r < rows; r++) {
                    const float *xv = x + v * cols;
                    ck_dequantize_row(type, w + r * row_bytes, deq, cols);
                    double dot = 0, mag = 0, bound = 0;
                    for (size_t i = 0; i < cols; i++) {
                        dot += (double)deq[i] * xv[i];
                        mag += fabs((double)deq[i] * xv[i]);
                    }
                    for (size_t b = 0; act_bytes && b < cols; b += act_block) {
                        double amax = 0, wsum = 0;
                        for (size_t i = b; i < b + act_block; i++) {
                            amax = fmax(amax, fabs(xv[i]));
                            wsum += fabs(deq[i]);
                        }
                        bound += wsum * amax / 254;
                    }
                    const double tol = 1.001 * bound + 1e-5 * mag + 1e-30;
                    const float got = many[v * rows + r];
                    checks += 2;
                    if (!(fabs(got - dot) <= tol)) {
                        printf("FAIL %s isa %d row %zu vector %zu: %.9g vs reference %.9g (tolerance %.3g)\n",
                               TYPES[t].name, isa, r, v, got, dot, tol);
                        failures++;
                    }
                    if (memcmp(&got, &one[r], sizeof got) != 0) {
                        printf("FAIL %s isa %d row %zu vector %zu: %zu vectors at once give %.9g, alone %.9g\n",
                               TYPES[t].name, isa, r, v, nvec, got, one[r]);
                        failures++;
                    }
                }
            }
            if (act_bytes) free(act);
        }
        free(w);
    }
    // Attention: one call equals dot, softmax and axpy in turn, bit for bit.
    // With fp16 keys and values, one call equals attending their float values bit for bit,
    // and the conversion rounds as ck_fp32_to_fp16 does.
    const size_t dims[] = {64, 128, 80, 8, 37}, counts[] = {1, 7, 300};
    for (int isa = CK_ISA_GENERIC; isa <= ck_cpu_isa(); isa++)
        for (size_t a = 0; a < 5; a++)
            for (size_t c = 0; c < 3; c++) {
                const size_t dim = dims[a], n = counts[c], stride = dim + 24;
                float *kv = malloc(sizeof(float) * stride * n * 2), *q = malloc(sizeof(float) * dim);
                float *s1 = malloc(sizeof(float) * n), *s2 = malloc(sizeof(float) * n);
                float *o1 = malloc(sizeof(float) * dim), *o2 = malloc(sizeof(float) * dim);
                for (size_t i = 0; i < stride * n * 2; i++) kv[i] = frand();
                for (size_t i = 0; i < dim; i++) q[i] = 2 * frand();
                const float *k = kv, *v = kv + stride * n;
                ck_vec_attend(isa, q, k, v, stride, n, dim, 0.125f, s1, o1);
                ck_vec_attend(CK_ISA_GENERIC, q, k, v, stride, n, dim, 0.125f, s2, o2);
                if (isa == CK_ISA_GENERIC) {
                    digest_add(s2, sizeof(float) * n);
                    digest_add(o2, sizeof(float) * dim);
                } else {
                    checks++;
                    if (memcmp(s1, s2, sizeof(float) * n) || memcmp(o1, o2, sizeof(float) * dim)) {
                        printf("FAIL attend isa %d dim %zu n %zu: differs from the portable level's bits\n", isa, dim, n);
                        failures++;
                    }
                }
                for (size_t j = 0; j < n; j++) s2[j] = ck_vec_dot(isa, q, k + j * stride, dim) * 0.125f;
                ck_vec_softmax(isa, s2, n);
                memset(o2, 0, sizeof(float) * dim);
                for (size_t j = 0; j < n; j++) ck_vec_axpy(isa, s2[j], v + j * stride, o2, dim);
                checks++;
                if (memcmp(s1, s2, sizeof(float) * n) || memcmp(o1, o2, sizeof(float) * dim)) {
                    printf("FAIL attend isa %d dim %zu n %zu: differs from dot, softmax and axpy\n", isa, dim, n);
                    failures++;
                }
                uint16_t *kv16 = malloc(sizeof(uint16_t) * stride * n * 2);
                ck_vec_to_f16(isa, kv, kv16, stride * n * 2);
                int rounding = 0;
                for (size_t i = 0; i < stride * n * 2; i++) {
                    rounding |= kv16[i] != ck_fp32_to_fp16(kv[i]);
                    kv[i] = ck_fp16_to_fp32(kv16[i]);
                }
                ck_vec_attend(isa, q, k, v, stride, n, dim, 0.125f, s1, o1);
                ck_vec_attend_f16(isa, q, kv16, kv16 + stride * n, stride, n, dim, 0.125f, s2, o2);
                checks += 2;
                if (rounding) {
                    printf("FAIL to_f16 isa %d: rounds differently from ck_fp32_to_fp16\n", isa);
                    failures++;
                }
                if (memcmp(s1, s2, sizeof(float) * n) || memcmp(o1, o2, sizeof(float) * dim)) {
                    printf("FAIL attend_f16 isa %d dim %zu n %zu: differs from attending the float values\n", isa, dim, n);
                    failures++;
                }
                free(kv16); free(kv); free(q); free(s1); free(s2); free(o1); free(o2);
            }
    failures += check_vector_helpers(&checks);
    failures += check_float_tails(&checks);
    failures += check_integer_extremes(&checks);
    printf("ck_check: portable digest %016llx\n", (unsigned long long)digest);
    printf("ck_check: best level %d, %d checks, %d failures\n", ck_cpu_isa(), checks, failures);
    return failures ? 1 : 0;
}
