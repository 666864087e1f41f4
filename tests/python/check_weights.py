"""The weights_interop test: read a vnative weights file with nothing but json, struct and numpy.

  check_weights.py SAVE_WEIGHTS_EXE

Runs the C helper tests/save_weights.c (an xs video encoder, seed 1234) into a scratch
directory, then parses its model.safetensors by hand and checks, independently of vnative's
code: the header and data layout, the __metadata__ keys and the config JSON, the parameter
names and shapes derived here from the config (PyTorch layouts: Linear [out, in], Conv3d
[out, in, kt, kh, kw]), F32 everywhere, and the values, bit for bit, against .npy dumps.

Exit 0 on success, 1 with a message on a mismatch, 77 (SKIP) when numpy is missing.
"""
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

SKIP = 77


def ensure_numpy():
    """/usr/bin/python3 has numpy; the python3 meson found may not (a pyenv one, say)."""
    try:
        import numpy  # noqa: F401
        return
    except ImportError:
        pass
    candidate = "/usr/bin/python3"
    if os.environ.get("VN_WEIGHTS_REEXEC") != "1" and os.path.exists(candidate) \
            and os.path.realpath(candidate) != os.path.realpath(sys.executable):
        if subprocess.run([candidate, "-c", "import numpy"], capture_output=True).returncode == 0:
            os.execve(candidate, [candidate] + sys.argv, dict(os.environ, VN_WEIGHTS_REEXEC="1"))
    print("SKIP: numpy is not installed for %s (nor for %s)" % (sys.executable, candidate))
    sys.exit(SKIP)


ensure_numpy()
import numpy as np  # noqa: E402

DTYPES = {"F32": "<f4", "U8": "u1", "I32": "<i4", "I64": "<i8", "BF16": "<u2"}

# What save_weights.c builds: the xs preset of the video family, seed 1234.
EXPECTED_CONFIG = {
    "version": 1, "family": "video", "frames": 16, "size": 32, "channels": 3, "patch": 8,
    "tubelet_t": 2, "dim": 128, "depth": 4, "heads": 4, "mlp_ratio": 4.0, "pooling": "mean",
    "attention": "joint", "pos": "learned", "temporal_depth": 2, "seed": 1234, "init_std": 0.02,
}

errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)
    return cond


def c_round(x):
    """C's lroundf for positive x (Python's round() rounds halves to even)."""
    return int(math.floor(x + 0.5))


