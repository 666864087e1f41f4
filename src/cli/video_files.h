/*
 * video_files.h: finding video files for the CLI commands that read a folder or a
 * manifest of them (probe --real, encode, retrieve). The CLI may call only the public
 * API, so it keeps its own copy of the loader's rules (src/io/loader_manifest.c).
 */
#ifndef VN_CLI_VIDEO_FILES_H
#define VN_CLI_VIDEO_FILES_H

#include <stdint.h>

/* 1 when the base name ends in one of the loader's video extensions (not a dot file's). */
int vn_cli_is_video_name(const char *name);

/* dir/name, or a copy of name when it is absolute or dir is empty; NULL without memory. */
char *vn_cli_path_join(const char *dir, const char *name);

/* s without leading and trailing blanks, tabs and carriage returns (in place). */
char *vn_cli_trim(char *s);

/* The regular video files of dir, by name, without dot files ("._x.mp4" is OS litter);
 * malloc'ed paths, freed with vn_cli_free_paths. flag names the option in messages.
 * Non-zero, with a message on stderr, when dir cannot be read or memory runs out; an
 * empty listing is not an error here (callers word it themselves). */
int vn_cli_list_video_dir(const char *cmd, const char *flag, const char *dir, char ***paths, int64_t *n);
void vn_cli_free_paths(char **paths, int64_t n);

#endif
