/*
 * The smallest vnative program: create a context, ask which backend runs it.
 *
 *   cc info.c $(pkg-config --cflags --libs vnative) -o info && ./info
 */
#include <stdio.h>
#include <vnative/vnative.h>

int main(void)
{
    if (vn_version_number() / 10000 != VN_VERSION_MAJOR) {
        fprintf(stderr, "header %s and library %s disagree on the major version\n", VN_VERSION_STRING, vn_version());
        return 1;
    }
    vn_context_options opts = VN_CONTEXT_OPTIONS_INIT;
    opts.seed = 42;
    vn_context *ctx = NULL;
    if (vn_context_create(&ctx, &opts) != VN_OK) {
        fprintf(stderr, "vn_context_create: %s\n", vn_last_error());
        return 1;
    }
    vn_backend_kind kind;
    int threads;
    vn_context_backend(ctx, &kind);
    vn_context_threads(ctx, &threads);
    printf("vnative %s on the %s backend with %d threads\n", vn_version(), vn_backend_name(kind), threads);
    vn_context_destroy(ctx);
    return 0;
}
