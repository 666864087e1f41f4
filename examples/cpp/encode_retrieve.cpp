// Encode a few clips, put their embeddings in a vn_index, and retrieve the nearest
// neighbours of one of them, through the RAII wrapper of vnative.hpp.
//
//   encode_retrieve [MODEL.safetensors|xs] [VIDEO ...]
//
// Without videos the clips are 12 procedural physics clips of the arrow-of-time task
// (vn_world, labels: 1 played forward, 0 reversed); with videos, one clip from the middle
// of each file. The encoder is a model file or a fresh xs preset (random weights).
//
//   c++ -std=c++17 -I. encode_retrieve.cpp $(pkg-config --cflags --libs vnative)
#include "vnative.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace {

// One clip of a video file, float32 [C, T, H, W] for the encoder: its frames every second
// frame from the middle, short side resized and centre-cropped to its size, normalised as
// (x / 255 - 0.5) / 0.25, the scale of vn_world's clips (and of `vnative encode`).
std::vector<float> video_clip(const std::string &path, const vn_encoder_config &cfg)
{
    vn_video *raw = nullptr;
    vnative::check(vn_video_create(&raw, path.c_str(), nullptr), path.c_str());
    vnative::Handle<vn_video> video(raw);
    vn_video_info info = VN_VIDEO_INFO_INIT;
    vnative::check(vn_video_get_info(video.get(), &info), path.c_str());

    vn_clip_options co = VN_CLIP_OPTIONS_INIT;
    co.n_frames = cfg.frames;
    co.stride = 2;
    int64_t span = static_cast<int64_t>(cfg.frames - 1) * co.stride + 1;
    co.start = info.n_frames > span ? (info.n_frames - span) / 2 : 0;
    vn_transform_options tf = VN_TRANSFORM_OPTIONS_INIT;
    tf.short_side = cfg.size;
    tf.crop_size = cfg.size;
    tf.grayscale = cfg.channels == 1;
    for (int c = 0; c < 3; c++) {
        tf.mean[c] = 0.5f;
        tf.std[c] = 0.25f;
    }

    std::vector<float> clip(static_cast<size_t>(cfg.channels) * cfg.frames * cfg.size * cfg.size);
    vn_tensor t = vnative::tensor_f32(clip.data(), {cfg.channels, cfg.frames, cfg.size, cfg.size});
    vnative::check(vn_video_read_clip(video.get(), &co, &tf, &t), path.c_str());
    return clip;
}

} // namespace

int main(int argc, char **argv)
{
    try {
        std::string model = argc > 1 ? argv[1] : "xs";
        std::vector<std::string> videos(argv + std::min(argc, 2), argv + argc);

        vnative::Context ctx;
        vnative::Encoder enc = model == "xs" ? vnative::Encoder::preset(ctx, "xs", VN_ENCODER_VIDEO, 1)
                                             : vnative::Encoder::load(ctx, model);
        const vn_encoder_config cfg = enc.config();
        std::printf("encoder %s (%s) on the %s backend, %lld dimensions\n", model.c_str(),
                    vn_encoder_family_name(cfg.family), ctx.backend().c_str(), static_cast<long long>(enc.dim()));

        // The clips, float32 [n, C, T, H, W], and a name for each.
        std::vector<float> clips;
        std::vector<std::string> names;
        if (videos.empty()) {
            vnative::World world(vnative::World::options_for(cfg, 99));
            std::vector<int> labels;
            clips = world.clips(VN_TASK_AOT, 0, 12, &labels);
            for (size_t i = 0; i < labels.size(); i++)
                names.push_back("world aot clip " + std::to_string(i) + (labels[i] ? " (forward)" : " (reversed)"));
        } else {
            for (const std::string &path : videos) {
                std::vector<float> c = video_clip(path, cfg);
                clips.insert(clips.end(), c.begin(), c.end());
                names.push_back(path);
            }
        }
        const int64_t n = static_cast<int64_t>(names.size());
        std::vector<float> emb = enc.encode(clips.data(), n);

        // The index: cosine similarity, the ids are the clips' positions.
        vnative::Index index(ctx, enc.dim(), VN_INDEX_COSINE);
        std::vector<int64_t> ids(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; i++)
            ids[i] = i;
        index.add(emb, ids);
        std::printf("indexed %lld clips\n", static_cast<long long>(index.size()));

        // Every clip queries the index; the first one's neighbours are printed.
        const int64_t k = std::min<int64_t>(5, n);
        std::vector<std::vector<vnative::Index::Hit>> hits = index.search(emb.data(), n, k);
        std::printf("\nnearest to %s:\n", names[0].c_str());
        for (const vnative::Index::Hit &h : hits[0])
            std::printf("  %8.4f  %s\n", h.score, names[h.id].c_str());
        int self = 0;
        for (int64_t i = 0; i < n; i++)
            self += hits[i][0].id == i;
        std::printf("\n%d of %lld clips find themselves first\n", self, static_cast<long long>(n));
        return 0;
    } catch (const vnative::Error &e) {
        std::fprintf(stderr, "encode_retrieve: %s\n", e.what());
        return 1;
    }
}
