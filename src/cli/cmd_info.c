/* `vnative info [--json]`: what this build contains and what this machine offers. */
#include "cli/commands.h"
#include "cli/json_writer.h"

#include <stdio.h>
#include <string.h>

#include "vnative/vnative.h"

static const vn_backend_kind kinds[] = {VN_BACKEND_CPU, VN_BACKEND_CUDA, VN_BACKEND_REFERENCE};
#define N_KINDS (int)(sizeof kinds / sizeof kinds[0])

typedef struct backend_row {
    int compiled, available;
    const char *reason;
    char library[96];
    int n_devices;
} backend_row;

static void describe(vn_backend_kind kind, backend_row *row)
{
    memset(row, 0, sizeof *row);
    vn_backend_compiled(kind, &row->compiled);
    vn_backend_available(kind, &row->available, &row->reason);
    vn_device_count(kind, &row->n_devices);
    const char *name, *ver;
    if (kind == VN_BACKEND_CPU && vn_component_version(VN_COMPONENT_ONEDNN, &name, &ver) == VN_OK)
        snprintf(row->library, sizeof row->library, "%s %s", name, ver);
    else if (kind == VN_BACKEND_CUDA && vn_component_version(VN_COMPONENT_CUDA_RUNTIME, &name, &ver) == VN_OK) {
        const char *bname, *bver;
        vn_component_version(VN_COMPONENT_CUBLAS, &bname, &bver);
        snprintf(row->library, sizeof row->library, "%s %s, %s %s", name, ver, bname, bver);
    } else if (kind == VN_BACKEND_REFERENCE)
        snprintf(row->library, sizeof row->library, "plain C");
}

static void print_json(int threads, vn_backend_kind chosen)
{
    jw w;
    jw_init(&w, stdout);
    jw_object_begin(&w, NULL);
    jw_string(&w, "version", vn_version());
    jw_int(&w, "version_number", vn_version_number());
    jw_int(&w, "threads", threads);
    jw_string(&w, "default_backend", vn_backend_name(chosen));
    jw_array_begin(&w, "backends");
    for (int i = 0; i < N_KINDS; i++) {
        backend_row r;
        describe(kinds[i], &r);
        jw_object_begin(&w, NULL);
        jw_string(&w, "name", vn_backend_name(kinds[i]));
        jw_bool(&w, "compiled", r.compiled);
        jw_bool(&w, "available", r.available);
        if (!r.available)
            jw_string(&w, "reason", r.reason);
        jw_string(&w, "library", r.library);
        jw_array_begin(&w, "devices");
        for (int d = 0; d < r.n_devices; d++) {
            vn_device_info info = VN_DEVICE_INFO_INIT;
            if (vn_device_get_info(kinds[i], d, &info) != VN_OK)
                continue;
            jw_object_begin(&w, NULL);
            jw_int(&w, "index", info.index);
            jw_string(&w, "name", info.name);
            jw_int(&w, "memory_bytes", (int64_t)info.memory_bytes);
            jw_int(&w, "compute_units", info.compute_units);
            if (kinds[i] == VN_BACKEND_CUDA) {
                char cap[16];
                snprintf(cap, sizeof cap, "%d.%d", info.capability_major, info.capability_minor);
                jw_string(&w, "capability", cap);
            }
            jw_object_end(&w);
        }
        jw_array_end(&w);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_begin(&w, "libraries");
    for (int c = 0; c < VN_COMPONENT_COUNT; c++) {
        const char *name, *ver;
        if (vn_component_version((vn_component)c, &name, &ver) == VN_OK)
            jw_string(&w, name, ver);
    }
    jw_object_end(&w);
    jw_object_end(&w);
    jw_finish(&w);
}

static void print_text(int threads, vn_backend_kind chosen)
{
    printf("vnative %s\n", vn_version());
    printf("threads:          %d\n", threads);
    printf("default backend:  %s\n", vn_backend_name(chosen));
    printf("backends:\n");
    for (int i = 0; i < N_KINDS; i++) {
        backend_row r;
        describe(kinds[i], &r);
        printf("  %-10s compiled: %-3s available: %-3s %s%s%s\n", vn_backend_name(kinds[i]), r.compiled ? "yes" : "no",
               r.available ? "yes" : "no", r.library, r.available ? "" : " -- ", r.available ? "" : r.reason);
        for (int d = 0; d < r.n_devices; d++) {
            vn_device_info info = VN_DEVICE_INFO_INIT;
            if (vn_device_get_info(kinds[i], d, &info) == VN_OK)
                printf("             device %d: %s, %d compute units, %.1f GiB\n", d, info.name, info.compute_units,
                       (double)info.memory_bytes / (1024.0 * 1024.0 * 1024.0));
        }
    }
    printf("libraries:\n");
    for (int c = 0; c < VN_COMPONENT_COUNT; c++) {
        const char *name, *ver;
        if (vn_component_version((vn_component)c, &name, &ver) == VN_OK)
            printf("  %-14s %s\n", name, ver);
    }
}

int vn_cmd_info(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: vnative info [--json]\n");
            return 0;
        } else {
            fprintf(stderr, "vnative info: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    vn_context *ctx = NULL;
    if (vn_context_create(&ctx, NULL) != VN_OK)
        return vn_cli_fail("info", vn_last_error());
    int threads = 0;
    vn_backend_kind chosen = VN_BACKEND_CPU;
    vn_context_threads(ctx, &threads);
    vn_context_backend(ctx, &chosen);
    vn_context_destroy(ctx);
    if (json)
        print_json(threads, chosen);
    else
        print_text(threads, chosen);
    return 0;
}
