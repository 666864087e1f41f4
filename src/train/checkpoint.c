/*
 * checkpoint.c: vn_trainer_save and vn_trainer_resume.
 *
 * A checkpoint directory holds model.safetensors (the encoder's weights, for anyone
 * who wants the model) and trainer.safetensors (everything a resume needs: the weights
 * again, the heads, the predictor, the EMA target, AdamW's moments, the RNG state and
 * the data position). Each file is replaced atomically, model first: a resume reads
 * only trainer.safetensors, so a save killed at any moment leaves the previous
 * checkpoint whole, and model.safetensors is always one complete save or another.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "nn/encoder_io.h"
#include "train/train_internal.h"

#define TRAINER_FORMAT "vnative.trainer"
#define TRAINER_FORMAT_VERSION "1"

/* Everything that must match for a resume to continue the same run. */
static void fingerprint(const vn_trainer *tr, char *buf, size_t cap)
{
    const vn_train_options *o = &tr->opt;
    snprintf(buf, cap,
             "objectives=%s data=%s eval_data=%s batch=%d total_steps=%lld lr=%.9g min_lr=%.9g warmup_steps=%lld "
             "weight_decay=%.9g beta1=%.9g beta2=%.9g eps=%.9g grad_clip=%.9g seed=%" PRIu64
             " jepa_mask_ratio=%.9g ema_start=%.9g ema_end=%.9g predictor=%dx%dx%d future_tau=%.9g "
             "num_classes=%lld",
             o->objectives, o->data, o->eval_data ? o->eval_data : "-", o->batch, (long long)o->total_steps,
             (double)o->lr, (double)o->min_lr, (long long)o->warmup_steps, (double)o->weight_decay, (double)o->beta1,
             (double)o->beta2, (double)o->eps, (double)o->grad_clip, o->seed, (double)o->jepa_mask_ratio,
             (double)o->ema_start, (double)o->ema_end, o->predictor_dim, o->predictor_depth, o->predictor_heads,
             (double)o->future_tau, (long long)tr->heads.K);
}

/* Where the arenas of the trainer state live (the fields holding them), and their
 * sizes: what a checkpoint writes and a resume overwrites. */
static int state_slots(vn_trainer *tr, float ***slot, int64_t *n)
{
    int k = 0;
    slot[k] = &tr->enc->arena, n[k++] = tr->enc->n_floats;
    slot[k] = &tr->m, n[k++] = tr->n_params;
    slot[k] = &tr->v, n[k++] = tr->n_params;
    slot[k] = &tr->heads.arena, n[k++] = tr->heads.n_floats;
    slot[k] = &tr->heads.m, n[k++] = tr->heads.n_floats;
    slot[k] = &tr->heads.v, n[k++] = tr->heads.n_floats;
    k += vn_train_jepa_slots(tr, slot + k, n + k, 4);
    return k;
}

#define MAX_SLOTS 16

/* A checkpoint reads and writes host memory. On a device the state arenas are swapped
 * for host copies for the duration (stage_in), and swapped back (stage_out), uploading
 * the host copies first when a resume has filled them. On the host this is nothing. */
typedef struct staged {
    int k;
    float **slot[MAX_SLOTS];
    float *device[MAX_SLOTS];
    int64_t n[MAX_SLOTS];
} staged;

static vn_status stage_out(vn_trainer *tr, staged *sg, int upload)
{
    vn_status st = VN_OK;
    for (int i = 0; i < sg->k; i++) {
        float *host = *sg->slot[i];
        *sg->slot[i] = sg->device[i];
        if (upload && !st)
            st = vn_nn_upload(&tr->nn, sg->device[i], host, (size_t)sg->n[i] * sizeof(float));
        free(host);
    }
    sg->k = 0;
    return st;
}

static vn_status stage_in(vn_trainer *tr, staged *sg)
{
    sg->k = 0;
    if (!tr->nn.dev)
        return VN_OK;
    float **slot[MAX_SLOTS];
    int64_t n[MAX_SLOTS];
    int k = state_slots(tr, slot, n);
    for (int i = 0; i < k; i++) {
        float *host = malloc((size_t)(n[i] > 0 ? n[i] : 1) * sizeof(float));
        vn_status st = host ? vn_nn_download(&tr->nn, host, *slot[i], (size_t)n[i] * sizeof(float))
                            : vn_error(VN_ERR_OUT_OF_MEMORY, "out of memory for a host copy of the trainer state");
        if (st) {
            free(host);
            stage_out(tr, sg, 0);
            return st;
        }
        sg->slot[sg->k] = slot[i];
        sg->device[sg->k] = *slot[i];
        sg->n[sg->k++] = n[i];
        *slot[i] = host;
    }
    return VN_OK;
}

