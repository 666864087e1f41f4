/* `vnative probe --cache DIR`: world embeddings kept between runs.
 *
 * An entry is DIR/<task>-<first>-<n>-<flags>.npy (float32 [n, dim]), its labels in
 * .labels.npy (uint8 [n]) and a .json sidecar recording what the embeddings came from.
 * It is reused only when the sidecar says exactly what this run would write. */
#ifndef VN_CLI_PROBE_CACHE_H
#define VN_CLI_PROBE_CACHE_H

#include <stdint.h>

#include "vnative/vnative.h"

typedef struct vn_cli_cache_key {
    const char *model; /* --model as given: a preset name or a weights file */
    int preset;        /* 1: the weights come from the config and seed, not a file */
    uint64_t seed;     /* the preset's weight seed */
    const vn_encoder_config *cfg;
    uint64_t world_seed;
    const char *task;
    int64_t first, n;
    unsigned flags;
    int64_t dim;
} vn_cli_cache_key;

/* 1 when emb [n, dim] and labels [n] were filled from a matching entry; 0 when there is
 * none (missing, stale or unreadable: all mean "compute it"). */
int vn_cli_cache_load(const char *dir, const vn_cli_cache_key *key, float *emb, int *labels);

/* Store an entry (creating dir). Returns 0, or -1 after printing why to stderr. */
int vn_cli_cache_save(const char *cmd, const char *dir, const vn_cli_cache_key *key, const float *emb,
                      const int *labels);

#endif
