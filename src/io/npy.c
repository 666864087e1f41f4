/* The .npy format: a magic string, a version, a Python-dict header, then raw C-order data. */
#include "io/atomic_file.h"
#include "io/npy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(char *err, size_t cap, const char *fmt, ...)
{
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static size_t elem_size(vn_npy_dtype d)
{
    return d == VN_NPY_I64 ? 8 : d == VN_NPY_F32 ? 4 : 1;
}

static const char *descr_of(vn_npy_dtype d)
{
    return d == VN_NPY_I64 ? "<i8" : d == VN_NPY_F32 ? "<f4" : "|u1";
}

/* The prelude and header dict of an array, padded to a multiple of 64 bytes, into hdr
 * (cap bytes) with its length in *hlen_out and the data's size in *bytes. */
static int build_header(vn_npy_dtype dtype, int ndim, const int64_t *shape, const void *data, unsigned char *hdr,
                        size_t cap, size_t *hlen_out, size_t *bytes, char *err, size_t err_cap)
{
    if (ndim > 0 && !shape)
        return fail(err, err_cap, "npy: NULL path or shape");
    if (ndim < 0 || ndim > VN_NPY_MAX_DIMS)
        return fail(err, err_cap, "npy: %d dimensions; at most %d are supported", ndim, VN_NPY_MAX_DIMS);
    if (dtype != VN_NPY_U8 && dtype != VN_NPY_F32 && dtype != VN_NPY_I64)
        return fail(err, err_cap, "npy: dtype %d is not u8, f32 or i64", (int)dtype);
    uint64_t n = 1;
    char dims[256] = "";
    size_t used = 0;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return fail(err, err_cap, "npy: shape[%d] = %lld is negative", i, (long long)shape[i]);
        if (shape[i] > 0 && n > (UINT64_MAX >> 8) / (uint64_t)shape[i])
            return fail(err, err_cap, "npy: the array is too large");
        n *= (uint64_t)shape[i];
        used += (size_t)snprintf(dims + used, sizeof dims - used, "%lld,%s", (long long)shape[i],
                                 i + 1 < ndim ? " " : "");
    }
    if (ndim > 1 && used > 0)
        dims[used - 1] = '\0'; /* numpy writes (2, 3) but (5,) */
    if (n > 0 && !data)
        return fail(err, err_cap, "npy: NULL data for %llu elements", (unsigned long long)n);
    if (n > SIZE_MAX / elem_size(dtype))
        return fail(err, err_cap, "npy: the array is too large");
    /* Little-endian hosts only (the library's targets); the descr says so. */
    char dict[400];
    int dlen = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
                        descr_of(dtype), dims);
    /* The header, with its newline, pads the prelude to a multiple of 64 bytes. */
    size_t total = 10 + (size_t)dlen + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)dlen + pad + 1;
    if (hlen > 65535 || 10 + hlen > cap)
        return fail(err, err_cap, "npy: header too long");
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    memcpy(hdr, pre, 10);
    memcpy(hdr + 10, dict, (size_t)dlen);
    memset(hdr + 10 + dlen, ' ', pad);
    hdr[10 + hlen - 1] = '\n';
    *hlen_out = 10 + hlen;
    *bytes = (size_t)n * elem_size(dtype);
    return 0;
}

int vn_npy_write(const char *path, vn_npy_dtype dtype, int ndim, const int64_t *shape, const void *data, char *err,
                 size_t err_cap)
{
    if (!path)
        return fail(err, err_cap, "npy: NULL path or shape");
    unsigned char hdr[512];
    size_t hlen, bytes;
    if (build_header(dtype, ndim, shape, data, hdr, sizeof hdr, &hlen, &bytes, err, err_cap) != 0)
        return -1;
    FILE *f = fopen(path, "wb");
    if (!f)
        return fail(err, err_cap, "npy: cannot create %s: %s", path, strerror(errno));
    int ok = fwrite(hdr, 1, hlen, f) == hlen;
    ok = ok && (bytes == 0 || fwrite(data, 1, bytes, f) == bytes);
    /* Only a regular file is half-written output to remove: the path may be a device or a
     * pipe (/dev/full, /dev/stdout), and removing that, as root, would delete the node. */
    struct stat sb;
    int regular = fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode);
    int e = errno;
    if (fclose(f) != 0 && ok)
        ok = 0, e = errno;
    if (!ok) {
        if (regular)
            remove(path);
        return fail(err, err_cap, "npy: writing %s failed: %s", path, strerror(e ? e : EIO));
    }
    return 0;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        size_t chunk = n > (1u << 30) ? (1u << 30) : n;
        ssize_t k = write(fd, c, chunk);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (k == 0)
                errno = EIO; /* no progress would otherwise loop forever */
            return 0;
        }
        c += k;
        n -= (size_t)k;
    }
    return 1;
}

/* One file of an atomic write: its temp file (hidden, in the target's directory: rename
 * is atomic only within one filesystem) written and synced, not yet renamed. */
