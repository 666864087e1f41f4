/* Bad-input rows of common.h, context.h and tensor.h (the matrix: bad_input.h). */
#include "bad_input.h"

#include <string.h>

/* Calls without a status: what they return for a bad value is asserted here. */
static vn_status names_unknown_status(vn_status st)
{
    ck_assert_str_eq(vn_status_str(st), "VN_ERR_UNKNOWN");
    return VN_OK;
}

static vn_status last_error_never_null(void)
{
    vn_clear_error();
    ck_assert_str_eq(vn_last_error(), "");
    return VN_OK;
}

static vn_status clear_error_forgets(void)
{
    vn_context_create(NULL, NULL);
    ck_assert(vn_last_error()[0] != '\0');
    vn_clear_error();
    ck_assert_str_eq(vn_last_error(), "");
    return VN_OK;
}

static vn_status version_matches(void)
{
    ck_assert_uint_eq(vn_version_number(), VN_VERSION_NUMBER);
    ck_assert_str_eq(vn_version(), VN_VERSION_STRING);
    return VN_OK;
}

static vn_status dtype_unknown(int dtype)
{
    ck_assert_str_eq(vn_dtype_name((vn_dtype)dtype), "unknown");
    ck_assert_uint_eq(vn_dtype_size((vn_dtype)dtype), 0);
    return VN_OK;
}

#define NEW_CONTEXT(o) BI_LEAVES_NULL(vn_context, vn_context_create(&h_, o))
#define CTX_OPT(...) BI_OPT(vn_context_options, VN_CONTEXT_OPTIONS_INIT, o_.backend = VN_BACKEND_CPU; __VA_ARGS__)
#define I64(...) ((const int64_t[]){__VA_ARGS__})
#define INFO(...) BI_OPT(vn_device_info, VN_DEVICE_INFO_INIT, __VA_ARGS__)
#define BIG ((int64_t)1 << 40)

