/* Encoder weights files: round trips of every family, the config JSON, and the arena helpers
 * the trainer's state file uses. Corruption and atomic saves: test_checkpoint_files.c. */
#include <locale.h>
#include <string.h>

#include "checkpoint_fixtures.h"
#include "io/safetensors.h"
#include "nn/encoder_io.h"
#include "nn/encoder_train.h"

START_TEST(round_trip_every_family)
{
    char dir[600], path[700];
    fresh_dir(dir, sizeof dir, "round_trip");
    vn_context *ctx = cpu_ctx();
    for (int w = 0; w < N_CONFIGS; w++) {
        vn_encoder_config c = tiny_config(w), saved_cfg, loaded_cfg, file_cfg;
        vn_encoder *enc, *back;
        VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &c));
        scramble(enc, (uint32_t)w + 1);
        fmt_into(path, sizeof path, "%s/%s-%d.safetensors", dir, vn_encoder_family_name(c.family), w);
        VN_ASSERT_OK(vn_encoder_save(enc, path));
        VN_ASSERT_OK(vn_encoder_load(&back, ctx, path));
        VN_ASSERT_OK(vn_encoder_get_config(enc, &saved_cfg));
        VN_ASSERT_OK(vn_encoder_get_config(back, &loaded_cfg));
        expect_config_equal(&saved_cfg, &loaded_cfg);
        VN_ASSERT_OK(vn_encoder_config_load(&file_cfg, path));
        expect_config_equal(&saved_cfg, &file_cfg);
        expect_params_equal(enc, back);
        expect_same_outputs(enc, back);

        /* The file itself: one F32 tensor per parameter, the metadata keys of the format. */
        vn_st_file *f;
        VN_ASSERT_OK(vn_st_open(&f, path));
        int n;
        VN_ASSERT_OK(vn_encoder_param_count(enc, &n));
        ck_assert_uint_eq(vn_st_count(f), (size_t)n);
        for (size_t i = 0; i < vn_st_count(f); i++)
            ck_assert_int_eq(vn_st_entry_at(f, i)->dtype, VN_DTYPE_F32);
        const char *v;
        VN_ASSERT_OK(vn_st_metadata(f, "format", &v));
        ck_assert_str_eq(v, "vnative.encoder");
        VN_ASSERT_OK(vn_st_metadata(f, "vnative.version", &v));
        ck_assert_str_eq(v, vn_version());
        VN_ASSERT_OK(vn_st_metadata(f, "config", &v));
        ck_assert_ptr_nonnull(strstr(v, vn_encoder_family_name(c.family)));
        ck_assert_uint_eq(vn_st_metadata_count(f), 3);
        vn_st_close(f);

        /* Saving the loaded encoder reproduces the file byte for byte. */
        char again[760];
        fmt_into(again, sizeof again, "%s.again", path);
        VN_ASSERT_OK(vn_encoder_save(back, again));
        size_t n1, n2;
        unsigned char *b1 = slurp(path, &n1), *b2 = slurp(again, &n2);
        ck_assert(n1 == n2 && memcmp(b1, b2, n1) == 0);
        free(b1);
        free(b2);
        vn_encoder_destroy(enc);
        vn_encoder_destroy(back);
    }
    vn_context_destroy(ctx);
}
END_TEST

