/*
 * video_files.c: see video_files.h.
 */
#include "cli/video_files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* The loader's video extensions (src/io/loader_manifest.c). */
static const char *const video_exts[] = {
    "mp4", "m4v", "mov", "avi", "mkv", "webm", "ogv", "ogg", "mpg", "mpeg",
    "ts", "mts", "m2ts", "flv", "wmv", "asf", "3gp", "y4m", "gif",
};

int vn_cli_is_video_name(const char *name)
{
    const char *slash = strrchr(name, '/'), *base = slash ? slash + 1 : name;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return 0;
    for (size_t i = 0; i < sizeof video_exts / sizeof video_exts[0]; i++)
        if (!strcasecmp(dot + 1, video_exts[i]))
            return 1;
    return 0;
}

char *vn_cli_path_join(const char *dir, const char *name)
{
    if (name[0] == '/' || !dir[0])
        return strdup(name);
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

char *vn_cli_trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

void vn_cli_free_paths(char **paths, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int vn_cli_list_video_dir(const char *cmd, const char *flag, const char *dir, char ***paths, int64_t *n)
{
    *paths = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "vnative %s: %s %s: %s\n", cmd, flag, dir, strerror(errno));
        return 1;
    }
    char **v = NULL;
    int64_t count = 0, cap = 0;
    int oom = 0;
    struct dirent *de;
    while (!oom && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !vn_cli_is_video_name(de->d_name))
            continue;
        char *p = vn_cli_path_join(dir, de->d_name);
        struct stat sb;
        /* FIFOs and devices named like videos could block a decoder */
        if (p && (stat(p, &sb) != 0 || !S_ISREG(sb.st_mode))) {
            free(p);
            continue;
        }
        if (p && count == cap) {
            int64_t c = cap ? 2 * cap : 32;
            char **w = realloc(v, (size_t)c * sizeof *w);
            if (w)
                v = w, cap = c;
        }
        if (!p || count == cap) {
            free(p);
            oom = 1;
            break;
        }
        v[count++] = p;
    }
    closedir(d);
    if (oom) {
        fprintf(stderr, "vnative %s: out of memory listing %s\n", cmd, dir);
        vn_cli_free_paths(v, count);
        return 1;
    }
    if (count > 1)
        qsort(v, (size_t)count, sizeof *v, by_name);
    *paths = v;
    *n = count;
    return 0;
}
