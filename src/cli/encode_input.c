/* The encoder of a checkpoint, the videos an input names, and clips over spans of seconds:
 * what `vnative encode` and `vnative retrieve --query-video` share. The CLI only calls the
 * public API, so the loader's manifest reader is out of reach; this one follows the same
 * rules (docs/LOADER.md) so that a manifest means the same clips to both. */
#include "cli/encode_input.h"
#include "cli/video_files.h"

#include "cli/cli_flags.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MAX_FIELDS 64

/* Times in a manifest are decimal and frame times come from integer pts * time base: a
 * microsecond of slack keeps "2.0" from missing a frame whose pts works out to 1.9999999. */
#define EPS_S 1e-6

int vn_cli_open_model(const char *cmd, const char *model_flag, const char *model, uint64_t seed, int n_threads,
                      vn_context **ctx, vn_encoder **enc, vn_encoder_config *cfg)
{
    char path[4096];
    int preset = vn_cli_model_is_preset(model);
    struct stat sb;
    if (!preset) {
        if (stat(model, &sb) != 0) {
            fprintf(stderr, "vnative %s: %s %s: %s\n", cmd, model_flag, model, strerror(errno));
            return 1;
        }
        if (S_ISDIR(sb.st_mode)) {
            if ((size_t)snprintf(path, sizeof path, "%s/model.safetensors", model) >= sizeof path) {
                fprintf(stderr, "vnative %s: %s %s: the path is too long\n", cmd, model_flag, model);
                return 1;
            }
            if (stat(path, &sb) != 0) {
                fprintf(stderr, "vnative %s: %s %s is a directory without model.safetensors (a checkpoint of "
                                "vnative train holds one)\n",
                        cmd, model_flag, model);
                return 1;
            }
            model = path;
        }
    }
    vn_context_options co = VN_CONTEXT_OPTIONS_INIT;
    co.n_threads = n_threads;
    co.deterministic = 1;
    if (vn_context_create(ctx, &co) != VN_OK) {
        fprintf(stderr, "vnative %s: %s\n", cmd, vn_last_error());
        return 1;
    }
    if (preset) {
        if (vn_cli_model_config(cmd, model, NULL, NULL, NULL, seed, cfg) != 0)
            return 1;
        if (vn_encoder_create(enc, *ctx, cfg) != VN_OK) {
            fprintf(stderr, "vnative %s: %s\n", cmd, vn_last_error());
            return 1;
        }
        return 0;
    }
    if (vn_encoder_load(enc, *ctx, model) != VN_OK || vn_encoder_get_config(*enc, cfg) != VN_OK) {
        fprintf(stderr, "vnative %s: %s %s: %s\n", cmd, model_flag, model, vn_last_error());
        return 1;
    }
    return 0;
}

/* ---- sources -------------------------------------------------------------------------- */

typedef struct list {
    vn_cli_source *v;
    int64_t n, cap;
} list;

/* Takes ownership of path. */
static int push(list *l, char *path, double start_s, double end_s)
{
    if (!path)
        return -1;
    if (l->n == l->cap) {
        int64_t cap = l->cap ? 2 * l->cap : 32;
        vn_cli_source *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) {
            free(path);
            return -1;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (vn_cli_source){path, start_s, end_s};
    return 0;
}

void vn_cli_free_sources(vn_cli_source *s, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        free(s[i].path);
    free(s);
}

static int list_dir(const char *cmd, const char *dir, list *l)
{
    char **paths;
    int64_t n;
    if (vn_cli_list_video_dir(cmd, "--input", dir, &paths, &n) != 0)
        return 1;
    int rc = 0;
    for (int64_t i = 0; i < n; i++)
        if (!rc && push(l, paths[i], -1.0, -1.0) != 0) /* push owns the path, also when it fails */
            rc = 1;
        else if (rc)
            free(paths[i]);
    free(paths);
    if (rc) {
        fprintf(stderr, "vnative %s: out of memory listing %s\n", cmd, dir);
        return 1;
    }
    if (l->n == 0) {
        fprintf(stderr, "vnative %s: --input %s has no video files (by extension: .mp4, .avi, .mkv, .webm, .mov, "
                        ".ogv, ...)\n",
                cmd, dir);
        return 1;
    }
    return 0;
}
int vn_cli_csv_split(char *line, char **f, int cap, const char **why)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == cap) {
            *why = "too many fields";
            return -1;
        }
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '"') {
            char *start = ++p, *w = p;
            for (;;) {
                if (!*p) {
                    *why = "a quoted field is not closed";
                    return -1;
                }
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *w++ = *p++;
                }
            }
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p != ',' && *p) {
                *why = "text after a closing quote";
                return -1;
            }
            int last = !*p;
            *w = '\0';
            f[n++] = start;
            if (last)
                return n;
            p++;
        } else {
            char *comma = strchr(p, ',');
            if (comma)
                *comma = '\0';
            if (strchr(p, '"')) {
                *why = "a quote inside an unquoted field";
                return -1;
            }
            f[n++] = vn_cli_trim(p);
            if (!comma)
                return n;
            p = comma + 1;
        }
    }
}

