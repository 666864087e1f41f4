#include "backend/host.h"
#include "core/error.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int vn_host_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int vn_host_available(const char **reason)
{
    if (reason)
        *reason = "";
    return 1;
}

vn_status vn_host_device_count(int *out)
{
    *out = 1;
    return VN_OK;
}

static void cpu_model_name(char *buf, size_t cap)
{
    snprintf(buf, cap, "CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            const char *colon = strchr(line, ':');
            if (colon) {
                colon++;
                while (*colon == ' ' || *colon == '\t')
                    colon++;
                snprintf(buf, cap, "%s", colon);
                buf[strcspn(buf, "\n")] = '\0';
            }
            break;
        }
    }
    fclose(f);
}

vn_status vn_host_device_info(int index, vn_device_info *info)
{
    if (index != 0)
        return vn_error(VN_ERR_NOT_FOUND, "the CPU backends have one device (index 0); index %d does not exist", index);
    info->index = 0;
    cpu_model_name(info->name, sizeof info->name);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    info->memory_bytes = (pages > 0 && page > 0) ? (uint64_t)pages * (uint64_t)page : 0;
    info->compute_units = vn_host_cores();
    info->capability_major = 0;
    info->capability_minor = 0;
    return VN_OK;
}

vn_status vn_host_alloc(vn_backend_state *st, size_t bytes, void **out)
{
    (void)st;
    size_t rounded = (bytes + VN_HOST_ALIGN - 1) / VN_HOST_ALIGN * VN_HOST_ALIGN;
    if (rounded < bytes)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "alloc: %zu bytes overflows", bytes);
    void *p = aligned_alloc(VN_HOST_ALIGN, rounded ? rounded : VN_HOST_ALIGN);
    if (!p)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "alloc: could not allocate %zu bytes of host memory", bytes);
    *out = p;
    return VN_OK;
}

void vn_host_free(vn_backend_state *st, void *ptr)
{
    (void)st;
    free(ptr);
}

vn_status vn_host_copy_in(vn_backend_state *st, void *dst, const void *src, size_t bytes)
{
    (void)st;
    memmove(dst, src, bytes);
    return VN_OK;
}

vn_status vn_host_copy_out(vn_backend_state *st, void *dst, const void *src, size_t bytes)
{
    (void)st;
    memmove(dst, src, bytes);
    return VN_OK;
}

vn_status vn_host_synchronize(vn_backend_state *st)
{
    (void)st;
    return VN_OK;
}
