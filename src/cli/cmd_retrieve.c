/* `vnative retrieve`: exact top-k search of the rows of `vnative encode` (vnative/index.h),
 * for a row of the index, the rows of a query .npy, or a video encoded on the spot; and
 * the "reversed" search, each query reflected across the time hyperplane of a time vector
 * first. Rows are named through the ids CSV that `vnative encode --ids` writes. */
#include "cli/cli_flags.h"
#include "cli/commands.h"
#include "cli/encode_input.h"
#include "cli/json_writer.h"
#include "io/npy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnative/vnative.h"

#define CMD "retrieve"

typedef struct rargs {
    const char *index, *ids, *query_npy, *query_video, *model, *metric, *timevec;
    int64_t query_row, k, threads, seed;
    int reverse, json;
} rargs;

#define FS(n, f) VN_FLAG_S(rargs, n, f)
#define FI(n, f, lo, hi) VN_FLAG_I(rargs, n, f, lo, hi)

static const vn_cli_flag flags[] = {
    FS("--index", index),
    FS("--ids", ids),
    FI("--query-row", query_row, 0, INT64_MAX),
    FS("--query-npy", query_npy),
    FS("--query-video", query_video),
    FS("--model", model),
    FI("--k", k, 1, 1 << 20),
    FS("--metric", metric),
    VN_FLAG_B(rargs, "--reverse", reverse),
    FS("--timevec", timevec),
    VN_FLAG_B(rargs, "--json", json),
    FI("--threads", threads, 0, 1024),
    FI("--seed", seed, 0, INT64_MAX),
};
#define N_FLAGS (int)(sizeof flags / sizeof flags[0])

static void usage(FILE *f, const rargs *d)
{
    fprintf(f,
            "usage: vnative retrieve --index emb.npy [--ids ids.csv] QUERY [options]\n\n"
            "Exact top-k search of the rows of `vnative encode` (float32 [rows, dim] .npy) by cosine\n"
            "similarity or inner product. Prints rank, score, row and, with --ids, each row's\n"
            "source and time span; --json prints the same as JSON.\n\n"
            "QUERY is one of\n"
            "  --query-row N       row N of the index itself (it comes back first, cosine 1)\n"
            "  --query-npy F       every row of F, float32 [dim] or [q, dim]\n"
            "  --query-video F     the video F, encoded whole into one row with --model\n\n"
            "  --ids F             the CSV row,source,start_s,end_s of `vnative encode --ids`\n"
            "  --model CKPT        for --query-video: the encoder that wrote the index\n"
            "  --k K               results per query (default %lld)\n"
            "  --metric M          cosine (default) or ip, the raw inner product\n"
            "  --reverse           reflect each query q across the hyperplane orthogonal to the time\n"
            "                      vector t first: q - 2 (q.t)/(t.t) t, \"the same clip played\n"
            "                      backwards\"; needs --timevec\n"
            "  --timevec F         t, float32 [dim] (`vnative timevec --save-t F`)\n"
            "  --json              JSON on stdout instead of the table\n"
            "  --threads N         compute threads (default: every core)\n"
            "  --seed N            with --model xs|s: the seed of its fresh weights (default 0)\n",
            (long long)d->k);
}

typedef struct id_row {
    char *source;
    double start_s, end_s;
} id_row;

static void free_ids(id_row *ids, int64_t n)
{
    for (int64_t i = 0; ids && i < n; i++)
        free(ids[i].source);
    free(ids);
}

/* The ids CSV of `vnative encode`: a header row,source,start_s,end_s, then rows 0..n-1
 * (any order, each once). Returns 0, or 1 after printing what is wrong. */
