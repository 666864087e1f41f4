/*
 * The cuda backend's device memory: a per-context caching allocator, and the staging
 * ring behind upload_async.
 *
 * cudaMalloc and cudaFree are slow and cudaFree synchronises the whole device, which
 * a training step that allocates its temporaries every iteration cannot afford. So a
 * freed buffer is kept, on a free list per size class, and handed out again for a
 * request of the same class. Every op of a context runs on its one stream, so the
 * next owner's work on a reused buffer is queued after the previous owner's: reuse
 * needs no synchronisation. Only when cudaMalloc fails is the cache given back to
 * the driver (after the stream drains) and the allocation tried once more.
 */
#include "core/error.h"
#include "cuda_state.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- size classes ------------------------------------------------------------------- */

/* Eight classes per power of two from 256 bytes: a buffer is at most 12.5% larger than
 * asked for, and a loop that asks for the same sizes every step hits the cache. */
#define MIN_BLOCK 256
#define CLASSES_PER_OCTAVE 8
#define MAX_BYTES ((size_t)1 << 62)
#define N_CLASSES ((62 - 8 + 1) * CLASSES_PER_OCTAVE)

static int floor_log2(size_t v)
{
    return 63 - __builtin_clzll((unsigned long long)v);
}

/* The class of a request and the size of its blocks. bytes <= MAX_BYTES. */
static size_t class_of(size_t bytes, int *cls)
{
    size_t s = bytes < MIN_BLOCK ? MIN_BLOCK : bytes;
    size_t step = (size_t)1 << (floor_log2(s) - 3);
    size_t r = (s + step - 1) & ~(step - 1);
    int e = floor_log2(r); /* rounding up may have reached the next power of two */
    *cls = (e - 8) * CLASSES_PER_OCTAVE + (int)((r >> (e - 3)) & (CLASSES_PER_OCTAVE - 1));
    return r;
}

/* ---- the arena ---------------------------------------------------------------------- */

typedef struct block {
    void *ptr;
    size_t size;
    int cls;
    int live;
    struct block *hnext; /* the pointer hash's chain */
    struct block *fnext; /* the free list of its class */
} block;

struct vn_cuda_arena {
    pthread_mutex_t lock;
    block **buckets; /* every block, live or free, by pointer */
    int bucket_bits;
    size_t n_blocks;
    block *free_lists[N_CLASSES];
    size_t reserved; /* bytes this context holds from cudaMalloc */
    size_t cached;   /* of which on the free lists */
};

static size_t bucket_of(const struct vn_cuda_arena *ar, const void *p)
{
    /* Device pointers are at least 256-byte aligned; Fibonacci hashing spreads the rest. */
    uint64_t h = ((uint64_t)(uintptr_t)p >> 8) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> (64 - ar->bucket_bits));
}

static block *find(const struct vn_cuda_arena *ar, const void *p)
{
    for (block *b = ar->buckets[bucket_of(ar, p)]; b; b = b->hnext)
        if (b->ptr == p)
            return b;
    return NULL;
}

static void unlink_block(struct vn_cuda_arena *ar, block *b)
{
    block **pp = &ar->buckets[bucket_of(ar, b->ptr)];
    while (*pp != b)
        pp = &(*pp)->hnext;
    *pp = b->hnext;
    ar->n_blocks--;
}

/* Doubles the table past two blocks per bucket. A failed malloc keeps the old table,
 * whose chains just get longer. */
static void insert(struct vn_cuda_arena *ar, block *b)
{
    if (ar->n_blocks >= (size_t)2 << ar->bucket_bits) {
        int bits = ar->bucket_bits + 1;
        block **nb = calloc((size_t)1 << bits, sizeof *nb);
        if (nb) {
            block **old = ar->buckets;
            size_t n_old = (size_t)1 << ar->bucket_bits;
            ar->buckets = nb;
            ar->bucket_bits = bits;
            for (size_t i = 0; i < n_old; i++)
                for (block *x = old[i], *next; x; x = next) {
                    next = x->hnext;
                    size_t h = bucket_of(ar, x->ptr);
                    x->hnext = nb[h];
                    nb[h] = x;
                }
            free(old);
        }
    }
    size_t h = bucket_of(ar, b->ptr);
    b->hnext = ar->buckets[h];
    ar->buckets[h] = b;
    ar->n_blocks++;
}

