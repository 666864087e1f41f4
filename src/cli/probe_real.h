/* `vnative probe --real`: the arrow of time on a folder or manifest of real videos. */
#ifndef VN_CLI_PROBE_REAL_H
#define VN_CLI_PROBE_REAL_H

#include <stdint.h>

#include "vnative/vnative.h"

/* The videos named by source: a directory's video files (.mp4 .avi .ogv .mkv .webm
 * .mov, any case) sorted by name, or a manifest's paths in its order. A manifest is
 * tab-separated when its first row has a tab, comma-separated (with "quoted" fields)
 * otherwise; a first row with a field "path" or "file" is a header naming the column,
 * else the first column holds the paths. Blank lines and lines starting with '#' are
 * skipped; relative paths are taken from the manifest's directory. Returns 0, or 1
 * after printing what is wrong. */
int vn_cli_list_videos(const char *cmd, const char *source, char ***paths, int *n);
void vn_cli_free_videos(char **paths, int n);

typedef struct vn_cli_real_result {
    vn_probe_result r;
    int64_t windows; /* over every video, one direction */
    int videos;      /* listed */
    int sources;     /* with at least one window */
    int folds;       /* used: min(folds asked, sources) */
} vn_cli_real_result;

/* List source, count its windows and run vn_probe_real_aot with the windows of win
 * (NULL: the defaults). Returns 0, or 1 after printing what is wrong. */
int vn_cli_real_aot(const char *cmd, const vn_encoder *enc, const char *source, const vn_window_options *win,
                    int folds, uint64_t seed, int quiet, vn_cli_real_result *res);

#endif
