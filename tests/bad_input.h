/*
 * The bad-input matrix (suite bad_input): rows of {function, case, kind, argument,
 * expected status, call}. test_bad_input.c runs each row in its own forked process, so a
 * crash fails that row by name, and checks from the public headers that every function
 * has the rows its parameters call for.
 */
#ifndef VN_BAD_INPUT_H
#define VN_BAD_INPUT_H

#include "vn_test.h"

/* What a row feeds the function. The coverage check asks for these per parameter:
 * BI_NULL for each pointer, BI_ENUM for each enum, BI_RANGE for each integer, BI_VERSION
 * for each versioned struct, BI_PATH for each file or directory name. */
typedef enum bi_kind {
    BI_NULL,    /* arg is NULL */
    BI_RANGE,   /* arg is zero, negative or too large */
    BI_ENUM,    /* arg is (enum)-1 or (enum)999 */
    BI_VERSION, /* the struct arg points to has version 0 or one from the future */
    BI_FIELD,   /* a field of the struct arg points to is out of range */
    BI_SHAPE,   /* the tensor arg has the wrong rank, extent, dtype, strides or data */
    BI_STRING,  /* the string arg is empty or names nothing known */
    BI_PATH,    /* the path arg names a missing file or directory, or the wrong kind */
    BI_STATE,   /* the handle arg is finished, ended, destroyed-below or owned elsewhere */
} bi_kind;

/* expect: a vn_status, or BI_SAFE for calls without a status (void functions, names):
 * the call must not crash and the thunk asserts what it returns. */
#define BI_SAFE 1

typedef struct bi_row {
    const char *fn;     /* the public function */
    const char *id;     /* the case, unique per function */
    bi_kind kind;
    const char *arg;    /* the parameter as the header names it */
    const char *needle; /* what the message must contain; NULL: arg */
    int expect;
    vn_status (*call)(void);
} bi_row;

/* A table is written once as ROWS(R), one R(fn, id, kind, arg, needle, expect, call...)
 * per row, and expanded into one thunk per row and the array of rows. */
#define BI_THUNK_(fn, id, kind, arg, needle, expect, ...)                                       \
    static vn_status bi_##fn##__##id(void) { return (__VA_ARGS__); }
#define BI_ENTRY_(fn, id, kind, arg, needle, expect, ...) {#fn, #id, kind, arg, needle, expect, bi_##fn##__##id},
#define BI_TABLE(name, ROWS)                                                                     \
    ROWS(BI_THUNK_)                                                                              \
    const bi_row name[] = {ROWS(BI_ENTRY_){NULL, NULL, BI_NULL, NULL, NULL, 0, NULL}};

/* The rows every vn_x_options_init(arg, version) (or _result_init, ...) has: NULL, and
 * versions 0 and current + 1. */
