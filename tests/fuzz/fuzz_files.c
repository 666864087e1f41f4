/*
 * The targets of the file parsers: safetensors, the loader's CSV manifest and .npy. They read
 * paths, so the input goes through a memfd (vn_fuzz_as_file): the parsers' real file code,
 * size checks included, is what gets fuzzed.
 */
#include "fuzz_targets.h"
#include "fuzz_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/loader_internal.h"
#include "io/npy.h"
#include "io/safetensors.h"

/* A fresh error state and the input as a file at *path. */
static vn_status stage(const uint8_t *data, size_t size, const char **path)
{
    vn_clear_error();
    *path = vn_fuzz_as_file(data, size);
    return *path ? VN_OK : vn_error(VN_ERR_IO, "fuzz: cannot stage the input in a memfd");
}

/* Every tensor found by name, copied out, and its metadata looked up, as checkpoint loading does. */
static vn_status walk_safetensors(const vn_st_file *f)
{
    for (size_t i = 0; i < vn_st_count(f); i++) {
        const vn_st_entry *e = vn_st_entry_at(f, i), *found = NULL;
        vn_status s = vn_fuzz_checked(vn_st_find(f, e->name, &found), "vn_st_find");
        if (s != VN_OK || found != e)
            vn_fuzz_fail("vn_st_find misses a listed tensor", s);
        void *buf = malloc(e->nbytes ? e->nbytes : 1);
        if (!buf)
            continue;
        vn_tensor t;
        s = vn_tensor_init(&t, buf, e->dtype, e->ndim, e->shape);
        if (s == VN_OK)
            s = vn_fuzz_checked(vn_st_read_into(f, e->name, &t), "vn_st_read_into");
        if (s == VN_OK && e->nbytes && memcmp(buf, e->data, e->nbytes) != 0)
            vn_fuzz_fail("vn_st_read_into copied other bytes than the entry's", s);
        free(buf);
        if (s != VN_OK)
            return s;
    }
    for (size_t i = 0; i < vn_st_metadata_count(f); i++) {
        const char *k, *v, *again;
        vn_st_metadata_at(f, i, &k, &v);
        if (vn_fuzz_checked(vn_st_metadata(f, k, &again), "vn_st_metadata") != VN_OK || strcmp(again, v) != 0)
            vn_fuzz_fail("vn_st_metadata misses a listed key", VN_OK);
    }
    return VN_OK;
}

vn_status vn_fuzz_safetensors(const uint8_t *data, size_t size)
{
    const char *path;
    if (stage(data, size, &path) != VN_OK)
        return VN_ERR_IO;
    vn_st_file *f = NULL;
    vn_status s = vn_fuzz_checked(vn_st_open(&f, path), "vn_st_open");
    if (s != VN_OK)
        return s;
    s = walk_safetensors(f);
    vn_st_close(f);
    return s;
}

vn_status vn_fuzz_manifest(const uint8_t *data, size_t size)
{
    const char *path;
    if (stage(data, size, &path) != VN_OK)
        return VN_ERR_IO;
    vn_loader_items items;
    vn_status s = vn_fuzz_checked(vn_loader_items_read_manifest(path, &items), "vn_loader_items_read_manifest");
    if (s != VN_OK) {
        if (items.n != 0 || items.v)
            vn_fuzz_fail("a failed manifest read left items behind", s);
        return s;
    }
    if (items.n <= 0)
        vn_fuzz_fail("a manifest read succeeded with no rows", s);
    for (int64_t i = 0; i < items.n; i++) {
        const vn_loader_item *it = &items.v[i];
        if (!it->path || !it->path[0] || it->label < -1)
            vn_fuzz_fail("a manifest row parsed to an empty path or a label below -1", s);
        if (it->start_s >= 0 && !(it->end_s > it->start_s))
            vn_fuzz_fail("a manifest row parsed to an empty or reversed time range", s);
    }
    vn_loader_items_free(&items);
    return VN_OK;
}

static size_t npy_elem(vn_npy_dtype d)
{
    return d == VN_NPY_U8 ? 1 : d == VN_NPY_F32 ? 4 : 8;
}

vn_status vn_fuzz_npy(const uint8_t *data, size_t size)
{
    const char *path;
    if (stage(data, size, &path) != VN_OK)
        return VN_ERR_IO;
    vn_npy_array a;
    char err[256] = "";
    int rc = vn_npy_read_checked(path, &a, err, sizeof err);
    if (rc != 0) {
        if (!err[0] || a.data)
            vn_fuzz_fail("vn_npy_read failed without a message or left data behind", VN_OK);
        if (rc != VN_NPY_ERR_IO && rc != VN_NPY_ERR_FORMAT && rc != VN_NPY_ERR_MEMORY)
            vn_fuzz_fail("vn_npy_read returned an undocumented code", VN_OK);
        /* npy.c is dependency-free; raise its message as a status so every target reads the same. */
        return vn_error(rc == VN_NPY_ERR_IO ? VN_ERR_IO : rc == VN_NPY_ERR_MEMORY ? VN_ERR_OUT_OF_MEMORY
                                                                                  : VN_ERR_FORMAT,
                        "%s", err);
    }
    uint64_t n = 1;
    for (int i = 0; i < a.ndim; i++)
        n *= (uint64_t)a.shape[i];
    if (a.ndim < 0 || a.ndim > VN_NPY_MAX_DIMS || a.nbytes != n * npy_elem(a.dtype) || (a.nbytes && !a.data))
        vn_fuzz_fail("a .npy read succeeded with a shape that does not match its bytes", VN_OK);
    if (a.nbytes > size)
        vn_fuzz_fail("a .npy read returned more data bytes than the file holds", VN_OK);
    vn_npy_free(&a);
    return VN_OK;
}
