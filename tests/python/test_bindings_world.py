"""World: clips, batches, the future task, descriptions and errors."""
import numpy as np
import pytest

import vnative


def test_clip_layouts_labels_and_determinism():
    with vnative.World(n_frames=4, size=16, seed=7) as w:
        clip, label = w.clip("aot", 0)
        assert clip.shape == (3, 4, 16, 16) and clip.dtype == np.float32
        assert label in (0, 1)
        _, other = w.clip("aot", 1)
        assert other == 1 - label  # labels of 2k and 2k+1 differ
        u8, label8 = w.clip("aot", 0, dtype=np.uint8)
        assert u8.shape == (4, 16, 16, 3) and u8.dtype == np.uint8 and label8 == label
        # float = (x / 255 - mean) / std with the defaults 0.5 / 0.25
        assert np.allclose(clip, (u8.transpose(3, 0, 1, 2) / 255.0 - 0.5) / 0.25, atol=1e-5)
        assert np.array_equal(w.clip("aot", 0)[0], clip)
    with vnative.World(n_frames=4, size=16, seed=7) as again:
        assert np.array_equal(again.clip("aot", 0)[0], clip)


@pytest.mark.parametrize("task", vnative.BINARY_TASKS)
def test_batch_equals_clips(task):
    with vnative.World(n_frames=4, size=16, channels=1, n_threads=2) as w:
        clips, labels = w.batch(task, 10, 4)
        assert clips.shape == (4, 1, 4, 16, 16) and labels.dtype == np.int32
        for i in range(4):
            clip, label = w.clip(task, 10 + i)
            assert np.array_equal(clips[i], clip) and labels[i] == label
        assert sorted(labels.tolist()) == [0, 0, 1, 1]


def test_future_task():
    with vnative.World(n_frames=8, size=16, future_context=4, future_candidates=5) as w:
        f = w.future(3)
        assert f["context"].shape == (3, 4, 16, 16)
        assert f["candidates"].shape == (5, 3, 4, 16, 16)
        assert f["kinds"].shape == (5,) and f["kinds"][f["true_index"]] == 0
        u8 = w.future(3, dtype=np.uint8)
        assert u8["context"].shape == (4, 16, 16, 3) and u8["candidates"].shape == (5, 4, 16, 16, 3)
        assert u8["true_index"] == f["true_index"]


def test_describe_and_options():
    with vnative.World(n_frames=4, size=16, seed=2, noise=0.0) as w:
        d = w.describe("gravity", 5)
        assert isinstance(d, dict) and d
        assert w.options["noise"] == 0.0 and w.options["seed"] == 2
        assert "World" in repr(w)


def test_world_errors():
    with pytest.raises(vnative.VnError) as err:
        vnative.World(size=8)
    assert err.value.status == "VN_ERR_INVALID_ARG" and "size" in err.value.message
    with pytest.raises(TypeError, match="unknown option 'frames'"):
        vnative.World(frames=4)
    with pytest.raises(ValueError, match="3 values"):
        vnative.World(mean=[0.5, 0.5])
    with pytest.raises(TypeError, match="size must be an integer"):
        vnative.World(size="32")
    with pytest.raises(TypeError, match="noise must be a number"):
        vnative.World(noise=None)
    with vnative.World(n_frames=4, size=16) as w:
        with pytest.raises(vnative.VnError) as err:
            w.clip("teleport", 0)
        assert err.value.status == "VN_ERR_INVALID_ARG" and "teleport" in err.value.message
        with pytest.raises(vnative.VnError) as err:
            w.clip("future", 0)  # no single clip and label
        assert err.value.status == "VN_ERR_INVALID_ARG"
        with pytest.raises(ValueError):
            w.clip("aot", -1)
        with pytest.raises(TypeError):
            w.clip("aot", 1.5)
        with pytest.raises(TypeError, match="dtype"):
            w.clip("aot", 0, dtype=np.float64)
        with pytest.raises(ValueError, match="shape"):
            w.clip("aot", 0, out=np.empty((3, 4, 16, 15), np.float32))
