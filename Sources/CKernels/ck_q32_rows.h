// Template: the row kernels of the 32-blocks (Q4_0, Q4_1, Q8_0), instantiated by each
// x86 level that runs them. The includer defines
//   CK_Q32_ATTR   its target attribute,
//   CK_Q32_DOT    u8 x s8 -> int32 lanes, each the exact sum of 4 products,
//   CK_Q32_DOTACC the same added to an int32 accumulator,
//   CK_Q32(name)  its prefix for a name,
//   CK_Q32_PACKED (optional, VNNI) to pack Q8_0 as w + 128 (one accumulating dot per
//                 group) instead of as signed bytes and their magnitudes,
//   CK_Q32_DOT16  (optional, AVX2) u8 x s8 -> int16 lanes, each the exact sum of 2
//                 products, for Q4 prefill to sum a block in int16 (below),
// and includes ck_x86.h first. Levels differ only in how they form the exact integer
// sums (AVX2's int16 step cannot saturate here: u <= 128, Q8_0's |w| even for a file's
// -128, or <= 15, a nibble; |s| <= 127, an activation), so every level gives the same
// bits, and forced dispatch changes speed, never tokens.
//
// Every (row, vector) dot of these types, on every level and in decode and prefill
// alike, is, block by block in order (Q4 nibbles q taken as unsigned, 0..15),
//   acc = fma(d_w * d_y, float(exact integer sum of the block's 32 products), acc),
//   off = fma(d_w, s_y, off) for Q4_0, fma(m_w, s_y, off) for Q4_1 (none for Q8_0),
//   result = acc - 8 * off for Q4_0, acc + off for Q4_1, acc for Q8_0 (one rounding),
// so a lane of a float register carries one row and no horizontal sum is left at the
// end. Prefill repacks eight rows once (their weights transposed so a 32-bit lane holds
// four of one row's, and their eight scales) and then takes each group of four
// activations with one broadcast and one integer dot per 8 rows x 4 weights. Decode
// cannot repack (weights stream once per token); it dots four rows' blocks as they lie
// and folds the integer results into lanes with horizontal adds. Integer sums are exact
// however formed, so the two give the same bits.
// (Until 2026-11-29 Q4_1 and Q8_0 kept a float lane per group of four, eight
// multiply-adds a block, and prefill eight accumulators per vector to match. One per
// block lets prefill run four vectors a pass and sum a Q4 block in int16.
// bench/kernel_bench.c built with clang as SwiftPM builds this target (gcc's code
// differs by up to 1.4x either way), 2-core EPYC, 7 alternating runs, min / median ms,
// 032a418's kernels -> these, prefill at 64 vectors: Q8_0 1536x576 1.38 / 1.67 ->
// 1.05 / 1.31, 576x1536 1.37 / 1.75 -> 1.12 / 1.40; Q4_1 1.43 / 1.46 -> 0.78 / 0.95,
// 1.12 / 1.34 -> 0.74 / 0.76. Decode from DRAM (--copies): Q4_1 1536x576 0.059 / 0.061
// -> 0.055 / 0.057; Q8_0 1536x576 0.070 / 0.081 -> 0.067 / 0.077, 576x1536 0.067 /
// 0.071 -> 0.067 / 0.083, 4096x4096 1.32 / 1.72 -> 1.60 / 1.77, 4096x11008 4.17 / 4.62
// -> 3.36 / 3.46.)

// Bytes of a block, and where its weights start.
#define CK_Q32_BYTES(type) \
    ((type) == CK_TYPE_Q4_1 ? sizeof(ck_block_q4_1) : (type) == CK_TYPE_Q8_0 ? sizeof(ck_block_q8_0) : sizeof(ck_block_q4_0))
#define CK_Q32_QS(type) ((type) == CK_TYPE_Q4_1 ? offsetof(ck_block_q4_1, qs) : offsetof(ck_block_q4_0, qs))

// Eight rows' block, packed: w[g] lane r holds row r's group g of four weights (as
// unsigned bytes, or Q8_0's signed ones), d lane r its scale. (Q4_1's minimums and
// AVX2's Q8_0 magnitudes go in arrays of their own: 32 more bytes a block cost Q4_0's
// prefill 2-4%.)
typedef struct { __m256i w[8]; __m256 d; } CK_Q32(oct_block);

