/*
 * The CUDA toolkit versions this build compiled against, from the headers alone: no
 * driver or runtime call, so they can be reported where no GPU exists. Compiled into
 * both libvnative (for `vnative info`, without loading the module) and the module.
 */
#include "cuda_backend.h"

#include <cublas_api.h>
#include <cuda_runtime_api.h>
#include <pthread.h>
#include <stdio.h>

#ifndef VN_CUDA_ARCHS
#  define VN_CUDA_ARCHS "(unknown)"
#endif

#define VN_STR_(x) #x
#define VN_STR(x) VN_STR_(x)

static char runtime_version[16];
static pthread_once_t runtime_version_once = PTHREAD_ONCE_INIT;

static void fill_runtime_version(void)
{
    /* CUDART_VERSION is 1000 * major + 10 * minor, e.g. 13000 for 13.0. */
    snprintf(runtime_version, sizeof runtime_version, "%d.%d", CUDART_VERSION / 1000, CUDART_VERSION % 1000 / 10);
}

const char *vn_cuda_runtime_version(void)
{
    pthread_once(&runtime_version_once, fill_runtime_version);
    return runtime_version;
}

const char *vn_cuda_cublas_version(void)
{
    return VN_STR(CUBLAS_VER_MAJOR) "." VN_STR(CUBLAS_VER_MINOR) "." VN_STR(CUBLAS_VER_PATCH);
}

const char *vn_cuda_archs(void)
{
    return VN_CUDA_ARCHS;
}

