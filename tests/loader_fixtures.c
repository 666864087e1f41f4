#include "loader_fixtures.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int lf_run(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err != 0)
        return -1;
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int lf_have_ffmpeg(void)
{
    char *argv[] = {"ffmpeg", "-hide_banner", "-version", NULL};
    return lf_run(argv) == 0;
}

static int encode(const char *path, const char *source, const char *filter, int n_frames, const char *codec)
{
    char frames[32];
    snprintf(frames, sizeof frames, "%d", n_frames);
    char *argv[32];
    int n = 0;
    argv[n++] = "ffmpeg";
    argv[n++] = "-nostdin";
    argv[n++] = "-loglevel";
    argv[n++] = "error";
    argv[n++] = "-y";
    argv[n++] = "-f";
    argv[n++] = "lavfi";
    argv[n++] = "-i";
    argv[n++] = (char *)source;
    argv[n++] = "-vf";
    argv[n++] = (char *)filter;
    argv[n++] = "-frames:v";
    argv[n++] = frames;
    argv[n++] = "-c:v";
    argv[n++] = (char *)codec;
    if (strcmp(codec, "mpeg4") == 0) {
        argv[n++] = "-q:v";
        argv[n++] = "3";
    }
    if (strcmp(codec, "libx264") == 0) {
        argv[n++] = "-preset";
        argv[n++] = "ultrafast";
        argv[n++] = "-threads";
        argv[n++] = "1";
    }
    argv[n++] = "-an";
    argv[n++] = (char *)path;
    argv[n] = NULL;
    return lf_run(argv);
}

int lf_make_textured(const char *path, int w, int h, int n_frames, double fps, const char *codec, int hue_deg)
{
    char src[128], filter[128];
    snprintf(src, sizeof src, "testsrc2=s=%dx%d:r=%g", w, h, fps);
    snprintf(filter, sizeof filter, "hue=h=%d,format=yuv420p", hue_deg);
    return encode(path, src, filter, n_frames, codec);
}

int lf_make_ramp(const char *path, int w, int h, int n_frames, double fps, const char *codec)
{
    char src[128];
    snprintf(src, sizeof src, "color=c=black:s=%dx%d:r=%g", w, h, fps);
    return encode(path, src, "geq=lum='16+7*N':cb=128:cr=128,format=yuv420p", n_frames, codec);
}

int lf_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = n ? fwrite(data, 1, n, f) : 0;
    return fclose(f) == 0 && w == n ? 0 : -1;
}

int lf_make_random(const char *path, size_t n, uint64_t seed)
{
    unsigned char *b = malloc(n ? n : 1);
    if (!b)
        return -1;
    uint64_t x = seed;
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        b[i] = (unsigned char)(x >> 56);
    }
    int r = lf_write_file(path, b, n);
    free(b);
    return r;
}

int lf_make_truncated(const char *src, const char *dst, double fraction)
{
    FILE *f = fopen(src, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    size_t keep = (size_t)((double)size * fraction);
    unsigned char *b = malloc(keep ? keep : 1);
    int r = -1;
    if (b && fread(b, 1, keep, f) == keep)
        r = lf_write_file(dst, b, keep);
    free(b);
    fclose(f);
    return r;
}

int lf_mkdir(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return 0;
    return -1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void lf_remove_tree(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
