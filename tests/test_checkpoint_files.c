/* Encoder weights files that are damaged, missing or half written: a corruption matrix
 * (bytes, tensors, config) and saves killed with SIGKILL. */
#include <dirent.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint_fixtures.h"
#include "io/safetensors.h"
#include "nn/encoder_io.h"

/* ---- corruption ------------------------------------------------------------------------ */

/* A copy of a weights file with one change, written by the library's own writer so that
 * only the intended problem is in it. */
typedef struct mutation {
    const char *tensor;    /* the tensor changed below, or NULL */
    const char *rename_to; /* ...renamed */
    int drop;              /* ...left out */
    int transpose;         /* ...with its two dimensions swapped */
    int set_dtype;         /* ...stored as dtype (same bytes reinterpreted, or half of them for BF16) */
    vn_dtype dtype;
    int grow;              /* ...with its first dimension one larger (data from a bigger buffer) */
    const char *extra;     /* a tensor added under this name */
    const char *meta_key;  /* a metadata key replaced by meta_value, or dropped when it is NULL */
    const char *meta_value;
} mutation;

static void rewrite(const char *src, const char *dst, const mutation *mu)
{
    vn_st_file *f;
    VN_ASSERT_OK(vn_st_open(&f, src));
    vn_st_writer *w;
    VN_ASSERT_OK(vn_st_writer_create(&w));
    static float scratch[1 << 16];
    for (size_t i = 0; i < vn_st_count(f); i++) {
        const vn_st_entry *e = vn_st_entry_at(f, i);
        const char *name = e->name;
        vn_dtype dt = e->dtype;
        int64_t sh[VN_MAX_DIMS];
        memcpy(sh, e->shape, sizeof sh);
        const void *data = e->data;
        if (mu->tensor && !strcmp(mu->tensor, e->name)) {
            if (mu->drop)
                continue;
            if (mu->rename_to)
                name = mu->rename_to;
            if (mu->transpose) {
                ck_assert_int_eq(e->ndim, 2);
                int64_t t = sh[0];
                sh[0] = sh[1];
                sh[1] = t;
            }
            if (mu->set_dtype)
                dt = mu->dtype;
            if (mu->grow) {
                ck_assert_uint_lt(e->nbytes * 2, sizeof scratch);
                sh[0] += 1;
                data = scratch;
            }
        }
        VN_ASSERT_OK(vn_st_writer_add(w, name, dt, e->ndim, sh, data));
    }
    if (mu->extra)
        VN_ASSERT_OK(vn_st_writer_add(w, mu->extra, VN_DTYPE_F32, 1, (int64_t[]){4}, scratch));
    int replaced = 0;
    for (size_t i = 0; i < vn_st_metadata_count(f); i++) {
        const char *k, *v;
        vn_st_metadata_at(f, i, &k, &v);
        if (mu->meta_key && !strcmp(k, mu->meta_key)) {
            replaced = 1;
            if (!mu->meta_value)
                continue;
            v = mu->meta_value;
        }
        VN_ASSERT_OK(vn_st_writer_add_metadata(w, k, v));
    }
    if (mu->meta_key && mu->meta_value && !replaced)
        VN_ASSERT_OK(vn_st_writer_add_metadata(w, mu->meta_key, mu->meta_value));
    VN_ASSERT_OK(vn_st_writer_write(w, dst));
    vn_st_writer_free(w);
    vn_st_close(f);
}

/* A load that fails with want, leaves *out NULL and names the file and every needle. */
static void expect_load_fails(vn_context *ctx, const char *path, vn_status want, const char *n1, const char *n2)
{
    vn_encoder *enc = (vn_encoder *)0x1;
    vn_clear_error();
    vn_status st = vn_encoder_load(&enc, ctx, path);
    ck_assert_msg(st == want, "%s: got %s, expected %s (%s)", path, vn_status_str(st), vn_status_str(want),
                  vn_last_error());
    ck_assert_ptr_null(enc);
    const char *msg = vn_last_error();
    ck_assert_msg(strstr(msg, path) != NULL, "message does not name the file: %s", msg);
    ck_assert_msg(!n1 || strstr(msg, n1), "message '%s' lacks '%s'", msg, n1);
    ck_assert_msg(!n2 || strstr(msg, n2), "message '%s' lacks '%s'", msg, n2);
}

