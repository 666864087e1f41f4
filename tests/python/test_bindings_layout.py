"""The ctypes mirrors of the C structs against the compiler's layout, and the defaults
the bindings get from the *_options_init functions against the headers' _INIT macros."""
import ctypes
import json
import os
import subprocess

import numpy as np
import pytest

import vnative
from vnative import _lib
from vnative import _types as T


def c_layout():
    exe = os.environ.get("VN_LAYOUT_EXE")
    if not exe or not os.path.exists(exe):
        pytest.skip("VN_LAYOUT_EXE (the built tests/python/struct_layout) is not set: run through meson test")
    return json.loads(subprocess.run([exe], check=True, capture_output=True, text=True).stdout)


def test_every_struct_matches_the_compiler():
    layout = c_layout()
    assert set(layout) == set(T.STRUCTS)
    for name, cls in T.STRUCTS.items():
        c_fields = [tuple(f) for f in layout[name]["fields"]]
        py_fields = [(n, getattr(cls, n).offset, getattr(cls, n).size) for n, _ in cls._fields_]
        assert py_fields == c_fields, name
        assert ctypes.sizeof(cls) == layout[name]["size"], name


@pytest.mark.parametrize("cls,init,version", [
    (T.ContextOptions, "vn_context_options_init", T.CONTEXT_OPTIONS_VERSION),
    (T.VideoOpenOptions, "vn_video_open_options_init", T.VIDEO_OPEN_OPTIONS_VERSION),
    (T.ClipOptions, "vn_clip_options_init", T.CLIP_OPTIONS_VERSION),
    (T.TransformOptions, "vn_transform_options_init", T.TRANSFORM_OPTIONS_VERSION),
    (T.VideoWriterOptions, "vn_video_writer_options_init", T.VIDEO_WRITER_OPTIONS_VERSION),
    (T.LoaderOptions, "vn_loader_options_init", T.LOADER_OPTIONS_VERSION),
    (T.WorldOptions, "vn_world_options_init", T.WORLD_OPTIONS_VERSION),
    (T.EncoderConfig, "vn_encoder_config_init", T.ENCODER_CONFIG_VERSION),
    (T.TrainOptions, "vn_train_options_init", T.TRAIN_OPTIONS_VERSION),
    (T.TrainMetrics, "vn_train_metrics_init", T.TRAIN_METRICS_VERSION),
    (T.ProbeResult, "vn_probe_result_init", T.PROBE_RESULT_VERSION),
    (T.LinearProbeOptions, "vn_linear_probe_options_init", T.LINEAR_PROBE_OPTIONS_VERSION),
    (T.KnnProbeOptions, "vn_knn_probe_options_init", T.KNN_PROBE_OPTIONS_VERSION),
    (T.WindowOptions, "vn_window_options_init", T.WINDOW_OPTIONS_VERSION),
    (T.RealAotOptions, "vn_real_aot_options_init", T.REAL_AOT_OPTIONS_VERSION),
    (T.FutureProbeOptions, "vn_future_probe_options_init", T.FUTURE_PROBE_OPTIONS_VERSION),
    (T.FutureProbeResult, "vn_future_probe_result_init", T.FUTURE_PROBE_RESULT_VERSION),
    (T.TimevecOptions, "vn_timevec_options_init", T.TIMEVEC_OPTIONS_VERSION),
    (T.TimevecResult, "vn_timevec_result_init", T.TIMEVEC_RESULT_VERSION),
])
def test_options_init_fills_the_version_and_refuses_others(cls, init, version):
    s = cls()
    _lib.check(getattr(_lib, init)(ctypes.byref(s), version))
    assert s.version == version
    with pytest.raises(vnative.VnError) as err:
        _lib.check(getattr(_lib, init)(ctypes.byref(cls()), version + 1000))
    assert err.value.status == "VN_ERR_VERSION"


def test_defaults_are_the_headers_init_macros():
    # A few fields of each macro, read back through the bindings' dicts: a shifted field
    # would show another field's value here.
    assert vnative.World.defaults() == {
        "seed": 0, "n_frames": 16, "size": 64, "channels": 3, "noise": 0.02, "jitter": 0.0, "textured": 1,
        "n_threads": 0, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25], "future_context": 8,
        "future_candidates": 8}
    assert vnative.encoder_config(None) == {
        "family": "video", "frames": 16, "size": 32, "channels": 3, "patch": 8, "tubelet_t": 2, "dim": 128,
        "depth": 4, "heads": 4, "mlp_ratio": 4.0, "pooling": "mean", "attention": "joint", "pos": "learned",
        "temporal_depth": 2, "seed": 0, "init_std": 0.02}
    d = vnative.train_defaults()
    assert (d["batch"], d["total_steps"], d["lr"], d["warmup_steps"], d["eval_clips"]) == (16, 1000, 1e-3, -1, 256)
    assert (d["beta1"], d["beta2"], d["eps"], d["grad_clip"]) == (0.9, 0.999, 1e-8, 1.0)
    assert (d["predictor_dim"], d["predictor_depth"], d["predictor_heads"], d["future_tau"]) == (64, 2, 2, 0.1)
    t = T.to_dict(vnative.video.transform_options())
    assert t["rrc_scale"] == [0.3, 1.0] and t["rrc_ratio"] == [0.75, 1.35]
    assert t["mean"] == [0.485, 0.456, 0.406] and t["std"] == [0.229, 0.224, 0.225]
    c = T.to_dict(vnative.video.clip_options())
    assert (c["n_frames"], c["stride"], c["start"]) == (16, 1, 0)


def test_tensor_view_has_element_strides():
    a = np.zeros((2, 3, 4), dtype=np.float32)[:, ::-1][:, :, ::2]
    t = vnative._core.tensor(a)
    assert (t.ndim, t.dtype) == (3, 0)
    assert list(t.shape[:3]) == [2, 3, 2]
    assert list(t.strides[:3]) == [12, -4, 2]


def test_inputs_cross_without_a_copy_when_they_can():
    from vnative._core import input_array
    a = np.zeros((2, 3, 4, 16, 16), np.float32)
    assert input_array(a, np.float32, "clips", (None, 3, 4, 16, 16)) is a  # passed as is
    strided = np.zeros((4, 3, 4, 16, 16), np.float32)[::2]
    b = input_array(strided, np.float32, "clips", (None, 3, 4, 16, 16))
    assert b is not strided and b.flags.c_contiguous and np.array_equal(b, strided)
    with pytest.raises(TypeError, match="float32"):
        input_array(a.astype(np.float64), np.float32, "clips", (None, 3, 4, 16, 16))
    with pytest.raises(ValueError, match="clips"):
        input_array(a, np.float32, "clips", (None, 3, 4, 16, 8))