START_TEST(config_json_round_trip)
{
    char json[VN_ENCODER_CONFIG_JSON_MAX];
    for (int w = 0; w < N_CONFIGS; w++) {
        vn_encoder_config c = tiny_config(w), back;
        if (c.family != VN_ENCODER_VIDEO)
            c.tubelet_t = 1;
        VN_ASSERT_OK(vn_encoder_config_to_json(&c, json, sizeof json));
        VN_ASSERT_OK(vn_encoder_config_from_json(json, &back));
        expect_config_equal(&c, &back);
    }
    /* Floats come back exactly and print short; the seed keeps all 64 bits. */
    vn_encoder_config c = tiny_config(0), back;
    c.mlp_ratio = 4.0f / 3.0f;
    c.init_std = 0.02f;
    c.seed = UINT64_MAX;
    VN_ASSERT_OK(vn_encoder_config_to_json(&c, json, sizeof json));
    ck_assert_msg(strstr(json, "\"init_std\": 0.02}") != NULL, "%s", json);
    ck_assert_msg(strstr(json, "\"seed\": 18446744073709551615,") != NULL, "%s", json);
    ck_assert_msg(strstr(json, "\"family\": \"video\"") && strstr(json, "\"pos\": \"learned\"") &&
                      strstr(json, "\"attention\": \"joint\"") && strstr(json, "\"pooling\": \"mean\"") &&
                      strstr(json, "{\"version\": 1,"),
                  "%s", json);
    VN_ASSERT_OK(vn_encoder_config_from_json(json, &back));
    expect_config_equal(&c, &back);
    ck_assert(strchr(json, '\n') == NULL);

    /* A buffer one byte short fails cleanly; an invalid config is refused, not written. */
    size_t len = strlen(json);
    VN_ASSERT_FAILS(vn_encoder_config_to_json(&c, json, len), VN_ERR_INVALID_ARG);
    ck_assert_str_eq(json, "");
    VN_ASSERT_OK(vn_encoder_config_to_json(&c, json, len + 1));
    c.heads = 3;
    VN_ASSERT_FAILS(vn_encoder_config_to_json(&c, json, sizeof json), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_config_to_json(NULL, json, sizeof json), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_config_from_json(NULL, &back), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_config_from_json("{}", NULL), VN_ERR_INVALID_ARG);

    /* A process locale with a decimal comma must not leak into the file. */
    const char *comma[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "ru_RU.UTF-8"};
    int tried = 0;
    for (size_t i = 0; i < sizeof comma / sizeof *comma && !tried; i++)
        if (setlocale(LC_NUMERIC, comma[i])) {
            tried = 1;
            c = tiny_config(0);
            c.mlp_ratio = 2.5f;
            VN_ASSERT_OK(vn_encoder_config_to_json(&c, json, sizeof json));
            ck_assert_msg(strstr(json, "\"mlp_ratio\": 2.5,") != NULL, "%s", json);
            VN_ASSERT_OK(vn_encoder_config_from_json(json, &back));
            ck_assert(back.mlp_ratio == 2.5f);
            setlocale(LC_NUMERIC, "C");
        }
    if (!tried)
        printf("SKIP decimal-comma locale case: no such locale is installed here\n");
}
END_TEST

typedef struct bad_json {
    const char *field, *value; /* applied to a valid config, or... */
    const char *raw;           /* ...this whole text */
    vn_status want;
    const char *needle;
} bad_json;

static const bad_json bad_jsons[] = {
    {NULL, NULL, "", VN_ERR_FORMAT, "expected '{'"},
    {NULL, NULL, "not json", VN_ERR_FORMAT, "byte 0"},
    {NULL, NULL, "{", VN_ERR_FORMAT, "expected a string"},
    {NULL, NULL, "{}", VN_ERR_FORMAT, "'version' is missing"},
    {NULL, NULL, "{\"version\": 1} x", VN_ERR_FORMAT, "trailing"},
    {NULL, NULL, "[1, 2]", VN_ERR_FORMAT, "expected '{'"},
    {NULL, NULL, "{\"version\": 1,}", VN_ERR_FORMAT, "expected a string"},
    {"dim", "15", NULL, VN_ERR_FORMAT, "divisible by heads 2"},
    {"heads", NULL, NULL, VN_ERR_FORMAT, "'heads' is missing"},
    {"init_std", NULL, NULL, VN_ERR_FORMAT, "'init_std' is missing"},
    {"version", NULL, NULL, VN_ERR_FORMAT, "'version' is missing"},
    {"version", "99", NULL, VN_ERR_VERSION, "newer"},
    {"version", "0", NULL, VN_ERR_FORMAT, "'version' is 0"},
    {"dim", "\"16\"", NULL, VN_ERR_FORMAT, "'dim' must be an integer"},
    {"dim", "16.0", NULL, VN_ERR_FORMAT, "'dim' must be an integer"},
    {"dim", "1e1", NULL, VN_ERR_FORMAT, "'dim' must be an integer"},
    {"dim", "016", NULL, VN_ERR_FORMAT, "not valid JSON"},
    {"dim", "99999999999", NULL, VN_ERR_FORMAT, "'dim' is 99999999999, outside"},
    {"dim", "true", NULL, VN_ERR_FORMAT, "not a number or a string"},
    {"dim", "null", NULL, VN_ERR_FORMAT, "not a number or a string"},
    {"dim", "{}", NULL, VN_ERR_FORMAT, "not a number or a string"},
    {"family", "\"videos\"", NULL, VN_ERR_FORMAT, "'family' is \"videos\"; expected one of frames, frames+temporal"},
    {"family", "2", NULL, VN_ERR_FORMAT, "'family' is 2"},
    {"pooling", "\"max\"", NULL, VN_ERR_FORMAT, "'pooling'"},
    {"attention", "\"divided\"", NULL, VN_OK, NULL},
    {"pos", "\"rope\"", NULL, VN_ERR_FORMAT, "'pos'"},
    {"mlp_ratio", "\"4\"", NULL, VN_ERR_FORMAT, "'mlp_ratio' must be a number"},
    {"mlp_ratio", "1e99", NULL, VN_ERR_FORMAT, "beyond float range"},
    {"mlp_ratio", "-1", NULL, VN_ERR_FORMAT, "'mlp_ratio' is -1"},
    {"seed", "-1", NULL, VN_ERR_FORMAT, "'seed' must be an unsigned integer"},
    {"seed", "18446744073709551616", NULL, VN_ERR_FORMAT, "beyond 64 bits"},
    {"size", "10", NULL, VN_ERR_FORMAT, "'patch'"},
    {"frames", "3", NULL, VN_ERR_FORMAT, "'tubelet_t'"},
    {"dim", "16, \"dim\": 16", NULL, VN_ERR_FORMAT, "'dim' appears twice"},
    {"dim", "16, \"width\": 16", NULL, VN_ERR_FORMAT, "unknown field 'width'"},
    {"family", "\"vid\\u00e9o\"", NULL, VN_ERR_FORMAT, "outside ASCII"},
    {"family", "\"vid\\qeo\"", NULL, VN_ERR_FORMAT, "bad escape"},
    {"family", "\"vid\teo\"", NULL, VN_ERR_FORMAT, "control character"},
};

