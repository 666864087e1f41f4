/* Flag parsing and the encoder choice shared by the CLI's subcommands. */
#include "cli/cli_flags.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vnative/vnative.h"

int vn_cli_find_flag(const vn_cli_flag *flags, int n_flags, const char *name)
{
    for (int k = 0; k < n_flags; k++)
        if (!strcmp(flags[k].name, name))
            return k;
    return -1;
}

int vn_cli_set_flag(const char *cmd, const vn_cli_flag *f, void *args, const char *v, const char *where)
{
    char *p = (char *)args + f->off, *end;
    errno = 0;
    if (f->kind == VN_FLAG_STR) {
        if (!*v) {
            fprintf(stderr, "vnative %s: %s%s needs a non-empty value\n", cmd, where, f->name);
            return -1;
        }
        *(const char **)p = v;
    } else if (f->kind == VN_FLAG_INT) {
        long long x = strtoll(v, &end, 10);
        if (end == v || *end || errno || x < f->ilo || x > f->ihi) {
            fprintf(stderr, "vnative %s: %s%s needs an integer in [%lld, %lld], got '%s'\n", cmd, where, f->name,
                    (long long)f->ilo, (long long)f->ihi, v);
            return -1;
        }
        *(int64_t *)p = x;
    } else if (f->kind == VN_FLAG_NUM) {
        double x = strtod(v, &end);
        if (end == v || *end || errno || !(x >= f->dlo && x <= f->dhi)) {
            fprintf(stderr, "vnative %s: %s%s needs a number in [%g, %g], got '%s'\n", cmd, where, f->name, f->dlo,
                    f->dhi, v);
            return -1;
        }
        *(double *)p = x;
    } else {
        *(int *)p = 1;
    }
    return 0;
}

int vn_cli_parse_flags(const char *cmd, const vn_cli_flag *flags, int n_flags, void *args, int argc, char **argv,
                       unsigned char *given)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
        int k = vn_cli_find_flag(flags, n_flags, argv[i]);
        if (k < 0) {
            fprintf(stderr, "vnative %s: unknown option '%s' (see vnative %s --help)\n", cmd, argv[i], cmd);
            return 2;
        }
        if (given)
            given[k] = 1;
        if (flags[k].kind == VN_FLAG_BOOL) {
            vn_cli_set_flag(cmd, &flags[k], args, "", "");
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "vnative %s: %s needs a value\n", cmd, argv[i]);
            return 2;
        }
        if (vn_cli_set_flag(cmd, &flags[k], args, argv[++i], "") != 0)
            return 2;
    }
    return 0;
}

int vn_cli_mkdir_p(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++)
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return -1;
            buf[i] = c;
        }
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : (errno = ENOTDIR, -1);
}

int vn_cli_model_is_preset(const char *model)
{
    return !strcmp(model, "xs") || !strcmp(model, "s");
}

int vn_cli_model_config(const char *cmd, const char *model, const char *family, const char *attention,
                        const char *pos, uint64_t seed, vn_encoder_config *cfg)
{
    vn_encoder_family fam = VN_ENCODER_VIDEO;
    if (family && vn_encoder_family_from_name(family, &fam) != VN_OK) {
        fprintf(stderr, "vnative %s: --family is '%s'; expected video, frames or frames+temporal\n", cmd, family);
        return -1;
    }
    vn_encoder_config_init(cfg, VN_ENCODER_CONFIG_VERSION);
    if (vn_cli_model_is_preset(model)) {
        if (vn_encoder_config_preset(cfg, model, fam) != VN_OK) {
            fprintf(stderr, "vnative %s: --model: %s\n", cmd, vn_last_error());
            return -1;
        }
    } else {
        if (vn_encoder_config_load(cfg, model) != VN_OK) {
            fprintf(stderr, "vnative %s: --model is not xs, s or a readable model file: %s\n", cmd, vn_last_error());
            return -1;
        }
        if (family && fam != cfg->family) {
            fprintf(stderr, "vnative %s: --family %s, but %s holds a %s model\n", cmd, family, model,
                    vn_encoder_family_name(cfg->family));
            return -1;
        }
    }
    if (attention) {
        int divided = !strcmp(attention, "divided");
        if (!divided && strcmp(attention, "joint")) {
            fprintf(stderr, "vnative %s: --attention is '%s'; expected joint or divided\n", cmd, attention);
            return -1;
        }
        if (cfg->family != VN_ENCODER_VIDEO) {
            fprintf(stderr, "vnative %s: --attention applies to the video family, not %s\n", cmd,
                    vn_encoder_family_name(cfg->family));
            return -1;
        }
        cfg->attention = divided ? VN_ATTENTION_DIVIDED : VN_ATTENTION_JOINT;
    }
    if (pos) {
        int sincos = !strcmp(pos, "sincos");
        if (!sincos && strcmp(pos, "learned")) {
            fprintf(stderr, "vnative %s: --pos is '%s'; expected learned or sincos\n", cmd, pos);
            return -1;
        }
        cfg->pos = sincos ? VN_POS_SINCOS : VN_POS_LEARNED;
    }
    cfg->seed = seed;
    return 0;
}