vn_status vn_cuda_arena_create(vn_backend_state *st)
{
    struct vn_cuda_arena *ar = calloc(1, sizeof *ar);
    if (ar)
        ar->bucket_bits = 8, ar->buckets = calloc((size_t)1 << ar->bucket_bits, sizeof *ar->buckets);
    if (!ar || !ar->buckets) {
        free(ar);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "cuda backend: out of host memory for the device allocator");
    }
    pthread_mutex_init(&ar->lock, NULL);
    st->arena = ar;
    return VN_OK;
}

void vn_cuda_arena_destroy(vn_backend_state *st)
{
    struct vn_cuda_arena *ar = st->arena;
    if (!ar)
        return;
    size_t leaked = 0;
    for (size_t i = 0; i < (size_t)1 << ar->bucket_bits; i++)
        for (block *b = ar->buckets[i], *next; b; b = next) {
            next = b->hnext;
            leaked += b->live;
            cudaFree(b->ptr);
            free(b);
        }
    (void)cudaGetLastError();
    /* The backend's own buffers (workspaces, staging) are live here by design; more
     * is the caller's: freed all the same, since the device memory is the context's. */
    vn_log(VN_LOG_DEBUG,
           "cuda backend: context released %zu MiB of device memory (%zu buffers still live, the backend's own "
           "included)",
           ar->reserved >> 20, leaked);
    free(ar->buckets);
    pthread_mutex_destroy(&ar->lock);
    free(ar);
    st->arena = NULL;
}

/* Gives the free lists back to the driver. The blocks' last users may still be queued,
 * so the stream drains first (cudaFree would wait for the device anyway). */
static void release_cache(vn_backend_state *st, struct vn_cuda_arena *ar)
{
    (void)cudaStreamSynchronize(st->stream);
    for (int c = 0; c < N_CLASSES; c++) {
        for (block *b = ar->free_lists[c], *next; b; b = next) {
            next = b->fnext;
            unlink_block(ar, b);
            cudaFree(b->ptr);
            ar->reserved -= b->size;
            free(b);
        }
        ar->free_lists[c] = NULL;
    }
    ar->cached = 0;
    (void)cudaGetLastError();
}

static vn_status out_of_memory(const vn_backend_state *st, const struct vn_cuda_arena *ar, size_t bytes,
                               size_t size)
{
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess)
        free_b = total_b = 0;
    (void)cudaGetLastError();
    return vn_error(VN_ERR_OUT_OF_MEMORY,
                    "cuda backend: out of device memory allocating %zu bytes (a %zu-byte block) on device %d: "
                    "%zu MiB of %zu MiB free on the device, %zu MiB held by this context",
                    bytes, size, st->device, free_b >> 20, total_b >> 20, ar->reserved >> 20);
}

vn_status vn_cuda_arena_alloc(vn_backend_state *st, size_t bytes, void **out)
{
    struct vn_cuda_arena *ar = st->arena;
    if (bytes > MAX_BYTES)
        return out_of_memory(st, ar, bytes, bytes);
    int cls;
    size_t size = class_of(bytes, &cls);
    pthread_mutex_lock(&ar->lock);
    block *b = ar->free_lists[cls];
    if (b) {
        ar->free_lists[cls] = b->fnext;
        ar->cached -= b->size;
        b->live = 1;
        pthread_mutex_unlock(&ar->lock);
        *out = b->ptr;
        return VN_OK;
    }
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, size);
    if (e == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError();
        release_cache(st, ar);
        e = cudaMalloc(&p, size);
    }
    vn_status s = VN_OK;
    if (e == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError();
        s = out_of_memory(st, ar, bytes, size);
    } else if (e != cudaSuccess) {
        s = vn_cuda_fail(e, "cudaMalloc");
    } else if ((uintptr_t)p % MIN_BLOCK != 0) {
        cudaFree(p);
        s = vn_error(VN_ERR_BACKEND, "cuda backend: cudaMalloc returned %p, which is not 256-byte aligned", p);
    } else if (!(b = calloc(1, sizeof *b))) {
        cudaFree(p);
        s = vn_error(VN_ERR_OUT_OF_MEMORY, "cuda backend: out of host memory for the device allocator");
    } else {
        b->ptr = p, b->size = size, b->cls = cls, b->live = 1;
        insert(ar, b);
        ar->reserved += size;
        *out = p;
    }
    pthread_mutex_unlock(&ar->lock);
    return s;
}

