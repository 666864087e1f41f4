"""Run the programs of examples/ on fixtures made at test time, and check what they print.

    check_examples.py NAME [ARGS...]

NAME is the example (info, encode_video, train_folder, probe_suite, encode_retrieve,
train_plot, search_folder); ARGS are the built programs it needs, or for the Python
examples the examples/python directory. Videos come from the ffmpeg CLI (SKIP, exit 77,
without it); the Python examples SKIP when this interpreter lacks numpy or matplotlib.
Everything is small, so that each example runs in seconds.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77

# name: (lavfi source, width, height, fps, seconds, extra filter). Different patterns,
# sizes and containers, each long enough for a 16-frame clip every second frame.
VIDEOS = {
    "a.mp4": ("testsrc", 64, 48, 20, 2, None),
    "b.mp4": ("testsrc2", 64, 48, 20, 2, None),
    "c.mkv": ("testsrc", 48, 64, 25, 2, "hue=h=120"),
    "d.mp4": ("mandelbrot", 64, 64, 20, 2, None),
    "e.mp4": ("testsrc2", 80, 48, 20, 2, "negate"),
    "f.mkv": ("rgbtestsrc", 64, 48, 20, 2, None),
}


SCRATCH = []


def scratch(name):
    """A fresh directory under the build tree's tests/tmp (VN_TEST_TMPDIR), kept for a look
    after the run; or under the system's temp directory, removed when the check passes."""
    base = os.environ.get("VN_TEST_TMPDIR")
    if base:
        os.makedirs(base, exist_ok=True)
    path = tempfile.mkdtemp(prefix=f"example_{name}_", dir=base)
    if not base:
        SCRATCH.append(path)
    return path


def run(argv, timeout=300, **kw):
    print("$ " + " ".join(argv), flush=True)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    sys.stdout.write(r.stdout)
    sys.stdout.write(r.stderr)
    assert r.returncode == 0, f"{os.path.basename(argv[0])}: exit {r.returncode}"
    return r.stdout


def need_ffmpeg():
    if not shutil.which("ffmpeg"):
        print("SKIP: the ffmpeg command is not installed (apt-get install ffmpeg)")
        sys.exit(SKIP)


def make_videos(tmp, names=None):
    need_ffmpeg()
    vids = os.path.join(tmp, "vids")
    os.makedirs(vids, exist_ok=True)
    for name in names or VIDEOS:
        src, w, h, fps, secs, vf = VIDEOS[name]
        argv = ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"{src}=size={w}x{h}:rate={fps}",
                "-t", str(secs), "-pix_fmt", "yuv420p"]
        if vf:
            argv += ["-vf", vf]
        subprocess.run(argv + [os.path.join(vids, name)], check=True, timeout=120)
    return vids


def floats(text):
    return [float(x) for x in re.findall(r"-?\d+\.\d+(?:e[-+]\d+)?", text)]


# ---- C and C++ -------------------------------------------------------------------------

def check_info(info):
    out = run([info])
    assert out.startswith("vnative "), out


def check_encode_video(encode, vids, *model_norm):
    out = run([encode, os.path.join(vids, "a.mp4"), *model_norm])
    assert "video: " in out and "64x48, 40 frames" in out, out
    m = re.search(r"embedding \((\d+) floats, L2 norm ([\d.]+)\):\n(.*)", out, re.S)
    assert m, out
    dim, norm, values = int(m.group(1)), float(m.group(2)), floats(m.group(3))
    assert dim == 128 and len(values) == dim, (dim, len(values))
    assert norm > 0 and abs(sum(v * v for v in values) ** 0.5 - norm) < 1e-2 * norm, norm
    return values


