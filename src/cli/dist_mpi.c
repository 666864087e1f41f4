/*
 * dist_mpi.c: the Open MPI side of data-parallel training (dist_mpi.h).
 */
#include "cli/dist_mpi.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef VN_CLI_HAVE_MPI
#include <mpi.h>
#endif

/* The launcher's word for how many processes there are, or 0 outside a launcher. */
static int launched_size(void)
{
    const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return atoi(v);
    }
    return getenv("PMIX_RANK") ? 1 : 0;
}

int vn_cli_dist_local_rank(void)
{
    const char *v = getenv("OMPI_COMM_WORLD_LOCAL_RANK");
    if (!v)
        v = getenv("MPI_LOCALRANKID");
    return v && *v ? atoi(v) : 0;
}

int vn_cli_dist_compiled(void)
{
#ifdef VN_CLI_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

#ifdef VN_CLI_HAVE_MPI

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void mpi_message(int code, char *buf, size_t cap)
{
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, s, &len) != MPI_SUCCESS)
        snprintf(s, sizeof s, "MPI error %d", code);
    snprintf(buf, cap, "%s", s);
}

int vn_cli_dist_init(vn_cli_dist *d, double timeout_s, char *msg, size_t cap)
{
    memset(d, 0, sizeof *d);
    d->size = 1;
    d->timeout_s = timeout_s;
    if (launched_size() < 1)
        return 0;
    /* One thread calls MPI (the training loop); OpenMP threads never do. */
    int provided = 0;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        snprintf(msg, cap, "MPI_Init_thread failed");
        return -1;
    }
    d->active = 1;
    /* errors come back as codes, so that a dead peer is reported rather than fatal here */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    return 0;
}

__attribute__((format(printf, 4, 5))) static vn_status fail(char *msg, size_t cap, vn_status st, const char *fmt,
                                                              ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return st;
}

/*
 * A non-blocking all-reduce polled against the clock: a peer that died or hangs makes
 * this replica give up after timeout_s instead of waiting forever (mpirun usually
 * takes the job down sooner when a process dies; this covers the cases it does not).
 * The first millisecond spins, since a healthy peer answers within it on one machine.
 */
static vn_status allreduce_sum(void *user, float *buf, int64_t n, char *msg, size_t cap)
{
    vn_cli_dist *d = user;
    if (n > INT32_MAX)
        return fail(msg, cap, VN_ERR_INVALID_ARG, "all-reduce of %lld floats: more than MPI's int count",
                    (long long)n);
    MPI_Request req;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &req);
    if (rc != MPI_SUCCESS) {
        char m[MPI_MAX_ERROR_STRING + 64];
        mpi_message(rc, m, sizeof m);
        return fail(msg, cap, VN_ERR_IO, "rank %d: MPI_Iallreduce: %s", d->rank, m);
    }
    double t0 = now_s();
    for (long spins = 0;; spins++) {
        int done = 0;
        rc = MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) {
            char m[MPI_MAX_ERROR_STRING + 64];
            mpi_message(rc, m, sizeof m);
            return fail(msg, cap, VN_ERR_IO, "rank %d: all-reduce failed (a peer is gone?): %s", d->rank, m);
        }
        if (done) {
            d->reduce_s += now_s() - t0;
            d->reduces++;
            return VN_OK;
        }
        double waited = now_s() - t0;
        if (waited > d->timeout_s)
            return fail(msg, cap, VN_ERR_IO,
                        "rank %d: no answer from the other ranks in %.0f s (--dist-timeout): a rank died or hangs",
                        d->rank, waited);
        if (waited > 1e-3) {
            struct timespec pause = {0, 200000};
            nanosleep(&pause, NULL);
        }
    }
}

int vn_cli_dist_comm_id(vn_cli_dist *d, vn_context *ctx, unsigned char *id, size_t cap, size_t *len, char *msg,
                        size_t mcap)
{
    unsigned long long n = 0;
    if (d->rank == 0 && vn_context_comm_id(ctx, id, cap, len) == VN_OK)
        n = *len;
    if (MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD) != MPI_SUCCESS ||
        (n > 0 && n <= cap && MPI_Bcast(id, (int)n, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)) {
        snprintf(msg, mcap, "rank %d: sharing the device collectives' id failed", d->rank);
        return -1;
    }
    *len = n <= cap ? (size_t)n : 0;
    return 0;
}

