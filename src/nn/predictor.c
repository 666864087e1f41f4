/*
 * predictor.c: the JEPA predictor (predictor.h) on the encoder's block stack
 * (encoder_blocks.c), with its own parameter arena.
 *
 * The final LayerNorm and the projection run on the target rows only: both act on each
 * row alone and the context rows' outputs are discarded, so normalising every row first
 * (as V-JEPA's module does) and selecting after gives the same predictions for more work.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "nn/encoder_internal.h"
#include "nn/predictor.h"

struct vn_predictor {
    vn_nn nn;
    vn_predictor_config cfg;
    int64_t D, Dp, hidden, L; /* L = F * Lh * Lw grid positions */
    vn_enc_param *params;
    int n_params, cap_params;
    float *arena;
    int64_t n_floats;
    float *pos; /* the fixed sin-cos table [L, Dp] */
    int64_t embed_w, embed_b, mask, norm_w, norm_b, proj_w, proj_b;
    vn_enc_block *blocks;
};

struct vn_predictor_acts {
    const vn_predictor *p;
    int64_t max_batch, max_ctx, max_tgt;
    int64_t N, Kc, Kt; /* of the last forward; N is 0 before the first */
    float *arena;
    vn_enc_block_acts *blk;
    vn_enc_stack stack;
    vn_enc_work work;
    float *ctx;                         /* the caller's ctx, copied for the embed's backward */
    float *emb;                         /* [N*Kc + 1, Dp]: the embedded context, then mask_token */
    /* row indices, built on the host (h_*) and used from engine memory: the source row
     * in emb of each stack input row, its positional row, the target rows and the
     * context rows of the stack */
    int32_t *h_src, *h_pos, *h_tgt, *h_ctx;
    int32_t *src_idx, *pos_idx, *tgt_idx, *ctx_idx;
    float *xt, *fin, *fin_mean, *fin_rstd; /* target rows of the stack output, and normed */
    float *dfin, *dxt, *dx, *demb;
};

/* ---- config and parameters ----------------------------------------------------------- */

#define BAD(field, fmt, ...)                                                                         \
    vn_error(VN_ERR_INVALID_ARG, "vn_predictor_create: config field '%s' " fmt, field, __VA_ARGS__)

static vn_status validate(const vn_predictor_config *c)
{
    if (c->in_dim < 1 || c->in_dim > (1 << 20))
        return BAD("in_dim", "is %lld; it must be in 1..%d", (long long)c->in_dim, 1 << 20);
    if (c->heads < 1 || c->heads > 4096)
        return BAD("heads", "is %lld; it must be in 1..4096", (long long)c->heads);
    if (c->dim < 1 || c->dim > (1 << 20) || c->dim % c->heads)
        return BAD("dim", "is %lld; it must be in 1..%d and divisible by heads %lld", (long long)c->dim, 1 << 20,
                   (long long)c->heads);
    if (c->depth < 1 || c->depth > 1024)
        return BAD("depth", "is %lld; it must be in 1..1024", (long long)c->depth);
    if (!(c->mlp_ratio > 0.0f) || !isfinite(c->mlp_ratio) || c->mlp_ratio > 64.0f ||
        lroundf((float)c->dim * c->mlp_ratio) < 1)
        return BAD("mlp_ratio", "is %g; it must be in (0, 64] and give a hidden width >= 1", (double)c->mlp_ratio);
    const char *axis[3] = {"F", "Lh", "Lw"};
    int64_t len[3] = {c->F, c->Lh, c->Lw};
    for (int i = 0; i < 3; i++)
        if (len[i] < 1 || len[i] > 65536)
            return BAD(axis[i], "is %lld; it must be in 1..65536", (long long)len[i]);
    /* positions are int32 */
    if (c->F * c->Lh * c->Lw > INT32_MAX)
        return BAD("F", "x Lh x Lw is %lld positions; at most %d fit an int32 position",
                   (long long)(c->F * c->Lh * c->Lw), INT32_MAX);
    if (!(c->init_std > 0.0f) || !isfinite(c->init_std))
        return BAD("init_std", "is %g; it must be positive and finite", (double)c->init_std);
    return VN_OK;
}

static int64_t add_param(vn_predictor *p, vn_status *st, vn_enc_init init, int decays, int ndim,
                         const int64_t *shape, const char *fmt, ...) VN_PRINTF(7, 8);