// The n row pointers of a group of rows. Rows past nr (a ragged last group) repeat row
// nr-1; their lanes are never stored.
CK_Q32_ATTR CK_AI void CK_Q32(group_rows)(const uint8_t *w, size_t row_bytes, int n, int nr, const uint8_t **rp) {
    for (int r = 0; r < n; r++) rp[r] = w + (size_t)(r < nr ? r : nr - 1) * row_bytes;
}

// The first nr lanes of v (one per row) to y[0..nr). A masked store: clang turned the
// copy loop it replaces into a memcpy call (and a vzeroupper) per group of rows, 2.4%
// of a Q4_0 prefill profile on Zen 3 (no speed change the micro-benchmark resolved).
CK_Q32_ATTR CK_AI void CK_Q32(store_rows8)(float *y, __m256 v, int nr) {
    if (nr == 8) {
        _mm256_storeu_ps(y, v);
        return;
    }
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_maskstore_ps(y, _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), lane), v);
}
CK_Q32_ATTR CK_AI void CK_Q32(store_rows4)(float *y, __m128 v, int nr) {
    if (nr == 4) {
        _mm_storeu_ps(y, v);
        return;
    }
    _mm_maskstore_ps(y, _mm_cmpgt_epi32(_mm_set1_epi32(nr), _mm_setr_epi32(0, 1, 2, 3)), v);
}

// A block's exact integer sums for one row: eight int32 lanes that add up to it.
// Q8_0 is s8 x s8 through the u8 x s8 dot: |w| times y carrying w's sign.
CK_Q32_ATTR CK_AI __m256i CK_Q32(block_dot)(const uint32_t type, const uint8_t *b, __m256i yq) {
    if (type == CK_TYPE_Q8_0) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(b + offsetof(ck_block_q8_0, qs)));
        return CK_Q32_DOT(_mm256_sign_epi8(q, q), _mm256_sign_epi8(yq, q));
    }
    return CK_Q32_DOT(ck_unpack_nibbles(b + CK_Q32_QS(type)), yq);
}

// Blocks [i0, i1) of four rows. With lin set, the four rows' bytes from lin on are
// prefetched front to back, a line per 64 bytes of a block (two for Q4, three for
// Q8_0); otherwise each row's stream prefetches pf bytes ahead of itself.
CK_Q32_ATTR CK_AI void CK_Q32(quad_span)(const uint32_t type, const uint8_t *const *rp, size_t i0, size_t i1,
                                         size_t pf, const char *lin, const uint8_t *a, __m128 *acc, __m128 *off) {
    const size_t bytes = CK_Q32_BYTES(type);
    for (size_t i = i0; i < i1; i++) {
        const ck_act_q8 *ya = (const ck_act_q8 *)a + i;
        const __m256i yq = _mm256_loadu_si256((const __m256i *)ya->qs);
        __m256i p[4];
        uint64_t d = 0, m = 0;
        if (lin)
            for (size_t l = 0; l < 4 * bytes; l += 64) _mm_prefetch(lin + 4 * bytes * i + l, _MM_HINT_T0);
        for (int r = 0; r < 4; r++) {
            const uint8_t *b = rp[r] + i * bytes;
            if (!lin) _mm_prefetch((const char *)b + pf, _MM_HINT_T0);
            p[r] = CK_Q32(block_dot)(type, b, yq);
            uint16_t h;
            memcpy(&h, b, 2);
            d |= (uint64_t)h << (16 * r);
            if (type == CK_TYPE_Q4_1) {
                memcpy(&h, b + 2, 2);
                m |= (uint64_t)h << (16 * r);
            }
        }
        const __m256i u = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
        const __m128i s = _mm_add_epi32(_mm256_castsi256_si128(u), _mm256_extracti128_si256(u, 1));
        const __m128 dw = _mm_cvtph_ps(_mm_cvtsi64_si128((long long)d));
        *acc = _mm_fmadd_ps(_mm_mul_ps(dw, _mm_broadcast_ss(&ya->d)), _mm_cvtepi32_ps(s), *acc);
        if (type != CK_TYPE_Q8_0) {
            const __m128 ow = type == CK_TYPE_Q4_1 ? _mm_cvtph_ps(_mm_cvtsi64_si128((long long)m)) : dw;
            *off = _mm_fmadd_ps(ow, _mm_broadcast_ss(&ya->s), *off);
        }
    }
}

