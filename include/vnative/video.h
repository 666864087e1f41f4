/** @file
 * vnative/video.h: frame-accurate video reading, clip sampling, transforms, writing.
 *
 * Reading is frame-accurate: the frame returned for index i is the frame a full
 * sequential decode gives at position i, whatever the codec, GOP or seek pattern.
 * Frame i is the i-th frame in presentation order. Rotation metadata is applied
 * and colour conversion honours each frame's colour space and range.
 *
 * Thread safety: a vn_video is used by one thread at a time; open one per thread
 * to read a file from several threads. A vn_video_writer likewise.
 */
#ifndef VNATIVE_VIDEO_H
#define VNATIVE_VIDEO_H

#include "vnative/common.h"
#include "vnative/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------- */
/* Opening and metadata                                                                */
/* ---------------------------------------------------------------------------------- */

/** An open video file (opaque). */
typedef struct vn_video vn_video;

/** Options of vn_video_create and vn_video_create_from_memory. */
typedef struct vn_video_open_options {
    unsigned int version; /**< VN_VIDEO_OPEN_OPTIONS_VERSION */
    int approximate;    /**< 1: skip the packet scan; frame count and keyframes come from the
                             container header and may be wrong; reads by index still work */
    int n_threads;      /**< decoder threads; 0 lets the library choose */
    double timeout_s;   /**< any single open or read that takes longer fails with
                             VN_ERR_TIMEOUT; 0 means no limit */
} vn_video_open_options;

#define VN_VIDEO_OPEN_OPTIONS_VERSION 1 /**< the version of vn_video_open_options this header describes */
/** Static initialiser of vn_video_open_options: the current version and the defaults. */
#define VN_VIDEO_OPEN_OPTIONS_INIT { VN_VIDEO_OPEN_OPTIONS_VERSION, 0, 0, 0.0 }

/** Fill *opts with the defaults of the given version (VN_VIDEO_OPEN_OPTIONS_VERSION). */
VN_API vn_status vn_video_open_options_init(vn_video_open_options *opts, unsigned int version);

/** Open a file. opts may be NULL for the defaults. A video whose frames are over 16384 pixels
 * on a side or over 8192 x 8192 pixels in all is refused with VN_ERR_FORMAT (as a corrupt header
 * usually is: reading would need gigabytes per frame). */
VN_API vn_status vn_video_create(vn_video **out, const char *path, const vn_video_open_options *opts);

/** Open an in-memory file (read through a custom AVIOContext). The bytes are copied,
 * so data may be freed when the call returns. */
VN_API vn_status vn_video_create_from_memory(vn_video **out, const void *data, size_t size,
                                             const vn_video_open_options *opts);

/** NULL is a no-op. */
VN_API void vn_video_destroy(vn_video *video);

/** Metadata of an open video (vn_video_get_info). */
typedef struct vn_video_info {
    unsigned int version;            /**< VN_VIDEO_INFO_VERSION */
    int width;                       /**< as displayed: after rotation */
    int height;                      /**< as displayed: after rotation */
    int coded_width;                 /**< as stored in the stream */
    int coded_height;                /**< as stored in the stream */
    int rotation;                    /**< clockwise degrees applied on output: 0, 90, 180 or 270 */
    int64_t n_frames;                /**< exact after the scan; estimated in approximate mode */
    int n_frames_exact;              /**< 1 when n_frames comes from a packet scan */
    int64_t n_keyframes;             /**< 0 in approximate mode */
    double duration_s;               /**< of the video stream, in seconds */
    double avg_fps;                  /**< average frame rate */
    int time_base_num;               /**< numerator of the stream's time base (seconds per pts unit) */
    int time_base_den;               /**< denominator of the stream's time base */
    int variable_frame_rate;         /**< 1 when the scan saw frame durations that differ */
    int full_range;                  /**< 1 for full-range ("JPEG") video, 0 for limited range */
    char codec[32];                  /**< such as "h264" */
    char pixel_format[32];           /**< such as "yuv420p" */
    char color_space[32];            /**< such as "bt709", "bt470bg", "unknown" */
} vn_video_info;

#define VN_VIDEO_INFO_VERSION 1 /**< the version of vn_video_info this header describes */
/** Static initialiser of vn_video_info: the current version and the defaults. */
#define VN_VIDEO_INFO_INIT { VN_VIDEO_INFO_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0.0, 0.0, 0, 0, 0, 0, {0}, {0}, {0} }

