/*
 * The loader's item list: a CSV manifest or a directory of videos.
 *
 * Manifest rules (docs/VIDEO.md, "Loader"):
 *  - without a header, one row per clip: path[,label][,start_s,end_s]; so 1 field is a
 *    path, 2 are path,label, 3 are path,start_s,end_s and 4 are path,label,start_s,end_s;
 *  - a header row (a first row with a field "path", any case) naming only those columns in that
 *    order changes nothing: rows stay positional as above;
 *  - any other header row maps columns by name: path, and optionally label, start_s and
 *    end_s; other columns (such as the task, split and scene parameters that `vnative
 *    world` writes) are ignored, and every row must have as many fields as the header;
 *  - an empty label field means "no label" (-1); empty start and end mean the whole video;
 *  - fields may be double-quoted ("a,b.mp4", "" for a quote) and are trimmed of blanks;
 *  - blank lines and lines starting with '#' are ignored;
 *  - relative paths are resolved against the manifest's directory, not the cwd, so a
 *    dataset folder can be moved as a whole.
 * Any other row is an error naming the manifest, the line and what is wrong: a typo in
 * a 100k-row manifest must not silently drop or mislabel clips.
 */
#include "io/loader_internal.h"
#include "core/error.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MAX_FIELDS 64
#define MAX_POSITIONAL 4

static const char *const video_exts[] = {
    "mp4", "m4v", "mov", "avi", "mkv", "webm", "ogv", "ogg", "mpg", "mpeg",
    "ts", "mts", "m2ts", "flv", "wmv", "asf", "3gp", "y4m", "gif",
};

int vn_loader_is_video_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name)
        return 0;
    for (size_t i = 0; i < sizeof video_exts / sizeof video_exts[0]; i++)
        if (strcasecmp(dot + 1, video_exts[i]) == 0)
            return 1;
    return 0;
}

void vn_loader_items_free(vn_loader_items *items)
{
    if (!items)
        return;
    for (int64_t i = 0; i < items->n; i++)
        free(items->v[i].path);
    free(items->v);
    memset(items, 0, sizeof *items);
}

void vn_loader_items_shard(vn_loader_items *items, int shard, int n_shards)
{
    if (n_shards <= 1)
        return;
    int64_t keep = items->n / n_shards, k = 0;
    for (int64_t i = 0; i < items->n; i++) {
        if (i % n_shards == shard && k < keep)
            items->v[k++] = items->v[i];
        else
            free(items->v[i].path);
    }
    items->n = k;
}

static vn_status items_push(vn_loader_items *items, char *path, int64_t label, double start_s, double end_s)
{
    if (items->n == items->cap) {
        int64_t cap = items->cap ? items->cap * 2 : 64;
        vn_loader_item *v = realloc(items->v, (size_t)cap * sizeof *v);
        if (!v) {
            free(path);
            return vn_error(VN_ERR_OUT_OF_MEMORY, "loader: out of memory listing %lld items", (long long)cap);
        }
        items->v = v;
        items->cap = cap;
    }
    items->v[items->n++] = (vn_loader_item){path, label, start_s, end_s};
    return VN_OK;
}

/* dir + "/" + name, or a copy of name when it is absolute or dir is empty. */
static char *join_path(const char *dir, const char *name)
{
    if (name[0] == '/' || !dir || !dir[0])
        return strdup(name);
    size_t ld = strlen(dir), ln = strlen(name);
    char *out = malloc(ld + ln + 2);
    if (!out)
        return NULL;
    memcpy(out, dir, ld);
    out[ld] = '/';
    memcpy(out + ld + 1, name, ln + 1);
    return out;
}

/* ---- CSV --------------------------------------------------------------------------- */