// Q8_0 decode of short rows (up to CK_Q8_0_SEQ_BLOCKS blocks, SmolLM2's) reads its
// four rows one after the other, each front to back: the Q4 kernel's four interleaved
// streams (below) ran 1.1-1.4x slower from DRAM on them here. Each row's integer block
// sums go to a buffer, folded four blocks to a register; the four rows' float chains
// then run over the buffer side by side, one lane a row, as everywhere else. Longer
// rows (7B's) take the four-stream kernel, which was as fast or faster on them.
#define CK_Q8_0_SEQ_BLOCKS 64
CK_Q32_ATTR CK_AI void CK_Q32(quad_seq_q8_0)(const uint8_t *const *rp, size_t nb, const uint8_t *a, __m128 *acc) {
    const ck_act_q8 *ya = (const ck_act_q8 *)a;
    _Alignas(16) int32_t isum[4][CK_Q8_0_SEQ_BLOCKS];
    _Alignas(8) uint16_t dh[CK_Q8_0_SEQ_BLOCKS][4];
    for (int r = 0; r < 4; r++) {
        const ck_block_q8_0 *x = (const ck_block_q8_0 *)rp[r];
        for (size_t i = 0; i < nb; i += 4) {
            __m256i p[4];
            for (int k = 0; k < 4; k++) {
                if (i + k >= nb) {
                    p[k] = _mm256_setzero_si256();
                    continue;
                }
                _mm_prefetch((const char *)(x + i + k) + CK_PREFETCH_AHEAD, _MM_HINT_T0);
                const __m256i yq = _mm256_loadu_si256((const __m256i *)ya[i + k].qs);
                p[k] = CK_Q32(block_dot)(CK_TYPE_Q8_0, (const uint8_t *)(x + i + k), yq);
                dh[i + k][r] = x[i + k].d;
            }
            const __m256i u = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
            _mm_store_si128((__m128i *)&isum[r][i], _mm_add_epi32(_mm256_castsi256_si128(u), _mm256_extracti128_si256(u, 1)));
        }
    }
    for (size_t i = 0; i < nb; i += 4) {
        // Four blocks' sums of the four rows, transposed to one register a block.
        __m128 t[4];
        for (int r = 0; r < 4; r++) t[r] = _mm_castsi128_ps(_mm_load_si128((const __m128i *)&isum[r][i]));
        _MM_TRANSPOSE4_PS(t[0], t[1], t[2], t[3]);
        for (int k = 0; k < 4 && i + k < nb; k++) {
            uint64_t d;
            memcpy(&d, dh[i + k], 8);
            const __m128 dw = _mm_cvtph_ps(_mm_cvtsi64_si128((long long)d));
            *acc = _mm_fmadd_ps(_mm_mul_ps(dw, _mm_broadcast_ss(&ya[i + k].d)), _mm_cvtepi32_ps(_mm_castps_si128(t[k])), *acc);
        }
    }
}

