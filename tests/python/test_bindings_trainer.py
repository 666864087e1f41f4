"""Trainer: steps and metrics, run with a callback, evaluation, checkpoints and exact
resume, the trainer's encoder, data parallelism through a Python all-reduce, errors."""
import math
import threading

import numpy as np
import pytest

import vnative
from conftest import TINY_TRAIN, cpu_has_bf16, tiny_config


def make(ctx, objectives="aot", data="world:aot", batch=4, **kw):
    return vnative.Trainer(ctx, tiny_config(), objectives=objectives, data=data, batch=batch,
                           **dict(TINY_TRAIN, **kw))


def test_steps_and_metrics(ctx):
    with make(ctx, objectives="aot=1,order=0.5") as tr:
        assert tr.objectives == {"aot": 1.0, "order": 0.5}
        assert tr.steps == 0
        m = tr.step()
        assert m["step"] == 1 and m["clips_seen"] == 4 and not m["is_eval"]
        assert set(m["losses"]) == {"aot", "order"} and set(m["accuracy"]) == {"aot", "order"}
        assert math.isfinite(m["loss"]) and m["loss"] > 0
        assert m["loss"] == pytest.approx(m["losses"]["aot"] + 0.5 * m["losses"]["order"], rel=1e-5)
        assert 0.0 <= m["accuracy"]["aot"] <= 1.0
        for _ in range(2):
            tr.step()
        assert tr.steps == 3
        last = tr.run(2)
        assert last["step"] == 5
        ev = tr.evaluate()
        assert ev["is_eval"] and ev["step"] == 5 and math.isfinite(ev["losses"]["aot"])
        assert tr.options["batch"] == 4 and tr.options["eval_clips"] == 8


def test_jepa_accuracy_is_none(ctx):
    with make(ctx, objectives="jepa") as tr:
        m = tr.step()
        assert m["accuracy"] == {"jepa": None} and math.isfinite(m["losses"]["jepa"])


def test_run_callback_and_early_stop(ctx):
    seen = []

    def callback(m):
        seen.append((m["step"], m["is_eval"]))
        return m["step"] >= 3 and not m["is_eval"]
    with make(ctx, callback=callback, eval_every=2) as tr:
        last = tr.run(10)
        assert last["step"] == 3 and tr.steps == 3
        assert seen[0] == (1, False) and (2, True) in seen


def test_callback_exception_propagates(ctx):
    def callback(m):
        raise KeyError("boom")
    with make(ctx, callback=callback) as tr:
        with pytest.raises(KeyError, match="boom"):
            tr.run(5)
        assert tr.steps == 1


def test_checkpoint_resume_is_exact(ctx, tmp_path):
    with make(ctx) as a:
        a.run(2)
        a.save(tmp_path / "ckpt")
        want = a.step()
        weights = a.encoder.params()
    with make(ctx) as b:
        b.resume(str(tmp_path / "ckpt"))
        assert b.steps == 2
        got = b.step()
        assert got["loss"] == want["loss"] and got["step"] == want["step"]
        for name, w in b.encoder.params().items():
            assert np.array_equal(w, weights[name]), name
    # the checkpoint's model file is an encoder weights file
    with vnative.Encoder.load(ctx, tmp_path / "ckpt" / "model.safetensors") as enc:
        assert enc.dim == 16


def test_the_trainers_encoder(ctx, tmp_path):
    with make(ctx) as tr:
        enc = tr.encoder
        x = np.zeros((2, 3, 4, 16, 16), np.float32) + 0.1
        before = enc.encode(x)
        tr.run(3)  # past the one-step warmup, which starts at lr 0
        assert not np.array_equal(enc.encode(x), before)  # the same encoder, trained
        with pytest.raises(vnative.VnError, match="read-only"):
            enc.set_param("norm.weight", np.ones(16, np.float32))
        enc.save(tmp_path / "w.safetensors")
        enc.close()  # a borrowed view: closing it frees nothing
        assert tr.encoder.encode(x).shape == (2, 16)
    assert enc.closed