typedef struct csv_row {
    char *fields[MAX_FIELDS];
    int n;
} csv_row;

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* Split line in place. Returns 0, or a constant describing the syntax error. */
static const char *split_csv(char *line, csv_row *row)
{
    row->n = 0;
    char *p = line;
    for (;;) {
        if (row->n == MAX_FIELDS)
            return "more than 64 fields";
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '"') {
            /* Unquote in place: w trails r, collapsing "" into ". */
            char *start = ++p, *w = p;
            for (;;) {
                if (*p == '\0')
                    return "a quoted field is not closed";
                if (*p == '"') {
                    if (p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p != ',' && *p != '\0')
                return "text after a closing quote";
            int last = *p == '\0';
            *w = '\0';
            row->fields[row->n++] = start;
            if (last)
                return NULL;
            p++;
        } else {
            char *start = p;
            char *comma = strchr(p, ',');
            if (comma)
                *comma = '\0';
            if (strchr(start, '"'))
                return "a quote inside an unquoted field";
            row->fields[row->n++] = trim(start);
            if (!comma)
                return NULL;
            p = comma + 1;
        }
    }
}

static int parse_double(const char *s, double *out)
{
    if (!*s)
        return 0;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

static int parse_label(const char *s, int64_t *out)
{
    if (!*s)
        return 0;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < 0)
        return 0;
    *out = (int64_t)v;
    return 1;
}

static vn_status row_error(const char *manifest, long long line, const char *what)
{
    return vn_error(VN_ERR_FORMAT, "manifest %s, line %lld: %s", manifest, line, what);
}

/* Turn one split row into an item. */
/* The first row is a header when one of its fields is the column name "path". */
static int names_path(const csv_row *row)
{
    for (int i = 0; i < row->n; i++)
        if (!strcasecmp(row->fields[i], "path"))
            return 1;
    return 0;
}

/* Where each known column is in a row: -1 when absent. */
typedef struct column_map {
    int n_header; /* 0 without a header row: positional columns */
    int path, label, start, end;
} column_map;

/* Read a header row into map; other column names are kept out of the way, not rejected. */
static const char *read_header(const csv_row *row, column_map *map)
{
    map->n_header = row->n;
    map->path = map->label = map->start = map->end = -1;
    for (int i = 0; i < row->n; i++) {
        int *slot = !strcasecmp(row->fields[i], "path")      ? &map->path
                    : !strcasecmp(row->fields[i], "label")   ? &map->label
                    : !strcasecmp(row->fields[i], "start_s") ? &map->start
                    : !strcasecmp(row->fields[i], "end_s")   ? &map->end
                                                             : NULL;
        if (slot && *slot >= 0)
            return "the header names a column twice";
        if (slot)
            *slot = i;
    }
    if ((map->start < 0) != (map->end < 0))
        return "the header has only one of start_s and end_s; name both or neither";
    /* The documented positional header (path[,label][,start_s,end_s]) keeps rows positional,
     * so that rows of that manifest may leave trailing columns out. */
    int known = (map->path >= 0) + (map->label >= 0) + (map->start >= 0) + (map->end >= 0);
    int in_order = map->path == 0 && (map->label < 0 || map->label == 1) &&
                   (map->start < 0 || map->start == 1 + (map->label >= 0)) && (map->end < 0 || map->end == map->start + 1);
    if (known == row->n && in_order)
        map->n_header = 0;
    return NULL;
}

/* The columns of a row without a header, from how many fields it has. */
static const char *positional(const csv_row *row, column_map *map)
{
    if (row->n > MAX_POSITIONAL)
        return "more than 4 fields (expected path[,label][,start_s,end_s]; to keep more columns, "
               "start the manifest with a header row naming them, e.g. path,label,...)";
    map->path = 0;
    map->label = row->n == 2 || row->n == 4 ? 1 : -1;
    map->start = row->n == 3 ? 1 : row->n == 4 ? 2 : -1;
    map->end = map->start >= 0 ? map->start + 1 : -1;
    return NULL;
}

static vn_status parse_row(const char *manifest, const char *dir, long long line, const csv_row *row,
                           const column_map *map, vn_loader_items *out)
{
    const char *path = row->fields[map->path];
    if (!path[0])
        return row_error(manifest, line, "the path field is empty");
    int64_t label = -1;
    double start_s = -1.0, end_s = -1.0;
    const char *label_f = map->label >= 0 ? row->fields[map->label] : NULL;
    const char *start_f = map->start >= 0 ? row->fields[map->start] : NULL;
    const char *end_f = map->end >= 0 ? row->fields[map->end] : NULL;
    char msg[512];
    if (label_f && label_f[0] && !parse_label(label_f, &label)) {
        snprintf(msg, sizeof msg, "label '%s' is not a non-negative integer", label_f);
        return row_error(manifest, line, msg);
    }
    if (start_f && (start_f[0] || end_f[0])) {
        if (!parse_double(start_f, &start_s) || !parse_double(end_f, &end_s)) {
            snprintf(msg, sizeof msg, "start_s '%s' and end_s '%s' must both be numbers of seconds "
                     "(or both empty for the whole video)", start_f, end_f);
            return row_error(manifest, line, msg);
        }
        if (start_s < 0.0 || end_s <= start_s) {
            snprintf(msg, sizeof msg, "the time range [%g, %g) is empty or negative; expected 0 <= start_s < end_s",
                     start_s, end_s);
            return row_error(manifest, line, msg);
        }
    }
    char *full = join_path(dir, path);
    if (!full)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "manifest %s, line %lld: out of memory", manifest, line);
    return items_push(out, full, label, start_s, end_s);
}

/* The directory relative paths resolve against: "" when the manifest is in the cwd. */
static char *manifest_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup("");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

