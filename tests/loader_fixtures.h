/* Fixtures for the loader tests, written at test time with the ffmpeg CLI. */
#ifndef VN_LOADER_FIXTURES_H
#define VN_LOADER_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

/* Run argv (argv[0] looked up on PATH) with stdout and stderr to /dev/null;
 * returns its exit status, or -1 when it could not be started. */
int lf_run(char *const argv[]);

/* 1 when the ffmpeg CLI runs here. */
int lf_have_ffmpeg(void);

/* A w x h clip of n_frames at fps: testsrc2 with its hue turned by hue_deg, so that
 * every file has its own texture and every frame moves. codec: an ffmpeg encoder name. */
int lf_make_textured(const char *path, int w, int h, int n_frames, double fps, const char *codec, int hue_deg);

/* A clip whose every frame is flat gray, level 16 + 7 * frame index (n_frames <= 34),
 * so each frame differs from all others even after lossy coding. */
int lf_make_ramp(const char *path, int w, int h, int n_frames, double fps, const char *codec);

/* Corrupt files. */
int lf_write_file(const char *path, const void *data, size_t n);
int lf_make_random(const char *path, size_t n, uint64_t seed);
/* The first fraction of src's bytes. */
int lf_make_truncated(const char *src, const char *dst, double fraction);

/* mkdir -p for one level; 0 when it exists afterwards. */
int lf_mkdir(const char *path);
/* rm -rf. */
void lf_remove_tree(const char *path);

#endif
