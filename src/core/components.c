/* Versions of the libraries vnative links, for `vnative info` and bug reports. */
#include "core/error.h"
#include "backend/cpu_gemm_onednn.h"
#ifdef VN_HAVE_CUDA
#include "cuda_backend.h"
#endif

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libswscale/swscale.h>
#include <pthread.h>
#include <stdio.h>

static char av_versions[4][24];

static void fmt_av(char *buf, size_t cap, unsigned v)
{
    snprintf(buf, cap, "%u.%u.%u", v >> 16, (v >> 8) & 0xff, v & 0xff);
}

static void fill_av(void)
{
    fmt_av(av_versions[0], sizeof av_versions[0], avformat_version());
    fmt_av(av_versions[1], sizeof av_versions[1], avcodec_version());
    fmt_av(av_versions[2], sizeof av_versions[2], avutil_version());
    fmt_av(av_versions[3], sizeof av_versions[3], swscale_version());
}

vn_status vn_component_version(vn_component component, const char **name, const char **version)
{
    VN_CHECK_NULL(name);
    VN_CHECK_NULL(version);
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fill_av);
    switch (component) {
    case VN_COMPONENT_ONEDNN:
        *name = "oneDNN", *version = vn_onednn_version();
        return VN_OK;
    case VN_COMPONENT_LIBAVFORMAT:
        *name = "libavformat", *version = av_versions[0];
        return VN_OK;
    case VN_COMPONENT_LIBAVCODEC:
        *name = "libavcodec", *version = av_versions[1];
        return VN_OK;
    case VN_COMPONENT_LIBAVUTIL:
        *name = "libavutil", *version = av_versions[2];
        return VN_OK;
    case VN_COMPONENT_LIBSWSCALE:
        *name = "libswscale", *version = av_versions[3];
        return VN_OK;
    case VN_COMPONENT_CUDA_RUNTIME:
    case VN_COMPONENT_CUBLAS:
        *name = component == VN_COMPONENT_CUBLAS ? "cuBLAS" : "CUDA runtime";
#ifdef VN_HAVE_CUDA
        *version = component == VN_COMPONENT_CUBLAS ? vn_cuda_cublas_version() : vn_cuda_runtime_version();
        return VN_OK;
#else
        *version = "";
        return vn_error(VN_ERR_UNSUPPORTED, "%s is not compiled into this build of libvnative", *name);
#endif
    }
    return vn_error(VN_ERR_INVALID_ARG, "vn_component_version: component %d is out of range (0..%d)", (int)component,
                    VN_COMPONENT_COUNT - 1);
}
