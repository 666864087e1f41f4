/** @file
 * vnative/encoder.h: the three encoder families and their embeddings.
 *
 *   frames           a per-frame ViT, then the mean over frames: the bag-of-images baseline
 *   frames+temporal  a per-frame ViT, then a small temporal transformer over the frame embeddings
 *   video            tubelet (t x p x p) tokens and a space-time transformer, joint or divided
 *
 * A vn_encoder is a model: its weights, created from a config and a seed. Training goes
 * through a trainer, which owns the gradients and optimiser state.
 *
 * Thread safety: a vn_encoder is the shareable model (its context may be shared too).
 * Once created, any number of threads may call vn_encoder_encode, vn_encoder_encode_tokens,
 * vn_encoder_save, vn_encoder_get_param and the other read-only queries on one encoder at
 * once: each encode takes its own activation memory (from a small locked pool), and on a
 * deterministic context gives bits identical to the same call made alone
 * (tests/test_thread_encode.c). vn_encoder_set_precision, vn_encoder_set_param and
 * vn_encoder_destroy write the model: none may run while any other call uses the same
 * encoder. An encoder a trainer owns is written by its steps: encode with it between steps.
 *
 * Parameter names follow PyTorch/timm conventions ("patch_embed.proj.weight",
 * "blocks.0.attn.qkv.weight", "blocks.0.mlp.fc1.bias", "norm.weight", ...), and
 * weights use PyTorch layouts (Linear [out, in], Conv3d [out, in, kt, kh, kw]), so that
 * weights move to and from PyTorch without reshuffling.
 */
#ifndef VNATIVE_ENCODER_H
#define VNATIVE_ENCODER_H

#include "vnative/common.h"
#include "vnative/context.h"
#include "vnative/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The encoder families (see the file comment). */
typedef enum vn_encoder_family {
    VN_ENCODER_FRAMES = 0,
    VN_ENCODER_FRAMES_TEMPORAL = 1,
    VN_ENCODER_VIDEO = 2
} vn_encoder_family;

/** How the video family's blocks attend. */
typedef enum vn_attention_kind {
    VN_ATTENTION_JOINT = 0,   /**< every token attends to every token */
    VN_ATTENTION_DIVIDED = 1  /**< TimeSformer: temporal attention, then spatial, in each block */
} vn_attention_kind;

/** How tokens are pooled into the embedding. */
typedef enum vn_pooling {
    VN_POOLING_MEAN = 0,
    VN_POOLING_ATTENTIVE = 1  /**< one learned query attends over the tokens */
} vn_pooling;

/** Position embeddings of the tokens. */
typedef enum vn_pos_embedding {
    VN_POS_LEARNED = 0,
    VN_POS_SINCOS = 1         /**< fixed 3-D sin-cos, as V-JEPA */
} vn_pos_embedding;

/**
 * How matrix products (GEMMs) multiply: their operands are rounded to the format and
 * the products summed in fp32 (or wider); inputs, outputs, weights and every other op
 * stay fp32. Used by vn_encoder_set_precision and vn_trainer_set_precision; which
 * backends have which is listed at vn_trainer_set_precision (train.h) and in
 * docs/PRECISION.md.
 */
typedef enum vn_precision {
    VN_PRECISION_FP32 = 0, /**< exact fp32 (the default; every backend) */
    VN_PRECISION_TF32 = 1, /**< operands rounded to TF32 (10-bit mantissa), fp32 sums (cuda) */
    VN_PRECISION_BF16 = 2, /**< operands rounded to bfloat16 (7-bit mantissa), fp32 sums (cuda, bf16 cpus) */
} vn_precision;

/** "fp32", "tf32", "bf16"; "unknown" otherwise. */
VN_API const char *vn_precision_name(vn_precision precision);
/** Parse a precision name as vn_precision_name gives it. */
VN_API vn_status vn_precision_from_name(const char *name, vn_precision *out);

/** "frames", "frames+temporal", "video"; "unknown" otherwise. */
VN_API const char *vn_encoder_family_name(vn_encoder_family family);
/** Parse a family name as vn_encoder_family_name gives it. */
VN_API vn_status vn_encoder_family_from_name(const char *name, vn_encoder_family *out);

