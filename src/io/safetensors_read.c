/* The safetensors reader: a strict parser for the header and full validation. See safetensors.h. */
#include "io/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/tensor_check.h"
#include "io/safetensors_internal.h"

struct vn_st_file {
    unsigned char *buf; /* the whole file */
    size_t size;
    vn_st_entry *t;
    size_t nt, capt;
    vn_st_pair *meta;
    size_t nm, capm;
    int have_meta;
};

/* A strict JSON parser for exactly the header grammar: objects, strings, arrays of
 * non-negative integers. `msg` holds the first problem found. */
typedef struct st_parser {
    const char *p, *end, *start;
    char msg[224];
    int oom; /* the problem is memory, not the file */
} st_parser;

static int ps_fail(st_parser *ps, const char *what)
{
    if (!ps->msg[0])
        snprintf(ps->msg, sizeof ps->msg, "%.180s at header byte %zu", what, (size_t)(ps->p - ps->start));
    return 0;
}

static int ps_oom(st_parser *ps)
{
    ps->oom = 1;
    return ps_fail(ps, "out of memory");
}

static void ps_ws(st_parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int ps_expect(st_parser *ps, char c)
{
    ps_ws(ps);
    if (ps->p >= ps->end || *ps->p != c) {
        char m[40];
        snprintf(m, sizeof m, "expected '%c'", c);
        return ps_fail(ps, m);
    }
    ps->p++;
    return 1;
}

static int ps_hex4(st_parser *ps, unsigned *out)
{
    if (ps->end - ps->p < 4)
        return ps_fail(ps, "truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = ps->p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return ps_fail(ps, "bad hex digit in \\u escape");
        v = v * 16 + (unsigned)d;
    }
    ps->p += 4;
    *out = v;
    return 1;
}

/* A string, decoded to malloc'd UTF-8. NUL (escaped) is refused: names are C strings. */
static int ps_string(st_parser *ps, char **out)
{
    *out = NULL;
    if (!ps_expect(ps, '"'))
        return 0;
    size_t cap = 32, n = 0;
    char *s = malloc(cap);
    if (!s)
        return ps_oom(ps);
    for (;;) {
        if (ps->p >= ps->end) {
            free(s);
            return ps_fail(ps, "unterminated string");
        }
        unsigned char c = (unsigned char)*ps->p++;
        unsigned cp;
        if (c == '"')
            break;
        if (c < 0x20) {
            free(s);
            return ps_fail(ps, "control character in string");
        }
        if (c != '\\') {
            cp = c; /* raw bytes pass through: UTF-8 is kept as is */
        } else {
            if (ps->p >= ps->end) {
                free(s);
                return ps_fail(ps, "unterminated escape");
            }
            char e = *ps->p++;
            switch (e) {
            case '"': cp = '"'; break;
            case '\\': cp = '\\'; break;
            case '/': cp = '/'; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u': {
                if (!ps_hex4(ps, &cp)) {
                    free(s);
                    return 0;
                }
                if (cp >= 0xD800 && cp < 0xDC00) {
                    unsigned lo;
                    if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') {
                        free(s);
                        return ps_fail(ps, "unpaired surrogate in \\u escape");
                    }
                    ps->p += 2;
                    if (!ps_hex4(ps, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                        free(s);
                        return ps_fail(ps, "unpaired surrogate in \\u escape");
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp < 0xE000) {
                    free(s);
                    return ps_fail(ps, "unpaired surrogate in \\u escape");
                }
                if (cp == 0) {
                    free(s);
                    return ps_fail(ps, "\\u0000 in string");
                }
                break;
            }
            default:
                free(s);
                return ps_fail(ps, "invalid escape in string");
            }
        }
        char u[4];
        size_t k;
        if (c != '\\' || cp < 0x80) {
            u[0] = (char)cp;
            k = 1;
        } else if (cp < 0x800) {
            u[0] = (char)(0xC0 | (cp >> 6));
            u[1] = (char)(0x80 | (cp & 0x3F));
            k = 2;
        } else if (cp < 0x10000) {
            u[0] = (char)(0xE0 | (cp >> 12));
            u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            u[2] = (char)(0x80 | (cp & 0x3F));
            k = 3;
        } else {
            u[0] = (char)(0xF0 | (cp >> 18));
            u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
            u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
            u[3] = (char)(0x80 | (cp & 0x3F));
            k = 4;
        }
        if (n + k + 1 > cap) {
            cap *= 2;
            char *ns = realloc(s, cap);
            if (!ns) {
                free(s);
                return ps_oom(ps);
            }
            s = ns;
        }
        memcpy(s + n, u, k);
        n += k;
    }
    s[n] = '\0';
    *out = s;
    return 1;
}

/* A non-negative integer that fits in int64. Floats, exponents, signs and leading zeros are
 * refused with their own message rather than a generic syntax error. */
static int ps_uint(st_parser *ps, int64_t *out)
{
    ps_ws(ps);
    if (ps->p < ps->end && *ps->p == '-')
        return ps_fail(ps, "negative number");
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
        return ps_fail(ps, "expected an integer");
    if (*ps->p == '0' && ps->p + 1 < ps->end && ps->p[1] >= '0' && ps->p[1] <= '9')
        return ps_fail(ps, "integer with a leading zero");
    uint64_t v = 0;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
        unsigned d = (unsigned)(*ps->p - '0');
        if (v > ((uint64_t)INT64_MAX - d) / 10)
            return ps_fail(ps, "integer too large");
        v = v * 10 + d;
        ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E'))
        return ps_fail(ps, "floating-point number where an integer is required");
    *out = (int64_t)v;
    return 1;
}

/* [a, b, ...] of at most max integers; *n gets the count. */
static int ps_int_array(st_parser *ps, int64_t *vals, int max, int *n, const char *what)
{
    *n = 0;
    if (!ps_expect(ps, '['))
        return 0;
    ps_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return 1;
    }
    for (;;) {
        if (*n == max) {
            char m[80];
            snprintf(m, sizeof m, "%s has more than %d entries", what, max);
            return ps_fail(ps, m);
        }
        if (!ps_uint(ps, &vals[(*n)++]))
            return 0;
        ps_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        return ps_expect(ps, ']');
    }
}

