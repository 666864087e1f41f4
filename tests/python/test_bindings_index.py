"""Index against numpy brute force: add, search, search_shifted, get, save/load, len."""
import numpy as np
import pytest

import vnative

pytestmark = pytest.mark.skipif(
    not vnative.index.available(),
    reason="the loaded libvnative has no vn_index_* symbols yet (src/index/ is being implemented)")


def brute(vectors, ids, queries, k, metric):
    v, q = vectors.astype(np.float64), queries.astype(np.float64)
    if metric == "cosine":
        v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-30)
        q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-30)
    scores = q @ v.T
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return ids[order], np.take_along_axis(scores, order, axis=1)


@pytest.mark.parametrize("metric", ["cosine", "inner_product"])
def test_search_matches_numpy(ctx, metric):
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((300, 24)).astype(np.float32)
    ids = rng.permutation(10_000)[:300].astype(np.int64)
    queries = rng.standard_normal((17, 24)).astype(np.float32)
    with vnative.Index(ctx, 24, metric=metric) as idx:
        assert len(idx) == 0 and idx.dim == 24 and idx.metric == metric
        idx.add(vectors[:100], ids[:100])
        idx.add(vectors[100:], ids[100:])
        assert len(idx) == 300 and idx.size == 300
        got_ids, got_scores = idx.search(queries, 10)
        want_ids, want_scores = brute(vectors, ids, queries, 10, metric)
        assert got_ids.shape == (17, 10) and got_ids.dtype == np.int64 and got_scores.dtype == np.float32
        assert np.array_equal(got_ids, want_ids)
        assert np.allclose(got_scores, want_scores, atol=1e-4)
        one_ids, one_scores = idx.search(queries[3], 5)
        assert np.array_equal(one_ids, want_ids[3, :5])
        # shifted queries: q - alpha * direction
        direction = rng.standard_normal(24).astype(np.float32)
        s_ids, s_scores = idx.search_shifted(queries, direction, 0.7, 5)
        w_ids, w_scores = brute(vectors, ids, queries - np.float32(0.7) * direction, 5, metric)
        assert np.array_equal(s_ids, w_ids) and np.allclose(s_scores, w_scores, atol=1e-4)
        z_ids, _ = idx.search_shifted(queries, direction, 0.0, 5)
        assert np.array_equal(z_ids, want_ids[:, :5])
        vec, ident = idx.get(7)
        assert ident == ids[7]
        expect = vectors[7] / np.linalg.norm(vectors[7]) if metric == "cosine" else vectors[7]
        assert np.allclose(vec, expect, atol=1e-6)


def test_default_ids_k_past_size_and_files(ctx, tmp_path):
    rng = np.random.default_rng(2)
    vectors = rng.standard_normal((5, 4)).astype(np.float32)
    with vnative.Index(ctx, 4) as idx:
        idx.add(vectors[:3])
        idx.add(vectors[3])  # one vector, numbered on
        ids, scores = idx.search(vectors[:2], 8)
        assert len(idx) == 4
        assert sorted(ids[0, :4].tolist()) == [0, 1, 2, 3] and ids[0, 0] == 0 and ids[1, 0] == 1
        assert (ids[:, 4:] == -1).all() and np.isneginf(scores[:, 4:]).all()
        vpath, ipath = tmp_path / "v.npy", tmp_path / "i.npy"
        idx.save(vpath, str(ipath))
    assert np.array_equal(np.load(vpath), vectors[:4])  # as added, before normalisation
    assert np.load(ipath).tolist() == [0, 1, 2, 3]
    with vnative.Index.load(ctx, vpath, ipath, metric="inner_product") as back:
        assert len(back) == 4 and back.metric == "inner_product"
        assert np.array_equal(back.search(vectors[:4], 1)[0][:, 0], brute(vectors[:4], np.arange(4), vectors[:4], 1,
                                                                           "inner_product")[0][:, 0])
    with vnative.Index.load(ctx, str(vpath)) as numbered:
        assert numbered.get(2)[1] == 2


def test_index_errors(ctx, tmp_path):
    with pytest.raises(ValueError):
        vnative.Index(ctx, 0)
    with pytest.raises(ValueError, match="metric"):
        vnative.Index(ctx, 4, metric="l2")
    with vnative.Index(ctx, 4) as idx:
        with pytest.raises(ValueError, match=r"N, dim"):
            idx.add(np.zeros((2, 5), np.float32))
        with pytest.raises(TypeError, match="float32"):
            idx.add(np.zeros((2, 4), np.float64))
        with pytest.raises(ValueError, match="ids"):
            idx.add(np.zeros((2, 4), np.float32), ids=[1, 2, 3])
        with pytest.raises(ValueError, match="queries"):
            idx.search(np.zeros((2, 3), np.float32), 1)
        with pytest.raises(ValueError, match="k"):
            idx.search(np.zeros((2, 4), np.float32), 0)
        with pytest.raises(ValueError, match="direction"):
            idx.search_shifted(np.zeros((2, 4), np.float32), np.zeros(3, np.float32), 1.0, 1)
        with pytest.raises(vnative.VnError):
            idx.get(0)  # empty
    with pytest.raises(vnative.VnError) as err:
        vnative.Index.load(ctx, tmp_path / "missing.npy")
    assert err.value.status in ("VN_ERR_IO", "VN_ERR_NOT_FOUND") and "missing.npy" in err.value.message
    idx.close()
    with pytest.raises(vnative.VnError) as err:
        len(idx)
    assert err.value.status == "VN_ERR_STATE"