static int read_ids(const char *path, int64_t n, id_row **out)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "vnative %s: --ids %s: %s\n", CMD, path, strerror(errno));
        return 1;
    }
    id_row *ids = calloc((size_t)(n > 0 ? n : 1), sizeof *ids);
    char *line = NULL, *f[8], msg[160];
    size_t cap = 0;
    ssize_t len;
    long long lineno = 0;
    int64_t seen = 0;
    int rc = ids ? 0 : 1, header = 0;
    const char *why = ids ? NULL : "out of memory";
    while (!rc && (len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (!line[0])
            continue;
        int nf = vn_cli_csv_split(line, f, 8, &why);
        if (nf < 0) {
            rc = 1;
            break;
        }
        if (!header) {
            if (nf != 4 || strcmp(f[0], "row") || strcmp(f[1], "source") || strcmp(f[2], "start_s") ||
                strcmp(f[3], "end_s")) {
                why = "the first line is not the header row,source,start_s,end_s";
                rc = 1;
            }
            header = 1;
            continue;
        }
        char *end;
        errno = 0;
        long long r = strtoll(f[0], &end, 10);
        double s0, s1;
        if (nf != 4) {
            why = "expected 4 fields: row,source,start_s,end_s";
            rc = 1;
        } else if (!f[0][0] || *end || errno || r < 0) {
            why = "the row is not a non-negative integer";
            rc = 1;
        } else if (r >= n) {
            snprintf(msg, sizeof msg, "row %lld is past the index's %lld rows; are the files of one encode run?", r,
                     (long long)n);
            why = msg;
            rc = 1;
        } else if (ids[r].source) {
            why = "the row appears twice";
            rc = 1;
        } else if (sscanf(f[2], "%lf", &s0) != 1 || sscanf(f[3], "%lf", &s1) != 1) {
            why = "start_s and end_s must be numbers";
            rc = 1;
        } else if (!(ids[r].source = strdup(f[1]))) {
            why = "out of memory";
            rc = 1;
        } else {
            ids[r].start_s = s0;
            ids[r].end_s = s1;
            seen++;
        }
    }
    if (rc)
        fprintf(stderr, "vnative %s: --ids %s, line %lld: %s\n", CMD, path, lineno, why);
    else if (ferror(fp)) {
        fprintf(stderr, "vnative %s: --ids %s: %s\n", CMD, path, strerror(errno));
        rc = 1;
    } else if (seen != n) {
        fprintf(stderr, "vnative %s: --ids %s names %lld rows but the index has %lld; are they of one encode run?\n",
                CMD, path, (long long)seen, (long long)n);
        rc = 1;
    }
    free(line);
    fclose(fp);
    if (rc) {
        free_ids(ids, n);
        return 1;
    }
    *out = ids;
    return 0;
}

/* A float32 .npy of [dim] or [q, dim] as q rows. Returns 0, or 1 after printing. */
static int read_rows(const char *flag, const char *path, int64_t dim, vn_npy_array *arr, int64_t *q)
{
    char err[512];
    if (vn_npy_read(path, arr, err, sizeof err) != 0) {
        fprintf(stderr, "vnative %s: %s %s: %s\n", CMD, flag, path, err);
        return 1;
    }
    int ok = arr->dtype == VN_NPY_F32 && ((arr->ndim == 1 && arr->shape[0] == dim) ||
                                          (arr->ndim == 2 && arr->shape[1] == dim && arr->shape[0] >= 1));
    if (!ok) {
        fprintf(stderr, "vnative %s: %s %s must be float32 [%lld] or [q, %lld], the index's dim\n", CMD, flag, path,
                (long long)dim, (long long)dim);
        vn_npy_free(arr);
        return 1;
    }
    *q = arr->ndim == 1 ? 1 : arr->shape[0];
    return 0;
}

typedef struct query {
    const char *kind; /* "row", "npy", "video" */
    int64_t row;      /* the row, or the .npy's row */
    double alpha;     /* of the reflection; 0 without --reverse */
} query;