static int64_t add_param(vn_predictor *p, vn_status *st, vn_enc_init init, int decays, int ndim,
                         const int64_t *shape, const char *fmt, ...)
{
    if (*st)
        return -1;
    if (p->n_params == p->cap_params) {
        int cap = p->cap_params ? 2 * p->cap_params : 32;
        vn_enc_param *t = realloc(p->params, (size_t)cap * sizeof *t);
        if (!t) {
            *st = vn_error(VN_ERR_OUT_OF_MEMORY, "vn_predictor_create: out of memory for the parameter table");
            return -1;
        }
        p->params = t;
        p->cap_params = cap;
    }
    vn_enc_param *q = &p->params[p->n_params++];
    memset(q, 0, sizeof *q);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q->name, sizeof q->name, fmt, ap);
    va_end(ap);
    q->ndim = ndim;
    q->numel = 1;
    for (int i = 0; i < ndim; i++) {
        q->shape[i] = shape[i];
        q->numel *= shape[i];
    }
    /* 16-float alignment, as the encoder's arena: every tensor on a cache line */
    q->offset = p->n_floats;
    p->n_floats += (q->numel + 15) & ~(int64_t)15;
    q->decays = decays;
    q->init = init;
    return q->offset;
}

#define SHAPE(...) ((const int64_t[]){__VA_ARGS__})
#define N_OF(...) ((int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))
#define WEIGHT(...) add_param(p, &st, VN_ENC_INIT_TRUNC_NORMAL, 1, N_OF(__VA_ARGS__), SHAPE(__VA_ARGS__),
#define VECTOR(init, n) add_param(p, &st, init, 0, 1, SHAPE(n),

static vn_status build_params(vn_predictor *p)
{
    vn_status st = VN_OK;
    int64_t D = p->D, Dp = p->Dp, H = p->hidden;
    p->embed_w = WEIGHT(Dp, D) "predictor_embed.weight");
    p->embed_b = VECTOR(VN_ENC_INIT_ZERO, Dp) "predictor_embed.bias");
    p->mask = add_param(p, &st, VN_ENC_INIT_TRUNC_NORMAL, 0, 1, SHAPE(Dp), "mask_token");
    for (int i = 0; i < (int)p->cfg.depth && !st; i++) {
        vn_enc_block *b = &p->blocks[i];
        b->tnorm_w = b->tnorm_b = b->tqkv_w = b->tqkv_b = b->tproj_w = b->tproj_b = -1;
        b->norm1_w = VECTOR(VN_ENC_INIT_ONE, Dp) "blocks.%d.norm1.weight", i);
        b->norm1_b = VECTOR(VN_ENC_INIT_ZERO, Dp) "blocks.%d.norm1.bias", i);
        b->qkv_w = WEIGHT(3 * Dp, Dp) "blocks.%d.attn.qkv.weight", i);
        b->qkv_b = VECTOR(VN_ENC_INIT_ZERO, 3 * Dp) "blocks.%d.attn.qkv.bias", i);
        b->proj_w = WEIGHT(Dp, Dp) "blocks.%d.attn.proj.weight", i);
        b->proj_b = VECTOR(VN_ENC_INIT_ZERO, Dp) "blocks.%d.attn.proj.bias", i);
        b->norm2_w = VECTOR(VN_ENC_INIT_ONE, Dp) "blocks.%d.norm2.weight", i);
        b->norm2_b = VECTOR(VN_ENC_INIT_ZERO, Dp) "blocks.%d.norm2.bias", i);
        b->fc1_w = WEIGHT(H, Dp) "blocks.%d.mlp.fc1.weight", i);
        b->fc1_b = VECTOR(VN_ENC_INIT_ZERO, H) "blocks.%d.mlp.fc1.bias", i);
        b->fc2_w = WEIGHT(Dp, H) "blocks.%d.mlp.fc2.weight", i);
        b->fc2_b = VECTOR(VN_ENC_INIT_ZERO, Dp) "blocks.%d.mlp.fc2.bias", i);
    }
    p->norm_w = VECTOR(VN_ENC_INIT_ONE, Dp) "predictor_norm.weight");
    p->norm_b = VECTOR(VN_ENC_INIT_ZERO, Dp) "predictor_norm.bias");
    p->proj_w = WEIGHT(D, Dp) "predictor_proj.weight");
    p->proj_b = VECTOR(VN_ENC_INIT_ZERO, D) "predictor_proj.bias");
    if (st)
        return st;
    /* drawn on the host, then moved to engine memory */
    int64_t n_host = p->n_floats > p->L * Dp ? p->n_floats : p->L * Dp;
    float *host = calloc((size_t)n_host, sizeof(float));
    p->arena = vn_nn_alloc(&p->nn, p->n_floats);
    p->pos = vn_nn_alloc(&p->nn, p->L * Dp);
    (void)vn_nn_take_error();
    if (!host || !p->arena || !p->pos) {
        free(host);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_predictor_create: out of memory for %lld parameters",
                        (long long)p->n_floats);
    }
    for (int i = 0; i < p->n_params; i++) {
        /* The block names repeat the encoder's: a prefixed stream keeps a predictor made
         * with the encoder's seed from starting with the encoder's block weights. */
        char stream[VN_ENC_NAME_MAX + 16];
        snprintf(stream, sizeof stream, "predictor.%s", p->params[i].name);
        vn_enc_param_fill(&p->params[i], p->cfg.seed, p->cfg.init_std, stream, host + p->params[i].offset);
    }
    st = vn_nn_upload(&p->nn, p->arena, host, (size_t)p->n_floats * sizeof(float));
    if (!st) {
        vn_sincos3d_table(host, p->cfg.F, p->cfg.Lh, p->cfg.Lw, Dp);
        st = vn_nn_upload(&p->nn, p->pos, host, (size_t)(p->L * Dp) * sizeof(float));
    }
    free(host);
    return st;
}

