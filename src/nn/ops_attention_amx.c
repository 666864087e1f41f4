/*
 * ops_attention_amx.c: the attention forward of the bf16 precision mode, on AMX tiles.
 * Inference only (no lse is kept, there is no backward): it is what a bf16 encode runs,
 * and on this hardware only the AMX tile products beat fp32 FMAs (AVX512-BF16 dot
 * products are slower per multiply-add than fp32 FMAs, measured).
 *
 * Precision: out = softmax(q k^T / sqrt(HS)) v with q, k, v the bf16 inputs. The scores
 * are exact bf16 products summed in fp32 by TDPBF16PS; the softmax is fp32 (row maximum,
 * a base-2 exponential good to ~2 ulp, the row sum of the fp32 probabilities); the
 * probabilities are rounded to bf16 (nearest even) for the P V product, which sums in
 * fp32; the fp32 result is divided by the row sum and rounded to bf16 (nearest even).
 *
 * Work: items are blocks of 16 or 32 query rows (one or two tiles' rows) of a (batch,
 * head) pair, in contiguous ranges per thread, so that a thread packs a pair's K and V
 * only when its range enters the next pair. K is packed into the B-tile layout of Q K^T
 * (for 16 keys and 32 dims, a 16 x 16 transpose of dword pairs of dims), V into that of
 * P V (pairs of consecutive keys interleaved), both padded with zero keys to a multiple
 * of 32. Q tiles are read in place through the qkv row stride (a partial last block is
 * copied out, zero-padded). One item computes the scores of its rows against all keys
 * into a rows x Tpad fp32 buffer, masks the padded keys to -inf, takes an exact softmax
 * into a bf16 buffer laid out as A tiles, and accumulates P V in C tiles over all keys.
 *
 * Sequences up to VN_AMX_T_MAX keys: the per-thread scratch is O(T HS) (about 1.8 MB at
 * T 4096, HS 64, the size of a core's L2); longer ones are refused and the caller stays
 * on fp32.
 *
 * Determinism: each output row belongs to one item, computed in a fixed order, so the
 * results do not depend on the thread count.
 */
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "nn/ops.h"
#include "core/profile.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#  define VN_AMX_BUILD 1
#  include <cpuid.h>
#  include <immintrin.h>
#  include <oneapi/dnnl/dnnl.h>
#  include <oneapi/dnnl/dnnl_debug.h>
#  include <sys/syscall.h>
#  include <unistd.h>
#else
#  define VN_AMX_BUILD 0
#endif

#define VN_AMX_T_MAX 4096
#define VN_AMX_HS_MAX 256
#define QROWS 32

/* One thread's scratch, in bytes and 64-byte aligned pieces: kp and vp the packed K and
 * V (tp keys), s the fp32 scores (QROWS rows of lds), p the bf16 probabilities (QROWS
 * rows of ldp), q a zero-padded copy of a partial 16-row query block, o the fp32 P V
 * result. The score and probability rows are padded past a multiple of 4 KB, which would
 * put all the rows of a block in the same L1 sets at T 512 and above. */
typedef struct amx_dims {
    int64_t tp, lds, ldp, kv_bytes, s_bytes, p_bytes, q_bytes, o_bytes, slot_bytes;
} amx_dims;

static amx_dims dims_of(int64_t T, int64_t HS)
{
    amx_dims d;
    d.tp = (T + 31) / 32 * 32;
    d.lds = d.tp + 16;
    d.ldp = d.tp + 32;
    d.kv_bytes = d.tp * HS * 2;
    d.s_bytes = QROWS * d.lds * 4;
    d.p_bytes = QROWS * d.ldp * 2;
    d.q_bytes = 16 * HS * 2;
    d.o_bytes = QROWS * HS * 4;
    d.slot_bytes = 2 * d.kv_bytes + d.s_bytes + d.p_bytes + d.q_bytes + d.o_bytes;
    return d;
}