/* After a member: 1 and *more = 1 on ',', *more = 0 on '}'. */
static int ps_next_member(st_parser *ps, int *more)
{
    ps_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
        ps->p++;
        *more = 1;
        return 1;
    }
    *more = 0;
    return ps_expect(ps, '}');
}

static int ps_tensor(st_parser *ps, vn_st_entry *e, int64_t off[2])
{
    if (!ps_expect(ps, '{'))
        return 0;
    int have_dtype = 0, have_shape = 0, have_off = 0, more = 1;
    ps_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        more = 0;
    }
    while (more) {
        char *key;
        if (!ps_string(ps, &key))
            return 0;
        if (!ps_expect(ps, ':')) {
            free(key);
            return 0;
        }
        int ok;
        if (strcmp(key, "dtype") == 0 && !have_dtype) {
            char *dt;
            ok = ps_string(ps, &dt);
            if (ok) {
                size_t i = 0;
                while (i < VN_ST_NDTYPES && strcmp(vn_st_dtypes[i].name, dt) != 0)
                    i++;
                if (i == VN_ST_NDTYPES) {
                    char m[100];
                    snprintf(m, sizeof m, "unsupported dtype \"%.40s\"", dt);
                    ok = ps_fail(ps, m);
                } else {
                    e->dtype = vn_st_dtypes[i].dtype;
                }
                free(dt);
            }
            have_dtype = 1;
        } else if (strcmp(key, "shape") == 0 && !have_shape) {
            ok = ps_int_array(ps, e->shape, VN_MAX_DIMS, &e->ndim, "shape");
            have_shape = 1;
        } else if (strcmp(key, "data_offsets") == 0 && !have_off) {
            int n;
            ok = ps_int_array(ps, off, 2, &n, "data_offsets");
            if (ok && n != 2)
                ok = ps_fail(ps, "data_offsets needs two entries");
            have_off = 1;
        } else {
            char m[100];
            snprintf(m, sizeof m, "unexpected or repeated tensor field \"%.40s\"", key);
            ok = ps_fail(ps, m);
        }
        free(key);
        if (!ok || !ps_next_member(ps, &more))
            return 0;
    }
    if (!have_dtype || !have_shape || !have_off)
        return ps_fail(ps, "tensor entry lacks dtype, shape or data_offsets");
    return 1;
}

