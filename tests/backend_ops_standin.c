/*
 * A device stand-in for the backend-ops harness. The development and CI machines
 * have no GPU, so the cuda run of the harness always SKIPs there; this backend is
 * how the harness's own device discipline gets exercised anyway:
 *   - the addresses it hands out are PROT_NONE mappings, so a harness that reads
 *     or writes backend memory from the host, instead of going through upload and
 *     download, faults;
 *   - upload and download check that a copy stays inside the buffer;
 *   - mul and max are missing, so the refuse-and-skip path runs, which the cpu
 *     backend (it has every op) never takes;
 *   - upload_async copies the host bytes at once but lands them only when the next
 *     op, transfer, synchronize or free needs them, as a device's copy queue would.
 * The arithmetic is the reference's, GEMM variants included, on host copies of the
 * buffers.
 */
#include "backend_ops.h"

#include <string.h>
#include <sys/mman.h>

#include "backend/host.h"
#include "core/error.h"

#define MAX_BUFFERS 64

typedef struct buffer {
    char *handle; /* what callers see: no access */
    char *bytes;  /* where the data is */
    size_t size;
} buffer;

/* An upload_async not landed yet: its bytes, and where they go. */
typedef struct pending {
    char *dst;
    char *bytes;
    size_t size;
    struct pending *next;
} pending;

struct vn_backend_state {
    vn_be ref;
    buffer bufs[MAX_BUFFERS];
    pending *queue, **tail;
};

static size_t mapped_size(size_t size)
{
    return size ? size : 1;
}

/* The host copy behind p, which must lie in a buffer with room for bytes more. */
static char *host_at(vn_backend_state *st, const void *p, size_t bytes)
{
    if (!p)
        return NULL;
    uintptr_t u = (uintptr_t)p;
    for (int i = 0; i < MAX_BUFFERS; i++) {
        buffer *b = &st->bufs[i];
        uintptr_t h = (uintptr_t)b->handle;
        if (b->handle && u >= h && u < h + mapped_size(b->size)) {
            ck_assert_msg(u - h + bytes <= b->size,
                          "device stand-in: %zu bytes at offset %zu overrun a %zu-byte buffer", bytes,
                          (size_t)(u - h), b->size);
            return b->bytes + (u - h);
        }
    }
    ck_abort_msg("device stand-in: %p is not a buffer it handed out", p);
    return NULL;
}

/* Ops see whole buffers: bounds are the reference's business there. */
static const float *in(vn_backend_state *st, const float *p)
{
    return (const float *)host_at(st, p, 0);
}

static float *out(vn_backend_state *st, float *p)
{
    return (float *)host_at(st, p, 0);
}

/* Lands the pending uploads in the order they were made. Every entry point that reads
 * or writes buffers calls it first. */
static void land(vn_backend_state *st)
{
    while (st->queue) {
        pending *p = st->queue;
        memcpy(p->dst, p->bytes, p->size);
        st->queue = p->next;
        free(p->bytes);
        free(p);
    }
    st->tail = &st->queue;
}

static int standin_available(const char **reason)
{
    return vn_host_available(reason);
}

static vn_status standin_init(vn_backend_state **out_st, const vn_backend_config *cfg)
{
    vn_backend_state *st = calloc(1, sizeof *st);
    if (!st)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "device stand-in: out of memory");
    vn_status s = vn_be_open(&st->ref, VN_BACKEND_REFERENCE, cfg);
    if (s != VN_OK) {
        free(st);
        return s;
    }
    st->tail = &st->queue;
    *out_st = st;
    return VN_OK;
}

static void standin_free(vn_backend_state *st, void *ptr);

static void standin_fini(vn_backend_state *st)
{
    land(st);
    for (int i = 0; i < MAX_BUFFERS; i++)
        if (st->bufs[i].handle)
            standin_free(st, st->bufs[i].handle);
    vn_be_close(&st->ref);
    free(st);
}

static int standin_supports(const vn_backend_state *st, vn_op op);