static int shape_ok(int64_t T, int64_t HS, const char **why)
{
    if (HS < 32 || HS > VN_AMX_HS_MAX || HS % 32 != 0) {
        *why = "the head size is not a multiple of 32 from 32 to 256 (AMX tiles take 32 bf16 per row)";
        return 0;
    }
    if (T < 1 || T > VN_AMX_T_MAX) {
        *why = "the sequence length is outside 1..4096 (the per-thread scratch would outgrow L2)";
        return 0;
    }
    return 1;
}

int64_t vn_attention_bf16_scratch_bytes(int64_t T, int64_t HS, int n_threads)
{
    const char *why;
    if (!shape_ok(T, HS, &why))
        return 0;
    /* 64 more for aligning whatever pointer the caller passes */
    return 64 + (int64_t)(n_threads > 0 ? n_threads : 1) * dims_of(T, HS).slot_bytes;
}

static int amx_usable;
static const char *amx_why = "";

#if VN_AMX_BUILD
static char amx_why_buf[240];

/* cpuid, not the compiler's feature flags: valgrind's cpuid hides AMX while the host has
 * it, and the tile data permission below is a kernel opt-in per process. */
static void amx_probe(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 24)) || !(d & (1u << 22))) {
        amx_why = "no AMX (amx_tile, amx_bf16) on this CPU";
        return;
    }
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512vl") || !__get_cpuid_count(7, 1, &a, &b, &c, &d) || !(a & (1u << 5))) {
        amx_why = "no avx512_bf16 on this CPU (the softmax and the conversions use it)";
        return;
    }
    /* The same switch as the bf16 GEMMs: DNNL_MAX_CPU_ISA below AMX turns this off too,
     * so one setting tests (or avoids) every AMX path. */
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    if ((isa & dnnl_cpu_isa_avx512_core_amx) != dnnl_cpu_isa_avx512_core_amx) {
        snprintf(amx_why_buf, sizeof amx_why_buf,
                 "oneDNN's effective CPU ISA here is %s, below avx512_core_amx (DNNL_MAX_CPU_ISA may be capping it)",
                 dnnl_cpu_isa2str(isa));
        amx_why = amx_why_buf;
        return;
    }
    /* ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA: without it the first tile load faults. */
    if (syscall(SYS_arch_prctl, 0x1023, 18) != 0) {
        amx_why = "the kernel refused the AMX tile data permission (arch_prctl ARCH_REQ_XCOMP_PERM)";
        return;
    }
    amx_usable = 1;
}
#else
static void amx_probe(void)
{
    amx_why = "built without the AMX kernel (it needs GCC on x86-64)";
}
#endif

static int amx_ready(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, amx_probe);
    return amx_usable;
}

int vn_attention_bf16_supported(int64_t T, int64_t HS, const char **why)
{
    const char *no = "";
    int ok = amx_ready() ? shape_ok(T, HS, &no) : (no = amx_why, 0);
    if (why)
        *why = ok ? "" : no;
    return ok;
}

#if VN_AMX_BUILD

#define AMX_TARGET __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512bf16")))
/* GCC's tile load macros are asm statements that name no memory operand: this keeps the
 * stores of packs and probabilities ahead of the tile loads that read them. */
#define MEMORY_BARRIER() __asm__ volatile("" ::: "memory")

/* Palette 1, all eight tiles 16 rows of 64 bytes: A tiles 16 x 32 bf16, B tiles 16 pairs
 * x 16 columns, C tiles 16 x 16 fp32. The asm of _tile_loadconfig names only the first 8
 * bytes as read, so the config is constant data rather than a stack object. */
static const struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} __attribute__((aligned(64))) tile_cfg = {
    .palette = 1,
    .colsb = {64, 64, 64, 64, 64, 64, 64, 64},
    .rows = {16, 16, 16, 16, 16, 16, 16, 16},
};

typedef struct amx_slot {
    amx_dims d;
    uint16_t *kp, *vp, *p, *q;
    float *s, *o;
} amx_slot;