START_TEST(config_json_rejects)
{
    char json[2 * VN_ENCODER_CONFIG_JSON_MAX];
    vn_encoder_config before = tiny_config(2), c = before;
    for (size_t i = 0; i < sizeof bad_jsons / sizeof *bad_jsons; i++) {
        const bad_json *b = &bad_jsons[i];
        if (b->raw)
            fmt_into(json, sizeof json, "%s", b->raw);
        else
            config_with(json, sizeof json, b->field, b->value);
        vn_clear_error();
        vn_status st = vn_encoder_config_from_json(json, &c);
        if (b->want == VN_OK) {
            ck_assert_msg(st == VN_OK, "%s: %s", json, vn_last_error());
            c = before;
            continue;
        }
        ck_assert_msg(st == b->want, "%s gave %s, expected %s (%s)", json, vn_status_str(st), vn_status_str(b->want),
                      vn_last_error());
        ck_assert_msg(strstr(vn_last_error(), b->needle) != NULL, "%s: message '%s' lacks '%s'", json,
                      vn_last_error(), b->needle);
        expect_config_equal(&c, &before); /* untouched on failure */
    }
    /* Whitespace JSON allows, and the escapes that spell ASCII, are accepted. */
    config_with(json, sizeof json, "family", "\"vi\\u0064eo\"");
    VN_ASSERT_OK(vn_encoder_config_from_json(json, &c));
    ck_assert_int_eq(c.family, VN_ENCODER_VIDEO);
    char spaced[sizeof json + 8];
    fmt_into(spaced, sizeof spaced, " \n\t%s\r\n", json);
    VN_ASSERT_OK(vn_encoder_config_from_json(spaced, &c));
}
END_TEST