static vn_status add_i64_meta(vn_st_writer *w, const char *key, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    return vn_st_writer_add_metadata(w, key, buf);
}

vn_status vn_train_state_tensor(vn_st_writer *w, const vn_st_file *f, const char *name, int ndim,
                                const int64_t *shape, float *data)
{
    if (w)
        return vn_st_writer_add(w, name, VN_DTYPE_F32, ndim, shape, data);
    vn_tensor t;
    vn_tensor_init(&t, data, VN_DTYPE_F32, ndim, shape);
    vn_status st = vn_st_read_into(f, name, &t);
    return st == VN_ERR_SHAPE || st == VN_ERR_NOT_FOUND ? vn_error_prefix(VN_ERR_FORMAT, "trainer state: ") : st;
}

static vn_status heads_tensors(vn_trainer *tr, vn_st_writer *w, const vn_st_file *f)
{
    vn_train_heads *h = &tr->heads;
    float *arenas[3] = {h->arena, h->m, h->v};
    const char *prefix[3] = {"", "adam.m.", "adam.v."};
    for (int a = 0; a < 3; a++)
        for (int i = 0; i < h->n_params; i++) {
            const vn_train_param *p = &h->params[i];
            char name[160];
            snprintf(name, sizeof name, "%s%s", prefix[a], p->name);
            vn_status st = vn_train_state_tensor(w, f, name, p->ndim, p->shape, arenas[a] + p->offset);
            if (st)
                return st;
        }
    return VN_OK;
}

static vn_status write_state(vn_trainer *tr, const char *path)
{
    vn_st_writer *w = NULL;
    staged sg;
    vn_status st = stage_in(tr, &sg);
    if (st)
        return st;
    if ((st = vn_st_writer_create(&w))) {
        stage_out(tr, &sg, 0);
        return st;
    }
    char cfg[2048], fp[2048];
    int64_t n = 0, rng_shape[1] = {4};
    int64_t rng_words[4];
    for (int i = 0; i < 4; i++)
        rng_words[i] = (int64_t)tr->rng.s[i];
    fingerprint(tr, fp, sizeof fp);
    if (!(st = vn_encoder_config_to_json(&tr->cfg, cfg, sizeof cfg)) &&
        !(st = vn_st_writer_add_metadata(w, "format", TRAINER_FORMAT)) &&
        !(st = vn_st_writer_add_metadata(w, "format_version", TRAINER_FORMAT_VERSION)) &&
        !(st = vn_st_writer_add_metadata(w, "config", cfg)) && !(st = vn_st_writer_add_metadata(w, "options", fp)) &&
        !(st = add_i64_meta(w, "step", tr->step)) && !(st = add_i64_meta(w, "clips_seen", tr->clips_seen)) &&
        !(st = add_i64_meta(w, "data_pos", tr->data.pos)) && !(st = add_i64_meta(w, "data_epoch", tr->data.epoch)) &&
        !(st = add_i64_meta(w, "data_epoch_batches", tr->data.epoch_batches)) &&
        !(st = add_i64_meta(w, "world_size", tr->dist.world_size)) &&
        !(st = vn_st_writer_add(w, "rng", VN_DTYPE_I64, 1, rng_shape, rng_words)) &&
        !(st = vn_encoder_add_tensors(tr->enc, w, "model.", vn_encoder_params(tr->enc, &n))) &&
        !(st = vn_encoder_add_tensors(tr->enc, w, "adam.m.", tr->m)) &&
        !(st = vn_encoder_add_tensors(tr->enc, w, "adam.v.", tr->v)) && !(st = heads_tensors(tr, w, NULL)) &&
        !(tr->jepa && (st = vn_train_jepa_add_tensors(tr, w))))
        st = vn_st_writer_write(w, path);
    vn_st_writer_free(w);
    stage_out(tr, &sg, 0);
    return st;
}

/* Whether name is a temp file the safetensors writer makes for file: ".file.XXXXXX" with
 * mkstemp's six letters or digits. */
static int is_temp_of(const char *name, const char *file)
{
    size_t n = strlen(file);
    if (name[0] != '.' || strncmp(name + 1, file, n) || name[n + 1] != '.' || strlen(name + n + 2) != 6)
        return 0;
    for (const char *c = name + n + 2; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
            return 0;
    return 1;
}

/* A save killed mid-write leaves its hidden temp file; resumes never read one, but each
 * holds a checkpoint's worth of disk, and a job preempted often would pile them up. Only
 * one process saves into a checkpoint directory, so any such file is a dead save's. */
static void remove_stale_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char path[4096];
    for (struct dirent *e; (e = readdir(d));)
        if (is_temp_of(e->d_name, "model.safetensors") || is_temp_of(e->d_name, "trainer.safetensors")) {
            /* a truncated path would name some other file */
            if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path)
                continue;
            if (unlink(path) == 0)
                vn_log(VN_LOG_INFO, "vn_trainer_save: removed %s, left by a save that was killed", path);
        }
    closedir(d);
}

