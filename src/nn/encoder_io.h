/*
 * encoder_io.h: the encoder's weights and config in safetensors files, for
 * vn_encoder_save/load and for the trainer's state file, which stores several arenas with
 * the encoder's layout under name prefixes ("target." for the EMA target, "adam.m." and
 * "adam.v." for the AdamW moments).
 *
 * The format is described in docs/CHECKPOINTS.md ("The weights file").
 */
#ifndef VN_NN_ENCODER_IO_H
#define VN_NN_ENCODER_IO_H

#include <stddef.h>

#include "io/safetensors.h"
#include "vnative/encoder.h"

/* __metadata__ of a weights file: "format" holds VN_ENCODER_FORMAT, "config" the config JSON,
 * "vnative.version" the writing library's vn_version(). */
#define VN_ENCODER_FORMAT "vnative.encoder"
#define VN_ENCODER_META_FORMAT "format"
#define VN_ENCODER_META_CONFIG "config"
#define VN_ENCODER_META_VERSION "vnative.version"

/* Enough for any valid config's JSON (about 400 bytes at the extremes). */
#define VN_ENCODER_CONFIG_JSON_MAX 1024

/* The config as one-line JSON, every field by name, the enums by name ("family": "video",
 * "pooling": "mean", "attention": "joint", "pos": "learned"), floats in the shortest form
 * that reads back to the same float, whatever the process locale. The config is validated
 * first (VN_ERR_INVALID_ARG as vn_encoder_create would say); a cap that is too small gives
 * VN_ERR_INVALID_ARG. */
vn_status vn_encoder_config_to_json(const vn_encoder_config *cfg, char *buf, size_t cap);

/* Parse and validate: a JSON object with exactly the fields above. Malformed JSON, a missing,
 * repeated or unknown field, a value of the wrong type or range, or a config that
 * vn_encoder_create would refuse gives VN_ERR_FORMAT naming the field; a "version" newer than
 * this library's VN_ENCODER_CONFIG_VERSION gives VN_ERR_VERSION. cfg is written only on
 * success, with cfg->version = VN_ENCODER_CONFIG_VERSION. */
vn_status vn_encoder_config_from_json(const char *json, vn_encoder_config *cfg);

/* Add one F32 tensor per encoder parameter, taken from arena (a float buffer laid out as the
 * parameter arena: the weights, a gradient or an optimiser moment) and named prefix +
 * parameter name. The arena is borrowed until vn_st_writer_write. prefix may be "". */
vn_status vn_encoder_add_tensors(const vn_encoder *enc, vn_st_writer *w, const char *prefix, const float *arena);

/* Read them back into arena, all or nothing: every tensor's presence, dtype and shape is
 * checked before the first byte is copied, so a failure leaves arena untouched.
 * VN_ERR_FORMAT names the tensor; vn_st_file does not know its path, so callers prefix the
 * message with it (vn_error_prefix). Tensors in f under other names are ignored. */
vn_status vn_encoder_read_tensors(const vn_encoder *enc, const vn_st_file *f, const char *prefix, float *arena);

#endif
