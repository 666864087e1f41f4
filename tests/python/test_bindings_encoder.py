"""Encoder: presets and configs, encode shapes, parameters as numpy, weights files, errors."""
import threading

import numpy as np
import pytest

import vnative
from conftest import cpu_has_bf16, tiny_config


def clips(n, shape=(3, 4, 16, 16), seed=0):
    return np.random.default_rng(seed).standard_normal((n,) + shape).astype(np.float32)


def test_presets():
    xs = vnative.encoder_config("xs")
    assert (xs["frames"], xs["size"], xs["dim"], xs["depth"], xs["heads"], xs["tubelet_t"]) == (16, 32, 128, 4, 4, 2)
    s = vnative.encoder_config("s", family="frames")
    assert (s["size"], s["dim"], s["family"], s["tubelet_t"]) == (64, 192, "frames", 1)
    with pytest.raises(vnative.VnError) as err:
        vnative.encoder_config("xxl")
    assert "xxl" in err.value.message
    with pytest.raises(vnative.VnError):
        vnative.encoder_config("xs", family="bag")
    with pytest.raises(ValueError, match="pooling"):
        vnative.encoder_config("xs", pooling="max")
    with pytest.raises(TypeError, match="unknown option 'width'"):
        vnative.encoder_config("xs", width=3)


@pytest.mark.parametrize("family", vnative.FAMILIES)
def test_encode_shapes(ctx, family):
    with vnative.Encoder(ctx, tiny_config(family)) as enc:
        assert enc.family == family
        assert enc.input_shape == (3, 4, 16, 16)
        assert enc.dim == 16
        x = clips(3)
        emb = enc.encode(x)
        assert emb.shape == (3, 16) and emb.dtype == np.float32 and np.isfinite(emb).all()
        tokens = enc.encode_tokens(x)
        assert tokens.shape == (3, enc.tokens, 16) and enc.output_shape == (enc.tokens, 16)
        # one clip without the batch axis
        assert np.allclose(enc.encode(x[1]), emb[1], atol=1e-5)
        assert enc.encode_tokens(x[1]).shape == (enc.tokens, 16)
        # a non-contiguous input gives the same as its contiguous copy
        strided = np.ascontiguousarray(np.repeat(x, 2, axis=0))[::2]
        assert not strided.flags.c_contiguous
        assert np.allclose(enc.encode(strided), emb, atol=1e-5)
        out = np.empty((3, 16), np.float32)
        assert enc.encode(x, out=out) is out
        assert enc(x).shape == (3, 16)


def test_video_tokens_and_xs(ctx):
    with vnative.Encoder(ctx, "xs") as enc:
        assert enc.output_shape == (8 * 4 * 4, 128)  # (16/2) x (32/8) x (32/8) tubelets
        assert enc.encode(np.zeros((1, 3, 16, 32, 32), np.float32)).shape == (1, 128)


@pytest.mark.parametrize("family", ["video", "frames"])
def test_set_precision(ctx, family):
    """bf16 products where the CPU has them: close to fp32 (the weights stay fp32), back to
    fp32's bits on request; refused with the reason elsewhere; bad names refused."""
    with vnative.Encoder(ctx, "xs", family=family) as enc:
        x = np.random.default_rng(1).standard_normal((4,) + enc.input_shape).astype(np.float32)
        assert enc.precision == "fp32"
        e32 = enc.encode(x)
        if cpu_has_bf16():
            enc.set_precision("bf16")
            assert enc.precision == "bf16"
            e16 = enc.encode(x)
            rel = np.linalg.norm(e16 - e32) / np.linalg.norm(e32)
            assert 0 < rel < 2e-2, rel  # ~2e-3 measured (docs/PRECISION.md)
            t16 = enc.encode_tokens(x)
            enc.set_precision("fp32")
            t32 = enc.encode_tokens(x)
            assert 0 < np.linalg.norm(t16 - t32) / np.linalg.norm(t32) < 2e-2
        else:
            with pytest.raises(vnative.VnError) as err:
                enc.set_precision("bf16")
            assert err.value.status == "VN_ERR_UNSUPPORTED" and "bf16" in err.value.message
        assert enc.precision == "fp32"
        assert np.array_equal(enc.encode(x), e32)
        with pytest.raises(vnative.VnError) as err:
            enc.set_precision("tf32")  # a GPU format
        assert err.value.status == "VN_ERR_UNSUPPORTED"
        with pytest.raises(vnative.VnError) as err:
            enc.set_precision("fp16")
        assert err.value.status == "VN_ERR_INVALID_ARG" and "fp16" in err.value.message
        with pytest.raises(TypeError):
            enc.set_precision(None)
        assert enc.precision == "fp32"


def test_trainer_encoder_precision_is_the_trainers(ctx):
    with vnative.Trainer(ctx, tiny_config(), objectives="aot", data="world:aot", batch=4) as tr:
        with pytest.raises(vnative.VnError, match="Trainer.precision"):
            tr.encoder.set_precision("fp32")
        assert tr.encoder.precision == "fp32"


