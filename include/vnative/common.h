/** @file
 * vnative/common.h: status codes, errors, logging and versions.
 *
 * Every other public header includes this one. Conventions (see docs/API.md):
 *  - every fallible call returns vn_status: VN_OK (0) or a negative error;
 *  - after an error, vn_last_error() says what went wrong in words. The
 *    message is thread-local and owned by the library; it is never NULL;
 *  - the library never prints to stdout and never calls abort() or exit();
 *    it logs through the callback set with vn_set_log_callback().
 *
 * Thread safety: every function in this header may be called from any thread.
 */
#ifndef VNATIVE_COMMON_H
#define VNATIVE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "vnative/version.h"

#if defined(_WIN32)
#  define VN_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#  define VN_API __attribute__((visibility("default")))
#else
#  define VN_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Status codes. Values are part of the ABI: new codes are only ever appended. */
typedef enum vn_status {
    VN_OK = 0,
    VN_ERR_INVALID_ARG = -1,  /**< a NULL pointer, an out-of-range value, a bad enum */
    VN_ERR_OUT_OF_MEMORY = -2,
    VN_ERR_UNSUPPORTED = -3,  /**< not compiled in, not available here, or not implemented by the backend */
    VN_ERR_IO = -4,           /**< the operating system refused a read or write */
    VN_ERR_FORMAT = -5,       /**< a file or buffer is corrupt, truncated or of the wrong kind */
    VN_ERR_NOT_FOUND = -6,    /**< a file, key or device does not exist */
    VN_ERR_SHAPE = -7,        /**< tensor shapes or strides do not fit together */
    VN_ERR_BACKEND = -8,      /**< the compute library (oneDNN, CUDA) reported a failure */
    VN_ERR_VERSION = -9,      /**< an options struct or file carries a version this build does not know */
    VN_ERR_STATE = -10,       /**< the handle is not in a state that allows the call */
    VN_ERR_TIMEOUT = -11,
    VN_ERR_END = -12,         /**< end of stream or epoch; not a failure */
    VN_ERR_INTERNAL = -13     /**< a bug in vnative: please report it with the message */
} vn_status;

/** A short constant name for a status, such as "VN_ERR_SHAPE". Unknown values give "VN_ERR_UNKNOWN". */
VN_API const char *vn_status_str(vn_status status);

/** The message of the last error raised on this thread, or "" when there is none.
 * Never NULL. Valid until the next vnative call on the same thread. */
VN_API const char *vn_last_error(void);

/** Forget the last error of this thread. */
VN_API void vn_clear_error(void);

/** Severity of a log message. */
typedef enum vn_log_level {
    VN_LOG_ERROR = 0,
    VN_LOG_WARN = 1,
    VN_LOG_INFO = 2,
    VN_LOG_DEBUG = 3
} vn_log_level;

/** msg is one line without a trailing newline, valid only during the call.
 * The callback may be called from any vnative thread, so it must be thread-safe. */
typedef void (*vn_log_fn)(vn_log_level level, const char *msg, void *user);

/** Route library messages to fn. NULL restores the default, which writes
 * messages at or above the threshold to stderr. Process-wide. */
VN_API vn_status vn_set_log_callback(vn_log_fn fn, void *user);

/** Messages less severe than level are dropped before reaching the callback.
 * The default is VN_LOG_WARN, or the VN_LOG_LEVEL environment variable
 * (error|warn|info|debug) when it is set. */
VN_API vn_status vn_set_log_level(vn_log_level level);

/** The run-time version, such as "0.1.0", and its VN_VERSION_NUMBER form. Compare with
 * the compile-time macros to detect a header/library mismatch. */
VN_API const char *vn_version(void);
/** The run-time version as one integer, MAJOR*10000 + MINOR*100 + PATCH (VN_VERSION_NUMBER). */
VN_API unsigned int vn_version_number(void);

#ifdef __cplusplus
}
#endif

#endif
