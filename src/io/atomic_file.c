/*
 * atomic_file.c: see atomic_file.h.
 */
#include "io/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int vn_atomic_commit(int *fd, const char *tmp, const char *path, const char *dir, const char **what, int *renamed)
{
    *renamed = 0;
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
    *what = "renaming the temp file over";
    if (rename(tmp, path) != 0)
        return errno ? errno : EIO;
    *renamed = 1;
    /* Without this the rename itself may not survive a crash. */
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
