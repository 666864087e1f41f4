/*
 * The bad-input matrix: every public function called with NULL pointers, out-of-range
 * integers and enums, wrong struct versions and fields, mismatched tensors, missing files
 * and finished handles (the rows of bad_input_*.c). Each row runs in its own process
 * (Check's fork mode), so a crash fails that row by its name instead of the suite. A
 * failing call must return the row's status with a message that names the argument (or
 * the row's needle: a field, a file).
 *
 * The public headers are parsed at run time for every function and its parameters, and
 * each parameter must have the rows its type calls for (see bi_kind), so a function or a
 * parameter added to a header without rows fails the suite.
 */
#include "bad_input.h"

#include <ctype.h>
#include <dirent.h>
#include <string.h>

/* ---- the public headers: functions, parameters, enum and versioned struct names -------- */

#define MAX_FUNCS 256
#define MAX_PARAMS 12
#define MAX_TYPES 96

typedef struct param {
    char name[48];
    char type[96]; /* the declaration without the name, spaces normalised */
} param;

typedef struct func {
    char name[64];
    param params[MAX_PARAMS];
    int n_params;
    int returns_status;
} func;

typedef struct api {
    func funcs[MAX_FUNCS];
    int n_funcs;
    char enums[MAX_TYPES][48];    /* typedef enum NAME */
    int n_enums;
    char versioned[MAX_TYPES][48]; /* typedef struct NAME { unsigned int version; ... */
    int n_versioned;
} api;

static void strip_comments(char *s)
{
    for (char *p = s; *p; p++) {
        if (p[0] == '/' && p[1] == '*') {
            char *end = strstr(p + 2, "*/");
            end = end ? end + 2 : p + strlen(p);
            memset(p, ' ', (size_t)(end - p));
            p = end - 1;
        } else if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n')
                *p++ = ' ';
            if (!*p)
                break;
        }
    }
}

/* Copy [a, b) into out with runs of white space as one space, trimmed. */
static void squeeze(const char *a, const char *b, char *out, size_t cap)
{
    size_t n = 0;
    int space = 0;
    for (; a < b && n + 1 < cap; a++) {
        if (isspace((unsigned char)*a)) {
            space = n > 0;
            continue;
        }
        if (space && n + 2 < cap)
            out[n++] = ' ';
        space = 0;
        out[n++] = *a;
    }
    out[n] = '\0';
}