typedef struct npy_staged {
    char *tmp, *dir;
    int have_tmp, renamed;
} npy_staged;

static void staged_free(npy_staged *st)
{
    if (st->have_tmp && !st->renamed)
        unlink(st->tmp);
    free(st->tmp);
    free(st->dir);
    memset(st, 0, sizeof *st);
}

/* Returns 0, or an errno with *what naming the step. */
static int stage(const vn_npy_file *f, npy_staged *st, const unsigned char *hdr, size_t hlen, size_t bytes,
                 const char **what)
{
    const char *path = f->path, *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) : 0;
    const char *base = slash ? slash + 1 : path;
    *what = "writing";
    if (!*base)
        return EISDIR;
    size_t cap = strlen(path) + 16;
    st->tmp = malloc(cap);
    st->dir = malloc(dlen + 2);
    *what = "allocating memory to write";
    if (!st->tmp || !st->dir)
        return ENOMEM;
    if (slash && dlen > 0) {
        memcpy(st->dir, path, dlen);
        st->dir[dlen] = '\0';
    } else {
        strcpy(st->dir, slash ? "/" : ".");
    }
    snprintf(st->tmp, cap, "%.*s%s.%s.XXXXXX", (int)dlen, path, slash ? "/" : "", base);
    *what = "creating a temp file for";
    int fd = mkstemp(st->tmp);
    if (fd < 0)
        return errno ? errno : EIO;
    st->have_tmp = 1;
    /* mkstemp gives 0600; the array is an ordinary file, readable like one open() makes. */
    struct stat old;
    if (fchmod(fd, stat(path, &old) == 0 ? (old.st_mode & 07777) : 0644) != 0) {
        /* not fatal: the file is still written, only with mkstemp's mode */
    }
    *what = "writing";
    if (!write_all(fd, hdr, hlen) || (bytes && !write_all(fd, f->data, bytes))) {
        int e = errno ? errno : EIO;
        close(fd);
        return e;
    }
    return vn_atomic_sync_close(&fd, what);
}

int vn_npy_write_atomic_files(const vn_npy_file *files, int n, char *err, size_t err_cap)
{
    if (!files || n < 1 || n > 8)
        return fail(err, err_cap, "npy: %d files to write atomically (1..8)", n);
    for (int i = 0; i < n; i++)
        if (!files[i].path)
            return fail(err, err_cap, "npy: NULL path or shape");
    npy_staged st[8];
    memset(st, 0, sizeof st);
    const char *what = "writing";
    /* phase 0 writes and syncs every temp file, so a failure there changes nothing; 1
     * renames them back to back; 2 syncs the directories after all the renames */
    int e = 0, phase = 0, i = 0;
    for (; i < n && !e; i++) {
        unsigned char hdr[512];
        size_t hlen, bytes;
        if (build_header(files[i].dtype, files[i].ndim, files[i].shape, files[i].data, hdr, sizeof hdr, &hlen,
                         &bytes, err, err_cap) != 0) {
            for (int k = 0; k < n; k++)
                staged_free(&st[k]);
            return -1;
        }
        e = stage(&files[i], &st[i], hdr, hlen, bytes, &what);
    }
    if (!e)
        for (i = 0, phase = 1; !e && i < n; i++) {
            what = "renaming the temp file over";
            if (rename(st[i].tmp, files[i].path) != 0)
                e = errno ? errno : EIO;
            else
                st[i].renamed = 1;
        }
    if (!e)
        for (i = 0, phase = 2; !e && i < n; i++)
            e = vn_atomic_sync_dir(st[i].dir, &what);
    for (int k = 0; k < n; k++)
        staged_free(&st[k]);
    if (!e)
        return 0;
    /* i - 1 is the file that failed */
    const char *note = phase == 2 ? (n == 1 ? " (the new file is in place but may not survive a crash)"
                                            : " (the new file is in place, as are the others of the set, but "
                                              "may not survive a crash)")
                       : phase == 1 && i > 1 ? " (the files before it in the set are already the new ones)"
                                              : "";
    fail(err, err_cap, "npy: %s %s: %s%s", what, files[i - 1].path, strerror(e), note);
    return -1;
}

int vn_npy_write_atomic(const char *path, vn_npy_dtype dtype, int ndim, const int64_t *shape, const void *data,
                        char *err, size_t err_cap)
{
    const vn_npy_file f = {path, dtype, ndim, shape, data};
    return vn_npy_write_atomic_files(&f, 1, err, err_cap);
}

void vn_npy_free(vn_npy_array *a)
{
    if (!a)
        return;
    free(a->data);
    a->data = NULL;
}

/* The value text after 'key': in the header dict, or NULL. */
static const char *dict_value(const char *h, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(h, pat);
    if (!p)
        return NULL;
    p = strchr(p + strlen(pat), ':');
    if (!p)
        return NULL;
    p++;
    while (*p == ' ')
        p++;
    return p;
}