// Rows longer than this prefetch per stream: each of the four prefetches
// CK_Q32_QUAD_AHEAD ahead of itself and, past its row's end, into the same row of the
// next group (row r + 4). A plain 3 KB ahead of a 7B row (2304 or 6192 bytes) lands in
// the neighbouring row, which that row's own stream has already fetched: two processes
// streaming 45 MB Q4_0 matrices from DRAM on the Xeon read 13.4 GB/s together that way
// (median of 5), 16 with this at 1.5-2 KB. Shorter rows (SmolLM2's) are read as one
// stream: the group two groups ahead is prefetched front to back, two lines a block,
// instead of four per-row prefetches a block, most of them to lines already asked
// for. 2-core EPYC, 64 MB of 576x1536 matrices from DRAM, mean of 200: 0.073-0.083 ->
// 0.066-0.070 ms; SmolLM2 int4-sym decode, 3 alternating runs, 2 threads 98-104 ->
// 110-114 tok/s (1 thread within the noise).
#define CK_Q32_QUAD_AHEAD 1536
// Decode takes four rows at a time (lane = row in 128 bits): eight rows' streams ran
// ~9% slower from DRAM with both cores streaming on the Xeon, four are within ~3% of
// one row's stream there and 1.3-2x faster in cache. A row's lane sees the same
// operations as in prefill, so the bits agree.
CK_Q32_ATTR CK_AI void CK_Q32(quad_decode)(const uint32_t type, const uint8_t *w, size_t row_bytes, int nr, size_t nb,
                                           const uint8_t *a, float *y) {
    const uint8_t *rp[4];
    CK_Q32(group_rows)(w, row_bytes, 4, nr, rp);
    __m128 acc = _mm_setzero_ps(), off = _mm_setzero_ps();
    if (type == CK_TYPE_Q8_0 && nb <= CK_Q8_0_SEQ_BLOCKS) {
        CK_Q32(quad_seq_q8_0)(rp, nb, a, &acc);
    } else if (row_bytes <= CK_Q32_QUAD_AHEAD) {
        CK_Q32(quad_span)(type, rp, 0, nb, 0, (const char *)w + 2 * 4 * row_bytes, a, &acc, &off);
    } else {
        const size_t split = (row_bytes - CK_Q32_QUAD_AHEAD) / CK_Q32_BYTES(type);
        const size_t mid = split < nb ? split : nb;
        CK_Q32(quad_span)(type, rp, 0, mid, CK_Q32_QUAD_AHEAD, 0, a, &acc, &off);
        CK_Q32(quad_span)(type, rp, mid, nb, CK_Q32_QUAD_AHEAD + 3 * row_bytes, 0, a, &acc, &off);
    }
    const __m128 out = type == CK_TYPE_Q4_0 ? _mm_fnmadd_ps(_mm_set1_ps(8.0f), off, acc)
                       : type == CK_TYPE_Q4_1 ? _mm_add_ps(acc, off) : acc;
    CK_Q32(store_rows4)(y, out, nr);
}

// 8x8 transpose of 32-bit lanes: out[g] lane r = u[r] lane g.
CK_Q32_ATTR CK_AI void CK_Q32(transpose8)(const __m256i *u, __m256i *out) {
    const __m256i t0 = _mm256_unpacklo_epi32(u[0], u[1]), t1 = _mm256_unpackhi_epi32(u[0], u[1]);
    const __m256i t2 = _mm256_unpacklo_epi32(u[2], u[3]), t3 = _mm256_unpackhi_epi32(u[2], u[3]);
    const __m256i t4 = _mm256_unpacklo_epi32(u[4], u[5]), t5 = _mm256_unpackhi_epi32(u[4], u[5]);
    const __m256i t6 = _mm256_unpacklo_epi32(u[6], u[7]), t7 = _mm256_unpackhi_epi32(u[6], u[7]);
    const __m256i s0 = _mm256_unpacklo_epi64(t0, t2), s1 = _mm256_unpackhi_epi64(t0, t2);
    const __m256i s2 = _mm256_unpacklo_epi64(t1, t3), s3 = _mm256_unpackhi_epi64(t1, t3);
    const __m256i s4 = _mm256_unpacklo_epi64(t4, t6), s5 = _mm256_unpackhi_epi64(t4, t6);
    const __m256i s6 = _mm256_unpacklo_epi64(t5, t7), s7 = _mm256_unpackhi_epi64(t5, t7);
    out[0] = _mm256_permute2x128_si256(s0, s4, 0x20);
    out[1] = _mm256_permute2x128_si256(s1, s5, 0x20);
    out[2] = _mm256_permute2x128_si256(s2, s6, 0x20);
    out[3] = _mm256_permute2x128_si256(s3, s7, 0x20);
    out[4] = _mm256_permute2x128_si256(s0, s4, 0x31);
    out[5] = _mm256_permute2x128_si256(s1, s5, 0x31);
    out[6] = _mm256_permute2x128_si256(s2, s6, 0x31);
    out[7] = _mm256_permute2x128_si256(s3, s7, 0x31);
}

