/* Bad-input rows of encoder.h (the matrix: bad_input.h). bi_encoder() takes clips
 * f32 [N, 1, 2, 8, 8] and gives 4 tokens of width 8. */
#include "bad_input.h"

#include <math.h>

#define NEW_ENCODER(ctx, cfg) BI_LEAVES_NULL(vn_encoder, vn_encoder_create(&h_, ctx, cfg))
#define LOAD_ENCODER(ctx, path) BI_LEAVES_NULL(vn_encoder, vn_encoder_load(&h_, ctx, path))
/* The encoder a trainer hands out belongs to the trainer: destroying it must not free it
 * (the trainer's own destroy, in bi_cleanup, would free it a second time). */
static vn_status destroy_trainers_encoder(void)
{
    const vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_trainer_get_encoder(bi_trainer(), &enc));
    vn_encoder_destroy((vn_encoder *)enc);
    return VN_OK;
}

/* Outputs are filled whole, version included, so a version the caller left is ignored. */
static vn_status get_config_ignores_version(void)
{
    vn_encoder_config *c = BI_OUT(vn_encoder_config);
    c->version = 999;
    vn_status st = vn_encoder_get_config(bi_encoder(), c);
    ck_assert_uint_eq(c->version, VN_ENCODER_CONFIG_VERSION);
    return st;
}

#define CFG(...) BI_OPT(vn_encoder_config, *bi_encoder_config(), __VA_ARGS__)
#define CLIPS bi_t(VN_DTYPE_F32, "2x1x2x8x8")
#define EMB bi_t(VN_DTYPE_F32, "2x8")
#define TOKENS bi_t(VN_DTYPE_F32, "2x4x8")
#define P8 bi_t(VN_DTYPE_F32, "8")

