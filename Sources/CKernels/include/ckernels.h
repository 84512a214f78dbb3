// CKernels: the few hot dot products, in C with per-function ISA attributes so one
// binary dispatches at run time between AVX-512/VNNI, AVX2+FMA+F16C and portable C.
// Knows nothing about models. Pointers and counts only: no allocation, no threads.
// Callers (the Swift Kernels target) validate sizes; these functions trust them.
#ifndef LAMBDA_LLM_CKERNELS_H
#define LAMBDA_LLM_CKERNELS_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Instruction-set levels, ordered: a level implies the ones below it.
enum {
    CK_ISA_GENERIC = 0,
    CK_ISA_AVX2 = 1,        // AVX2 + FMA + F16C
    CK_ISA_AVX512 = 2,      // + AVX-512 F/BW/VL/DQ
    CK_ISA_AVX512VNNI = 3,  // + AVX-512 VNNI
};

// ggml type ids (same values as the Swift GGMLType).
enum {
    CK_TYPE_F32 = 0, CK_TYPE_F16 = 1, CK_TYPE_Q4_0 = 2, CK_TYPE_Q4_1 = 3,
    CK_TYPE_Q8_0 = 8, CK_TYPE_Q4_K = 12, CK_TYPE_Q6_K = 14, CK_TYPE_BF16 = 30,
};

// Highest level this CPU (and OS) supports.
int ck_cpu_isa(void);
// 1 when every weight type's dot product at `isa` agrees with the portable path on a
// fixed pseudo-random case (a start-up guard for levels the build host could not test).
int ck_self_check(int isa);

// Activations for the quantized weight types are first quantized to 8 bits:
// - Q4_0/Q4_1/Q8_0 weights: blocks of 32 = {float d; float s = d*sum(q); int8 q[32]} (40 bytes)
// - Q4_K/Q6_K weights: blocks of 256 = {float d; int8 q[256]; int16 sums of each 16} (292 bytes)
// Float weight types (F32/F16/BF16) take the F32 activations as they are.
// Bytes one quantized activation vector of `cols` takes; 0 for float weight types.
size_t ck_act_bytes(uint32_t type, size_t cols);
void ck_quantize_act(int isa, uint32_t type, const float *x, void *dst, size_t cols);

// y[v*y_stride + r] = dot(row r of w, activation vector v) for r < nrows, v < nvec.
// w: nrows rows of row_bytes each; act: nvec vectors, act_stride bytes apart (the
// quantized form for quantized types, plain floats otherwise). Weights stream once:
// for each tile of vectors, rows are walked in order, so keep nrows*row_bytes within L2.
void ck_dot_rows(int isa, uint32_t type, const void *w, size_t row_bytes, size_t nrows, size_t cols,
                 const void *act, size_t act_stride, size_t nvec, float *y, size_t y_stride);

// Row conversion (portable, exact). count is a whole number of blocks.
void ck_dequantize_row(uint32_t type, const void *src, float *dst, size_t count);
// Matches ggml's reference quantizers bit for bit for F32/F16/BF16/Q8_0/Q4_0/Q4_1.
// Q4_K/Q6_K use a simpler (non-iterative) scale search than ggml's; the layout is ggml's.
// Returns 0 on success, -1 for an unsupported type.
int ck_quantize_row(uint32_t type, const float *src, void *dst, size_t count);

float ck_fp16_to_fp32(uint16_t h);
uint16_t ck_fp32_to_fp16(float f);  // round to nearest even
float ck_bf16_to_fp32(uint16_t h);
uint16_t ck_fp32_to_bf16(float f);  // round to nearest even, NaN kept quiet

// Vector helpers for attention and norms.
float ck_vec_dot(int isa, const float *a, const float *b, size_t n);
void ck_vec_axpy(int isa, float a, const float *x, float *y, size_t n);   // y += a*x
void ck_vec_scale(int isa, float *x, float s, size_t n);                 // x *= s
void ck_vec_add(int isa, const float *x, float *y, size_t n);             // y += x
void ck_vec_rmsnorm(int isa, const float *x, const float *w, float *out, size_t n, float eps);
void ck_vec_softmax(int isa, float *x, size_t n);                        // in place, max-subtracted
void ck_vec_silu_mul(int isa, float *gate, const float *up, size_t n);   // gate = silu(gate)*up
// One attention head for one query over n cached positions: scores[j] = scale * q.k_j,
// softmax in place, out = sum_j scores[j] * v_j. Row j of keys/values starts at
// k + j*stride / v + j*stride. The same results as dot, softmax and axpy in turn.
void ck_vec_attend(int isa, const float *q, const float *k, const float *v, size_t stride, size_t n, size_t dim,
                   float scale, float *scores, float *out);
// Half-precision KV cache rows: out[i] = x[i] rounded to the nearest fp16 (ties to even).
void ck_vec_to_f16(int isa, const float *x, uint16_t *out, size_t n);
// ck_vec_attend over fp16 keys and values: exactly ck_vec_attend of their float values
// (the conversion is exact and the operations are the same), at half the bytes read.
void ck_vec_attend_f16(int isa, const float *q, const uint16_t *k, const uint16_t *v, size_t stride, size_t n,
                       size_t dim, float scale, float *scores, float *out);

// Atomics for the Swift thread pool (portable across Swift toolchains and OS versions).
static inline long ck_atomic_load(const long *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void ck_atomic_store(long *p, long v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline long ck_atomic_fetch_add(long *p, long v) { return __atomic_fetch_add(p, v, __ATOMIC_ACQ_REL); }
static inline long ck_atomic_load_seq(const long *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline long ck_atomic_add_seq(long *p, long v) { return __atomic_add_fetch(p, v, __ATOMIC_SEQ_CST); }
static inline void ck_atomic_store_seq(long *p, long v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
// Replaces *p by desired if it still holds expected; returns whether it did.
static inline int ck_atomic_cas(long *p, long expected, long desired) {
    return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}
static inline void ck_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#ifdef __cplusplus
}
#endif
#endif
