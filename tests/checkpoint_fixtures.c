/* What the checkpoint suite's files share: tiny encoders of every family, file helpers and
 * comparisons that demand bit-identical results. */
#include "checkpoint_fixtures.h"

#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "nn/encoder_io.h"
#include "nn/encoder_train.h"

void fresh_dir(char *out, size_t cap, const char *name)
{
    fmt_into(out, cap, "%s/ckpt_%s", vn_test_tmpdir(), name);
    char cmd[1200];
    fmt_into(cmd, sizeof cmd, "rm -rf '%s'", out);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(mkdir(out, 0755), 0);
}

unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n ? *n : 1);
    ck_assert_uint_eq(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

void spit(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

vn_context *cpu_ctx(void)
{
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    o.backend = VN_BACKEND_CPU;
    o.n_threads = 1;
    vn_context *ctx = NULL;
    VN_ASSERT_OK(vn_context_create(&ctx, &o));
    return ctx;
}

vn_encoder_config tiny_config(int which)
{
    vn_encoder_config c = VN_ENCODER_CONFIG_INIT;
    c.frames = 4;
    c.size = 8;
    c.channels = 3;
    c.patch = 4;
    c.tubelet_t = 2;
    c.dim = 16;
    c.depth = 2;
    c.heads = 2;
    c.mlp_ratio = 2.5f;
    c.seed = 11;
    switch (which) {
    case 0: /* video, joint attention, learned positions, mean pooling */
        break;
    case 1: /* video, divided attention, sin-cos positions, attentive pooling */
        c.attention = VN_ATTENTION_DIVIDED;
        c.pos = VN_POS_SINCOS;
        c.pooling = VN_POOLING_ATTENTIVE;
        c.init_std = 0.05f;
        c.channels = 1;
        break;
    case 2:
        c.family = VN_ENCODER_FRAMES;
        c.pooling = VN_POOLING_ATTENTIVE;
        break;
    default:
        c.family = VN_ENCODER_FRAMES_TEMPORAL;
        c.temporal_depth = 2;
        c.pos = VN_POS_SINCOS;
        c.seed = UINT64_MAX;
        break;
    }
    return c;
}

void expect_config_equal(const vn_encoder_config *a, const vn_encoder_config *b)
{
    ck_assert_uint_eq(a->version, b->version);
    ck_assert_int_eq(a->family, b->family);
    ck_assert_int_eq(a->frames, b->frames);
    ck_assert_int_eq(a->size, b->size);
    ck_assert_int_eq(a->channels, b->channels);
    ck_assert_int_eq(a->patch, b->patch);
    ck_assert_int_eq(a->tubelet_t, b->tubelet_t);
    ck_assert_int_eq(a->dim, b->dim);
    ck_assert_int_eq(a->depth, b->depth);
    ck_assert_int_eq(a->heads, b->heads);
    ck_assert(memcmp(&a->mlp_ratio, &b->mlp_ratio, sizeof(float)) == 0);
    ck_assert_int_eq(a->pooling, b->pooling);
    ck_assert_int_eq(a->attention, b->attention);
    ck_assert_int_eq(a->pos, b->pos);
    ck_assert_int_eq(a->temporal_depth, b->temporal_depth);
    ck_assert(a->seed == b->seed);
    ck_assert(memcmp(&a->init_std, &b->init_std, sizeof(float)) == 0);
}

/* Overwrite every parameter with values no seed gives, so a load that kept the freshly
 * initialised weights instead of reading the file would be caught. */
void scramble(vn_encoder *enc, uint32_t salt)
{
    int n;
    VN_ASSERT_OK(vn_encoder_param_count(enc, &n));
    float *arena = vn_encoder_params(enc, NULL);
    for (int i = 0; i < n; i++) {
        int nd;
        int64_t sh[VN_MAX_DIMS], numel = 1;
        VN_ASSERT_OK(vn_encoder_param_info(enc, i, NULL, &nd, sh));
        for (int d = 0; d < nd; d++)
            numel *= sh[d];
        float *p = arena + vn_encoder_param_offset(enc, i);
        for (int64_t k = 0; k < numel; k++) {
            uint32_t h = (uint32_t)(k * 2654435761u) ^ (salt * 40503u) ^ (uint32_t)i * 97u;
            h ^= h >> 15;
            h *= 2246822519u;
            h ^= h >> 13;
            p[k] = ((float)(h & 0xFFFF) / 65536.0f - 0.5f) * 0.2f;
        }
    }
}

void expect_params_equal(const vn_encoder *a, const vn_encoder *b)
{
    int na, nb;
    VN_ASSERT_OK(vn_encoder_param_count(a, &na));
    VN_ASSERT_OK(vn_encoder_param_count(b, &nb));
    ck_assert_int_eq(na, nb);
    const float *pa = vn_encoder_params((vn_encoder *)a, NULL), *pb = vn_encoder_params((vn_encoder *)b, NULL);
    for (int i = 0; i < na; i++) {
        const char *name_a, *name_b;
        int nd;
        int64_t sh[VN_MAX_DIMS], numel = 1;
        VN_ASSERT_OK(vn_encoder_param_info(a, i, &name_a, &nd, sh));
        VN_ASSERT_OK(vn_encoder_param_info(b, i, &name_b, NULL, NULL));
        ck_assert_str_eq(name_a, name_b);
        for (int d = 0; d < nd; d++)
            numel *= sh[d];
        ck_assert_msg(memcmp(pa + vn_encoder_param_offset(a, i), pb + vn_encoder_param_offset(b, i),
                             (size_t)numel * sizeof(float)) == 0,
                      "parameter %s differs", name_a);
    }
}

/* Embeddings and tokens of two clips must be bit-identical. */
void expect_same_outputs(const vn_encoder *a, const vn_encoder *b)
{
    vn_encoder_config c;
    VN_ASSERT_OK(vn_encoder_get_config(a, &c));
    int64_t L, D, N = 2, clip = (int64_t)c.channels * c.frames * c.size * c.size;
    VN_ASSERT_OK(vn_encoder_output_shape(a, &L, &D));
    float *x = malloc((size_t)(N * clip) * sizeof(float));
    float *ya = malloc((size_t)(N * L * D) * sizeof(float)), *yb = malloc((size_t)(N * L * D) * sizeof(float));
    for (int64_t i = 0; i < N * clip; i++)
        x[i] = sinf((float)i * 0.173f) * 0.8f;
    vn_tensor tx, ta, tb;
    VN_ASSERT_OK(vn_tensor_init(&tx, x, VN_DTYPE_F32, 5, (int64_t[]){N, c.channels, c.frames, c.size, c.size}));
    VN_ASSERT_OK(vn_tensor_init(&ta, ya, VN_DTYPE_F32, 2, (int64_t[]){N, D}));
    VN_ASSERT_OK(vn_tensor_init(&tb, yb, VN_DTYPE_F32, 2, (int64_t[]){N, D}));
    VN_ASSERT_OK(vn_encoder_encode(a, &tx, &ta));
    VN_ASSERT_OK(vn_encoder_encode(b, &tx, &tb));
    ck_assert_msg(memcmp(ya, yb, (size_t)(N * D) * sizeof(float)) == 0, "embeddings differ after the round trip");
    VN_ASSERT_OK(vn_tensor_init(&ta, ya, VN_DTYPE_F32, 3, (int64_t[]){N, L, D}));
    VN_ASSERT_OK(vn_tensor_init(&tb, yb, VN_DTYPE_F32, 3, (int64_t[]){N, L, D}));
    VN_ASSERT_OK(vn_encoder_encode_tokens(a, &tx, &ta));
    VN_ASSERT_OK(vn_encoder_encode_tokens(b, &tx, &tb));
    ck_assert_msg(memcmp(ya, yb, (size_t)(N * L * D) * sizeof(float)) == 0, "tokens differ after the round trip");
    free(x);
    free(ya);
    free(yb);
}

/* A valid config as JSON with one field replaced (value NULL: removed). */
void config_with(char *out, size_t cap, const char *field, const char *value)
{
    vn_encoder_config c = tiny_config(0);
    char json[VN_ENCODER_CONFIG_JSON_MAX];
    VN_ASSERT_OK(vn_encoder_config_to_json(&c, json, sizeof json));
    char key[64];
    fmt_into(key, sizeof key, "\"%s\": ", field);
    char *k = strstr(json, key);
    ck_assert_ptr_nonnull(k);
    char *end = k + strlen(key);
    if (*end == '"')
        end = strchr(end + 1, '"') + 1;
    else
        while (*end && *end != ',' && *end != '}')
            end++;
    if (!value) {
        /* drop `"field": v, ` (or `, "field": v` at the end) */
        if (*end == ',')
            end += 2;
        else if (k[-2] == ',')
            k -= 2;
        fmt_into(out, cap, "%.*s%s", (int)(k - json), json, end);
    } else {
        fmt_into(out, cap, "%.*s%s%s%s", (int)(k - json), json, key, value, end);
    }
}