def expected_params(cfg):
    """Parameter name -> shape, from the config alone (mirrors docs/CHECKPOINTS.md)."""
    D = cfg["dim"]
    H = c_round(D * np.float32(cfg["mlp_ratio"]))
    video = cfg["family"] == "video"
    tt = cfg["tubelet_t"] if video else 1
    p = cfg["patch"]
    S = (cfg["size"] // p) ** 2
    out = {"patch_embed.proj.weight": (D, cfg["channels"], tt, p, p), "patch_embed.proj.bias": (D,)}
    if cfg["pos"] == "learned":
        out["pos_embed"] = ((cfg["frames"] // tt) * S if video else S, D)

    def block(prefix, divided):
        if divided:
            out.update({prefix + "tnorm.weight": (D,), prefix + "tnorm.bias": (D,),
                        prefix + "tattn.qkv.weight": (3 * D, D), prefix + "tattn.qkv.bias": (3 * D,),
                        prefix + "tattn.proj.weight": (D, D), prefix + "tattn.proj.bias": (D,)})
        out.update({prefix + "norm1.weight": (D,), prefix + "norm1.bias": (D,),
                    prefix + "attn.qkv.weight": (3 * D, D), prefix + "attn.qkv.bias": (3 * D,),
                    prefix + "attn.proj.weight": (D, D), prefix + "attn.proj.bias": (D,),
                    prefix + "norm2.weight": (D,), prefix + "norm2.bias": (D,),
                    prefix + "mlp.fc1.weight": (H, D), prefix + "mlp.fc1.bias": (H,),
                    prefix + "mlp.fc2.weight": (D, H), prefix + "mlp.fc2.bias": (D,)})

    for i in range(cfg["depth"]):
        block("blocks.%d." % i, cfg["attention"] == "divided")
    out.update({"norm.weight": (D,), "norm.bias": (D,)})
    if cfg["pooling"] == "attentive":
        out["pool.query"] = (D,)
    if cfg["family"] == "frames+temporal":
        out["temporal.pos_embed"] = (cfg["frames"], D)
        for i in range(cfg["temporal_depth"]):
            block("temporal.blocks.%d." % i, False)
        out.update({"temporal.norm.weight": (D,), "temporal.norm.bias": (D,)})
    return out


def linear_out_in(name, D, H):
    """(out_features, in_features) of a Linear weight, or None for other tensors."""
    for suffix, oi in ((".qkv.weight", (3 * D, D)), ("attn.proj.weight", (D, D)),
                       ("mlp.fc1.weight", (H, D)), ("mlp.fc2.weight", (D, H))):
        if name.endswith(suffix):
            return oi
    return None


def parse(path):
    raw = open(path, "rb").read()
    check(len(raw) >= 8, "file shorter than 8 bytes")
    (n,) = struct.unpack("<Q", raw[:8])
    check(8 + n <= len(raw), "header length %d beyond the file" % n)
    check((8 + n) % 8 == 0, "header of %d bytes is not padded to a multiple of 8" % n)
    text = raw[8:8 + n].decode("utf-8")
    check(text.rstrip(" ").endswith("}"), "the header is not a JSON object padded with spaces")
    header = json.loads(text)
    meta = header.pop("__metadata__", None)
    return header, meta, raw[8 + n:]


def main():
    exe = sys.argv[1]
    base = os.environ.get("VN_TEST_TMPDIR") or tempfile.gettempdir()
    os.makedirs(base, exist_ok=True)
    out = tempfile.mkdtemp(prefix="weights_interop.", dir=base)
    run = subprocess.run([exe, out], capture_output=True, text=True)
    if run.returncode != 0:
        print("save_weights failed (%d): %s" % (run.returncode, run.stderr))
        return 1
    version = run.stdout.strip()

    header, meta, data = parse(os.path.join(out, "model.safetensors"))

    # __metadata__: exactly three string keys; the config is JSON with every field by name.
    check(isinstance(meta, dict) and sorted(meta) == ["config", "format", "vnative.version"],
          "metadata keys %r" % (sorted(meta) if isinstance(meta, dict) else meta))
    check(meta.get("format") == "vnative.encoder", "format %r" % meta.get("format"))
    check(meta.get("vnative.version") == version and re.match(r"^\d+\.\d+\.\d+", version or ""),
          "vnative.version %r, library says %r" % (meta.get("vnative.version"), version))
    cfg = json.loads(meta["config"])
    check(sorted(cfg) == sorted(EXPECTED_CONFIG), "config keys %s" % sorted(cfg))
    for k, want in EXPECTED_CONFIG.items():
        got = cfg.get(k)
        if isinstance(want, float):
            check(isinstance(got, (int, float)) and np.float32(got) == np.float32(want),
                  "config %s = %r, expected %r" % (k, got, want))
        else:
            check(got == want and type(got) is type(want), "config %s = %r, expected %r" % (k, got, want))

    # Names and shapes as derived from the config; F32 everywhere; Linear weights [out, in].
    want = expected_params(cfg)
    check(sorted(header) == sorted(want),
          "names: missing %s, unexpected %s" % (sorted(set(want) - set(header)), sorted(set(header) - set(want))))
    D, H = cfg["dim"], c_round(cfg["dim"] * np.float32(cfg["mlp_ratio"]))
    check(H != D, "the test needs mlp hidden != dim to tell [out, in] from [in, out]")
    n_linear = 0
    for name, info in header.items():
        check(sorted(info) == ["data_offsets", "dtype", "shape"], "%s: fields %s" % (name, sorted(info)))
        check(info["dtype"] == "F32", "%s: dtype %s" % (name, info["dtype"]))
        shape = tuple(info["shape"])
        check(shape == want.get(name), "%s: shape %s, expected %s" % (name, shape, want.get(name)))
        oi = linear_out_in(name, D, H)
        if oi is not None:
            n_linear += 1
            check(shape == oi, "%s: Linear weight %s is not [out, in] = %s" % (name, shape, oi))
        b, e = info["data_offsets"]
        check(e - b == 4 * int(np.prod(shape)), "%s: %d bytes for shape %s" % (name, e - b, shape))
        check(b % 4 == 0, "%s: data at offset %d is not 4-byte aligned" % (name, b))
    check(n_linear == 4 * cfg["depth"], "found %d Linear weights, expected %d" % (n_linear, 4 * cfg["depth"]))
    spans = sorted(tuple(v["data_offsets"]) for v in header.values())
    pos = 0
    for b, e in spans:
        check(b == pos, "data is not contiguous at byte %d" % b)
        pos = e
    check(pos == len(data), "tensors cover %d of %d data bytes" % (pos, len(data)))
    if errors:
        return report()

    def tensor(name):
        b, e = header[name]["data_offsets"]
        return np.frombuffer(data[b:e], dtype=DTYPES["F32"]).reshape(header[name]["shape"])

    # Values: bit for bit what the library's .npy dumps hold, as numpy reads them.
    dumps = sorted(f[:-4] for f in os.listdir(out) if f.endswith(".npy"))
    check(len(dumps) == 6, "expected 6 .npy dumps, found %s" % dumps)
    for name in dumps:
        ref = np.load(os.path.join(out, name + ".npy"))
        got = tensor(name)
        check(ref.dtype == np.float32 and ref.shape == got.shape,
              "%s: .npy is %s %s, safetensors %s" % (name, ref.dtype, ref.shape, got.shape))
        check(ref.tobytes() == got.astype("<f4").tobytes(), "%s: values differ from the .npy dump" % name)

    # And they are the initialisation the config describes: norms one, biases zero, weights a
    # normal truncated at 2 std; wrong byte order or offsets would not look like this.
    std = cfg["init_std"]
    for name in header:
        t = tensor(name)
        if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name == "norm.weight":
            check(np.all(t == 1.0), "%s is not all ones" % name)
        elif name.endswith(".bias"):
            check(np.all(t == 0.0), "%s is not all zeros" % name)
        else:
            check(np.all(np.abs(t) <= 2 * std * (1 + 1e-6)), "%s has values beyond 2 std" % name)
            if t.size >= 1000:
                check(abs(float(t.std()) / std - 1) < 0.15, "%s: std %g, init_std %g" % (name, t.std(), std))
    if errors:
        return report()
    print("weights_interop: %d tensors, %d floats, config and %d .npy dumps match"
          % (len(header), len(data) // 4, len(dumps)))
    shutil.rmtree(out)  # kept on failure, for a look
    return 0


def report():
    for e in errors:
        print("MISMATCH:", e)
    return 1


if __name__ == "__main__":
    sys.exit(main())
