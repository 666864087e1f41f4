/*
 * atomic_file.c: see atomic_file.h.
 */
#include "io/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int vn_atomic_sync_close(int *fd, const char **what)
{
    *what = "syncing the temp file for";
    if (fsync(*fd) != 0) {
        int e = errno;
        close(*fd);
        *fd = -1;
        return e ? e : EIO;
    }
    *what = "closing the temp file for";
    int rc = close(*fd);
    *fd = -1;
    if (rc != 0)
        return errno ? errno : EIO;
    return 0;
}

static int atomic_rename(const char *tmp, const char *path, const char *dir, const char **what, int *renamed)
{
    *renamed = 0;
    *what = "renaming the temp file over";
    if (rename(tmp, path) != 0)
        return errno ? errno : EIO;
    *renamed = 1;
    return vn_atomic_sync_dir(dir, what);
}

int vn_atomic_sync_dir(const char *dir, const char **what)
{
    /* Without this a rename into dir may not survive a crash. */
    *what = "syncing the directory of";
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd < 0 || fsync(dfd) != 0) {
        int e = errno;
        if (dfd >= 0)
            close(dfd);
        return e ? e : EIO;
    }
    close(dfd);
    return 0;
}

int vn_atomic_commit(int *fd, const char *tmp, const char *path, const char *dir, const char **what, int *renamed)
{
    *renamed = 0;
    int e = vn_atomic_sync_close(fd, what);
    return e ? e : atomic_rename(tmp, path, dir, what, renamed);
}
