/*
 * options.c: objective names, the "aot=1,future=0.5" spec and the options' defaults.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "vnative/train.h"

static const char *const objective_names[VN_OBJECTIVE_COUNT] = {"aot", "order", "future", "jepa", "label"};

const char *vn_objective_name(vn_objective objective)
{
    if ((int)objective < 0 || (int)objective >= VN_OBJECTIVE_COUNT)
        return "unknown";
    return objective_names[objective];
}

static int find_name(const char *s, size_t len)
{
    for (int i = 0; i < VN_OBJECTIVE_COUNT; i++)
        if (strlen(objective_names[i]) == len && !strncmp(objective_names[i], s, len))
            return i;
    return -1;
}

vn_status vn_objective_from_name(const char *name, vn_objective *out)
{
    VN_CHECK_NULL(name);
    VN_CHECK_NULL(out);
    int i = find_name(name, strlen(name));
    if (i < 0)
        return vn_error(VN_ERR_INVALID_ARG,
                        "vn_objective_from_name: unknown objective '%s' (aot, order, future, jepa, label)", name);
    *out = (vn_objective)i;
    return VN_OK;
}

vn_status vn_objectives_parse(const char *spec, float *weights)
{
    VN_CHECK_NULL(spec);
    VN_CHECK_NULL(weights);
    float w[VN_OBJECTIVE_COUNT] = {0};
    int seen[VN_OBJECTIVE_COUNT] = {0};
    const char *p = spec;
    int any = 0;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t nlen = eq ? (size_t)(eq - p) : len;
        int i = find_name(p, nlen);
        if (i < 0)
            return vn_error(VN_ERR_INVALID_ARG,
                            "vn_objectives_parse: unknown objective '%.*s' in '%s' (aot, order, future, jepa, label)",
                            (int)nlen, p, spec);
        if (seen[i])
            return vn_error(VN_ERR_INVALID_ARG, "vn_objectives_parse: '%s' is named twice in '%s'",
                            objective_names[i], spec);
        seen[i] = 1;
        float v = 1.0f;
        if (eq) {
            char num[64];
            size_t vlen = len - nlen - 1;
            if (vlen == 0 || vlen >= sizeof num)
                return vn_error(VN_ERR_INVALID_ARG, "vn_objectives_parse: '%.*s' has no weight after '='",
                                (int)len, p);
            memcpy(num, eq + 1, vlen);
            num[vlen] = 0;
            char *stop = NULL;
            errno = 0;
            double d = strtod(num, &stop);
            if (*stop || errno || !isfinite(d) || d < 0)
                return vn_error(VN_ERR_INVALID_ARG,
                                "vn_objectives_parse: the weight of %s is '%s'; it must be a finite number >= 0",
                                objective_names[i], num);
            v = (float)d;
        }
        w[i] = v;
        any |= v > 0;
        p += len;
        if (*p == ',') {
            p++;
            if (!*p)
                return vn_error(VN_ERR_INVALID_ARG, "vn_objectives_parse: '%s' ends in a comma", spec);
        }
    }
    if (!any)
        return vn_error(VN_ERR_INVALID_ARG, "vn_objectives_parse: '%s' gives no objective a weight > 0", spec);
    memcpy(weights, w, sizeof w);
    return VN_OK;
}

VN_DEFINE_OPTIONS_INIT(vn_train_options_init, vn_train_options, VN_TRAIN_OPTIONS_VERSION, VN_TRAIN_OPTIONS_INIT)
VN_DEFINE_OPTIONS_INIT(vn_train_metrics_init, vn_train_metrics, VN_TRAIN_METRICS_VERSION, VN_TRAIN_METRICS_INIT)