#define ROWS(R)                                                                                                      \
    R(vn_status_str, enum_high, BI_ENUM, "status", NULL, BI_SAFE, names_unknown_status((vn_status)12345))            \
    R(vn_status_str, enum_low, BI_ENUM, "status", NULL, BI_SAFE, names_unknown_status((vn_status)-999))              \
    R(vn_last_error, none, BI_STATE, "", NULL, BI_SAFE, last_error_never_null())                                     \
    R(vn_clear_error, after_error, BI_STATE, "", NULL, BI_SAFE, clear_error_forgets())                               \
    R(vn_set_log_callback, null_user, BI_NULL, "user", NULL, VN_OK, vn_set_log_callback(NULL, NULL))                 \
    R(vn_set_log_level, enum_neg, BI_ENUM, "level", NULL, VN_ERR_INVALID_ARG, vn_set_log_level((vn_log_level)-1))    \
    R(vn_set_log_level, enum_999, BI_ENUM, "level", NULL, VN_ERR_INVALID_ARG, vn_set_log_level((vn_log_level)999))   \
    R(vn_version, string, BI_STATE, "", NULL, BI_SAFE, version_matches())                                            \
    R(vn_version_number, number, BI_STATE, "", NULL, BI_SAFE, version_matches())                                     \
    BI_NAME_ROWS(R, vn_backend_name, kind, vn_backend_from_name, vn_backend_kind, "cpu", "tpu")                      \
    R(vn_backend_compiled, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG,                                       \
      vn_backend_compiled(VN_BACKEND_CPU, NULL))                                                                     \
    R(vn_backend_compiled, enum_999, BI_ENUM, "kind", "backend", VN_ERR_INVALID_ARG,                                 \
      vn_backend_compiled((vn_backend_kind)999, BI_OUT(int)))                                                        \
    R(vn_backend_compiled, enum_auto, BI_ENUM, "kind", "backend", VN_ERR_INVALID_ARG,                                \
      vn_backend_compiled(VN_BACKEND_AUTO, BI_OUT(int)))                                                             \
    R(vn_backend_available, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG,                                      \
      vn_backend_available(VN_BACKEND_CPU, NULL, NULL))                                                              \
    R(vn_backend_available, null_reason, BI_NULL, "reason", NULL, VN_OK,                                             \
      vn_backend_available(VN_BACKEND_CPU, BI_OUT(int), NULL))                                                       \
    R(vn_backend_available, enum_neg, BI_ENUM, "kind", "backend", VN_ERR_INVALID_ARG,                                \
      vn_backend_available((vn_backend_kind)-1, BI_OUT(int), NULL))                                                  \
    R(vn_component_version, null_name, BI_NULL, "name", NULL, VN_ERR_INVALID_ARG,                                    \
      vn_component_version(VN_COMPONENT_ONEDNN, NULL, BI_OUT(const char *)))                                         \
    R(vn_component_version, null_version, BI_NULL, "version", NULL, VN_ERR_INVALID_ARG,                              \
      vn_component_version(VN_COMPONENT_ONEDNN, BI_OUT(const char *), NULL))                                         \
    R(vn_component_version, enum_999, BI_ENUM, "component", NULL, VN_ERR_INVALID_ARG,                                \
      vn_component_version((vn_component)999, BI_OUT(const char *), BI_OUT(const char *)))                           \
    R(vn_component_version, enum_neg, BI_ENUM, "component", NULL, VN_ERR_INVALID_ARG,                                \
      vn_component_version((vn_component)-1, BI_OUT(const char *), BI_OUT(const char *)))                            \
    R(vn_device_count, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG, vn_device_count(VN_BACKEND_CPU, NULL))    \
    R(vn_device_count, enum_999, BI_ENUM, "kind", "backend", VN_ERR_INVALID_ARG,                                     \
      vn_device_count((vn_backend_kind)999, BI_OUT(int)))                                                            \
    R(vn_device_get_info, null_info, BI_NULL, "info", NULL, VN_ERR_INVALID_ARG,                                      \
      vn_device_get_info(VN_BACKEND_CPU, 0, NULL))                                                                   \
    R(vn_device_get_info, enum_neg, BI_ENUM, "kind", "backend", VN_ERR_INVALID_ARG,                                  \
      vn_device_get_info((vn_backend_kind)-1, 0, INFO()))                                                            \
    R(vn_device_get_info, neg_index, BI_RANGE, "index", NULL, VN_ERR_INVALID_ARG,                                    \
      vn_device_get_info(VN_BACKEND_CPU, -1, INFO()))                                                                \
    R(vn_device_get_info, index_past_end, BI_RANGE, "index", NULL, VN_ERR_NOT_FOUND,                                 \
      vn_device_get_info(VN_BACKEND_CPU, 5, INFO()))                                                                 \
    R(vn_device_get_info, version_0, BI_VERSION, "info", "version", VN_ERR_VERSION,                                  \
      vn_device_get_info(VN_BACKEND_CPU, 0, INFO(o_.version = 0)))                                                   \
    R(vn_device_get_info, version_future, BI_VERSION, "info", "version", VN_ERR_VERSION,                             \
      vn_device_get_info(VN_BACKEND_CPU, 0, INFO(o_.version = VN_DEVICE_INFO_VERSION + 1)))                          \
    BI_INIT_ROWS(R, vn_context_options_init, vn_context_options, opts, VN_CONTEXT_OPTIONS_VERSION)                   \
    R(vn_context_create, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG, vn_context_create(NULL, CTX_OPT()))     \
    R(vn_context_create, null_opts, BI_NULL, "opts", NULL, VN_OK,                                                    \
      BI_CREATED(vn_context, vn_context_destroy, vn_context_create(&h_, NULL)))                                      \
    R(vn_context_create, version_0, BI_VERSION, "opts", "version", VN_ERR_VERSION,                                   \
      NEW_CONTEXT(CTX_OPT(o_.version = 0)))                                                                          \
    R(vn_context_create, version_future, BI_VERSION, "opts", "version", VN_ERR_VERSION,                              \
      NEW_CONTEXT(CTX_OPT(o_.version = 999)))                                                                        \
    R(vn_context_create, neg_threads, BI_FIELD, "opts.n_threads", NULL, VN_ERR_INVALID_ARG,                          \
      NEW_CONTEXT(CTX_OPT(o_.n_threads = -2)))                                                                       \
    R(vn_context_create, backend_999, BI_FIELD, "opts.backend", NULL, VN_ERR_INVALID_ARG,                            \
      NEW_CONTEXT(CTX_OPT(o_.backend = (vn_backend_kind)999)))                                                       \
    R(vn_context_create, neg_device, BI_FIELD, "opts.device", NULL, VN_ERR_INVALID_ARG,                              \
      NEW_CONTEXT(CTX_OPT(o_.device = -1)))                                                                          \
    BI_DESTROY_ROW(R, vn_context_destroy, ctx)                                                                       \
    R(vn_context_backend, null_ctx, BI_NULL, "ctx", NULL, VN_ERR_INVALID_ARG,                                        \
      vn_context_backend(NULL, BI_OUT(vn_backend_kind)))                                                             \
    R(vn_context_backend, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG, vn_context_backend(bi_ctx(), NULL))    \
    R(vn_context_threads, null_ctx, BI_NULL, "ctx", NULL, VN_ERR_INVALID_ARG, vn_context_threads(NULL, BI_OUT(int))) \
    R(vn_context_threads, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG, vn_context_threads(bi_ctx(), NULL))    \
    R(vn_context_seed, null_ctx, BI_NULL, "ctx", NULL, VN_ERR_INVALID_ARG, vn_context_seed(NULL, BI_OUT(uint64_t)))  \
    R(vn_context_seed, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG, vn_context_seed(bi_ctx(), NULL))          \
    R(vn_context_comm_id, null_ctx, BI_NULL, "ctx", NULL, VN_ERR_INVALID_ARG,                                        \
      vn_context_comm_id(NULL, bi_alloc(128), 128, BI_OUT(size_t)))                                                  \
    R(vn_context_comm_id, null_id, BI_NULL, "id", NULL, VN_ERR_INVALID_ARG,                                          \
      vn_context_comm_id(bi_ctx(), NULL, 128, BI_OUT(size_t)))                                                       \
    R(vn_context_comm_id, null_len, BI_NULL, "len", NULL, VN_ERR_INVALID_ARG,                                        \
      vn_context_comm_id(bi_ctx(), bi_alloc(128), 128, NULL))                                                        \
    R(vn_context_comm_id, zero_cap, BI_RANGE, "cap", NULL, VN_ERR_INVALID_ARG,                                       \
      vn_context_comm_id(bi_ctx(), bi_alloc(128), 0, BI_OUT(size_t)))                                                \
    R(vn_context_comm_id, cpu_backend, BI_STATE, "ctx", "collectives", VN_ERR_UNSUPPORTED,                           \
      vn_context_comm_id(bi_ctx(), bi_alloc(128), 128, BI_OUT(size_t)))                                              \
    R(vn_context_set_profiling, null_ctx, BI_NULL, "ctx", NULL, VN_ERR_INVALID_ARG,                                  \
      vn_context_set_profiling(NULL, 1))                                                                             \
    R(vn_context_set_profiling, on_2, BI_RANGE, "on", NULL, VN_ERR_INVALID_ARG,                                      \
      vn_context_set_profiling(bi_ctx(), 2))                                                                         \
    R(vn_context_set_profiling, on_neg, BI_RANGE, "on", NULL, VN_ERR_INVALID_ARG,                                    \
      vn_context_set_profiling(bi_ctx(), -1))                                                                        \
    R(vn_context_profile_reset, null_ctx, BI_NULL, "ctx", NULL, VN_ERR_INVALID_ARG, vn_context_profile_reset(NULL))  \
    R(vn_context_profile_count, null_ctx, BI_NULL, "ctx", NULL, VN_ERR_INVALID_ARG,                                  \
      vn_context_profile_count(NULL, BI_OUT(int)))                                                                   \
    R(vn_context_profile_count, null_count, BI_NULL, "count", NULL, VN_ERR_INVALID_ARG,                              \
      vn_context_profile_count(bi_ctx(), NULL))                                                                      \
    R(vn_context_profile_entry, null_ctx, BI_NULL, "ctx", NULL, VN_ERR_INVALID_ARG,                                  \
      vn_context_profile_entry(NULL, 0, NULL, NULL, NULL, NULL))                                                     \
    R(vn_context_profile_entry, null_name, BI_NULL, "name", NULL, VN_OK,                                             \
      vn_context_profile_entry(bi_ctx(), 0, NULL, BI_OUT(int64_t), BI_OUT(double), BI_OUT(double)))                  \
    R(vn_context_profile_entry, null_calls, BI_NULL, "calls", NULL, VN_OK,                                           \
      vn_context_profile_entry(bi_ctx(), 0, BI_OUT(const char *), NULL, BI_OUT(double), BI_OUT(double)))             \
    R(vn_context_profile_entry, null_seconds, BI_NULL, "seconds", NULL, VN_OK,                                       \
      vn_context_profile_entry(bi_ctx(), 0, BI_OUT(const char *), BI_OUT(int64_t), NULL, BI_OUT(double)))            \
    R(vn_context_profile_entry, null_flops, BI_NULL, "flops", NULL, VN_OK,                                           \
      vn_context_profile_entry(bi_ctx(), 0, BI_OUT(const char *), BI_OUT(int64_t), BI_OUT(double), NULL))            \
    R(vn_context_profile_entry, neg_index, BI_RANGE, "index", NULL, VN_ERR_INVALID_ARG,                              \
      vn_context_profile_entry(bi_ctx(), -1, NULL, NULL, NULL, NULL))                                                \
    R(vn_context_profile_entry, index_past_end, BI_RANGE, "index", NULL, VN_ERR_INVALID_ARG,                         \
      vn_context_profile_entry(bi_ctx(), 100000, NULL, NULL, NULL, NULL))                                            \
    R(vn_dtype_name, enum_999, BI_ENUM, "dtype", NULL, BI_SAFE, dtype_unknown(999))                                  \
    R(vn_dtype_name, enum_neg, BI_ENUM, "dtype", NULL, BI_SAFE, dtype_unknown(-1))                                   \
    R(vn_dtype_size, enum_neg, BI_ENUM, "dtype", NULL, BI_SAFE, dtype_unknown(-1))                                   \
    R(vn_dtype_size, enum_count, BI_ENUM, "dtype", NULL, BI_SAFE, dtype_unknown(VN_DTYPE_COUNT))                     \
    R(vn_tensor_init, null_t, BI_NULL, "t", NULL, VN_ERR_INVALID_ARG,                                                \
      vn_tensor_init(NULL, NULL, VN_DTYPE_F32, 1, I64(2)))                                                           \
    R(vn_tensor_init, null_data, BI_NULL, "data", NULL, VN_OK,                                                       \
      vn_tensor_init(BI_OUT(vn_tensor), NULL, VN_DTYPE_F32, 1, I64(2)))                                              \
    R(vn_tensor_init, null_shape, BI_NULL, "shape", NULL, VN_ERR_INVALID_ARG,                                        \
      vn_tensor_init(BI_OUT(vn_tensor), NULL, VN_DTYPE_F32, 2, NULL))                                                \
    R(vn_tensor_init, null_shape_scalar, BI_NULL, "shape", NULL, VN_OK,                                              \
      vn_tensor_init(BI_OUT(vn_tensor), NULL, VN_DTYPE_F32, 0, NULL))                                                \
    R(vn_tensor_init, enum_999, BI_ENUM, "dtype", NULL, VN_ERR_INVALID_ARG,                                          \
      vn_tensor_init(BI_OUT(vn_tensor), NULL, (vn_dtype)999, 1, I64(2)))                                             \
    R(vn_tensor_init, enum_neg, BI_ENUM, "dtype", NULL, VN_ERR_INVALID_ARG,                                          \
      vn_tensor_init(BI_OUT(vn_tensor), NULL, (vn_dtype)-1, 1, I64(2)))                                              \
    R(vn_tensor_init, ndim_neg, BI_RANGE, "ndim", NULL, VN_ERR_SHAPE,                                                \
      vn_tensor_init(BI_OUT(vn_tensor), NULL, VN_DTYPE_F32, -1, I64(2)))                                             \
    R(vn_tensor_init, ndim_too_many, BI_RANGE, "ndim", NULL, VN_ERR_SHAPE,                                           \
      vn_tensor_init(BI_OUT(vn_tensor), NULL, VN_DTYPE_F32, VN_MAX_DIMS + 1, I64(1, 1, 1, 1, 1, 1, 1)))              \
    R(vn_tensor_init, neg_extent, BI_RANGE, "shape", NULL, VN_ERR_SHAPE,                                             \
      vn_tensor_init(BI_OUT(vn_tensor), NULL, VN_DTYPE_F32, 2, I64(2, -1)))                                          \
    R(vn_tensor_init, overflow, BI_RANGE, "shape", "overflow", VN_ERR_SHAPE,                                         \
      vn_tensor_init(BI_OUT(vn_tensor), NULL, VN_DTYPE_F32, 3, I64(BIG, BIG, BIG)))                                  \
    R(vn_tensor_numel, null_t, BI_NULL, "t", NULL, VN_ERR_INVALID_ARG, vn_tensor_numel(NULL, BI_OUT(int64_t)))       \
    R(vn_tensor_numel, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG,                                           \
      vn_tensor_numel(bi_t(VN_DTYPE_F32, "2x3"), NULL))                                                              \
    R(vn_tensor_numel, ndim_40, BI_SHAPE, "t", "ndim", VN_ERR_SHAPE,                                                 \
      vn_tensor_numel(bi_rank(bi_t(VN_DTYPE_F32, "2x3"), 40), BI_OUT(int64_t)))                                      \
    R(vn_tensor_numel, ndim_neg, BI_SHAPE, "t", "ndim", VN_ERR_SHAPE,                                                \
      vn_tensor_numel(bi_rank(bi_t(VN_DTYPE_F32, "2x3"), -1), BI_OUT(int64_t)))                                      \
    R(vn_tensor_numel, neg_extent, BI_SHAPE, "t", "shape", VN_ERR_SHAPE,                                             \
      vn_tensor_numel(bi_extent(bi_t(VN_DTYPE_F32, "2x3"), 1, -3), BI_OUT(int64_t)))                                 \
    R(vn_tensor_numel, overflow, BI_SHAPE, "t", "overflow", VN_ERR_SHAPE,                                            \
      vn_tensor_numel(bi_extent(bi_extent(bi_extent(bi_t(VN_DTYPE_F32, "1x1x1"), 0, BIG), 1, BIG), 2, BIG),          \
                      BI_OUT(int64_t)))

BI_TABLE(bi_rows_core, ROWS)