def test_precision(ctx):
    with make(ctx) as tr:
        assert tr.precision == "fp32"
        tr.precision = "fp32"
        with pytest.raises(vnative.VnError) as err:
            tr.precision = "tf32"  # a GPU format
        assert err.value.status == "VN_ERR_UNSUPPORTED"
        if cpu_has_bf16():
            tr.precision = "bf16"
            assert tr.precision == "bf16" and tr.encoder.precision == "bf16"
            assert np.isfinite(tr.step()["loss"])
        else:
            with pytest.raises(vnative.VnError) as err:
                tr.precision = "bf16"  # no bf16 hardware
            assert err.value.status == "VN_ERR_UNSUPPORTED"
        with pytest.raises(vnative.VnError):
            tr.precision = "fp8"


def test_data_parallel_replicas_agree(ctx):
    """Two replicas in two threads, summing through a Python all-reduce, hold the same weights."""
    n = 2
    barrier = threading.Barrier(n)
    slots = [None] * n
    trainers = [make(ctx, batch=2) for _ in range(n)]

    def allreduce(rank):
        def run(buf):
            slots[rank] = buf.copy()
            barrier.wait()
            total = slots[0] + slots[1]
            barrier.wait()
            buf[:] = total
        return run
    for r, tr in enumerate(trainers):
        tr.set_dist(r, n, allreduce(r))
    errors = []

    def worker(tr):
        try:
            tr.run(2)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            barrier.abort()
    threads = [threading.Thread(target=worker, args=(tr,)) for tr in trainers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    p0, p1 = trainers[0].encoder.params(), trainers[1].encoder.params()
    for name in p0:
        assert np.array_equal(p0[name], p1[name]), name
    for tr in trainers:
        tr.close()


def test_allreduce_failure_is_a_vn_error(ctx):
    def allreduce(buf):
        raise ConnectionError("peer 1 is gone")
    with make(ctx, batch=2) as tr:
        tr.set_dist(0, 2, allreduce)
        with pytest.raises(vnative.VnError) as err:
            tr.step()
        assert "peer 1 is gone" in err.value.message


def test_trainer_errors(ctx, tmp_path):
    with pytest.raises(vnative.VnError) as err:
        make(ctx, objectives="aot=1,telepathy=2")
    assert err.value.status == "VN_ERR_INVALID_ARG" and "telepathy" in err.value.message
    with pytest.raises(vnative.VnError) as err:
        make(ctx, data=str(tmp_path / "nowhere.csv"))
    assert "nowhere.csv" in err.value.message
    with pytest.raises(vnative.VnError) as err:
        make(ctx, batch=1)
    assert err.value.status == "VN_ERR_INVALID_ARG" and "batch" in err.value.message
    with pytest.raises(TypeError, match="unknown option 'steps'"):
        make(ctx, steps=3)
    with pytest.raises(TypeError, match="callable"):
        vnative.Trainer(ctx, tiny_config(), callback=3)
    with make(ctx) as tr:
        with pytest.raises(ValueError):
            tr.run(0)
        with pytest.raises(vnative.VnError) as err:
            tr.resume(tmp_path / "no-checkpoint")
        assert "no-checkpoint" in err.value.message


def test_file_data_has_no_held_out_evaluation(ctx, video_dir):
    with make(ctx, data=str(video_dir), batch=2) as tr:
        m = tr.step()
        assert m["clips_seen"] == 2
        with pytest.raises(vnative.VnError) as err:
            tr.evaluate()
        assert err.value.status == "VN_ERR_STATE"


def test_ctrl_c_stops_a_long_run(ctx):
    """run() comes back to Python after every step, so a KeyboardInterrupt stops it."""
    import _thread
    with make(ctx, batch=2) as tr:
        timer = threading.Timer(0.5, _thread.interrupt_main)
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                tr.run(100_000)
        finally:
            timer.cancel()
        done = tr.steps
        assert 1 <= done < 100_000
        assert tr.step()["step"] == done + 1  # the trainer is still usable
