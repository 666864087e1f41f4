/* The cpu backend: GEMMs on oneDNN, everything else in vectorised, threaded C. */
#include "backend/backend_cpu.h"
#include "backend/cpu_kernels.h"
#include "backend/host.h"
#include "core/error.h"
#include "nn/ops_internal.h"

#include <stdlib.h>
#include <string.h>

struct vn_backend_state {
    int n_threads;
    int bf16; /* oneDNN runs bf16 matmuls on bf16 hardware here */
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
    st->bf16 = vn_onednn_bf16_usable(NULL);
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

/* The base ops, the GELU epilogue, and BF16 where the CPU multiplies bf16 in hardware
 * (AMX, avx512_bf16): there it is several times faster than fp32. Without that
 * hardware bf16 would only be fp32 with worse results, and TF32 has no CPU
 * instructions at all, so both are refused rather than emulated slowly. */
static int cpu_supports(const vn_backend_state *st, vn_op op)
{
    return ((int)op >= 0 && op <= VN_OP_MAX) || op == VN_OP_GEMM_GELU ||
           ((op == VN_OP_GEMM_BF16 || op == VN_OP_GEMM_BF16_ACT) && st->bf16);
}

static const char *cpu_why_unsupported(const vn_backend_state *st, vn_op op)
{
    (void)st;
    const char *why = NULL;
    if (op == VN_OP_GEMM_BF16 || op == VN_OP_GEMM_BF16_ACT)
        vn_onednn_bf16_usable(&why);
    else if (op == VN_OP_GEMM_TF32)
        why = "TF32 is a GPU tensor-core format; the cpu backend's reduced precision is bf16";
    return why;
}

/*
 * With the GELU epilogue the GEMM runs into aux (laid out as C, so the oneDNN primitive
 * is the one C would get), with C's values copied there first when beta reads them;
 * then one pass writes GELU of aux into C. Not fused into the primitive: oneDNN's
 * eltwise post-op could apply GELU but would not keep the pre-activation, which is
 * what aux is for, and the extra pass is small next to the GEMM.
 */
static vn_status cpu_gemm(vn_backend_state *st, const vn_gemm_desc *d, const float *a, const float *b,
                          const float *bias, float *c)
{
    if (d->epilogue != VN_GEMM_EPI_GELU)
        return vn_onednn_gemm_run(st->gemm, d, a, b, bias, c, st->n_threads);
    if (d->beta != 0.0f)
        for (int64_t bi = 0; bi < d->batch; bi++)
            for (int64_t i = 0; i < d->m; i++)
                memcpy(d->aux + bi * d->stride_c + i * d->ldc, c + bi * d->stride_c + i * d->ldc,
                       (size_t)d->n * sizeof(float));
    vn_status s = vn_onednn_gemm_run(st->gemm, d, a, b, bias, d->aux, st->n_threads);
    if (s != VN_OK)
        return s;
    const int64_t rows = d->batch * d->m;
#pragma omp parallel for num_threads(st->n_threads) schedule(static) if (rows * d->n >= 32768)
    for (int64_t r = 0; r < rows; r++) {
        int64_t off = r / d->m * d->stride_c + r % d->m * d->ldc;
        vn_nn_gelu_fwd_rows(c + off, d->aux + off, d->n);
    }
    return VN_OK;
}

static vn_status cpu_gemm_bf16_act(vn_backend_state *st, const vn_gemm_desc *d, const uint16_t *a, const float *b,
                                   const float *bias, void *c, int c_bf16)
{
    return vn_onednn_gemm_run_bf16_act(st->gemm, d, a, b, bias, c, c_bf16, st->n_threads);
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
    .why_unsupported = cpu_why_unsupported,
    .gemm_bf16_act = cpu_gemm_bf16_act,
};
