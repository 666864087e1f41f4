/*
 * encoder_params.c: encoder configs and presets, the parameter table, deterministic
 * initialisation, and the public calls that read or write parameters.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "core/tensor_check.h"
#include "nn/encoder_internal.h"

static const char *const family_names[] = {"frames", "frames+temporal", "video"};

const char *vn_encoder_family_name(vn_encoder_family family)
{
    if ((int)family < 0 || (int)family > VN_ENCODER_VIDEO)
        return "unknown";
    return family_names[family];
}

vn_status vn_encoder_family_from_name(const char *name, vn_encoder_family *out)
{
    VN_CHECK_NULL(name);
    VN_CHECK_NULL(out);
    for (int i = 0; i <= VN_ENCODER_VIDEO; i++)
        if (!strcmp(name, family_names[i])) {
            *out = (vn_encoder_family)i;
            return VN_OK;
        }
    return vn_error(VN_ERR_INVALID_ARG,
                    "vn_encoder_family_from_name: unknown family '%s' (frames, frames+temporal, video)", name);
}

VN_DEFINE_OPTIONS_INIT(vn_encoder_config_init, vn_encoder_config, VN_ENCODER_CONFIG_VERSION,
                       VN_ENCODER_CONFIG_INIT)

vn_status vn_encoder_config_preset(vn_encoder_config *cfg, const char *preset, vn_encoder_family family)
{
    VN_CHECK_NULL(cfg);
    VN_CHECK_NULL(preset);
    if ((int)family < 0 || (int)family > VN_ENCODER_VIDEO)
        return vn_error(VN_ERR_INVALID_ARG, "vn_encoder_config_preset: family %d is not a vn_encoder_family",
                        (int)family);
    vn_encoder_config c = VN_ENCODER_CONFIG_INIT;
    if (!strcmp(preset, "xs")) {
        c.size = 32;
        c.dim = 128;
        c.depth = 4;
        c.heads = 4;
    } else if (!strcmp(preset, "s")) {
        c.size = 64;
        c.dim = 192;
        c.depth = 6;
        c.heads = 3;
    } else {
        return vn_error(VN_ERR_INVALID_ARG, "vn_encoder_config_preset: unknown preset '%s' (xs, s)", preset);
    }
    c.frames = 16;
    c.channels = 3;
    c.patch = 8;
    c.family = family;
    c.tubelet_t = family == VN_ENCODER_VIDEO ? 2 : 1;
    *cfg = c;
    return VN_OK;
}

#define BAD(field, fmt, ...)                                                                         \
    vn_error(VN_ERR_INVALID_ARG, "%s: config field '%s' " fmt, fn, field, __VA_ARGS__)

vn_status vn_enc_validate_config(const char *fn, const vn_encoder_config *c)
{
    VN_CHECK_VERSION(fn, "vn_encoder_config", c->version, VN_ENCODER_CONFIG_VERSION, "VN_ENCODER_CONFIG_INIT");
    if ((int)c->family < 0 || (int)c->family > VN_ENCODER_VIDEO)
        return BAD("family", "is %d, not a vn_encoder_family", (int)c->family);
    if (c->frames < 1 || c->frames > 4096)
        return BAD("frames", "is %d; it must be in 1..4096", c->frames);
    if (c->size < 1 || c->size > 8192)
        return BAD("size", "is %d; it must be in 1..8192", c->size);
    if (c->channels != 1 && c->channels != 3)
        return BAD("channels", "is %d; it must be 1 or 3", c->channels);
    if (c->patch < 1 || c->size % c->patch)
        return BAD("patch", "is %d; it must be >= 1 and divide size %d", c->patch, c->size);
    if (c->family == VN_ENCODER_VIDEO && c->tubelet_t < 1)
        return BAD("tubelet_t", "is %d; it must be >= 1", c->tubelet_t);
    if (c->family == VN_ENCODER_VIDEO && c->frames % c->tubelet_t)
        return BAD("tubelet_t", "is %d; it must divide frames %d", c->tubelet_t, c->frames);
    if (c->heads < 1)
        return BAD("heads", "is %d; it must be >= 1", c->heads);
    /* the bound keeps every parameter count (12 * dim^2 * depth and the like) far inside int64 */
    if (c->dim < 1 || c->dim > 65536 || c->dim % c->heads)
        return BAD("dim", "is %d; it must be in 1..65536 and divisible by heads %d", c->dim, c->heads);
    if (c->depth < 1 || c->depth > 1024)
        return BAD("depth", "is %d; it must be in 1..1024", c->depth);
    if (!(c->mlp_ratio > 0.0f) || !isfinite(c->mlp_ratio) || lroundf((float)c->dim * c->mlp_ratio) < 1 ||
        c->mlp_ratio > 64.0f)
        return BAD("mlp_ratio", "is %g; it must be in (0, 64] and give a hidden width >= 1", (double)c->mlp_ratio);
    if ((int)c->pooling < 0 || (int)c->pooling > VN_POOLING_ATTENTIVE)
        return BAD("pooling", "is %d, not a vn_pooling", (int)c->pooling);
    if ((int)c->attention < 0 || (int)c->attention > VN_ATTENTION_DIVIDED)
        return BAD("attention", "is %d, not a vn_attention_kind", (int)c->attention);
    if (c->attention == VN_ATTENTION_DIVIDED && c->family != VN_ENCODER_VIDEO)
        return BAD("attention", "is divided, which only the video family has (family is %s)",
                   family_names[c->family]);
    if ((int)c->pos < 0 || (int)c->pos > VN_POS_SINCOS)
        return BAD("pos", "is %d, not a vn_pos_embedding", (int)c->pos);
    if (c->family == VN_ENCODER_FRAMES_TEMPORAL && (c->temporal_depth < 1 || c->temporal_depth > 1024))
        return BAD("temporal_depth", "is %d; frames+temporal needs 1..1024", c->temporal_depth);
    if (!(c->init_std > 0.0f) || !isfinite(c->init_std))
        return BAD("init_std", "is %g; it must be positive and finite", (double)c->init_std);
    return VN_OK;
}

