/*
 * fault_inject.c: the --wrap targets of fault_inject.h.
 */
#include "fault_inject.h"

#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
int __real_posix_memalign(void **out, size_t align, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void __real_free(void *p);
int __real_mkstemp(char *tmpl);
int __real_mkstemp64(char *tmpl);
ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_fsync(int fd);
int __real_close(int fd);
int __real_rename(const char *from, const char *to);
int __real_open(const char *path, int flags, ...);
int __real_open64(const char *path, int flags, ...);

static atomic_uint armed_mask;
static atomic_long counted, fail_at, live;
static atomic_int fail_err, fired;
static atomic_int inplace;
static _Atomic(vn_fi_hook) hook;
static char fired_what[512];
/* Only the arming thread's calls count: a background thread (the trainer's prefetch) would
 * otherwise take the failure meant for the call under test, at a random point. */
static _Thread_local int tl_counting;

void vn_fi_arm(unsigned mask, long nth, int err)
{
    atomic_store(&armed_mask, 0);
    atomic_store(&counted, 0);
    atomic_store(&fired, 0);
    fired_what[0] = '\0';
    atomic_store(&fail_at, nth);
    atomic_store(&fail_err, err);
    tl_counting = 1;
    atomic_store(&armed_mask, mask);
}

long vn_fi_disarm(void)
{
    atomic_store(&armed_mask, 0);
    tl_counting = 0;
    return atomic_load(&counted);
}

int vn_fi_fired(void)
{
    return atomic_load(&fired);
}

const char *vn_fi_fired_what(void)
{
    return fired_what;
}

long vn_fi_live_blocks(void)
{
    return atomic_load(&live);
}

void vn_fi_set_hook(vn_fi_hook h)
{
    atomic_store(&hook, h);
}

void vn_fi_set_inplace_writer(int on)
{
    atomic_store(&inplace, on);
}

static const char *kind_name(vn_fi_kind k)
{
    switch (k) {
    case VN_FI_ALLOC: return "alloc";
    case VN_FI_CREATE: return "mkstemp";
    case VN_FI_WRITE: return "write";
    case VN_FI_FSYNC: return "fsync";
    case VN_FI_CLOSE: return "close";
    case VN_FI_RENAME: return "rename";
    case VN_FI_OPEN: return "open";
    }
    return "?";
}

/* Whether this call is the one to fail (errno is then set). Counting is atomic: the
 * library allocates from OpenMP and loader threads too. */
static int should_fail(vn_fi_kind k, const char *what)
{
    unsigned mask = atomic_load_explicit(&armed_mask, memory_order_relaxed);
    if (!(mask & k) || !tl_counting)
        return 0;
    long n = atomic_fetch_add(&counted, 1) + 1;
    if (n != atomic_load(&fail_at))
        return 0;
    snprintf(fired_what, sizeof fired_what, "%s #%ld (%.400s)", kind_name(k), n, what ? what : "");
    atomic_store(&fired, 1);
    /* VN_FI_BACKTRACE=1: where the failed call came from, for whoever debugs a sweep */
    const char *bt = getenv("VN_FI_BACKTRACE");
    if (bt && *bt == '1') {
        void *frames[24];
        fprintf(stderr, "fault_inject: failing %s\n", fired_what);
        backtrace_symbols_fd(frames, backtrace(frames, 24), 2);
    }
    errno = atomic_load(&fail_err);
    return 1;
}

static const char *fd_path(int fd, char *buf, size_t cap)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, buf, cap - 1);
    if (n < 0)
        snprintf(buf, cap, "fd %d", fd);
    else
        buf[n] = '\0';
    return buf;
}

/* File operations resolve the fd's path only when someone will look at it. */
static int file_op(vn_fi_kind k, int fd, const char *path)
{
    vn_fi_hook h = atomic_load(&hook);
    unsigned mask = atomic_load_explicit(&armed_mask, memory_order_relaxed);
    if (!h && !(mask & k))
        return 0;
    char buf[512];
    if (!path)
        path = fd_path(fd, buf, sizeof buf);
    if (h)
        h(k, path);
    return should_fail(k, path);
}

/* ---------------------------------------------------------------- memory */

static void *tally_live(void *p)
{
    if (p)
        atomic_fetch_add(&live, 1);
    return p;
}

void *__wrap_malloc(size_t n)
{
    return should_fail(VN_FI_ALLOC, "malloc") ? NULL : tally_live(__real_malloc(n));
}