/* 2^t for t <= 0 (larger t is fine up to 127): t = n + f with |f| <= 1/2, 2^f from a
 * degree-5 polynomial fitted for least maximum relative error on [-1/2, 1/2] (by Remez
 * exchange, with the constant term pinned to 1 so that the row maximum gets exactly 1;
 * 1.6e-7 relative), scaled by 2^n in one vscalefps. t is clamped at -125 (-inf
 * included), which gives 2^-125, nothing next to the maximum's 1: below that vscalefps
 * would return subnormals, each through a microcode assist of some hundred cycles (they
 * took 2/3 of the time at T 16, whose padded keys all underflowed). A NaN stays NaN. */
AMX_TARGET static inline __m512 exp2_ps(__m512 t)
{
    t = _mm512_max_ps(_mm512_set1_ps(-125.0f), t);
    __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_sub_ps(t, n);
    __m512 p = _mm512_set1_ps(1.3276472454890609e-3f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.6755409613251686e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.5507130920886993e-2f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.4022120237350464e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.9314694404602051e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

AMX_TARGET static inline void store_bf16(uint16_t *dst, __m512 x)
{
    _mm256_storeu_si256((__m256i *)dst, (__m256i)_mm512_cvtneps_pbh(x));
}

/* A 16 x 16 transpose of dwords in four perfect shuffles: each interleaves rows i and
 * i + 8, which rotates the 8-bit (row, column) index by one bit. */
AMX_TARGET static inline void transpose16(__m512i *r)
{
    const __m512i lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i hi = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    for (int round = 0; round < 4; round++) {
        __m512i t[16];
        for (int i = 0; i < 8; i++) {
            t[2 * i] = _mm512_permutex2var_epi32(r[i], lo, r[i + 8]);
            t[2 * i + 1] = _mm512_permutex2var_epi32(r[i], hi, r[i + 8]);
        }
        for (int i = 0; i < 16; i++)
            r[i] = t[i];
    }
}

/* K as B tiles of Q K^T: tile (kb, dc), 512 bf16 at kp + (kb (HS/32) + dc) 512, has in
 * row r the dims 32 dc + 2r, 32 dc + 2r + 1 of keys 16 kb .. 16 kb + 15, one dword per key:
 * the transpose of the keys' rows read as dwords. Keys from T on are zero. */
AMX_TARGET static void pack_k(uint16_t *kp, const uint16_t *k, int64_t ld, int64_t T, int64_t tp, int64_t HS)
{
    int64_t ndc = HS / 32;
    for (int64_t kb = 0; kb < tp / 16; kb++) {
        if (kb * 16 >= T) {
            /* past the keys: no transposes (half the packing at T 16) */
            memset(kp + kb * ndc * 512, 0, (size_t)ndc * 1024);
            continue;
        }
        for (int64_t dc = 0; dc < ndc; dc++) {
            __m512i r[16];
            for (int i = 0; i < 16; i++) {
                int64_t t = kb * 16 + i;
                r[i] = t < T ? _mm512_loadu_si512(k + t * ld + dc * 32) : _mm512_setzero_si512();
            }
            transpose16(r);
            uint16_t *dst = kp + (kb * ndc + dc) * 512;
            for (int i = 0; i < 16; i++)
                _mm512_store_si512(dst + i * 32, r[i]);
        }
    }
}

/* V as B tiles of P V: tile (kc, db), at vp + (kc (HS/16) + db) 512, has in row r dims
 * 16 db .. 16 db + 15 of keys 32 kc + 2r and 32 kc + 2r + 1, interleaved element by
 * element. Keys from T on are zero, so that the zero probabilities there meet zeros and
 * not whatever follows the sequence. */
AMX_TARGET static void pack_v(uint16_t *vp, const uint16_t *v, int64_t ld, int64_t T, int64_t tp, int64_t HS)
{
    __m512i lo, hi;
    {
        uint16_t il[32], ih[32];
        for (int j = 0; j < 32; j++) {
            il[j] = (uint16_t)((j & 1 ? 32 : 0) + j / 2);
            ih[j] = (uint16_t)(il[j] + 16);
        }
        lo = _mm512_loadu_si512(il);
        hi = _mm512_loadu_si512(ih);
    }
    int64_t ndb = HS / 16;
    for (int64_t kc = 0; kc < tp / 32; kc++)
        for (int r = 0; r < 16; r++) {
            int64_t t0 = kc * 32 + 2 * r, t1 = t0 + 1;
            for (int64_t dg = 0; dg < HS / 32; dg++) {
                __m512i a = t0 < T ? _mm512_loadu_si512(v + t0 * ld + dg * 32) : _mm512_setzero_si512();
                __m512i b = t1 < T ? _mm512_loadu_si512(v + t1 * ld + dg * 32) : _mm512_setzero_si512();
                uint16_t *dst = vp + (kc * ndb + 2 * dg) * 512 + r * 32;
                _mm512_store_si512(dst, _mm512_permutex2var_epi16(a, lo, b));
                _mm512_store_si512(dst + 512, _mm512_permutex2var_epi16(a, hi, b));
            }
        }
}

/* C tiles 0 and 1 (and 2, 3 with two) = the sums over n steps of A rows a0 (and a1)
 * times two B tiles b0 and b1: A advances a_step elements and B b_step per step (row
 * strides lda0, lda1 and ldc in bytes; B tiles are packed, 64 bytes a row); stored at c0,
 * c0 + 16 (and c1, c1 + 16). Each tile load feeds two products. */
AMX_TARGET static void tiles_2x2(const uint16_t *a0, int64_t lda0, const uint16_t *a1, int64_t lda1, int64_t a_step,
                                 const uint16_t *b0, const uint16_t *b1, int64_t b_step, int64_t n, int two, float *c0,
                                 float *c1, int64_t ldc)
{
    _tile_zero(0);
    _tile_zero(1);
    if (two) {
        _tile_zero(2);
        _tile_zero(3);
    }
    for (int64_t i = 0; i < n; i++) {
        _tile_loadd(4, a0 + i * a_step, lda0);
        _tile_loadd(6, b0 + i * b_step, 64);
        _tile_loadd(7, b1 + i * b_step, 64);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        if (two) {
            _tile_loadd(5, a1 + i * a_step, lda1);
            _tile_dpbf16ps(2, 5, 6);
            _tile_dpbf16ps(3, 5, 7);
        }
    }
    _tile_stored(0, c0, ldc);
    _tile_stored(1, c0 + 16, ldc);
    if (two) {
        _tile_stored(2, c1, ldc);
        _tile_stored(3, c1 + 16, ldc);
    }
}

/* Scores of the item's one or two 16-row blocks (A tiles at q0 and q1, row strides in
 * bytes) against all tp keys, 32 keys a pass: K is read once for 32 query rows. */
AMX_TARGET static void scores(const amx_slot *sl, const uint16_t *q0, int64_t ld0, const uint16_t *q1, int64_t ld1,
                              int two, int64_t HS)
{
    int64_t ndc = HS / 32, lds = sl->d.lds * 4;
    float *s1 = sl->s + 16 * sl->d.lds;
    for (int64_t kb = 0; kb < sl->d.tp / 16; kb += 2) {
        const uint16_t *k0 = sl->kp + kb * ndc * 512;
        tiles_2x2(q0, ld0, q1, ld1, 32, k0, k0 + ndc * 512, 512, ndc, two, sl->s + kb * 16, s1 + kb * 16, lds);
    }
}

/* One row of scores to bf16 probabilities exp(scale (s - max)) in p, returning their
 * fp32 sum. Keys from T on are -inf first, so they weigh 2^-125 against the maximum's 1
 * in the sum, and meet zero rows of V. */
AMX_TARGET static float softmax_row(float *s, uint16_t *p, int64_t T, int64_t tp, float c)
{
    for (int64_t j = T; j < tp; j++)
        s[j] = -INFINITY;
    __m512 m0 = _mm512_set1_ps(-INFINITY), m1 = m0;
    for (int64_t j = 0; j < tp; j += 32) {
        m0 = _mm512_max_ps(m0, _mm512_load_ps(s + j));
        m1 = _mm512_max_ps(m1, _mm512_load_ps(s + j + 16));
    }
    float m = _mm512_reduce_max_ps(_mm512_max_ps(m0, m1));
    __m512 vc = _mm512_set1_ps(c), vmc = _mm512_set1_ps(m * c), a0 = _mm512_setzero_ps(), a1 = a0;
    for (int64_t j = 0; j < tp; j += 32) {
        __m512 e0 = exp2_ps(_mm512_fmsub_ps(_mm512_load_ps(s + j), vc, vmc));
        __m512 e1 = exp2_ps(_mm512_fmsub_ps(_mm512_load_ps(s + j + 16), vc, vmc));
        a0 = _mm512_add_ps(a0, e0);
        a1 = _mm512_add_ps(a1, e1);
        store_bf16(p + j, e0);
        store_bf16(p + j + 16, e1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

/* o = P V over all keys, for one or two 16-row blocks, in passes over 32 of the head's
 * columns: V is read once for 32 query rows. */
AMX_TARGET static void pv(const amx_slot *sl, int two, int64_t HS)
{
    int64_t ldp = sl->d.ldp * 2, ndb = HS / 16;
    for (int64_t d0 = 0; d0 < HS; d0 += 32) {
        const uint16_t *vb = sl->vp + d0 / 16 * 512;
        tiles_2x2(sl->p, ldp, sl->p + 16 * sl->d.ldp, ldp, 32, vb, vb + 512, ndb * 512, sl->d.tp / 32, two, sl->o + d0,
                  sl->o + 16 * HS + d0, HS * 4);
    }
}

/* Query rows q0 .. q0 + nq - 1 (nq <= 32) of one pair whose K and V are packed in sl: q
 * is the item's first q row (rows ldq elements apart), out its first output row (ld C). */
AMX_TARGET static void block(const amx_slot *sl, uint16_t *out, int64_t C, const uint16_t *q, int64_t ldq,
                             int64_t nq, int64_t T, int64_t HS, float c)
{
    int two = nq > 16;
    const uint16_t *q0 = q, *q1 = q + 16 * ldq;
    int64_t ld0 = ldq * 2, ld1 = ldq * 2, nlast = two ? nq - 16 : nq;
    if (nlast < 16) {
        /* reading 16 rows in place would run past the end of qkv */
        const uint16_t *src = two ? q1 : q0;
        memset(sl->q, 0, (size_t)(16 * HS) * 2);
        for (int64_t i = 0; i < nlast; i++)
            memcpy(sl->q + i * HS, src + i * ldq, (size_t)HS * 2);
        if (two)
            q1 = sl->q, ld1 = HS * 2;
        else
            q0 = sl->q, ld0 = HS * 2;
        MEMORY_BARRIER();
    }
    scores(sl, q0, ld0, q1, ld1, two, HS);
    float sum[32];
    for (int64_t i = 0; i < (two ? 32 : 16); i++) {
        uint16_t *pi = sl->p + i * sl->d.ldp;
        if (i < nq)
            sum[i] = softmax_row(sl->s + i * sl->d.lds, pi, T, sl->d.tp, c);
        else
            memset(pi, 0, (size_t)sl->d.tp * 2);
    }
    MEMORY_BARRIER();
    pv(sl, two, HS);
    for (int64_t i = 0; i < nq; i++) {
        __m512 inv = _mm512_set1_ps(1.0f / sum[i]);
        for (int64_t d = 0; d < HS; d += 16)
            store_bf16(out + i * C + d, _mm512_mul_ps(_mm512_load_ps(sl->o + i * HS + d), inv));
    }
}

/* Query rows per work item: two tiles' rows for long sequences, whose K and V stream from
 * L2 once per item (T 192 to 512 were 5-12% faster than with one), else one (32 rows put
 * the scores, the probabilities and the packs out of L1: T 64 and T 128 were 15-20%
 * slower). Measured at HS 64. */
static int64_t rows_per_item(int64_t T)
{
    return T > 128 ? QROWS : 16;
}

typedef struct amx_job {
    uint16_t *out;
    const uint16_t *qkv;
    int64_t T, C, NH, HS, rows, nqb, items;
    float c;
    unsigned char *base;
} amx_job;

/* One thread's contiguous range of items, between its own tile config and release. */
AMX_TARGET __attribute__((noinline)) static void run_range(const amx_job *jb, int tid, int nth)
{
    int64_t T = jb->T, C = jb->C, HS = jb->HS, nqb = jb->nqb;
    amx_slot sl;
    sl.d = dims_of(T, HS);
    unsigned char *p = jb->base + (int64_t)tid * sl.d.slot_bytes;
    sl.kp = (uint16_t *)p;
    sl.vp = (uint16_t *)(p + sl.d.kv_bytes);
    sl.s = (float *)(p + 2 * sl.d.kv_bytes);
    sl.p = (uint16_t *)(p + 2 * sl.d.kv_bytes + sl.d.s_bytes);
    sl.q = (uint16_t *)((unsigned char *)sl.p + sl.d.p_bytes);
    sl.o = (float *)((unsigned char *)sl.q + sl.d.q_bytes);
    _tile_loadconfig(&tile_cfg);
    int64_t lo = jb->items * tid / nth, hi = jb->items * (tid + 1) / nth, cur = -1;
    for (int64_t it = lo; it < hi; it++) {
        int64_t pair = it / nqb, qb = it % nqb, b = pair / jb->NH, h = pair % jb->NH;
        const uint16_t *qb0 = jb->qkv + b * T * 3 * C + h * HS;
        if (pair != cur) {
            pack_k(sl.kp, qb0 + C, 3 * C, T, sl.d.tp, HS);
            pack_v(sl.vp, qb0 + 2 * C, 3 * C, T, sl.d.tp, HS);
            MEMORY_BARRIER();
            cur = pair;
        }
        int64_t q0 = qb * jb->rows, nq = T - q0 < jb->rows ? T - q0 : jb->rows;
        block(&sl, jb->out + (b * T + q0) * C + h * HS, C, qb0 + q0 * 3 * C, 3 * C, nq, T, HS, jb->c);
    }
    _tile_release();
}

void vn_attention_forward_bf16(const vn_nn *nn, uint16_t *out, const uint16_t *qkv, int64_t B, int64_t T, int64_t C,
                               int64_t NH, void *scratch)
{
    VN_PROF_FLOPS(nn->prof, VN_PROF_ATTENTION_FWD, 4.0 * (double)B * (double)T * (double)T * (double)C);
    if (B < 1 || NH < 1 || C % NH != 0 || !vn_attention_bf16_supported(T, C / NH, NULL))
        return;
    amx_job jb = {.out = out, .qkv = qkv, .T = T, .C = C, .NH = NH, .HS = C / NH, .rows = rows_per_item(T)};
    jb.nqb = (T + jb.rows - 1) / jb.rows;
    jb.items = B * NH * jb.nqb;
    /* the 1/sqrt(HS) of the scores and the log2(e) of exp = 2^(x log2 e), folded */
    jb.c = (float)(1.4426950408889634 / sqrt((double)jb.HS));
    jb.base = (unsigned char *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    int nt = nn->n_threads > 0 ? nn->n_threads : 1;
    if (jb.items < nt)
        nt = (int)jb.items;
#pragma omp parallel num_threads(nt)
    run_range(&jb, omp_get_thread_num(), omp_get_num_threads());
}

#else

void vn_attention_forward_bf16(const vn_nn *nn, uint16_t *out, const uint16_t *qkv, int64_t B, int64_t T, int64_t C,
                               int64_t NH, void *scratch)
{
    /* vn_attention_bf16_supported is 0 in this build, so there is nothing to run */
    (void)nn, (void)out, (void)qkv, (void)B, (void)T, (void)C, (void)NH, (void)scratch;
}

#endif