/** The architecture of an encoder and the seed of its initial weights. */
typedef struct vn_encoder_config {
    unsigned int version;        /**< VN_ENCODER_CONFIG_VERSION */
    vn_encoder_family family;    /**< frames, frames+temporal or video */
    int frames;                  /**< T of the input clip */
    int size;                    /**< H = W of the input clip */
    int channels;                /**< C of the input clip: 3 or 1 */
    int patch;                   /**< p: spatial patch side; size % patch == 0 */
    int tubelet_t;               /**< video family: frames per tubelet; frames % tubelet_t == 0 */
    int dim;                     /**< D, the token width; dim % heads == 0 */
    int depth;                   /**< transformer blocks (per frame for the frames families) */
    int heads;                   /**< attention heads per block */
    float mlp_ratio;             /**< MLP hidden width = round(dim * mlp_ratio) */
    vn_pooling pooling;          /**< mean or attentive pooling of the tokens */
    vn_attention_kind attention; /**< video family only */
    vn_pos_embedding pos;        /**< learned or fixed sin-cos position embeddings */
    int temporal_depth;          /**< frames+temporal: blocks of the temporal transformer */
    uint64_t seed;               /**< weights are a pure function of the config and this seed */
    float init_std;              /**< truncated normal (at +-2 std) for weights; biases are zero */
} vn_encoder_config;

#define VN_ENCODER_CONFIG_VERSION 1 /**< the version of vn_encoder_config this header describes */
/** The xs preset, video family. */
#define VN_ENCODER_CONFIG_INIT                                                                   \
    { VN_ENCODER_CONFIG_VERSION, VN_ENCODER_VIDEO, 16, 32, 3, 8, 2, 128, 4, 4, 4.0f,             \
      VN_POOLING_MEAN, VN_ATTENTION_JOINT, VN_POS_LEARNED, 2, 0, 0.02f }

/** Fill *cfg with the defaults of the given version (VN_ENCODER_CONFIG_VERSION). */
VN_API vn_status vn_encoder_config_init(vn_encoder_config *cfg, unsigned int version);

/** Fill cfg with a named preset for a family:
 *   "xs": 16x32x32 RGB, tubelet 2x8x8, dim 128, depth 4, 4 heads (batch 16 in benchmarks)
 *   "s":  16x64x64 RGB, tubelet 2x8x8, dim 192, depth 6, 3 heads (batch 8)
 * The frames families use the same patch and width with tubelet_t = 1. */
VN_API vn_status vn_encoder_config_preset(vn_encoder_config *cfg, const char *preset, vn_encoder_family family);

/** An encoder: its config and weights (opaque). */
typedef struct vn_encoder vn_encoder;

/** Build an encoder with freshly initialised weights on ctx's backend. ctx must outlive it. */
VN_API vn_status vn_encoder_create(vn_encoder **out, vn_context *ctx, const vn_encoder_config *cfg);
/** NULL is a no-op. */
VN_API void vn_encoder_destroy(vn_encoder *enc);

/** The config the encoder was built from. */
VN_API vn_status vn_encoder_get_config(const vn_encoder *enc, vn_encoder_config *cfg);

/** Number of trainable parameters (floats). */
VN_API vn_status vn_encoder_num_params(const vn_encoder *enc, int64_t *n);

/** Tokens per clip L and embedding width D of the outputs below. */
VN_API vn_status vn_encoder_output_shape(const vn_encoder *enc, int64_t *tokens, int64_t *dim);

/** Embed a batch: clips f32 [N, C, T, H, W] -> embeddings f32 [N, D]. Thread-safe. */
VN_API vn_status vn_encoder_encode(const vn_encoder *enc, const vn_tensor *clips, vn_tensor *embeddings);

/** Token features before pooling: clips f32 [N, C, T, H, W] -> f32 [N, L, D]. Thread-safe. */
VN_API vn_status vn_encoder_encode_tokens(const vn_encoder *enc, const vn_tensor *clips, vn_tensor *tokens);