/* Both vn_encoder_load and vn_encoder_config_load, for problems in the config. */
static void expect_config_fails(vn_context *ctx, const char *path, vn_status want, const char *n1, const char *n2)
{
    expect_load_fails(ctx, path, want, n1, n2);
    vn_encoder_config c = tiny_config(2), before = c;
    vn_clear_error();
    vn_status st = vn_encoder_config_load(&c, path);
    ck_assert_msg(st == want, "config_load %s: got %s (%s)", path, vn_status_str(st), vn_last_error());
    ck_assert(strstr(vn_last_error(), path) && (!n1 || strstr(vn_last_error(), n1)));
    expect_config_equal(&c, &before);
}

/* A saved tiny video encoder in dir/good.safetensors. */
static void save_good(vn_context *ctx, const char *dir, char *path, size_t cap)
{
    fmt_into(path, cap, "%s/good.safetensors", dir);
    vn_encoder_config c = tiny_config(0);
    vn_encoder *enc;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &c));
    VN_ASSERT_OK(vn_encoder_save(enc, path));
    vn_encoder_destroy(enc);
}

START_TEST(corrupt_bytes)
{
    char dir[600], good[700], bad[700];
    fresh_dir(dir, sizeof dir, "bytes");
    fmt_into(bad, sizeof bad, "%s/bad.safetensors", dir);
    vn_context *ctx = cpu_ctx();
    save_good(ctx, dir, good, sizeof good);
    size_t n;
    unsigned char *b = slurp(good, &n);
    size_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | b[i];
    ck_assert_uint_lt(8 + hlen, n);

    /* Truncated: inside the length, inside the header, at the data start, inside the data,
     * one byte short. */
    size_t cuts[] = {0, 3, 8, 9, 8 + hlen / 2, 8 + hlen - 1, 8 + hlen, 8 + hlen + 5, (8 + hlen + n) / 2, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        spit(bad, b, cuts[i]);
        expect_load_fails(ctx, bad, VN_ERR_FORMAT, NULL, NULL);
        expect_config_fails(ctx, bad, VN_ERR_FORMAT, NULL, NULL);
    }
    /* Garbage header lengths: huge, past the file, too short to hold the JSON. */
    const uint64_t lens[] = {UINT64_MAX, (uint64_t)n, 2, 0};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        unsigned char *c = malloc(n);
        memcpy(c, b, n);
        for (int k = 0; k < 8; k++)
            c[k] = (unsigned char)(lens[i] >> (8 * k));
        spit(bad, c, n);
        expect_load_fails(ctx, bad, VN_ERR_FORMAT, i < 2 ? "header length" : NULL, NULL);
        free(c);
    }
    /* The opening brace flipped. */
    b[8] ^= 0x01;
    spit(bad, b, n);
    expect_load_fails(ctx, bad, VN_ERR_FORMAT, NULL, NULL);
    b[8] ^= 0x01;

    /* Every header byte flipped three ways. Outside strings every flip is caught; inside a string
     * (a name, a dtype, the escaped config) it may give another valid file, which must then load
     * or fail cleanly with a message, never crash or allocate without bound. */
    int in_str = 0, esc = 0, caught = 0, loaded = 0;
    for (size_t i = 8; i < 8 + hlen; i++) {
        unsigned char ch = b[i];
        int string_byte;
        if (in_str) {
            if (esc)
                esc = 0;
            else if (ch == '\\')
                esc = 1;
            else if (ch == '"')
                in_str = 0;
            string_byte = in_str || ch != '"' || esc;
        } else {
            string_byte = 0;
            if (ch == '"')
                in_str = 1;
        }
        const unsigned char masks[] = {0xFF, 0x01, 0x20};
        for (size_t m = 0; m < sizeof masks; m++) {
            b[i] ^= masks[m];
            spit(bad, b, n);
            b[i] ^= masks[m];
            vn_encoder *enc = NULL;
            vn_clear_error();
            vn_status st = vn_encoder_load(&enc, ctx, bad);
            if (!string_byte) {
                ck_assert_msg(st == VN_ERR_FORMAT, "flip 0x%02x at byte %zu gave %s", masks[m], i, vn_status_str(st));
                caught++;
            } else {
                ck_assert_msg(st == VN_OK || st == VN_ERR_FORMAT || st == VN_ERR_VERSION,
                              "flip 0x%02x at string byte %zu ('%c') gave %s: %s", masks[m], i, ch, vn_status_str(st),
                              vn_last_error());
            }
            if (st == VN_OK)
                loaded++;
            else
                ck_assert(enc == NULL && vn_last_error()[0]);
            vn_encoder_destroy(enc);
        }
    }
    ck_assert_int_gt(caught, 100);
    printf("header flips: %d caught outside strings, %d gave another valid encoder\n", caught, loaded);
    free(b);
    vn_context_destroy(ctx);
}
END_TEST

