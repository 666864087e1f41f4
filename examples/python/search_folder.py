"""Encode every video of a folder with vnative.Encoder and search them with vnative.Index.

    PYTHONPATH=bindings/python VNATIVE_LIBRARY=build/libvnative.so \\
        python3 examples/python/search_folder.py VIDEOS/ --model runs/aot/model.safetensors \\
        [--query CLIP.mp4] [--k 5] [--save emb]

One clip per video (the encoder's frames, every --stride-th frame, from the middle of
the video; resized and centre-cropped to its size, normalised to vn_world's scale as
`vnative encode` does) is embedded; the embeddings go into an
exact cosine index with the videos' positions as ids. Every video is then a query, or
only --query when given, and its k nearest videos are printed. --save PREFIX writes
PREFIX.npy (float32 [n, D]), PREFIX.ids.npy (int64 [n]) and PREFIX.txt (one path per
id), which Index.load, numpy and FAISS read. Without --model a fresh xs encoder (random
weights) is used. Needs numpy (Debian: python3-numpy).
"""
import argparse
import os
import sys

try:
    import numpy as np
except ImportError as exc:
    sys.exit(f"search_folder.py needs numpy ({exc}): apt-get install python3-numpy")

import vnative  # noqa: E402

EXTENSIONS = (".mp4", ".mkv", ".avi", ".webm", ".mov", ".m4v")


def read_clip(path, enc, stride):
    """One float32 [C, T, H, W] clip of path, shaped for enc."""
    channels, frames, size, _ = enc.input_shape
    with vnative.Video(path) as video:
        span = (frames - 1) * stride + 1
        start = max(0, (video.n_frames - span) // 2)
        return video.read_clip(n_frames=frames, stride=stride, start=start,
                               transform={"short_side": size, "crop_size": size, "grayscale": int(channels == 1),
                                          "mean": (0.5, 0.5, 0.5), "std": (0.25, 0.25, 0.25)})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", help="a directory of videos")
    ap.add_argument("--model", default=None, help="a model.safetensors (default: a fresh xs encoder)")
    ap.add_argument("--query", default=None, help="a video to search for (default: every video of the folder)")
    ap.add_argument("--k", type=int, default=5, help="neighbours per query (default 5)")
    ap.add_argument("--stride", type=int, default=2, help="source frames between a clip's frames (default 2)")
    ap.add_argument("--save", default=None, help="write PREFIX.npy, PREFIX.ids.npy and PREFIX.txt")
    args = ap.parse_args()

    paths = sorted(os.path.join(args.folder, n) for n in os.listdir(args.folder) if n.lower().endswith(EXTENSIONS))
    if not paths:
        print(f"search_folder.py: no videos in {args.folder}", file=sys.stderr)
        return 1

    with vnative.Context(seed=0) as ctx:
        enc = vnative.Encoder.load(ctx, args.model) if args.model else vnative.Encoder(ctx, "xs", seed=1)
        print(f"encoder {args.model or 'xs (fresh weights)'}: {enc.family}, input {enc.input_shape}, {enc.dim} dimensions")

        # Embed the folder, a few clips at a time.
        emb = np.empty((len(paths), enc.dim), dtype=np.float32)
        batch = 8
        for at in range(0, len(paths), batch):
            clips = np.stack([read_clip(p, enc, args.stride) for p in paths[at:at + batch]])
            emb[at:at + len(clips)] = enc.encode(clips)
        print(f"encoded {len(paths)} videos from {args.folder}")

        index = vnative.Index(ctx, enc.dim, metric="cosine")
        index.add(emb, np.arange(len(paths), dtype=np.int64))
        if args.save:
            index.save(args.save + ".npy", args.save + ".ids.npy")
            with open(args.save + ".txt", "w") as f:
                f.write("".join(p + "\n" for p in paths))
            print(f"index: {args.save}.npy, {args.save}.ids.npy, {args.save}.txt")

        if args.query:
            names, queries = [args.query], enc.encode(read_clip(args.query, enc, args.stride)[None])
        else:
            names, queries = paths, emb
        k = min(args.k, len(index))
        ids, scores = index.search(queries, k)
        for name, row_ids, row_scores in zip(names, ids, scores):
            print(f"\n{name}:")
            for i, s in zip(row_ids, row_scores):
                print(f"  {s:8.4f}  {paths[i]}")
        index.close()
        enc.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
