/* Shared between the two files of the video suite: fixture paths and small helpers. */
#ifndef VN_TEST_VIDEO_H
#define VN_TEST_VIDEO_H

#include "vn_test.h"
#include "video_fixtures.h"

typedef struct vt_fixtures {
    char *h264_mp4;      /* 300 frames, GOP 250, B-frames, moov at the end */
    char *h264_fast_mp4; /* the same with the moov first, so a cut file still has its index */
    char *mpeg4_avi;     /* 60 frames */
    char *mpeg4_bf_avi;  /* 60 frames with B-frames: AVI has no pts, so frames are counted */
    char *vp9_webm;      /* 60 frames */
    char *h264_mkv;      /* 90 frames, GOP 30, B-frames */
    char *ffv1_mkv;      /* 30 frames, lossless RGB */
    char *vfr_mkv;       /* 45 frames, durations 20/40/60 ms in turn */
    char *open_gop_mkv;  /* 120 frames, open GOPs: leading B-frames reference the previous GOP */
    char *cut_mp4;       /* h264_mp4 cut at 0.5 s by stream copy: an edit list over discarded packets */
    char *liar_mp4;      /* h264_mkv with its pts overwritten by the dts (seen at the scan) */
    char *liar_mkv;      /* h264_mp4 likewise, in Matroska, where only decoding shows the lie */
    char *rot_src_mp4;   /* 30 frames, no rotation */
    char *rot_a_mp4;     /* rot_src with the 'rotate=90' tag */
    char *rot_b_mp4;     /* rot_src with the 'rotate=270' tag */
    char *full_mp4;      /* yuvj420p, lossless: known full-range levels */
    char *full_vp9_webm; /* the same levels as yuv420p flagged full range (no J format) */
    char *bt709_mp4;     /* limited range, tagged BT.709, lossless */
    char *audio_m4a;
    char *lying_avi;     /* mpeg4_avi with headers claiming 1000 frames */
} vt_fixtures;

extern vt_fixtures VT;

/* Full-range and BT.709 fixtures: 96x32, six 16-pixel gray columns on top (these
 * luma levels, chroma 128), a colour patch of VT_PATCH_Y/U/V below. */
#define VT_LEVEL_W 96
#define VT_LEVEL_H 32
#define VT_PATCH_Y 100
#define VT_PATCH_U 80
#define VT_PATCH_V 200
extern const int vt_levels[6];

/* Cumulative duration of the first i frames of the VFR fixture, in units of 20 ms. */
int64_t vt_vfr_units(int64_t i);

/* Open or fail the test. */
vn_video *vt_open(const char *path, int approximate);
vn_video_info vt_info(const vn_video *v);
/* Read frames by index into a new buffer of n * H * W * 3 bytes, or fail the test. */
uint8_t *vt_read(vn_video *v, const int64_t *idx, int64_t n);
/* The pattern index of frame k of an n-frame buffer from vt_read. */
int vt_index_of(const uint8_t *frames, const vn_video_info *info, int64_t k);

void vt_add_clip_tests(Suite *s);

#endif
