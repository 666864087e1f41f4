/*
 * A small .npy (NumPy format 1.0/2.0) writer and reader for little-endian uint8,
 * float32 and int64 C-order arrays. Dependency-free on purpose: the CLI compiles it in directly,
 * since it may only call public vn_* functions of the shared library.
 */
#ifndef VN_IO_NPY_H
#define VN_IO_NPY_H

#include <stddef.h>
#include <stdint.h>

typedef enum vn_npy_dtype {
    VN_NPY_U8 = 0,
    VN_NPY_F32 = 1,
    VN_NPY_I64 = 2
} vn_npy_dtype;

#define VN_NPY_MAX_DIMS 8

/* Write a C-order array. Returns 0, or -1 with a message in err (err_cap bytes). */
int vn_npy_write(const char *path, vn_npy_dtype dtype, int ndim, const int64_t *shape, const void *data, char *err,
                 size_t err_cap);

/* The same, atomically: a hidden temp file in path's directory, fsync, rename over path,
 * fsync the directory. On failure the previous file at path is untouched and no temp
 * file is left. Returns 0, or -1 with a message in err. */
int vn_npy_write_atomic(const char *path, vn_npy_dtype dtype, int ndim, const int64_t *shape, const void *data,
                        char *err, size_t err_cap);

/* Several arrays that belong together (an index's vectors and ids), 1 to 8: every temp
 * file is written and synced before the first rename, so a failure while writing (a
 * full disk, no memory) leaves every previous file untouched; only a failing rename,
 * between two renames, can leave a set of old and new files. */
typedef struct vn_npy_file {
    const char *path;
    vn_npy_dtype dtype;
    int ndim;
    const int64_t *shape;
    const void *data;
} vn_npy_file;

int vn_npy_write_atomic_files(const vn_npy_file *files, int n, char *err, size_t err_cap);

typedef struct vn_npy_array {
    vn_npy_dtype dtype;
    int ndim;
    int64_t shape[VN_NPY_MAX_DIMS];
    void *data; /* malloc'd; free with vn_npy_free */
    size_t nbytes;
} vn_npy_array;

/* Read an array written by vn_npy_write or numpy ('|u1', '<f4' or '<i8', C order).
 * Returns 0, or -1 with a message in err. */
int vn_npy_read(const char *path, vn_npy_array *out, char *err, size_t err_cap);

/* vn_npy_read's failures, told apart by vn_npy_read_checked. */
#define VN_NPY_ERR_IO (-1)     /* the file cannot be opened or read */
#define VN_NPY_ERR_FORMAT (-2) /* not a .npy file, a bad header, an unsupported dtype, truncated */
#define VN_NPY_ERR_MEMORY (-3) /* no memory for the data */

/* vn_npy_read returning 0 or one of VN_NPY_ERR_*. */
int vn_npy_read_checked(const char *path, vn_npy_array *out, char *err, size_t err_cap);
void vn_npy_free(vn_npy_array *a);

#endif
