"""Fixtures of the `vnative encode` and `vnative retrieve` checks, made at test time: small
videos from the ffmpeg CLI (SKIP, exit 77, without it), corrupt files beside them, and a
checkpoint from two steps of `vnative train`."""
import ast
import json
import os
import shutil
import struct
import subprocess
import sys
from array import array

SKIP = 77

# name: (lavfi source, width, height, fps, seconds). Different sizes, rates and containers.
VIDEOS = {
    "a.mp4": ("testsrc", 64, 48, 25, 4),
    "b.mp4": ("testsrc2", 64, 48, 25, 6),
    "c.mkv": ("testsrc", 48, 64, 10, 3),
    "short.mp4": ("testsrc2", 64, 48, 25, 0.6),
}
GOOD = sorted(VIDEOS)


def run(cli, cmd, *args, code=0):
    r = subprocess.run([cli, cmd, *args], capture_output=True, text=True, timeout=300)
    assert r.returncode == code, \
        f"vnative {cmd} {' '.join(args)}: exit {r.returncode}, wanted {code}\n{r.stdout}\n{r.stderr}"
    return r


def need_ffmpeg():
    if not shutil.which("ffmpeg"):
        print("SKIP: the ffmpeg command is not installed")
        sys.exit(SKIP)


def make_video(path, src, w, h, fps, secs):
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"{src}=size={w}x{h}:rate={fps}",
                    "-t", str(secs), "-pix_fmt", "yuv420p", path], check=True, timeout=120)


def make_videos(tmp):
    """tmp/vids: the good videos, bad.mp4 (random bytes), empty.mp4 (no bytes), a text file
    and a subdirectory that the listing must not enter."""
    vids = os.path.join(tmp, "vids")
    os.makedirs(os.path.join(vids, "sub"))
    for name, spec in VIDEOS.items():
        make_video(os.path.join(vids, name), *spec)
    make_video(os.path.join(vids, "sub", "nested.mp4"), "testsrc", 64, 48, 25, 1)
    with open(os.path.join(vids, "bad.mp4"), "wb") as f:
        f.write(os.urandom(4096))
    open(os.path.join(vids, "empty.mp4"), "wb").close()
    with open(os.path.join(vids, "notes.txt"), "w") as f:
        f.write("not a video\n")
    return vids


def make_checkpoint(cli, tmp):
    """A checkpoint directory of an xs video encoder after two training steps."""
    ck = os.path.join(tmp, "ck")
    run(cli, "train", "--model", "xs", "--steps", "2", "--batch", "2", "--eval-every", "0", "--threads", "2",
        "--out", ck)
    assert os.path.isfile(os.path.join(ck, "model.safetensors")), os.listdir(ck)
    return ck


def duration(cli, path):
    return json.loads(run(cli, "probe-video", path, "--json").stdout)["duration_s"]


def read_npy(path):
    """(dtype descr, shape, flat values) of a C-order .npy, read by hand."""
    with open(path, "rb") as f:
        blob = f.read()
    assert blob[:6] == b"\x93NUMPY", path
    major = blob[6]
    if major == 1:
        (hlen,) = struct.unpack("<H", blob[8:10])
        start = 10
    else:
        (hlen,) = struct.unpack("<I", blob[8:12])
        start = 12
    header = ast.literal_eval(blob[start:start + hlen].decode("latin1"))  # a Python dict literal
    assert not header["fortran_order"], header
    codes = {"<f4": "f", "<i8": "q", "|u1": "B"}
    data = array(codes[header["descr"]])
    data.frombytes(blob[start + hlen:])
    return header["descr"], tuple(header["shape"]), data


def read_ids(path):
    """The rows of an ids CSV: [(row, source, start_s, end_s)], after checking the header."""
    import csv
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["row", "source", "start_s", "end_s"], rows[0]
    return [(int(r[0]), r[1], float(r[2]), float(r[3])) for r in rows[1:]]
