/* Bad-input rows of train.h (the matrix: bad_input.h). bi_trainer() trains 2 frames of
 * 16 x 16 grey on world:aot, 2 clips a step. */
#include "bad_input.h"

#include <math.h>

#define NEW_TRAINER(ctx, cfg, o) BI_LEAVES_NULL(vn_trainer, vn_trainer_create(&h_, ctx, cfg, o))
static vn_status refuse_allreduce(void *user, float *buf, int64_t n, char *msg, size_t cap)
{
    (void)user, (void)buf, (void)n;
    fmt_into(msg, cap, "the peer is gone");
    return VN_ERR_IO;
}

/* A refused vn_trainer_set_dist leaves the trainer as it was: it still steps alone. */
static vn_status step_after_failed_dist(void)
{
    vn_trainer *tr = bi_trainer();
    vn_train_dist d = VN_TRAIN_DIST_INIT;
    d.rank = 3;
    d.world_size = 2;
    VN_ASSERT_FAILS(vn_trainer_set_dist(tr, &d), VN_ERR_INVALID_ARG);
    vn_train_metrics m = VN_TRAIN_METRICS_INIT;
    vn_status st = vn_trainer_step(tr, &m);
    ck_assert_int_eq(m.step, 1);
    return st;
}

/* Data parallelism is set before the first step, never after. */
static vn_status dist_after_step(void)
{
    vn_trainer *tr = bi_trainer();
    VN_ASSERT_OK(vn_trainer_step(tr, NULL));
    vn_train_dist d = VN_TRAIN_DIST_INIT;
    return vn_trainer_set_dist(tr, &d);
}

/* Two replicas whose sum fails: the step fails with the callback's message. */
static vn_status step_with_failing_allreduce(void)
{
    vn_trainer *tr = bi_trainer();
    vn_train_dist d = VN_TRAIN_DIST_INIT;
    d.world_size = 2;
    d.allreduce_sum = refuse_allreduce;
    VN_ASSERT_OK(vn_trainer_set_dist(tr, &d));
    return vn_trainer_step(tr, NULL);
}

/* A checkpoint of bi_trainer() resumed into a trainer of another width. */
static vn_status resume_other_config(void)
{
    vn_encoder_config *c = bi_trainer_config();
    c->dim = 16;
    vn_trainer *tr = NULL;
    VN_ASSERT_OK(vn_trainer_create(&tr, bi_ctx(), c, bi_train_options()));
    vn_status st = vn_trainer_resume(tr, bi_ckpt_dir());
    vn_trainer_destroy(tr);
    return st;
}

#define TOPT(...) BI_OPT(vn_train_options, *bi_train_options(), __VA_ARGS__)
#define TCFG(...) BI_OPT(vn_encoder_config, *bi_trainer_config(), __VA_ARGS__)
#define CREATE(opts) NEW_TRAINER(bi_ctx(), bi_trainer_config(), opts)
#define METRICS(...) BI_OPT(vn_train_metrics, VN_TRAIN_METRICS_INIT, __VA_ARGS__)
#define DIST(...) BI_OPT(vn_train_dist, VN_TRAIN_DIST_INIT, __VA_ARGS__)
#define WEIGHTS BI_OUTN(float, VN_OBJECTIVE_COUNT)