/* ---- the parameter table ----------------------------------------------------------- */

static int64_t add_param(vn_encoder *enc, vn_status *st, vn_enc_init init, int decays, int ndim, const int64_t *shape,
                         const char *fmt, ...) VN_PRINTF(7, 8);

static int64_t add_param(vn_encoder *enc, vn_status *st, vn_enc_init init, int decays, int ndim, const int64_t *shape,
                         const char *fmt, ...)
{
    if (*st)
        return -1;
    if (enc->n_params == enc->cap_params) {
        int cap = enc->cap_params ? 2 * enc->cap_params : 64;
        vn_enc_param *p = realloc(enc->params, (size_t)cap * sizeof *p);
        if (!p) {
            *st = vn_error(VN_ERR_OUT_OF_MEMORY, "vn_encoder_create: out of memory for the parameter table");
            return -1;
        }
        enc->params = p;
        enc->cap_params = cap;
    }
    vn_enc_param *p = &enc->params[enc->n_params++];
    memset(p, 0, sizeof *p);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->name, sizeof p->name, fmt, ap);
    va_end(ap);
    p->ndim = ndim;
    p->numel = 1;
    for (int i = 0; i < ndim; i++) {
        p->shape[i] = shape[i];
        p->numel *= shape[i];
    }
    /* 16-float alignment keeps every tensor on a cache-line boundary for the GEMMs */
    p->offset = enc->n_floats;
    enc->n_floats += (p->numel + 15) & ~(int64_t)15;
    p->decays = decays;
    p->init = init;
    return p->offset;
}

#define SHAPE(...) ((const int64_t[]){__VA_ARGS__})
#define N_OF(...) ((int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))
#define WEIGHT(...) add_param(enc, &st, VN_ENC_INIT_TRUNC_NORMAL, 1, N_OF(__VA_ARGS__), SHAPE(__VA_ARGS__),
#define VECTOR(init, n) add_param(enc, &st, init, 0, 1, SHAPE(n),