void vn_cuda_arena_free(vn_backend_state *st, void *ptr)
{
    struct vn_cuda_arena *ar = st->arena;
    pthread_mutex_lock(&ar->lock);
    block *b = find(ar, ptr);
    int was_live = b && b->live;
    if (was_live) {
        b->live = 0;
        b->fnext = ar->free_lists[b->cls];
        ar->free_lists[b->cls] = b;
        ar->cached += b->size;
    }
    pthread_mutex_unlock(&ar->lock);
    if (!was_live)
        vn_log(VN_LOG_WARN, "cuda backend: free of %p, which %s; ignored", ptr,
               b ? "is already free" : "this context did not allocate");
}

/* ---- upload_async ------------------------------------------------------------------
 *
 * The host bytes go into a pinned slot and the call returns; the slot is copied to a
 * device staging slot on copy_stream, alongside whatever the context's stream is
 * running; then a device-to-device copy on the context's stream moves it into dst.
 *
 * Why the last hop: the engine uploads into the same buffers every step (masks, index
 * tables) while the previous step's backward may still be reading them. A copy straight
 * into dst from another stream would overwrite them under it. Queued on the context's
 * stream, the landing copy comes after every op queued before the upload and before
 * every op queued after it, exactly as with upload; only the PCIe transfer, the slow
 * part, overlaps compute, and the landing costs one pass at device bandwidth. Freed
 * and reused buffers need nothing either, since dst is only written on that stream.
 *
 * A slot is reused once both hops of its previous use are done: the host waits for the
 * event of its host-to-device copy (which blocks only when the host runs more than
 * STAGE_SLOTS chunks ahead of the copy engine), and copy_stream waits for the event of
 * its device-to-device copy. Uploads larger than a slot go through in slot-sized
 * chunks, pipelined the same way.
 */
#define STAGE_SLOTS 16
#define STAGE_BYTES ((size_t)2 << 20)

struct vn_cuda_staging {
    unsigned next;
    unsigned char *host; /* STAGE_SLOTS slots of pinned memory */
    unsigned char *dev;  /* as many on the device, from the arena */
    cudaEvent_t copied[STAGE_SLOTS]; /* host slot -> device slot, on copy_stream */
    cudaEvent_t landed[STAGE_SLOTS]; /* device slot -> dst, on the context's stream */
};

void vn_cuda_staging_destroy(vn_backend_state *st)
{
    struct vn_cuda_staging *sg = st->staging;
    if (sg) {
        for (int i = 0; i < STAGE_SLOTS; i++) {
            if (sg->copied[i])
                cudaEventDestroy(sg->copied[i]);
            if (sg->landed[i])
                cudaEventDestroy(sg->landed[i]);
        }
        if (sg->host)
            cudaFreeHost(sg->host);
        if (sg->dev)
            vn_cuda_arena_free(st, sg->dev);
        free(sg);
        st->staging = NULL;
    }
    if (st->copy_stream) {
        cudaStreamDestroy(st->copy_stream);
        st->copy_stream = NULL;
    }
    (void)cudaGetLastError();
}

/* The ring and copy_stream, made on first use: pinned memory is costly to map, and most
 * contexts (evaluation, tests) never upload asynchronously. */