static int ps_metadata(st_parser *ps, vn_st_file *f)
{
    if (!ps_expect(ps, '{'))
        return 0;
    int more = 1;
    ps_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        more = 0;
    }
    while (more) {
        vn_st_pair pr = {0};
        if (!ps_string(ps, &pr.key))
            return 0;
        if (!ps_expect(ps, ':')) {
            free(pr.key);
            return 0;
        }
        ps_ws(ps);
        if (ps->p < ps->end && *ps->p != '"') {
            free(pr.key);
            return ps_fail(ps, "__metadata__ value is not a string");
        }
        if (!ps_string(ps, &pr.value)) {
            free(pr.key);
            return 0;
        }
        for (size_t i = 0; i < f->nm; i++)
            if (strcmp(f->meta[i].key, pr.key) == 0) {
                free(pr.key);
                free(pr.value);
                return ps_fail(ps, "duplicate metadata key");
            }
        if (!vn_st_grow((void **)&f->meta, &f->capm, f->nm + 1, sizeof *f->meta)) {
            free(pr.key);
            free(pr.value);
            return ps_oom(ps);
        }
        f->meta[f->nm++] = pr;
        if (!ps_next_member(ps, &more))
            return 0;
    }
    return 1;
}

typedef struct st_span {
    int64_t begin, end;
    size_t idx;
} st_span;

