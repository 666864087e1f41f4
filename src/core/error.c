#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define VN_ERROR_CAP 1024

static _Thread_local char tl_message[VN_ERROR_CAP];

const char *vn_status_str(vn_status status)
{
    switch (status) {
    case VN_OK: return "VN_OK";
    case VN_ERR_INVALID_ARG: return "VN_ERR_INVALID_ARG";
    case VN_ERR_OUT_OF_MEMORY: return "VN_ERR_OUT_OF_MEMORY";
    case VN_ERR_UNSUPPORTED: return "VN_ERR_UNSUPPORTED";
    case VN_ERR_IO: return "VN_ERR_IO";
    case VN_ERR_FORMAT: return "VN_ERR_FORMAT";
    case VN_ERR_NOT_FOUND: return "VN_ERR_NOT_FOUND";
    case VN_ERR_SHAPE: return "VN_ERR_SHAPE";
    case VN_ERR_BACKEND: return "VN_ERR_BACKEND";
    case VN_ERR_VERSION: return "VN_ERR_VERSION";
    case VN_ERR_STATE: return "VN_ERR_STATE";
    case VN_ERR_TIMEOUT: return "VN_ERR_TIMEOUT";
    case VN_ERR_END: return "VN_ERR_END";
    case VN_ERR_INTERNAL: return "VN_ERR_INTERNAL";
    }
    return "VN_ERR_UNKNOWN";
}

const char *vn_last_error(void)
{
    return tl_message;
}

void vn_clear_error(void)
{
    tl_message[0] = '\0';
}

vn_status vn_error(vn_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tl_message, sizeof tl_message, fmt, ap);
    va_end(ap);
    vn_log(VN_LOG_DEBUG, "%s: %s", vn_status_str(status), tl_message);
    return status;
}

vn_status vn_error_prefix(vn_status status, const char *fmt, ...)
{
    char old[VN_ERROR_CAP];
    memcpy(old, tl_message, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tl_message, sizeof tl_message, fmt, ap);
    va_end(ap);
    size_t used = strlen(tl_message);
    size_t len = strnlen(old, sizeof tl_message - used - 1);
    memcpy(tl_message + used, old, len);
    tl_message[used + len] = '\0';
    return status;
}