START_TEST(corrupt_tensors)
{
    char dir[600], good[700], bad[700];
    fresh_dir(dir, sizeof dir, "tensors");
    fmt_into(bad, sizeof bad, "%s/bad.safetensors", dir);
    vn_context *ctx = cpu_ctx();
    save_good(ctx, dir, good, sizeof good);
    const char *qkv = "blocks.0.attn.qkv.weight";
    struct {
        mutation mu;
        const char *n1, *n2;
    } cases[] = {
        {{.tensor = qkv, .rename_to = "blocks.0.attn.qkv.weights"}, "'blocks.0.attn.qkv.weight' is missing", NULL},
        {{.tensor = "norm.bias", .drop = 1}, "'norm.bias' is missing", NULL},
        {{.tensor = qkv, .transpose = 1}, qkv, "shape [16, 48], expected [48, 16]"},
        {{.tensor = "norm.weight", .grow = 1}, "'norm.weight' has shape [17], expected [16]", NULL},
        {{.tensor = "norm.weight", .set_dtype = 1, .dtype = VN_DTYPE_I32}, "'norm.weight' is I32", "F32"},
        {{.tensor = qkv, .set_dtype = 1, .dtype = VN_DTYPE_BF16}, "'blocks.0.attn.qkv.weight' is BF16", NULL},
        {{.tensor = "pos_embed", .set_dtype = 1, .dtype = VN_DTYPE_U8}, "'pos_embed' is U8", NULL},
        {{.extra = "head.weight"}, "unexpected tensor 'head.weight'", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        rewrite(good, bad, &cases[i].mu);
        expect_load_fails(ctx, bad, VN_ERR_FORMAT, cases[i].n1, cases[i].n2);
        /* the config is intact, so reading only the config still works */
        vn_encoder_config c;
        VN_ASSERT_OK(vn_encoder_config_load(&c, bad));
    }
    /* The unchanged copy loads: the failures above are the mutations' doing. */
    mutation none = {0};
    rewrite(good, bad, &none);
    vn_encoder *enc;
    VN_ASSERT_OK(vn_encoder_load(&enc, ctx, bad));
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST

START_TEST(corrupt_config)
{
    char dir[600], good[700], bad[700], json[2 * VN_ENCODER_CONFIG_JSON_MAX];
    fresh_dir(dir, sizeof dir, "config");
    fmt_into(bad, sizeof bad, "%s/bad.safetensors", dir);
    vn_context *ctx = cpu_ctx();
    save_good(ctx, dir, good, sizeof good);
    struct {
        mutation mu;
        vn_status want;
        const char *n1, *n2;
    } cases[] = {
        {{.meta_key = "config"}, VN_ERR_FORMAT, "no \"config\"", NULL},
        {{.meta_key = "config", .meta_value = "garbage"}, VN_ERR_FORMAT, "config is not valid JSON", "byte 0"},
        {{.meta_key = "config", .meta_value = "{\"version\": 1"}, VN_ERR_FORMAT, "not valid JSON", NULL},
        {{.meta_key = "format"}, VN_ERR_FORMAT, "no \"format\"", "vnative.encoder"},
        {{.meta_key = "format", .meta_value = "pt"}, VN_ERR_FORMAT, "\"format\" is \"pt\"", NULL},
        {{.meta_key = "format", .meta_value = "vnative.trainer"}, VN_ERR_FORMAT, "vnative.trainer", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        rewrite(good, bad, &cases[i].mu);
        expect_config_fails(ctx, bad, cases[i].want, cases[i].n1, cases[i].n2);
    }
    /* Valid JSON, invalid configs. */
    struct {
        const char *field, *value;
        vn_status want;
        const char *n1;
    } fields[] = {
        {"dim", "15", VN_ERR_FORMAT, "'dim' is 15; it must be in 1..65536 and divisible by heads 2"},
        {"heads", NULL, VN_ERR_FORMAT, "'heads' is missing"},
        {"family", "\"movie\"", VN_ERR_FORMAT, "'family' is \"movie\""},
        {"version", "2", VN_ERR_VERSION, "newer"},
        {"channels", "2", VN_ERR_FORMAT, "'channels'"},
    };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        config_with(json, sizeof json, fields[i].field, fields[i].value);
        mutation mu = {.meta_key = "config", .meta_value = json};
        rewrite(good, bad, &mu);
        expect_config_fails(ctx, bad, fields[i].want, fields[i].n1, NULL);
    }
    /* A valid config that does not match the tensors: the first tensor it lacks is named. */
    config_with(json, sizeof json, "depth", "3");
    mutation deeper = {.meta_key = "config", .meta_value = json};
    rewrite(good, bad, &deeper);
    expect_load_fails(ctx, bad, VN_ERR_FORMAT, "'blocks.2.norm1.weight' is missing", NULL);
    config_with(json, sizeof json, "dim", "32");
    mutation wider = {.meta_key = "config", .meta_value = json};
    rewrite(good, bad, &wider);
    expect_load_fails(ctx, bad, VN_ERR_FORMAT, "'patch_embed.proj.weight' has shape [16, 3, 2, 4, 4]",
                      "expected [32, 3, 2, 4, 4]");
    /* A valid config far bigger than the file is refused before anything is allocated. */
    config_with(json, sizeof json, "depth", "1000");
    char json2[sizeof json];
    memcpy(json2, json, sizeof json);
    char *d = strstr(json2, "\"dim\": 16");
    ck_assert_ptr_nonnull(d);
    fmt_into(json, sizeof json, "%.*s\"dim\": 4096%s", (int)(d - json2), json2, d + strlen("\"dim\": 16"));
    mutation huge = {.meta_key = "config", .meta_value = json};
    rewrite(good, bad, &huge);
    expect_load_fails(ctx, bad, VN_ERR_FORMAT, "describes at least", NULL);
    vn_context_destroy(ctx);
}
END_TEST

START_TEST(missing_file_and_bad_paths)
{
    char dir[600], path[700], good[700];
    fresh_dir(dir, sizeof dir, "paths");
    vn_context *ctx = cpu_ctx();
    fmt_into(path, sizeof path, "%s/nothing.safetensors", dir);
    expect_load_fails(ctx, path, VN_ERR_NOT_FOUND, NULL, NULL);
    vn_encoder_config c;
    VN_ASSERT_FAILS(vn_encoder_config_load(&c, path), VN_ERR_NOT_FOUND);
    expect_load_fails(ctx, dir, VN_ERR_IO, NULL, NULL);

    /* A failed save leaves the previous file as it was and no temp file. */
    save_good(ctx, dir, good, sizeof good);
    size_t n0, n1;
    unsigned char *before = slurp(good, &n0);
    vn_encoder_config big = tiny_config(3);
    vn_encoder *enc;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &big));
    fmt_into(path, sizeof path, "%s/no/such/dir/w.safetensors", dir);
    VN_ASSERT_FAILS(vn_encoder_save(enc, path), VN_ERR_IO);
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "vn_encoder_save"));
    VN_ASSERT_FAILS(vn_encoder_save(enc, dir), VN_ERR_IO); /* a directory is not replaced */
    unsigned char *after = slurp(good, &n1);
    ck_assert(n0 == n1 && memcmp(before, after, n0) == 0);
    DIR *dd = opendir(dir);
    struct dirent *e;
    int entries = 0;
    while ((e = readdir(dd)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            entries++;
    closedir(dd);
    ck_assert_int_eq(entries, 1);
    free(before);
    free(after);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST
/* ---- atomic saves ---------------------------------------------------------------------- */

#define KILLS 6
#define TEMP_PREFIX ".model.safetensors."

/* Hidden temp files of saves to dir/model.safetensors: counted, then removed, as a caller
 * cleaning up after a crash would (the library never removes another writer's temp file,
 * which might belong to a save still running in another process). */
static int remove_temps(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "model.safetensors"))
            continue;
        ck_assert_msg(strncmp(e->d_name, TEMP_PREFIX, strlen(TEMP_PREFIX)) == 0 &&
                          strlen(e->d_name) == strlen(TEMP_PREFIX) + 6,
                      "unexpected file %s in %s", e->d_name, dir);
        char p[1200];
        fmt_into(p, sizeof p, "%s/%s", dir, e->d_name);
        ck_assert_int_eq(unlink(p), 0);
        n++;
    }
    closedir(d);
    return n;
}

