// vnative.hpp: a small header-only C++17 wrapper over the libvnative C API.
//
//   - every handle is owned by a std::unique_ptr with the matching vn_*_destroy, so it is
//     released on every path, exceptions included (vnative::Handle<T>);
//   - a failing call throws vnative::Error, which carries the vn_status and the message
//     of vn_last_error();
//   - Context, Encoder, World and Index cover what a retrieval program needs; get() hands
//     out the raw handle for every other C function.
//
// Copy it next to your program; it needs nothing but <vnative/vnative.h>:
//
//   c++ -std=c++17 app.cpp $(pkg-config --cflags --libs vnative)
#ifndef VNATIVE_HPP
#define VNATIVE_HPP

#include <vnative/vnative.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace vnative {

// A failed vnative call: the status and the library's message.
class Error : public std::runtime_error {
public:
    Error(vn_status status, const std::string &what)
        : std::runtime_error(what + ": " + vn_last_error() + " (" + vn_status_str(status) + ")"), status_(status)
    {
    }
    vn_status status() const noexcept { return status_; }

private:
    vn_status status_;
};

// Throw an Error naming `what` unless status is VN_OK.
inline void check(vn_status status, const char *what)
{
    if (status != VN_OK)
        throw Error(status, what);
}

namespace detail {
template <class T> struct Destroy;
#define VNATIVE_HPP_DESTROY(T, fn)                                                                                    \
    template <> struct Destroy<T> {                                                                                   \
        void operator()(T *p) const noexcept { fn(p); }                                                               \
    };
VNATIVE_HPP_DESTROY(vn_context, vn_context_destroy)
VNATIVE_HPP_DESTROY(vn_encoder, vn_encoder_destroy)
VNATIVE_HPP_DESTROY(vn_index, vn_index_destroy)
VNATIVE_HPP_DESTROY(vn_world, vn_world_destroy)
VNATIVE_HPP_DESTROY(vn_video, vn_video_destroy)
VNATIVE_HPP_DESTROY(vn_trainer, vn_trainer_destroy)
VNATIVE_HPP_DESTROY(vn_loader, vn_loader_destroy)
#undef VNATIVE_HPP_DESTROY
} // namespace detail

// An owning pointer to any vnative handle: Handle<vn_video> v; vn_video_create(...) into it
// through a raw pointer, then v.reset(raw).
template <class T> using Handle = std::unique_ptr<T, detail::Destroy<T>>;

// A contiguous float32 tensor view over data with the given shape (the data is not copied).
inline vn_tensor tensor_f32(const float *data, std::initializer_list<int64_t> shape)
{
    vn_tensor t;
    std::vector<int64_t> s(shape);
    // vn_tensor is a view that the library only reads through const parameters here.
    check(vn_tensor_init(&t, const_cast<float *>(data), VN_DTYPE_F32, static_cast<int>(s.size()), s.data()),
          "vn_tensor_init");
    return t;
}

class Context {
public:
    explicit Context(vn_backend_kind backend = VN_BACKEND_AUTO, int threads = 0, uint64_t seed = 0)
    {
        vn_context_options opts = VN_CONTEXT_OPTIONS_INIT;
        opts.backend = backend;
        opts.n_threads = threads;
        opts.seed = seed;
        vn_context *raw = nullptr;
        check(vn_context_create(&raw, &opts), "vn_context_create");
        h_.reset(raw);
    }
    vn_context *get() const noexcept { return h_.get(); }
    std::string backend() const
    {
        vn_backend_kind kind;
        check(vn_context_backend(get(), &kind), "vn_context_backend");
        return vn_backend_name(kind);
    }
    int threads() const
    {
        int n = 0;
        check(vn_context_threads(get(), &n), "vn_context_threads");
        return n;
    }

private:
    Handle<vn_context> h_;
};

// An encoder. The context must outlive it.
class Encoder {
public:
    // A fresh encoder of a named preset ("xs", "s"): random weights from seed.
    static Encoder preset(const Context &ctx, const char *name = "xs", vn_encoder_family family = VN_ENCODER_VIDEO,
                          uint64_t seed = 0)
    {
        vn_encoder_config cfg;
        check(vn_encoder_config_preset(&cfg, name, family), "vn_encoder_config_preset");
        cfg.seed = seed;
        return create(ctx, cfg);
    }
    static Encoder create(const Context &ctx, const vn_encoder_config &cfg)
    {
        vn_encoder *raw = nullptr;
        check(vn_encoder_create(&raw, ctx.get(), &cfg), "vn_encoder_create");
        return Encoder(raw);
    }
    // The weights file of vn_encoder_save, `vnative train` or vn_trainer_save (model.safetensors).
    static Encoder load(const Context &ctx, const std::string &path)
    {
        vn_encoder *raw = nullptr;
        check(vn_encoder_load(&raw, ctx.get(), path.c_str()), path.c_str());
        return Encoder(raw);
    }