void *__wrap_calloc(size_t n, size_t size)
{
    return should_fail(VN_FI_ALLOC, "calloc") ? NULL : tally_live(__real_calloc(n, size));
}

void *__wrap_aligned_alloc(size_t align, size_t n)
{
    return should_fail(VN_FI_ALLOC, "aligned_alloc") ? NULL : tally_live(__real_aligned_alloc(align, n));
}

char *__wrap_strdup(const char *s)
{
    return should_fail(VN_FI_ALLOC, "strdup") ? NULL : tally_live(__real_strdup(s));
}

char *__wrap_strndup(const char *s, size_t n)
{
    return should_fail(VN_FI_ALLOC, "strndup") ? NULL : tally_live(__real_strndup(s, n));
}

void *__wrap_realloc(void *old, size_t n)
{
    if (should_fail(VN_FI_ALLOC, "realloc"))
        return NULL;
    void *p = __real_realloc(old, n);
    if (p && !old)
        atomic_fetch_add(&live, 1);
    else if (!p && old && n == 0)
        atomic_fetch_sub(&live, 1);
    return p;
}

int __wrap_posix_memalign(void **out, size_t align, size_t n)
{
    if (should_fail(VN_FI_ALLOC, "posix_memalign"))
        return ENOMEM;
    int rc = __real_posix_memalign(out, align, n);
    if (rc == 0)
        atomic_fetch_add(&live, 1);
    return rc;
}

void __wrap_free(void *p)
{
    if (p)
        atomic_fetch_sub(&live, 1);
    __real_free(p);
}

/* ---------------------------------------------------------------- files */

/* The final name a temp template stands for: "dir/.name.XXXXXX" -> "dir/name". */
static int final_of_template(const char *tmpl, char *out, size_t cap)
{
    const char *slash = strrchr(tmpl, '/');
    const char *base = slash ? slash + 1 : tmpl;
    size_t dlen = (size_t)(base - tmpl), blen = strlen(base);
    if (base[0] != '.' || blen < 9 || strcmp(base + blen - 7, ".XXXXXX"))
        return -1;
    snprintf(out, cap, "%.*s%.*s", (int)dlen, tmpl, (int)(blen - 8), base + 1);
    return 0;
}

static int make_temp(char *tmpl, int (*real)(char *))
{
    if (file_op(VN_FI_CREATE, -1, tmpl))
        return -1;
    char final_path[4096];
    if (atomic_load(&inplace) && final_of_template(tmpl, final_path, sizeof final_path) == 0) {
        memcpy(tmpl + strlen(tmpl) - 6, "INPLAC", 6);
        return __real_open(final_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    }
    return real(tmpl);
}

int __wrap_mkstemp(char *tmpl)
{
    return make_temp(tmpl, __real_mkstemp);
}

int __wrap_mkstemp64(char *tmpl)
{
    return make_temp(tmpl, __real_mkstemp64);
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    if (file_op(VN_FI_WRITE, fd, NULL))
        return -1;
    return __real_write(fd, buf, n);
}

int __wrap_fsync(int fd)
{
    if (file_op(VN_FI_FSYNC, fd, NULL))
        return -1;
    return __real_fsync(fd);
}

int __wrap_close(int fd)
{
    if (file_op(VN_FI_CLOSE, fd, NULL)) {
        /* as after a real failed close, the descriptor is gone */
        int e = errno;
        __real_close(fd);
        errno = e;
        return -1;
    }
    return __real_close(fd);
}

int __wrap_rename(const char *from, const char *to)
{
    if (file_op(VN_FI_RENAME, -1, to))
        return -1;
    if (atomic_load(&inplace) && access(from, F_OK) != 0)
        return 0;
    return __real_rename(from, to);
}

static int open_mode(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, int) : 0;
}

/* open and open64 alike: the mode argument exists only when the flags create a file. */
#define WRAP_OPEN(real)                                                                           \
    va_list ap;                                                                                   \
    va_start(ap, flags);                                                                          \
    int mode = open_mode(flags, ap);                                                              \
    va_end(ap);                                                                                   \
    if (file_op(VN_FI_OPEN, -1, path))                                                            \
        return -1;                                                                                \
    return real(path, flags, mode)

int __wrap_open(const char *path, int flags, ...)
{
    WRAP_OPEN(__real_open);
}

int __wrap_open64(const char *path, int flags, ...)
{
    WRAP_OPEN(__real_open64);
}
