/*
 * Video fixtures generated at test time whose every frame carries its own index.
 *
 * The index is drawn as VF_BITS big black/white blocks across the top, with their
 * complements in a second row, so it survives lossy coding and a damaged frame reads
 * as -1 rather than as a wrong number. Below, a gradient moves with the index so
 * that codecs see real motion.
 */
#ifndef VN_VIDEO_FIXTURES_H
#define VN_VIDEO_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

#include "vnative/vnative.h"

#define VF_W 160
#define VF_H 96
#define VF_BITS 10 /* indices 0..1023 */

/* Draw frame index into rgb (w x h x 3, packed rows); w >= 16 * VF_BITS, h >= 48. */
void vf_pattern(uint8_t *rgb, int w, int h, int index);

/* Read the index back from an RGB picture addressed by byte strides; -1 if unreadable. */
int vf_decode_index(const uint8_t *rgb, int w, int h, ptrdiff_t row_stride, ptrdiff_t px_stride);

/* Write n pattern frames with vn_video_writer. */
vn_status vf_write_pattern(const char *path, int n, double fps, vn_video_codec codec, int gop, int bframes);

/* Encode n pattern frames with the ffmpeg CLI: raw RGB goes in, then the extra
 * arguments (NULL-terminated) before the output path. Returns ffmpeg's exit status. */
int vf_ffmpeg_pattern(const char *path, int n, double fps, const char *const *extra);

/* Run argv (argv[0] from PATH) with stdout and stderr discarded; its exit status or -1. */
int vf_run(const char *const *argv);

/* Run argv with stdout written to out_path (stderr discarded); its exit status or -1. */
int vf_run_to(const char *const *argv, const char *out_path);

/* rm -rf path. */
void vf_remove_tree(const char *path);

/* 1 when the ffmpeg CLI runs here. */
int vf_have_ffmpeg(void);

/* A path in the test scratch directory. Each call returns a new buffer the caller frees. */
char *vf_path(const char *name);

/* Whole-file helpers for corrupting fixtures. */
int vf_read_file(const char *path, uint8_t **data, size_t *size);
int vf_write_file(const char *path, const void *data, size_t size);

#endif
