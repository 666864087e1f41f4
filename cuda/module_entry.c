/*
 * The module side of libvnative-cuda.so: its one exported entry point, and the error
 * and log functions the backend calls, routed back into the loading libvnative so that
 * messages land in the caller's vn_last_error() and log callback, not in a second copy
 * of the library's state.
 */
#include "core/error.h"
#include "cuda_module.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vnative/version.h"

static const vn_cuda_host *host;

vn_status vn_error(vn_status status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (host)
        host->set_error(status, msg);
    return status;
}

void vn_log(vn_log_level level, const char *fmt, ...)
{
    if (!host)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    host->log(level, msg);
}

extern const vn_backend vn_backend_cuda;

static const vn_cuda_module module = {VN_CUDA_MODULE_ABI, &vn_backend_cuda};

__attribute__((visibility("default"))) const vn_cuda_module *vn_cuda_module_entry(const vn_cuda_host *h,
                                                                                  const char **why);

const vn_cuda_module *vn_cuda_module_entry(const vn_cuda_host *h, const char **why)
{
    if (!h || h->abi != VN_CUDA_MODULE_ABI || !h->version || strcmp(h->version, VN_VERSION_STRING) != 0) {
        *why = "the CUDA module " VN_CUDA_MODULE_FILE " was built for libvnative " VN_VERSION_STRING
               " and another library version loaded it; reinstall both from one build";
        return NULL;
    }
    host = h;
    return &module;
}