#define ROWS(R)                                                                                                      \
    BI_NAME_ROWS(R, vn_objective_name, objective, vn_objective_from_name, vn_objective, "aot", "time")               \
    R(vn_objective_name, enum_count, BI_ENUM, "objective", NULL, BI_SAFE,                                            \
      BI_UNKNOWN_NAME(vn_objective_name, vn_objective, VN_OBJECTIVE_COUNT))                                          \
    R(vn_objectives_parse, null_spec, BI_NULL, "spec", NULL, VN_ERR_INVALID_ARG, vn_objectives_parse(NULL, WEIGHTS)) \
    R(vn_objectives_parse, null_weights, BI_NULL, "weights", NULL, VN_ERR_INVALID_ARG,                               \
      vn_objectives_parse("aot", NULL))                                                                              \
    R(vn_objectives_parse, empty, BI_STRING, "spec", "weight", VN_ERR_INVALID_ARG, vn_objectives_parse("", WEIGHTS)) \
    R(vn_objectives_parse, inf_weight, BI_STRING, "spec", "aot", VN_ERR_INVALID_ARG,                                 \
      vn_objectives_parse("aot=inf", WEIGHTS))                                                                       \
    R(vn_objectives_parse, neg_weight, BI_STRING, "spec", "aot", VN_ERR_INVALID_ARG,                                 \
      vn_objectives_parse("aot=-1", WEIGHTS))                                                                        \
    R(vn_objectives_parse, repeated, BI_STRING, "spec", "aot", VN_ERR_INVALID_ARG,                                   \
      vn_objectives_parse("aot,aot=2", WEIGHTS))                                                                     \
    R(vn_objectives_parse, unknown, BI_STRING, "spec", "time", VN_ERR_INVALID_ARG,                                   \
      vn_objectives_parse("time=1", WEIGHTS))                                                                        \
    R(vn_objectives_parse, all_zero, BI_STRING, "spec", "weight", VN_ERR_INVALID_ARG,                                \
      vn_objectives_parse("aot=0", WEIGHTS))                                                                         \
    BI_INIT_ROWS(R, vn_train_options_init, vn_train_options, opts, VN_TRAIN_OPTIONS_VERSION)                         \
    BI_INIT_ROWS(R, vn_train_metrics_init, vn_train_metrics, metrics, VN_TRAIN_METRICS_VERSION)                      \
    R(vn_trainer_create, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG,                                         \
      vn_trainer_create(NULL, bi_ctx(), bi_trainer_config(), bi_train_options()))                                    \
    R(vn_trainer_create, null_ctx, BI_NULL, "ctx", NULL, VN_ERR_INVALID_ARG,                                         \
      NEW_TRAINER(NULL, bi_trainer_config(), bi_train_options()))                                                    \
    R(vn_trainer_create, null_cfg, BI_NULL, "cfg", NULL, VN_ERR_INVALID_ARG,                                         \
      NEW_TRAINER(bi_ctx(), NULL, bi_train_options()))                                                               \
    R(vn_trainer_create, null_opts, BI_NULL, "opts", NULL, VN_ERR_INVALID_ARG, CREATE(NULL))                         \
    R(vn_trainer_create, cfg_version_0, BI_VERSION, "cfg", "version", VN_ERR_VERSION,                                \
      NEW_TRAINER(bi_ctx(), TCFG(o_.version = 0), bi_train_options()))                                               \
    R(vn_trainer_create, cfg_heads_3, BI_FIELD, "cfg.heads", "dim", VN_ERR_INVALID_ARG,                              \
      NEW_TRAINER(bi_ctx(), TCFG(o_.heads = 3), bi_train_options()))                                                 \
    R(vn_trainer_create, version_0, BI_VERSION, "opts", "version", VN_ERR_VERSION, CREATE(TOPT(o_.version = 0)))     \
    R(vn_trainer_create, version_future, BI_VERSION, "opts", "version", VN_ERR_VERSION,                              \
      CREATE(TOPT(o_.version = 999)))                                                                                \
    R(vn_trainer_create, batch_1, BI_FIELD, "opts.batch", NULL, VN_ERR_INVALID_ARG, CREATE(TOPT(o_.batch = 1)))      \
    R(vn_trainer_create, batch_neg, BI_FIELD, "opts.batch", NULL, VN_ERR_INVALID_ARG, CREATE(TOPT(o_.batch = -4)))   \
    R(vn_trainer_create, steps_0, BI_FIELD, "opts.total_steps", NULL, VN_ERR_INVALID_ARG,                            \
      CREATE(TOPT(o_.total_steps = 0)))                                                                              \
    R(vn_trainer_create, lr_nan, BI_FIELD, "opts.lr", NULL, VN_ERR_INVALID_ARG, CREATE(TOPT(o_.lr = NAN)))           \
    R(vn_trainer_create, lr_neg, BI_FIELD, "opts.lr", NULL, VN_ERR_INVALID_ARG, CREATE(TOPT(o_.lr = -1)))            \
    R(vn_trainer_create, warmup_neg_2, BI_FIELD, "opts.warmup_steps", NULL, VN_ERR_INVALID_ARG,                      \
      CREATE(TOPT(o_.warmup_steps = -2)))                                                                            \
    R(vn_trainer_create, beta1_1, BI_FIELD, "opts.beta1", "betas 1", VN_ERR_INVALID_ARG,                             \
      CREATE(TOPT(o_.beta1 = 1.0f)))                                                                                 \
    R(vn_trainer_create, eps_0, BI_FIELD, "opts.eps", NULL, VN_ERR_INVALID_ARG, CREATE(TOPT(o_.eps = 0)))            \
    R(vn_trainer_create, grad_clip_neg, BI_FIELD, "opts.grad_clip", NULL, VN_ERR_INVALID_ARG,                        \
      CREATE(TOPT(o_.grad_clip = -1)))                                                                               \
    R(vn_trainer_create, mask_ratio_1, BI_FIELD, "opts.jepa_mask_ratio", NULL, VN_ERR_INVALID_ARG,                   \
      CREATE(TOPT(o_.objectives = "jepa"; o_.jepa_mask_ratio = 1.0f)))                                               \
    R(vn_trainer_create, ema_2, BI_FIELD, "opts.ema_start", NULL, VN_ERR_INVALID_ARG,                                \
      CREATE(TOPT(o_.objectives = "jepa"; o_.ema_start = 2.0f)))                                                     \
    R(vn_trainer_create, predictor_heads_0, BI_FIELD, "opts.predictor_heads", "heads 0", VN_ERR_INVALID_ARG,         \
      CREATE(TOPT(o_.objectives = "jepa"; o_.predictor_heads = 0)))                                                  \
    R(vn_trainer_create, tau_0, BI_FIELD, "opts.future_tau", NULL, VN_ERR_INVALID_ARG,                               \
      CREATE(TOPT(o_.objectives = "future"; o_.future_tau = 0)))                                                     \
    R(vn_trainer_create, classes_neg, BI_FIELD, "opts.num_classes", NULL, VN_ERR_INVALID_ARG,                        \
      CREATE(TOPT(o_.objectives = "label"; o_.num_classes = -1)))                                                    \
    R(vn_trainer_create, eval_every_neg, BI_FIELD, "opts.eval_every", NULL, VN_ERR_INVALID_ARG,                      \
      CREATE(TOPT(o_.eval_every = -1)))                                                                              \
    R(vn_trainer_create, eval_clips_neg, BI_FIELD, "opts.eval_clips", NULL, VN_ERR_INVALID_ARG,                      \
      CREATE(TOPT(o_.eval_clips = -1)))                                                                              \
    R(vn_trainer_create, workers_neg, BI_FIELD, "opts.loader_workers", NULL, VN_ERR_INVALID_ARG,                     \
      CREATE(TOPT(o_.loader_workers = -1)))                                                                          \
    R(vn_trainer_create, objectives_unknown, BI_FIELD, "opts.objectives", "time", VN_ERR_INVALID_ARG,                \
      CREATE(TOPT(o_.objectives = "time")))                                                                          \
    R(vn_trainer_create, world_task_unknown, BI_FIELD, "opts.data", "gravityx", VN_ERR_INVALID_ARG,                  \
      CREATE(TOPT(o_.data = "world:gravityx")))                                                                      \
    R(vn_trainer_create, data_missing, BI_FIELD, "opts.data", "no-such-dir/list.csv", VN_ERR_NOT_FOUND,              \
      CREATE(TOPT(o_.data = bi_missing("list.csv"))))                                                                \
    R(vn_trainer_create, eval_data_missing, BI_FIELD, "opts.eval_data", "no-such-dir/eval.csv", VN_ERR_NOT_FOUND,    \
      CREATE(TOPT(o_.eval_data = bi_missing("eval.csv"))))                                                           \
    R(vn_trainer_create, order_one_frame, BI_FIELD, "cfg.frames", "2 or more frames", VN_ERR_INVALID_ARG,            \
      NEW_TRAINER(bi_ctx(), TCFG(o_.frames = 1; o_.tubelet_t = 1), TOPT(o_.objectives = "order")))                   \
    BI_DESTROY_ROW(R, vn_trainer_destroy, tr)                                                                        \
    R(vn_trainer_step, null_tr, BI_NULL, "tr", NULL, VN_ERR_INVALID_ARG, vn_trainer_step(NULL, NULL))                \
    R(vn_trainer_step, null_metrics, BI_NULL, "metrics", NULL, VN_OK, vn_trainer_step(bi_trainer(), NULL))           \
    R(vn_trainer_step, version_0, BI_VERSION, "metrics", "version", VN_ERR_VERSION,                                  \
      vn_trainer_step(bi_trainer(), METRICS(o_.version = 0)))                                                        \
    R(vn_trainer_step, version_future, BI_VERSION, "metrics", "version", VN_ERR_VERSION,                             \
      vn_trainer_step(bi_trainer(), METRICS(o_.version = 99)))                                                       \
    R(vn_trainer_step, after_failed_dist, BI_STATE, "tr", NULL, VN_OK, step_after_failed_dist())                     \
    R(vn_trainer_step, allreduce_fails, BI_STATE, "tr", "the peer is gone", VN_ERR_IO,                               \
      step_with_failing_allreduce())                                                                                 \
    R(vn_trainer_run, null_tr, BI_NULL, "tr", NULL, VN_ERR_INVALID_ARG, vn_trainer_run(NULL, 1, NULL))               \
    R(vn_trainer_run, null_last, BI_NULL, "last", NULL, VN_OK, vn_trainer_run(bi_trainer(), 1, NULL))                \
    R(vn_trainer_run, neg_steps, BI_RANGE, "steps", NULL, VN_ERR_INVALID_ARG,                                        \
      vn_trainer_run(bi_trainer(), -1, NULL))                                                                        \
    R(vn_trainer_run, version_0, BI_VERSION, "last", "version", VN_ERR_VERSION,                                      \
      vn_trainer_run(bi_trainer(), 1, METRICS(o_.version = 0)))                                                      \
    R(vn_trainer_evaluate, null_tr, BI_NULL, "tr", NULL, VN_ERR_INVALID_ARG, vn_trainer_evaluate(NULL, METRICS()))   \
    R(vn_trainer_evaluate, null_metrics, BI_NULL, "metrics", NULL, VN_OK, /* as vn_trainer_step */                   \
      vn_trainer_evaluate(bi_trainer(), NULL))                                                                       \
    R(vn_trainer_evaluate, version_0, BI_VERSION, "metrics", "version", VN_ERR_VERSION,                              \
      vn_trainer_evaluate(bi_trainer(), METRICS(o_.version = 0)))                                                    \
    R(vn_trainer_get_step, null_tr, BI_NULL, "tr", NULL, VN_ERR_INVALID_ARG,                                         \
      vn_trainer_get_step(NULL, BI_OUT(int64_t)))                                                                    \
    R(vn_trainer_get_step, null_step, BI_NULL, "step", NULL, VN_ERR_INVALID_ARG,                                     \
      vn_trainer_get_step(bi_trainer(), NULL))                                                                       \
    R(vn_trainer_set_precision, null_tr, BI_NULL, "tr", NULL, VN_ERR_INVALID_ARG,                                    \
      vn_trainer_set_precision(NULL, VN_PRECISION_FP32))                                                             \
    R(vn_trainer_set_precision, enum_7, BI_ENUM, "precision", NULL, VN_ERR_INVALID_ARG,                              \
      vn_trainer_set_precision(bi_trainer(), (vn_precision)7))                                                       \
    R(vn_trainer_set_precision, enum_neg, BI_ENUM, "precision", NULL, VN_ERR_INVALID_ARG,                            \
      vn_trainer_set_precision(bi_trainer(), (vn_precision)-1))                                                      \
    R(vn_trainer_set_precision, tf32_on_cpu, BI_ENUM, "precision", "tf32", VN_ERR_UNSUPPORTED,                       \
      vn_trainer_set_precision(bi_trainer(), VN_PRECISION_TF32))                                                     \
    R(vn_trainer_set_dist, null_tr, BI_NULL, "tr", NULL, VN_ERR_INVALID_ARG, vn_trainer_set_dist(NULL, DIST()))      \
    R(vn_trainer_set_dist, null_dist, BI_NULL, "dist", NULL, VN_ERR_INVALID_ARG,                                     \
      vn_trainer_set_dist(bi_trainer(), NULL))                                                                       \
    R(vn_trainer_set_dist, version_0, BI_VERSION, "dist", "version", VN_ERR_VERSION,                                 \
      vn_trainer_set_dist(bi_trainer(), DIST(o_.version = 0)))                                                       \
    R(vn_trainer_set_dist, version_future, BI_VERSION, "dist", "version", VN_ERR_VERSION,                            \
      vn_trainer_set_dist(bi_trainer(), DIST(o_.version = 99)))                                                      \
    R(vn_trainer_set_dist, rank_past_world, BI_FIELD, "dist.rank", NULL, VN_ERR_INVALID_ARG,                         \
      vn_trainer_set_dist(bi_trainer(), DIST(o_.rank = 2; o_.world_size = 2; o_.allreduce_sum = refuse_allreduce)))  \
    R(vn_trainer_set_dist, rank_neg, BI_FIELD, "dist.rank", NULL, VN_ERR_INVALID_ARG,                                \
      vn_trainer_set_dist(bi_trainer(), DIST(o_.rank = -1)))                                                         \
    R(vn_trainer_set_dist, world_0, BI_FIELD, "dist.world_size", NULL, VN_ERR_INVALID_ARG,                           \
      vn_trainer_set_dist(bi_trainer(), DIST(o_.world_size = 0)))                                                    \
    R(vn_trainer_set_dist, no_allreduce, BI_FIELD, "dist.allreduce_sum", NULL, VN_ERR_INVALID_ARG,                   \
      vn_trainer_set_dist(bi_trainer(), DIST(o_.rank = 1; o_.world_size = 2)))                                       \
    R(vn_trainer_set_dist, comm_id_on_cpu, BI_FIELD, "dist.comm_id", "collectives", VN_ERR_UNSUPPORTED,              \
      vn_trainer_set_dist(bi_trainer(), DIST(o_.world_size = 2; o_.allreduce_sum = refuse_allreduce;                 \
                                             o_.comm_id = bi_alloc(8); o_.comm_id_len = 8)))                         \
    R(vn_trainer_set_dist, after_step, BI_STATE, "tr", "step", VN_ERR_STATE, dist_after_step())                      \
    R(vn_trainer_get_encoder, null_tr, BI_NULL, "tr", NULL, VN_ERR_INVALID_ARG,                                      \
      vn_trainer_get_encoder(NULL, BI_OUT(const vn_encoder *)))                                                      \
    R(vn_trainer_get_encoder, null_enc, BI_NULL, "enc", NULL, VN_ERR_INVALID_ARG,                                    \
      vn_trainer_get_encoder(bi_trainer(), NULL))                                                                    \
    R(vn_trainer_save, null_tr, BI_NULL, "tr", NULL, VN_ERR_INVALID_ARG, vn_trainer_save(NULL, bi_tmp("ckpt")))      \
    R(vn_trainer_save, null_dir, BI_NULL, "dir", NULL, VN_ERR_INVALID_ARG, vn_trainer_save(bi_trainer(), NULL))      \
    R(vn_trainer_save, empty_dir, BI_PATH, "dir", NULL, VN_ERR_INVALID_ARG, vn_trainer_save(bi_trainer(), ""))       \
    R(vn_trainer_save, missing_parent, BI_PATH, "dir", "no-such-dir/ckpt", VN_ERR_IO,                                \
      vn_trainer_save(bi_trainer(), bi_missing("ckpt")))                                                             \
    R(vn_trainer_save, a_file, BI_PATH, "dir", "bi_junk.bin", VN_ERR_IO,                                             \
      vn_trainer_save(bi_trainer(), bi_junk_path()))                                                                 \
    R(vn_trainer_resume, null_tr, BI_NULL, "tr", NULL, VN_ERR_INVALID_ARG, vn_trainer_resume(NULL, bi_ckpt_dir()))   \
    R(vn_trainer_resume, null_dir, BI_NULL, "dir", NULL, VN_ERR_INVALID_ARG, vn_trainer_resume(bi_trainer(), NULL))  \
    R(vn_trainer_resume, empty_dir, BI_PATH, "dir", NULL, VN_ERR_INVALID_ARG, vn_trainer_resume(bi_trainer(), ""))   \
    R(vn_trainer_resume, missing, BI_PATH, "dir", "no-such-dir/ckpt", VN_ERR_NOT_FOUND,                              \
      vn_trainer_resume(bi_trainer(), bi_missing("ckpt")))                                                           \
    R(vn_trainer_resume, not_a_checkpoint, BI_PATH, "dir", "/vn-", VN_ERR_NOT_FOUND,                                 \
      vn_trainer_resume(bi_trainer(), vn_test_tmpdir()))                                                             \
    R(vn_trainer_resume, other_config, BI_STATE, "tr", "another encoder config", VN_ERR_INVALID_ARG,                 \
      resume_other_config())

BI_TABLE(bi_rows_train, ROWS)