    vn_encoder *get() const noexcept { return h_.get(); }
    vn_encoder_config config() const
    {
        vn_encoder_config cfg;
        check(vn_encoder_get_config(get(), &cfg), "vn_encoder_get_config");
        return cfg;
    }
    // The embedding width D.
    int64_t dim() const
    {
        int64_t tokens = 0, d = 0;
        check(vn_encoder_output_shape(get(), &tokens, &d), "vn_encoder_output_shape");
        return d;
    }
    // Floats in one clip, C * T * H * W.
    int64_t clip_floats() const
    {
        vn_encoder_config c = config();
        return static_cast<int64_t>(c.channels) * c.frames * c.size * c.size;
    }
    // Embed n clips, float32 [n, C, T, H, W] contiguous: n * dim() floats, row-major.
    std::vector<float> encode(const float *clips, int64_t n) const
    {
        vn_encoder_config c = config();
        int64_t d = dim();
        std::vector<float> out(static_cast<size_t>(n * d));
        vn_tensor in = tensor_f32(clips, {n, c.channels, c.frames, c.size, c.size});
        vn_tensor emb = tensor_f32(out.data(), {n, d});
        check(vn_encoder_encode(get(), &in, &emb), "vn_encoder_encode");
        return out;
    }
    void save(const std::string &path) const { check(vn_encoder_save(get(), path.c_str()), path.c_str()); }

private:
    explicit Encoder(vn_encoder *raw) : h_(raw) {}
    Handle<vn_encoder> h_;
};

// Procedural physics clips with known labels (vn_world).
class World {
public:
    explicit World(const vn_world_options &opts) : opts_(opts)
    {
        vn_world *raw = nullptr;
        check(vn_world_create(&raw, &opts), "vn_world_create");
        h_.reset(raw);
    }
    // The options of a world whose clips fit an encoder: its frames, size and channels.
    static vn_world_options options_for(const vn_encoder_config &cfg, uint64_t seed)
    {
        vn_world_options o = VN_WORLD_OPTIONS_INIT;
        o.seed = seed;
        o.n_frames = cfg.frames;
        o.size = cfg.size;
        o.channels = cfg.channels;
        return o;
    }
    vn_world *get() const noexcept { return h_.get(); }
    // Clips first .. first+n-1 of a binary task as float32 [n, C, T, H, W], and their labels.
    std::vector<float> clips(vn_world_task task, int64_t first, int64_t n, std::vector<int> *labels = nullptr) const
    {
        std::vector<float> out(static_cast<size_t>(n) * opts_.channels * opts_.n_frames * opts_.size * opts_.size);
        vn_tensor t = tensor_f32(out.data(), {n, opts_.channels, opts_.n_frames, opts_.size, opts_.size});
        if (labels)
            labels->resize(static_cast<size_t>(n));
        check(vn_world_batch(get(), task, first, &t, labels ? labels->data() : nullptr), "vn_world_batch");
        return out;
    }

private:
    vn_world_options opts_;
    Handle<vn_world> h_;
};

// Exact nearest-neighbour search over embeddings (vn_index). The context must outlive it.
class Index {
public:
    struct Hit {
        int64_t id;  // as given to add(); -1 past the end of a short index
        float score; // cosine or inner product
    };

    Index(const Context &ctx, int64_t dim, vn_index_metric metric = VN_INDEX_COSINE)
    {
        vn_index *raw = nullptr;
        check(vn_index_create(&raw, ctx.get(), dim, metric), "vn_index_create");
        h_.reset(raw);
    }
    // The .npy files of save() (or of `vnative encode`); ids_path may be empty.
    static Index load(const Context &ctx, const std::string &vectors_path, const std::string &ids_path = "",
                      vn_index_metric metric = VN_INDEX_COSINE)
    {
        vn_index *raw = nullptr;
        check(vn_index_load(&raw, ctx.get(), vectors_path.c_str(), ids_path.empty() ? nullptr : ids_path.c_str(),
                            metric),
              vectors_path.c_str());
        return Index(raw);
    }

    vn_index *get() const noexcept { return h_.get(); }
    int64_t size() const
    {
        int64_t n = 0;
        check(vn_index_size(get(), &n), "vn_index_size");
        return n;
    }
    int64_t dim() const
    {
        int64_t d = 0;
        check(vn_index_dim(get(), &d), "vn_index_dim");
        return d;
    }
    // Append n vectors, float32 [n, dim()] contiguous; ids may be null (rows are numbered).
    void add(const float *vectors, int64_t n, const int64_t *ids = nullptr)
    {
        vn_tensor t = tensor_f32(vectors, {n, dim()});
        check(vn_index_add(get(), &t, ids), "vn_index_add");
    }
    void add(const std::vector<float> &vectors, const std::vector<int64_t> &ids = {})
    {
        int64_t n = static_cast<int64_t>(vectors.size()) / dim();
        if (!ids.empty() && static_cast<int64_t>(ids.size()) != n)
            throw std::invalid_argument("Index::add: one id per vector");
        add(vectors.data(), n, ids.empty() ? nullptr : ids.data());
    }
    // The k best stored vectors of each of nq queries (float32 [nq, dim()]), best first.
    std::vector<std::vector<Hit>> search(const float *queries, int64_t nq, int64_t k) const
    {
        std::vector<int64_t> ids(static_cast<size_t>(nq * k));
        std::vector<float> scores(ids.size());
        vn_tensor q = tensor_f32(queries, {nq, dim()});
        check(vn_index_search(get(), &q, k, ids.data(), scores.data()), "vn_index_search");
        std::vector<std::vector<Hit>> out(static_cast<size_t>(nq));
        for (int64_t i = 0; i < nq; i++)
            for (int64_t j = 0; j < k; j++)
                out[i].push_back({ids[i * k + j], scores[i * k + j]});
        return out;
    }
    void save(const std::string &vectors_path, const std::string &ids_path) const
    {
        check(vn_index_save(get(), vectors_path.c_str(), ids_path.c_str()), vectors_path.c_str());
    }

private:
    explicit Index(vn_index *raw) : h_(raw) {}
    Handle<vn_index> h_;
};

} // namespace vnative

#endif
