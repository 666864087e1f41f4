"""Shared fixtures of the Python binding tests (tests/python/test_bindings_*.py).

Run through tests/python/run_pytest.py (meson test python_bindings), which points
VNATIVE_LIBRARY at the built library and PYTHONPATH at bindings/python.
"""
import os

import numpy as np
import pytest

import vnative

# The tiny encoder of tests/vn_test.c (vn_test_tiny_config): 4x16x16 RGB, dim 16, one block.
TINY = dict(frames=4, size=16, patch=8, tubelet_t=2, dim=16, depth=1, heads=2, mlp_ratio=2.0, temporal_depth=1)
# ...and its training options (vn_test_tiny_train_options).
TINY_TRAIN = dict(total_steps=20, lr=1e-3, predictor_dim=8, predictor_depth=1, predictor_heads=2, eval_clips=8,
                  seed=5)


def tiny_config(family="video", seed=0):
    """The tiny encoder config of vn_test_tiny_config as a dict."""
    fields = dict(TINY, tubelet_t=2 if family == "video" else 1)
    return vnative.encoder_config("xs", family=family, seed=seed, **fields)


def cpu_has_bf16():
    """Whether the cpu backend should have bf16 GEMMs here: the CPU has avx512_bf16 (which
    every AMX CPU has too) and oneDNN is not capped below it. Independent of the library,
    so that a backend which refuses bf16 where it should not (or the reverse) fails."""
    if os.environ.get("DNNL_MAX_CPU_ISA") or os.environ.get("ONEDNN_MAX_CPU_ISA"):
        return False
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and "avx512_bf16" in line.split() for line in f)
    except OSError:
        return False


def rss_bytes():
    """Resident set size of this process (from /proc/self/statm)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture
def ctx():
    with vnative.Context(backend="cpu", threads=2, seed=1, deterministic=True) as c:
        yield c


@pytest.fixture
def tiny_encoder(ctx):
    with vnative.Encoder(ctx, tiny_config()) as enc:
        yield enc


@pytest.fixture
def tiny_world():
    with vnative.World(n_frames=4, size=16, channels=3, seed=3) as w:
        yield w


def write_pattern(path, n_frames=12, width=32, height=16, codec="ffv1", fps=25.0, shift=0):
    """Write a small video whose frame i is a flat colour encoding i (lossless with ffv1);
    returns the frames written (uint8 [T, H, W, 3])."""
    frames = np.zeros((n_frames, height, width, 3), dtype=np.uint8)
    for i in range(n_frames):
        frames[i, :, :, 0] = (i * 16 + shift) % 256
        frames[i, :, :, 1] = 128
        frames[i, :, :, 2] = 255 - (i * 16) % 256
    with vnative.VideoWriter(path, width, height, fps=fps, codec=codec) as w:
        w.write(frames)
    return frames


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory):
    """A directory of three small ffv1 videos (12 frames, 32x16), written with VideoWriter."""
    d = tmp_path_factory.mktemp("videos")
    for k in range(3):
        write_pattern(str(d / f"clip{k}.mkv"), shift=k)
    return d


@pytest.fixture(scope="session")
def video_path(video_dir):
    return str(video_dir / "clip0.mkv")
