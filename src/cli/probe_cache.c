/* `vnative probe --cache DIR`: world embeddings kept between runs (see probe_cache.h).
 *
 * The sidecar is compared as text with the one this run would write, so any change of
 * model file (its size or modification time), weights seed, world, task, range or
 * library version makes the entry stale. It is removed before the arrays are rewritten
 * and written after them, so an interrupted save leaves no entry that looks valid. */
#include "cli/probe_cache.h"
#include "cli/cli_flags.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/json_writer.h"
#include "io/npy.h"

/* DIR/<task>-<first>-<n>-<flags><suffix> */
static void entry_path(char *out, size_t cap, const char *dir, const vn_cli_cache_key *k, const char *suffix)
{
    snprintf(out, cap, "%s/%s-%lld-%lld-%u%s", dir, k->task, (long long)k->first, (long long)k->n, k->flags, suffix);
}

/* The sidecar's text, malloc'd; NULL when memory runs out. */
static char *sidecar_text(const vn_cli_cache_key *k)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    jw w;
    jw_init(&w, f);
    jw_object_begin(&w, NULL);
    jw_string(&w, "vnative_version", vn_version());
    if (k->preset) {
        jw_string(&w, "model", k->model);
        jw_int(&w, "weights_seed", (int64_t)k->seed);
    } else {
        /* The resolved path, so that a relative and an absolute name of one file agree. */
        char real[PATH_MAX];
        struct stat sb;
        jw_string(&w, "model", realpath(k->model, real) ? real : k->model);
        if (stat(k->model, &sb) == 0) {
            jw_int(&w, "model_bytes", (int64_t)sb.st_size);
            jw_int(&w, "model_mtime_s", (int64_t)sb.st_mtim.tv_sec);
            jw_int(&w, "model_mtime_ns", (int64_t)sb.st_mtim.tv_nsec);
        }
    }
    jw_string(&w, "family", vn_encoder_family_name(k->cfg->family));
    jw_int(&w, "frames", k->cfg->frames);
    jw_int(&w, "size", k->cfg->size);
    jw_int(&w, "channels", k->cfg->channels);
    jw_int(&w, "dim", k->dim);
    jw_int(&w, "world_seed", (int64_t)k->world_seed);
    jw_string(&w, "task", k->task);
    jw_int(&w, "first", k->first);
    jw_int(&w, "n", k->n);
    jw_int(&w, "flags", k->flags);
    jw_object_end(&w);
    jw_finish(&w);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* The whole file, malloc'd and NUL-terminated; NULL when it cannot be read. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    char chunk[4096];
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + got + 1 > cap) {
            cap = 2 * (len + got + 1);
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        memcpy(buf + len, chunk, got);
        len += got;
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

int vn_cli_cache_load(const char *dir, const vn_cli_cache_key *key, float *emb, int *labels)
{
    char path[PATH_MAX], err[256];
    entry_path(path, sizeof path, dir, key, ".json");
    char *want = sidecar_text(key), *have = read_text(path);
    int match = want && have && !strcmp(want, have);
    free(want);
    free(have);
    if (!match)
        return 0;
    vn_npy_array e = {0}, l = {0};
    int ok = 0;
    entry_path(path, sizeof path, dir, key, ".npy");
    if (vn_npy_read(path, &e, err, sizeof err) == 0 && e.dtype == VN_NPY_F32 && e.ndim == 2 &&
        e.shape[0] == key->n && e.shape[1] == key->dim) {
        entry_path(path, sizeof path, dir, key, ".labels.npy");
        if (vn_npy_read(path, &l, err, sizeof err) == 0 && l.dtype == VN_NPY_U8 && l.ndim == 1 &&
            l.shape[0] == key->n) {
            memcpy(emb, e.data, (size_t)(key->n * key->dim) * sizeof *emb);
            for (int64_t i = 0; i < key->n; i++)
                labels[i] = ((const uint8_t *)l.data)[i];
            ok = 1;
        }
    }
    vn_npy_free(&e);
    vn_npy_free(&l);
    return ok;
}

/* mkdir -p */
int vn_cli_cache_save(const char *cmd, const char *dir, const vn_cli_cache_key *key, const float *emb,
                      const int *labels)
{
    char side[PATH_MAX], path[PATH_MAX], err[256] = "";
    entry_path(side, sizeof side, dir, key, ".json");
    if (vn_cli_mkdir_p(dir) != 0) {
        fprintf(stderr, "vnative %s: --cache %s: %s\n", cmd, dir, strerror(errno));
        return -1;
    }
    if (unlink(side) != 0 && errno != ENOENT) {
        fprintf(stderr, "vnative %s: --cache: cannot replace %s: %s\n", cmd, side, strerror(errno));
        return -1;
    }
    uint8_t *y8 = malloc((size_t)key->n);
    char *text = sidecar_text(key);
    int rc = -1;
    if (!y8 || !text) {
        fprintf(stderr, "vnative %s: --cache: out of memory\n", cmd);
        goto done;
    }
    for (int64_t i = 0; i < key->n; i++)
        y8[i] = (uint8_t)labels[i];
    int64_t es[2] = {key->n, key->dim}, ls[1] = {key->n};
    entry_path(path, sizeof path, dir, key, ".npy");
    if (vn_npy_write(path, VN_NPY_F32, 2, es, emb, err, sizeof err) != 0) {
        fprintf(stderr, "vnative %s: --cache: %s\n", cmd, err);
        goto done;
    }
    entry_path(path, sizeof path, dir, key, ".labels.npy");
    if (vn_npy_write(path, VN_NPY_U8, 1, ls, y8, err, sizeof err) != 0) {
        fprintf(stderr, "vnative %s: --cache: %s\n", cmd, err);
        goto done;
    }
    FILE *f = fopen(side, "w");
    int bad = !f;
    if (f) {
        bad = fputs(text, f) == EOF;
        bad |= fclose(f) != 0;
    }
    if (bad) {
        fprintf(stderr, "vnative %s: --cache: cannot write %s: %s\n", cmd, side, strerror(errno));
        if (f)
            unlink(side);
        goto done;
    }
    rc = 0;
done:
    free(y8);
    free(text);
    return rc;
}