// Packs blocks [0, nb) of eight rows (Q4_0, Q4_1 or Q8_0): nibbles unpacked as decode
// unpacks them; Q4_1's minimums to mins; Q8_0's signed bytes offset by +128 to
// unsigned, or, given absw, kept signed with their magnitudes to absw[8 * block + g].
CK_Q32_ATTR CK_AI void CK_Q32(oct_pack)(const uint32_t type, const uint8_t *w, size_t row_bytes, int nr, size_t nb,
                                        CK_Q32(oct_block) *out, __m256 *mins, __m256i *absw) {
    const size_t bytes = type == CK_TYPE_Q4_0 ? sizeof(ck_block_q4_0)
                         : type == CK_TYPE_Q4_1 ? sizeof(ck_block_q4_1) : sizeof(ck_block_q8_0);
    const size_t qs = type == CK_TYPE_Q4_1 ? offsetof(ck_block_q4_1, qs) : offsetof(ck_block_q4_0, qs);
    const uint8_t *rp[8];
    CK_Q32(group_rows)(w, row_bytes, 8, nr, rp);
    for (size_t i = 0; i < nb; i++) {
        __m256i u[8];
        uint16_t d[8], m[8];
        for (int r = 0; r < 8; r++) {
            const uint8_t *b = rp[r] + i * bytes;
            // The next group's block, so it has arrived by the time that group is packed:
            // the first touch of each row's block here was ~16% of an int8 prefill profile
            // (weights stream from DRAM once per 64-token batch). SmolLM2 prefill, 5-6
            // alternating bench runs, median tok/s: int8 259 -> 295 at 1 thread, 465 -> 554
            // at 2; int4-asym 321 -> 413; int4-sym 398 -> 391 (within the noise).
            _mm_prefetch((const char *)b + 8 * row_bytes, _MM_HINT_T0);
            u[r] = type != CK_TYPE_Q8_0 ? ck_unpack_nibbles(b + qs)
                   : absw ? _mm256_loadu_si256((const __m256i *)(b + qs))
                          : _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(b + qs)), _mm256_set1_epi8((char)0x80));
            memcpy(&d[r], b, 2);
            if (type == CK_TYPE_Q4_1) memcpy(&m[r], b + 2, 2);
        }
        CK_Q32(transpose8)(u, out[i].w);
        for (int g = 0; absw && g < 8; g++) absw[8 * i + g] = _mm256_abs_epi8(out[i].w[g]);
        out[i].d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)d));
        if (type == CK_TYPE_Q4_1) mins[i] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)m));
    }
}

// V (<= 4) activation vectors against eight packed Q4 rows. Two integer chains per
// vector (even and odd groups) halve the dot latency each block waits on. With
// CK_Q32_DOT16 (AVX2) the chains add the groups' int16 pair sums and widen once a
// block: a nibble (<= 15) times an activation (|s| <= 128) is at most 1920, a pair
// 3840, eight groups' pairs 30720 < 32767, so the sum stays exact and one maddwd
// replaces eight. bench/kernel_bench.c (clang), 2-core EPYC, Q4_0, 64 vectors, 9
// alternating runs, min / median ms: 1536x576 0.92 / 1.13 -> 0.74 / 0.89, 576x1536
// 1.01 / 1.08 -> 0.87 / 0.89.
CK_Q32_ATTR CK_AI void CK_Q32(oct_prefill_q4)(const uint32_t type, const CK_Q32(oct_block) *pk, const __m256 *mins,
                                             size_t nb, const uint8_t *a, size_t act_stride, const int V, float *y,
                                             size_t y_stride, int nr) {
    __m256 acc[4], off[4];
    for (int v = 0; v < V; v++) { acc[v] = _mm256_setzero_ps(); off[v] = _mm256_setzero_ps(); }
    for (size_t i = 0; i < nb; i++) {
        const __m256 dw = pk[i].d;
        for (int v = 0; v < V; v++) {
            const ck_act_q8 *ya = (const ck_act_q8 *)(a + v * act_stride) + i;
            int32_t q4[8];
            memcpy(q4, ya->qs, 32);
#ifdef CK_Q32_DOT16
            __m256i e = CK_Q32_DOT16(pk[i].w[0], _mm256_set1_epi32(q4[0]));
            __m256i o = CK_Q32_DOT16(pk[i].w[1], _mm256_set1_epi32(q4[1]));
            for (int g = 2; g < 8; g += 2) {
                e = _mm256_add_epi16(e, CK_Q32_DOT16(pk[i].w[g], _mm256_set1_epi32(q4[g])));
                o = _mm256_add_epi16(o, CK_Q32_DOT16(pk[i].w[g + 1], _mm256_set1_epi32(q4[g + 1])));
            }
            const __m256 f = _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_add_epi16(e, o), _mm256_set1_epi16(1)));
#else
            __m256i e = CK_Q32_DOT(pk[i].w[0], _mm256_set1_epi32(q4[0]));
            __m256i o = CK_Q32_DOT(pk[i].w[1], _mm256_set1_epi32(q4[1]));
            for (int g = 2; g < 8; g += 2) {
                e = CK_Q32_DOTACC(e, pk[i].w[g], _mm256_set1_epi32(q4[g]));
                o = CK_Q32_DOTACC(o, pk[i].w[g + 1], _mm256_set1_epi32(q4[g + 1]));
            }
            const __m256 f = _mm256_cvtepi32_ps(_mm256_add_epi32(e, o));
#endif
            acc[v] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_broadcast_ss(&ya->d)), f, acc[v]);
            off[v] = _mm256_fmadd_ps(type == CK_TYPE_Q4_1 ? mins[i] : dw, _mm256_broadcast_ss(&ya->s), off[v]);
        }
    }
    for (int v = 0; v < V; v++)
        CK_Q32(store_rows8)(y + v * y_stride, type == CK_TYPE_Q4_1 ? _mm256_add_ps(acc[v], off[v])
                                                : _mm256_fnmadd_ps(_mm256_set1_ps(8.0f), off[v], acc[v]), nr);
}