def test_params_round_trip_and_save_load(ctx, tmp_path):
    a = vnative.Encoder(ctx, tiny_config(seed=1))
    b = vnative.Encoder(ctx, tiny_config(seed=2))
    x = clips(2)
    assert not np.allclose(a.encode(x), b.encode(x))
    names = a.param_names()
    assert "norm.weight" in names and names == list(a.param_shapes())
    params = a.params()
    assert sum(p.size for p in params.values()) == a.num_params
    for name, shape in a.param_shapes().items():
        assert params[name].shape == shape and params[name].dtype == np.float32
    b.set_params(params)
    assert np.array_equal(a.encode(x), b.encode(x))
    # single parameters
    w = a.get_param("norm.weight")
    b.set_param("norm.weight", w * 2)
    assert np.array_equal(b.get_param("norm.weight"), w * 2)
    # a weights file
    path = tmp_path / "enc.safetensors"
    a.save(path)
    assert vnative.Encoder.config_of(path) == a.config
    with vnative.Encoder.load(ctx, str(path)) as c:
        assert c.config == a.config
        assert np.array_equal(c.encode(x), a.encode(x))
    # a config dict rebuilds the same encoder
    with vnative.Encoder(ctx, a.config) as d:
        assert np.array_equal(d.encode(x), a.encode(x))
    a.close()
    b.close()


def test_encode_releases_the_gil(tiny_encoder):
    x = clips(4)
    want = tiny_encoder.encode(x)
    results = [None] * 4

    def work(i):
        results[i] = tiny_encoder.encode(x)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        assert np.array_equal(r, want)


def test_encoder_errors(ctx, tiny_encoder, tmp_path):
    with pytest.raises(vnative.VnError) as err:
        vnative.Encoder(ctx, tiny_config(), dim=15)
    assert err.value.status == "VN_ERR_INVALID_ARG" and "dim" in err.value.message
    with pytest.raises(TypeError, match="vnative.Context"):
        vnative.Encoder(None, "xs")
    with pytest.raises(TypeError, match="float32"):
        tiny_encoder.encode(np.zeros((1, 3, 4, 16, 16), np.float64))
    with pytest.raises(ValueError, match=r"N, C, T, H, W"):
        tiny_encoder.encode(np.zeros((1, 3, 4, 16, 8), np.float32))
    with pytest.raises(ValueError, match="dimensions"):
        tiny_encoder.encode(np.zeros((3, 16, 16), np.float32))
    with pytest.raises(ValueError, match="shape"):
        tiny_encoder.encode(np.zeros((0, 3, 4, 16, 16), np.float32))
    with pytest.raises(ValueError, match="out"):
        tiny_encoder.encode(np.zeros((2, 3, 4, 16, 16), np.float32), out=np.empty((3, 16), np.float32))
    with pytest.raises(KeyError):
        tiny_encoder.get_param("no.such.weight")
    with pytest.raises(ValueError, match="norm.weight"):
        tiny_encoder.set_param("norm.weight", np.zeros(15, np.float32))
    with pytest.raises(vnative.VnError) as err:
        vnative.Encoder.load(ctx, tmp_path / "missing.safetensors")
    assert err.value.status == "VN_ERR_NOT_FOUND" and "missing.safetensors" in err.value.message
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    with pytest.raises(vnative.VnError) as err:
        vnative.Encoder.load(ctx, bad)
    assert err.value.status == "VN_ERR_FORMAT" and "bad.safetensors" in err.value.message
    with pytest.raises(vnative.VnError) as err:
        tiny_encoder.save(tmp_path / "no" / "such" / "dir" / "w.safetensors")
    assert err.value.status in ("VN_ERR_IO", "VN_ERR_NOT_FOUND")


def test_profile(ctx):
    """Context.profile: empty until profiling is on; an encode's entries carry calls, self
    time and the GEMMs' and attention's FLOPs (the xs video closed form); reset zeroes it."""
    with vnative.Encoder(ctx, "xs") as enc:
        x = np.random.default_rng(2).standard_normal((2,) + enc.input_shape).astype(np.float32)
        enc.encode(x)
        assert ctx.profile() == []
        ctx.set_profiling(True)
        enc.encode(x)
        prof = {e["op"]: e for e in ctx.profile()}
        ctx.set_profiling(False)
        assert prof["gemm"]["calls"] == 17 and prof["gemm"]["seconds"] > 0
        assert prof["attention fwd"]["calls"] == 4 and not any(k.endswith("bwd") for k in prof)
        # 2 clips of 128 tokens, dim 128, hidden 512, depth 4, patch embed K = 3*2*8*8
        n, d, h, k = 2 * 128, 128, 512, 3 * 2 * 8 * 8
        gemm = 2 * n * k * d + 4 * (2 * n * d * 3 * d + 2 * n * d * d + 2 * 2 * n * d * h)
        attention = 4 * (4 * 2 * 128 * 128 * d)
        assert abs(prof["gemm"]["flops"] - gemm) <= 1e-6 * gemm, (prof["gemm"]["flops"], gemm)
        assert abs(prof["attention fwd"]["flops"] - attention) <= 1e-6 * attention
        assert sum(e["flops"] for e in prof.values()) == pytest.approx(gemm + attention, rel=1e-6)
        enc.encode(x)  # profiling is off: nothing more is counted
        assert {e["op"]: e["calls"] for e in ctx.profile()}["gemm"] == 17
        ctx.profile_reset()
        assert ctx.profile() == []
