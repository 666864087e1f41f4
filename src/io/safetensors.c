/* safetensors writing, atomic, and the helpers shared with the reader. See safetensors.h. */
#include "io/atomic_file.h"
#include "io/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "io/safetensors_internal.h"

const vn_st_dtype_info vn_st_dtypes[VN_ST_NDTYPES] = {
    {"F32", VN_DTYPE_F32, 4}, {"U8", VN_DTYPE_U8, 1}, {"I32", VN_DTYPE_I32, 4},
    {"I64", VN_DTYPE_I64, 8}, {"BF16", VN_DTYPE_BF16, 2},
};

const char *vn_st_dtype_name(vn_dtype dtype)
{
    for (size_t i = 0; i < VN_ST_NDTYPES; i++)
        if (vn_st_dtypes[i].dtype == dtype)
            return vn_st_dtypes[i].name;
    return NULL;
}

size_t vn_st_dtype_size(vn_dtype dtype)
{
    for (size_t i = 0; i < VN_ST_NDTYPES; i++)
        if (vn_st_dtypes[i].dtype == dtype)
            return vn_st_dtypes[i].size;
    return 0;
}

size_t vn_st_nbytes(int ndim, const int64_t *shape, size_t elem, int *overflow)
{
    size_t n = elem;
    *overflow = 0;
    for (int i = 0; i < ndim; i++) {
        uint64_t d = (uint64_t)shape[i];
        if (d == 0)
            n = 0;
        else if (n > SIZE_MAX / d)
            *overflow = 1;
        else
            n *= (size_t)d;
    }
    /* An empty dimension anywhere makes the tensor empty even if another dimension is huge. */
    for (int i = 0; i < ndim; i++)
        if (shape[i] == 0) {
            *overflow = 0;
            return 0;
        }
    return *overflow ? 0 : n;
}

char *vn_st_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* ---------------------------------------------------------------- writer */

typedef struct st_wtensor {
    char *name;
    vn_dtype dtype;
    int ndim;
    int64_t shape[VN_MAX_DIMS];
    const void *data;
    size_t nbytes;
} st_wtensor;

struct vn_st_writer {
    st_wtensor *t;
    size_t nt, capt;
    vn_st_pair *meta;
    size_t nm, capm;
};

vn_status vn_st_writer_create(vn_st_writer **out)
{
    VN_CHECK_NULL(out);
    *out = calloc(1, sizeof **out);
    if (!*out)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_st_writer_create: out of memory");
    return VN_OK;
}

void vn_st_writer_free(vn_st_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->nt; i++)
        free(w->t[i].name);
    for (size_t i = 0; i < w->nm; i++) {
        free(w->meta[i].key);
        free(w->meta[i].value);
    }
    free(w->t);
    free(w->meta);
    free(w);
}

int vn_st_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 1;
    size_t nc = *cap ? *cap * 2 : 16;
    void *np = realloc(*p, nc * elem);
    if (!np)
        return 0;
    *p = np;
    *cap = nc;
    return 1;
}