def main_encode_video(encode):
    tmp = scratch("encode_video")
    vids = make_videos(tmp, ["a.mp4"])
    a = check_encode_video(encode, vids)
    b = check_encode_video(encode, vids)
    assert max(abs(x - y) for x, y in zip(a, b)) < 1e-4, "the same clip and seed embed the same"
    c = check_encode_video(encode, vids, "xs", "imagenet")
    assert max(abs(x - y) for x, y in zip(a, c)) > 1e-3, "the normalisation changes the input"
    r = subprocess.run([encode, os.path.join(tmp, "missing.mp4")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "missing.mp4" in r.stderr, r.stderr


def train_lines(out, steps):
    rows = [line.split() for line in out.splitlines() if re.match(r"\s*\d+\s+-?\d", line)]
    assert [int(r[0]) for r in rows] == list(range(1, steps + 1)), out
    for r in rows:
        loss, aot = float(r[1]), float(r[2])
        assert 0 < loss < 10 and loss == aot, r  # only aot is trained: the loss is its loss
        assert r[3:7] == ["-"] * 4, r
    return rows


def main_train_folder(train, encode):
    tmp = scratch("train_folder")
    vids = make_videos(tmp)
    out_dir = os.path.join(tmp, "run")
    out = run([train, vids, out_dir, "4"])
    train_lines(out, 4)
    for name in ("model.safetensors", "trainer.safetensors"):
        assert os.path.getsize(os.path.join(out_dir, name)) > 1000, name
    # The checkpoint's weights are what encode_video loads.
    check_encode_video(encode, vids, os.path.join(out_dir, "model.safetensors"), "imagenet")

    # A manifest names the same videos (path[,label]).
    manifest = os.path.join(tmp, "clips.csv")
    with open(manifest, "w") as f:
        f.write("".join(f"{os.path.join(vids, n)},{i % 2}\n" for i, n in enumerate(sorted(VIDEOS))))
    train_lines(run([train, manifest, os.path.join(tmp, "run2"), "2", "aot=1"]), 2)

    r = subprocess.run([train, os.path.join(tmp, "nowhere"), out_dir, "2"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1 and "nowhere" in r.stderr, r.stderr


def main_probe_suite(probe):
    out = run([probe, "xs", "32", "16"])
    rows = {line.split()[0]: line for line in out.splitlines()
            if line.split() and line.split()[0] in ("aot", "gravity", "collision", "order", "speed", "intphys")}
    assert list(rows) == ["aot", "gravity", "collision", "order", "speed", "intphys"], out
    accs = []
    for task, line in rows.items():
        acc, low, high, train = [float(x) for x in re.findall(r"(-?[\d.]+)%", line)]
        assert 0 <= low <= acc <= high <= 100 and 0 <= train <= 100, line
        accs.append(acc)
    mean = float(re.search(r"^mean\s+([\d.]+)%", out, re.M).group(1))
    assert abs(mean - sum(accs) / len(accs)) < 0.1, (mean, accs)


def main_encode_retrieve(retrieve):
    out = run([retrieve])
    assert "indexed 12 clips" in out, out
    near = re.search(r"nearest to world aot clip 0 \(forward\):\n((?:\s+-?[\d.]+\s+.*\n){5})", out)
    assert near, out
    hits = near.group(1).splitlines()
    assert hits[0].split()[0] == "1.0000" and "clip 0 (forward)" in hits[0], hits
    scores = [float(h.split()[0]) for h in hits]
    assert scores == sorted(scores, reverse=True), scores
    assert "12 of 12 clips find themselves first" in out, out

    tmp = scratch("encode_retrieve")
    vids = make_videos(tmp)
    paths = [os.path.join(vids, n) for n in sorted(VIDEOS)]
    out = run([retrieve, "xs"] + paths)
    assert f"indexed {len(paths)} clips" in out and f"{len(paths)} of {len(paths)} clips find themselves first" in out
    r = subprocess.run([retrieve, os.path.join(tmp, "missing.safetensors")], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1 and "missing.safetensors" in r.stderr and "VN_ERR_NOT_FOUND" in r.stderr, r.stderr


# ---- Python ----------------------------------------------------------------------------

def need_python_modules(*names):
    missing = []
    for name in names:
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        print(f"SKIP: {sys.executable} has no {', '.join(missing)} (apt-get install "
              + " ".join("python3-" + m for m in missing) + ")")
        sys.exit(SKIP)


def main_train_plot(examples):
    need_python_modules("numpy", "matplotlib")
    tmp = scratch("train_plot")
    png = os.path.join(tmp, "loss.png")
    ck = os.path.join(tmp, "ck")
    out = run([sys.executable, os.path.join(examples, "train_plot.py"), "--steps", "8", "--batch", "4",
               "--eval-every", "4", "--eval-clips", "8", "--threads", "2", "--save", ck, "--out", png])
    assert re.search(r"final loss \d+\.\d+; held-out loss \d+\.\d+; plot: ", out), out
    with open(png, "rb") as f:
        head = f.read(8)
    assert head == b"\x89PNG\r\n\x1a\n" and os.path.getsize(png) > 10000, (head, os.path.getsize(png))
    assert os.path.isfile(os.path.join(ck, "model.safetensors")), os.listdir(ck)


def main_search_folder(examples):
    need_python_modules("numpy")
    import numpy as np
    tmp = scratch("search_folder")
    vids = make_videos(tmp)
    with open(os.path.join(vids, "notes.txt"), "w") as f:
        f.write("not a video\n")
    script = os.path.join(examples, "search_folder.py")
    prefix = os.path.join(tmp, "emb")
    out = run([sys.executable, script, vids, "--k", "3", "--save", prefix])
    paths = sorted(os.path.join(vids, n) for n in VIDEOS)
    assert f"encoded {len(paths)} videos" in out, out
    blocks = out.split("\n\n")[1:]
    assert len(blocks) == len(paths), out
    for path, block in zip(paths, blocks):
        lines = block.strip().splitlines()
        assert lines[0] == path + ":" and len(lines) == 4, block
        score, first = lines[1].split()
        assert first == path and abs(float(score) - 1.0) < 1e-4, block  # each video finds itself first
    vectors, ids = np.load(prefix + ".npy"), np.load(prefix + ".ids.npy")
    assert vectors.shape == (len(paths), 128) and vectors.dtype == np.float32, vectors.shape
    assert ids.tolist() == list(range(len(paths))), ids
    with open(prefix + ".txt") as f:
        assert f.read().split("\n")[:-1] == paths

    # --query: one block, the query's own file first.
    out = run([sys.executable, script, vids, "--query", paths[2], "--k", "2"])
    block = out.split("\n\n")[1].strip().splitlines()
    assert block[0] == paths[2] + ":" and block[1].split()[1] == paths[2], out


def main():
    name, args = sys.argv[1], sys.argv[2:]
    {
        "info": check_info,
        "encode_video": main_encode_video,
        "train_folder": main_train_folder,
        "probe_suite": main_probe_suite,
        "encode_retrieve": main_encode_retrieve,
        "train_plot": main_train_plot,
        "search_folder": main_search_folder,
    }[name](*args)
    for path in SCRATCH:
        shutil.rmtree(path, ignore_errors=True)
    print(f"example {name}: ok")


if __name__ == "__main__":
    main()