vn_status vn_trainer_save(vn_trainer *tr, const char *dir)
{
    VN_CHECK_NULL(tr);
    VN_CHECK_PATH(dir);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return vn_error(VN_ERR_IO, "vn_trainer_save: cannot create the directory '%s': %s", dir, strerror(errno));
    size_t len = strlen(dir) + 32;
    char *model = malloc(len), *state = malloc(len);
    if (!model || !state) {
        free(model);
        free(state);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_trainer_save: out of memory");
    }
    snprintf(model, len, "%s/model.safetensors", dir);
    snprintf(state, len, "%s/trainer.safetensors", dir);
    remove_stale_temps(dir);
    vn_status st = vn_encoder_save(tr->enc, model);
    if (st == VN_OK)
        st = write_state(tr, state);
    free(model);
    free(state);
    return st ? vn_error_prefix(st, "vn_trainer_save: ") : VN_OK;
}

static vn_status meta_i64(const vn_st_file *f, const char *path, const char *key, int64_t *out)
{
    const char *v = NULL;
    if (vn_st_metadata(f, key, &v) != VN_OK)
        return vn_error(VN_ERR_FORMAT, "%s: __metadata__ has no '%s'", path, key);
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || errno || x < 0)
        return vn_error(VN_ERR_FORMAT, "%s: __metadata__ '%s' is '%s', not a count", path, key, v);
    *out = x;
    return VN_OK;
}

/* The key=value pair (or JSON field) where two fingerprints first differ, from both. */
static void first_difference(const char *a, const char *b, char *buf, size_t cap)
{
    size_t i = 0;
    while (a[i] && a[i] == b[i])
        i++;
    while (i > 0 && a[i - 1] != ' ' && a[i - 1] != ',')
        i--;
    snprintf(buf, cap, "%.50s' vs '%.50s", a + i, b + i);
}

static vn_status check_identity(vn_trainer *tr, const vn_st_file *f, const char *path)
{
    const char *v = NULL;
    if (vn_st_metadata(f, "format", &v) != VN_OK || strcmp(v, TRAINER_FORMAT))
        return vn_error(VN_ERR_FORMAT, "%s: not a vnative trainer state (metadata 'format' is not '%s')", path,
                        TRAINER_FORMAT);
    if (vn_st_metadata(f, "format_version", &v) != VN_OK || strcmp(v, TRAINER_FORMAT_VERSION))
        return vn_error(VN_ERR_VERSION, "%s: trainer state format version '%s'; this library reads %s", path,
                        v ? v : "(none)", TRAINER_FORMAT_VERSION);
    char cfg[2048], fp[2048], diff[160];
    vn_encoder_config_to_json(&tr->cfg, cfg, sizeof cfg);
    if (vn_st_metadata(f, "config", &v) != VN_OK)
        return vn_error(VN_ERR_FORMAT, "%s: __metadata__ has no 'config'", path);
    if (strcmp(v, cfg)) {
        first_difference(v, cfg, diff, sizeof diff);
        return vn_error(VN_ERR_INVALID_ARG,
                        "%s was saved with another encoder config (at '%s', saved vs this trainer)",
                        path, diff);
    }
    fingerprint(tr, fp, sizeof fp);
    if (vn_st_metadata(f, "options", &v) != VN_OK)
        return vn_error(VN_ERR_FORMAT, "%s: __metadata__ has no 'options'", path);
    if (strcmp(v, fp)) {
        first_difference(v, fp, diff, sizeof diff);
        return vn_error(VN_ERR_INVALID_ARG,
                        "%s was saved with other training options (at '%s', saved vs this "
                        "trainer)",
                        path, diff);
    }
    return VN_OK;
}

