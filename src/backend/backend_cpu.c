/* The cpu backend: GEMMs on oneDNN, everything else in vectorised, threaded C. */
#include "backend/backend_cpu.h"
#include "backend/cpu_kernels.h"
#include "backend/host.h"
#include "core/error.h"

#include <stdlib.h>

struct vn_backend_state {
    int n_threads;
    vn_onednn_gemm *gemm;
};

vn_onednn_gemm *vn_cpu_backend_gemm(vn_backend_state *st)
{
    return st->gemm;
}

static vn_status cpu_init(vn_backend_state **out, const vn_backend_config *cfg)
{
    vn_backend_state *st = calloc(1, sizeof *st);
    if (!st)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "cpu backend: out of memory");
    st->n_threads = cfg->n_threads > 0 ? cfg->n_threads : vn_host_cores();
    vn_status s = vn_onednn_gemm_create(&st->gemm);
    if (s != VN_OK) {
        free(st);
        return s;
    }
    *out = st;
    return VN_OK;
}

static void cpu_fini(vn_backend_state *st)
{
    if (!st)
        return;
    vn_onednn_gemm_destroy(st->gemm);
    free(st);
}

static int cpu_supports(const vn_backend_state *st, vn_op op)
{
    (void)st;
    return (int)op >= 0 && op < VN_OP_COUNT;
}

static vn_status cpu_gemm(vn_backend_state *st, const vn_gemm_desc *d, const float *a, const float *b,
                          const float *bias, float *c)
{
    return vn_onednn_gemm_run(st->gemm, d, a, b, bias, c, st->n_threads);
}

static vn_status cpu_add(vn_backend_state *st, int64_t n, const float *a, const float *b, float *y)
{
    vn_cpu_add(st->n_threads, n, a, b, y);
    return VN_OK;
}

static vn_status cpu_mul(vn_backend_state *st, int64_t n, const float *a, const float *b, float *y)
{
    vn_cpu_mul(st->n_threads, n, a, b, y);
    return VN_OK;
}

static vn_status cpu_scale(vn_backend_state *st, int64_t n, float alpha, const float *x, float *y)
{
    vn_cpu_scale(st->n_threads, n, alpha, x, y);
    return VN_OK;
}

static vn_status cpu_axpy(vn_backend_state *st, int64_t n, float alpha, const float *x, float *y)
{
    vn_cpu_axpy(st->n_threads, n, alpha, x, y);
    return VN_OK;
}

static vn_status reduce_status(int rc, const char *op, int64_t n)
{
    return rc == 0 ? VN_OK
                   : vn_error(VN_ERR_OUT_OF_MEMORY, "%s: no memory for the block results of %lld elements", op,
                              (long long)n);
}

static vn_status cpu_sum(vn_backend_state *st, int64_t n, const float *x, float *out)
{
    return reduce_status(vn_cpu_sum(st->n_threads, n, x, out), "sum", n);
}

static vn_status cpu_sumsq(vn_backend_state *st, int64_t n, const float *x, float *out)
{
    return reduce_status(vn_cpu_sumsq(st->n_threads, n, x, out), "sumsq", n);
}

static vn_status cpu_max(vn_backend_state *st, int64_t n, const float *x, float *out)
{
    return reduce_status(vn_cpu_max(st->n_threads, n, x, out), "max", n);
}

const vn_backend vn_backend_cpu = {
    .kind = VN_BACKEND_CPU,
    .name = "cpu",
    .available = vn_host_available,
    .device_count = vn_host_device_count,
    .device_info = vn_host_device_info,
    .init = cpu_init,
    .fini = cpu_fini,
    .supports = cpu_supports,
    .alloc = vn_host_alloc,
    .free = vn_host_free,
    .upload = vn_host_copy_in,
    .download = vn_host_copy_out,
    .synchronize = vn_host_synchronize,
    .gemm = cpu_gemm,
    .add = cpu_add,
    .mul = cpu_mul,
    .scale = cpu_scale,
    .axpy = cpu_axpy,
    .sum = cpu_sum,
    .sumsq = cpu_sumsq,
    .max = cpu_max,
};
