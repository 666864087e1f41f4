#!/usr/bin/python3
"""The PyAV peer of bench_video (Debian python3-av and python3-numpy; run with /usr/bin/python3).

    peer_pyav.py decode-only FILE REPS     decode every frame, convert none
    peer_pyav.py decode-rgb FILE REPS      decode every frame and convert it with to_ndarray('rgb24')
    peer_pyav.py clips FILE STARTS REPS    the same 16-frame stride-4 clips as bench_video, each a
                                           seek to the keyframe before the first frame, decode forward,
                                           to_ndarray('rgb24') on the kept frames, a random resized crop
                                           to 112 (bilinear, numpy) and float32 CTHW normalisation

One decoder thread (thread_type NONE), as bench_video. Prints one JSON object like bench_video.
Each repetition opens the file and scans its packets once for the pts of every frame (as
vnative's exact mode does at open), so frame indices map to pts exactly.
"""
import json
import math
import random
import resource
import sys
import time

import av
import numpy as np

CLIP_FRAMES = 16
CLIP_STRIDE = 4
CROP = 112
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
# V-JEPA's random resized crop ranges, as vnative's defaults.
RRC_SCALE = (0.3, 1.0)
RRC_RATIO = (0.75, 1.35)


def open_video(path):
    container = av.open(path)
    stream = container.streams.video[0]
    stream.codec_context.thread_count = 1
    stream.codec_context.thread_type = "NONE"
    return container, stream


def frame_pts(path):
    """pts of every frame in presentation order, from one demux pass."""
    container = av.open(path)
    stream = container.streams.video[0]
    pts = sorted(p.pts for p in container.demux(stream) if p.pts is not None and p.size > 0)
    container.close()
    return pts


def rrc_box(rng, height, width):
    """torchvision-style RandomResizedCrop box (top, left, h, w)."""
    area = height * width
    for _ in range(10):
        target = area * rng.uniform(*RRC_SCALE)
        ratio = math.exp(rng.uniform(math.log(RRC_RATIO[0]), math.log(RRC_RATIO[1])))
        w = int(round(math.sqrt(target * ratio)))
        h = int(round(math.sqrt(target / ratio)))
        if 0 < w <= width and 0 < h <= height:
            return rng.randint(0, height - h), rng.randint(0, width - w), h, w
    side = min(height, width)
    return (height - side) // 2, (width - side) // 2, side, side


def bilinear_plan(n_in, n_out):
    x = (np.arange(n_out, dtype=np.float32) + 0.5) * (n_in / n_out) - 0.5
    x = np.clip(x, 0, n_in - 1)
    x0 = np.floor(x).astype(np.intp)
    x1 = np.minimum(x0 + 1, n_in - 1)
    return x0, x1, (x - x0).astype(np.float32)


def resize_bilinear(img, plan_y, plan_x):
    y0, y1, wy = plan_y
    x0, x1, wx = plan_x
    rows0 = img[y0].astype(np.float32)
    rows1 = img[y1].astype(np.float32)
    wx = wx[None, :, None]
    top = rows0[:, x0] + (rows0[:, x1] - rows0[:, x0]) * wx
    bot = rows1[:, x0] + (rows1[:, x1] - rows1[:, x0]) * wx
    return top + (bot - top) * wy[:, None, None]


def read_clip(container, stream, pts, start, seed):
    n = len(pts)
    wanted = [pts[min(start + CLIP_STRIDE * k, n - 1)] for k in range(CLIP_FRAMES)]
    wanted_set = set(wanted)
    container.seek(wanted[0], stream=stream, backward=True, any_frame=False)
    rng = random.Random(seed)
    out = np.empty((3, CLIP_FRAMES, CROP, CROP), dtype=np.float32)
    got = {}
    plan = None
    for frame in container.decode(stream):
        if frame.pts is None or frame.pts < wanted[0]:
            continue
        if frame.pts in wanted_set:
            rgb = frame.to_ndarray(format="rgb24")
            if plan is None:
                top, left, h, w = rrc_box(rng, rgb.shape[0], rgb.shape[1])
                plan = (top, left, h, w, bilinear_plan(h, CROP), bilinear_plan(w, CROP))
            top, left, h, w, py, px = plan
            crop = resize_bilinear(rgb[top:top + h, left:left + w], py, px)
            got[frame.pts] = ((crop * (1.0 / 255.0) - MEAN) / STD).transpose(2, 0, 1)
        if frame.pts >= wanted[-1]:
            break
    for k, p in enumerate(wanted):
        out[:, k] = got[p]
    return out


def main():
    mode, path, reps = sys.argv[1], sys.argv[2], int(sys.argv[-1])
    secs = []
    units = 0
    if mode in ("decode-only", "decode-rgb"):
        for _ in range(reps):
            t0 = time.perf_counter()
            container, stream = open_video(path)
            n = 0
            for frame in container.decode(stream):
                if mode == "decode-rgb":
                    frame.to_ndarray(format="rgb24")
                n += 1
            container.close()
            secs.append(time.perf_counter() - t0)
            units = n
        key = "frames"
    elif mode == "clips":
        with open(sys.argv[3]) as f:
            starts = [int(line) for line in f if line.strip()]
        checksum = 0.0
        for _ in range(reps):
            t0 = time.perf_counter()
            pts = frame_pts(path)
            container, stream = open_video(path)
            for i, start in enumerate(starts):
                clip = read_clip(container, stream, pts, start, i)
                checksum += float(clip.flat[i % clip.size])
            container.close()
            secs.append(time.perf_counter() - t0)
        print(f"peer_pyav clips: checksum {checksum:g}", file=sys.stderr)
        units, key = len(starts), "clips"
    else:
        sys.exit(f"peer_pyav.py: unknown mode {mode}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"workload": mode, key: units, "seconds": secs, "maxrss_kb": rss}))


if __name__ == "__main__":
    main()
