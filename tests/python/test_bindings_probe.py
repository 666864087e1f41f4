"""Probe (linear, k-NN, embedding helpers, future retrieval, real footage) and TimeVector."""
import numpy as np
import pytest

import vnative


def separable(n, d=8, seed=0, gap=4.0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.standard_normal((n, d)).astype(np.float32)
    x[:, 0] += np.where(y == 1, gap, -gap)
    return x, y


def test_linear_probe_on_separable_features():
    tx, ty = separable(120)
    sx, sy = separable(60, seed=1)
    r = vnative.Probe.linear(tx, ty, sx, sy, bootstrap=200, seed=3)
    assert isinstance(r, vnative.ProbeResult)
    assert r.accuracy == 1.0 and r.train_accuracy == 1.0
    assert r.ci_low <= r.accuracy <= r.ci_high
    assert (r.n_train, r.n_test) == (120, 60)
    assert r.weight_decay >= 0 and 0 <= r.val_accuracy <= 1
    # a single weight decay skips the sweep; groups are accepted
    one = vnative.Probe.linear(tx, ty, sx, sy, weight_decays=[1e-3], bootstrap=0,
                               train_groups=np.arange(120) // 2, test_groups=np.arange(60) // 2)
    assert one.weight_decay == pytest.approx(1e-3) and np.isnan(one.val_accuracy)
    assert one.ci_low == one.ci_high == one.accuracy
    # labels of any integer dtype; three classes
    y3 = np.arange(120) % 3
    x3 = np.eye(3, 8, dtype=np.float32)[y3] * 5 + np.random.default_rng(2).standard_normal((120, 8)).astype(np.float32)
    r3 = vnative.Probe.linear(x3, y3.astype(np.int64), x3, y3.astype(np.uint8), bootstrap=0)
    assert r3.accuracy > 0.95


def test_knn_probe_on_separable_features():
    tx, ty = separable(100)
    sx, sy = separable(40, seed=5)
    r = vnative.Probe.knn(tx, ty, sx, sy, k=5, bootstrap=100)
    assert r.accuracy == 1.0 and np.isnan(r.train_accuracy) and np.isnan(r.weight_decay)
    chance = vnative.Probe.knn(tx, ty, sx, 1 - np.asarray(sy), k=5, bootstrap=0)
    assert chance.accuracy == 0.0


def test_probe_checks_before_c():
    tx, ty = separable(20)
    with pytest.raises(TypeError, match="float32"):
        vnative.Probe.linear(tx.astype(np.float64), ty, tx, ty)
    with pytest.raises(ValueError, match="test_x"):
        vnative.Probe.linear(tx, ty, tx[:, :4], ty)
    with pytest.raises(ValueError, match="train_y"):
        vnative.Probe.linear(tx, ty[:10], tx, ty)
    with pytest.raises(TypeError, match="integers"):
        vnative.Probe.knn(tx, ty.astype(np.float32), tx, ty)
    with pytest.raises(ValueError, match="dimensions"):
        vnative.Probe.knn(tx[0], ty, tx, ty)
    with pytest.raises(TypeError, match="unknown option 'kk'"):
        vnative.Probe.knn(tx, ty, tx, ty, kk=3)
    with pytest.raises(vnative.VnError) as err:  # the library's own checks
        vnative.Probe.linear(tx, ty, tx, ty, n_classes=2, weight_decays=[-1.0])
    assert err.value.status == "VN_ERR_INVALID_ARG"
    with pytest.raises(vnative.VnError) as err:
        vnative.Probe.knn(tx, ty + 5, tx, ty, n_classes=2)
    assert err.value.status == "VN_ERR_INVALID_ARG"


def test_embed_world_and_pixels(tiny_encoder, tiny_world):
    emb, labels = vnative.Probe.embed_world(tiny_encoder, tiny_world, "aot", 0, 6, batch=4)
    assert emb.shape == (6, 16) and labels.tolist() == [tiny_world.clip("aot", i)[1] for i in range(6)]
    clips, _ = tiny_world.batch("aot", 0, 6)
    assert np.allclose(emb, tiny_encoder.encode(clips), atol=1e-5)
    rev, rev_labels = vnative.Probe.embed_world(tiny_encoder, tiny_world, "aot", 0, 6, reversed=True)
    assert np.array_equal(rev_labels, labels)
    assert np.allclose(rev, tiny_encoder.encode(np.ascontiguousarray(clips[:, :, ::-1])), atol=1e-5)
    feats, plabels = vnative.Probe.pixels_world(tiny_world, "order", 2, 4, side=4)
    assert feats.shape == (4, 3 * 4 * 4) and np.array_equal(plabels, tiny_world.batch("order", 2, 4)[1])
    with vnative.World(n_frames=8, size=16) as wrong:
        with pytest.raises(vnative.VnError) as err:
            vnative.Probe.embed_world(tiny_encoder, wrong, "aot", 0, 2)
        assert err.value.status in ("VN_ERR_SHAPE", "VN_ERR_INVALID_ARG")


def test_future_probe(tiny_encoder):
    with vnative.World(n_frames=8, size=16, future_context=4, future_candidates=4) as w:
        r = vnative.Probe.future(tiny_encoder, w, 8, 6, bootstrap=50)
        assert isinstance(r, vnative.FutureProbeResult)
        assert r.n_queries == 6 and r.candidates == 4
        assert 0 <= r.r1 <= r.r5 <= 1 and 0 < r.mrr <= 1
        none = vnative.Probe.future(tiny_encoder, w, 8, 6, map="none", bootstrap=0)
        assert np.isnan(none.ridge)
        with pytest.raises(ValueError, match="map"):
            vnative.Probe.future(tiny_encoder, w, 8, 6, map="lasso")


def test_embed_video_and_real_aot(tiny_encoder, video_dir, video_path):
    emb, starts = vnative.Probe.embed_video(tiny_encoder, video_path, window_stride=4)
    assert emb.shape == (3, 16) and starts.tolist() == pytest.approx([0.0, 0.16, 0.32])
    rev, _ = vnative.Probe.embed_video(tiny_encoder, video_path, window_stride=4, reversed=True)
    assert rev.shape == emb.shape
    paths = sorted(str(p) for p in video_dir.iterdir())
    r = vnative.Probe.real_aot(tiny_encoder, paths, window={"window_stride": 4}, folds=3, bootstrap=20)
    assert r.n_test == 2 * 3 * 3 and 0 <= r.accuracy <= 1
    with pytest.raises(vnative.VnError) as err:
        vnative.Probe.embed_video(tiny_encoder, "/nonexistent/v.mp4")
    assert err.value.status == "VN_ERR_NOT_FOUND" and "/nonexistent/v.mp4" in err.value.message
    with pytest.raises(ValueError, match="2 videos"):
        vnative.Probe.real_aot(tiny_encoder, paths[:1])


def test_time_vector():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((40, 8)).astype(np.float32)
    arrow = np.zeros(8, np.float32)
    arrow[2] = 1.0
    fwd, rev = base + arrow, base - arrow
    tv = vnative.TimeVector.fit(fwd[:20], rev[:20])
    assert np.allclose(tv.t, 2 * arrow, atol=1e-5) and tv.dim == 8
    res = tv.evaluate(fwd[20:], rev[20:], bootstrap=50)
    assert isinstance(res, vnative.TimevecResult) and res.pair_accuracy == 1.0 and res.n == 20
    proj = tv.project(fwd[20:])
    assert proj.shape == (20,) and np.allclose(proj, fwd[20:, 2], atol=1e-5)
    assert tv.cosine(arrow) == pytest.approx(1.0)
    assert vnative.timevec.cosine(arrow, -arrow) == pytest.approx(-1.0)
    normal = vnative.TimeVector.probe_normal(fwd, rev, bootstrap=0)
    assert normal.shape == (8,) and vnative.timevec.cosine(normal, arrow) > 0.9
    with pytest.raises(ValueError, match="reversed"):
        vnative.TimeVector.fit(fwd, rev[:5])
    with pytest.raises(ValueError, match="emb"):
        tv.project(fwd[:, :4])


def test_probe_helpers_check_their_objects(tiny_encoder, tiny_world):
    with pytest.raises(TypeError, match="vnative.Encoder"):
        vnative.Probe.embed_world(tiny_world, tiny_world, "aot", 0, 2)
    with pytest.raises(TypeError, match="vnative.World"):
        vnative.Probe.future(tiny_encoder, "world", 2, 2)
    with pytest.raises(TypeError, match="sequence"):
        vnative.Probe.real_aot(tiny_encoder, "/a/b.mp4")