static void print_query_title(const rargs *a, const query *qs, int64_t i, int64_t q, const id_row *ids)
{
    if (!strcmp(qs[i].kind, "row")) {
        printf("query: row %lld", (long long)qs[i].row);
        if (ids)
            printf(" (%s, %.3f-%.3f s)", ids[qs[i].row].source, ids[qs[i].row].start_s, ids[qs[i].row].end_s);
    } else if (!strcmp(qs[i].kind, "npy")) {
        printf("query: %s", a->query_npy);
        if (q > 1)
            printf(" row %lld", (long long)qs[i].row);
    } else {
        printf("query: %s", a->query_video);
    }
    if (a->reverse)
        printf(", reflected along %s (alpha %.4g)", a->timevec, qs[i].alpha);
    printf("\n");
}

static void print_table(const rargs *a, const query *qs, int64_t q, int64_t k, const int64_t *res, const float *sc,
                        const id_row *ids)
{
    for (int64_t i = 0; i < q; i++) {
        if (i)
            printf("\n");
        print_query_title(a, qs, i, q, ids);
        printf("%4s %10s %8s", "rank", a->metric, "row");
        if (ids)
            printf("  %10s %10s  %s", "start_s", "end_s", "source");
        printf("\n");
        for (int64_t j = 0; j < k && res[i * k + j] >= 0; j++) {
            int64_t r = res[i * k + j];
            printf("%4lld %10.6f %8lld", (long long)(j + 1), (double)sc[i * k + j], (long long)r);
            if (ids)
                printf("  %10.3f %10.3f  %s", ids[r].start_s, ids[r].end_s, ids[r].source);
            printf("\n");
        }
    }
}

static void print_json(const rargs *a, const query *qs, int64_t q, int64_t k, int64_t n, int64_t dim,
                       const int64_t *res, const float *sc, const id_row *ids)
{
    jw j;
    jw_init(&j, stdout);
    jw_object_begin(&j, NULL);
    jw_string(&j, "index", a->index);
    if (a->ids)
        jw_string(&j, "ids", a->ids);
    jw_string(&j, "metric", a->metric);
    jw_int(&j, "size", n);
    jw_int(&j, "dim", dim);
    jw_int(&j, "k", k);
    jw_bool(&j, "reverse", a->reverse);
    if (a->reverse)
        jw_string(&j, "timevec", a->timevec);
    jw_array_begin(&j, "queries");
    for (int64_t i = 0; i < q; i++) {
        jw_object_begin(&j, NULL);
        jw_object_begin(&j, "query");
        jw_string(&j, "kind", qs[i].kind);
        if (!strcmp(qs[i].kind, "row") || !strcmp(qs[i].kind, "npy"))
            jw_int(&j, "row", qs[i].row);
        if (!strcmp(qs[i].kind, "npy"))
            jw_string(&j, "path", a->query_npy);
        if (!strcmp(qs[i].kind, "video"))
            jw_string(&j, "path", a->query_video);
        if (a->reverse)
            jw_double(&j, "alpha", qs[i].alpha);
        jw_object_end(&j);
        jw_array_begin(&j, "results");
        for (int64_t t = 0; t < k && res[i * k + t] >= 0; t++) {
            int64_t r = res[i * k + t];
            jw_object_begin(&j, NULL);
            jw_int(&j, "rank", t + 1);
            jw_int(&j, "row", r);
            jw_double(&j, "score", (double)sc[i * k + t]);
            if (ids) {
                jw_string(&j, "source", ids[r].source);
                jw_double(&j, "start_s", ids[r].start_s);
                jw_double(&j, "end_s", ids[r].end_s);
            }
            jw_object_end(&j);
        }
        jw_array_end(&j);
        jw_object_end(&j);
    }
    jw_array_end(&j);
    jw_object_end(&j);
    jw_finish(&j);
}