static vn_status add_block(vn_encoder *enc, vn_enc_block *b, const char *prefix, int i, int divided)
{
    vn_status st = VN_OK;
    int64_t D = enc->D, H = enc->hidden;
    b->tnorm_w = b->tnorm_b = b->tqkv_w = b->tqkv_b = b->tproj_w = b->tproj_b = -1;
    if (divided) {
        b->tnorm_w = VECTOR(VN_ENC_INIT_ONE, D) "%sblocks.%d.tnorm.weight", prefix, i);
        b->tnorm_b = VECTOR(VN_ENC_INIT_ZERO, D) "%sblocks.%d.tnorm.bias", prefix, i);
        b->tqkv_w = WEIGHT(3 * D, D) "%sblocks.%d.tattn.qkv.weight", prefix, i);
        b->tqkv_b = VECTOR(VN_ENC_INIT_ZERO, 3 * D) "%sblocks.%d.tattn.qkv.bias", prefix, i);
        b->tproj_w = WEIGHT(D, D) "%sblocks.%d.tattn.proj.weight", prefix, i);
        b->tproj_b = VECTOR(VN_ENC_INIT_ZERO, D) "%sblocks.%d.tattn.proj.bias", prefix, i);
    }
    b->norm1_w = VECTOR(VN_ENC_INIT_ONE, D) "%sblocks.%d.norm1.weight", prefix, i);
    b->norm1_b = VECTOR(VN_ENC_INIT_ZERO, D) "%sblocks.%d.norm1.bias", prefix, i);
    b->qkv_w = WEIGHT(3 * D, D) "%sblocks.%d.attn.qkv.weight", prefix, i);
    b->qkv_b = VECTOR(VN_ENC_INIT_ZERO, 3 * D) "%sblocks.%d.attn.qkv.bias", prefix, i);
    b->proj_w = WEIGHT(D, D) "%sblocks.%d.attn.proj.weight", prefix, i);
    b->proj_b = VECTOR(VN_ENC_INIT_ZERO, D) "%sblocks.%d.attn.proj.bias", prefix, i);
    b->norm2_w = VECTOR(VN_ENC_INIT_ONE, D) "%sblocks.%d.norm2.weight", prefix, i);
    b->norm2_b = VECTOR(VN_ENC_INIT_ZERO, D) "%sblocks.%d.norm2.bias", prefix, i);
    b->fc1_w = WEIGHT(H, D) "%sblocks.%d.mlp.fc1.weight", prefix, i);
    b->fc1_b = VECTOR(VN_ENC_INIT_ZERO, H) "%sblocks.%d.mlp.fc1.bias", prefix, i);
    b->fc2_w = WEIGHT(D, H) "%sblocks.%d.mlp.fc2.weight", prefix, i);
    b->fc2_b = VECTOR(VN_ENC_INIT_ZERO, D) "%sblocks.%d.mlp.fc2.bias", prefix, i);
    return st;
}

/* The stream of a parameter is a hash of its name, so that adding or reordering
 * parameters leaves every other parameter's initial values unchanged. */
static uint64_t name_stream(const char *name)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *s = (const unsigned char *)name; *s; s++)
        h = (h ^ *s) * 1099511628211ull;
    return h;
}

void vn_enc_param_fill(const vn_enc_param *p, uint64_t seed, double init_std, const char *stream_name, float *x)
{
    if (p->init == VN_ENC_INIT_ZERO || p->init == VN_ENC_INIT_ONE) {
        float v = p->init == VN_ENC_INIT_ONE ? 1.0f : 0.0f;
        for (int64_t i = 0; i < p->numel; i++)
            x[i] = v;
        return;
    }
    vn_rng r;
    vn_rng_seed(&r, seed, name_stream(stream_name));
    double std = init_std;
    for (int64_t i = 0; i < p->numel; i++) {
        double z;
        do
            z = vn_rng_normal(&r);
        while (z < -2.0 || z > 2.0);
        x[i] = (float)(z * std);
    }
}