int vn_npy_read_checked(const char *path, vn_npy_array *out, char *err, size_t err_cap)
{
    if (!path || !out)
        return fail(err, err_cap, "npy: NULL path or output");
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, err_cap, "npy: cannot open %s: %s", path, strerror(errno));
    unsigned char pre[12];
    char *h = NULL;
    int rc = VN_NPY_ERR_FORMAT;
    if (fread(pre, 1, 8, f) != 8 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        if (ferror(f))
            goto read_error;
        fail(err, err_cap, "npy: %s is not a .npy file", path);
        goto done;
    }
    size_t hlen;
    if (pre[6] == 1) {
        if (fread(pre + 8, 1, 2, f) != 2)
            goto truncated;
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    } else if (pre[6] == 2 || pre[6] == 3) {
        if (fread(pre + 8, 1, 4, f) != 4)
            goto truncated;
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
        if (hlen > (1u << 24)) {
            fail(err, err_cap, "npy: %s has an implausible header length %zu", path, hlen);
            goto done;
        }
    } else {
        fail(err, err_cap, "npy: %s has format version %d.%d; expected 1.x or 2.x", path, pre[6], pre[7]);
        goto done;
    }
    h = malloc(hlen + 1);
    if (!h) {
        rc = VN_NPY_ERR_MEMORY;
        fail(err, err_cap, "npy: out of memory");
        goto done;
    }
    if (fread(h, 1, hlen, f) != hlen)
        goto truncated;
    h[hlen] = '\0';
    const char *descr = dict_value(h, "descr");
    const char *fortran = dict_value(h, "fortran_order");
    const char *shape = dict_value(h, "shape");
    if (!descr || !fortran || !shape) {
        fail(err, err_cap, "npy: %s has a header without descr, fortran_order or shape", path);
        goto done;
    }
    if (!strncmp(descr, "'|u1'", 5) || !strncmp(descr, "'u1'", 4) || !strncmp(descr, "'<u1'", 5))
        out->dtype = VN_NPY_U8;
    else if (!strncmp(descr, "'<f4'", 5))
        out->dtype = VN_NPY_F32;
    else if (!strncmp(descr, "'<i8'", 5))
        out->dtype = VN_NPY_I64;
    else {
        fail(err, err_cap, "npy: %s holds dtype %.8s; only u1, <f4 and <i8 are supported", path, descr);
        goto done;
    }
    if (strncmp(fortran, "False", 5) != 0) {
        fail(err, err_cap, "npy: %s is in Fortran order; only C order is supported", path);
        goto done;
    }
    if (*shape != '(') {
        fail(err, err_cap, "npy: %s has a malformed shape", path);
        goto done;
    }
    const char *p = shape + 1;
    uint64_t n = 1;
    for (;;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == ')')
            break;
        char *end;
        errno = 0;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 0 || errno || out->ndim >= VN_NPY_MAX_DIMS) {
            fail(err, err_cap, "npy: %s has a malformed or too large shape", path);
            goto done;
        }
        out->shape[out->ndim++] = d;
        if (d > 0 && n > (UINT64_MAX >> 8) / (uint64_t)d) {
            fail(err, err_cap, "npy: %s is too large", path);
            goto done;
        }
        n *= (uint64_t)d;
        p = end;
    }
    if (n > SIZE_MAX / elem_size(out->dtype)) {
        fail(err, err_cap, "npy: %s is too large", path);
        goto done;
    }
    out->nbytes = (size_t)n * elem_size(out->dtype);
    /* A header that promises more than the file holds is truncation, found before a
     * garbage shape can turn into a huge allocation. */
    struct stat sb;
    long pos = ftell(f);
    if (pos >= 0 && fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) &&
        (uint64_t)(sb.st_size - pos) < (uint64_t)out->nbytes) {
        fail(err, err_cap, "npy: %s is truncated: its header promises %zu bytes of data, it holds %lld", path,
             out->nbytes, (long long)(sb.st_size - pos));
        goto done;
    }
    out->data = malloc(out->nbytes ? out->nbytes : 1);
    if (!out->data) {
        rc = VN_NPY_ERR_MEMORY;
        fail(err, err_cap, "npy: out of memory for %zu bytes of %s", out->nbytes, path);
        goto done;
    }
    if (out->nbytes && fread(out->data, 1, out->nbytes, f) != out->nbytes) {
        vn_npy_free(out);
        goto truncated;
    }
    rc = 0;
    goto done;
truncated:
    if (ferror(f))
        goto read_error;
    fail(err, err_cap, "npy: %s is truncated", path);
    goto done;
read_error:
    rc = VN_NPY_ERR_IO;
    fail(err, err_cap, "npy: reading %s failed: %s", path, strerror(errno ? errno : EIO));
done:
    free(h);
    fclose(f);
    return rc;
}

int vn_npy_read(const char *path, vn_npy_array *out, char *err, size_t err_cap)
{
    return vn_npy_read_checked(path, out, err, err_cap) == 0 ? 0 : -1;
}