static vn_status standin_alloc(vn_backend_state *st, size_t bytes, void **ptr)
{
    for (int i = 0; i < MAX_BUFFERS; i++) {
        buffer *b = &st->bufs[i];
        if (b->handle)
            continue;
        void *h = mmap(NULL, mapped_size(bytes), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (h == MAP_FAILED)
            return vn_error(VN_ERR_OUT_OF_MEMORY, "device stand-in: cannot map %zu bytes", bytes);
        void *data = NULL;
        vn_status s = vn_be_alloc(&st->ref, bytes, &data);
        if (s != VN_OK) {
            munmap(h, mapped_size(bytes));
            return s;
        }
        b->handle = h, b->bytes = data, b->size = bytes;
        *ptr = h;
        return VN_OK;
    }
    return vn_error(VN_ERR_OUT_OF_MEMORY, "device stand-in: more than %d live buffers", MAX_BUFFERS);
}

static void standin_free(vn_backend_state *st, void *ptr)
{
    land(st);
    for (int i = 0; i < MAX_BUFFERS; i++) {
        buffer *b = &st->bufs[i];
        if (b->handle != ptr)
            continue;
        munmap(b->handle, mapped_size(b->size));
        vn_be_free(&st->ref, b->bytes);
        memset(b, 0, sizeof *b);
        return;
    }
    ck_abort_msg("device stand-in: free of %p, which is not a buffer it handed out", ptr);
}

static vn_status standin_upload(vn_backend_state *st, void *dst, const void *src_host, size_t bytes)
{
    land(st);
    memcpy(host_at(st, dst, bytes), src_host, bytes);
    return VN_OK;
}

static vn_status standin_upload_async(vn_backend_state *st, void *dst, const void *src_host, size_t bytes)
{
    pending *p = calloc(1, sizeof *p);
    char *copy = malloc(bytes);
    if (!p || !copy) {
        free(p), free(copy);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "device stand-in: no memory to stage %zu bytes", bytes);
    }
    memcpy(copy, src_host, bytes);
    p->dst = host_at(st, dst, bytes), p->bytes = copy, p->size = bytes;
    *st->tail = p;
    st->tail = &p->next;
    return VN_OK;
}

static vn_status standin_download(vn_backend_state *st, void *dst_host, const void *src, size_t bytes)
{
    land(st);
    memcpy(dst_host, host_at(st, src, bytes), bytes);
    return VN_OK;
}

static vn_status standin_synchronize(vn_backend_state *st)
{
    land(st);
    return VN_OK;
}

/* aux is a buffer too, behind the desc. */
static vn_status standin_gemm(vn_backend_state *st, const vn_gemm_desc *d, const float *a, const float *b,
                              const float *bias, float *c)
{
    land(st);
    vn_gemm_desc dd = *d;
    dd.aux = d->epilogue == VN_GEMM_EPI_GELU ? out(st, d->aux) : NULL;
    return vn_be_gemm(&st->ref, &dd, in(st, a), in(st, b), in(st, bias), out(st, c));
}

static vn_status standin_add(vn_backend_state *st, int64_t n, const float *a, const float *b, float *y)
{
    land(st);
    return vn_be_add(&st->ref, n, in(st, a), in(st, b), out(st, y));
}

static vn_status standin_scale(vn_backend_state *st, int64_t n, float alpha, const float *x, float *y)
{
    land(st);
    return vn_be_scale(&st->ref, n, alpha, in(st, x), out(st, y));
}

static vn_status standin_axpy(vn_backend_state *st, int64_t n, float alpha, const float *x, float *y)
{
    land(st);
    return vn_be_axpy(&st->ref, n, alpha, in(st, x), out(st, y));
}

static vn_status standin_sum(vn_backend_state *st, int64_t n, const float *x, float *res)
{
    land(st);
    return vn_be_sum(&st->ref, n, in(st, x), out(st, res));
}

static vn_status standin_sumsq(vn_backend_state *st, int64_t n, const float *x, float *res)
{
    land(st);
    return vn_be_sumsq(&st->ref, n, in(st, x), out(st, res));
}

const vn_backend vn_ops_device_standin = {
    .kind = VN_BACKEND_REFERENCE,
    .name = "device_standin",
    .available = standin_available,
    .device_count = vn_host_device_count,
    .device_info = vn_host_device_info,
    .init = standin_init,
    .fini = standin_fini,
    .supports = standin_supports,
    .alloc = standin_alloc,
    .free = standin_free,
    .upload = standin_upload,
    .download = standin_download,
    .synchronize = standin_synchronize,
    .upload_async = standin_upload_async,
    .gemm = standin_gemm,
    .add = standin_add,
    .mul = NULL,
    .scale = standin_scale,
    .axpy = standin_axpy,
    .sum = standin_sum,
    .sumsq = standin_sumsq,
    .max = NULL,
};

/* Read off the table, as the cuda backend does, so the two cannot disagree; the GEMM
 * variants are the reference's. */
static int standin_supports(const vn_backend_state *st, vn_op op)
{
    (void)st;
    if (op == VN_OP_GEMM_TF32 || op == VN_OP_GEMM_BF16 || op == VN_OP_GEMM_GELU)
        return 1;
    return vn_ops_table_has(&vn_ops_device_standin, op);
}