/** Fill *info; the caller sets info->version (VN_VIDEO_INFO_INIT does). */
VN_API vn_status vn_video_get_info(const vn_video *video, vn_video_info *info);

/** Presentation time in seconds of frame index (exact mode only: VN_ERR_STATE in approximate mode). */
VN_API vn_status vn_video_frame_time(const vn_video *video, int64_t index, double *time_s);

/** The frame shown at time t: the last frame whose pts <= t (the first frame for t before it). */
VN_API vn_status vn_video_frame_at_time(const vn_video *video, double time_s, int64_t *index);

/** Keyframe indices in presentation order. Writes min(cap, total) entries and *n_total. */
VN_API vn_status vn_video_keyframes(const vn_video *video, int64_t *indices, int64_t cap, int64_t *n_total);

/* ---------------------------------------------------------------------------------- */
/* Raw frame reads: uint8 RGB at the display size, shape [n, height, width, 3]         */
/* ---------------------------------------------------------------------------------- */

/** Read frames by index, in any order, duplicates allowed. Requests are decoded forward
 * in sorted order, seeking only where that is faster than decoding through. */
VN_API vn_status vn_video_read_frames(vn_video *video, const int64_t *indices, int64_t n, vn_tensor *out);

/** Read the frames shown at the given times (seconds), see vn_video_frame_at_time. */
VN_API vn_status vn_video_read_times(vn_video *video, const double *times_s, int64_t n, vn_tensor *out);

/* ---------------------------------------------------------------------------------- */
/* Clip sampling                                                                       */
/* ---------------------------------------------------------------------------------- */

/** How a clip is sampled from a video: frame count, stride or rate, start, direction. */
typedef struct vn_clip_options {
    unsigned int version; /**< VN_CLIP_OPTIONS_VERSION */
    int n_frames;        /**< frames per clip, >= 1 */
    int stride;          /**< step between sampled frames; 0: derive from target_fps */
    double target_fps;   /**< used when stride is 0: sample at this rate (>0) */
    int64_t start;       /**< first frame index; -1: uniformly random from seed */
    int reverse;         /**< 1: the clip is returned in reverse order */
    uint64_t seed;       /**< for start == -1 */
} vn_clip_options;

#define VN_CLIP_OPTIONS_VERSION 1 /**< the version of vn_clip_options this header describes */
/** Static initialiser of vn_clip_options: the current version and the defaults. */
#define VN_CLIP_OPTIONS_INIT { VN_CLIP_OPTIONS_VERSION, 16, 1, 0.0, 0, 0, 0 }

/** Fill *opts with the defaults of the given version (VN_CLIP_OPTIONS_VERSION). */
VN_API vn_status vn_clip_options_init(vn_clip_options *opts, unsigned int version);

/** The frame indices a clip samples, in output order (reversed when reverse is set).
 * A video too short for the clip repeats its last frame. indices holds n_frames entries. */
VN_API vn_status vn_clip_indices(const vn_video *video, const vn_clip_options *clip, int64_t *indices);

/* ---------------------------------------------------------------------------------- */
/* Transforms                                                                          */
/* ---------------------------------------------------------------------------------- */

/** Resize, crop, flip, colour and normalisation of a clip's frames. */
typedef struct vn_transform_options {
    unsigned int version;         /**< VN_TRANSFORM_OPTIONS_VERSION */
    int short_side;               /**< resize so the short side has this length; 0 keeps the size */
    int crop_size;                /**< centre crop (or random resized crop) to a square this size; 0: none */
    int random_resized_crop;      /**< 1: random resized crop to crop_size instead of resize + centre crop */
    float rrc_scale[2];           /**< area fraction range, default [0.3, 1] as in V-JEPA */
    float rrc_ratio[2];           /**< aspect ratio range, default [0.75, 1.35] */
    float hflip_prob;             /**< probability of a horizontal flip */
    int grayscale;                /**< 1: one output channel (BT.601 luma) */
    float mean[3];                /**< float output: (x/255 - mean) / std per channel */
    float std[3];                 /**< float output: (x/255 - mean) / std per channel */
    uint64_t seed;                /**< augmentation seed: the same seed gives the same crop and flip */
} vn_transform_options;

