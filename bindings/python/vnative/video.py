"""Frame-accurate video reading, clip sampling and transforms, and writing (video.h)."""
import ctypes
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _lib
from . import _types as T
from ._core import Resource, as_dtype, check_index, input_array, int_array, output_array, ptr, tensor
from ._lib import VnError

Options = Optional[Mapping[str, Any]]


def clip_options(options: Options = None, **fields: Any) -> T.ClipOptions:
    """A vn_clip_options from the library's defaults and vn_clip_options fields by name:
    n_frames, stride (0: from target_fps), target_fps, start (-1: random from seed),
    reverse, seed."""
    opts = T.ClipOptions()
    _lib.check(_lib.vn_clip_options_init(ctypes.byref(opts), T.CLIP_OPTIONS_VERSION))
    T.apply_fields(opts, dict(options or {}, **fields), "clip options")
    return opts


def transform_options(options: Options = None, **fields: Any) -> T.TransformOptions:
    """A vn_transform_options from the library's defaults and fields by name: short_side,
    crop_size, random_resized_crop, rrc_scale, rrc_ratio, hflip_prob, grayscale, mean,
    std, seed."""
    opts = T.TransformOptions()
    _lib.check(_lib.vn_transform_options_init(ctypes.byref(opts), T.TRANSFORM_OPTIONS_VERSION))
    T.apply_fields(opts, dict(options or {}), "transform options")
    T.apply_fields(opts, fields, "transform options")
    return opts


def _dtype_code(dtype: np.dtype) -> int:
    return 0 if dtype == np.float32 else 1