vn_status vn_enc_build_params(vn_encoder *enc)
{
    const vn_encoder_config *c = &enc->cfg;
    vn_status st = VN_OK;
    int64_t D = enc->D;
    int64_t L = c->family == VN_ENCODER_VIDEO ? enc->F * enc->S : enc->S;
    enc->pos = enc->pool_q = enc->tpos = enc->tnorm_w = enc->tnorm_b = -1;
    enc->patch_w = WEIGHT(D, c->channels, enc->tt, c->patch, c->patch) "patch_embed.proj.weight");
    enc->patch_b = VECTOR(VN_ENC_INIT_ZERO, D) "patch_embed.proj.bias");
    if (c->pos == VN_POS_LEARNED)
        enc->pos = add_param(enc, &st, VN_ENC_INIT_TRUNC_NORMAL, 0, 2, SHAPE(L, D), "pos_embed");
    enc->blocks = calloc((size_t)c->depth, sizeof *enc->blocks);
    if (!enc->blocks)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_encoder_create: out of memory");
    for (int i = 0; i < c->depth && !st; i++)
        st = add_block(enc, &enc->blocks[i], "", i, c->attention == VN_ATTENTION_DIVIDED);
    enc->norm_w = VECTOR(VN_ENC_INIT_ONE, D) "norm.weight");
    enc->norm_b = VECTOR(VN_ENC_INIT_ZERO, D) "norm.bias");
    if (c->pooling == VN_POOLING_ATTENTIVE)
        enc->pool_q = add_param(enc, &st, VN_ENC_INIT_TRUNC_NORMAL, 0, 1, SHAPE(D), "pool.query");
    if (c->family == VN_ENCODER_FRAMES_TEMPORAL && !st) {
        enc->tpos = add_param(enc, &st, VN_ENC_INIT_TRUNC_NORMAL, 0, 2, SHAPE(c->frames, D), "temporal.pos_embed");
        enc->tblocks = calloc((size_t)c->temporal_depth, sizeof *enc->tblocks);
        if (!enc->tblocks)
            return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_encoder_create: out of memory");
        for (int i = 0; i < c->temporal_depth && !st; i++)
            st = add_block(enc, &enc->tblocks[i], "temporal.", i, 0);
        enc->tnorm_w = VECTOR(VN_ENC_INIT_ONE, D) "temporal.norm.weight");
        enc->tnorm_b = VECTOR(VN_ENC_INIT_ZERO, D) "temporal.norm.bias");
    }
    if (st)
        return st;
    /* Initial values are drawn on the host and then moved to engine memory. */
    float *host = calloc((size_t)(enc->n_floats > L * D ? enc->n_floats : L * D), sizeof(float));
    enc->arena = vn_nn_alloc(&enc->nn, enc->n_floats);
    if (c->pos == VN_POS_SINCOS)
        enc->pos_fixed = vn_nn_alloc(&enc->nn, L * D);
    (void)vn_nn_take_error();
    if (!host || !enc->arena || (c->pos == VN_POS_SINCOS && !enc->pos_fixed)) {
        free(host);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_encoder_create: out of memory for %lld parameters",
                        (long long)enc->n_floats);
    }
    for (int i = 0; i < enc->n_params; i++)
        vn_enc_param_fill(&enc->params[i], c->seed, c->init_std, enc->params[i].name, host + enc->params[i].offset);
    st = vn_nn_upload(&enc->nn, enc->arena, host, (size_t)enc->n_floats * sizeof(float));
    if (!st && c->pos == VN_POS_SINCOS) {
        vn_sincos3d_table(host, c->family == VN_ENCODER_VIDEO ? enc->F : 1, enc->Lh, enc->Lw, D);
        st = vn_nn_upload(&enc->nn, enc->pos_fixed, host, (size_t)(L * D) * sizeof(float));
    }
    free(host);
    return st;
}

/* ---- public parameter access ------------------------------------------------------- */

vn_status vn_encoder_get_config(const vn_encoder *enc, vn_encoder_config *cfg)
{
    VN_CHECK_NULL(enc);
    VN_CHECK_NULL(cfg);
    *cfg = enc->cfg;
    return VN_OK;
}

