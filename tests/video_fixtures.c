#include "video_fixtures.h"
#include "vn_test.h"

#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define CELL 16

static void fill(uint8_t *rgb, int w, int x0, int y0, int bw, int bh, int r, int g, int b)
{
    for (int y = y0; y < y0 + bh; y++)
        for (int x = x0; x < x0 + bw; x++) {
            uint8_t *p = rgb + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)r;
            p[1] = (uint8_t)g;
            p[2] = (uint8_t)b;
        }
}

void vf_pattern(uint8_t *rgb, int w, int h, int index)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgb + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(x * 2 + index * 4);
            p[1] = (uint8_t)(y * 3 + index * 2);
            p[2] = (uint8_t)(96 + (x + y + index * 3) % 64);
        }
    for (int b = 0; b < VF_BITS; b++) {
        int bit = (index >> b) & 1;
        int on = bit ? 235 : 20, off = bit ? 20 : 235;
        fill(rgb, w, b * CELL, 0, CELL, CELL, on, on, on);
        fill(rgb, w, b * CELL, CELL, CELL, CELL, off, off, off);
    }
    /* An asymmetric red mark below the first cell, to see orientation. */
    fill(rgb, w, 0, 2 * CELL, CELL, CELL, 230, 20, 20);
}

static int cell_level(const uint8_t *rgb, ptrdiff_t rs, ptrdiff_t ps, int cx, int cy)
{
    int sum = 0;
    for (int y = cy * CELL + 4; y < cy * CELL + 12; y++)
        for (int x = cx * CELL + 4; x < cx * CELL + 12; x++) {
            const uint8_t *p = rgb + y * rs + x * ps;
            sum += (p[0] + p[1] + p[2]) / 3;
        }
    return sum / 64;
}

int vf_decode_index(const uint8_t *rgb, int w, int h, ptrdiff_t row_stride, ptrdiff_t px_stride)
{
    if (w < VF_BITS * CELL || h < 2 * CELL)
        return -1;
    int index = 0;
    for (int b = 0; b < VF_BITS; b++) {
        int a = cell_level(rgb, row_stride, px_stride, b, 0);
        int c = cell_level(rgb, row_stride, px_stride, b, 1);
        int bit = a > 128;
        /* A cell and its complement must disagree clearly, or the frame is damaged. */
        if (bit == (c > 128) || abs(a - c) < 100)
            return -1;
        index |= bit << b;
    }
    return index;
}

vn_status vf_write_pattern(const char *path, int n, double fps, vn_video_codec codec, int gop, int bframes)
{
    vn_video_writer_options o = VN_VIDEO_WRITER_OPTIONS_INIT;
    o.width = VF_W;
    o.height = VF_H;
    o.fps = fps;
    o.codec = codec;
    o.gop = gop;
    o.bframes = bframes;
    vn_video_writer *w = NULL;
    vn_status s = vn_video_writer_create(&w, path, &o);
    if (s != VN_OK)
        return s;
    uint8_t *rgb = malloc((size_t)VF_W * VF_H * 3);
    int64_t shape[3] = {VF_H, VF_W, 3};
    vn_tensor t;
    vn_tensor_init(&t, rgb, VN_DTYPE_U8, 3, shape);
    for (int i = 0; i < n && s == VN_OK; i++) {
        vf_pattern(rgb, VF_W, VF_H, i);
        s = vn_video_writer_write(w, &t);
    }
    if (s == VN_OK)
        s = vn_video_writer_finish(w);
    vn_video_writer_destroy(w);
    free(rgb);
    return s;
}

int vf_run(const char *const *argv)
{
    return vf_run_to(argv, "/dev/null");
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void vf_remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int vf_run_to(const char *const *argv, const char *out_path)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int status;
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int vf_have_ffmpeg(void)
{
    const char *argv[] = {"ffmpeg", "-hide_banner", "-version", NULL};
    return vf_run(argv) == 0;
}

char *vf_path(const char *name)
{
    const char *dir = vn_test_tmpdir();
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int vf_read_file(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc(n > 0 ? (size_t)n : 1);
    *size = fread(*data, 1, (size_t)n, f);
    fclose(f);
    return *size == (size_t)n ? 0 : -1;
}

int vf_write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = size ? fwrite(data, 1, size, f) : 0;
    return fclose(f) == 0 && w == size ? 0 : -1;
}

int vf_ffmpeg_pattern(const char *path, int n, double fps, const char *const *extra)
{
    char *raw = malloc(strlen(path) + 8);
    sprintf(raw, "%s.rgb", path);
    size_t frame = (size_t)VF_W * VF_H * 3;
    uint8_t *buf = malloc(frame * (size_t)n);
    for (int i = 0; i < n; i++)
        vf_pattern(buf + frame * i, VF_W, VF_H, i);
    int rc = vf_write_file(raw, buf, frame * (size_t)n);
    free(buf);
    if (rc != 0) {
        free(raw);
        return -1;
    }
    char size[32], rate[32];
    snprintf(size, sizeof size, "%dx%d", VF_W, VF_H);
    snprintf(rate, sizeof rate, "%g", fps);
    const char *argv[64];
    int k = 0;
    const char *head[] = {"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-s", size, "-r", rate, "-i", raw};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        argv[k++] = head[i];
    for (int i = 0; extra && extra[i] && k < 62; i++)
        argv[k++] = extra[i];
    argv[k++] = path;
    argv[k] = NULL;
    rc = vf_run(argv);
    unlink(raw);
    free(raw);
    return rc;
}