static int is_ident(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

static void parse_param(const char *a, const char *b, param *out)
{
    char decl[160];
    squeeze(a, b, decl, sizeof decl);
    char *fp = strstr(decl, "(*");
    if (fp) { /* a function pointer: the name sits in (*name) */
        char *end = fp + 2;
        while (*end == ' ')
            end++;
        size_t len = 0;
        while (is_ident(end[len]))
            len++;
        fmt_into(out->name, sizeof out->name, "%.*s", (int)len, end);
        fmt_into(out->type, sizeof out->type, "function pointer");
        return;
    }
    size_t len = strlen(decl);
    while (len > 0 && decl[len - 1] == ']') /* an array: int64_t shape[4] */
        while (len > 0 && decl[--len] != '[')
            ;
    size_t end = len;
    while (len > 0 && is_ident(decl[len - 1]))
        len--;
    fmt_into(out->name, sizeof out->name, "%.*s", (int)(end - len), decl + len);
    squeeze(decl, decl + len, out->type, sizeof out->type);
}

static void scan_header(char *text, api *out)
{
    strip_comments(text);
    for (const char *p = text; (p = strstr(p, "typedef enum ")) != NULL; p += 13) {
        const char *close = strchr(p, '}');
        const char *name = close ? close + 1 : NULL;
        while (name && isspace((unsigned char)*name))
            name++;
        size_t len = 0;
        while (name && is_ident(name[len]))
            len++;
        if (len && out->n_enums < MAX_TYPES)
            fmt_into(out->enums[out->n_enums++], sizeof out->enums[0], "%.*s", (int)len, name);
    }
    for (const char *p = text; (p = strstr(p, "typedef struct ")) != NULL; p += 15) {
        const char *open = strchr(p, '{'), *semi = strchr(p, ';');
        if (!open || (semi && semi < open))
            continue;
        char first[64];
        squeeze(open + 1, strchr(open, ';') ? strchr(open, ';') : open + 1, first, sizeof first);
        const char *name = p + 15;
        size_t len = 0;
        while (is_ident(name[len]))
            len++;
        if (!strcmp(first, "unsigned int version") && out->n_versioned < MAX_TYPES)
            fmt_into(out->versioned[out->n_versioned++], sizeof out->versioned[0], "%.*s", (int)len, name);
    }
    for (const char *p = text; (p = strstr(p, "VN_API")) != NULL;) {
        p += 6;
        if (is_ident(*p))
            continue;
        const char *paren = strchr(p, '('), *semi = strchr(p, ';');
        if (!paren || (semi && semi < paren) || out->n_funcs >= MAX_FUNCS)
            continue;
        const char *end = paren;
        while (end > p && isspace((unsigned char)end[-1]))
            end--;
        const char *start = end;
        while (start > p && is_ident(start[-1]))
            start--;
        if (end - start < 4 || strncmp(start, "vn_", 3) != 0) /* the macro's own definition */
            continue;
        func *f = &out->funcs[out->n_funcs];
        memset(f, 0, sizeof *f);
        fmt_into(f->name, sizeof f->name, "%.*s", (int)(end - start), start);
        char ret[64];
        squeeze(p, start, ret, sizeof ret);
        f->returns_status = !strcmp(ret, "vn_status");
        int depth = 0;
        const char *arg = paren + 1, *q = paren + 1;
        for (; *q; q++) {
            if (*q == '(')
                depth++;
            else if (*q == ')' && depth-- == 0)
                break;
            if ((*q == ',' && depth == 0) || (*q == ')' && depth < 0)) {
                if (f->n_params < MAX_PARAMS)
                    parse_param(arg, q, &f->params[f->n_params++]);
                arg = q + 1;
            }
        }
        if (f->n_params < MAX_PARAMS)
            parse_param(arg, q, &f->params[f->n_params++]);
        if (f->n_params == 1 && !strcmp(f->params[0].type, "") && !strcmp(f->params[0].name, "void"))
            f->n_params = 0;
        out->n_funcs++;
        p = q;
    }
}

static void read_api(api *out)
{
    const char *src = getenv("VN_TEST_SRCDIR");
    ck_assert_msg(src != NULL, "VN_TEST_SRCDIR is not set (run through meson test)");
    char dir[1024];
    fmt_into(dir, sizeof dir, "%s/include/vnative", src);
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    memset(out, 0, sizeof *out);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 3 || strcmp(de->d_name + len - 2, ".h") != 0)
            continue;
        char path[1400];
        fmt_into(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "cannot read %s", path);
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *text = malloc((size_t)size + 1);
        ck_assert_ptr_nonnull(text);
        ck_assert_uint_eq(fread(text, 1, (size_t)size, f), (size_t)size);
        text[size] = '\0';
        fclose(f);
        scan_header(text, out);
        free(text);
    }
    closedir(d);
}

/* ---- which rows a parameter calls for ------------------------------------------------ */

static int listed(const char (*names)[48], int n, const char *type)
{
    char base[96];
    fmt_into(base, sizeof base, "%s", type);
    char *star = strchr(base, '*');
    if (star)
        *star = '\0';
    char *b = base;
    if (!strncmp(b, "const ", 6))
        b += 6;
    size_t len = strlen(b);
    while (len > 0 && b[len - 1] == ' ')
        b[--len] = '\0';
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], b))
            return 1;
    return 0;
}

static int one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(s, *set))
            return 1;
    return 0;
}

