/*
 * comm_nccl.c: the cuda backend's collectives on NCCL: the gradients of data-parallel
 * training are summed across processes where they are, in device memory, on the
 * context's stream, instead of through the host.
 */
#include "core/error.h"
#include "cuda_state.h"

#ifdef VN_HAVE_NCCL

#include <nccl.h>
#include <string.h>

static vn_status nccl_fail(ncclResult_t r, const char *what)
{
    return vn_error(r == ncclSystemError || r == ncclRemoteError ? VN_ERR_IO : VN_ERR_BACKEND,
                    "cuda backend: %s failed: %s (%s)", what, ncclGetErrorString(r), ncclGetLastError(NULL));
}

vn_status vn_cuda_comm_id(void *id, size_t cap, size_t *len)
{
    ncclUniqueId u;
    if (cap < sizeof u)
        return vn_error(VN_ERR_INVALID_ARG, "cuda backend: an NCCL id needs %zu bytes, the buffer has %zu",
                        sizeof u, cap);
    ncclResult_t r = ncclGetUniqueId(&u);
    if (r != ncclSuccess)
        return nccl_fail(r, "ncclGetUniqueId");
    memcpy(id, &u, sizeof u);
    *len = sizeof u;
    return VN_OK;
}

vn_status vn_cuda_comm_init(vn_backend_state *st, const void *id, size_t len, int rank, int size)
{
    ncclUniqueId u;
    if (len != sizeof u)
        return vn_error(VN_ERR_INVALID_ARG, "cuda backend: an NCCL id is %zu bytes, not %zu", sizeof u, len);
    if (st->comm)
        return vn_error(VN_ERR_STATE, "cuda backend: the context already has a communicator");
    vn_status s = vn_cuda_use_device(st);
    if (s != VN_OK)
        return s;
    memcpy(&u, id, sizeof u);
    ncclComm_t comm = NULL;
    /* Blocks until every rank of the group has joined. */
    ncclResult_t r = ncclCommInitRank(&comm, size, u, rank);
    if (r != ncclSuccess)
        return nccl_fail(r, "ncclCommInitRank");
    st->comm = comm;
    return VN_OK;
}

vn_status vn_cuda_allreduce_sum(vn_backend_state *st, float *buf, int64_t n)
{
    if (!st->comm)
        return vn_error(VN_ERR_STATE, "cuda backend: all-reduce before comm_init");
    if (n <= 0)
        return VN_OK;
    vn_status s = vn_cuda_use_device(st);
    if (s != VN_OK)
        return s;
    /* Queued on the compute stream: after the backward that wrote buf, before the
     * update that reads it. NCCL's ring order is fixed for a given group, so every rank
     * gets the same sums. */
    ncclResult_t r = ncclAllReduce(buf, buf, (size_t)n, ncclFloat, ncclSum, (ncclComm_t)st->comm, st->stream);
    return r == ncclSuccess ? VN_OK : nccl_fail(r, "ncclAllReduce");
}

void vn_cuda_comm_fini(vn_backend_state *st)
{
    if (st && st->comm) {
        ncclCommDestroy((ncclComm_t)st->comm);
        st->comm = NULL;
    }
}

#else /* a toolkit without NCCL: no collectives, and supports() says so */

void vn_cuda_comm_fini(vn_backend_state *st)
{
    (void)st;
}

#endif