vn_status vn_st_writer_add(vn_st_writer *w, const char *name, vn_dtype dtype, int ndim, const int64_t *shape,
                           const void *data)
{
    VN_CHECK_NULL(w);
    VN_CHECK_NULL(name);
    if (ndim > 0)
        VN_CHECK_NULL(shape);
    if (!name[0] || strcmp(name, "__metadata__") == 0)
        return vn_error(VN_ERR_INVALID_ARG, "vn_st_writer_add: '%s' cannot name a tensor", name);
    size_t elem = vn_st_dtype_size(dtype);
    if (!elem)
        return vn_error(VN_ERR_INVALID_ARG, "vn_st_writer_add: '%s': dtype %d has no safetensors name", name,
                        (int)dtype);
    if (ndim < 0 || ndim > VN_MAX_DIMS)
        return vn_error(VN_ERR_INVALID_ARG, "vn_st_writer_add: '%s': %d dimensions (0..%d allowed)", name, ndim,
                        VN_MAX_DIMS);
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0)
            return vn_error(VN_ERR_INVALID_ARG, "vn_st_writer_add: '%s': shape[%d] = %lld is negative", name, i,
                            (long long)shape[i]);
    int overflow;
    size_t nbytes = vn_st_nbytes(ndim, shape, elem, &overflow);
    if (overflow)
        return vn_error(VN_ERR_INVALID_ARG, "vn_st_writer_add: '%s': the shape's size overflows", name);
    if (nbytes > 0 && !data)
        return vn_error(VN_ERR_INVALID_ARG, "vn_st_writer_add: '%s': NULL data for %zu bytes", name, nbytes);
    for (size_t i = 0; i < w->nt; i++)
        if (strcmp(w->t[i].name, name) == 0)
            return vn_error(VN_ERR_INVALID_ARG, "vn_st_writer_add: tensor '%s' was already added", name);
    if (!vn_st_grow((void **)&w->t, &w->capt, w->nt + 1, sizeof *w->t))
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_st_writer_add: out of memory");
    st_wtensor *t = &w->t[w->nt];
    memset(t, 0, sizeof *t);
    if (!(t->name = vn_st_strdup(name)))
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_st_writer_add: out of memory");
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->shape[i] = shape[i];
    t->data = data;
    t->nbytes = nbytes;
    w->nt++;
    return VN_OK;
}

vn_status vn_st_writer_add_metadata(vn_st_writer *w, const char *key, const char *value)
{
    VN_CHECK_NULL(w);
    VN_CHECK_NULL(key);
    VN_CHECK_NULL(value);
    for (size_t i = 0; i < w->nm; i++)
        if (strcmp(w->meta[i].key, key) == 0)
            return vn_error(VN_ERR_INVALID_ARG, "vn_st_writer_add_metadata: key '%s' was already added", key);
    if (!vn_st_grow((void **)&w->meta, &w->capm, w->nm + 1, sizeof *w->meta))
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_st_writer_add_metadata: out of memory");
    vn_st_pair *p = &w->meta[w->nm];
    p->key = vn_st_strdup(key);
    p->value = vn_st_strdup(value);
    if (!p->key || !p->value) {
        free(p->key);
        free(p->value);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_st_writer_add_metadata: out of memory");
    }
    w->nm++;
    return VN_OK;
}

typedef struct st_buf {
    char *p;
    size_t n, cap;
    int oom;
} st_buf;

static void sb_put(st_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->n + n + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_str(st_buf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_json_string(st_buf *b, const char *s)
{
    sb_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            sb_put(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            sb_put(b, esc, 6);
        } else {
            sb_put(b, (const char *)&c, 1);
        }
    }
    sb_put(b, "\"", 1);
}

/* Largest element first, then by name: with the header padded to 8 bytes, every tensor then
 * starts aligned to its element size, so a reader can use the data in place (this is also the
 * reference implementation's order). */
static int st_wtensor_cmp(const void *a, const void *b)
{
    const st_wtensor *x = a, *y = b;
    size_t sx = vn_st_dtype_size(x->dtype), sy = vn_st_dtype_size(y->dtype);
    if (sx != sy)
        return sx > sy ? -1 : 1;
    return strcmp(x->name, y->name);
}

static vn_status st_build_header(vn_st_writer *w, st_buf *b)
{
    if (w->nt > 1) /* a writer without tensors has no array, and qsort's pointer must be valid */
        qsort(w->t, w->nt, sizeof *w->t, st_wtensor_cmp);
    sb_str(b, "{");
    int first = 1;
    if (w->nm) {
        sb_str(b, "\"__metadata__\":{");
        for (size_t i = 0; i < w->nm; i++) {
            if (i)
                sb_str(b, ",");
            sb_json_string(b, w->meta[i].key);
            sb_str(b, ":");
            sb_json_string(b, w->meta[i].value);
        }
        sb_str(b, "}");
        first = 0;
    }
    size_t off = 0;
    for (size_t i = 0; i < w->nt; i++) {
        const st_wtensor *t = &w->t[i];
        char num[64];
        if (!first)
            sb_str(b, ",");
        first = 0;
        sb_json_string(b, t->name);
        sb_str(b, ":{\"dtype\":\"");
        sb_str(b, vn_st_dtype_name(t->dtype));
        sb_str(b, "\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) {
            snprintf(num, sizeof num, "%s%lld", d ? "," : "", (long long)t->shape[d]);
            sb_str(b, num);
        }
        if (t->nbytes > SIZE_MAX - off)
            return vn_error(VN_ERR_INVALID_ARG, "vn_st_writer_write: the tensors' total size overflows");
        snprintf(num, sizeof num, "],\"data_offsets\":[%zu,%zu]}", off, off + t->nbytes);
        sb_str(b, num);
        off += t->nbytes;
    }
    sb_str(b, "}");
    /* Spaces up to a multiple of 8, as the reference writer pads, so the data starts aligned. */
    while (!b->oom && b->n % 8)
        sb_str(b, " ");
    if (b->oom)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_st_writer_write: out of memory for the header");
    return VN_OK;
}

static int st_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        size_t chunk = n > (1u << 30) ? (1u << 30) : n;
        ssize_t k = write(fd, c, chunk);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (k == 0)
                errno = EIO; /* a write that makes no progress would otherwise loop forever */
            return 0;
        }
        c += k;
        n -= (size_t)k;
    }
    return 1;
}

