#include "core/context_internal.h"
#include "core/error.h"
#include "backend/host.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *vn_backend_name(vn_backend_kind kind)
{
    switch (kind) {
    case VN_BACKEND_AUTO: return "auto";
    case VN_BACKEND_CPU: return "cpu";
    case VN_BACKEND_CUDA: return "cuda";
    case VN_BACKEND_REFERENCE: return "reference";
    }
    return "unknown";
}

static int valid_kind(vn_backend_kind kind)
{
    return (int)kind >= 0 && (int)kind < VN_BACKEND_KIND_COUNT;
}

vn_status vn_backend_from_name(const char *name, vn_backend_kind *out)
{
    VN_CHECK_NULL(name);
    VN_CHECK_NULL(out);
    for (int k = 0; k < VN_BACKEND_KIND_COUNT; k++) {
        if (strcasecmp(name, vn_backend_name((vn_backend_kind)k)) == 0) {
            *out = (vn_backend_kind)k;
            return VN_OK;
        }
    }
    if (strcasecmp(name, "ref") == 0) {
        *out = VN_BACKEND_REFERENCE;
        return VN_OK;
    }
    return vn_error(VN_ERR_INVALID_ARG, "'%s' is not a backend name; expected auto, cpu, cuda or reference", name);
}

/* The error for AUTO and out-of-range values, where a concrete backend is needed. */
static vn_status check_concrete(const char *fn, vn_backend_kind kind)
{
    if (!valid_kind(kind) || kind == VN_BACKEND_AUTO)
        return vn_error(VN_ERR_INVALID_ARG, "%s: backend %d is not a concrete backend (cpu=1, cuda=2, reference=3)",
                        fn, (int)kind);
    return VN_OK;
}

vn_status vn_backend_compiled(vn_backend_kind kind, int *out)
{
    VN_CHECK_NULL(out);
    vn_status s = check_concrete(__func__, kind);
    if (s != VN_OK)
        return s;
    *out = vn_backend_is_compiled(kind);
    return VN_OK;
}

vn_status vn_backend_available(vn_backend_kind kind, int *out, const char **reason)
{
    VN_CHECK_NULL(out);
    vn_status s = check_concrete(__func__, kind);
    if (s != VN_OK)
        return s;
    const char *why = "";
    *out = vn_backend_usable(kind, &why);
    if (reason)
        *reason = why;
    return VN_OK;
}

vn_status vn_device_count(vn_backend_kind kind, int *out)
{
    VN_CHECK_NULL(out);
    vn_status s = check_concrete(__func__, kind);
    if (s != VN_OK)
        return s;
    /* An unusable backend has no devices; asking it would load the CUDA module for nothing. */
    if (!vn_backend_usable(kind, NULL)) {
        *out = 0;
        return VN_OK;
    }
    return vn_backend_table(kind)->device_count(out);
}

vn_status vn_device_get_info(vn_backend_kind kind, int index, vn_device_info *info)
{
    VN_CHECK_NULL(info);
    VN_CHECK_VERSION("vn_device_get_info", "info", info->version, VN_DEVICE_INFO_VERSION, "VN_DEVICE_INFO_INIT");
    vn_status s = check_concrete(__func__, kind);
    if (s != VN_OK)
        return s;
    if (index < 0)
        return vn_error(VN_ERR_INVALID_ARG, "vn_device_get_info: device index %d is negative", index);
    const char *why = "";
    if (!vn_backend_usable(kind, &why))
        return vn_error(vn_backend_is_compiled(kind) ? VN_ERR_NOT_FOUND : VN_ERR_UNSUPPORTED,
                        "vn_device_get_info: backend '%s' has no devices here: %s", vn_backend_name(kind), why);
    const vn_backend *t = vn_backend_table(kind);
    info->backend = kind;
    return t->device_info(index, info);
}

VN_DEFINE_OPTIONS_INIT(vn_context_options_init, vn_context_options, VN_CONTEXT_OPTIONS_VERSION, VN_CONTEXT_OPTIONS_INIT)

static vn_status options_check(const vn_context_options *o)
{
    VN_CHECK_VERSION("vn_context_create", "options", o->version, VN_CONTEXT_OPTIONS_VERSION, "VN_CONTEXT_OPTIONS_INIT");
    if (!valid_kind(o->backend))
        return vn_error(VN_ERR_INVALID_ARG, "vn_context_create: backend %d is out of range", (int)o->backend);
    if (o->n_threads < 0)
        return vn_error(VN_ERR_INVALID_ARG, "vn_context_create: n_threads is %d; use 0 for all cores", o->n_threads);
    if (o->device < 0)
        return vn_error(VN_ERR_INVALID_ARG, "vn_context_create: device index %d is negative", o->device);
    return VN_OK;
}