class Video(Resource):
    """An open video file (or in-memory file): metadata, frames by index or time, clips.

    ``approximate=True`` skips the packet scan (the frame count comes from the header);
    ``n_threads`` decoder threads (0: the library chooses); ``timeout_s`` fails any
    single open or read that takes longer (0: no limit). Frames are uint8 RGB
    [n, H, W, 3] at the display size; ``video[i]`` is frame i, ``video[a:b]`` a range.
    A Video is used by one thread at a time.
    """

    _kind = "video"

    def __init__(self, path: Any, *, approximate: bool = False, n_threads: int = 0, timeout_s: float = 0.0) -> None:
        super().__init__()
        opts = self._open_options(approximate, n_threads, timeout_s)
        self.path = _lib.encode_path(path)
        handle = ctypes.c_void_p()
        _lib.check(_lib.vn_video_create(ctypes.byref(handle), self.path, ctypes.byref(opts)))
        self._attach(handle, _lib.vn_video_destroy)
        self._load_info()

    @staticmethod
    def _open_options(approximate: bool, n_threads: int, timeout_s: float) -> T.VideoOpenOptions:
        opts = T.VideoOpenOptions()
        _lib.check(_lib.vn_video_open_options_init(ctypes.byref(opts), T.VIDEO_OPEN_OPTIONS_VERSION))
        T.apply_fields(opts, {"approximate": int(bool(approximate)), "n_threads": n_threads,
                              "timeout_s": timeout_s}, "Video")
        return opts

    @classmethod
    def from_bytes(cls, data: Union[bytes, bytearray, memoryview], *, approximate: bool = False,
                   n_threads: int = 0, timeout_s: float = 0.0) -> "Video":
        """Open an in-memory file (the bytes are copied by the library)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes-like, got {type(data).__name__}")
        raw = bytes(data)
        self = cls.__new__(cls)
        Resource.__init__(self)
        opts = cls._open_options(approximate, n_threads, timeout_s)
        self.path = b"<memory>"
        handle = ctypes.c_void_p()
        _lib.check(_lib.vn_video_create_from_memory(ctypes.byref(handle), raw, len(raw), ctypes.byref(opts)))
        self._attach(handle, _lib.vn_video_destroy)
        self._load_info()
        return self

    def _load_info(self) -> None:
        info = T.VideoInfo()
        info.version = T.VIDEO_INFO_VERSION
        _lib.check(_lib.vn_video_get_info(self._live(), ctypes.byref(info)))
        d = T.to_dict(info)
        for key in ("n_frames_exact", "variable_frame_rate", "full_range"):
            d[key] = bool(d[key])
        self._info = d

    # --- metadata -------------------------------------------------------------------------

    @property
    def info(self) -> Dict[str, Any]:
        """Every vn_video_info field: width, height (as displayed), coded_width, coded_height,
        rotation, n_frames, n_frames_exact, n_keyframes, duration_s, avg_fps, time_base_num,
        time_base_den, variable_frame_rate, full_range, codec, pixel_format, color_space."""
        self._live()
        return dict(self._info)

    @property
    def n_frames(self) -> int:
        """Frames in the video (exact unless opened approximate)."""
        return self._info["n_frames"]

    @property
    def width(self) -> int:
        """Display width in pixels (after rotation)."""
        return self._info["width"]

    @property
    def height(self) -> int:
        """Display height in pixels (after rotation)."""
        return self._info["height"]

    @property
    def fps(self) -> float:
        """The average frame rate."""
        return self._info["avg_fps"]

    @property
    def duration(self) -> float:
        """Duration in seconds."""
        return self._info["duration_s"]

    def __len__(self) -> int:
        """The number of frames."""
        return self.n_frames

    def frame_time(self, index: int) -> float:
        """Presentation time in seconds of frame ``index`` (VN_ERR_STATE in approximate mode)."""
        out = ctypes.c_double()
        _lib.check(_lib.vn_video_frame_time(self._live(), check_index(index, "index"), ctypes.byref(out)))
        return out.value

    def frame_at_time(self, time_s: float) -> int:
        """The index of the frame shown at ``time_s`` seconds."""
        out = ctypes.c_int64()
        _lib.check(_lib.vn_video_frame_at_time(self._live(), float(time_s), ctypes.byref(out)))
        return out.value

    def keyframes(self) -> np.ndarray:
        """Keyframe indices in presentation order (int64)."""
        handle = self._live()
        total = ctypes.c_int64()
        _lib.check(_lib.vn_video_keyframes(handle, None, 0, ctypes.byref(total)))
        out = np.empty(total.value, dtype=np.int64)
        if total.value:
            _lib.check(_lib.vn_video_keyframes(handle, ptr(out, ctypes.c_int64), total.value, ctypes.byref(total)))
        return out

    # --- frames ---------------------------------------------------------------------------

    def read_frames(self, indices: Any, out: Optional[np.ndarray] = None) -> np.ndarray:
        """Frames by index (any order, duplicates allowed): uint8 [n, H, W, 3]."""
        idx = int_array(np.atleast_1d(np.asarray(indices)), "indices", dtype=np.int64)
        if idx.size == 0:
            raise ValueError("indices is empty")
        if idx.min() < 0:
            raise ValueError(f"frame indices must be >= 0, got {int(idx.min())}")
        arr = output_array(out, np.uint8, (idx.size, self.height, self.width, 3))
        t = tensor(arr)
        _lib.check(_lib.vn_video_read_frames(self._live(), ptr(idx, ctypes.c_int64), idx.size, ctypes.byref(t)))
        return arr

    def read_times(self, times_s: Any, out: Optional[np.ndarray] = None) -> np.ndarray:
        """The frames shown at the given times in seconds: uint8 [n, H, W, 3]."""
        times = np.ascontiguousarray(np.atleast_1d(np.asarray(times_s, dtype=np.float64)))
        if times.ndim != 1 or times.size == 0:
            raise ValueError(f"times_s must be a non-empty 1-D sequence, got shape {times.shape}")
        arr = output_array(out, np.uint8, (times.size, self.height, self.width, 3))
        t = tensor(arr)
        _lib.check(_lib.vn_video_read_times(self._live(), ptr(times, ctypes.c_double), times.size, ctypes.byref(t)))
        return arr

    def __getitem__(self, key: Union[int, slice, Sequence[int]]) -> np.ndarray:
        """``video[i]``: frame i [H, W, 3] (negative from the end); ``video[a:b:s]`` or
        ``video[[i, j]]``: frames [n, H, W, 3]."""
        if isinstance(key, slice):
            return self.read_frames(np.arange(*key.indices(self.n_frames)))
        if isinstance(key, (int, np.integer)):
            i = int(key) + (self.n_frames if key < 0 else 0)
            if not 0 <= i < self.n_frames:
                raise IndexError(f"frame {key} is out of range for {self.n_frames} frames")
            return self.read_frames([i])[0]
        return self.read_frames(key)

    # --- clips ----------------------------------------------------------------------------

    def clip_indices(self, clip: Options = None, **fields: Any) -> np.ndarray:
        """The frame indices a clip samples, in output order (int64 [n_frames])."""
        c = clip_options(clip, **fields)
        out = np.empty(max(c.n_frames, 1), dtype=np.int64)
        _lib.check(_lib.vn_clip_indices(self._live(), ctypes.byref(c), ptr(out, ctypes.c_int64)))
        return out

    def clip_shape(self, clip: Options = None, transform: Options = None, dtype: Any = np.float32,
                   **fields: Any) -> Tuple[int, int, int, int]:
        """The shape read_clip gives: float32 (C, T, H, W) or uint8 (T, H, W, C)."""
        dt = as_dtype(dtype)
        c = clip_options(clip, **fields)
        tr = transform_options(transform) if transform is not None else None
        shape = (ctypes.c_int64 * 4)()
        _lib.check(_lib.vn_clip_shape(self._live(), ctypes.byref(c), ctypes.byref(tr) if tr is not None else None,
                                      _dtype_code(dt), shape))
        return tuple(shape)  # type: ignore[return-value]

    def read_clip(self, clip: Options = None, transform: Options = None, dtype: Any = np.float32,
                  out: Optional[np.ndarray] = None, **fields: Any) -> np.ndarray:
        """Sample, decode and transform one clip.

        ``clip`` (or keyword arguments) sets vn_clip_options: n_frames (default 16), stride,
        target_fps, start (-1: random from seed), reverse, seed. ``transform`` is a dict of
        vn_transform_options (short_side, crop_size, random_resized_crop, hflip_prob,
        grayscale, mean, std, seed, ...) or None for none. float32 clips are normalised
        [C, T, H, W] (the encoders' input), uint8 clips [T, H, W, C].
        """
        dt = as_dtype(dtype if out is None else getattr(out, "dtype", dtype))
        c = clip_options(clip, **fields)
        tr = transform_options(transform) if transform is not None else None
        trp = ctypes.byref(tr) if tr is not None else None
        shape = (ctypes.c_int64 * 4)()
        handle = self._live()
        _lib.check(_lib.vn_clip_shape(handle, ctypes.byref(c), trp, _dtype_code(dt), shape))
        arr = output_array(out, dt, tuple(shape))
        t = tensor(arr)
        _lib.check(_lib.vn_video_read_clip(handle, ctypes.byref(c), trp, ctypes.byref(t)))
        return arr

    def __repr__(self) -> str:
        if self.closed:
            return "<vnative.Video closed>"
        i = self._info
        return (f"<vnative.Video {self.path.decode(errors='replace')} {i['width']}x{i['height']}"
                f" {i['n_frames']} frames {i['codec']}>")


class VideoWriter(Resource):
    """Write uint8 frames [T, H, W, C] (or one [H, W, C]) to a video file.

    The container follows the extension (.mp4, .mkv, .avi, .webm); ``codec`` is "auto"
    (libx264 when available, else mpeg4), "h264", "mpeg4", "ffv1" (lossless) or "vp9".
    The file appears at ``path`` only when finish() succeeds; leaving a ``with`` block
    finishes it, unless an exception is propagating, in which case the partial file is
    discarded (as by close() without finish()).
    """

    _kind = "video writer"

    def __init__(self, path: Any, width: int, height: int, *, channels: int = 3, fps: float = 25.0,
                 codec: str = "auto", quality: int = 0, gop: int = 0, bframes: int = -1) -> None:
        super().__init__()
        opts = T.VideoWriterOptions()
        _lib.check(_lib.vn_video_writer_options_init(ctypes.byref(opts), T.VIDEO_WRITER_OPTIONS_VERSION))
        T.apply_fields(opts, {"width": width, "height": height, "channels": channels, "fps": fps, "codec": codec,
                              "quality": quality, "gop": gop, "bframes": bframes}, "VideoWriter",
                       {"codec": T.enum_converter(T.CODECS, "codec")})
        self._frame_shape = (opts.height, opts.width, opts.channels)
        self.path = _lib.encode_path(path)
        self.finished = False
        handle = ctypes.c_void_p()
        _lib.check(_lib.vn_video_writer_create(ctypes.byref(handle), self.path, ctypes.byref(opts)))
        self._attach(handle, _lib.vn_video_writer_destroy)

    def write(self, frames: Any) -> None:
        """Append uint8 frames [T, H, W, C] or one frame [H, W, C] matching the writer's size."""
        if self.finished:
            raise VnError("VN_ERR_STATE", "the video writer is finished")
        single = isinstance(frames, np.ndarray) and frames.ndim == 3
        shape = self._frame_shape if single else (None,) + self._frame_shape
        arr = input_array(frames, np.uint8, "frames", shape, "H, W, C" if single else "T, H, W, C")
        t = tensor(arr)
        _lib.check(_lib.vn_video_writer_write(self._live(), ctypes.byref(t)))

    def finish(self) -> None:
        """Flush, write the trailer and move the file into place. Then close() frees the writer."""
        _lib.check(_lib.vn_video_writer_finish(self._live()))
        self.finished = True
        self.close()

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is None and not self.closed:
            self.finish()
        self.close()

    @staticmethod
    def resolve_codec(codec: str = "auto") -> str:
        """The encoder a codec name resolves to on this machine ("libx264", "mpeg4", ...)."""
        code = T.enum_converter(T.CODECS, "codec")(codec)
        name = ctypes.c_char_p()
        _lib.check(_lib.vn_video_codec_resolve(code, ctypes.byref(name)))
        return (name.value or b"").decode()
