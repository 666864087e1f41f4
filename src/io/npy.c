/* The .npy format: a magic string, a version, a Python-dict header, then raw C-order data. */
#include "io/npy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    return d == VN_NPY_F32 ? 4 : 1;
}

int vn_npy_write(const char *path, vn_npy_dtype dtype, int ndim, const int64_t *shape, const void *data, char *err,
                 size_t err_cap)
{
    if (!path || (ndim > 0 && !shape))
        return fail(err, err_cap, "npy: NULL path or shape");
    if (ndim < 0 || ndim > VN_NPY_MAX_DIMS)
        return fail(err, err_cap, "npy: %d dimensions; at most %d are supported", ndim, VN_NPY_MAX_DIMS);
    if (dtype != VN_NPY_U8 && dtype != VN_NPY_F32)
        return fail(err, err_cap, "npy: dtype %d is not u8 or f32", (int)dtype);
    uint64_t n = 1;
    char dims[256] = "";
    size_t used = 0;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return fail(err, err_cap, "npy: shape[%d] = %lld is negative", i, (long long)shape[i]);
        n *= (uint64_t)shape[i];
        used += (size_t)snprintf(dims + used, sizeof dims - used, "%lld,%s", (long long)shape[i],
                                 i + 1 < ndim ? " " : "");
    }
    if (ndim > 1 && used > 0)
        dims[used - 1] = '\0'; /* numpy writes (2, 3) but (5,) */
    if (n > 0 && !data)
        return fail(err, err_cap, "npy: NULL data for %llu elements", (unsigned long long)n);
    /* Little-endian hosts only (the library's targets); the descr says so. */
    char dict[400];
    int dlen = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
                        dtype == VN_NPY_F32 ? "<f4" : "|u1", dims);
    /* The header, with its newline, pads the prelude to a multiple of 64 bytes. */
    size_t total = 10 + (size_t)dlen + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)dlen + pad + 1;
    if (hlen > 65535)
        return fail(err, err_cap, "npy: header too long");
    FILE *f = fopen(path, "wb");
    if (!f)
        return fail(err, err_cap, "npy: cannot create %s: %s", path, strerror(errno));
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(dict, 1, (size_t)dlen, f) == (size_t)dlen;
    for (size_t i = 0; ok && i < pad; i++)
        ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    size_t bytes = (size_t)n * elem_size(dtype);
    ok = ok && (bytes == 0 || fwrite(data, 1, bytes, f) == bytes);
    if (fclose(f) != 0)
        ok = 0;
    if (!ok) {
        remove(path);
        return fail(err, err_cap, "npy: writing %s failed: %s", path, strerror(errno));
    }
    return 0;
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

int vn_npy_read(const char *path, vn_npy_array *out, char *err, size_t err_cap)
{
    if (!path || !out)
        return fail(err, err_cap, "npy: NULL path or output");
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, err_cap, "npy: cannot open %s: %s", path, strerror(errno));
    unsigned char pre[12];
    char *h = NULL;
    int rc = -1;
    if (fread(pre, 1, 8, f) != 8 || memcmp(pre, "\x93NUMPY", 6) != 0) {
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
    else {
        fail(err, err_cap, "npy: %s holds dtype %.8s; only u1 and <f4 are supported", path, descr);
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
    out->nbytes = (size_t)n * elem_size(out->dtype);
    out->data = malloc(out->nbytes ? out->nbytes : 1);
    if (!out->data) {
        fail(err, err_cap, "npy: out of memory for %zu bytes", out->nbytes);
        goto done;
    }
    if (out->nbytes && fread(out->data, 1, out->nbytes, f) != out->nbytes) {
        vn_npy_free(out);
        goto truncated;
    }
    rc = 0;
    goto done;
truncated:
    fail(err, err_cap, "npy: %s is truncated", path);
done:
    free(h);
    fclose(f);
    return rc;
}