/* A child saves an xs encoder (3.5 MB) over and over, a different seed each time, and is killed
 * at a random moment. The file at the path must then load and equal, bit for bit, either the
 * version there before this child started or one the child saved: never a mix, never a
 * partial file. Outputs are compared after the last fork, so that no OpenMP pool exists in
 * the parent when it forks. */
START_TEST(killed_save_leaves_loadable_file)
{
    char dir[600], path[700];
    fresh_dir(dir, sizeof dir, "killed");
    fmt_into(path, sizeof path, "%s/model.safetensors", dir);
    vn_context *ctx = cpu_ctx();
    vn_encoder_config c;
    VN_ASSERT_OK(vn_encoder_config_preset(&c, "xs", VN_ENCODER_VIDEO));
    c.seed = 1;
    vn_encoder *enc;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &c));
    VN_ASSERT_OK(vn_encoder_save(enc, path));
    vn_encoder_destroy(enc);

    unsigned rs = (unsigned)time(NULL) ^ (unsigned)getpid();
    printf("killed_save: random seed %u\n", rs);
    vn_encoder *loaded[KILLS];
    uint64_t prev = 1;
    int changed = 0, temps = 0;
    for (int k = 0; k < KILLS; k++) {
        const uint64_t base = 1000 * (uint64_t)(k + 1);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
            o.backend = VN_BACKEND_CPU;
            o.n_threads = 1;
            vn_context *cc;
            if (vn_context_create(&cc, &o) != VN_OK)
                _exit(1);
            for (uint64_t r = 0;; r++) {
                vn_encoder_config cr = c;
                vn_encoder *e;
                cr.seed = base + r;
                if (vn_encoder_create(&e, cc, &cr) != VN_OK || vn_encoder_save(e, path) != VN_OK)
                    _exit(1);
                vn_encoder_destroy(e);
            }
        }
        unsigned delay_ms = 40 + (unsigned)rand_r(&rs) % 600;
        usleep(delay_ms * 1000);
        ck_assert_int_eq(kill(pid, SIGKILL), 0);
        int ws;
        ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
        ck_assert_msg(WIFSIGNALED(ws), "the saving child exited on its own (status %d)", ws);
        int t = remove_temps(dir);
        ck_assert_int_le(t, 1);
        temps += t;

        VN_ASSERT_OK(vn_encoder_load(&loaded[k], ctx, path));
        vn_encoder_config lc;
        VN_ASSERT_OK(vn_encoder_get_config(loaded[k], &lc));
        ck_assert_msg(lc.seed == prev || (lc.seed >= base && lc.seed < base + 1000),
                      "after kill %d the file holds seed %llu; expected %llu or one of the child's", k,
                      (unsigned long long)lc.seed, (unsigned long long)prev);
        changed += lc.seed != prev;
        printf("kill %d after %u ms: file holds seed %llu, %d temp file(s) left\n", k, delay_ms,
               (unsigned long long)lc.seed, t);
        prev = lc.seed;
        vn_encoder *ref;
        VN_ASSERT_OK(vn_encoder_create(&ref, ctx, &lc));
        expect_params_equal(ref, loaded[k]);
        vn_encoder_destroy(ref);
    }
    ck_assert_msg(changed > 0, "no child completed a save in %d runs: the test did not test anything", KILLS);
    /* A save that completes leaves no temp file. */
    VN_ASSERT_OK(vn_encoder_save(loaded[0], path));
    ck_assert_int_eq(remove_temps(dir), 0);
    for (int k = 0; k < KILLS; k++) {
        vn_encoder_config lc;
        VN_ASSERT_OK(vn_encoder_get_config(loaded[k], &lc));
        vn_encoder *ref;
        VN_ASSERT_OK(vn_encoder_create(&ref, ctx, &lc));
        expect_same_outputs(ref, loaded[k]);
        vn_encoder_destroy(ref);
        vn_encoder_destroy(loaded[k]);
    }
    printf("killed_save: %d of %d kills found a new version, %d stale temp file(s) removed\n", changed, KILLS, temps);
    vn_context_destroy(ctx);
}
END_TEST

void checkpoint_add_file_cases(Suite *s)
{
    TCase *tc = tcase_create("corruption");
    tcase_add_test(tc, corrupt_bytes);
    tcase_add_test(tc, corrupt_tensors);
    tcase_add_test(tc, corrupt_config);
    tcase_add_test(tc, missing_file_and_bad_paths);
    suite_add_tcase(s, tc);
    tc = tcase_create("atomic");
    tcase_add_test(tc, killed_save_leaves_loadable_file);
    suite_add_tcase(s, tc);
}
