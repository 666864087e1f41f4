/*
 * Finding and loading the CUDA module (cuda/cuda_module.h explains why it is a module).
 *
 * Where the module is looked for, first match wins:
 *   1. $VN_CUDA_MODULE, a path to the module file;
 *   2. <directory of libvnative.so>/vnative/libvnative-cuda.so, the installed layout;
 *   3. the build tree's copy (VN_CUDA_MODULE_BUILD_PATH), for tests and uninstalled use.
 * The result, success or failure, is kept for the life of the process: a library that
 * failed to load will not load on a second try, and the reason stays a static string.
 */
#include "backend/backend.h"
#include "core/error.h"
#include "cuda_module.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef VN_CUDA_MODULE_BUILD_PATH
#  define VN_CUDA_MODULE_BUILD_PATH ""
#endif

static struct {
    const vn_backend *backend;
    char why[768];
} loaded;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void host_set_error(vn_status status, const char *message)
{
    vn_error(status, "%s", message);
}

static void host_log(vn_log_level level, const char *message)
{
    vn_log(level, "%s", message);
}

static const vn_cuda_host host = {VN_CUDA_MODULE_ABI, VN_VERSION_STRING, host_set_error, host_log};

/* <directory of the object that holds this code>/vnative/<module file>. */
static int installed_path(char *buf, size_t cap)
{
    Dl_info info;
    if (!dladdr((void *)&host, &info) || !info.dli_fname)
        return 0;
    const char *slash = strrchr(info.dli_fname, '/');
    if (!slash)
        return 0;
    int n = snprintf(buf, cap, "%.*s/vnative/%s", (int)(slash - info.dli_fname), info.dli_fname, VN_CUDA_MODULE_FILE);
    return n > 0 && (size_t)n < cap;
}

static void *open_module(char *tried, size_t cap)
{
    char installed[1024];
    const char *candidates[3] = {getenv("VN_CUDA_MODULE"), installed_path(installed, sizeof installed) ? installed : NULL,
                                 VN_CUDA_MODULE_BUILD_PATH};
    tried[0] = '\0';
    for (int i = 0; i < 3; i++) {
        const char *path = candidates[i];
        if (!path || !*path)
            continue;
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (h)
            return h;
        size_t used = strlen(tried);
        snprintf(tried + used, cap - used, "%s%s", used ? "; " : "", dlerror());
    }
    return NULL;
}

static void load(void)
{
    char tried[640];
    void *h = open_module(tried, sizeof tried);
    if (!h) {
        snprintf(loaded.why, sizeof loaded.why, "the CUDA module %s could not be loaded (%s)", VN_CUDA_MODULE_FILE,
                 tried[0] ? tried : "not found; set VN_CUDA_MODULE to its path");
        return;
    }
    vn_cuda_module_entry_fn entry = (vn_cuda_module_entry_fn)dlsym(h, VN_CUDA_MODULE_ENTRY);
    const char *why = "it has no entry point " VN_CUDA_MODULE_ENTRY;
    const vn_cuda_module *m = entry ? entry(&host, &why) : NULL;
    if (!m || m->abi != VN_CUDA_MODULE_ABI || !m->backend) {
        snprintf(loaded.why, sizeof loaded.why, "the CUDA module %s is unusable: %s", VN_CUDA_MODULE_FILE, why);
        dlclose(h);
        return;
    }
    /* Never dlclose a loaded module: cudart registers exit handlers inside it. */
    loaded.backend = m->backend;
    vn_log(VN_LOG_DEBUG, "loaded the CUDA module %s", VN_CUDA_MODULE_FILE);
}

const vn_backend *vn_cuda_module_backend(const char **why)
{
    pthread_once(&load_once, load);
    if (why)
        *why = loaded.backend ? "" : loaded.why;
    return loaded.backend;
}

static struct {
    int present;
    char why[512];
} driver;
static pthread_once_t driver_once = PTHREAD_ONCE_INIT;

static void probe_driver(void)
{
    /* RTLD_NOLOAD first: a process that already uses CUDA has the driver mapped. */
    void *h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
    if (!h)
        h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (h) {
        driver.present = 1;
        return;
    }
    snprintf(driver.why, sizeof driver.why, "no NVIDIA CUDA driver on this machine (%s)", dlerror());
}

int vn_cuda_driver_present(const char **why)
{
    pthread_once(&driver_once, probe_driver);
    if (why)
        *why = driver.present ? "" : driver.why;
    return driver.present;
}
