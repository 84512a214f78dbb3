// Template: the row kernels of the 32-blocks (Q4_0, Q4_1, Q8_0), instantiated by each
// x86 level that runs them. The includer defines
//   CK_Q32_ATTR   its target attribute,
//   CK_Q32_DOT    u8 x s8 -> int32 lanes, each the exact sum of 4 products,
//   CK_Q32(name)  its prefix for a name,
//   CK_Q32_STEP   vectors per tile in prefill, 4 or 8 (8 needs 32 vector registers),
// and includes ck_x86.h first. Levels differ only in how they form the exact integer
// sums (AVX2's int16 step cannot saturate here: u <= 128, Q8_0's |w| even for a file's
// -128, or <= 15, a nibble; |s| <= 127, an activation), so every level gives the same
// bits, and forced dispatch changes speed, never tokens.
// ---- 32-blocks: Q4_0, Q4_1, Q8_0 ----
// One tile function per type dots one weight row with V activation vectors (V a
// compile-time constant at every call site): prefill takes CK_Q32_STEP vectors per pass,
// so a weight block is loaded and unpacked once for that many products (8 at VNNI: ~13%
// faster than 4 on the Xeon, Q4_0 and Q8_0 at 1536x576 and 4096x4096). Each (row, vector) pair
// keeps one accumulator and sees the same operations in the same order whatever V is,
// so prefill and decode give bit-identical results. (Measured on the 2-core EPYC: a
// 4-vector tile is ~1.6x faster in prefill; for decode, pairs of rows win only while
// weights sit in cache and lose ~30% when they stream from DRAM, as they do per token.)
// Q4_0 weights are d*(q-8) and Q4_1 weights d*q + m: block scales come as one 128-bit
// multiply of the weight's fp16 [d] or [d, m] by the activation's adjacent [dy, s];
// lane 0 scales the integer dot, lane 1 accumulates the offset term (dw*s, taken -8
// times at the end, or mw*s).
CK_Q32_ATTR CK_AI void CK_Q32(tile_q4)(const int asym, const uint8_t *w, const uint8_t *a, size_t act_stride, const int V,
                             size_t nb, float *out) {
    const size_t bs = asym ? sizeof(ck_block_q4_1) : sizeof(ck_block_q4_0);
    const size_t qoff = asym ? offsetof(ck_block_q4_1, qs) : offsetof(ck_block_q4_0, qs);
    __m256 acc[8];
    __m128 off[8];
    for (int v = 0; v < V; v++) { acc[v] = _mm256_setzero_ps(); off[v] = _mm_setzero_ps(); }
    for (size_t i = 0; i < nb; i++) {
        const uint8_t *blk = w + i * bs;
        _mm_prefetch((const char *)blk + CK_PREFETCH_AHEAD, _MM_HINT_T0);
        const __m256i q = ck_unpack_nibbles(blk + qoff);
        uint16_t d;
        int32_t dm;
        memcpy(&d, blk, 2);
        memcpy(&dm, blk, 4);
        const __m128 wd = asym ? _mm_cvtph_ps(_mm_cvtsi32_si128(dm)) : _mm_cvtph_ps(_mm_set1_epi16((short)d));
        for (int v = 0; v < V; v++) {
            const ck_act_q8 *y = (const ck_act_q8 *)(a + v * act_stride) + i;
            const __m128 sc = _mm_mul_ps(wd, _mm_castpd_ps(_mm_load_sd((const double *)&y->d)));
            const __m256i p = CK_Q32_DOT(q, _mm256_loadu_si256((const __m256i *)y->qs));
            acc[v] = _mm256_fmadd_ps(_mm256_broadcastss_ps(sc), _mm256_cvtepi32_ps(p), acc[v]);
            off[v] = _mm_add_ps(off[v], sc);
        }
    }
    for (int v = 0; v < V; v++) {
        const float o = _mm_cvtss_f32(_mm_movehdup_ps(off[v]));
        out[v] = ck_hsum256(acc[v]) + (asym ? o : -8.0f * o);
    }
}

