/* Helpers of the fuzz targets. */
#include "fuzz_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

_Noreturn void vn_fuzz_fail(const char *what, vn_status s)
{
    fprintf(stderr, "fuzz contract broken: %s (status %s, message \"%s\")\n", what, vn_status_str(s),
            vn_last_error());
    abort();
}

vn_status vn_fuzz_checked(vn_status s, const char *call)
{
    if (s != VN_OK && vn_last_error()[0] == '\0') {
        char what[160];
        snprintf(what, sizeof what, "%s failed without a message", call);
        vn_fuzz_fail(what, s);
    }
    return s;
}

/* A memfd rather than a temp file: no disk traffic per input and nothing left behind when the
 * fuzzer is killed. Reopening it through /proc gives each parse its own file offset. */
const char *vn_fuzz_as_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("vn_fuzz_input", MFD_CLOEXEC);
        if (fd < 0)
            return NULL;
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0)
        return NULL;
    size_t done = 0;
    while (done < size) {
        ssize_t k = pwrite(fd, data + done, size - done, (off_t)done);
        if (k <= 0)
            return NULL;
        done += (size_t)k;
    }
    return path;
}