/* The same rows for vn_encoder_encode (out: embeddings) and vn_encoder_encode_tokens. */
#define ENCODE_ROWS(R, fn, out_name, OUT)                                                                            \
    R(fn, null_enc, BI_NULL, "enc", NULL, VN_ERR_INVALID_ARG, fn(NULL, CLIPS, OUT))                                  \
    R(fn, null_clips, BI_NULL, "clips", NULL, VN_ERR_INVALID_ARG, fn(bi_encoder(), NULL, OUT))                       \
    R(fn, null_##out_name, BI_NULL, #out_name, NULL, VN_ERR_INVALID_ARG, fn(bi_encoder(), CLIPS, NULL))              \
    R(fn, clips_rank_4, BI_SHAPE, "clips", NULL, VN_ERR_SHAPE, fn(bi_encoder(), bi_rank(CLIPS, 4), OUT))             \
    R(fn, clips_3_channels, BI_SHAPE, "clips", NULL, VN_ERR_SHAPE, fn(bi_encoder(), bi_extent(CLIPS, 1, 3), OUT))    \
    R(fn, clips_batch_0, BI_SHAPE, "clips", NULL, VN_ERR_SHAPE, fn(bi_encoder(), bi_extent(CLIPS, 0, 0), OUT))       \
    R(fn, clips_u8, BI_SHAPE, "clips", NULL, VN_ERR_SHAPE, fn(bi_encoder(), bi_dtype(CLIPS, VN_DTYPE_U8), OUT))      \
    R(fn, clips_strided, BI_SHAPE, "clips", NULL, VN_ERR_SHAPE, fn(bi_encoder(), bi_stride(CLIPS, 4, 2), OUT))       \
    R(fn, clips_no_data, BI_SHAPE, "clips", NULL, VN_ERR_INVALID_ARG, fn(bi_encoder(), bi_nodata(CLIPS), OUT))       \
    R(fn, out_batch_3, BI_SHAPE, #out_name, NULL, VN_ERR_SHAPE, fn(bi_encoder(), CLIPS, bi_extent(OUT, 0, 3)))       \
    R(fn, out_bf16, BI_SHAPE, #out_name, NULL, VN_ERR_SHAPE, fn(bi_encoder(), CLIPS, bi_dtype(OUT, VN_DTYPE_BF16)))  \
    R(fn, out_no_data, BI_SHAPE, #out_name, NULL, VN_ERR_INVALID_ARG, fn(bi_encoder(), CLIPS, bi_nodata(OUT)))

#define ROWS(R)                                                                                                      \
    BI_NAME_ROWS(R, vn_precision_name, precision, vn_precision_from_name, vn_precision, "bf16", "fp16")              \
    BI_NAME_ROWS(R, vn_encoder_family_name, family, vn_encoder_family_from_name, vn_encoder_family, "video",         \
                 "frames+")                                                                                          \
    BI_INIT_ROWS(R, vn_encoder_config_init, vn_encoder_config, cfg, VN_ENCODER_CONFIG_VERSION)                       \
    R(vn_encoder_config_preset, null_cfg, BI_NULL, "cfg", NULL, VN_ERR_INVALID_ARG,                                  \
      vn_encoder_config_preset(NULL, "xs", VN_ENCODER_VIDEO))                                                        \
    R(vn_encoder_config_preset, output_version, BI_VERSION, "cfg", NULL, VN_OK,                                      \
      vn_encoder_config_preset(CFG(o_.version = 999), "xs", VN_ENCODER_VIDEO))                                       \
    R(vn_encoder_config_preset, null_preset, BI_NULL, "preset", NULL, VN_ERR_INVALID_ARG,                            \
      vn_encoder_config_preset(BI_OUT(vn_encoder_config), NULL, VN_ENCODER_VIDEO))                                   \
    R(vn_encoder_config_preset, unknown, BI_STRING, "preset", "xl", VN_ERR_INVALID_ARG,                              \
      vn_encoder_config_preset(BI_OUT(vn_encoder_config), "xl", VN_ENCODER_VIDEO))                                   \
    R(vn_encoder_config_preset, empty, BI_STRING, "preset", "''", VN_ERR_INVALID_ARG,                                \
      vn_encoder_config_preset(BI_OUT(vn_encoder_config), "", VN_ENCODER_VIDEO))                                     \
    R(vn_encoder_config_preset, family_999, BI_ENUM, "family", NULL, VN_ERR_INVALID_ARG,                             \
      vn_encoder_config_preset(BI_OUT(vn_encoder_config), "xs", (vn_encoder_family)999))                             \
    R(vn_encoder_config_preset, family_neg, BI_ENUM, "family", NULL, VN_ERR_INVALID_ARG,                             \
      vn_encoder_config_preset(BI_OUT(vn_encoder_config), "xs", (vn_encoder_family)-1))                              \
    R(vn_encoder_create, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG,                                         \
      vn_encoder_create(NULL, bi_ctx(), bi_encoder_config()))                                                        \
    R(vn_encoder_create, null_ctx, BI_NULL, "ctx", NULL, VN_ERR_INVALID_ARG, NEW_ENCODER(NULL, bi_encoder_config())) \
    R(vn_encoder_create, null_cfg, BI_NULL, "cfg", NULL, VN_ERR_INVALID_ARG, NEW_ENCODER(bi_ctx(), NULL))            \
    R(vn_encoder_create, version_0, BI_VERSION, "cfg", "version", VN_ERR_VERSION,                                    \
      NEW_ENCODER(bi_ctx(), CFG(o_.version = 0)))                                                                    \
    R(vn_encoder_create, version_future, BI_VERSION, "cfg", "version", VN_ERR_VERSION,                               \
      NEW_ENCODER(bi_ctx(), CFG(o_.version = 999)))                                                                  \
    R(vn_encoder_create, family_999, BI_FIELD, "cfg.family", NULL, VN_ERR_INVALID_ARG,                               \
      NEW_ENCODER(bi_ctx(), CFG(o_.family = (vn_encoder_family)999)))                                                \
    R(vn_encoder_create, heads_3, BI_FIELD, "cfg.heads", "dim", VN_ERR_INVALID_ARG,                                  \
      NEW_ENCODER(bi_ctx(), CFG(o_.heads = 3)))                                                                      \
    R(vn_encoder_create, heads_0, BI_FIELD, "cfg.heads", NULL, VN_ERR_INVALID_ARG,                                   \
      NEW_ENCODER(bi_ctx(), CFG(o_.heads = 0)))                                                                      \
    R(vn_encoder_create, size_10, BI_FIELD, "cfg.size", "patch", VN_ERR_INVALID_ARG,                                 \
      NEW_ENCODER(bi_ctx(), CFG(o_.size = 10)))                                                                      \
    R(vn_encoder_create, frames_neg, BI_FIELD, "cfg.frames", NULL, VN_ERR_INVALID_ARG,                               \
      NEW_ENCODER(bi_ctx(), CFG(o_.frames = -2)))                                                                    \
    R(vn_encoder_create, tubelet_3, BI_FIELD, "cfg.tubelet_t", NULL, VN_ERR_INVALID_ARG,                             \
      NEW_ENCODER(bi_ctx(), CFG(o_.tubelet_t = 3)))                                                                  \
    R(vn_encoder_create, channels_2, BI_FIELD, "cfg.channels", NULL, VN_ERR_INVALID_ARG,                             \
      NEW_ENCODER(bi_ctx(), CFG(o_.channels = 2)))                                                                   \
    R(vn_encoder_create, dim_huge, BI_FIELD, "cfg.dim", NULL, VN_ERR_INVALID_ARG,                                    \
      NEW_ENCODER(bi_ctx(), CFG(o_.dim = 1 << 30; o_.heads = 1)))                                                    \
    R(vn_encoder_create, depth_neg, BI_FIELD, "cfg.depth", NULL, VN_ERR_INVALID_ARG,                                 \
      NEW_ENCODER(bi_ctx(), CFG(o_.depth = -1)))                                                                     \
    R(vn_encoder_create, mlp_nan, BI_FIELD, "cfg.mlp_ratio", NULL, VN_ERR_INVALID_ARG,                               \
      NEW_ENCODER(bi_ctx(), CFG(o_.mlp_ratio = NAN)))                                                                \
    R(vn_encoder_create, pooling_999, BI_FIELD, "cfg.pooling", NULL, VN_ERR_INVALID_ARG,                             \
      NEW_ENCODER(bi_ctx(), CFG(o_.pooling = (vn_pooling)999)))                                                      \
    R(vn_encoder_create, attention_999, BI_FIELD, "cfg.attention", NULL, VN_ERR_INVALID_ARG,                         \
      NEW_ENCODER(bi_ctx(), CFG(o_.attention = (vn_attention_kind)999)))                                             \
    R(vn_encoder_create, pos_neg, BI_FIELD, "cfg.pos", NULL, VN_ERR_INVALID_ARG,                                     \
      NEW_ENCODER(bi_ctx(), CFG(o_.pos = (vn_pos_embedding)-1)))                                                     \
    R(vn_encoder_create, init_std_neg, BI_FIELD, "cfg.init_std", NULL, VN_ERR_INVALID_ARG,                           \
      NEW_ENCODER(bi_ctx(), CFG(o_.init_std = -1)))                                                                  \
    BI_DESTROY_ROW(R, vn_encoder_destroy, enc)                                                                       \
    R(vn_encoder_destroy, trainers_encoder, BI_STATE, "enc", NULL, BI_SAFE, destroy_trainers_encoder())              \
    R(vn_encoder_get_config, null_enc, BI_NULL, "enc", NULL, VN_ERR_INVALID_ARG,                                     \
      vn_encoder_get_config(NULL, BI_OUT(vn_encoder_config)))                                                        \
    R(vn_encoder_get_config, null_cfg, BI_NULL, "cfg", NULL, VN_ERR_INVALID_ARG,                                     \
      vn_encoder_get_config(bi_encoder(), NULL))                                                                     \
    R(vn_encoder_get_config, output_version, BI_VERSION, "cfg", NULL, VN_OK, get_config_ignores_version())           \
    R(vn_encoder_num_params, null_enc, BI_NULL, "enc", NULL, VN_ERR_INVALID_ARG,                                     \
      vn_encoder_num_params(NULL, BI_OUT(int64_t)))                                                                  \
    R(vn_encoder_num_params, null_n, BI_NULL, "n", NULL, VN_ERR_INVALID_ARG,                                         \
      vn_encoder_num_params(bi_encoder(), NULL))                                                                     \
    R(vn_encoder_output_shape, null_enc, BI_NULL, "enc", NULL, VN_ERR_INVALID_ARG,                                   \
      vn_encoder_output_shape(NULL, BI_OUT(int64_t), BI_OUT(int64_t)))                                               \
    R(vn_encoder_output_shape, null_tokens, BI_NULL, "tokens", NULL, VN_ERR_INVALID_ARG,                             \
      vn_encoder_output_shape(bi_encoder(), NULL, BI_OUT(int64_t)))                                                  \
    R(vn_encoder_output_shape, null_dim, BI_NULL, "dim", NULL, VN_ERR_INVALID_ARG,                                   \
      vn_encoder_output_shape(bi_encoder(), BI_OUT(int64_t), NULL))                                                  \
    ENCODE_ROWS(R, vn_encoder_encode, embeddings, EMB)                                                               \
    ENCODE_ROWS(R, vn_encoder_encode_tokens, tokens, TOKENS)                                                         \
    R(vn_encoder_set_precision, null_enc, BI_NULL, "enc", NULL, VN_ERR_INVALID_ARG,                                  \
      vn_encoder_set_precision(NULL, VN_PRECISION_FP32))                                                             \
    R(vn_encoder_set_precision, enum_3, BI_ENUM, "precision", NULL, VN_ERR_INVALID_ARG,                              \
      vn_encoder_set_precision(bi_encoder(), (vn_precision)3))                                                       \
    R(vn_encoder_set_precision, enum_neg, BI_ENUM, "precision", NULL, VN_ERR_INVALID_ARG,                            \
      vn_encoder_set_precision(bi_encoder(), (vn_precision)-1))                                                      \
    R(vn_encoder_set_precision, tf32_on_cpu, BI_ENUM, "precision", "tf32", VN_ERR_UNSUPPORTED,                       \
      vn_encoder_set_precision(bi_encoder(), VN_PRECISION_TF32))                                                     \
    R(vn_encoder_get_precision, null_enc, BI_NULL, "enc", NULL, VN_ERR_INVALID_ARG,                                  \
      vn_encoder_get_precision(NULL, BI_OUT(vn_precision)))                                                          \
    R(vn_encoder_get_precision, null_precision, BI_NULL, "precision", NULL, VN_ERR_INVALID_ARG,                      \
      vn_encoder_get_precision(bi_encoder(), NULL))                                                                  \
    R(vn_encoder_param_count, null_enc, BI_NULL, "enc", NULL, VN_ERR_INVALID_ARG,                                    \
      vn_encoder_param_count(NULL, BI_OUT(int)))                                                                     \
    R(vn_encoder_param_count, null_count, BI_NULL, "count", NULL, VN_ERR_INVALID_ARG,                                \
      vn_encoder_param_count(bi_encoder(), NULL))                                                                    \
    R(vn_encoder_param_info, null_enc, BI_NULL, "enc", NULL, VN_ERR_INVALID_ARG,                                     \
      vn_encoder_param_info(NULL, 0, BI_OUT(const char *), BI_OUT(int), BI_OUTN(int64_t, VN_MAX_DIMS)))              \
    R(vn_encoder_param_info, null_name, BI_NULL, "name", NULL, VN_OK,                                                \
      vn_encoder_param_info(bi_encoder(), 0, NULL, BI_OUT(int), BI_OUTN(int64_t, VN_MAX_DIMS)))                      \
    R(vn_encoder_param_info, null_ndim, BI_NULL, "ndim", NULL, VN_OK,                                                \
      vn_encoder_param_info(bi_encoder(), 0, BI_OUT(const char *), NULL, BI_OUTN(int64_t, VN_MAX_DIMS)))             \
    R(vn_encoder_param_info, null_shape, BI_NULL, "shape", NULL, VN_OK,                                              \
      vn_encoder_param_info(bi_encoder(), 0, BI_OUT(const char *), BI_OUT(int), NULL))                               \
    R(vn_encoder_param_info, neg_index, BI_RANGE, "index", NULL, VN_ERR_INVALID_ARG,                                 \
      vn_encoder_param_info(bi_encoder(), -1, BI_OUT(const char *), BI_OUT(int), BI_OUTN(int64_t, VN_MAX_DIMS)))     \
    R(vn_encoder_param_info, index_past_end, BI_RANGE, "index", NULL, VN_ERR_INVALID_ARG,                            \
      vn_encoder_param_info(bi_encoder(), 100000, BI_OUT(const char *), BI_OUT(int), BI_OUTN(int64_t, VN_MAX_DIMS))) \
    R(vn_encoder_get_param, null_enc, BI_NULL, "enc", NULL, VN_ERR_INVALID_ARG,                                      \
      vn_encoder_get_param(NULL, "norm.weight", P8))                                                                 \
    R(vn_encoder_get_param, null_name, BI_NULL, "name", NULL, VN_ERR_INVALID_ARG,                                    \
      vn_encoder_get_param(bi_encoder(), NULL, P8))                                                                  \
    R(vn_encoder_get_param, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG,                                      \
      vn_encoder_get_param(bi_encoder(), "norm.weight", NULL))                                                       \
    R(vn_encoder_get_param, unknown, BI_STRING, "name", "norm.weights", VN_ERR_NOT_FOUND,                            \
      vn_encoder_get_param(bi_encoder(), "norm.weights", P8))                                                        \
    R(vn_encoder_get_param, empty, BI_STRING, "name", "''", VN_ERR_NOT_FOUND,                                        \
      vn_encoder_get_param(bi_encoder(), "", P8))                                                                    \
    R(vn_encoder_get_param, wrong_shape, BI_SHAPE, "out", NULL, VN_ERR_SHAPE,                                        \
      vn_encoder_get_param(bi_encoder(), "blocks.0.attn.qkv.weight", P8))                                            \
    R(vn_encoder_get_param, i32, BI_SHAPE, "out", NULL, VN_ERR_SHAPE,                                                \
      vn_encoder_get_param(bi_encoder(), "norm.weight", bi_dtype(P8, VN_DTYPE_I32)))                                 \
    R(vn_encoder_get_param, no_data, BI_SHAPE, "out", NULL, VN_ERR_INVALID_ARG,                                      \
      vn_encoder_get_param(bi_encoder(), "norm.weight", bi_nodata(P8)))                                              \
    R(vn_encoder_set_param, null_enc, BI_NULL, "enc", NULL, VN_ERR_INVALID_ARG,                                      \
      vn_encoder_set_param(NULL, "norm.bias", P8))                                                                   \
    R(vn_encoder_set_param, null_name, BI_NULL, "name", NULL, VN_ERR_INVALID_ARG,                                    \
      vn_encoder_set_param(bi_encoder(), NULL, P8))                                                                  \
    R(vn_encoder_set_param, null_value, BI_NULL, "value", NULL, VN_ERR_INVALID_ARG,                                  \
      vn_encoder_set_param(bi_encoder(), "norm.bias", NULL))                                                         \
    R(vn_encoder_set_param, unknown, BI_STRING, "name", "pool.query", VN_ERR_NOT_FOUND,                              \
      vn_encoder_set_param(bi_encoder(), "pool.query", P8))                                                          \
    R(vn_encoder_set_param, i32, BI_SHAPE, "value", NULL, VN_ERR_SHAPE,                                              \
      vn_encoder_set_param(bi_encoder(), "norm.bias", bi_dtype(P8, VN_DTYPE_I32)))                                   \
    R(vn_encoder_set_param, wrong_extent, BI_SHAPE, "value", NULL, VN_ERR_SHAPE,                                     \
      vn_encoder_set_param(bi_encoder(), "norm.bias", bi_t(VN_DTYPE_F32, "9")))                                      \
    R(vn_encoder_set_param, no_data, BI_SHAPE, "value", NULL, VN_ERR_INVALID_ARG,                                    \
      vn_encoder_set_param(bi_encoder(), "norm.bias", bi_nodata(P8)))                                                \
    R(vn_encoder_save, null_enc, BI_NULL, "enc", NULL, VN_ERR_INVALID_ARG,                                           \
      vn_encoder_save(NULL, bi_tmp("w.safetensors")))                                                                \
    R(vn_encoder_save, null_path, BI_NULL, "path", NULL, VN_ERR_INVALID_ARG, vn_encoder_save(bi_encoder(), NULL))    \
    R(vn_encoder_save, missing_dir, BI_PATH, "path", "no-such-dir/w.safetensors", VN_ERR_IO,                         \
      vn_encoder_save(bi_encoder(), bi_missing("w.safetensors")))                                                    \
    R(vn_encoder_save, empty_path, BI_PATH, "path", NULL, VN_ERR_INVALID_ARG, vn_encoder_save(bi_encoder(), ""))     \
    R(vn_encoder_save, directory, BI_PATH, "path", "/vn-", VN_ERR_IO,                                                \
      vn_encoder_save(bi_encoder(), vn_test_tmpdir()))                                                               \
    R(vn_encoder_load, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG,                                           \
      vn_encoder_load(NULL, bi_ctx(), bi_weights_path()))                                                            \
    R(vn_encoder_load, null_ctx, BI_NULL, "ctx", NULL, VN_ERR_INVALID_ARG, LOAD_ENCODER(NULL, bi_weights_path()))    \
    R(vn_encoder_load, null_path, BI_NULL, "path", NULL, VN_ERR_INVALID_ARG, LOAD_ENCODER(bi_ctx(), NULL))           \
    R(vn_encoder_load, missing, BI_PATH, "path", "no-such-dir/w.safetensors", VN_ERR_NOT_FOUND,                      \
      LOAD_ENCODER(bi_ctx(), bi_missing("w.safetensors")))                                                           \
    R(vn_encoder_load, empty_path, BI_PATH, "path", NULL, VN_ERR_INVALID_ARG, LOAD_ENCODER(bi_ctx(), ""))            \
    R(vn_encoder_load, directory, BI_PATH, "path", "/vn-", VN_ERR_IO, LOAD_ENCODER(bi_ctx(), vn_test_tmpdir()))      \
    R(vn_encoder_load, not_safetensors, BI_PATH, "path", "bi_junk.bin", VN_ERR_FORMAT,                               \
      LOAD_ENCODER(bi_ctx(), bi_junk_path()))                                                                        \
    R(vn_encoder_load, npy_file, BI_PATH, "path", "bi_vectors.npy", VN_ERR_FORMAT,                                   \
      LOAD_ENCODER(bi_ctx(), bi_vectors_path()))                                                                     \
    R(vn_encoder_config_load, null_cfg, BI_NULL, "cfg", NULL, VN_ERR_INVALID_ARG,                                    \
      vn_encoder_config_load(NULL, bi_weights_path()))                                                               \
    R(vn_encoder_config_load, output_version, BI_VERSION, "cfg", NULL, VN_OK,                                        \
      vn_encoder_config_load(CFG(o_.version = 0), bi_weights_path()))                                                \
    R(vn_encoder_config_load, null_path, BI_NULL, "path", NULL, VN_ERR_INVALID_ARG,                                  \
      vn_encoder_config_load(BI_OUT(vn_encoder_config), NULL))                                                       \
    R(vn_encoder_config_load, missing, BI_PATH, "path", "no-such-dir/w.safetensors", VN_ERR_NOT_FOUND,               \
      vn_encoder_config_load(BI_OUT(vn_encoder_config), bi_missing("w.safetensors")))                                \
    R(vn_encoder_config_load, not_safetensors, BI_PATH, "path", "bi_junk.bin", VN_ERR_FORMAT,                        \
      vn_encoder_config_load(BI_OUT(vn_encoder_config), bi_junk_path()))

BI_TABLE(bi_rows_model, ROWS)
