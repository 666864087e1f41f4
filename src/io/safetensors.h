/*
 * safetensors files (https://github.com/huggingface/safetensors): the checkpoint format.
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON
 *   {"__metadata__": {"k": "v", ...}, "name": {"dtype": "F32", "shape": [2, 3],
 *    "data_offsets": [begin, end]}, ...}
 * padded with spaces, then the tensor data, contiguous, offsets relative to the data start.
 *
 * Internal for now; the trainer's public API builds on it. Errors go through vn_error().
 */
#ifndef VN_IO_SAFETENSORS_H
#define VN_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "vnative/tensor.h"

/* Headers beyond this are treated as corrupt: no real checkpoint needs 100 MB of JSON, and a
 * garbage length must not turn into a huge allocation. */
#define VN_ST_MAX_HEADER ((uint64_t)100 * 1000 * 1000)

/* ---- writing ---- */

typedef struct vn_st_writer vn_st_writer;

vn_status vn_st_writer_create(vn_st_writer **out);
void vn_st_writer_free(vn_st_writer *w);

/* Add a C-order tensor. The name is copied; data is borrowed and must stay valid until
 * vn_st_writer_write returns (checkpoints can be large, so it is not copied). ndim may be 0
 * (a scalar) and dimensions may be 0 (an empty tensor, data may then be NULL). */
vn_status vn_st_writer_add(vn_st_writer *w, const char *name, vn_dtype dtype, int ndim, const int64_t *shape,
                           const void *data);

/* Add a `__metadata__` string pair (both copied). Keys are unique. */
vn_status vn_st_writer_add_metadata(vn_st_writer *w, const char *key, const char *value);

/* Write atomically: a temp file in the target's directory, fsync, rename over path, fsync
 * the directory. On failure the previous file at path is untouched and no temp file is left
 * (VN_ERR_IO naming the file). The writer can be written again afterwards. */
vn_status vn_st_writer_write(vn_st_writer *w, const char *path);

/* ---- reading ---- */

typedef struct vn_st_file vn_st_file;

typedef struct vn_st_entry {
    const char *name;
    vn_dtype dtype;
    int ndim;
    int64_t shape[VN_MAX_DIMS];
    const void *data; /* inside the file buffer; may be unaligned for files from other writers */
    size_t nbytes;
} vn_st_entry;

/* Read and validate a whole file. Any corruption gives VN_ERR_FORMAT naming the file and the
 * problem; a missing file VN_ERR_NOT_FOUND; another read failure VN_ERR_IO. */
vn_status vn_st_open(vn_st_file **out, const char *path);
void vn_st_close(vn_st_file *f);

/* Tensors, in name order (strcmp). */
size_t vn_st_count(const vn_st_file *f);
const vn_st_entry *vn_st_entry_at(const vn_st_file *f, size_t i);

/* VN_ERR_NOT_FOUND (with the name and file) when absent. The entry lives until vn_st_close. */
vn_status vn_st_find(const vn_st_file *f, const char *name, const vn_st_entry **out);

/* Copy a tensor into a caller view (any strides), after checking its dtype and shape match the
 * file's with vn_tensor_expect (VN_ERR_SHAPE otherwise). */
vn_status vn_st_read_into(const vn_st_file *f, const char *name, vn_tensor *t);

/* `__metadata__` pairs, in key order; lookup gives VN_ERR_NOT_FOUND when absent. */
size_t vn_st_metadata_count(const vn_st_file *f);
void vn_st_metadata_at(const vn_st_file *f, size_t i, const char **key, const char **value);
vn_status vn_st_metadata(const vn_st_file *f, const char *key, const char **value);

/* The safetensors dtype name ("F32", "U8", "I32", "I64", "BF16"), or NULL. */
const char *vn_st_dtype_name(vn_dtype dtype);

#endif