#define VN_TRANSFORM_OPTIONS_VERSION 1 /**< the version of vn_transform_options this header describes */
/** Static initialiser of vn_transform_options: the current version and the defaults. */
#define VN_TRANSFORM_OPTIONS_INIT                                                               \
    { VN_TRANSFORM_OPTIONS_VERSION, 0, 0, 0, {0.3f, 1.0f}, {0.75f, 1.35f}, 0.0f, 0,             \
      {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}, 0 }

/** Fill *opts with the defaults of the given version (VN_TRANSFORM_OPTIONS_VERSION). */
VN_API vn_status vn_transform_options_init(vn_transform_options *opts, unsigned int version);

/** The shape of a clip read with these options: dtype U8 gives [T, H, W, C],
 * F32 gives [C, T, H, W]. transform may be NULL (no transform). shape has 4 entries. */
VN_API vn_status vn_clip_shape(const vn_video *video, const vn_clip_options *clip,
                               const vn_transform_options *transform, vn_dtype dtype, int64_t *shape);

/** Sample, decode and transform one clip into out (U8 [T,H,W,C] or F32 [C,T,H,W], any
 * strides). One crop and flip is drawn per clip, so frames stay aligned. Only the frames
 * kept are colour-converted. */
VN_API vn_status vn_video_read_clip(vn_video *video, const vn_clip_options *clip,
                                    const vn_transform_options *transform, vn_tensor *out);

/* ---------------------------------------------------------------------------------- */
/* Writing                                                                             */
/* ---------------------------------------------------------------------------------- */

/** Video codecs of the writer. */
typedef enum vn_video_codec {
    VN_CODEC_AUTO = 0,    /**< libx264 when the local FFmpeg has it, otherwise mpeg4 */
    VN_CODEC_H264 = 1,
    VN_CODEC_MPEG4 = 2,
    VN_CODEC_FFV1 = 3,    /**< lossless */
    VN_CODEC_VP9 = 4
} vn_video_codec;

/** Options of vn_video_writer_create. */
typedef struct vn_video_writer_options {
    unsigned int version; /**< VN_VIDEO_WRITER_OPTIONS_VERSION */
    int width;            /**< frame width, even for 4:2:0 codecs */
    int height;           /**< frame height, even for 4:2:0 codecs */
    int channels;         /**< 3 (RGB) or 1 (gray) input frames */
    double fps;           /**< frames per second, > 0 */
    vn_video_codec codec; /**< the codec to encode with */
    int quality;          /**< codec-specific: crf for h264/vp9, qscale for mpeg4; 0: a good default */
    int gop;              /**< keyframe interval; 0: the codec default */
    int bframes;          /**< max consecutive B-frames; -1: the codec default */
} vn_video_writer_options;

#define VN_VIDEO_WRITER_OPTIONS_VERSION 1 /**< the version of vn_video_writer_options this header describes */
/** Static initialiser of vn_video_writer_options: the current version and the defaults. */
#define VN_VIDEO_WRITER_OPTIONS_INIT { VN_VIDEO_WRITER_OPTIONS_VERSION, 0, 0, 3, 25.0, VN_CODEC_AUTO, 0, 0, -1 }

/** Fill *opts with the defaults of the given version (VN_VIDEO_WRITER_OPTIONS_VERSION). */
VN_API vn_status vn_video_writer_options_init(vn_video_writer_options *opts, unsigned int version);

/** A video file being written (opaque). */
typedef struct vn_video_writer vn_video_writer;

/** Start writing path; the container follows the extension (.mp4, .mkv, .avi, .webm).
 * The file appears at path only when vn_video_writer_finish succeeds: until then it is
 * written beside it under a temporary name. */
VN_API vn_status vn_video_writer_create(vn_video_writer **out, const char *path,
                                        const vn_video_writer_options *opts);

/** Append frames: uint8 [T, H, W, C] or [H, W, C] matching the options. */
VN_API vn_status vn_video_writer_write(vn_video_writer *writer, const vn_tensor *frames);

/** Flush the encoder, write the trailer, and move the file into place. */
VN_API vn_status vn_video_writer_finish(vn_video_writer *writer);

/** NULL is a no-op. Destroying an unfinished writer discards the partial file. */
VN_API void vn_video_writer_destroy(vn_video_writer *writer);

/** The encoder VN_CODEC_AUTO resolves to on this machine ("libx264" or "mpeg4"). */
VN_API vn_status vn_video_codec_resolve(vn_video_codec codec, const char **encoder_name);

#ifdef __cplusplus
}
#endif

#endif
