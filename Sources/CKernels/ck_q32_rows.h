// Template: the row kernels of the 32-blocks (Q4_0, Q4_1, Q8_0), instantiated by each
// x86 level that runs them. The includer defines
//   CK_Q32_ATTR   its target attribute,
//   CK_Q32_DOT    u8 x s8 -> int32 lanes, each the exact sum of 4 products,
//   CK_Q32_DOTACC the same added to an int32 accumulator,
//   CK_Q32(name)  its prefix for a name,
//   CK_Q32_LANE_VECS vectors per pass of the packed Q4_1/Q8_0 prefill: 2 with 32
//                 registers, 1 with AVX2's 16,
//   CK_Q32_PACKED (optional, VNNI) to pack Q8_0 as w + 128 (one accumulating dot per
//                 group) instead of as signed bytes and their magnitudes,
//   CK_Q32_DOT16  (optional, AVX2) u8 x s8 -> int16 lanes, each the exact sum of 2
//                 products, for Q4_0 prefill to sum a block in int16 (below),
// and includes ck_x86.h first. Levels differ only in how they form the exact integer
// sums (AVX2's int16 step cannot saturate here: u <= 128, Q8_0's |w| even for a file's
// -128, or <= 15, a nibble; |s| <= 127, an activation), so every level gives the same
// bits, and forced dispatch changes speed, never tokens.
// ---- Q8_0: one row at a time ----
// (Q4_0 and Q4_1 take one row per register lane, below; Q8_0 prefill too, in the
// tiles' order.)
// The tile dots one weight row with V (<= 4) activation vectors (V a compile-time
// constant at every call site), so a weight block is loaded once for that many
// products. Each (row, vector) pair keeps one accumulator and sees the same operations
// in the same order whatever V is, so prefill and decode give bit-identical results.
// (Measured on the 2-core EPYC: a 4-vector tile is ~1.6x faster in prefill; for decode,
// pairs of rows win only while weights sit in cache and lose ~30% when they stream
// from DRAM, as they do per token.)
// s8 x s8 through the u8 x s8 instruction: |w| times y carrying w's sign.
CK_Q32_ATTR CK_AI void CK_Q32(tile_q8_0)(const uint8_t *w, const uint8_t *a, size_t act_stride, const int V, size_t nb,
                                        float *out) {
    __m256 acc[4];
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

// ---- Q4_0 and Q4_1: one row per register lane (eight in prefill, four in decode) ----
// Every Q4_0 or Q4_1 (row, vector) dot, on every level and in decode and prefill alike,
// is, with the nibbles q as unsigned (0..15),
//   acc = fma(d_w * d_y, float(exact integer block sum of q * s), acc)  block by block,
//   off = fma(d_w, s_y, off) for Q4_0, fma(m_w, s_y, off) for Q4_1      likewise,
//   result = acc - 8 * off for Q4_0, acc + off for Q4_1                 (one rounding),
// so each lane of a float register carries one row and no horizontal sum is left at
// the end. (Q4_1 took the Q8_0 tiles' order, a float lane per group of four, until
// 2026-11-29: this one needs 8x fewer float multiply-adds and lets prefill sum a block
// in int16. bench/kernel_bench.c, 2-core EPYC, 1536x576, 9 alternating runs, min /
// median ms: prefill at 64 vectors 1.58 / 1.67 -> 1.15 / 1.52, decode from DRAM
// (--copies 64) 0.052 / 0.069 -> 0.047 / 0.057.) Prefill repacks eight rows once (their unpacked nibbles transposed so a
// 32-bit lane holds four of one row's weights, and their eight scales) and then takes
// each group of four activations with one broadcast and one integer dot per 8 rows x 4
// weights: ~1.6 ops per (row, vector, block) where the per-row tiles above take ~5
// (2.1-2.3x on the Xeon at 576 and 4096 columns). Decode cannot repack (weights stream
// once per token); it dots four rows' blocks as they lie and folds the integer results
// into lanes with horizontal adds. Integer sums are exact however formed, so the two
// give the same bits.
// Eight rows' block, packed: w[g] lane r holds row r's group g of four weights (as
// unsigned bytes), d lane r its scale. (Q4_1's minimums go in an array of their own:
// 32 more bytes a block cost Q4_0's prefill 2-4%.)
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

CK_Q32_ATTR CK_AI void CK_Q32(oct_store)(const uint32_t type, __m256 acc, __m256 off, int nr, float *y) {
    CK_Q32(store_rows8)(y, type == CK_TYPE_Q4_1 ? _mm256_add_ps(acc, off) : _mm256_fnmadd_ps(_mm256_set1_ps(8.0f), off, acc), nr);
}

// Bytes of a Q4_0 or Q4_1 block, and where its nibbles start.
#define CK_Q4_BYTES(type) ((type) == CK_TYPE_Q4_1 ? sizeof(ck_block_q4_1) : sizeof(ck_block_q4_0))
#define CK_Q4_QS(type) ((type) == CK_TYPE_Q4_1 ? offsetof(ck_block_q4_1, qs) : offsetof(ck_block_q4_0, qs))

// Blocks [i0, i1) of four rows. With lin set, the four rows' bytes from lin on are
// prefetched front to back, two lines a block (72 or 80 bytes); otherwise each row's
// stream prefetches pf bytes ahead of itself.
CK_Q32_ATTR CK_AI void CK_Q32(quad_span_q4)(const uint32_t type, const uint8_t *const *rp, size_t i0, size_t i1,
                                            size_t pf, const char *lin, const uint8_t *a, __m128 *acc, __m128 *off) {
    const size_t bytes = CK_Q4_BYTES(type);
    for (size_t i = i0; i < i1; i++) {
        const ck_act_q8 *ya = (const ck_act_q8 *)a + i;
        const __m256i yq = _mm256_loadu_si256((const __m256i *)ya->qs);
        __m256i p[4];
        uint64_t d = 0, m = 0;
        if (lin) {
            _mm_prefetch(lin + 4 * bytes * i, _MM_HINT_T0);
            _mm_prefetch(lin + 4 * bytes * i + 64, _MM_HINT_T0);
        }
        for (int r = 0; r < 4; r++) {
            const uint8_t *b = rp[r] + i * bytes;
            if (!lin) _mm_prefetch((const char *)b + pf, _MM_HINT_T0);
            p[r] = CK_Q32_DOT(ck_unpack_nibbles(b + CK_Q4_QS(type)), yq);
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
        const __m128 ow = type == CK_TYPE_Q4_1 ? _mm_cvtph_ps(_mm_cvtsi64_si128((long long)m)) : dw;
        *off = _mm_fmadd_ps(ow, _mm_broadcast_ss(&ya->s), *off);
    }
}

// Rows longer than this prefetch per stream: each of the four prefetches
// CK_Q4_0_QUAD_AHEAD ahead of itself and, past its row's end, into the same row of the
// next group (row r + 4). A plain 3 KB ahead of a 7B row (2304 or 6192 bytes) lands in
// the neighbouring row, which that row's own stream has already fetched: two processes
// streaming 45 MB Q4_0 matrices from DRAM on the Xeon read 13.4 GB/s together that way
// (median of 5), 16 with this at 1.5-2 KB. Shorter rows (SmolLM2's) are read as one
// stream: the group two groups ahead is prefetched front to back, two lines a block,
// instead of four per-row prefetches a block, most of them to lines already asked
// for. 2-core EPYC, 64 MB of 576x1536 matrices from DRAM, mean of 200: 0.073-0.083 ->
// 0.066-0.070 ms; SmolLM2 int4-sym decode, 3 alternating runs, 2 threads 98-104 ->
// 110-114 tok/s (1 thread within the noise).
#define CK_Q4_0_QUAD_AHEAD 1536
// Decode takes four rows at a time (lane = row in 128 bits): eight rows' streams ran
// ~9% slower from DRAM with both cores streaming on the Xeon, four are within ~3% of
// one row's stream there and 1.3-2x faster in cache. A row's lane sees the same
// operations as in prefill, so the bits agree.
CK_Q32_ATTR CK_AI void CK_Q32(quad_decode_q4)(const uint32_t type, const uint8_t *w, size_t row_bytes, int nr,
                                              size_t nb, const uint8_t *a, float *y) {
    const uint8_t *rp[4];
    CK_Q32(group_rows)(w, row_bytes, 4, nr, rp);
    __m128 acc = _mm_setzero_ps(), off = _mm_setzero_ps();
    if (row_bytes <= CK_Q4_0_QUAD_AHEAD) {
        CK_Q32(quad_span_q4)(type, rp, 0, nb, 0, (const char *)w + 2 * 4 * row_bytes, a, &acc, &off);
    } else {
        const size_t split = (row_bytes - CK_Q4_0_QUAD_AHEAD) / CK_Q4_BYTES(type);
        const size_t mid = split < nb ? split : nb;
        CK_Q32(quad_span_q4)(type, rp, 0, mid, CK_Q4_0_QUAD_AHEAD, 0, a, &acc, &off);
        CK_Q32(quad_span_q4)(type, rp, mid, nb, CK_Q4_0_QUAD_AHEAD + 3 * row_bytes, 0, a, &acc, &off);
    }
    CK_Q32(store_rows4)(y, type == CK_TYPE_Q4_1 ? _mm_add_ps(acc, off) : _mm_fnmadd_ps(_mm_set1_ps(8.0f), off, acc), nr);
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

// V (<= 4) activation vectors against eight packed rows. Two integer chains per vector
// (even and odd groups) halve the dot latency each block waits on. With CK_Q32_DOT16
// (AVX2) the chains add the groups' int16 pair sums and widen once a block: a nibble
// (<= 15) times an activation (|s| <= 128) is at most 1920, a pair 3840, eight groups'
// pairs 30720 < 32767, so the sum stays exact and one maddwd replaces eight. (Q8_0 keeps
// a float accumulator per group, and its pairs reach 32512: no room.)
// Kernel micro-benchmark (bench/kernel_bench.c), 2-core EPYC, 64 vectors, min of 9
// alternating runs, ms: 1536x576 1.140 -> 1.089, 576x1536 1.158 -> 1.089, 4096x11008
// (5 runs) 64.0 -> 59.7.
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
    for (int v = 0; v < V; v++) CK_Q32(oct_store)(type, acc[v], off[v], nr, y + v * y_stride);
}

// Widest rows whose packed form (288 bytes a block; Q4_1 32 more; AVX2's Q8_0 256
// more, the magnitudes) the packed drivers keep on the stack: 14336 columns, 126 KB
// (238 KB for AVX2's Q8_0; pool workers have 1 MB stacks) for Llama-3-8B's FFN.
// Wider rows run the unpacked kernels.
#define CK_Q32_PACK_BLOCKS 448
// Fewest vectors for which packing pays: below, decode's kernel per vector is faster.
#define CK_Q4_0_PACK_MIN_VECS 3

CK_Q32_ATTR CK_AI void CK_Q32(rows_q4)(const uint32_t type, CK_ROWS_ARGS) {
    const uint8_t *wb = (const uint8_t *)w, *ab = (const uint8_t *)act;
    const size_t nb = cols / CK_QK;
    if (nvec < CK_Q4_0_PACK_MIN_VECS || nb > CK_Q32_PACK_BLOCKS) {
        for (size_t v = 0; v < nvec; v++)
            for (size_t r = 0; r < nrows; r += 4)
                CK_Q32(quad_decode_q4)(type, wb + r * row_bytes, row_bytes, nrows - r < 4 ? (int)(nrows - r) : 4, nb,
                                       ab + v * act_stride, y + v * y_stride + r);
        return;
    }
    CK_Q32(oct_block) pk[CK_Q32_PACK_BLOCKS];
    __m256 mins[type == CK_TYPE_Q4_1 ? CK_Q32_PACK_BLOCKS : 1];
    for (size_t r = 0; r < nrows; r += 8) {
        const int nr = nrows - r < 8 ? (int)(nrows - r) : 8;
        CK_Q32(oct_pack)(type, wb + r * row_bytes, row_bytes, nr, nb, pk, mins, 0);
        size_t v = 0;
        for (; v + 4 <= nvec; v += 4)
            CK_Q32(oct_prefill_q4)(type, pk, mins, nb, ab + v * act_stride, act_stride, 4, y + v * y_stride + r, y_stride, nr);
        switch (nvec - v) {
        case 3: CK_Q32(oct_prefill_q4)(type, pk, mins, nb, ab + v * act_stride, act_stride, 3, y + v * y_stride + r, y_stride, nr); break;
        case 2: CK_Q32(oct_prefill_q4)(type, pk, mins, nb, ab + v * act_stride, act_stride, 2, y + v * y_stride + r, y_stride, nr); break;
        case 1: CK_Q32(oct_prefill_q4)(type, pk, mins, nb, ab + v * act_stride, act_stride, 1, y + v * y_stride + r, y_stride, nr); break;
        default: break;
        }
    }
}
CK_Q32_ATTR static void CK_Q32(rows_q4_0)(CK_ROWS_ARGS) {
    CK_Q32(rows_q4)(CK_TYPE_Q4_0, w, row_bytes, nrows, cols, act, act_stride, nvec, y, y_stride);
}
CK_Q32_ATTR static void CK_Q32(rows_q4_1)(CK_ROWS_ARGS) {
    CK_Q32(rows_q4)(CK_TYPE_Q4_1, w, row_bytes, nrows, cols, act, act_stride, nvec, y, y_stride);
}

// The row driver for the tiles: within each tile of vectors, every row is dotted with
// four vectors at a time, then with the ones left over.
#define CK_DEFINE_TILED_ROWS(NAME, TILE)                                                         \
    CK_Q32_ATTR static void NAME(CK_ROWS_ARGS) {                                                 \
        const uint8_t *wb = (const uint8_t *)w, *ab = (const uint8_t *)act;                      \
        const size_t nb = cols / CK_QK;                                                          \
        float o[4];                                                                              \
        for (size_t v0 = 0; v0 < nvec; v0 += CK_VEC_TILE) {                                      \
            const size_t v1 = v0 + CK_VEC_TILE < nvec ? v0 + CK_VEC_TILE : nvec;                 \
            for (size_t r = 0; r < nrows; r++) {                                                 \
                const uint8_t *wr = wb + r * row_bytes;                                          \
                size_t v = v0;                                                                   \
                for (; v + 4 <= v1; v += 4) {                                                    \
                    TILE(wr, ab + v * act_stride, act_stride, 4, nb, o);                         \
                    for (int k = 0; k < 4; k++) y[(v + k) * y_stride + r] = o[k];                \
                }                                                                                \
                switch (v1 - v) {                                                                \
                case 3: TILE(wr, ab + v * act_stride, act_stride, 3, nb, o); break;              \
                case 2: TILE(wr, ab + v * act_stride, act_stride, 2, nb, o); break;              \
                case 1: TILE(wr, ab + v * act_stride, act_stride, 1, nb, o); break;              \
                default: break;                                                                  \
                }                                                                                \
                for (size_t k = 0; v + k < v1; k++) y[(v + k) * y_stride + r] = o[k];            \
            }                                                                                    \
        }                                                                                        \
    }

CK_DEFINE_TILED_ROWS(CK_Q32(rows_q8_0), CK_Q32(tile_q8_0))

// ---- Q8_0 prefill: one row per register lane, decode's order ----
// Decode's dot (the tile above) keeps eight float lanes per row, lane g summing
// fma(d_w * d_y, float(exact sum of the block's group g of four products), lane), and
// ends in ck_hsum256. Prefill packs eight rows as Q4_0 does and keeps eight
// accumulators per vector: accumulator g, lane r, is decode's lane g of row r, and the
// horizontal sum's adds run across the accumulators in ck_hsum256's order: the bits are
// decode's. Each group's integer sum is one dot of the packed weights with the
// activation group broadcast. At VNNI (weights offset to w + 128) it is one vpdpbusd
// starting from the activation's stored -128 * group sum, which cancels the offset
// exactly: ~3 ops per (row, vector, block) against the tile's 5, and no per-row sign
// fix. AVX2 cannot take that form (maddubs' int16 pairs would saturate on offset
// weights up to 255); it dots the weights' magnitudes with the activations carrying the
// weights' signs, the tile's own exact form, at one more op per group. With 16
// registers AVX2 runs one vector per pass (8 accumulators), 32 registers two. Kernel
// micro-benchmark, 2-core EPYC (Zen 3), 64 vectors, tiles -> lanes, ms: 1536x576 2.24
// -> 2.05, 576x1536 2.26 -> 1.94, 4096x4096 41.0 -> 35.7.
CK_Q32_ATTR CK_AI void CK_Q32(oct_prefill_q8_0)(const CK_Q32(oct_block) *pk, const __m256i *absw, size_t nb,
                                               const uint8_t *a, size_t act_stride, const int V, float *y,
                                               size_t y_stride, int nr) {
    __m256 acc[2][8];
    for (int v = 0; v < V; v++)
        for (int g = 0; g < 8; g++) acc[v][g] = _mm256_setzero_ps();
    for (size_t i = 0; i < nb; i++) {
        const __m256 dw = pk[i].d;
        for (int v = 0; v < V; v++) {
            const uint8_t *av = a + v * act_stride;
            const ck_act_q8 *ya = (const ck_act_q8 *)av + i;
            const int32_t *gs = (const int32_t *)(av + nb * sizeof(ck_act_q8)) + 8 * i;
            int32_t q4[8];
            memcpy(q4, ya->qs, 32);
            const __m256 sc = _mm256_mul_ps(dw, _mm256_broadcast_ss(&ya->d));
            for (int g = 0; g < 8; g++) {
                const __m256i y4 = _mm256_set1_epi32(q4[g]);
                const __m256i p = absw ? CK_Q32_DOT(absw[8 * i + g], _mm256_sign_epi8(y4, pk[i].w[g]))
                                       : CK_Q32_DOTACC(_mm256_set1_epi32(gs[g]), pk[i].w[g], y4);
                acc[v][g] = _mm256_fmadd_ps(sc, _mm256_cvtepi32_ps(p), acc[v][g]);
            }
        }
    }
    for (int v = 0; v < V; v++) {
        // ck_hsum256: lanes g and g+4, then pairs (0, 2) and (1, 3), then the two.
        const __m256 t0 = _mm256_add_ps(acc[v][0], acc[v][4]), t1 = _mm256_add_ps(acc[v][1], acc[v][5]);
        const __m256 t2 = _mm256_add_ps(acc[v][2], acc[v][6]), t3 = _mm256_add_ps(acc[v][3], acc[v][7]);
        CK_Q32(store_rows8)(y + v * y_stride, _mm256_add_ps(_mm256_add_ps(t0, t2), _mm256_add_ps(t1, t3)), nr);
    }
}

// Fewest vectors for which packing pays; fewer run the tiles (Q8_0 at 4096x4096 from
// L3: the tile was faster with 3-6 vectors, 1.6x slower with 12).
#define CK_Q32_PACK_MIN_VECS 6
// AVX2 keeps the weights signed with their magnitudes beside them; VNNI offsets them.
#ifdef CK_Q32_PACKED
#define CK_Q32_SIGNED 0
#else
#define CK_Q32_SIGNED 1
#endif

CK_Q32_ATTR static void CK_Q32(rows_q8_0_packed)(CK_ROWS_ARGS) {
    const uint8_t *wb = (const uint8_t *)w, *ab = (const uint8_t *)act;
    const size_t nb = cols / CK_QK;
    if (nvec < CK_Q32_PACK_MIN_VECS || nb > CK_Q32_PACK_BLOCKS) {
        CK_Q32(rows_q8_0)(w, row_bytes, nrows, cols, act, act_stride, nvec, y, y_stride);
        return;
    }
    CK_Q32(oct_block) pk[CK_Q32_PACK_BLOCKS];
    __m256i absw_[CK_Q32_SIGNED ? 8 * CK_Q32_PACK_BLOCKS : 1];
    __m256i *absw = CK_Q32_SIGNED ? absw_ : 0;
    for (size_t r = 0; r < nrows; r += 8) {
        const int nr = nrows - r < 8 ? (int)(nrows - r) : 8;
        CK_Q32(oct_pack)(CK_TYPE_Q8_0, wb + r * row_bytes, row_bytes, nr, nb, pk, 0, absw);
        size_t v = 0;
        for (; CK_Q32_LANE_VECS == 2 && v + 2 <= nvec; v += 2)
            CK_Q32(oct_prefill_q8_0)(pk, absw, nb, ab + v * act_stride, act_stride, 2, y + v * y_stride + r, y_stride, nr);
        for (; v < nvec; v++)
            CK_Q32(oct_prefill_q8_0)(pk, absw, nb, ab + v * act_stride, act_stride, 1, y + v * y_stride + r, y_stride, nr);
    }
}
#undef CK_Q32_SIGNED

#undef CK_DEFINE_TILED_ROWS
#undef CK_Q32_ATTR
#undef CK_Q32_DOT
#undef CK_Q32_DOTACC
#undef CK_Q32_DOT16
#undef CK_Q32_LANE_VECS
#undef CK_Q32