/* The kinds of row each parameter must have; n kinds into kinds. */
static int kinds_for(const api *a, const func *f, const param *p, bi_kind *kinds)
{
    static const char *const integers[] = {"int", "int64_t", "size_t", "unsigned", "unsigned int", NULL};
    static const char *const reals[] = {"double", "float", NULL};
    int n = 0;
    int pointer = strchr(p->type, '*') != NULL;
    if (pointer)
        kinds[n++] = BI_NULL;
    if (!pointer && listed(a->enums, a->n_enums, p->type))
        kinds[n++] = BI_ENUM;
    /* vn_x_options_init(opts, version) fills opts: its version argument is what is checked */
    int version_arg = 0;
    for (int i = 0; i < f->n_params; i++)
        version_arg |= !strcmp(f->params[i].name, "version") && !strcmp(f->params[i].type, "unsigned int");
    int is_version_arg = !strcmp(p->name, "version") && !strcmp(p->type, "unsigned int");
    if (!pointer && (one_of(p->type, integers) || one_of(p->type, reals)) && !is_version_arg)
        kinds[n++] = BI_RANGE;
    if ((pointer && !version_arg && listed(a->versioned, a->n_versioned, p->type)) || is_version_arg)
        kinds[n++] = BI_VERSION;
    if (pointer && strstr(p->type, "vn_tensor"))
        kinds[n++] = BI_SHAPE;
    if (!strcmp(p->type, "const char *") || !strcmp(p->type, "const char *const *")) {
        if (strstr(p->name, "path") || !strcmp(p->name, "dir"))
            kinds[n++] = BI_PATH;
        else
            kinds[n++] = BI_STRING;
    }
    return n;
}

/* Parameters whose kind has no bad value, each with the reason. */
static const struct {
    const char *fn, *arg;
    bi_kind kind;
} exempt[] = {
    /* t is written, not read: any garbage in it is overwritten */
    {"vn_tensor_init", "t", BI_SHAPE},
};

static int is_exempt(const char *fn, const char *arg, bi_kind kind)
{
    for (size_t i = 0; i < sizeof exempt / sizeof exempt[0]; i++)
        if (!strcmp(exempt[i].fn, fn) && !strcmp(exempt[i].arg, arg) && exempt[i].kind == kind)
            return 1;
    return 0;
}

static const char *const kind_names[] = {"NULL",  "RANGE",  "ENUM", "VERSION", "FIELD",
                                         "SHAPE", "STRING", "PATH", "STATE"};

/* ---- the rows -------------------------------------------------------------------------- */

static const bi_row *const all_tables[] = {bi_rows_core,  bi_rows_video, bi_rows_loader, bi_rows_model,
                                           bi_rows_train, bi_rows_probe, bi_rows_index};

#define MAX_ROWS 2048
static const bi_row *rows[MAX_ROWS];
static int n_rows;

static void collect_rows(void)
{
    n_rows = 0;
    for (size_t t = 0; t < sizeof all_tables / sizeof all_tables[0]; t++)
        for (const bi_row *r = all_tables[t]; r->fn && n_rows < MAX_ROWS; r++)
            rows[n_rows++] = r;
}

/* The parameter a row is about: its arg up to a '.' (a field of it). */
static void row_param(const bi_row *r, char *out, size_t cap)
{
    fmt_into(out, cap, "%s", r->arg);
    char *dot = strchr(out, '.');
    if (dot)
        *dot = '\0';
}

static int has_row(const char *fn, const char *arg, bi_kind kind)
{
    char p[64];
    for (int i = 0; i < n_rows; i++) {
        row_param(rows[i], p, sizeof p);
        if (rows[i]->kind == kind && !strcmp(rows[i]->fn, fn) && !strcmp(p, arg))
            return 1;
    }
    return 0;
}

static const func *find_func(const api *a, const char *name)
{
    for (int i = 0; i < a->n_funcs; i++)
        if (!strcmp(a->funcs[i].name, name))
            return &a->funcs[i];
    return NULL;
}

static void append(char *buf, size_t cap, const char *fmt, const char *a, const char *b, const char *c)
{
    size_t len = strlen(buf);
    if (len + 1 < cap)
        fmt_into(buf + len, cap - len, fmt, a, b, c);
}

