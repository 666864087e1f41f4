"""Video, VideoWriter and Loader: metadata, frames, clips, batches and their errors."""
import os

import numpy as np
import pytest

import vnative
from conftest import write_pattern


def test_writer_and_reader_round_trip(tmp_path):
    path = str(tmp_path / "rt.mkv")
    frames = write_pattern(path, n_frames=10, width=48, height=32)
    with vnative.Video(path) as v:
        assert (v.width, v.height, v.n_frames, len(v)) == (48, 32, 10, 10)
        info = v.info
        assert info["codec"] == "ffv1" and info["n_frames_exact"] is True
        assert info["avg_fps"] == pytest.approx(25.0)
        got = v.read_frames([0, 9, 3, 3])
        assert got.shape == (4, 32, 48, 3) and got.dtype == np.uint8
        want = frames[[0, 9, 3, 3]].astype(int)
        assert np.abs(got.astype(int) - want).max() <= 3  # RGB -> YUV -> RGB rounding
        assert np.array_equal(v[3], got[2])
        assert v[-1].shape == (32, 48, 3)
        assert v[2:5].shape == (3, 32, 48, 3)
        assert v.frame_time(5) == pytest.approx(0.2)
        assert v.frame_at_time(0.2) == 5
        assert np.array_equal(v.read_times([0.0, 0.2]), v.read_frames([0, 5]))
        kf = v.keyframes()
        assert kf.dtype == np.int64 and kf[0] == 0
        with pytest.raises(IndexError):
            v[10]


def test_from_bytes(video_path):
    with open(video_path, "rb") as f:
        data = f.read()
    with vnative.Video.from_bytes(data) as v, vnative.Video(video_path) as w:
        assert v.n_frames == w.n_frames
        assert np.array_equal(v.read_frames([4]), w.read_frames([4]))


def test_read_clip_shapes_and_options(video_path):
    with vnative.Video(video_path) as v:
        assert list(v.clip_indices(n_frames=4, stride=2, start=1)) == [1, 3, 5, 7]
        assert list(v.clip_indices(n_frames=3, start=0, reverse=1)) == [2, 1, 0]
        u8 = v.read_clip(n_frames=4, stride=2, dtype=np.uint8)
        assert u8.shape == (4, 16, 32, 3)
        assert np.array_equal(u8, v.read_frames([0, 2, 4, 6]))
        f32 = v.read_clip({"n_frames": 4}, transform={"crop_size": 16, "mean": [0, 0, 0], "std": [1, 1, 1]})
        assert f32.shape == (3, 4, 16, 16) and f32.dtype == np.float32
        assert v.clip_shape({"n_frames": 4}, {"crop_size": 16}) == (3, 4, 16, 16)
        assert 0.0 <= f32.min() and f32.max() <= 1.0
        out = np.empty((3, 4, 16, 16), np.float32)
        assert v.read_clip(n_frames=4, transform={"crop_size": 16}, out=out) is out


def test_video_errors(tmp_path, video_path):
    with pytest.raises(vnative.VnError) as err:
        vnative.Video("/nonexistent/dir/clip.mp4")
    assert err.value.status == "VN_ERR_NOT_FOUND"
    assert "/nonexistent/dir/clip.mp4" in err.value.message
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 100)
    with pytest.raises(vnative.VnError) as err:
        vnative.Video(str(junk))
    assert err.value.status == "VN_ERR_FORMAT" and "junk.mp4" in err.value.message
    with vnative.Video(video_path) as v:
        with pytest.raises(ValueError):
            v.read_frames([-1])
        with pytest.raises(TypeError):
            v.read_frames([0.5])
        with pytest.raises(vnative.VnError) as err:
            v.read_frames([1000])
        assert err.value.status == "VN_ERR_INVALID_ARG"
        with pytest.raises(TypeError, match="unknown option 'frames'"):
            v.read_clip(frames=4)
        with pytest.raises(TypeError, match="dtype"):
            v.read_clip(n_frames=4, dtype=np.int32)
        with pytest.raises(TypeError, match="float32"):
            v.read_clip(n_frames=4, out=np.empty((3, 4, 16, 32), np.float64))
        with pytest.raises(ValueError, match="shape"):
            v.read_clip(n_frames=4, out=np.empty((3, 4, 16, 16), np.float32))
    with pytest.raises(TypeError):
        vnative.Video(42)


def test_writer_errors(tmp_path):
    path = str(tmp_path / "w.mkv")
    with pytest.raises(ValueError, match="codec"):
        vnative.VideoWriter(path, 32, 16, codec="h265")
    w = vnative.VideoWriter(path, 32, 16, codec="ffv1")
    with pytest.raises(ValueError, match=r"\(T, H, W, C\)"):
        w.write(np.zeros((2, 16, 30, 3), np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        w.write(np.zeros((2, 16, 32, 3), np.float32))
    w.write(np.zeros((16, 32, 3), np.uint8))  # one frame
    w.close()  # without finish(): the partial file is discarded
    assert not os.path.exists(path)
    with pytest.raises(RuntimeError):
        with vnative.VideoWriter(path, 32, 16, codec="ffv1") as w:
            w.write(np.zeros((2, 16, 32, 3), np.uint8))
            raise RuntimeError("stop")
    assert not os.path.exists(path)
    assert vnative.VideoWriter.resolve_codec("auto") in ("libx264", "mpeg4")


def test_loader_over_a_directory(video_dir):
    with vnative.Loader(str(video_dir), batch_size=2, shuffle=False, n_workers=1,
                        clip={"n_frames": 4, "start": 0}, transform={"crop_size": 16}) as loader:
        assert len(loader) == 3
        assert loader.batch_shape == (2, 3, 4, 16, 16)
        batches = list(loader)
        assert [b[0].shape[0] for b in batches] == [2, 1]
        clips, labels = batches[0]
        assert clips.dtype == np.float32 and labels.dtype == np.int64
        assert list(labels) == [-1, -1]
        stats = loader.stats
        assert stats["n_items"] == 3 and stats["n_loaded"] == 3 and stats["n_skipped"] == 0
        # Each `for` is a new epoch; with shuffle off the batches are the same.
        again = list(loader)
        assert np.array_equal(again[0][0], clips)
        assert loader.epoch == 2


def test_loader_manifest_uint8_labels_and_items(video_dir, tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("".join(f"{video_dir / f'clip{k}.mkv'},{k}\n" for k in range(3)))
    with vnative.Loader(manifest, batch_size=3, dtype=np.uint8, shuffle=True, seed=4,
                        clip={"n_frames": 2, "start": 0}) as loader:
        clips, labels, items = next(loader.batches(with_items=True))
        assert clips.shape == (3, 2, 16, 32, 3) and clips.dtype == np.uint8
        assert sorted(labels.tolist()) == [0, 1, 2]
        assert np.array_equal(labels, items)  # label k is row k
        assert loader.next_batch() is None


def test_loader_errors(tmp_path):
    with pytest.raises(vnative.VnError) as err:
        vnative.Loader(str(tmp_path / "missing.csv"))
    assert str(tmp_path / "missing.csv") in err.value.message
    with pytest.raises(vnative.VnError) as err:
        vnative.Loader(str(tmp_path), batch_size=0)
    assert err.value.status == "VN_ERR_INVALID_ARG"
    with pytest.raises(TypeError, match="unknown option"):
        vnative.Loader(str(tmp_path), clip={"frames": 4})