/* The trainer's state file keeps several arenas with the encoder's layout under prefixes. */
START_TEST(arena_tensors_with_prefixes)
{
    char dir[600], path[700], partial[700];
    fresh_dir(dir, sizeof dir, "arenas");
    fmt_into(path, sizeof path, "%s/state.safetensors", dir);
    fmt_into(partial, sizeof partial, "%s/partial.safetensors", dir);
    vn_context *ctx = cpu_ctx();
    vn_encoder_config c = tiny_config(1);
    vn_encoder *enc;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &c));
    int64_t nf;
    const float *weights = vn_encoder_params(enc, &nf);
    float *m = calloc((size_t)nf, sizeof(float)), *v = calloc((size_t)nf, sizeof(float));
    float *back = malloc((size_t)nf * sizeof(float)), *sentinel = malloc((size_t)nf * sizeof(float));
    for (int64_t i = 0; i < nf; i++) {
        m[i] = (float)i * 0.5f;
        v[i] = -(float)i;
        sentinel[i] = 12345.0f;
    }
    vn_st_writer *w;
    VN_ASSERT_OK(vn_st_writer_create(&w));
    VN_ASSERT_OK(vn_encoder_add_tensors(enc, w, "", weights));
    VN_ASSERT_OK(vn_encoder_add_tensors(enc, w, "adam.m.", m));
    VN_ASSERT_OK(vn_encoder_add_tensors(enc, w, "adam.v.", v));
    VN_ASSERT_FAILS(vn_encoder_add_tensors(enc, w, "adam.m.", m), VN_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "adam.m.patch_embed.proj.weight"));
    char longp[300];
    memset(longp, 'p', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    VN_ASSERT_FAILS(vn_encoder_add_tensors(enc, w, longp, m), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_add_tensors(NULL, w, "", m), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_add_tensors(enc, NULL, "", m), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_add_tensors(enc, w, NULL, m), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_add_tensors(enc, w, "", NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_st_writer_write(w, path));
    vn_st_writer_free(w);

    int n;
    VN_ASSERT_OK(vn_encoder_param_count(enc, &n));
    vn_st_file *f;
    VN_ASSERT_OK(vn_st_open(&f, path));
    ck_assert_uint_eq(vn_st_count(f), 3 * (size_t)n);
    const float *want[3] = {weights, m, v};
    const char *prefixes[3] = {"", "adam.m.", "adam.v."};
    for (int k = 0; k < 3; k++) {
        memcpy(back, sentinel, (size_t)nf * sizeof(float));
        VN_ASSERT_OK(vn_encoder_read_tensors(enc, f, prefixes[k], back));
        for (int i = 0; i < n; i++) {
            int nd;
            int64_t sh[VN_MAX_DIMS], numel = 1, off = vn_encoder_param_offset(enc, i);
            VN_ASSERT_OK(vn_encoder_param_info(enc, i, NULL, &nd, sh));
            for (int d = 0; d < nd; d++)
                numel *= sh[d];
            ck_assert(memcmp(back + off, want[k] + off, (size_t)numel * sizeof(float)) == 0);
        }
    }
    /* An absent prefix names the first tensor it lacks and leaves the arena alone. */
    memcpy(back, sentinel, (size_t)nf * sizeof(float));
    VN_ASSERT_FAILS(vn_encoder_read_tensors(enc, f, "target.", back), VN_ERR_FORMAT);
    ck_assert_msg(strstr(vn_last_error(), "'target.patch_embed.proj.weight' is missing"), "%s", vn_last_error());
    ck_assert(memcmp(back, sentinel, (size_t)nf * sizeof(float)) == 0);
    VN_ASSERT_FAILS(vn_encoder_read_tensors(NULL, f, "", back), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_read_tensors(enc, NULL, "", back), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_read_tensors(enc, f, NULL, back), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_read_tensors(enc, f, "", NULL), VN_ERR_INVALID_ARG);

    /* All or nothing: every tensor but the last parameter's is there and valid; nothing may
     * be copied before the missing one is found. */
    const char *last;
    VN_ASSERT_OK(vn_encoder_param_info(enc, n - 1, &last, NULL, NULL));
    VN_ASSERT_OK(vn_st_writer_create(&w));
    for (size_t i = 0; i < vn_st_count(f); i++) {
        const vn_st_entry *e = vn_st_entry_at(f, i);
        if (strncmp(e->name, "adam.m.", 7) == 0 && strcmp(e->name + 7, last) != 0)
            VN_ASSERT_OK(vn_st_writer_add(w, e->name, e->dtype, e->ndim, e->shape, e->data));
    }
    VN_ASSERT_OK(vn_st_writer_write(w, partial));
    vn_st_writer_free(w);
    vn_st_file *pf;
    VN_ASSERT_OK(vn_st_open(&pf, partial));
    memcpy(back, sentinel, (size_t)nf * sizeof(float));
    VN_ASSERT_FAILS(vn_encoder_read_tensors(enc, pf, "adam.m.", back), VN_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(vn_last_error(), last));
    ck_assert(memcmp(back, sentinel, (size_t)nf * sizeof(float)) == 0);
    vn_st_close(pf);
    vn_st_close(f);
    free(m);
    free(v);
    free(back);
    free(sentinel);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST

static Suite *checkpoint_suite(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *tc = tcase_create("round_trip");
    tcase_add_test(tc, round_trip_every_family);
    tcase_add_test(tc, config_json_round_trip);
    tcase_add_test(tc, config_json_rejects);
    tcase_add_test(tc, arena_tensors_with_prefixes);
    suite_add_tcase(s, tc);
    checkpoint_add_file_cases(s);
    return s;
}

int main(void)
{
    return vn_test_run(checkpoint_suite());
}