// V (<= 4) activation vectors against eight packed Q8_0 rows, groups outermost so each
// group's weights are loaded once for the V vectors. AVX2 (absw given) dots the
// weights' magnitudes with the activations carrying the weights' signs; VNNI's weights
// are offset to w + 128 and each vector's chain starts at the activation block's stored
// -128 * sum, which cancels the offset exactly (AVX2 cannot take that form: maddubs'
// int16 pairs would saturate on weights up to 255).
CK_Q32_ATTR CK_AI void CK_Q32(oct_prefill_q8_0)(const CK_Q32(oct_block) *pk, const __m256i *absw, size_t nb,
                                               const uint8_t *a, size_t act_stride, const int V, float *y,
                                               size_t y_stride, int nr) {
    __m256 acc[4];
    for (int v = 0; v < V; v++) acc[v] = _mm256_setzero_ps();
    for (size_t i = 0; i < nb; i++) {
        __m256i sum[4];
        for (int v = 0; v < V; v++) {
            const int32_t *bs = (const int32_t *)(a + v * act_stride + nb * sizeof(ck_act_q8)) + i;
            sum[v] = absw ? _mm256_setzero_si256() : _mm256_set1_epi32(*bs);
        }
#pragma GCC unroll 1
        for (int g = 0; g < 8; g++) {
            const __m256i wg = pk[i].w[g];
            for (int v = 0; v < V; v++) {
                int32_t q;
                memcpy(&q, ((const ck_act_q8 *)(a + v * act_stride) + i)->qs + 4 * g, 4);
                const __m256i y4 = _mm256_set1_epi32(q);
                sum[v] = absw ? _mm256_add_epi32(sum[v], CK_Q32_DOT(absw[8 * i + g], _mm256_sign_epi8(y4, wg)))
                              : CK_Q32_DOTACC(sum[v], wg, y4);
            }
        }
        for (int v = 0; v < V; v++) {
            const ck_act_q8 *ya = (const ck_act_q8 *)(a + v * act_stride) + i;
            acc[v] = _mm256_fmadd_ps(_mm256_mul_ps(pk[i].d, _mm256_broadcast_ss(&ya->d)), _mm256_cvtepi32_ps(sum[v]), acc[v]);
        }
    }
    for (int v = 0; v < V; v++) CK_Q32(store_rows8)(y + v * y_stride, acc[v], nr);
}

// Widest rows whose packed form (288 bytes a block; Q4_1 32 more; AVX2's Q8_0 256
// more, the magnitudes) the packed drivers keep on the stack: 14336 columns, 126 KB
// (238 KB for AVX2's Q8_0; pool workers have 1 MB stacks) for Llama-3-8B's FFN.
// Wider rows run decode's kernel.
#define CK_Q32_PACK_BLOCKS 448
// Fewest vectors for which packing pays: below, decode's kernel per vector is faster
// (Q8_0 at 4096x4096 from L3, ms a vector: decode 0.95, packed 0.9-1.2 at 3 vectors,
// 0.78 at 6).
#define CK_Q32_PACK_MIN_VECS(type) ((type) == CK_TYPE_Q8_0 ? 6 : 3)
// AVX2 keeps Q8_0's weights signed with their magnitudes beside them; VNNI offsets them.
#ifdef CK_Q32_PACKED
#define CK_Q32_SIGNED 0
#else
#define CK_Q32_SIGNED 1
#endif