vn_status vn_predictor_create(vn_predictor **out, const vn_nn *nn, const vn_predictor_config *cfg)
{
    VN_CHECK_NULL(out);
    *out = NULL;
    VN_CHECK_NULL(nn);
    VN_CHECK_NULL(cfg);
    if (!nn->be)
        return vn_error(VN_ERR_INVALID_ARG, "vn_predictor_create: nn has no backend");
    vn_status st = validate(cfg);
    if (st)
        return st;
    vn_predictor *p = calloc(1, sizeof *p);
    if (!p)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_predictor_create: out of memory");
    p->nn = *nn;
    if (p->nn.n_threads < 1)
        p->nn.n_threads = 1;
    p->cfg = *cfg;
    p->D = cfg->in_dim;
    p->Dp = cfg->dim;
    p->hidden = lroundf((float)cfg->dim * cfg->mlp_ratio);
    p->L = cfg->F * cfg->Lh * cfg->Lw;
    p->blocks = calloc((size_t)cfg->depth, sizeof *p->blocks);
    st = p->blocks ? build_params(p) : vn_error(VN_ERR_OUT_OF_MEMORY, "vn_predictor_create: out of memory");
    if (st) {
        vn_predictor_destroy(p);
        return st;
    }
    *out = p;
    return VN_OK;
}

void vn_predictor_destroy(vn_predictor *p)
{
    if (!p)
        return;
    free(p->params);
    vn_nn_free(&p->nn, p->arena);
    vn_nn_free(&p->nn, p->pos);
    free(p->blocks);
    free(p);
}

float *vn_predictor_params(vn_predictor *p, int64_t *n_floats)
{
    if (n_floats)
        *n_floats = p->n_floats;
    return p->arena;
}

float **vn_predictor_arena_slot(vn_predictor *p)
{
    return &p->arena;
}

void vn_predictor_set_precision(vn_predictor *p, vn_gemm_precision g)
{
    p->nn.precision = g;
}

int vn_predictor_param_count(const vn_predictor *p)
{
    return p->n_params;
}

vn_status vn_predictor_param_info(const vn_predictor *p, int i, const char **name, int *ndim, int64_t *shape,
                                  int64_t *offset, int *decays)
{
    VN_CHECK_NULL(p);
    if (i < 0 || i >= p->n_params)
        return vn_error(VN_ERR_INVALID_ARG, "vn_predictor_param_info: index %d is outside 0..%d", i,
                        p->n_params - 1);
    const vn_enc_param *q = &p->params[i];
    if (name)
        *name = q->name;
    if (ndim)
        *ndim = q->ndim;
    if (shape)
        for (int k = 0; k < q->ndim; k++)
            shape[k] = q->shape[k];
    if (offset)
        *offset = q->offset;
    if (decays)
        *decays = q->decays;
    return VN_OK;
}

