// Kernel micro-benchmark: times ck_dot_rows, the engine's matrix-vector(s) entry point,
// on one weight matrix of synthetic rows, and prints the best pass in ms and GMAC/s.
// The figures for single kernels in the README and in the kernel comments come from
// it. Build it from the kernel sources with clang, as SwiftPM builds the engine's (gcc's
// code for the same kernels runs up to 1.4x faster or slower):
//   clang -O3 -fno-math-errno -I Sources/CKernels/include Sources/CKernels/*.c
//      bench/kernel_bench.c -lm -o kernel_bench   (one line)
//   ./kernel_bench [--level L] [--reps N] [--copies K] [--chunk ROWS] TYPE ROWS COLS VECTORS
// VECTORS 1 is a decode step; 32-64 a prefill batch. --copies K cycles the passes over K
// copies of the matrix, so with K x the matrix above the last-level cache each pass
// reads its weights from DRAM, as decode does. --chunk splits the rows into calls of
// that many, as the engine's thread pool does. The check value is a hash of the
// outputs: every level gives the same bits, so it must not change with --level.
#include "bench_threads.h"
#include "ckernels.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct { const char *name; uint32_t type; } types[] = {
    {"f32", CK_TYPE_F32},   {"f16", CK_TYPE_F16},   {"bf16", CK_TYPE_BF16}, {"q8_0", CK_TYPE_Q8_0},
    {"q4_0", CK_TYPE_Q4_0}, {"q4_1", CK_TYPE_Q4_1}, {"q4_k", CK_TYPE_Q4_K}, {"q6_k", CK_TYPE_Q6_K},
};
static const char *levels[] = {"generic", "avx2", "avx512", "avx512vnni"};

static int usage(const char *problem) {
    if (problem) fprintf(stderr, "kernel_bench: %s\n", problem);
    fprintf(stderr, "usage: kernel_bench [--level generic|avx2|avx512|avx512vnni] [--reps N] [--copies K] "
                    "[--chunk ROWS] TYPE ROWS COLS VECTORS\n"
                    "TYPE: f32 f16 bf16 q8_0 q4_0 q4_1 q4_k q6_k\n");
    return 2;
}

// A positive count no larger than max, or 0 when s is not one.
static size_t count(const char *s, size_t max) {
    char *end;
    errno = 0;
    const unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || s[0] == '-' || v == 0 || v > max) return 0;
    return (size_t)v;
}

static size_t block_of(uint32_t type) {
    return type == CK_TYPE_Q4_K || type == CK_TYPE_Q6_K ? 256 : type >= CK_TYPE_Q4_0 && type <= CK_TYPE_Q8_0 ? 32 : 1;
}

static size_t row_bytes(uint32_t type, size_t cols) {
    switch (type) {
    case CK_TYPE_F32: return 4 * cols;
    case CK_TYPE_F16: case CK_TYPE_BF16: return 2 * cols;
    case CK_TYPE_Q8_0: return cols / 32 * 34;
    case CK_TYPE_Q4_0: return cols / 32 * 18;
    case CK_TYPE_Q4_1: return cols / 32 * 20;
    case CK_TYPE_Q4_K: return cols / 256 * 144;
    default: return cols / 256 * 210;  // Q6_K
    }
}

// Deterministic uniform values in [-0.5, 0.5), the same on every libc.
static float next_value(uint64_t *s) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)(*s >> 40) / (float)(1 << 24) - 0.5f;
}

static void *allocate(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "kernel_bench: cannot allocate %zu bytes\n", bytes);
        exit(1);
    }
    return p;
}