static vn_status staging_create(vn_backend_state *st)
{
    struct vn_cuda_staging *sg = calloc(1, sizeof *sg);
    if (!sg)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "cuda backend: out of host memory for the upload ring");
    st->staging = sg;
    cudaError_t e = cudaStreamCreateWithFlags(&st->copy_stream, cudaStreamNonBlocking);
    const char *what = "cudaStreamCreateWithFlags (copy stream)";
    if (e == cudaSuccess) {
        e = cudaHostAlloc((void **)&sg->host, STAGE_SLOTS * STAGE_BYTES, cudaHostAllocDefault);
        what = "cudaHostAlloc (upload ring)";
    }
    for (int i = 0; i < STAGE_SLOTS && e == cudaSuccess; i++) {
        e = cudaEventCreateWithFlags(&sg->copied[i], cudaEventDisableTiming);
        if (e == cudaSuccess)
            e = cudaEventCreateWithFlags(&sg->landed[i], cudaEventDisableTiming);
        what = "cudaEventCreateWithFlags (upload ring)";
    }
    vn_status s = e == cudaSuccess ? VN_OK : vn_cuda_fail(e, what);
    if (s == VN_OK)
        s = vn_cuda_arena_alloc(st, STAGE_SLOTS * STAGE_BYTES, (void **)&sg->dev);
    /* The device slots may be a recycled buffer that ops already queued still use, and
     * copy_stream writes them: it starts behind everything queued so far. */
    if (s == VN_OK) {
        e = cudaEventRecord(sg->landed[0], st->stream);
        if (e == cudaSuccess)
            e = cudaStreamWaitEvent(st->copy_stream, sg->landed[0], 0);
        if (e != cudaSuccess)
            s = vn_cuda_fail(e, "ordering the upload ring after queued work");
    }
    if (s != VN_OK)
        vn_cuda_staging_destroy(st);
    return s;
}

vn_status vn_cuda_upload_async(vn_backend_state *st, void *dst, const void *src_host, size_t bytes)
{
    vn_status s = vn_cuda_use_device(st);
    if (s != VN_OK)
        return s;
    pthread_mutex_lock(&st->stage_lock);
    if (!st->staging)
        s = staging_create(st);
    struct vn_cuda_staging *sg = st->staging;
    cudaError_t e = cudaSuccess;
    const char *what = "";
    for (size_t off = 0; s == VN_OK && e == cudaSuccess && off < bytes; off += STAGE_BYTES) {
        size_t len = bytes - off < STAGE_BYTES ? bytes - off : STAGE_BYTES;
        unsigned i = sg->next;
        sg->next = (i + 1) % STAGE_SLOTS;
        unsigned char *host = sg->host + (size_t)i * STAGE_BYTES, *dev = sg->dev + (size_t)i * STAGE_BYTES;
        what = "waiting for an upload slot (cudaEventSynchronize)";
        e = cudaEventSynchronize(sg->copied[i]);
        if (e != cudaSuccess)
            break;
        memcpy(host, (const unsigned char *)src_host + off, len);
        what = "upload_async (host to device)";
        e = cudaStreamWaitEvent(st->copy_stream, sg->landed[i], 0);
        if (e == cudaSuccess)
            e = cudaMemcpyAsync(dev, host, len, cudaMemcpyHostToDevice, st->copy_stream);
        if (e == cudaSuccess)
            e = cudaEventRecord(sg->copied[i], st->copy_stream);
        if (e != cudaSuccess)
            break;
        what = "upload_async (landing copy)";
        e = cudaStreamWaitEvent(st->stream, sg->copied[i], 0);
        if (e == cudaSuccess)
            e = cudaMemcpyAsync((unsigned char *)dst + off, dev, len, cudaMemcpyDeviceToDevice, st->stream);
        if (e == cudaSuccess)
            e = cudaEventRecord(sg->landed[i], st->stream);
    }
    pthread_mutex_unlock(&st->stage_lock);
    if (s == VN_OK && e != cudaSuccess)
        s = vn_cuda_fail(e, what);
    return s;
}
