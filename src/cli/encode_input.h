/* What `vnative encode` and `vnative retrieve` share: the encoder of a checkpoint, the
 * videos an input names (one file, a directory, or a loader manifest), and a clip of the
 * encoder's frames sampled over a span of seconds of a video. */
#ifndef VN_CLI_ENCODE_INPUT_H
#define VN_CLI_ENCODE_INPUT_H

#include <stdint.h>
#include <stdio.h>

#include "vnative/vnative.h"

/* Open a deterministic context with n_threads (0: every core) and the encoder of model:
 * a model.safetensors, a checkpoint directory holding one, or xs|s for fresh weights of
 * that preset from seed. Prints what is wrong (flag names model_flag) and returns 1; the
 * caller destroys what was opened, on failure too. */
int vn_cli_open_model(const char *cmd, const char *model_flag, const char *model, uint64_t seed, int n_threads,
                      vn_context **ctx, vn_encoder **enc, vn_encoder_config *cfg);

/* One video to encode: the whole of it (start_s < 0), or the span [start_s, end_s) of a
 * manifest row. */
typedef struct vn_cli_source {
    char *path;
    double start_s, end_s;
} vn_cli_source;

/* The videos input names, as the loader reads them (docs/LOADER.md): a regular file with
 * a video extension is one video; a directory gives its video files (by extension, no dot
 * files, regular files only) sorted by name; any other file is a CSV manifest
 * path[,label][,start_s,end_s] (optional header, quoting, '#' comments, paths relative
 * to the manifest's directory). Labels are checked and ignored. Returns 0, or 1 after
 * printing what is wrong. */
int vn_cli_list_sources(const char *cmd, const char *input, vn_cli_source **out, int64_t *n);
void vn_cli_free_sources(vn_cli_source *s, int64_t n);

/* The spans of seconds a source gives under --window/--stride (window <= 0: one span,
 * the whole source). info is the opened video's. For a manifest range the span ends at
 * min(end_s, duration); a range that starts after the video ends is an error. Windows
 * are whole: [r0 + k * stride, r0 + k * stride + window) for every k that ends by the
 * span's end (a microsecond of slack). *spans (2 doubles per span) is malloc'd; *n may be
 * 0. Returns 0, or -1 with a message in err. */
int vn_cli_plan_spans(const vn_cli_source *src, const vn_video_info *info, double window, double stride,
                      double **spans, int64_t *n, char *err, size_t err_cap);

/* The transform that turns frames into encoder input: resize to the encoder's size on the
 * short side, centre crop, gray for a 1-channel encoder, and the normalisation of
 * vn_window_options (the scale of vn_world's clips, as vn_probe_embed_video uses). */
void vn_cli_encoder_transform(const vn_encoder_config *cfg, vn_transform_options *tr);

/* The clip of a span: cfg->frames frames sampled evenly in time over [t0, t1) seconds of
 * v, from the frame on screen at t0 (vn_clip_options in target_fps mode; vn_clip_indices
 * gives its frames). A span with fewer frames than the clip repeats frames. */
vn_status vn_cli_span_clip(vn_video *v, const vn_encoder_config *cfg, double t0, double t1, vn_clip_options *co);

/* Read the clip of a span into clip: f32 [C, T, size, size], contiguous. */
vn_status vn_cli_read_span(vn_video *v, const vn_encoder_config *cfg, double t0, double t1, float *clip);

/* Encode the whole of the video at path into one row (a single clip over its duration),
 * emb[D]. Returns 0, or 1 after printing what is wrong. */
int vn_cli_encode_whole_video(const char *cmd, const vn_encoder *enc, const vn_encoder_config *cfg, const char *path,
                              float *emb);

/* Write s to f as one CSV field: quoted (with "" for a quote) when it holds a comma,
 * quote, newline or leading/trailing blank. */
void vn_cli_csv_field(FILE *f, const char *s);

/* Write a time in seconds compactly: up to 6 decimals, trailing zeros dropped. */
void vn_cli_csv_seconds(FILE *f, double s);

/* Split a CSV line in place (quotes as vn_cli_csv_field writes them) into at most cap
 * fields. Returns the count, or -1 with *why set. */
int vn_cli_csv_split(char *line, char **fields, int cap, const char **why);

#endif