/* ---- activations ----------------------------------------------------------------------- */

static void acts_layout(vn_predictor_acts *a, vn_enc_bump *m)
{
    const vn_predictor *p = a->p;
    int64_t D = p->D, Dp = p->Dp, H = p->hidden, NH = p->cfg.heads;
    int64_t Nb = a->max_batch, T = a->max_ctx + a->max_tgt, rows = Nb * T;
    int64_t nc = Nb * a->max_ctx, nt = Nb * a->max_tgt;
    a->ctx = vn_enc_take(m, nc * D);
    a->emb = vn_enc_take(m, (nc + 1) * Dp);
    a->src_idx = (int32_t *)vn_enc_take(m, rows);
    a->pos_idx = (int32_t *)vn_enc_take(m, rows);
    a->tgt_idx = (int32_t *)vn_enc_take(m, nt);
    a->ctx_idx = (int32_t *)vn_enc_take(m, nc);
    a->stack = (vn_enc_stack){p->blocks, (int)p->cfg.depth, 0, Nb, 1, T, T, NULL, a->blk, 0};
    vn_enc_stack_layout(&a->stack, m, Dp, H, NH);
    a->xt = vn_enc_take(m, nt * Dp);
    a->fin = vn_enc_take(m, nt * Dp);
    a->fin_mean = vn_enc_take(m, nt);
    a->fin_rstd = vn_enc_take(m, nt);
    a->dfin = vn_enc_take(m, nt * Dp);
    a->dxt = vn_enc_take(m, nt * Dp);
    a->dx = vn_enc_take(m, rows * Dp);
    a->demb = vn_enc_take(m, nc * Dp);
    vn_enc_work *w = &a->work;
    w->tmp = vn_enc_take(m, rows * Dp);
    w->dln = vn_enc_take(m, rows * Dp);
    w->dqkv = vn_enc_take(m, rows * 3 * Dp);
    w->datt = vn_enc_take(m, rows * Dp);
    w->dh = vn_enc_take(m, rows * H);
    w->dg = vn_enc_take(m, rows * H);
    /* per-thread slots sized by the longest sequence; a shorter one uses a prefix */
    w->attn_scratch = vn_enc_take(m, vn_attention_scratch_floats(Nb, T, Dp, NH, p->nn.n_threads));
}

vn_status vn_predictor_acts_create(const vn_predictor *p, int64_t max_batch, int64_t max_ctx, int64_t max_tgt,
                                   vn_predictor_acts **out)
{
    VN_CHECK_NULL(out);
    *out = NULL;
    VN_CHECK_NULL(p);
    const char *what[3] = {"max_batch", "max_ctx", "max_tgt"};
    int64_t val[3] = {max_batch, max_ctx, max_tgt};
    for (int i = 0; i < 3; i++)
        if (val[i] < 1 || val[i] > (1 << 24))
            return vn_error(VN_ERR_INVALID_ARG, "vn_predictor_acts_create: %s is %lld; it must be in 1..%d",
                            what[i], (long long)val[i], 1 << 24);
    vn_predictor_acts *a = calloc(1, sizeof *a);
    if (!a)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_predictor_acts_create: out of memory");
    a->p = p;
    a->max_batch = max_batch;
    a->max_ctx = max_ctx;
    a->max_tgt = max_tgt;
    a->blk = calloc((size_t)p->cfg.depth, sizeof *a->blk);
    int64_t rows = max_batch * (max_ctx + max_tgt);
    a->h_src = malloc((size_t)(2 * rows + max_batch * (max_ctx + max_tgt)) * sizeof(int32_t));
    if (a->h_src) {
        a->h_pos = a->h_src + rows;
        a->h_tgt = a->h_pos + rows;
        a->h_ctx = a->h_tgt + max_batch * max_tgt;
    }
    vn_enc_bump m = {NULL, 0};
    acts_layout(a, &m);
    if (a->blk && a->h_src)
        a->arena = vn_nn_alloc(&p->nn, m.used);
    if (!a->arena) {
        vn_predictor_acts_destroy(a);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_predictor_acts_create: out of memory for %lld activation floats",
                        (long long)m.used);
    }
    m = (vn_enc_bump){a->arena, 0};
    acts_layout(a, &m);
    *out = a;
    return VN_OK;
}