int main(int argc, char **argv) {
    int level = ck_cpu_isa(), reps = 20;
    size_t copies = 1, chunk = 0;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (i + 1 >= argc) return usage("an option needs a value");
        const char *opt = argv[i], *val = argv[i + 1];
        if (strcmp(opt, "--level") == 0) {
            int found = -1;
            for (int l = 0; l < 4; l++)
                if (strcmp(val, levels[l]) == 0) found = l;
            if (found < 0) return usage("--level must be generic, avx2, avx512 or avx512vnni");
            if (found > ck_cpu_isa()) {
                fprintf(stderr, "kernel_bench: this CPU lacks the instructions of --level %s (best: %s)\n", val,
                        levels[ck_cpu_isa()]);
                return 1;
            }
            level = found;
        } else if (strcmp(opt, "--reps") == 0) {
            if (!(reps = (int)count(val, 1000000))) return usage("--reps must be a count from 1 to 1000000");
        } else if (strcmp(opt, "--copies") == 0) {
            if (!(copies = count(val, 1024))) return usage("--copies must be a count from 1 to 1024");
        } else if (strcmp(opt, "--chunk") == 0) {
            if (!(chunk = count(val, (size_t)1 << 30))) return usage("--chunk must be a positive row count");
        } else {
            fprintf(stderr, "kernel_bench: unknown option %s\n", opt);
            return usage(0);
        }
    }
    if (argc - i != 4) return usage("expected TYPE ROWS COLS VECTORS");
    int t = -1;
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++)
        if (strcmp(argv[i], types[k].name) == 0) t = (int)k;
    if (t < 0) return usage("unknown TYPE");
    const uint32_t type = types[t].type;
    const size_t rows = count(argv[i + 1], (size_t)1 << 20), cols = count(argv[i + 2], (size_t)1 << 20),
                 vecs = count(argv[i + 3], 4096);
    if (!rows || !cols || !vecs) return usage("ROWS and COLS must be from 1 to 1048576, VECTORS from 1 to 4096");
    if (cols % block_of(type)) {
        fprintf(stderr, "kernel_bench: %s rows hold whole blocks of %zu values; COLS %zu is not a multiple\n",
                types[t].name, block_of(type), cols);
        return 1;
    }
    if (!chunk || chunk > rows) chunk = rows;
    const size_t rb = row_bytes(type, cols), matrix = rows * rb;
    if (matrix > ((size_t)8 << 30) / copies) return usage("the weights (ROWS x row bytes x copies) must stay under 8 GiB");

    uint8_t *w = allocate(matrix * copies);
    float *x = allocate(vecs * cols * 4), *y = allocate(vecs * rows * 4), *row = allocate(cols * 4);
    uint64_t seed = 1;
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < cols; c++) row[c] = next_value(&seed);
        if (ck_quantize_row(type, row, w + r * rb, cols) != 0) {
            fprintf(stderr, "kernel_bench: cannot make %s rows\n", types[t].name);
            return 1;
        }
    }
    for (size_t k = 1; k < copies; k++) memcpy(w + k * matrix, w, matrix);
    for (size_t k = 0; k < vecs * cols; k++) x[k] = next_value(&seed);
    const size_t act_bytes = ck_act_bytes(type, cols);
    const void *act = x;
    size_t act_stride = cols * 4;
    if (act_bytes) {
        uint8_t *q = allocate(vecs * act_bytes);
        for (size_t v = 0; v < vecs; v++) ck_quantize_act(level, type, x + v * cols, q + v * act_bytes, cols);
        act = q;
        act_stride = act_bytes;
    }

    double best = 1e30, total = 0;
    for (int rep = -1; rep < reps; rep++) {  // pass -1 warms up and is not counted
        const uint8_t *wk = w + (size_t)((rep + 1) % (int)copies) * matrix;
        const double t0 = bench_now();
        for (size_t r0 = 0; r0 < rows; r0 += chunk) {
            const size_t n = rows - r0 < chunk ? rows - r0 : chunk;
            ck_dot_rows(level, type, wk + r0 * rb, rb, n, cols, act, act_stride, vecs, y + r0, rows);
        }
        const double dt = bench_now() - t0;
        if (rep < 0) continue;
        total += dt;
        if (dt < best) best = dt;
    }
    uint32_t check = 2166136261u;
    for (size_t k = 0; k < vecs * rows; k++) {
        uint32_t u;
        memcpy(&u, &y[k], 4);
        check = (check ^ u) * 16777619u;
    }
    printf("%s %s %zux%zu x%zu: best %.3f ms, mean %.3f ms, %.1f GMAC/s, %.1f GB/s of weights, check %08x\n",
           types[t].name, levels[level], rows, cols, vecs, best * 1e3, total / reps * 1e3,
           (double)rows * cols * vecs / best * 1e-9, (double)matrix / best * 1e-9, check);
    return 0;
}