vn_train_dist vn_cli_dist_hook(vn_cli_dist *d)
{
    vn_train_dist h = VN_TRAIN_DIST_INIT;
    h.rank = d->rank;
    h.world_size = d->size;
    h.allreduce_sum = allreduce_sum;
    h.user = d;
    return h;
}

/* FNV-1a over the bytes of every parameter, in the encoder's order. */
static int weights_hash(const vn_encoder *enc, uint64_t *out)
{
    int n = 0;
    uint64_t h = 1469598103934665603ULL;
    if (vn_encoder_param_count(enc, &n) != VN_OK)
        return -1;
    for (int i = 0; i < n; i++) {
        const char *name;
        int ndim;
        int64_t shape[VN_MAX_DIMS], numel = 1;
        if (vn_encoder_param_info(enc, i, &name, &ndim, shape) != VN_OK)
            return -1;
        for (int k = 0; k < ndim; k++)
            numel *= shape[k];
        float *w = malloc((size_t)numel * sizeof *w);
        vn_tensor t;
        if (!w || vn_tensor_init(&t, w, VN_DTYPE_F32, ndim, shape) != VN_OK ||
            vn_encoder_get_param(enc, name, &t) != VN_OK) {
            free(w);
            return -1;
        }
        const unsigned char *b = (const unsigned char *)w;
        for (size_t k = 0; k < (size_t)numel * sizeof *w; k++)
            h = (h ^ b[k]) * 1099511628211ULL;
        free(w);
    }
    *out = h;
    return 0;
}

int vn_cli_dist_same_weights(vn_cli_dist *d, const vn_encoder *enc, char *msg, size_t cap)
{
    uint64_t h = 0, lo = 0, hi = 0;
    if (weights_hash(enc, &h) != 0) {
        snprintf(msg, cap, "hashing the weights: %s", vn_last_error());
        return -1;
    }
    if (d->size == 1)
        return 1;
    if (MPI_Allreduce(&h, &lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS ||
        MPI_Allreduce(&h, &hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS) {
        snprintf(msg, cap, "comparing the replicas' weights: an MPI call failed");
        return -1;
    }
    return lo == hi;
}

void vn_cli_dist_end(vn_cli_dist *d, int rc)
{
    if (!d->active)
        return;
    if (rc != 0 && d->size > 1) {
        fflush(stdout);
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, rc);
    }
    MPI_Finalize();
    d->active = 0;
}

#else /* built without MPI */

int vn_cli_dist_init(vn_cli_dist *d, double timeout_s, char *msg, size_t cap)
{
    memset(d, 0, sizeof *d);
    d->size = 1;
    d->timeout_s = timeout_s;
    if (launched_size() > 1) {
        snprintf(msg, cap, "started by mpirun with %d processes, but this vnative was built without MPI "
                           "(install libopenmpi-dev and rebuild; meson option -Dmpi)", launched_size());
        return -1;
    }
    return 0;
}

vn_train_dist vn_cli_dist_hook(vn_cli_dist *d)
{
    (void)d;
    return (vn_train_dist)VN_TRAIN_DIST_INIT;
}

int vn_cli_dist_comm_id(vn_cli_dist *d, vn_context *ctx, unsigned char *id, size_t cap, size_t *len, char *msg,
                        size_t mcap)
{
    (void)d, (void)ctx, (void)id, (void)cap, (void)msg, (void)mcap;
    *len = 0;
    return 0;
}

int vn_cli_dist_same_weights(vn_cli_dist *d, const vn_encoder *enc, char *msg, size_t cap)
{
    (void)d;
    (void)enc;
    (void)msg;
    (void)cap;
    return 1;
}

void vn_cli_dist_end(vn_cli_dist *d, int rc)
{
    (void)d;
    (void)rc;
}

#endif
