/* Internal error and logging helpers: the thread-local message behind vn_last_error(). */
#ifndef VN_CORE_ERROR_H
#define VN_CORE_ERROR_H

#include "vnative/common.h"

#if defined(__GNUC__)
#  define VN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#  define VN_PRINTF(a, b)
#endif

/* Record a formatted message for vn_last_error() on this thread and return status,
 * so that error paths read `return vn_error(VN_ERR_SHAPE, "...", ...);`. */
vn_status vn_error(vn_status status, const char *fmt, ...) VN_PRINTF(2, 3);

/* Prefix the current thread's message with context ("opening x.mp4: ") and return status. */
vn_status vn_error_prefix(vn_status status, const char *fmt, ...) VN_PRINTF(2, 3);

void vn_log(vn_log_level level, const char *fmt, ...) VN_PRINTF(2, 3);

/* Argument checks for the public entry points. */
#define VN_CHECK_NULL(p)                                                              \
    do {                                                                              \
        if ((p) == NULL)                                                              \
            return vn_error(VN_ERR_INVALID_ARG, "%s: argument '%s' is NULL", __func__, #p); \
    } while (0)

/* A file or directory name: not NULL and not empty (an empty name would surface later as
 * an OS error about "" that names nothing). */
#define VN_CHECK_PATH(p)                                                                     \
    do {                                                                                     \
        VN_CHECK_NULL(p);                                                                    \
        if ((p)[0] == '\0')                                                                  \
            return vn_error(VN_ERR_INVALID_ARG, "%s: argument '%s' is an empty path", __func__, \
                            #p);                                                             \
    } while (0)

/* A versioned struct's version field must be one this build knows (1..current);
 * otherwise fail with VN_ERR_VERSION naming the function, the struct and its _INIT macro. */
#define VN_CHECK_VERSION(fn, what, got, current, init_macro)                                       \
    do {                                                                                           \
        if ((got) < 1 || (got) > (current))                                                        \
            return vn_error(VN_ERR_VERSION,                                                        \
                            "%s: %s version %u is not one this library knows (1..%u); initialise " \
                            "it with " init_macro,                                                 \
                            (fn), (what), (unsigned)(got), (unsigned)(current));                   \
    } while (0)

/* The body of every vn_x_options_init(opts, version): the defaults of that version. */
#define VN_DEFINE_OPTIONS_INIT(fn_name, type, current, init_value)                                 \
    vn_status fn_name(type *opts, unsigned int version)                                            \
    {                                                                                              \
        if (!opts) /* named by its type: the headers call it opts, cfg, res or metrics */          \
            return vn_error(VN_ERR_INVALID_ARG, "%s: the %s to fill is NULL", #fn_name, #type);    \
        VN_CHECK_VERSION(#fn_name, "requested", version, current, #init_value);                    \
        type def_ = init_value;                                                                    \
        *opts = def_;                                                                              \
        opts->version = version;                                                                   \
        return VN_OK;                                                                              \
    }

#endif