START_TEST(every_parameter_has_its_rows)
{
    static api a;
    read_api(&a);
    ck_assert_msg(a.n_funcs >= 100, "found only %d public functions in the headers", a.n_funcs);
    ck_assert_msg(a.n_enums >= 10 && a.n_versioned >= 10, "found %d enums and %d versioned structs", a.n_enums,
                  a.n_versioned);
    static char missing[65536];
    missing[0] = '\0';
    for (int i = 0; i < a.n_funcs; i++) {
        const func *f = &a.funcs[i];
        int rows_of_f = 0;
        for (int r = 0; r < n_rows; r++)
            rows_of_f += !strcmp(rows[r]->fn, f->name);
        if (rows_of_f == 0)
            append(missing, sizeof missing, "\n  %s: no rows%s%s", f->name, "", "");
        for (int j = 0; j < f->n_params; j++) {
            bi_kind kinds[8];
            int n = kinds_for(&a, f, &f->params[j], kinds);
            for (int k = 0; k < n; k++)
                if (!has_row(f->name, f->params[j].name, kinds[k]) && !is_exempt(f->name, f->params[j].name, kinds[k]))
                    append(missing, sizeof missing, "\n  %s(%s): no %s row", f->name, f->params[j].name,
                           kind_names[kinds[k]]);
        }
    }
    /* and every row is about a real function and one of its parameters */
    for (int r = 0; r < n_rows; r++) {
        const func *f = find_func(&a, rows[r]->fn);
        char p[64];
        row_param(rows[r], p, sizeof p);
        int known = 0;
        for (int j = 0; f && j < f->n_params; j++)
            known |= !strcmp(f->params[j].name, p);
        if (!f || (!known && f->n_params > 0))
            append(missing, sizeof missing, "\n  row %s:%s is about '%s', not a parameter of a public function",
                   rows[r]->fn, rows[r]->id, rows[r]->arg);
    }
    /* Check carries at most 4 KB of message: the whole list goes to stdout */
    if (missing[0]) {
        printf("the bad-input matrix is missing rows:%s\n", missing);
        fflush(stdout);
    }
    ck_assert_msg(missing[0] == '\0', "the bad-input matrix is missing rows (the list is on stdout):%.1500s",
                  missing);
}
END_TEST

START_TEST(make_files)
{
    bi_make_files();
}
END_TEST

/* One row, in its own process: the call's status, and a message naming the problem. */
static void run_row(int i)
{
    const bi_row *r = rows[i];
    vn_clear_error();
    vn_status got = r->call();
    char message[1024];
    fmt_into(message, sizeof message, "%s", vn_last_error());
    if (r->expect == BI_SAFE) {
        bi_cleanup();
        return;
    }
    const char *needle = r->needle;
    if (!needle) {
        const char *dot = strchr(r->arg, '.');
        needle = dot ? dot + 1 : r->arg;
    }
    ck_assert_msg(got == (vn_status)r->expect, "%s:%s returned %s, expected %s (message: %s)", r->fn, r->id,
                  vn_status_str(got), vn_status_str((vn_status)r->expect), message);
    if (r->expect != VN_OK) {
        ck_assert_msg(message[0] != '\0', "%s:%s failed without a message", r->fn, r->id);
        ck_assert_msg(strstr(message, needle) != NULL, "%s:%s: the message does not name '%s': %s", r->fn, r->id,
                      needle, message);
    }
    bi_cleanup();
}

int main(void)
{
    collect_rows();
    /* skipped files are logged as warnings; the rows check statuses, not the log */
    vn_set_log_level(VN_LOG_ERROR);
    vn_test_tmpdir(); /* named by this pid, before Check forks a process per row */
    Suite *s = suite_create("bad_input");
    TCase *setup = tcase_create("setup");
    tcase_add_test(setup, make_files);
    tcase_add_test(setup, every_parameter_has_its_rows);
    suite_add_tcase(s, setup);
    TCase *matrix = tcase_create("matrix");
    /* a row that hangs fails by name long before meson's limit for the whole suite; the
     * slowest rows take well under a second, ten times that under ASan */
    tcase_set_timeout(matrix, 20);
    static TTest tests[MAX_ROWS];
    static char names[MAX_ROWS][128];
    for (int i = 0; i < n_rows; i++) {
        fmt_into(names[i], sizeof names[i], "%s:%s", rows[i]->fn, rows[i]->id);
        tests[i] = (TTest){names[i], run_row, __FILE__, __LINE__};
        _tcase_add_test(matrix, &tests[i], 0, 0, i, i + 1);
    }
    suite_add_tcase(s, matrix);
    int per_kind[BI_STATE + 1] = {0}, n_funcs = 0;
    for (int i = 0; i < n_rows; i++) {
        per_kind[rows[i]->kind]++;
        int first = 1;
        for (int j = 0; j < i && first; j++)
            first = strcmp(rows[j]->fn, rows[i]->fn) != 0;
        n_funcs += first;
    }
    printf("bad_input: %d rows over %d functions:", n_rows, n_funcs);
    for (int k = 0; k <= BI_STATE; k++)
        printf(" %s %d", kind_names[k], per_kind[k]);
    printf("\n");
    return vn_test_run(s);
}