vn_status vn_encoder_num_params(const vn_encoder *enc, int64_t *n)
{
    VN_CHECK_NULL(enc);
    VN_CHECK_NULL(n);
    int64_t total = 0;
    for (int i = 0; i < enc->n_params; i++)
        total += enc->params[i].numel;
    *n = total;
    return VN_OK;
}

vn_status vn_encoder_param_count(const vn_encoder *enc, int *count)
{
    VN_CHECK_NULL(enc);
    VN_CHECK_NULL(count);
    *count = enc->n_params;
    return VN_OK;
}

vn_status vn_encoder_param_info(const vn_encoder *enc, int index, const char **name, int *ndim, int64_t *shape)
{
    VN_CHECK_NULL(enc);
    if (index < 0 || index >= enc->n_params)
        return vn_error(VN_ERR_INVALID_ARG, "vn_encoder_param_info: index %d is outside 0..%d", index,
                        enc->n_params - 1);
    const vn_enc_param *p = &enc->params[index];
    if (name)
        *name = p->name;
    if (ndim)
        *ndim = p->ndim;
    if (shape)
        for (int i = 0; i < p->ndim; i++)
            shape[i] = p->shape[i];
    return VN_OK;
}

static const vn_enc_param *find_param(const vn_encoder *enc, const char *fn, const char *name)
{
    for (int i = 0; i < enc->n_params; i++)
        if (!strcmp(enc->params[i].name, name))
            return &enc->params[i];
    vn_error(VN_ERR_NOT_FOUND, "%s: the %s encoder has no parameter '%s'", fn, family_names[enc->cfg.family], name);
    return NULL;
}

/* Encoder buffers are read and written with memcpy and the ops' flat loops, so a
 * caller's tensor must be row-major contiguous as well as of the right shape. */
vn_status vn_enc_expect_f32(const char *fn, const char *what, const vn_tensor *t, int ndim, const int64_t *shape)
{
    vn_status st = vn_tensor_expect(fn, what, t, VN_DTYPE_F32, ndim, shape);
    if (st)
        return st;
    int64_t stride = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        if (shape[i] > 1 && t->strides[i] != stride)
            return vn_error(VN_ERR_SHAPE,
                            "%s: %s must be contiguous (row-major); dim %d has stride %lld, expected %lld", fn,
                            what, i, (long long)t->strides[i], (long long)stride);
        stride *= shape[i];
    }
    return VN_OK;
}

vn_status vn_encoder_get_param(const vn_encoder *enc, const char *name, vn_tensor *out)
{
    VN_CHECK_NULL(enc);
    VN_CHECK_NULL(name);
    VN_CHECK_NULL(out);
    const vn_enc_param *p = find_param(enc, __func__, name);
    if (!p)
        return VN_ERR_NOT_FOUND;
    vn_status st = vn_enc_expect_f32(__func__, "out", out, p->ndim, p->shape);
    if (st)
        return st;
    return vn_nn_download(&enc->nn, out->data, enc->arena + p->offset, (size_t)p->numel * sizeof(float));
}

vn_status vn_encoder_set_param(vn_encoder *enc, const char *name, const vn_tensor *value)
{
    VN_CHECK_NULL(enc);
    VN_CHECK_NULL(name);
    VN_CHECK_NULL(value);
    const vn_enc_param *p = find_param(enc, __func__, name);
    if (!p)
        return VN_ERR_NOT_FOUND;
    vn_status st = vn_enc_expect_f32(__func__, "value", value, p->ndim, p->shape);
    if (st)
        return st;
    return vn_nn_upload(&enc->nn, enc->arena + p->offset, value->data, (size_t)p->numel * sizeof(float));
}

float *vn_encoder_params(vn_encoder *enc, int64_t *n_floats)
{
    if (n_floats)
        *n_floats = enc->n_floats;
    return enc->arena;
}

int64_t vn_encoder_param_offset(const vn_encoder *enc, int index)
{
    return enc->params[index].offset;
}

int vn_encoder_param_decays(const vn_encoder *enc, int index)
{
    return enc->params[index].decays;
}
