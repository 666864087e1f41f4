#include "core/error.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <pthread.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static vn_log_fn log_fn;
static void *log_user;
/* -1 until first use, so that VN_LOG_LEVEL is read lazily and an explicit call wins. */
static atomic_int log_level = -1;

static const char *level_name(vn_log_level level)
{
    switch (level) {
    case VN_LOG_ERROR: return "error";
    case VN_LOG_WARN: return "warn";
    case VN_LOG_INFO: return "info";
    case VN_LOG_DEBUG: return "debug";
    }
    return "?";
}

static int current_level(void)
{
    int lvl = atomic_load(&log_level);
    if (lvl >= 0)
        return lvl;
    lvl = VN_LOG_WARN;
    const char *env = getenv("VN_LOG_LEVEL");
    if (env) {
        for (int l = VN_LOG_ERROR; l <= VN_LOG_DEBUG; l++)
            if (strcasecmp(env, level_name((vn_log_level)l)) == 0)
                lvl = l;
    }
    int expected = -1;
    atomic_compare_exchange_strong(&log_level, &expected, lvl);
    return atomic_load(&log_level);
}

vn_status vn_set_log_callback(vn_log_fn fn, void *user)
{
    pthread_mutex_lock(&log_lock);
    log_fn = fn;
    log_user = user;
    pthread_mutex_unlock(&log_lock);
    return VN_OK;
}

vn_status vn_set_log_level(vn_log_level level)
{
    if ((int)level < VN_LOG_ERROR || (int)level > VN_LOG_DEBUG)
        return vn_error(VN_ERR_INVALID_ARG, "vn_set_log_level: level %d is not in [%d, %d]",
                        (int)level, VN_LOG_ERROR, VN_LOG_DEBUG);
    atomic_store(&log_level, (int)level);
    return VN_OK;
}

void vn_log(vn_log_level level, const char *fmt, ...)
{
    if ((int)level > current_level())
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&log_lock);
    if (log_fn)
        log_fn(level, msg, log_user);
    else
        fprintf(stderr, "vnative %s: %s\n", level_name(level), msg);
    pthread_mutex_unlock(&log_lock);
}