static int parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

static int parse_label(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    return *s && !*end && !errno && v >= 0;
}

/* Column positions: -1 when absent. n_header 0: positional rows. */
typedef struct columns {
    int n_header, path, label, start, end;
} columns;

static const char *read_header(char **f, int n, columns *c)
{
    c->n_header = n;
    c->path = c->label = c->start = c->end = -1;
    for (int i = 0; i < n; i++) {
        int *slot = !strcasecmp(f[i], "path")      ? &c->path
                    : !strcasecmp(f[i], "label")   ? &c->label
                    : !strcasecmp(f[i], "start_s") ? &c->start
                    : !strcasecmp(f[i], "end_s")   ? &c->end
                                                   : NULL;
        if (slot && *slot >= 0)
            return "the header names a column twice";
        if (slot)
            *slot = i;
    }
    if ((c->start < 0) != (c->end < 0))
        return "the header has only one of start_s and end_s; name both or neither";
    int known = (c->path >= 0) + (c->label >= 0) + (c->start >= 0) + (c->end >= 0);
    int in_order = c->path == 0 && (c->label < 0 || c->label == 1) &&
                   (c->start < 0 || c->start == 1 + (c->label >= 0)) && (c->end < 0 || c->end == c->start + 1);
    if (known == n && in_order) /* the documented positional header changes nothing */
        c->n_header = 0;
    return NULL;
}

static const char *positional(int n, columns *c)
{
    if (n > 4)
        return "more than 4 fields (expected path[,label][,start_s,end_s]; to keep more columns, start the "
               "manifest with a header row naming them, e.g. path,label,...)";
    c->path = 0;
    c->label = n == 2 || n == 4 ? 1 : -1;
    c->start = n == 3 ? 1 : n == 4 ? 2 : -1;
    c->end = c->start >= 0 ? c->start + 1 : -1;
    return NULL;
}

/* One row into l; a message into msg on a bad row. -1: out of memory. */
static int parse_row(char **f, const columns *c, const char *dir, list *l, char *msg, size_t cap)
{
    const char *path = f[c->path];
    double start_s = -1.0, end_s = -1.0;
    if (!path[0]) {
        snprintf(msg, cap, "the path field is empty");
        return 1;
    }
    if (c->label >= 0 && f[c->label][0] && !parse_label(f[c->label])) {
        snprintf(msg, cap, "label '%s' is not a non-negative integer", f[c->label]);
        return 1;
    }
    if (c->start >= 0 && (f[c->start][0] || f[c->end][0])) {
        if (!parse_seconds(f[c->start], &start_s) || !parse_seconds(f[c->end], &end_s)) {
            snprintf(msg, cap,
                     "start_s '%s' and end_s '%s' must both be numbers of seconds (or both empty for the whole video)",
                     f[c->start], f[c->end]);
            return 1;
        }
        if (start_s < 0.0 || end_s <= start_s) {
            snprintf(msg, cap, "the time range [%g, %g) is empty or negative; expected 0 <= start_s < end_s", start_s,
                     end_s);
            return 1;
        }
    }
    return push(l, vn_cli_path_join(dir, path), start_s, end_s) != 0 ? -1 : 0;
}

