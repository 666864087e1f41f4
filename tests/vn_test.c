#include "vn_test.h"

#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *vn_test_tmpdir(void)
{
    static char dir[512];
    if (dir[0])
        return dir;
    const char *base = getenv("VN_TEST_TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    mkdir(base, 0755);
    snprintf(dir, sizeof dir, "%s/vn-%ld", base, (long)getpid());
    mkdir(dir, 0755);
    return dir;
}

void fmt_into(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

vn_encoder_config vn_test_small_config(vn_encoder_family family, uint64_t seed)
{
    vn_encoder_config c = VN_ENCODER_CONFIG_INIT;
    c.family = family;
    c.frames = 8;
    c.size = 16;
    c.patch = 4;
    c.tubelet_t = family == VN_ENCODER_VIDEO ? 2 : 1;
    c.dim = 32;
    c.depth = 1;
    c.heads = 2;
    c.temporal_depth = 1;
    c.seed = seed;
    return c;
}

vn_context *vn_test_cpu_context(int n_threads)
{
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    o.backend = VN_BACKEND_CPU;
    o.n_threads = n_threads;
    o.deterministic = 1;
    vn_context *ctx = NULL;
    VN_ASSERT_OK(vn_context_create(&ctx, &o));
    return ctx;
}
