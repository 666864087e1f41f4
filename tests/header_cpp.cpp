// The public headers compile as C++ (extern "C", no C-only constructs), and link.
#include <vnative/vnative.h>

#include <cstdio>
#include <string>

int main()
{
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    vn_transform_options t = VN_TRANSFORM_OPTIONS_INIT;
    vn_loader_options lo = VN_LOADER_OPTIONS_INIT;
    (void)t;
    (void)lo;
    o.backend = VN_BACKEND_CPU;
    vn_context *ctx = nullptr;
    if (vn_context_create(&ctx, &o) != VN_OK) {
        std::fprintf(stderr, "%s\n", vn_last_error());
        return 1;
    }
    vn_backend_kind k;
    vn_context_backend(ctx, &k);
    vn_context_destroy(ctx);
    return std::string(vn_backend_name(k)) == "cpu" ? 0 : 1;
}