/* The queries, q rows of dim floats into *out. */
static int gather_queries(const rargs *a, const vn_encoder *enc, const vn_encoder_config *cfg, const vn_index *idx,
                          int64_t n, int64_t dim, float **out, query **qs, int64_t *q)
{
    if (a->query_row >= 0) {
        if (a->query_row >= n) {
            fprintf(stderr, "vnative %s: --query-row %lld is outside the index's %lld rows\n", CMD,
                    (long long)a->query_row, (long long)n);
            return 1;
        }
        *q = 1;
        *out = malloc((size_t)dim * sizeof **out);
        *qs = calloc(1, sizeof **qs);
        if (!*out || !*qs)
            return vn_cli_fail(CMD, "out of memory");
        (*qs)[0] = (query){"row", a->query_row, 0.0};
        if (vn_index_get(idx, a->query_row, *out, NULL) != VN_OK)
            return vn_cli_fail(CMD, vn_last_error());
        return 0;
    }
    if (a->query_npy) {
        vn_npy_array arr;
        if (read_rows("--query-npy", a->query_npy, dim, &arr, q) != 0)
            return 1;
        *out = arr.data; /* malloc'd by the reader: ours now */
        *qs = calloc((size_t)*q, sizeof **qs);
        if (!*qs)
            return vn_cli_fail(CMD, "out of memory");
        for (int64_t i = 0; i < *q; i++)
            (*qs)[i] = (query){"npy", i, 0.0};
        return 0;
    }
    /* --query-video: the encoder run opened */
    *q = 1;
    *out = malloc((size_t)dim * sizeof **out);
    *qs = calloc(1, sizeof **qs);
    if (!*out || !*qs)
        return vn_cli_fail(CMD, "out of memory");
    (*qs)[0] = (query){"video", -1, 0.0};
    return vn_cli_encode_whole_video(CMD, enc, cfg, a->query_video, *out);
}

static int run(const rargs *a, vn_index_metric metric)
{
    vn_context *ctx = NULL;
    vn_encoder *enc = NULL;
    vn_encoder_config cfg;
    memset(&cfg, 0, sizeof cfg);
    vn_index *idx = NULL;
    id_row *ids = NULL;
    float *queries = NULL, *t = NULL, *scores = NULL;
    int64_t *res = NULL, n = 0, dim = 0, q = 0;
    query *qs = NULL;
    vn_npy_array tarr = {0};
    int rc = 1;
    /* With --query-video the encoder's context runs the index too. */
    if (a->query_video) {
        if (vn_cli_open_model(CMD, "--model", a->model, (uint64_t)a->seed, (int)a->threads, &ctx, &enc, &cfg) != 0)
            goto done;
    } else {
        vn_context_options co = VN_CONTEXT_OPTIONS_INIT;
        co.n_threads = (int)a->threads;
        co.deterministic = 1;
        if (vn_context_create(&ctx, &co) != VN_OK) {
            rc = vn_cli_fail(CMD, vn_last_error());
            goto done;
        }
    }
    if (vn_index_load(&idx, ctx, a->index, NULL, metric) != VN_OK || vn_index_size(idx, &n) != VN_OK ||
        vn_index_dim(idx, &dim) != VN_OK) {
        rc = vn_cli_fail(CMD, vn_last_error());
        goto done;
    }
    if (enc && cfg.dim != dim) {
        fprintf(stderr, "vnative %s: --model %s embeds in %d dimensions but the index has %lld; was it written by "
                        "another model?\n",
                CMD, a->model, cfg.dim, (long long)dim);
        goto done;
    }
    if (n < 1) {
        fprintf(stderr, "vnative %s: --index %s has no rows\n", CMD, a->index);
        goto done;
    }
    if (a->ids && read_ids(a->ids, n, &ids) != 0)
        goto done;
    if (a->reverse) {
        int64_t tq = 0;
        if (read_rows("--timevec", a->timevec, dim, &tarr, &tq) != 0)
            goto done;
        if (tq != 1) {
            fprintf(stderr, "vnative %s: --timevec %s holds %lld vectors; expected one, float32 [%lld]\n", CMD,
                    a->timevec, (long long)tq, (long long)dim);
            goto done;
        }
        t = tarr.data;
    }
    if (gather_queries(a, enc, &cfg, idx, n, dim, &queries, &qs, &q) != 0)
        goto done;
    const int64_t k = a->k;
    res = malloc((size_t)(q * k) * sizeof *res);
    scores = malloc((size_t)(q * k) * sizeof *scores);
    if (!res || !scores) {
        rc = vn_cli_fail(CMD, "out of memory for the results");
        goto done;
    }
    vn_status st = VN_OK;
    if (!a->reverse) {
        int64_t qshape[2] = {q, dim};
        vn_tensor tq;
        vn_tensor_init(&tq, queries, VN_DTYPE_F32, 2, qshape);
        st = vn_index_search(idx, &tq, k, res, scores);
    } else {
        /* One alpha per query: each is reflected across the hyperplane t.x = 0. */
        double tt = 0.0;
        for (int64_t d = 0; d < dim; d++)
            tt += (double)t[d] * t[d];
        if (!(tt > 0.0)) {
            fprintf(stderr, "vnative %s: --timevec %s is the zero vector; there is no hyperplane to reflect across\n",
                    CMD, a->timevec);
            goto done;
        }
        for (int64_t i = 0; i < q && st == VN_OK; i++) {
            double qt = 0.0;
            for (int64_t d = 0; d < dim; d++)
                qt += (double)queries[i * dim + d] * t[d];
            qs[i].alpha = 2.0 * qt / tt;
            int64_t qshape[2] = {1, dim};
            vn_tensor tq;
            vn_tensor_init(&tq, queries + i * dim, VN_DTYPE_F32, 2, qshape);
            st = vn_index_search_shifted(idx, &tq, t, (float)qs[i].alpha, k, res + i * k, scores + i * k);
        }
    }
    if (st != VN_OK) {
        rc = vn_cli_fail(CMD, vn_last_error());
        goto done;
    }
    if (a->json)
        print_json(a, qs, q, k, n, dim, res, scores, ids);
    else
        print_table(a, qs, q, k, res, scores, ids);
    rc = 0;
done:
    free(res);
    free(scores);
    free(queries);
    free(qs);
    vn_npy_free(&tarr);
    free_ids(ids, n);
    vn_index_destroy(idx);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
    return rc;
}

