#!/usr/bin/python3
"""Contact sheets of the vn_world tasks for docs/WORLD.md.

    scripts/world_sheets.py VNATIVE_CLI OUT_DIR [--size 64] [--seed 7] [--noise 0]

Runs `vnative world --format npy` for every task and writes OUT_DIR/world_<task>.png:
one row per kind of clip (each aot scenario, each collision or intphys variant, each
order or speed or gravity variant: the first such clip of the task's first 40), 8
frames per row (every other frame of 16). A strip on the left of each row gives the
label: green for 1, orange for 0. For the future task the rows are the context, then
the candidates in the order true, reversed, shifted, other (strips: context gray, true
green, the rest orange).

Needs numpy only (the PNG writer is zlib + struct).
"""
import argparse
import csv
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np

TASKS = ["aot", "gravity", "collision", "order", "speed", "intphys", "future"]
GREEN = (60, 200, 90)
ORANGE = (240, 150, 40)
GRAY = (150, 150, 150)
GAP = 2
STRIP = 6


def write_png(path, img):
    h, w, _ = img.shape
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))

    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def sheet(rows):
    """rows: list of (colour, frames [n, S, S, 3]) -> one image."""
    n = max(len(f) for _, f in rows)
    s = rows[0][1].shape[1]
    h = len(rows) * (s + GAP) + GAP
    w = STRIP + GAP + n * (s + GAP) + GAP - GAP
    img = np.full((h, w + GAP, 3), 255, np.uint8)
    for r, (colour, frames) in enumerate(rows):
        y = GAP + r * (s + GAP)
        img[y:y + s, GAP:GAP + STRIP] = colour
        for k, fr in enumerate(frames):
            x = STRIP + 2 * GAP + k * (s + GAP)
            img[y:y + s, x:x + s] = fr
    return img


def run(cli, task, out, size, seed, noise, count):
    subprocess.run([cli, "world", "--task", task, "--count", str(count), "--frames", "16", "--size", str(size),
                    "--seed", str(seed), "--noise", str(noise), "--format", "npy", "--out", out], check=True)
    with open(os.path.join(out, "manifest.csv")) as f:
        return list(csv.DictReader(f))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cli")
    ap.add_argument("out_dir")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=7)
    # Without pixel noise the sheets compress ten times better; 2% noise is invisible at this scale.
    ap.add_argument("--noise", type=float, default=0.0)
    a = ap.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for task in TASKS:
            d = os.path.join(tmp, task)
            rows = run(a.cli, task, d, a.size, a.seed, a.noise, 1 if task == "future" else 40)
            if task == "future":
                row = rows[0]
                ctx = np.load(os.path.join(d, row["path"]))
                cand = np.load(os.path.join(d, row["path"].replace(".npy", "_candidates.npy")))
                kinds = json.loads(row["params"])["kinds"]
                lines = [(GRAY, ctx[:8])]
                for want in (0, 1, 2, 3):
                    k = kinds.index(want)
                    lines.append((GREEN if want == 0 else ORANGE, cand[k][:8]))
            else:
                key = "scenario" if task == "aot" else "variant"
                seen = {}
                for row in rows:
                    kind = json.loads(row["params"])[key]
                    if kind not in seen:
                        seen[kind] = row
                lines = []
                for kind, row in seen.items():
                    clip = np.load(os.path.join(d, row["path"]))
                    lines.append((GREEN if row["label"] == "1" else ORANGE, clip[::2][:8]))
                    print("%s row %d: %s (label %s)" % (task, len(lines), kind, row["label"]), file=sys.stderr)
            path = os.path.join(a.out_dir, "world_%s.png" % task)
            write_png(path, sheet(lines))
            print(path, file=sys.stderr)


if __name__ == "__main__":
    main()