vn_status vn_loader_items_read_manifest(const char *path, vn_loader_items *out)
{
    memset(out, 0, sizeof *out);
    out->from_manifest = 1;
    FILE *f = fopen(path, "rb");
    if (!f)
        return vn_error(errno == ENOENT ? VN_ERR_NOT_FOUND : VN_ERR_IO, "loader: cannot open manifest %s: %s", path,
                        strerror(errno));
    char *dir = manifest_dir(path);
    char *line = NULL;
    size_t line_cap = 0;
    long long line_no = 0;
    int seen_row = 0;
    column_map header = {0, -1, -1, -1, -1};
    vn_status s = dir ? VN_OK : vn_error(VN_ERR_OUT_OF_MEMORY, "loader: out of memory reading %s", path);
    ssize_t len;
    while (s == VN_OK && (len = getline(&line, &line_cap, f)) != -1) {
        line_no++;
        if ((size_t)len != strlen(line)) {
            s = row_error(path, line_no, "contains a NUL byte; is this a text file?");
            break;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        char *text = line;
        if (line_no == 1 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
            (unsigned char)text[2] == 0xBF)
            text += 3;
        char *t = text;
        while (*t == ' ' || *t == '\t')
            t++;
        if (*t == '\0' || *t == '#')
            continue;
        csv_row row;
        const char *syntax = split_csv(text, &row);
        if (syntax) {
            s = row_error(path, line_no, syntax);
            break;
        }
        if (!seen_row && names_path(&row)) {
            seen_row = 1;
            const char *bad = read_header(&row, &header);
            if (bad)
                s = row_error(path, line_no, bad);
            continue;
        }
        seen_row = 1;
        column_map map = header;
        const char *bad = header.n_header ? NULL : positional(&row, &map);
        if (!bad && header.n_header && row.n != header.n_header)
            bad = "the row does not have as many fields as the header";
        if (bad) {
            s = row_error(path, line_no, bad);
            break;
        }
        s = parse_row(path, dir, line_no, &row, &map, out);
    }
    if (s == VN_OK && ferror(f))
        s = vn_error(VN_ERR_IO, "loader: reading manifest %s failed", path);
    free(line);
    free(dir);
    fclose(f);
    if (s == VN_OK && out->n == 0)
        s = vn_error(VN_ERR_FORMAT, "manifest %s has no rows (expected path[,label][,start_s,end_s] per line)", path);
    if (s != VN_OK)
        vn_loader_items_free(out);
    return s;
}

/* ---- directories ----------------------------------------------------------------- */

static int cmp_item_path(const void *a, const void *b)
{
    return strcmp(((const vn_loader_item *)a)->path, ((const vn_loader_item *)b)->path);
}

vn_status vn_loader_items_read_directory(const char *path, vn_loader_items *out)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(path);
    if (!d)
        return vn_error(errno == ENOENT ? VN_ERR_NOT_FOUND : VN_ERR_IO, "loader: cannot list directory %s: %s", path,
                        strerror(errno));
    vn_status s = VN_OK;
    struct dirent *de;
    while (s == VN_OK && (de = readdir(d)) != NULL) {
        /* Dot files are editor and OS litter ("._x.mp4" from macOS), never dataset clips. */
        if (de->d_name[0] == '.' || !vn_loader_is_video_name(de->d_name))
            continue;
        char *full = join_path(path, de->d_name);
        if (!full) {
            s = vn_error(VN_ERR_OUT_OF_MEMORY, "loader: out of memory listing %s", path);
            break;
        }
        /* Only regular files (or links to them): a FIFO or device named x.mp4 would block
         * or never end, which the per-file timeout cannot interrupt inside open(2). */
        struct stat st;
        if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(full);
            continue;
        }
        s = items_push(out, full, -1, -1.0, -1.0);
    }
    closedir(d);
    if (s == VN_OK && out->n == 0)
        s = vn_error(VN_ERR_NOT_FOUND, "loader: directory %s has no video files (by extension: .mp4, .avi, .mkv, "
                     ".webm, .mov, .ogv, ...)", path);
    if (s != VN_OK) {
        vn_loader_items_free(out);
        return s;
    }
    /* Paths share the directory prefix, so this sorts by file name (bytewise). */
    qsort(out->v, (size_t)out->n, sizeof out->v[0], cmp_item_path);
    return VN_OK;
}

vn_status vn_loader_items_read(const char *source, vn_loader_items *out)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(source, &st) != 0)
        return vn_error(errno == ENOENT ? VN_ERR_NOT_FOUND : VN_ERR_IO, "loader: source %s: %s", source,
                        strerror(errno));
    if (S_ISDIR(st.st_mode))
        return vn_loader_items_read_directory(source, out);
    if (S_ISREG(st.st_mode))
        return vn_loader_items_read_manifest(source, out);
    return vn_error(VN_ERR_INVALID_ARG, "loader: source %s is neither a CSV manifest file nor a directory", source);
}
