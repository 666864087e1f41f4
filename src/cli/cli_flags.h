/* Flag tables shared by the CLI's subcommands: parsing "--name value" into a struct, and
 * the --model/--family/--attention/--pos choice of an encoder config. */
#ifndef VN_CLI_FLAGS_H
#define VN_CLI_FLAGS_H

#include <stddef.h>
#include <stdint.h>

#include "vnative/vnative.h"

typedef enum vn_flag_kind { VN_FLAG_STR, VN_FLAG_INT, VN_FLAG_NUM, VN_FLAG_BOOL } vn_flag_kind;

/* One flag: where its value goes in the command's argument struct, and its range. */
typedef struct vn_cli_flag {
    const char *name;
    vn_flag_kind kind;
    size_t off;
    int64_t ilo, ihi;
    double dlo, dhi;
} vn_cli_flag;

#define VN_FLAG_S(T, n, f) {n, VN_FLAG_STR, offsetof(T, f), 0, 0, 0, 0}
#define VN_FLAG_I(T, n, f, lo, hi) {n, VN_FLAG_INT, offsetof(T, f), lo, hi, 0, 0}
#define VN_FLAG_N(T, n, f, lo, hi) {n, VN_FLAG_NUM, offsetof(T, f), 0, 0, lo, hi}
#define VN_FLAG_B(T, n, f) {n, VN_FLAG_BOOL, offsetof(T, f), 0, 0, 0, 0}

int vn_cli_find_flag(const vn_cli_flag *flags, int n_flags, const char *name);

/* Set a flag from its text; where prefixes the message (a file and line, or ""). 0 or -1. */
int vn_cli_set_flag(const char *cmd, const vn_cli_flag *f, void *args, const char *v, const char *where);

/* Parse argv[1..] into args. given (n_flags entries, may be NULL) marks the flags seen.
 * Returns 0, 1 when --help or -h was given (nothing else is parsed), or 2 after printing
 * what is wrong. */
int vn_cli_parse_flags(const char *cmd, const vn_cli_flag *flags, int n_flags, void *args, int argc, char **argv,
                       unsigned char *given);

/* An encoder config from --model xs|s|FILE (FILE: a model.safetensors whose config is
 * taken), --family, --attention and --pos (each may be NULL: the model's own), and a seed
 * for fresh weights. Prints what is wrong and returns -1. */
int vn_cli_model_config(const char *cmd, const char *model, const char *family, const char *attention,
                        const char *pos, uint64_t seed, vn_encoder_config *cfg);

/* mkdir -p: create path and its missing parents. Returns 0 when path is a directory
 * afterwards, -1 with errno set otherwise. */
int vn_cli_mkdir_p(const char *path);

/* 1 when model names a preset rather than a file. */
int vn_cli_model_is_preset(const char *model);

/* Probe clips come from a world seed no trainer default uses, so that they are scenes
 * the encoder never trained on. */
#define VN_CLI_PROBE_WORLD_SEED 0x70726f6265ULL

/* The binary world tasks, in table order. */
#define VN_CLI_N_CLIP_TASKS 6

/* Parse --tasks: comma-separated binary world task names, or "all". out has room for
 * VN_CLI_N_CLIP_TASKS. Prints what is wrong and returns -1. */
int vn_cli_parse_tasks(const char *cmd, const char *list, vn_world_task *out, int *n);

/* What every probe-like command needs of its flags: a --model, and --tasks parsed into
 * tasks. Prints what is wrong and returns -1. */
int vn_cli_probe_args(const char *cmd, const char *model, const char *list, vn_world_task *tasks, int *n);

/* Open what a probe-like command needs: a deterministic context with n_threads, the
 * encoder (a preset with fresh weights from seed, with family and pos; or a model file,
 * for which family and pos must be NULL), and a world of world_seed whose clips fit the
 * encoder. Prints what is wrong and returns 2 for bad flags, 1 for other failures; the
 * caller destroys what was opened, on failure too. */
int vn_cli_open_encoder(const char *cmd, const char *model, const char *family, const char *pos, uint64_t seed,
                        int n_threads, uint64_t world_seed, vn_context **ctx, vn_encoder **enc, vn_world **world,
                        vn_encoder_config *cfg);

#endif