// s8 x s8 through the u8 x s8 instruction: |w| times y carrying w's sign.
CK_Q32_ATTR CK_AI void CK_Q32(tile_q8_0)(const int unused, const uint8_t *w, const uint8_t *a, size_t act_stride, const int V,
                               size_t nb, float *out) {
    (void)unused;
    __m256 acc[8];
    for (int v = 0; v < V; v++) acc[v] = _mm256_setzero_ps();
    for (size_t i = 0; i < nb; i++) {
        const ck_block_q8_0 *x = (const ck_block_q8_0 *)w + i;
        _mm_prefetch((const char *)x + CK_PREFETCH_AHEAD, _MM_HINT_T0);
        const __m256i q = _mm256_loadu_si256((const __m256i *)x->qs);
        const __m256i aq = _mm256_sign_epi8(q, q);
        // A broadcast load, not _cvtsh_ss: clang inserts that into any register it likes,
        // and in the VNNI build it chose an accumulator, chaining each block's scale to
        // the previous block's multiply-add (half speed in decode).
        const __m256 dw = _mm256_cvtph_ps(_mm_set1_epi16((short)x->d));
        for (int v = 0; v < V; v++) {
            const ck_act_q8 *y = (const ck_act_q8 *)(a + v * act_stride) + i;
            const __m256i p = CK_Q32_DOT(aq, _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)y->qs), q));
            const __m256 sc = _mm256_mul_ps(dw, _mm256_broadcast_ss(&y->d));
            acc[v] = _mm256_fmadd_ps(sc, _mm256_cvtepi32_ps(p), acc[v]);
        }
    }
    for (int v = 0; v < V; v++) out[v] = ck_hsum256(acc[v]);
}

// The row driver for tiled types: within each tile of vectors, every row is dotted
// with STEP vectors at a time, then with the ones left over. COUNT is what the tile
// function counts in (blocks or elements).
#define CK_DEFINE_TILED_ROWS(NAME, TILE, ARG, STEP, COUNT)                                       \
    CK_Q32_ATTR static void NAME(CK_ROWS_ARGS) {                                                 \
        const uint8_t *wb = (const uint8_t *)w, *ab = (const uint8_t *)act;                      \
        const size_t count = (COUNT);                                                            \
        float o[8];                                                                              \
        for (size_t v0 = 0; v0 < nvec; v0 += CK_VEC_TILE) {                                      \
            const size_t v1 = v0 + CK_VEC_TILE < nvec ? v0 + CK_VEC_TILE : nvec;                 \
            for (size_t r = 0; r < nrows; r++) {                                                 \
                const uint8_t *wr = wb + r * row_bytes;                                          \
                size_t v = v0;                                                                   \
                for (; v + (STEP) <= v1; v += (STEP)) {                                          \
                    TILE(ARG, wr, ab + v * act_stride, act_stride, (STEP), count, o);            \
                    for (int k = 0; k < (STEP); k++) y[(v + k) * y_stride + r] = o[k];           \
                }                                                                                \
                switch (v1 - v) {                                                                \
                case 7: TILE(ARG, wr, ab + v * act_stride, act_stride, 7, count, o); break;      \
                case 6: TILE(ARG, wr, ab + v * act_stride, act_stride, 6, count, o); break;      \
                case 5: TILE(ARG, wr, ab + v * act_stride, act_stride, 5, count, o); break;      \
                case 4: TILE(ARG, wr, ab + v * act_stride, act_stride, 4, count, o); break;      \
                case 3: TILE(ARG, wr, ab + v * act_stride, act_stride, 3, count, o); break;      \
                case 2: TILE(ARG, wr, ab + v * act_stride, act_stride, 2, count, o); break;      \
                case 1: TILE(ARG, wr, ab + v * act_stride, act_stride, 1, count, o); break;      \
                default: break;                                                                  \
                }                                                                                \
                for (size_t k = 0; v + k < v1; k++) y[(v + k) * y_stride + r] = o[k];            \
            }                                                                                    \
        }                                                                                        \
    }

CK_DEFINE_TILED_ROWS(CK_Q32(rows_q4_0), CK_Q32(tile_q4), 0, CK_Q32_STEP, cols / CK_QK)
CK_DEFINE_TILED_ROWS(CK_Q32(rows_q4_1), CK_Q32(tile_q4), 1, CK_Q32_STEP, cols / CK_QK)
CK_DEFINE_TILED_ROWS(CK_Q32(rows_q8_0), CK_Q32(tile_q8_0), 0, CK_Q32_STEP, cols / CK_QK)

#undef CK_DEFINE_TILED_ROWS
#undef CK_Q32_ATTR
#undef CK_Q32_STEP
#undef CK_Q32_DOT
#undef CK_Q32
