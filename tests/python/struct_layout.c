/*
 * struct_layout.c: the size and field offsets of every public struct the Python bindings
 * mirror, as the C compiler lays them out, printed as JSON for test_bindings_layout.py.
 * The field lists are transcribed from the headers independently of the ctypes classes
 * in bindings/python/vnative/_types.py, so a field missing, misnamed, reordered or of
 * another width on either side shows up as a difference.
 */
#include <stddef.h>
#include <stdio.h>

#include <vnative/vnative.h>

static int first_struct = 1, first_field = 1;

static void begin(const char *name, size_t size)
{
    printf("%s\n  \"%s\": {\"size\": %zu, \"fields\": [", first_struct ? "{" : ",", name, size);
    first_struct = 0;
    first_field = 1;
}

static void field(const char *name, size_t offset, size_t size)
{
    printf("%s[\"%s\", %zu, %zu]", first_field ? "" : ", ", name, offset, size);
    first_field = 0;
}

static void end(void) { printf("]}"); }

#define S(type) begin(#type, sizeof(type))
#define F(type, f) field(#f, offsetof(type, f), sizeof(((type *)0)->f))

int main(void)
{
    S(vn_context_options);
    F(vn_context_options, version); F(vn_context_options, backend); F(vn_context_options, n_threads);
    F(vn_context_options, seed); F(vn_context_options, deterministic); F(vn_context_options, device);
    end();

    S(vn_device_info);
    F(vn_device_info, version); F(vn_device_info, backend); F(vn_device_info, index); F(vn_device_info, name);
    F(vn_device_info, memory_bytes); F(vn_device_info, compute_units); F(vn_device_info, capability_major);
    F(vn_device_info, capability_minor);
    end();

    S(vn_tensor);
    F(vn_tensor, data); F(vn_tensor, dtype); F(vn_tensor, ndim); F(vn_tensor, shape); F(vn_tensor, strides);
    end();

    S(vn_video_open_options);
    F(vn_video_open_options, version); F(vn_video_open_options, approximate); F(vn_video_open_options, n_threads);
    F(vn_video_open_options, timeout_s);
    end();

    S(vn_video_info);
    F(vn_video_info, version); F(vn_video_info, width); F(vn_video_info, height); F(vn_video_info, coded_width);
    F(vn_video_info, coded_height); F(vn_video_info, rotation); F(vn_video_info, n_frames);
    F(vn_video_info, n_frames_exact); F(vn_video_info, n_keyframes); F(vn_video_info, duration_s);
    F(vn_video_info, avg_fps); F(vn_video_info, time_base_num); F(vn_video_info, time_base_den);
    F(vn_video_info, variable_frame_rate); F(vn_video_info, full_range); F(vn_video_info, codec);
    F(vn_video_info, pixel_format); F(vn_video_info, color_space);
    end();

    S(vn_clip_options);
    F(vn_clip_options, version); F(vn_clip_options, n_frames); F(vn_clip_options, stride);
    F(vn_clip_options, target_fps); F(vn_clip_options, start); F(vn_clip_options, reverse); F(vn_clip_options, seed);
    end();

    S(vn_transform_options);
    F(vn_transform_options, version); F(vn_transform_options, short_side); F(vn_transform_options, crop_size);
    F(vn_transform_options, random_resized_crop); F(vn_transform_options, rrc_scale);
    F(vn_transform_options, rrc_ratio); F(vn_transform_options, hflip_prob); F(vn_transform_options, grayscale);
    F(vn_transform_options, mean); F(vn_transform_options, std); F(vn_transform_options, seed);
    end();

    S(vn_video_writer_options);
    F(vn_video_writer_options, version); F(vn_video_writer_options, width); F(vn_video_writer_options, height);
    F(vn_video_writer_options, channels); F(vn_video_writer_options, fps); F(vn_video_writer_options, codec);
    F(vn_video_writer_options, quality); F(vn_video_writer_options, gop); F(vn_video_writer_options, bframes);
    end();

    S(vn_loader_options);
    F(vn_loader_options, version); F(vn_loader_options, source); F(vn_loader_options, batch_size);
    F(vn_loader_options, n_workers); F(vn_loader_options, prefetch); F(vn_loader_options, shuffle);
    F(vn_loader_options, drop_last); F(vn_loader_options, seed); F(vn_loader_options, timeout_s);
    F(vn_loader_options, dtype); F(vn_loader_options, clip); F(vn_loader_options, transform);
    end();

    S(vn_loader_stats);
    F(vn_loader_stats, version); F(vn_loader_stats, n_items); F(vn_loader_stats, n_loaded);
    F(vn_loader_stats, n_skipped); F(vn_loader_stats, n_skipped_total); F(vn_loader_stats, queue_peak);
    end();

    S(vn_world_options);
    F(vn_world_options, version); F(vn_world_options, seed); F(vn_world_options, n_frames);
    F(vn_world_options, size); F(vn_world_options, channels); F(vn_world_options, noise);
    F(vn_world_options, jitter); F(vn_world_options, textured); F(vn_world_options, n_threads);
    F(vn_world_options, mean); F(vn_world_options, std); F(vn_world_options, future_context);
    F(vn_world_options, future_candidates);
    end();

    S(vn_encoder_config);
    F(vn_encoder_config, version); F(vn_encoder_config, family); F(vn_encoder_config, frames);
    F(vn_encoder_config, size); F(vn_encoder_config, channels); F(vn_encoder_config, patch);
    F(vn_encoder_config, tubelet_t); F(vn_encoder_config, dim); F(vn_encoder_config, depth);
    F(vn_encoder_config, heads); F(vn_encoder_config, mlp_ratio); F(vn_encoder_config, pooling);
    F(vn_encoder_config, attention); F(vn_encoder_config, pos); F(vn_encoder_config, temporal_depth);
    F(vn_encoder_config, seed); F(vn_encoder_config, init_std);
    end();

    S(vn_train_metrics);
    F(vn_train_metrics, version); F(vn_train_metrics, is_eval); F(vn_train_metrics, step);
    F(vn_train_metrics, clips_seen); F(vn_train_metrics, loss); F(vn_train_metrics, losses);
    F(vn_train_metrics, accuracy); F(vn_train_metrics, grad_norm); F(vn_train_metrics, lr);
    F(vn_train_metrics, clips_per_s); F(vn_train_metrics, elapsed_s);
    end();

    S(vn_train_options);
    F(vn_train_options, version); F(vn_train_options, objectives); F(vn_train_options, data);
    F(vn_train_options, eval_data); F(vn_train_options, batch); F(vn_train_options, total_steps);
    F(vn_train_options, lr); F(vn_train_options, min_lr); F(vn_train_options, warmup_steps);
    F(vn_train_options, weight_decay); F(vn_train_options, beta1); F(vn_train_options, beta2);
    F(vn_train_options, eps); F(vn_train_options, grad_clip); F(vn_train_options, seed);
    F(vn_train_options, jepa_mask_ratio); F(vn_train_options, ema_start); F(vn_train_options, ema_end);
    F(vn_train_options, predictor_dim); F(vn_train_options, predictor_depth); F(vn_train_options, predictor_heads);
    F(vn_train_options, future_tau); F(vn_train_options, num_classes); F(vn_train_options, eval_every);
    F(vn_train_options, eval_clips); F(vn_train_options, loader_workers); F(vn_train_options, callback);
    F(vn_train_options, callback_user);
    end();

    S(vn_train_dist);
    F(vn_train_dist, version); F(vn_train_dist, rank); F(vn_train_dist, world_size);
    F(vn_train_dist, allreduce_sum); F(vn_train_dist, user); F(vn_train_dist, comm_id);
    F(vn_train_dist, comm_id_len);
    end();

    S(vn_probe_result);
    F(vn_probe_result, version); F(vn_probe_result, accuracy); F(vn_probe_result, ci_low);
    F(vn_probe_result, ci_high); F(vn_probe_result, train_accuracy); F(vn_probe_result, val_accuracy);
    F(vn_probe_result, weight_decay); F(vn_probe_result, n_train); F(vn_probe_result, n_test);
    end();

    S(vn_linear_probe_options);
    F(vn_linear_probe_options, version); F(vn_linear_probe_options, weight_decays);
    F(vn_linear_probe_options, n_weight_decays); F(vn_linear_probe_options, val_fraction);
    F(vn_linear_probe_options, max_iter); F(vn_linear_probe_options, bootstrap);
    F(vn_linear_probe_options, confidence); F(vn_linear_probe_options, seed);
    end();

    S(vn_knn_probe_options);
    F(vn_knn_probe_options, version); F(vn_knn_probe_options, k); F(vn_knn_probe_options, temperature);
    F(vn_knn_probe_options, bootstrap); F(vn_knn_probe_options, confidence); F(vn_knn_probe_options, seed);
    end();

    S(vn_window_options);
    F(vn_window_options, version); F(vn_window_options, frame_step); F(vn_window_options, window_stride);
    F(vn_window_options, max_windows); F(vn_window_options, mean); F(vn_window_options, std);
    end();

    S(vn_real_aot_options);
    F(vn_real_aot_options, version); F(vn_real_aot_options, window); F(vn_real_aot_options, folds);
    F(vn_real_aot_options, bootstrap); F(vn_real_aot_options, confidence); F(vn_real_aot_options, seed);
    end();

    S(vn_future_probe_options);
    F(vn_future_probe_options, version); F(vn_future_probe_options, map); F(vn_future_probe_options, batch);
    F(vn_future_probe_options, bootstrap); F(vn_future_probe_options, confidence); F(vn_future_probe_options, seed);
    end();

    S(vn_future_probe_result);
    F(vn_future_probe_result, version); F(vn_future_probe_result, r1); F(vn_future_probe_result, r1_ci_low);
    F(vn_future_probe_result, r1_ci_high); F(vn_future_probe_result, r5); F(vn_future_probe_result, mrr);
    F(vn_future_probe_result, hard_negative); F(vn_future_probe_result, hard_ci_low);
    F(vn_future_probe_result, hard_ci_high); F(vn_future_probe_result, ridge); F(vn_future_probe_result, n_queries);
    F(vn_future_probe_result, candidates);
    end();

    S(vn_timevec_options);
    F(vn_timevec_options, version); F(vn_timevec_options, alpha); F(vn_timevec_options, bootstrap);
    F(vn_timevec_options, confidence); F(vn_timevec_options, seed);
    end();

    S(vn_timevec_result);
    F(vn_timevec_result, version); F(vn_timevec_result, sign_accuracy); F(vn_timevec_result, ci_low);
    F(vn_timevec_result, ci_high); F(vn_timevec_result, pair_accuracy); F(vn_timevec_result, reversal_r1);
    F(vn_timevec_result, reversal_r1_base); F(vn_timevec_result, mean_gap); F(vn_timevec_result, n);
    end();

    printf("\n}\n");
    return 0;
}