int vn_cli_open_encoder(const char *cmd, const char *model, const char *family, const char *pos, uint64_t seed,
                        int n_threads, uint64_t world_seed, vn_context **ctx, vn_encoder **enc, vn_world **world,
                        vn_encoder_config *cfg)
{
    int preset = vn_cli_model_is_preset(model);
    if (!preset && (family || pos)) {
        fprintf(stderr, "vnative %s: --family and --pos go with a preset; %s has its own config\n", cmd, model);
        return 2;
    }
    if (vn_cli_model_config(cmd, model, family, NULL, pos, seed, cfg) != 0)
        return preset ? 2 : 1;
    vn_context_options co = VN_CONTEXT_OPTIONS_INIT;
    co.n_threads = n_threads;
    co.deterministic = 1;
    vn_world_options wo = VN_WORLD_OPTIONS_INIT;
    wo.seed = world_seed;
    wo.n_frames = cfg->frames;
    wo.size = cfg->size;
    wo.channels = cfg->channels;
    wo.n_threads = n_threads;
    if (vn_context_create(ctx, &co) != VN_OK ||
        (preset ? vn_encoder_create(enc, *ctx, cfg) : vn_encoder_load(enc, *ctx, model)) != VN_OK ||
        vn_world_create(world, &wo) != VN_OK) {
        fprintf(stderr, "vnative %s: %s\n", cmd, vn_last_error());
        return 1;
    }
    return 0;
}

int vn_cli_parse_tasks(const char *cmd, const char *list, vn_world_task *out, int *n)
{
    static const vn_world_task all[VN_CLI_N_CLIP_TASKS] = {VN_TASK_AOT,   VN_TASK_GRAVITY, VN_TASK_COLLISION,
                                                            VN_TASK_ORDER, VN_TASK_SPEED,   VN_TASK_INTPHYS};
    *n = 0;
    if (!strcmp(list, "all")) {
        memcpy(out, all, sizeof all);
        *n = VN_CLI_N_CLIP_TASKS;
        return 0;
    }
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        char name[32];
        vn_world_task t;
        if (len == 0 || len >= sizeof name) {
            fprintf(stderr, "vnative %s: --tasks '%s' has an empty or overlong name\n", cmd, list);
            return -1;
        }
        memcpy(name, p, len);
        name[len] = 0;
        if (vn_world_task_from_name(name, &t) != VN_OK || t == VN_TASK_FUTURE) {
            fprintf(stderr,
                    "vnative %s: --tasks: '%s' is not a binary world task (aot, gravity, collision, order, speed, "
                    "intphys, or all)\n",
                    cmd, name);
            return -1;
        }
        for (int i = 0; i < *n; i++)
            if (out[i] == t) {
                fprintf(stderr, "vnative %s: --tasks names '%s' twice\n", cmd, name);
                return -1;
            }
        out[(*n)++] = t;
        p += len;
        if (*p == ',')
            p++;
    }
    if (*n == 0) {
        fprintf(stderr, "vnative %s: --tasks names no task\n", cmd);
        return -1;
    }
    return 0;
}

int vn_cli_probe_args(const char *cmd, const char *model, const char *list, vn_world_task *tasks, int *n)
{
    if (!model) {
        fprintf(stderr, "vnative %s: --model is required (a model.safetensors, or xs|s for random weights)\n", cmd);
        return -1;
    }
    return vn_cli_parse_tasks(cmd, list, tasks, n);
}