void vn_predictor_acts_destroy(vn_predictor_acts *a)
{
    if (!a)
        return;
    vn_nn_free(&a->p->nn, a->arena);
    free(a->blk);
    free(a->h_src);
    free(a);
}

/* ---- forward and backward -------------------------------------------------------------- */

static vn_status check_positions(const vn_predictor *p, const char *what, const int32_t *pos, int64_t N, int64_t K)
{
    for (int64_t i = 0; i < N * K; i++)
        if (pos[i] < 0 || pos[i] >= p->L)
            return vn_error(VN_ERR_INVALID_ARG,
                            "vn_predictor_forward: %s[%lld][%lld] is %d; positions must be in 0..%lld (the %lld x "
                            "%lld x %lld grid)",
                            what, (long long)(i / K), (long long)(i % K), (int)pos[i], (long long)(p->L - 1),
                            (long long)p->cfg.F, (long long)p->cfg.Lh, (long long)p->cfg.Lw);
    return VN_OK;
}

static vn_status check_count(const char *what, int64_t got, int64_t max, const char *max_name)
{
    if (got < 1 || got > max)
        return vn_error(VN_ERR_SHAPE, "vn_predictor_forward: %s is %lld; it must be in 1..%lld (the acts' %s)", what,
                        (long long)got, (long long)max, max_name);
    return VN_OK;
}

static vn_enc_net net_of(const vn_predictor *p)
{
    return (vn_enc_net){&p->nn, p->arena, p->Dp, p->hidden, p->cfg.heads};
}

vn_status vn_predictor_forward(const vn_predictor *p, vn_predictor_acts *a, const float *ctx, const int32_t *ctx_pos,
                               int64_t Kc, const int32_t *tgt_pos, int64_t Kt, int64_t N, float *pred)
{
    VN_CHECK_NULL(p);
    VN_CHECK_NULL(a);
    VN_CHECK_NULL(ctx);
    VN_CHECK_NULL(ctx_pos);
    VN_CHECK_NULL(tgt_pos);
    VN_CHECK_NULL(pred);
    if (a->p != p)
        return vn_error(VN_ERR_INVALID_ARG, "vn_predictor_forward: the activations belong to another predictor");
    vn_status st;
    if ((st = check_count("N", N, a->max_batch, "max_batch")) || (st = check_count("Kc", Kc, a->max_ctx, "max_ctx")) ||
        (st = check_count("Kt", Kt, a->max_tgt, "max_tgt")) ||
        (st = check_positions(p, "ctx_pos", ctx_pos, N, Kc)) || (st = check_positions(p, "tgt_pos", tgt_pos, N, Kt)))
        return st;
    const vn_nn *nn = &p->nn;
    (void)vn_nn_take_error();
    const float *P = p->arena;
    int64_t D = p->D, Dp = p->Dp, T = Kc + Kt;
    a->N = N;
    a->Kc = Kc;
    a->Kt = Kt;
    a->stack.B = N;
    a->stack.T = a->stack.S = T;
    /* Stack input row (n, i): the embedded context token i < Kc, else mask_token (kept
     * as row N*Kc of emb), plus the sin-cos row of its grid position. */
    for (int64_t r = 0; r < N * T; r++) {
        int64_t n = r / T, i = r % T;
        a->h_src[r] = (int32_t)(i < Kc ? n * Kc + i : N * Kc);
        a->h_pos[r] = i < Kc ? ctx_pos[n * Kc + i] : tgt_pos[n * Kt + i - Kc];
    }
    for (int64_t n = 0; n < N; n++) {
        for (int64_t j = 0; j < Kt; j++)
            a->h_tgt[n * Kt + j] = (int32_t)(n * T + Kc + j);
        for (int64_t i = 0; i < Kc; i++)
            a->h_ctx[n * Kc + i] = (int32_t)(n * T + i);
    }
    if ((st = vn_nn_upload_async(nn, a->src_idx, a->h_src, (size_t)(N * T) * sizeof(int32_t))) ||
        (st = vn_nn_upload_async(nn, a->pos_idx, a->h_pos, (size_t)(N * T) * sizeof(int32_t))) ||
        (st = vn_nn_upload_async(nn, a->tgt_idx, a->h_tgt, (size_t)(N * Kt) * sizeof(int32_t))) ||
        (st = vn_nn_upload_async(nn, a->ctx_idx, a->h_ctx, (size_t)(N * Kc) * sizeof(int32_t))))
        return vn_error_prefix(st, "vn_predictor_forward: ");
    vn_nn_copy(nn, a->ctx, ctx, N * Kc * D);
    vn_linear_forward(nn, a->emb, a->ctx, P + p->embed_w, P + p->embed_b, N * Kc, D, Dp);
    vn_nn_copy(nn, a->emb + N * Kc * Dp, P + p->mask, Dp);
    float *x0 = a->stack.x0;
    vn_nn_gather_rows(nn, x0, a->emb, a->src_idx, N * T, Dp);
    vn_pos_add_rows(nn, x0, x0, p->pos, a->pos_idx, N * T, p->L, Dp);
    vn_enc_net net = net_of(p);
    vn_enc_stack_forward(&net, &a->stack, &a->work);
    vn_nn_gather_rows(nn, a->xt, a->stack.blk[p->cfg.depth - 1].x2, a->tgt_idx, N * Kt, Dp);
    vn_layernorm_forward(nn, a->fin, a->fin_mean, a->fin_rstd, a->xt, P + p->norm_w, P + p->norm_b, N * Kt, Dp);
    vn_linear_forward(nn, pred, a->fin, P + p->proj_w, P + p->proj_b, N * Kt, Dp, D);
    st = vn_nn_take_error();
    return st == VN_OK ? VN_OK : vn_error_prefix(st, "vn_predictor_forward: ");
}

