/*
 * Writes the seed corpora of the fuzz targets with the library's own writers, so the seeds
 * are valid files of the formats as vnative writes them (nothing binary is committed):
 *   make_seeds OUTDIR  ->  OUTDIR/{video,safetensors,manifest,npy}/...
 * scripts/fuzz.sh adds videos from the ffmpeg CLI (other containers and codecs).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/npy.h"
#include "io/safetensors.h"
#include "vnative/video.h"

static const char *outdir;

static void die(const char *what)
{
    fprintf(stderr, "make_seeds: %s: %s\n", what, vn_last_error());
    exit(1);
}

static const char *seed_path(const char *target, const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", outdir, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        die(path);
    snprintf(path, sizeof path, "%s/%s/%s", outdir, target, name);
    return path;
}

/* Tiny clips (a moving gradient) keep each execution fast; several codecs and containers
 * give the fuzzer different demuxer and decoder paths to mutate from. */
static void write_video(const char *name, vn_video_codec codec, int w, int h, int frames, int gop)
{
    vn_video_writer_options o = VN_VIDEO_WRITER_OPTIONS_INIT;
    o.width = w;
    o.height = h;
    o.codec = codec;
    o.gop = gop;
    o.fps = 10.0;
    vn_video_writer *wr;
    if (vn_video_writer_create(&wr, seed_path("video", name), &o) != VN_OK)
        die(name);
    uint8_t *px = malloc((size_t)w * h * 3);
    int64_t shape[3] = {h, w, 3};
    for (int f = 0; f < frames; f++) {
        for (int i = 0; i < w * h * 3; i++)
            px[i] = (uint8_t)((i % (w * 3)) * 4 + f * 16 + (i / (w * 3)) * 3);
        vn_tensor t;
        if (vn_tensor_init(&t, px, VN_DTYPE_U8, 3, shape) != VN_OK || vn_video_writer_write(wr, &t) != VN_OK)
            die(name);
    }
    free(px);
    if (vn_video_writer_finish(wr) != VN_OK)
        die(name);
    vn_video_writer_destroy(wr);
}

static void write_videos(void)
{
    const char *h264;
    if (vn_video_codec_resolve(VN_CODEC_H264, &h264) == VN_OK)
        write_video("h264.mp4", VN_CODEC_H264, 32, 24, 6, 3);
    write_video("mpeg4.avi", VN_CODEC_MPEG4, 32, 24, 6, 3);
    write_video("mpeg4.mp4", VN_CODEC_MPEG4, 16, 16, 4, 2);
    write_video("ffv1.mkv", VN_CODEC_FFV1, 16, 8, 3, 1);
    write_video("vp9.webm", VN_CODEC_VP9, 32, 16, 4, 2);
}

static void write_safetensors(const char *name, int n_tensors, int with_meta)
{
    static const float f32[6] = {1, -2, 3.5f, 0, 1e-3f, 7};
    static const uint8_t u8[5] = {0, 1, 2, 254, 255};
    static const int32_t i32[2] = {-1, 65536};
    static const int64_t i64[3] = {0, -5, 1LL << 40};
    static const uint16_t bf16[4] = {0x3f80, 0xbf80, 0x0000, 0x7f80};
    int64_t s23[2] = {2, 3}, s5[1] = {5}, s2[1] = {2}, s3[1] = {3}, s221[3] = {2, 2, 1}, s0[2] = {4, 0};
    vn_st_writer *w;
    if (vn_st_writer_create(&w) != VN_OK)
        die(name);
    struct {
        const char *name;
        vn_dtype dtype;
        int ndim;
        const int64_t *shape;
        const void *data;
    } t[] = {
        {"encoder.blocks.0.attn.qkv.weight", VN_DTYPE_F32, 2, s23, f32},
        {"pixels", VN_DTYPE_U8, 1, s5, u8},
        {"step", VN_DTYPE_I64, 1, s3, i64},
        {"ids", VN_DTYPE_I32, 1, s2, i32},
        {"bf16 \"quoted\"\tname", VN_DTYPE_BF16, 3, s221, bf16},
        {"empty", VN_DTYPE_F32, 2, s0, NULL},
        {"scalar", VN_DTYPE_F32, 0, NULL, f32 + 2},
    };
    for (int i = 0; i < n_tensors && i < (int)(sizeof t / sizeof t[0]); i++)
        if (vn_st_writer_add(w, t[i].name, t[i].dtype, t[i].ndim, t[i].shape, t[i].data) != VN_OK)
            die(name);
    if (with_meta && (vn_st_writer_add_metadata(w, "format", "pt") != VN_OK ||
                      vn_st_writer_add_metadata(w, "vnative.config", "{\"dim\": 64, \"depth\": 2}") != VN_OK ||
                      vn_st_writer_add_metadata(w, "note", "unicode \xc3\xa9\xe2\x82\xac and \\ / escapes\n") != VN_OK))
        die(name);
    if (vn_st_writer_write(w, seed_path("safetensors", name)) != VN_OK)
        die(name);
    vn_st_writer_free(w);
}

static void write_text(const char *target, const char *name, const char *text)
{
    FILE *f = fopen(seed_path(target, name), "wb");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        die(name);
}

static void write_manifests(void)
{
    write_text("manifest", "positional.csv", "a.mp4\nb.mp4,3\nc.mp4,0.5,2.25\nd.mp4,7,1,2\n");
    write_text("manifest", "header.csv",
               "# written by vnative world\npath,label,start_s,end_s\nclips/x.mp4,1,0,1.5\n\n/abs/y.mkv,,,\n");
    write_text("manifest", "named.csv",
               "\xef\xbb\xbfsplit,Path,task,Label\r\ntrain,\"a,b.mp4\",push,2\r\nval, \"q\"\"uote.mp4\" ,fall,\r\n");
    write_text("manifest", "ranges.csv", "path,end_s,start_s,label\nv.webm,10,2.5e0,\nw.avi,1e-3,0,12\n");
}

static void write_npy(const char *name, vn_npy_dtype dtype, int ndim, const int64_t *shape, const void *data)
{
    char err[256];
    if (vn_npy_write(seed_path("npy", name), dtype, ndim, shape, data, err, sizeof err) != 0) {
        fprintf(stderr, "make_seeds: %s\n", err);
        exit(1);
    }
}

static void write_npys(void)
{
    static const float f[6] = {0.5f, -1, 2, 3, 4, 5};
    static const uint8_t u[4] = {1, 2, 3, 4};
    static const int64_t l[2] = {-7, 1LL << 50};
    int64_t s23[2] = {2, 3}, s4[1] = {4}, s2[1] = {2}, s0[3] = {0, 3, 2};
    write_npy("f32.npy", VN_NPY_F32, 2, s23, f);
    write_npy("u8.npy", VN_NPY_U8, 1, s4, u);
    write_npy("i64.npy", VN_NPY_I64, 1, s2, l);
    write_npy("scalar.npy", VN_NPY_F32, 0, NULL, f);
    write_npy("empty.npy", VN_NPY_F32, 3, s0, NULL);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds OUTDIR\n");
        return 2;
    }
    outdir = argv[1];
    if (mkdir(outdir, 0755) != 0 && errno != EEXIST) {
        perror(outdir);
        return 1;
    }
    write_videos();
    for (int n = 1; n <= 7; n += 3)
        write_safetensors(n == 1 ? "one.safetensors" : n == 4 ? "four_meta.safetensors" : "all_meta.safetensors",
                          n, n > 1);
    write_manifests();
    write_npys();
    printf("make_seeds: wrote the seed corpora under %s\n", outdir);
    return 0;
}