static int list_manifest(const char *cmd, const char *path, list *l)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "vnative %s: --input %s: %s\n", cmd, path, strerror(errno));
        return 1;
    }
    char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
    if (dir) /* the manifest's directory: "" for the cwd, "/" for the root */
        *(slash ? (slash == dir ? slash + 1 : slash) : dir) = '\0';
    char *line = NULL, *f[MAX_FIELDS], msg[512];
    size_t cap = 0;
    ssize_t len;
    long long lineno = 0;
    int rc = dir ? 0 : -1, seen_row = 0;
    columns header = {0, -1, -1, -1, -1};
    while (!rc && (len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        if ((size_t)len != strlen(line)) {
            snprintf(msg, sizeof msg, "contains a NUL byte; is this a text file?");
            rc = 1;
            break;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        char *text = line;
        if (lineno == 1 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
            (unsigned char)text[2] == 0xBF)
            text += 3;
        char *t = text;
        while (*t == ' ' || *t == '\t')
            t++;
        if (!*t || *t == '#')
            continue;
        const char *why = NULL;
        int n = vn_cli_csv_split(text, f, MAX_FIELDS, &why);
        if (n < 0) {
            snprintf(msg, sizeof msg, "%s", why);
            rc = 1;
            break;
        }
        if (!seen_row) {
            seen_row = 1;
            int is_header = 0;
            for (int i = 0; i < n; i++)
                is_header |= !strcasecmp(f[i], "path");
            if (is_header) {
                if ((why = read_header(f, n, &header)) != NULL) {
                    snprintf(msg, sizeof msg, "%s", why);
                    rc = 1;
                }
                continue;
            }
        }
        columns c = header;
        why = header.n_header ? NULL : positional(n, &c);
        if (!why && header.n_header && n != header.n_header)
            why = "the row does not have as many fields as the header";
        if (why) {
            snprintf(msg, sizeof msg, "%s", why);
            rc = 1;
            break;
        }
        rc = parse_row(f, &c, dir, l, msg, sizeof msg);
    }
    if (rc == 1)
        fprintf(stderr, "vnative %s: --input manifest %s, line %lld: %s\n", cmd, path, lineno, msg);
    else if (rc < 0)
        fprintf(stderr, "vnative %s: out of memory reading %s\n", cmd, path);
    else if (ferror(fp)) {
        fprintf(stderr, "vnative %s: --input %s: %s\n", cmd, path, strerror(errno));
        rc = 1;
    } else if (l->n == 0) {
        fprintf(stderr, "vnative %s: --input manifest %s has no rows (expected path[,label][,start_s,end_s] per "
                        "line)\n",
                cmd, path);
        rc = 1;
    }
    free(line);
    free(dir);
    fclose(fp);
    return rc ? 1 : 0;
}

int vn_cli_list_sources(const char *cmd, const char *input, vn_cli_source **out, int64_t *n)
{
    struct stat sb;
    list l = {NULL, 0, 0};
    int rc;
    if (stat(input, &sb) != 0) {
        fprintf(stderr, "vnative %s: --input %s: %s\n", cmd, input, strerror(errno));
        return 1;
    }
    if (S_ISDIR(sb.st_mode))
        rc = list_dir(cmd, input, &l);
    else if (!S_ISREG(sb.st_mode)) {
        fprintf(stderr, "vnative %s: --input %s is neither a video, a directory nor a manifest file\n", cmd, input);
        rc = 1;
    } else if (vn_cli_is_video_name(input)) {
        rc = push(&l, strdup(input), -1.0, -1.0);
        if (rc)
            fprintf(stderr, "vnative %s: out of memory\n", cmd);
    } else {
        rc = list_manifest(cmd, input, &l);
    }
    if (rc) {
        vn_cli_free_sources(l.v, l.n);
        return 1;
    }
    *out = l.v;
    *n = l.n;
    return 0;
}

/* ---- spans and clips -------------------------------------------------------------------- */

int vn_cli_plan_spans(const vn_cli_source *src, const vn_video_info *info, double window, double stride,
                      double **spans, int64_t *n, char *err, size_t err_cap)
{
    double r0 = 0.0, r1 = info->duration_s;
    *spans = NULL;
    *n = 0;
    if (src->start_s >= 0.0) {
        if (src->start_s >= info->duration_s) {
            snprintf(err, err_cap, "the manifest's range [%g, %g) s starts after the video ends (%.3f s)",
                     src->start_s, src->end_s, info->duration_s);
            return -1;
        }
        r0 = src->start_s;
        r1 = src->end_s < info->duration_s ? src->end_s : info->duration_s;
    }
    if (!(r1 > r0) || info->n_frames < 1) {
        snprintf(err, err_cap, "no frames (duration %.3f s, %lld frames)", info->duration_s,
                 (long long)info->n_frames);
        return -1;
    }
    int64_t count = 1;
    if (window > 0.0) {
        count = r1 - r0 + EPS_S >= window ? (int64_t)floor((r1 - r0 - window + EPS_S) / stride) + 1 : 0;
        if (count < 0)
            count = 0;
    }
    if (count == 0)
        return 0;
    double *s = malloc((size_t)count * 2 * sizeof *s);
    if (!s) {
        snprintf(err, err_cap, "out of memory for %lld windows", (long long)count);
        return -1;
    }
    for (int64_t k = 0; k < count; k++) {
        s[2 * k] = window > 0.0 ? r0 + (double)k * stride : r0;
        s[2 * k + 1] = window > 0.0 ? s[2 * k] + window : r1;
    }
    *spans = s;
    *n = count;
    return 0;
}

void vn_cli_encoder_transform(const vn_encoder_config *cfg, vn_transform_options *tr)
{
    const vn_window_options w = VN_WINDOW_OPTIONS_INIT;
    vn_transform_options_init(tr, VN_TRANSFORM_OPTIONS_VERSION);
    tr->short_side = cfg->size;
    tr->crop_size = cfg->size;
    tr->grayscale = cfg->channels == 1;
    memcpy(tr->mean, w.mean, sizeof tr->mean);
    memcpy(tr->std, w.std, sizeof tr->std);
}

vn_status vn_cli_span_clip(vn_video *v, const vn_encoder_config *cfg, double t0, double t1, vn_clip_options *co)
{
    int64_t first = 0;
    vn_status st = vn_video_frame_at_time(v, t0 + EPS_S, &first);
    if (st)
        return st;
    /* Evenly in time from the first frame: frame k is the one on screen at
     * time(first) + k (t1 - t0) / T, every one of them before t1. */
    vn_clip_options_init(co, VN_CLIP_OPTIONS_VERSION);
    co->n_frames = cfg->frames;
    co->stride = 0;
    co->target_fps = (double)cfg->frames / (t1 - t0);
    co->start = first;
    return VN_OK;
}

vn_status vn_cli_read_span(vn_video *v, const vn_encoder_config *cfg, double t0, double t1, float *clip)
{
    vn_clip_options co;
    vn_status st = vn_cli_span_clip(v, cfg, t0, t1, &co);
    if (st)
        return st;
    vn_transform_options tr;
    vn_cli_encoder_transform(cfg, &tr);
    int64_t shape[4] = {cfg->channels, cfg->frames, cfg->size, cfg->size};
    vn_tensor t;
    vn_tensor_init(&t, clip, VN_DTYPE_F32, 4, shape);
    return vn_video_read_clip(v, &co, &tr, &t);
}

int vn_cli_encode_whole_video(const char *cmd, const vn_encoder *enc, const vn_encoder_config *cfg, const char *path,
                              float *emb)
{
    vn_video *v = NULL;
    vn_video_info info = VN_VIDEO_INFO_INIT;
    const vn_cli_source src = {(char *)path, -1.0, -1.0};
    double *spans = NULL;
    int64_t n = 0, D = cfg->dim;
    char err[512];
    float *clip = malloc((size_t)cfg->channels * cfg->frames * cfg->size * cfg->size * sizeof *clip);
    int rc = 1;
    if (!clip) {
        fprintf(stderr, "vnative %s: out of memory for a clip\n", cmd);
        return 1;
    }
    if (vn_video_create(&v, path, NULL) != VN_OK || vn_video_get_info(v, &info) != VN_OK) {
        fprintf(stderr, "vnative %s: %s\n", cmd, vn_last_error());
        goto done;
    }
    if (vn_cli_plan_spans(&src, &info, 0.0, 0.0, &spans, &n, err, sizeof err) != 0) {
        fprintf(stderr, "vnative %s: %s: %s\n", cmd, path, err);
        goto done;
    }
    int64_t cshape[5] = {1, cfg->channels, cfg->frames, cfg->size, cfg->size}, eshape[2] = {1, D};
    vn_tensor tc, te;
    vn_tensor_init(&tc, clip, VN_DTYPE_F32, 5, cshape);
    vn_tensor_init(&te, emb, VN_DTYPE_F32, 2, eshape);
    if (vn_cli_read_span(v, cfg, spans[0], spans[1], clip) != VN_OK || vn_encoder_encode(enc, &tc, &te) != VN_OK) {
        fprintf(stderr, "vnative %s: %s: %s\n", cmd, path, vn_last_error());
        goto done;
    }
    rc = 0;
done:
    free(spans);
    free(clip);
    vn_video_destroy(v);
    return rc;
}

/* ---- CSV output ------------------------------------------------------------------------- */

void vn_cli_csv_field(FILE *f, const char *s)
{
    size_t n = strlen(s);
    int quote = strpbrk(s, ",\"\r\n") != NULL || (n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' ||
                                                        s[n - 1] == '\t'));
    if (!quote) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void vn_cli_csv_seconds(FILE *f, double s)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.6f", s);
    char *dot = strchr(buf, '.');
    if (dot) {
        char *e = buf + strlen(buf) - 1;
        while (e > dot + 1 && *e == '0')
            *e-- = '\0';
    }
    fputs(buf, f);
}
