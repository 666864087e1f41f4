/*
 * Embed one clip of a video file with an encoder, and print the embedding.
 *
 *   encode_video VIDEO [MODEL.safetensors|xs [world|imagenet]]
 *
 * With a model file (model.safetensors from `vnative train`, train_folder or
 * vn_encoder_save) its encoder is loaded; without one, or with "xs", a fresh xs video
 * encoder is built from the preset (random weights: the numbers are then only a smoke
 * test).
 *
 * The clip is read with the public video API: open the file, sample the encoder's
 * number of frames from the middle of the video every second frame, resize the short
 * side and centre-crop to the encoder's size, normalise to float32 [C, T, H, W], then
 * encode it as a batch of one. The normalisation must be the one the encoder was trained
 * with: "world" (the default), (x / 255 - 0.5) / 0.25, is vn_world's scale, which
 * `vnative encode` and the probes use too; "imagenet", the transform's default mean and
 * std, is what vn_trainer applies to video files (train_folder's models).
 *
 *   cc encode_video.c $(pkg-config --cflags --libs vnative) -o encode_video
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vnative/vnative.h>

static int fail(const char *what)
{
    fprintf(stderr, "encode_video: %s: %s\n", what, vn_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    const char *norm = argc > 3 ? argv[3] : "world"; /* the input normalisation */
    if (argc < 2 || argc > 4 || (strcmp(norm, "world") != 0 && strcmp(norm, "imagenet") != 0)) {
        fprintf(stderr, "usage: %s VIDEO [MODEL.safetensors|xs [world|imagenet]]\n", argv[0]);
        return 2;
    }
    const char *video_path = argv[1];
    const char *model_path = argc > 2 && strcmp(argv[2], "xs") != 0 ? argv[2] : NULL;

    int rc = 1;
    vn_context *ctx = NULL;
    vn_encoder *enc = NULL;
    vn_video *video = NULL;
    float *clip = NULL, *emb = NULL;

    if (vn_context_create(&ctx, NULL) != VN_OK)
        return fail("vn_context_create");

    /* The encoder: from a weights file, or the xs preset with fresh weights. */
    vn_encoder_config cfg;
    if (model_path) {
        if (vn_encoder_load(&enc, ctx, model_path) != VN_OK) {
            fail(model_path);
            goto done;
        }
        vn_encoder_get_config(enc, &cfg);
    } else {
        vn_encoder_config_preset(&cfg, "xs", VN_ENCODER_VIDEO);
        cfg.seed = 1;
        if (vn_encoder_create(&enc, ctx, &cfg) != VN_OK) {
            fail("vn_encoder_create");
            goto done;
        }
    }
    int64_t tokens, dim;
    vn_encoder_output_shape(enc, &tokens, &dim);
    printf("encoder: %s, %d frames of %dx%d, %d channels -> %lld dimensions\n",
           vn_encoder_family_name(cfg.family), cfg.frames, cfg.size, cfg.size, cfg.channels, (long long)dim);

    /* The video and its metadata. */
    if (vn_video_create(&video, video_path, NULL) != VN_OK) {
        fail(video_path);
        goto done;
    }
    vn_video_info info = VN_VIDEO_INFO_INIT;
    if (vn_video_get_info(video, &info) != VN_OK) {
        fail("vn_video_get_info");
        goto done;
    }
    printf("video: %s, %dx%d, %lld frames at %.2f fps, %s\n", video_path, info.width, info.height,
           (long long)info.n_frames, info.avg_fps, info.codec);

    /* Which frames: the encoder's count, every second frame, centred in the video (a video
     * too short for the clip repeats its last frame). */
    vn_clip_options co = VN_CLIP_OPTIONS_INIT;
    co.n_frames = cfg.frames;
    co.stride = 2;
    int64_t span = (int64_t)(cfg.frames - 1) * co.stride + 1;
    co.start = info.n_frames > span ? (info.n_frames - span) / 2 : 0;

    /* How they are shaped: the encoder's size and channels, and its normalisation. */
    vn_transform_options tf = VN_TRANSFORM_OPTIONS_INIT; /* mean and std: ImageNet's */
    tf.short_side = cfg.size;
    tf.crop_size = cfg.size;
    tf.grayscale = cfg.channels == 1;
    if (strcmp(norm, "world") == 0) {
        for (int c = 0; c < 3; c++) {
            tf.mean[c] = 0.5f;
            tf.std[c] = 0.25f;
        }
    }

    int64_t shape[5] = {1}; /* [N = 1, C, T, H, W] */
    if (vn_clip_shape(video, &co, &tf, VN_DTYPE_F32, shape + 1) != VN_OK) {
        fail("vn_clip_shape");
        goto done;
    }
    size_t n = (size_t)(shape[1] * shape[2] * shape[3] * shape[4]);
    clip = malloc(n * sizeof *clip);
    emb = malloc((size_t)dim * sizeof *emb);
    if (!clip || !emb) {
        fprintf(stderr, "encode_video: out of memory\n");
        goto done;
    }

    /* Read the clip as [C, T, H, W]; the same memory is the batch [1, C, T, H, W]. */
    vn_tensor one, batch, out;
    vn_tensor_init(&one, clip, VN_DTYPE_F32, 4, shape + 1);
    vn_tensor_init(&batch, clip, VN_DTYPE_F32, 5, shape);
    int64_t out_shape[2] = {1, dim};
    vn_tensor_init(&out, emb, VN_DTYPE_F32, 2, out_shape);
    if (vn_video_read_clip(video, &co, &tf, &one) != VN_OK) {
        fail("vn_video_read_clip");
        goto done;
    }
    if (vn_encoder_encode(enc, &batch, &out) != VN_OK) {
        fail("vn_encoder_encode");
        goto done;
    }

    double sq = 0.0;
    for (int64_t i = 0; i < dim; i++)
        sq += (double)emb[i] * emb[i];
    printf("clip: frames %lld.. every %d, shape [%lld, %lld, %lld, %lld], %s normalisation\n", (long long)co.start,
           co.stride, (long long)shape[1], (long long)shape[2], (long long)shape[3], (long long)shape[4], norm);
    printf("embedding (%lld floats, L2 norm %.4f):\n", (long long)dim, sqrt(sq));
    for (int64_t i = 0; i < dim; i++)
        printf("%s%9.5f", i % 8 ? " " : (i ? "\n  " : "  "), emb[i]);
    printf("\n");
    rc = 0;

done:
    free(emb);
    free(clip);
    vn_video_destroy(video);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
    return rc;
}