vn_status vn_predictor_backward(const vn_predictor *p, vn_predictor_acts *a, const float *dpred, float *grads,
                                float *d_ctx)
{
    VN_CHECK_NULL(p);
    VN_CHECK_NULL(a);
    VN_CHECK_NULL(dpred);
    VN_CHECK_NULL(grads);
    if (a->p != p)
        return vn_error(VN_ERR_INVALID_ARG, "vn_predictor_backward: the activations belong to another predictor");
    if (a->N < 1)
        return vn_error(VN_ERR_STATE, "vn_predictor_backward: no forward has run on these activations");
    const vn_nn *nn = &p->nn;
    (void)vn_nn_take_error();
    const float *P = p->arena;
    float *G = grads;
    int64_t N = a->N, Kc = a->Kc, Kt = a->Kt, T = Kc + Kt, D = p->D, Dp = p->Dp;
    vn_nn_zero(nn, a->dfin, N * Kt * Dp);
    vn_linear_backward(nn, a->dfin, G + p->proj_w, G + p->proj_b, dpred, a->fin, P + p->proj_w, N * Kt, Dp, D);
    vn_nn_zero(nn, a->dxt, N * Kt * Dp);
    vn_layernorm_backward(nn, a->dxt, G + p->norm_w, G + p->norm_b, a->dfin, a->xt, P + p->norm_w, a->fin_mean,
                          a->fin_rstd, N * Kt, Dp);
    /* only the target rows reach the output; the context rows' gradient enters through
     * attention inside the stack */
    vn_nn_zero(nn, a->dx, N * T * Dp);
    vn_nn_scatter_add_rows(nn, a->dx, a->dxt, a->tgt_idx, N * Kt, Dp);
    vn_enc_net net = net_of(p);
    vn_enc_stack_backward(&net, &a->stack, &a->work, a->dx, grads);
    /* every target query is the same mask_token: its gradient sums the target rows (in
     * row order, which the indexed positional backward keeps); dxt is free to hold them */
    vn_nn_gather_rows(nn, a->dxt, a->dx, a->tgt_idx, N * Kt, Dp);
    vn_pos_add_rows_backward(nn, NULL, G + p->mask, a->dxt, NULL, N * Kt, 1, Dp);
    vn_nn_gather_rows(nn, a->demb, a->dx, a->ctx_idx, N * Kc, Dp);
    vn_linear_backward(nn, d_ctx, G + p->embed_w, G + p->embed_b, a->demb, a->ctx, P + p->embed_w, N * Kc, D, Dp);
    vn_status st = vn_nn_take_error();
    return st == VN_OK ? VN_OK : vn_error_prefix(st, "vn_predictor_backward: ");
}