static int st_span_cmp(const void *a, const void *b)
{
    const st_span *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

static int st_entry_cmp(const void *a, const void *b)
{
    return strcmp(((const vn_st_entry *)a)->name, ((const vn_st_entry *)b)->name);
}

static int vn_st_pair_cmp(const void *a, const void *b)
{
    return strcmp(((const vn_st_pair *)a)->key, ((const vn_st_pair *)b)->key);
}

/* Parse the header and check every tensor against the data region. */
static vn_status st_parse(vn_st_file *f, const char *path, size_t hlen)
{
    st_parser ps = {.p = (const char *)f->buf + 8, .end = (const char *)f->buf + 8 + hlen,
                    .start = (const char *)f->buf + 8, .msg = ""};
    size_t data_size = f->size - 8 - hlen;
    const unsigned char *data = f->buf + 8 + hlen;
    st_span *spans = NULL;
    size_t capspans = 0;
    int ok = ps_expect(&ps, '{'), more = 1;
    ps_ws(&ps);
    if (ok && ps.p < ps.end && *ps.p == '}') {
        ps.p++;
        more = 0;
    }
    while (ok && more) {
        char *name;
        if (!(ok = ps_string(&ps, &name)))
            break;
        if (!(ok = ps_expect(&ps, ':'))) {
            free(name);
            break;
        }
        if (strcmp(name, "__metadata__") == 0) {
            free(name);
            if (f->have_meta) {
                ok = ps_fail(&ps, "duplicate __metadata__");
                break;
            }
            f->have_meta = 1;
            ok = ps_metadata(&ps, f);
        } else {
            vn_st_entry e = {.name = name};
            int64_t off[2] = {0, 0};
            if (!vn_st_grow((void **)&f->t, &f->capt, f->nt + 1, sizeof *f->t) ||
                !vn_st_grow((void **)&spans, &capspans, f->nt + 1, sizeof *spans)) {
                free(name);
                ok = ps_oom(&ps);
                break;
            }
            f->t[f->nt] = e; /* owned by f from here, so a later failure frees the name */
            ok = ps_tensor(&ps, &f->t[f->nt], off);
            if (ok) {
                vn_st_entry *t = &f->t[f->nt];
                int overflow;
                size_t nb = vn_st_nbytes(t->ndim, t->shape, vn_st_dtype_size(t->dtype), &overflow);
                char m[160];
                if (overflow) {
                    snprintf(m, sizeof m, "tensor \"%.60s\": its shape's byte size overflows", name);
                    ok = ps_fail(&ps, m);
                } else if (off[1] < off[0]) {
                    snprintf(m, sizeof m, "tensor \"%.60s\": data_offsets end before they begin", name);
                    ok = ps_fail(&ps, m);
                } else if ((uint64_t)(off[1] - off[0]) != (uint64_t)nb) {
                    snprintf(m, sizeof m, "tensor \"%.60s\": shape and dtype give %zu bytes but data_offsets span %lld",
                             name, nb, (long long)(off[1] - off[0]));
                    ok = ps_fail(&ps, m);
                } else if ((uint64_t)off[1] > (uint64_t)data_size) {
                    snprintf(m, sizeof m, "tensor \"%.60s\": data_offsets end at %lld, past the %zu data bytes", name,
                             (long long)off[1], data_size);
                    ok = ps_fail(&ps, m);
                } else {
                    t->data = data + off[0];
                    t->nbytes = nb;
                    spans[f->nt] = (st_span){off[0], off[1], f->nt};
                }
            }
            f->nt++;
        }
        if (ok)
            ok = ps_next_member(&ps, &more);
    }
    if (ok) {
        ps_ws(&ps);
        if (ps.p != ps.end)
            ok = ps_fail(&ps, "trailing bytes after the header object");
    }
    if (!ok) {
        free(spans);
        /* a file is not corrupt because this process ran out of memory reading it */
        if (ps.oom)
            return vn_error(VN_ERR_OUT_OF_MEMORY, "safetensors %s: out of memory parsing the header", path);
        return vn_error(VN_ERR_FORMAT, "safetensors %s: invalid header: %s", path, ps.msg);
    }
    /* The tensors must tile the data region exactly: no gaps, overlaps or trailing bytes, so
     * every byte of the file is accounted for (as the reference reader requires). */
    /* qsort's pointer must not be NULL even for 0 elements (C11 7.22.5), and a header without
     * tensors or metadata leaves these arrays unallocated. */
    if (f->nt > 1)
        qsort(spans, f->nt, sizeof *spans, st_span_cmp);
    int64_t pos = 0;
    for (size_t i = 0; i < f->nt; i++) {
        if (spans[i].begin != pos) {
            vn_status st = vn_error(VN_ERR_FORMAT,
                                    "safetensors %s: tensor \"%s\" starts at data byte %lld, expected %lld (%s)",
                                    path, f->t[spans[i].idx].name, (long long)spans[i].begin, (long long)pos,
                                    spans[i].begin < pos ? "overlap" : "gap");
            free(spans);
            return st;
        }
        pos = spans[i].end;
    }
    free(spans);
    if ((uint64_t)pos != (uint64_t)data_size)
        return vn_error(VN_ERR_FORMAT, "safetensors %s: the tensors cover %lld data bytes but the file has %zu",
                        path, (long long)pos, data_size);
    if (f->nt > 1)
        qsort(f->t, f->nt, sizeof *f->t, st_entry_cmp);
    for (size_t i = 1; i < f->nt; i++)
        if (strcmp(f->t[i - 1].name, f->t[i].name) == 0)
            return vn_error(VN_ERR_FORMAT, "safetensors %s: duplicate tensor name \"%s\"", path, f->t[i].name);
    if (f->nm > 1)
        qsort(f->meta, f->nm, sizeof *f->meta, vn_st_pair_cmp);
    return VN_OK;
}

void vn_st_close(vn_st_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nt; i++)
        free((char *)f->t[i].name);
    for (size_t i = 0; i < f->nm; i++) {
        free(f->meta[i].key);
        free(f->meta[i].value);
    }
    free(f->t);
    free(f->meta);
    free(f->buf);
    free(f);
}

/* The file is read into memory rather than mmapped: a file truncated by another process while
 * mapped would raise SIGBUS on access, and the reader must never crash. */