int vn_cmd_retrieve(int argc, char **argv)
{
    rargs a = {0};
    a.k = 10;
    a.metric = "cosine";
    a.query_row = -1;
    int pr = vn_cli_parse_flags(CMD, flags, N_FLAGS, &a, argc, argv, NULL);
    if (pr == 1) {
        usage(stdout, &a);
        return 0;
    }
    if (pr != 0)
        return pr;
    if (!a.index) {
        fprintf(stderr, "vnative %s: --index is required (an emb.npy of vnative encode)\n", CMD);
        return 2;
    }
    int n_queries = (a.query_row >= 0) + (a.query_npy != NULL) + (a.query_video != NULL);
    if (n_queries != 1) {
        fprintf(stderr, "vnative %s: give exactly one of --query-row, --query-npy and --query-video\n", CMD);
        return 2;
    }
    if (a.query_video && !a.model) {
        fprintf(stderr, "vnative %s: --query-video needs --model, the encoder that wrote the index\n", CMD);
        return 2;
    }
    if (a.model && !a.query_video) {
        fprintf(stderr, "vnative %s: --model is only used by --query-video\n", CMD);
        return 2;
    }
    if (a.reverse != (a.timevec != NULL)) {
        fprintf(stderr, "vnative %s: --reverse and --timevec go together (--timevec F is the time vector)\n", CMD);
        return 2;
    }
    vn_index_metric metric;
    if (!strcmp(a.metric, "cosine"))
        metric = VN_INDEX_COSINE;
    else if (!strcmp(a.metric, "ip"))
        metric = VN_INDEX_INNER_PRODUCT;
    else {
        fprintf(stderr, "vnative %s: --metric is '%s'; expected cosine or ip\n", CMD, a.metric);
        return 2;
    }
    return run(&a, metric);
}