static vn_status read_state(vn_trainer *tr, const vn_st_file *f, const char *path)
{
    vn_status st = check_identity(tr, f, path);
    if (st)
        return st;
    int64_t step, seen, pos, epoch, eb, n = 0;
    if ((st = meta_i64(f, path, "step", &step)) || (st = meta_i64(f, path, "clips_seen", &seen)) ||
        (st = meta_i64(f, path, "data_pos", &pos)) || (st = meta_i64(f, path, "data_epoch", &epoch)) ||
        (st = meta_i64(f, path, "data_epoch_batches", &eb)))
        return st;
    /* the shards and the data position are those of the saving run's replica count; a
     * state from before data parallelism has none and was one replica */
    int64_t world = 1;
    const char *wv = NULL;
    if (vn_st_metadata(f, "world_size", &wv) == VN_OK && (st = meta_i64(f, path, "world_size", &world)))
        return st;
    if (world != tr->dist.world_size)
        return vn_error(VN_ERR_INVALID_ARG,
                        "%s was saved by a run of %lld replicas (ranks); this one has %d: resume with the same "
                        "number of ranks",
                        path, (long long)world, tr->dist.world_size);
    int64_t words[4], shape[1] = {4};
    vn_tensor t;
    vn_tensor_init(&t, words, VN_DTYPE_I64, 1, shape);
    if ((st = vn_st_read_into(f, "rng", &t)))
        return vn_error_prefix(VN_ERR_FORMAT, "%s: ", path);
    if ((st = vn_encoder_read_tensors(tr->enc, f, "model.", vn_encoder_params(tr->enc, &n))) ||
        (st = vn_encoder_read_tensors(tr->enc, f, "adam.m.", tr->m)) ||
        (st = vn_encoder_read_tensors(tr->enc, f, "adam.v.", tr->v)) || (st = heads_tensors(tr, NULL, f)) ||
        (tr->jepa && (st = vn_train_jepa_read_tensors(tr, f))))
        return vn_error_prefix(st == VN_ERR_FORMAT ? st : VN_ERR_FORMAT, "%s: ", path);
    if ((st = vn_train_data_seek(&tr->data, pos, epoch, eb)))
        return st;
    for (int i = 0; i < 4; i++)
        tr->rng.s[i] = (uint64_t)words[i];
    tr->step = step;
    tr->clips_seen = seen;
    return VN_OK;
}

vn_status vn_trainer_resume(vn_trainer *tr, const char *dir)
{
    VN_CHECK_NULL(tr);
    VN_CHECK_PATH(dir);
    size_t len = strlen(dir) + 32;
    char *path = malloc(len);
    if (!path)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_trainer_resume: out of memory");
    snprintf(path, len, "%s/trainer.safetensors", dir);
    vn_st_file *f = NULL;
    vn_status st = vn_st_open(&f, path);
    if (st) {
        free(path);
        return vn_error_prefix(st, "vn_trainer_resume: ");
    }
    /* all or nothing: the arenas are restored if any tensor is missing or malformed */
    staged sg;
    if ((st = stage_in(tr, &sg))) {
        vn_st_close(f);
        free(path);
        return vn_error_prefix(st, "vn_trainer_resume: ");
    }
    float **slot[MAX_SLOTS], *p[MAX_SLOTS];
    int64_t n[MAX_SLOTS];
    int k = state_slots(tr, slot, n);
    for (int i = 0; i < k; i++)
        p[i] = *slot[i];
    float *backup[MAX_SLOTS] = {0};
    int ok = 1;
    for (int i = 0; i < k; i++) {
        backup[i] = malloc((size_t)(n[i] > 0 ? n[i] : 1) * sizeof(float));
        ok &= backup[i] != NULL;
        if (backup[i])
            memcpy(backup[i], p[i], (size_t)n[i] * sizeof(float));
    }
    vn_train_data saved_data = tr->data;
    if (!ok)
        st = vn_error(VN_ERR_OUT_OF_MEMORY, "vn_trainer_resume: out of memory");
    else
        st = read_state(tr, f, path);
    if (st) {
        for (int i = 0; i < k; i++)
            if (backup[i])
                memcpy(p[i], backup[i], (size_t)n[i] * sizeof(float));
        if (tr->data.world) {
            tr->data.pos = saved_data.pos;
        } else {
            /* a failed seek moved the loader; put it back where it was */
            vn_status keep = st;
            vn_train_data_seek(&tr->data, saved_data.pos, saved_data.epoch, saved_data.epoch_batches);
            st = keep;
        }
    } else {
        /* the optimiser's gradient buffers are scratch: nothing to restore */
        vn_log(VN_LOG_INFO, "vn_trainer_resume: resumed %s at step %lld", dir, (long long)tr->step);
    }
    for (int i = 0; i < k; i++)
        free(backup[i]);
    vn_status up = stage_out(tr, &sg, 1);
    st = st ? st : up;
    vn_st_close(f);
    free(path);
    return st ? vn_error_prefix(st, "vn_trainer_resume: ") : VN_OK;
}