/** The precision of the GEMMs of vn_encoder_encode and vn_encoder_encode_tokens (vn_precision;
 * FP32 when the encoder is created or loaded). BF16 is faster where the hardware multiplies
 * bf16 (AMX, avx512_bf16, tensor cores), by how much depends on the model's shapes; the
 * embeddings move by about 2e-3 relative on the xs and s presets (docs/PRECISION.md). The
 * weights stay fp32. A precision the context's backend lacks gives VN_ERR_UNSUPPORTED
 * naming the reason, an invalid value VN_ERR_INVALID_ARG; both leave the precision as it was.
 * Not thread-safe against concurrent encoding of the same encoder. Not saved with the weights.
 * An encoder owned by a trainer follows vn_trainer_set_precision instead. */
VN_API vn_status vn_encoder_set_precision(vn_encoder *enc, vn_precision precision);
/** The precision set by vn_encoder_set_precision. */
VN_API vn_status vn_encoder_get_precision(const vn_encoder *enc, vn_precision *precision);

/** Parameters by name: the count, and the name, shape and data of parameter i (in a fixed
 * order; shape has room for VN_MAX_DIMS entries). Copy out with vn_encoder_get_param and in
 * with vn_encoder_set_param (shapes must match); setting is not thread-safe against
 * concurrent encoding. */
VN_API vn_status vn_encoder_param_count(const vn_encoder *enc, int *count);
/** The name, ndim and shape of parameter index (0 <= index < count); the name is owned by the encoder. */
VN_API vn_status vn_encoder_param_info(const vn_encoder *enc, int index, const char **name, int *ndim,
                                       int64_t *shape);
/** Copy the named parameter into out (of the parameter's shape). */
VN_API vn_status vn_encoder_get_param(const vn_encoder *enc, const char *name, vn_tensor *out);
/** Overwrite the named parameter with value (of the parameter's shape). */
VN_API vn_status vn_encoder_set_param(vn_encoder *enc, const char *name, const vn_tensor *value);

/* ---- weights files ----------------------------------------------------------------------
 * The weights are a safetensors file (docs/CHECKPOINTS.md, "The weights file"), readable with
 * Python's safetensors or json + numpy: one F32 tensor per parameter under its name and in its
 * PyTorch layout, and in __metadata__ "format": "vnative.encoder", "vnative.version" (the
 * writing library's vn_version()) and "config": a JSON object with every vn_encoder_config
 * field by name, the enums by name ("family": "video", "pooling": "mean", ...). */

/** Write the weights to path atomically: a hidden temp file ".NAME.XXXXXX" in the same
 * directory, fsync, rename over path, fsync of the directory. On failure (VN_ERR_IO naming
 * the file and the OS error) the previous file at path is untouched and the temp file
 * removed; a process killed mid-write leaves the previous file intact and may leave its temp
 * file behind, which nothing reuses and which is safe to delete. Reads the weights only: may
 * run while other threads encode, not while vn_encoder_set_param or training writes them. */
VN_API vn_status vn_encoder_save(const vn_encoder *enc, const char *path);

/** Build an encoder on ctx from a file written by vn_encoder_save (or any safetensors file with
 * the same names, shapes and metadata). The header, dtypes, shapes and sizes are validated: a
 * corrupt or truncated file, a config that is missing, malformed or one vn_encoder_create
 * would refuse, a tensor missing, of another dtype or shape, or one the config does not
 * explain give VN_ERR_FORMAT naming the file and the field or tensor; a missing file gives
 * VN_ERR_NOT_FOUND; a config from a newer library VN_ERR_VERSION. *out is set only on success;
 * the encoder's outputs are bit-identical to those of the encoder that was saved. */
VN_API vn_status vn_encoder_load(vn_encoder **out, vn_context *ctx, const char *path);

/** Read only the config of a weights file (statuses as vn_encoder_load). cfg is written only
 * on success. The whole file is read and validated, so this costs about as much I/O as a load. */
VN_API vn_status vn_encoder_config_load(vn_encoder_config *cfg, const char *path);

#ifdef __cplusplus
}
#endif

#endif