vn_status vn_st_open(vn_st_file **out, const char *path)
{
    VN_CHECK_NULL(out);
    *out = NULL;
    VN_CHECK_NULL(path);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return vn_error(errno == ENOENT ? VN_ERR_NOT_FOUND : VN_ERR_IO, "safetensors: cannot open %s: %s", path,
                        strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        int e = errno;
        close(fd);
        return vn_error(VN_ERR_IO, "safetensors: %s is not a readable regular file%s%s", path, e ? ": " : "",
                        e ? strerror(e) : "");
    }
    if ((uint64_t)sb.st_size > SIZE_MAX - 1) {
        close(fd);
        return vn_error(VN_ERR_FORMAT, "safetensors %s: too large for this address space", path);
    }
    vn_st_file *f = calloc(1, sizeof *f);
    size_t size = (size_t)sb.st_size;
    if (f)
        f->buf = malloc(size ? size : 1);
    if (!f || !f->buf) {
        close(fd);
        vn_st_close(f);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "safetensors: out of memory reading %s (%zu bytes)", path, size);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t k = read(fd, f->buf + got, size - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int e = errno;
            close(fd);
            vn_st_close(f);
            return vn_error(VN_ERR_IO, "safetensors: reading %s: %s", path, strerror(e));
        }
        if (k == 0)
            break; /* shrank since fstat: judged below as the shorter file it now is */
        got += (size_t)k;
    }
    close(fd);
    f->size = got;
    if (got < 8) {
        vn_st_close(f);
        return vn_error(VN_ERR_FORMAT, "safetensors %s: %zu bytes, shorter than the 8-byte header length", path,
                        got);
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | f->buf[i];
    if (hlen > VN_ST_MAX_HEADER || hlen > got - 8) {
        vn_st_close(f);
        return vn_error(VN_ERR_FORMAT, "safetensors %s: header length %llu is %s", path, (unsigned long long)hlen,
                        hlen > VN_ST_MAX_HEADER ? "absurd (over 100 MB)" : "larger than the file (truncated?)");
    }
    vn_status st = st_parse(f, path, (size_t)hlen);
    if (st != VN_OK) {
        vn_st_close(f);
        return st;
    }
    *out = f;
    return VN_OK;
}

size_t vn_st_count(const vn_st_file *f)
{
    return f ? f->nt : 0;
}

const vn_st_entry *vn_st_entry_at(const vn_st_file *f, size_t i)
{
    return f && i < f->nt ? &f->t[i] : NULL;
}

vn_status vn_st_find(const vn_st_file *f, const char *name, const vn_st_entry **out)
{
    VN_CHECK_NULL(f);
    VN_CHECK_NULL(name);
    VN_CHECK_NULL(out);
    vn_st_entry key = {.name = name};
    *out = bsearch(&key, f->t, f->nt, sizeof *f->t, st_entry_cmp);
    if (!*out)
        return vn_error(VN_ERR_NOT_FOUND, "safetensors: no tensor named '%s'", name);
    return VN_OK;
}

vn_status vn_st_read_into(const vn_st_file *f, const char *name, vn_tensor *t)
{
    VN_CHECK_NULL(t);
    const vn_st_entry *e;
    vn_status st = vn_st_find(f, name, &e);
    if (st != VN_OK)
        return st;
    st = vn_tensor_expect("vn_st_read_into", name, t, e->dtype, e->ndim, e->shape);
    if (st != VN_OK)
        return st;
    size_t es = vn_st_dtype_size(e->dtype);
    size_t n = e->nbytes / es;
    /* Walk the row-major multi-index; the file is C order, the caller's view may not be. */
    int64_t idx[VN_MAX_DIMS] = {0};
    for (size_t k = 0; k < n; k++) {
        memcpy((char *)t->data + vn_tensor_offset(t, idx) * (int64_t)es, (const char *)e->data + k * es, es);
        for (int d = e->ndim - 1; d >= 0; d--) {
            if (++idx[d] < e->shape[d])
                break;
            idx[d] = 0;
        }
    }
    return VN_OK;
}

size_t vn_st_metadata_count(const vn_st_file *f)
{
    return f ? f->nm : 0;
}

void vn_st_metadata_at(const vn_st_file *f, size_t i, const char **key, const char **value)
{
    int ok = f && i < f->nm;
    if (key)
        *key = ok ? f->meta[i].key : NULL;
    if (value)
        *value = ok ? f->meta[i].value : NULL;
}

vn_status vn_st_metadata(const vn_st_file *f, const char *key, const char **value)
{
    VN_CHECK_NULL(f);
    VN_CHECK_NULL(key);
    VN_CHECK_NULL(value);
    vn_st_pair k = {.key = (char *)key};
    const vn_st_pair *p = bsearch(&k, f->meta, f->nm, sizeof *f->meta, vn_st_pair_cmp);
    if (!p)
        return vn_error(VN_ERR_NOT_FOUND, "safetensors: no metadata key '%s'", key);
    *value = p->value;
    return VN_OK;
}