vn_status vn_st_writer_write(vn_st_writer *w, const char *path)
{
    VN_CHECK_NULL(w);
    VN_CHECK_NULL(path);
    st_buf hdr = {0};
    vn_status st = st_build_header(w, &hdr);
    if (st != VN_OK) {
        free(hdr.p);
        return st;
    }
    /* The temp file must be in the target's directory: rename is only atomic within one
     * filesystem. It is hidden so a half-written one is never mistaken for a checkpoint. */
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) : 0;
    const char *base = slash ? slash + 1 : path;
    size_t cap = strlen(path) + 16;
    char *tmp = malloc(cap), *dir = malloc(dlen + 2);
    if (!tmp || !dir) {
        free(tmp);
        free(dir);
        free(hdr.p);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_st_writer_write: out of memory");
    }
    if (slash) {
        memcpy(dir, path, dlen);
        dir[dlen] = '\0';
        if (dlen == 0)
            strcpy(dir, "/");
    } else {
        strcpy(dir, ".");
    }
    snprintf(tmp, cap, "%.*s%s.%s.XXXXXX", (int)dlen, path, slash ? "/" : "", base);

    int fd = -1, have_tmp = 0, renamed = 0;
    const char *what = "creating a temp file for";
    int err = 0;
    if (!*base) {
        err = EISDIR;
        goto fail;
    }
    fd = mkstemp(tmp);
    if (fd < 0) {
        err = errno;
        goto fail;
    }
    have_tmp = 1;
    /* mkstemp gives 0600; a checkpoint is an ordinary file, readable like one made by open(). */
    struct stat old;
    fchmod(fd, stat(path, &old) == 0 ? (old.st_mode & 07777) : 0644);
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((uint64_t)hdr.n >> (8 * i));
    what = "writing";
    if (!st_write_all(fd, len8, 8) || !st_write_all(fd, hdr.p, hdr.n)) {
        err = errno;
        goto fail;
    }
    for (size_t i = 0; i < w->nt; i++)
        if (w->t[i].nbytes && !st_write_all(fd, w->t[i].data, w->t[i].nbytes)) {
            err = errno;
            goto fail;
        }
    if ((err = vn_atomic_commit(&fd, tmp, path, dir, &what, &renamed)) != 0)
        goto fail;
    free(tmp);
    free(dir);
    free(hdr.p);
    return VN_OK;

fail:
    if (fd >= 0)
        close(fd);
    if (have_tmp && !renamed)
        unlink(tmp);
    st = vn_error(VN_ERR_IO, "safetensors: %s %s: %s%s", what, path, strerror(err ? err : EIO),
                  renamed ? " (the new file is in place but may not survive a crash)" : "");
    free(tmp);
    free(dir);
    free(hdr.p);
    return st;
}
