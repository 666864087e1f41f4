"""An independent safetensors parser for the interoperability sub-checks of tests/test_safetensors.c.

  check PATH   parse a file vnative wrote, by hand, and compare it with the fixture both sides know
  write PATH   write the fixture vnative reads back (no header padding, ASCII-escaped metadata)

Exit 0 on success, 1 with a message on a mismatch, 77 when numpy is missing.
"""
import json
import struct
import sys

try:
    import numpy as np
except ImportError:
    print("numpy is not installed for", sys.executable)
    sys.exit(77)

DTYPES = {"F32": "<f4", "U8": "u1", "I32": "<i4", "I64": "<i8", "BF16": "<u2"}


def fail(msg):
    print("MISMATCH:", msg)
    sys.exit(1)


def bf16_to_f32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def expected_vnative():
    # Mirrors write_fixture() in tests/test_safetensors.c.
    return {
        "blocks.0.attn.qkv.weight": ("F32", (2, 3), np.arange(6, dtype=np.float32) * 0.5 - 1.0),
        "frames": ("U8", (2, 2, 2), np.arange(8, dtype=np.uint8) * 31),
        "labels": ("I32", (3,), np.array([-7, 0, 2147483647], dtype=np.int32)),
        "step": ("I64", (), np.array([123456789012], dtype=np.int64)),
        "ema": ("BF16", (2,), np.array([1.5, -2.0], dtype=np.float32)),
        "empty": ("F32", (0, 4), np.zeros(0, dtype=np.float32)),
    }


def check(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    if (8 + n) % 8:
        fail("header of %d bytes is not padded to a multiple of 8" % n)
    header_text = raw[8 : 8 + n].decode("utf-8")
    if not header_text.rstrip(" ").endswith("}"):
        fail("the header is not a JSON object followed by space padding")
    header = json.loads(header_text)
    meta = header.pop("__metadata__", None)
    want_meta = {"config": '{"dim": 64, "name": "xs \\"video\\""}', "note": "caf\u00e9\ttab\nline"}
    if meta != want_meta:
        fail("metadata %r != %r" % (meta, want_meta))
    data = raw[8 + n :]
    want = expected_vnative()
    if sorted(header) != sorted(want):
        fail("names %s != %s" % (sorted(header), sorted(want)))
    spans = sorted(tuple(v["data_offsets"]) for v in header.values())
    pos = 0
    for b, e in spans:
        if b != pos:
            fail("data is not contiguous at %d" % b)
        pos = e
    if pos != len(data):
        fail("tensors cover %d of %d data bytes" % (pos, len(data)))
    for name, (dtype, shape, values) in want.items():
        info = header[name]
        if info["dtype"] != dtype or tuple(info["shape"]) != shape:
            fail("%s: %s %s != %s %s" % (name, info["dtype"], info["shape"], dtype, shape))
        b, e = info["data_offsets"]
        arr = np.frombuffer(data[b:e], dtype=DTYPES[dtype])
        if dtype == "BF16":
            arr = bf16_to_f32(arr)
        if arr.size != int(np.prod(shape)) or not np.array_equal(arr, values.reshape(-1)):
            fail("%s: values %r != %r" % (name, arr, values))
    print("python read %d tensors and %d metadata keys from %s" % (len(header), len(meta), path))


def write(path):
    tensors = {
        "x": np.arange(6, dtype="<f4").reshape(2, 3) * 0.25,
        "y": np.array([-1, 2**40], dtype="<i8"),
        "z": np.array([[1, 2], [3, 4]], dtype="u1"),
        "w": np.array([-3, 5, 7], dtype="<i4"),
    }
    names = {np.dtype("<f4"): "F32", np.dtype("<i8"): "I64", np.dtype("u1"): "U8", np.dtype("<i4"): "I32"}
    # Odd sizes first, so later tensors sit at unaligned offsets as a careless writer would leave them.
    order = ["z", "w", "y", "x"]
    header = {"__metadata__": {"format": "pt", "who": "python \u00e9\U0001F600"}}
    blobs, off = [], 0
    for k in order:
        b = tensors[k].tobytes()
        header[k] = {"dtype": names[tensors[k].dtype], "shape": list(tensors[k].shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    text = json.dumps(header).encode("ascii")  # \u escapes, incl. a surrogate pair
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("check", "write"):
        print(__doc__)
        sys.exit(2)
    (check if sys.argv[1] == "check" else write)(sys.argv[2])