#define BI_INIT_ROWS(R, fn, type, arg, current)                                                  \
    R(fn, null_##arg, BI_NULL, #arg, #type, VN_ERR_INVALID_ARG, fn(NULL, current))               \
    R(fn, version_0, BI_VERSION, "version", NULL, VN_ERR_VERSION, fn(bi_alloc(sizeof(type)), 0)) \
    R(fn, version_future, BI_VERSION, "version", NULL, VN_ERR_VERSION, fn(bi_alloc(sizeof(type)), (current) + 1))

/* A create call (its out argument written &h_) that fails must leave *out NULL:
 * BI_LEAVES_NULL(vn_world, vn_world_create(&h_, opts)). */
#define BI_LEAVES_NULL(type, ...)                                                                \
    ({                                                                                           \
        type *h_ = (type *)bi_alloc(1);                                                          \
        vn_status s_ = (__VA_ARGS__);                                                            \
        ck_assert_msg(s_ == VN_OK || h_ == NULL, "*out is not NULL after %s", vn_status_str(s_)); \
        s_;                                                                                      \
    })

/* A create call with an optional argument left NULL must succeed: the handle it makes is
 * destroyed again. BI_CREATED(vn_world, vn_world_destroy, vn_world_create(&h_, NULL)). */
#define BI_CREATED(type, destroy, ...)                                                           \
    ({                                                                                           \
        type *h_ = NULL;                                                                         \
        vn_status s_ = (__VA_ARGS__);                                                            \
        destroy(h_);                                                                             \
        s_;                                                                                      \
    })

/* The rows of a name function given unknown values and of its parser given NULL, "" and
 * an unknown name. */
#define BI_NAME_ROWS(R, name_fn, name_arg, from_fn, type, good, bad)                             \
    R(name_fn, enum_neg, BI_ENUM, #name_arg, NULL, BI_SAFE, BI_UNKNOWN_NAME(name_fn, type, -1))  \
    R(name_fn, enum_999, BI_ENUM, #name_arg, NULL, BI_SAFE, BI_UNKNOWN_NAME(name_fn, type, 999)) \
    R(from_fn, null_name, BI_NULL, "name", NULL, VN_ERR_INVALID_ARG, from_fn(NULL, BI_OUT(type))) \
    R(from_fn, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG, from_fn(good, NULL))          \
    R(from_fn, empty, BI_STRING, "name", "''", VN_ERR_INVALID_ARG, from_fn("", BI_OUT(type)))    \
    R(from_fn, unknown, BI_STRING, "name", bad, VN_ERR_INVALID_ARG, from_fn(bad, BI_OUT(type)))
#define BI_UNKNOWN_NAME(name_fn, type, value)                                                    \
    ({                                                                                           \
        ck_assert_str_eq(name_fn((type)(value)), "unknown");                                     \
        VN_OK;                                                                                   \
    })

/* vn_x_destroy(NULL) is a no-op. */
#define BI_DESTROY_ROW(R, fn, arg) R(fn, null_##arg, BI_NULL, #arg, NULL, BI_SAFE, (fn(NULL), VN_OK))

/* An output of the given type, zeroed, for calls that need somewhere to write. */
#define BI_OUT(type) ((type *)bi_alloc(sizeof(type)))
#define BI_OUTN(type, n) ((type *)bi_alloc(sizeof(type) * (size_t)(n)))

/* The tables, one per group of headers, each ending with a row whose fn is NULL. */
extern const bi_row bi_rows_core[];   /* common.h, context.h, tensor.h */
extern const bi_row bi_rows_video[];  /* video.h */
extern const bi_row bi_rows_loader[]; /* loader.h, world.h */
extern const bi_row bi_rows_model[];  /* encoder.h */
extern const bi_row bi_rows_train[];  /* train.h */
extern const bi_row bi_rows_probe[];  /* probe.h, timevec.h */
extern const bi_row bi_rows_index[];  /* index.h */

/* ---- fixtures (bad_input_fixtures.c) ------------------------------------------------
 * Files are made once by the suite's first test, in its own forked process like every row
 * (so that no thread pool of the library exists in the process Check forks from). Handles
 * are made inside the row's process and destroyed by bi_cleanup() after its call, so
 * nothing leaks under ASan. */
void bi_make_files(void);
void bi_cleanup(void);

/* Paths of the generated files and of things that do not exist. */
const char *bi_video_path(void);    /* 4 frames of 32 x 16 RGB, FFV1 */
const char *bi_weights_path(void);  /* vn_encoder_save of bi_encoder() */
const char *bi_ckpt_dir(void);      /* vn_trainer_save of bi_trainer() */
const char *bi_manifest_path(void); /* one row naming a video that does not exist */
const char *bi_vectors_path(void);  /* vn_index_save of bi_index(): vectors */
const char *bi_ids_path(void);      /* and ids */
const char *bi_junk_path(void);     /* a file of text that is no known format */
const char *bi_missing(const char *name); /* tmpdir/no-such-dir/name */
const char *bi_tmp(const char *name);     /* tmpdir/name, not created */

/* Handles, destroyed by bi_cleanup(). */
vn_context *bi_ctx(void);                 /* cpu, 1 thread, deterministic */
vn_video *bi_video(void);                 /* bi_video_path() opened */
vn_video *bi_video_approx(void);          /* the same in approximate mode */
vn_video_writer *bi_writer(void);         /* 32 x 16 RGB FFV1, nothing written */
vn_video_writer *bi_writer_finished(void);/* the same after vn_video_writer_finish */
vn_loader *bi_loader(void);               /* over bi_manifest_path(), crop 8, batch 8 */
vn_loader *bi_loader_ended(void);         /* the same after its epoch ended (VN_ERR_END) */
vn_world *bi_world(void);                 /* 4 frames of 16 x 16 RGB, future 2 + 3 candidates */
vn_world *bi_world_default(void);         /* VN_WORLD_OPTIONS_INIT */
vn_encoder *bi_encoder(void);             /* bi_encoder_config() */
vn_encoder *bi_encoder_xs(void);          /* VN_ENCODER_CONFIG_INIT */
vn_trainer *bi_trainer(void);             /* bi_train_options() on bi_trainer_config() */
vn_index *bi_index(void);                 /* cosine, dim 2, 3 rows */
vn_encoder *bi_encoder_with(const vn_encoder_config *cfg);
vn_world *bi_world_for(const vn_encoder_config *cfg, int future); /* clips the encoder takes;
                                                          future: context + continuation of them */
vn_encoder_config *bi_encoder_config(void); /* 2 frames of 8 x 8 grey, patch 4, dim 8 */
vn_encoder_config *bi_trainer_config(void); /* 2 frames of 16 x 16 grey, patch 8, dim 8 */
vn_train_options *bi_train_options(void);   /* batch 2, 2 eval clips, world:aot */

/* Caller-owned memory that lives until bi_cleanup(). */
void *bi_alloc(size_t bytes);
/* A zeroed contiguous tensor, dims like "2x1x2x8x8" ("" for a scalar). */
vn_tensor *bi_t(vn_dtype dtype, const char *dims);
/* Copies of a tensor with one thing changed. */
vn_tensor *bi_dtype(const vn_tensor *t, vn_dtype dtype);
vn_tensor *bi_stride(const vn_tensor *t, int dim, int64_t stride);
vn_tensor *bi_extent(const vn_tensor *t, int dim, int64_t extent);
vn_tensor *bi_rank(const vn_tensor *t, int ndim);
vn_tensor *bi_nodata(const vn_tensor *t);
/* 4 rows of 2 features (two classes, 0 0 1 1), and n rows of them. */
vn_tensor *bi_features(int64_t n);
const int *bi_labels(void);
/* A copy of v, for options structs and outputs: bi_copy(&x, sizeof x). */
void *bi_copy(const void *v, size_t bytes);

/* A fresh copy of a struct with some fields changed (a GNU statement expression; the tests
 * build with GCC or Clang):
 * BI_OPT(vn_clip_options, VN_CLIP_OPTIONS_INIT, o_.n_frames = 0). */
#define BI_OPT(type, init, ...)                                                                  \
    ({                                                                                           \
        type o_ = init;                                                                          \
        __VA_ARGS__;                                                                             \
        (type *)bi_copy(&o_, sizeof o_);                                                         \
    })

#endif
