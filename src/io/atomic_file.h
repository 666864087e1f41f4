/*
 * atomic_file.h: the end of an atomic file write, shared by the safetensors and .npy
 * writers. Dependency-free, like npy.c: the CLI compiles it in.
 */
#ifndef VN_IO_ATOMIC_FILE_H
#define VN_IO_ATOMIC_FILE_H

/*
 * The temp file tmp (open as *fd, fully written) becomes path: fsync, close, rename
 * over path, fsync of the directory dir, so that after a crash path holds either the
 * old file or the whole new one. *fd is -1 afterwards. Returns 0, or the errno of the
 * step that failed with *what naming it ("renaming the temp file over", ...); *renamed
 * says whether path already is the new file (else the caller removes tmp).
 */
int vn_atomic_commit(int *fd, const char *tmp, const char *path, const char *dir, const char **what, int *renamed);

/* The two ends of vn_atomic_commit, for writers that make several files and rename none
 * until all are on disk: sync_close (fsync, close; *fd is -1 afterwards) and sync_dir
 * (fsync of the directory, after the renames). Same returns. */
int vn_atomic_sync_close(int *fd, const char **what);
int vn_atomic_sync_dir(const char *dir, const char **what);

#endif