// One driver per type (TYPE a constant, so the packed arrays have fixed sizes): decode's
// four-row kernel per vector for few vectors, else eight rows packed at a time and the
// vectors four a pass.
#define CK_DEFINE_Q32_ROWS(NAME, TYPE, PREFILL)                                                   \
    CK_Q32_ATTR static void NAME(CK_ROWS_ARGS) {                                                  \
        const uint8_t *wb = (const uint8_t *)w, *ab = (const uint8_t *)act;                       \
        const size_t nb = cols / CK_QK;                                                           \
        if (nvec < CK_Q32_PACK_MIN_VECS(TYPE) || nb > CK_Q32_PACK_BLOCKS) {                       \
            for (size_t v = 0; v < nvec; v++)                                                     \
                for (size_t r = 0; r < nrows; r += 4)                                             \
                    CK_Q32(quad_decode)(TYPE, wb + r * row_bytes, row_bytes, nrows - r < 4 ? (int)(nrows - r) : 4, \
                                        nb, ab + v * act_stride, y + v * y_stride + r);           \
            return;                                                                               \
        }                                                                                         \
        CK_Q32(oct_block) pk[CK_Q32_PACK_BLOCKS];                                                 \
        __m256 mins_[(TYPE) == CK_TYPE_Q4_1 ? CK_Q32_PACK_BLOCKS : 1];                            \
        __m256i absw_[(TYPE) == CK_TYPE_Q8_0 && CK_Q32_SIGNED ? 8 * CK_Q32_PACK_BLOCKS : 1];      \
        __m256 *mins = (TYPE) == CK_TYPE_Q4_1 ? mins_ : 0;                                        \
        __m256i *absw = (TYPE) == CK_TYPE_Q8_0 && CK_Q32_SIGNED ? absw_ : 0;                      \
        for (size_t r = 0; r < nrows; r += 8) {                                                   \
            const int nr = nrows - r < 8 ? (int)(nrows - r) : 8;                                  \
            CK_Q32(oct_pack)(TYPE, wb + r * row_bytes, row_bytes, nr, nb, pk, mins, absw);        \
            const uint8_t *av = ab;                                                               \
            float *yv = y + r;                                                                    \
            size_t v = 0;                                                                         \
            for (; v + 4 <= nvec; v += 4, av += 4 * act_stride, yv += 4 * y_stride)               \
                PREFILL(4);                                                                       \
            switch (nvec - v) {                                                                   \
            case 3: PREFILL(3); break;                                                            \
            case 2: PREFILL(2); break;                                                            \
            case 1: PREFILL(1); break;                                                            \
            default: break;                                                                       \
            }                                                                                     \
        }                                                                                         \
    }
#define CK_Q4_0_PREFILL(V) CK_Q32(oct_prefill_q4)(CK_TYPE_Q4_0, pk, mins, nb, av, act_stride, V, yv, y_stride, nr)
#define CK_Q4_1_PREFILL(V) CK_Q32(oct_prefill_q4)(CK_TYPE_Q4_1, pk, mins, nb, av, act_stride, V, yv, y_stride, nr)
#define CK_Q8_0_PREFILL(V) CK_Q32(oct_prefill_q8_0)(pk, absw, nb, av, act_stride, V, yv, y_stride, nr)
CK_DEFINE_Q32_ROWS(CK_Q32(rows_q4_0), CK_TYPE_Q4_0, CK_Q4_0_PREFILL)
CK_DEFINE_Q32_ROWS(CK_Q32(rows_q4_1), CK_TYPE_Q4_1, CK_Q4_1_PREFILL)
CK_DEFINE_Q32_ROWS(CK_Q32(rows_q8_0), CK_TYPE_Q8_0, CK_Q8_0_PREFILL)
#undef CK_Q4_0_PREFILL
#undef CK_Q4_1_PREFILL
#undef CK_Q8_0_PREFILL
#undef CK_DEFINE_Q32_ROWS
#undef CK_Q32_SIGNED

#undef CK_Q32_ATTR
#undef CK_Q32_DOT
#undef CK_Q32_DOTACC
#undef CK_Q32_DOT16
#undef CK_Q32