/* Resolve AUTO and the VN_BACKEND override into a concrete kind. */
static vn_status choose_backend(vn_backend_kind asked, vn_backend_kind *out)
{
    const char *env = getenv("VN_BACKEND");
    if (env && *env) {
        vn_status s = vn_backend_from_name(env, &asked);
        if (s != VN_OK)
            return vn_error_prefix(s, "environment variable VN_BACKEND: ");
    }
    if (asked != VN_BACKEND_AUTO) {
        *out = asked;
        return VN_OK;
    }
    const char *why = "";
    if (vn_backend_usable(VN_BACKEND_CUDA, &why)) {
        *out = VN_BACKEND_CUDA;
        return VN_OK;
    }
    vn_log(VN_LOG_INFO, "backend auto: cuda is unavailable (%s); using cpu", why);
    *out = VN_BACKEND_CPU;
    return VN_OK;
}

vn_status vn_context_create(vn_context **out, const vn_context_options *opts)
{
    VN_CHECK_NULL(out);
    *out = NULL;
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    if (opts)
        o = *opts;
    vn_status s = options_check(&o);
    if (s != VN_OK)
        return s;
    vn_backend_kind kind = VN_BACKEND_CPU;
    s = choose_backend(o.backend, &kind);
    if (s != VN_OK)
        return s;

    vn_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_context_create: out of memory");
    ctx->kind = kind;
    ctx->n_threads = o.n_threads > 0 ? o.n_threads : vn_host_cores();
    ctx->seed = o.seed;
    ctx->deterministic = o.deterministic != 0;
    ctx->device = o.device;
    vn_profile_init(&ctx->prof);
    vn_backend_config cfg = {ctx->n_threads, ctx->deterministic, ctx->device, ctx->seed};
    s = vn_be_open(&ctx->be, kind, &cfg);
    if (s != VN_OK) {
        vn_profile_fini(&ctx->prof);
        free(ctx);
        return vn_error_prefix(s, "vn_context_create: ");
    }
    *out = ctx;
    return VN_OK;
}

void vn_context_destroy(vn_context *ctx)
{
    if (!ctx)
        return;
    vn_be_close(&ctx->be);
    vn_profile_fini(&ctx->prof);
    free(ctx);
}

vn_status vn_context_backend(const vn_context *ctx, vn_backend_kind *out)
{
    VN_CHECK_NULL(ctx);
    VN_CHECK_NULL(out);
    *out = ctx->kind;
    return VN_OK;
}

vn_status vn_context_threads(const vn_context *ctx, int *out)
{
    VN_CHECK_NULL(ctx);
    VN_CHECK_NULL(out);
    *out = ctx->n_threads;
    return VN_OK;
}

vn_status vn_context_seed(const vn_context *ctx, uint64_t *out)
{
    VN_CHECK_NULL(ctx);
    VN_CHECK_NULL(out);
    *out = ctx->seed;
    return VN_OK;
}

vn_status vn_context_comm_id(vn_context *ctx, void *id, size_t cap, size_t *len)
{
    VN_CHECK_NULL(ctx);
    VN_CHECK_NULL(id);
    VN_CHECK_NULL(len);
    if (cap == 0)
        return vn_error(VN_ERR_INVALID_ARG, "vn_context_comm_id: cap is 0; no id fits in it");
    const vn_backend *t = ctx->be.table;
    if (!vn_be_supports(&ctx->be, VN_OP_ALLREDUCE) || !t->comm_id)
        return vn_error(VN_ERR_UNSUPPORTED, "vn_context_comm_id: the %s backend has no collectives", t->name);
    return t->comm_id(id, cap, len);
}

vn_status vn_context_set_profiling(vn_context *ctx, int on)
{
    VN_CHECK_NULL(ctx);
    if (on != 0 && on != 1)
        return vn_error(VN_ERR_INVALID_ARG, "vn_context_set_profiling: on is %d; it must be 0 (off) or 1 (on)", on);
    if (on && !ctx->prof.enabled)
        vn_profile_reset(&ctx->prof);
    ctx->prof.enabled = on != 0;
    return VN_OK;
}

vn_status vn_context_profile_reset(vn_context *ctx)
{
    VN_CHECK_NULL(ctx);
    vn_profile_reset(&ctx->prof);
    return VN_OK;
}

vn_status vn_context_profile_count(const vn_context *ctx, int *count)
{
    VN_CHECK_NULL(ctx);
    VN_CHECK_NULL(count);
    *count = VN_PROF_COUNT;
    return VN_OK;
}

vn_status vn_context_profile_entry(vn_context *ctx, int index, const char **name, int64_t *calls, double *seconds,
                                   double *flops)
{
    VN_CHECK_NULL(ctx);
    if (index < 0 || index >= VN_PROF_COUNT)
        return vn_error(VN_ERR_INVALID_ARG, "vn_context_profile_entry: index %d is outside [0, %d)", index,
                        VN_PROF_COUNT);
    pthread_mutex_lock(&ctx->prof.lock);
    vn_prof_entry e = ctx->prof.e[index];
    pthread_mutex_unlock(&ctx->prof.lock);
    if (name)
        *name = vn_prof_op_name((vn_prof_op)index);
    if (calls)
        *calls = e.calls;
    if (seconds)
        *seconds = e.seconds;
    if (flops)
        *flops = e.flops;
    return VN_OK;
}
