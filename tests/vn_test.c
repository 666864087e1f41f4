#include "vn_test.h"

#include <stdarg.h>
#include <string.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

vn_encoder_config vn_test_tiny_config(vn_encoder_family family, uint64_t seed)
{
    vn_encoder_config c = VN_ENCODER_CONFIG_INIT;
    c.family = family;
    c.frames = 4;
    c.size = 16;
    c.patch = 8;
    c.tubelet_t = family == VN_ENCODER_VIDEO ? 2 : 1;
    c.dim = 16;
    c.depth = 1;
    c.heads = 2;
    c.mlp_ratio = 2.0f;
    c.temporal_depth = 1;
    c.seed = seed;
    return c;
}

vn_train_options vn_test_tiny_train_options(const char *objectives, const char *data, int batch)
{
    vn_train_options o = VN_TRAIN_OPTIONS_INIT;
    o.objectives = objectives;
    o.data = data;
    o.batch = batch;
    o.total_steps = 20;
    o.lr = 1e-3f;
    o.predictor_dim = 8;
    o.predictor_depth = 1;
    o.predictor_heads = 2;
    o.eval_clips = 8;
    o.seed = 5;
    return o;
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

int vn_test_cuda_usable(char *why, size_t cap)
{
    int fd[2];
    if (pipe(fd) != 0) {
        snprintf(why, cap, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, cap, "fork: %s", strerror(errno));
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        close(fd[0]);
        int ok = 0;
        const char *reason = "";
        if (vn_backend_available(VN_BACKEND_CUDA, &ok, &reason) != VN_OK)
            ok = 0, reason = vn_last_error();
        dprintf(fd[1], "%d%s", ok ? 1 : 0, reason);
        _exit(0);
    }
    close(fd[1]);
    char buf[1024];
    size_t len = 0;
    ssize_t got;
    while (len < sizeof buf - 1 && (got = read(fd[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)got;
    buf[len] = '\0';
    close(fd[0]);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || len == 0) {
        snprintf(why, cap, "the CUDA probe process failed (wait status %d)", status);
        return -1;
    }
    snprintf(why, cap, "%s", buf + 1);
    return buf[0] == '1';
}

int vn_test_run_on_gpu(const char *name, Suite *(*make)(void))
{
    char why[1024];
    int usable = vn_test_cuda_usable(why, sizeof why);
    if (usable < 0) {
        fprintf(stderr, "%s: %s\n", name, why);
        return EXIT_FAILURE;
    }
    if (!usable)
        return vn_test_skip(name, why);
    return vn_test_run(make());
}
