"""Procedural physics clips with known temporal labels (world.h)."""
import ctypes
import json
from typing import Any, Dict, Optional, Tuple

import numpy as np

from . import _lib
from . import _types as T
from ._core import Resource, as_dtype, check_index, output_array, ptr, tensor

TASKS = ("aot", "gravity", "collision", "order", "speed", "intphys", "future")
BINARY_TASKS = TASKS[:-1]


def task_code(task: Any) -> int:
    """A world task's enum value from its name ("aot", "gravity", ...) or the value itself."""
    return _lib.enum_from_name(_lib.vn_world_task_from_name, task, "task")


class World(Resource):
    """A procedural world: ``world.clip(task, index)`` renders a clip and its label.

    Keyword arguments are vn_world_options fields, with the library's defaults for the
    rest: ``seed``, ``n_frames`` (2..4096), ``size`` (16..256), ``channels`` (3 or 1),
    ``noise``, ``jitter``, ``textured``, ``n_threads``, ``mean``, ``std`` (3 floats each),
    ``future_context``, ``future_candidates``. A clip is a pure function of
    (seed, task, index); float32 clips are [C, T, H, W] normalised by mean/std, uint8
    clips [T, H, W, C]. The world is immutable and needs no context.
    """

    _kind = "world"

    def __init__(self, **options: Any) -> None:
        super().__init__()
        opts = T.WorldOptions()
        _lib.check(_lib.vn_world_options_init(ctypes.byref(opts), T.WORLD_OPTIONS_VERSION))
        T.apply_fields(opts, options, "World")
        self._options = T.to_dict(opts)
        handle = ctypes.c_void_p()
        _lib.check(_lib.vn_world_create(ctypes.byref(handle), ctypes.byref(opts)))
        self._attach(handle, _lib.vn_world_destroy)

    @staticmethod
    def defaults() -> Dict[str, Any]:
        """The library's default vn_world_options, as a dict."""
        opts = T.WorldOptions()
        _lib.check(_lib.vn_world_options_init(ctypes.byref(opts), T.WORLD_OPTIONS_VERSION))
        return T.to_dict(opts)

    @property
    def options(self) -> Dict[str, Any]:
        """The options the world was created with."""
        return dict(self._options)

    @property
    def tasks(self) -> Tuple[str, ...]:
        """The task names; all but "future" are binary tasks with clip()."""
        return TASKS

    def clip_shape(self, dtype: Any = np.float32) -> Tuple[int, int, int, int]:
        """The shape of one clip: (C, T, H, W) for float32, (T, H, W, C) for uint8."""
        dt = as_dtype(dtype)
        o = self._options
        if dt == np.float32:
            return (o["channels"], o["n_frames"], o["size"], o["size"])
        return (o["n_frames"], o["size"], o["size"], o["channels"])

    def clip(self, task: Any, index: int, dtype: Any = np.float32,
             out: Optional[np.ndarray] = None) -> Tuple[np.ndarray, int]:
        """Render clip ``index`` (>= 0) of a binary task; returns (array, label 0 or 1)."""
        code = task_code(task)
        index = check_index(index, "index")
        dt = as_dtype(dtype if out is None else getattr(out, "dtype", dtype))
        arr = output_array(out, dt, self.clip_shape(dt))
        label = ctypes.c_int()
        t = tensor(arr)
        _lib.check(_lib.vn_world_clip(self._live(), code, index, ctypes.byref(t), ctypes.byref(label)))
        return arr, label.value

    def batch(self, task: Any, first_index: int, n: int, dtype: Any = np.float32,
              out: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray]:
        """Render clips first_index .. first_index+n-1 on the world's threads.

        Returns (clips [n, ...clip_shape], labels int32 [n]); identical to n clip() calls.
        """
        code = task_code(task)
        first_index = check_index(first_index, "first_index")
        n = check_index(n, "n", 1)
        dt = as_dtype(dtype if out is None else getattr(out, "dtype", dtype))
        arr = output_array(out, dt, (n,) + self.clip_shape(dt))
        labels = np.empty(n, dtype=np.int32)
        t = tensor(arr)
        _lib.check(_lib.vn_world_batch(self._live(), code, first_index, ctypes.byref(t), ptr(labels, ctypes.c_int)))
        return arr, labels

    def future(self, index: int, dtype: Any = np.float32) -> Dict[str, Any]:
        """The future-retrieval task for query ``index``.

        Returns ``{"context": [Tc, ...] clip, "candidates": [K, Tf, ...] clips, "kinds":
        int32 [K] (0 true, 1 reversed, 2 shifted, 3 another clip of the scene),
        "true_index": int}`` in the dtype's layout (float32 [.., C, T, H, W], uint8
        [.., T, H, W, C]), with Tc = future_context, Tf = n_frames - Tc, K = future_candidates.
        """
        index = check_index(index, "index")
        dt = as_dtype(dtype)
        o = self._options
        tc, k = o["future_context"], o["future_candidates"]
        tf = o["n_frames"] - tc
        c, s = o["channels"], o["size"]
        if dt == np.float32:
            ctx_shape, cand_shape = (c, tc, s, s), (k, c, tf, s, s)
        else:
            ctx_shape, cand_shape = (tc, s, s, c), (k, tf, s, s, c)
        if tc < 1 or tf < 1 or k < 1:
            raise ValueError(f"future_context {tc} does not fit n_frames {o['n_frames']}")
        context = np.empty(ctx_shape, dtype=dt)
        candidates = np.empty(cand_shape, dtype=dt)
        kinds = np.empty(k, dtype=np.int32)
        true_index = ctypes.c_int()
        tc_t, cand_t = tensor(context), tensor(candidates)
        _lib.check(_lib.vn_world_future(self._live(), index, ctypes.byref(tc_t), ctypes.byref(cand_t),
                                        ptr(kinds, ctypes.c_int), ctypes.byref(true_index)))
        return {"context": context, "candidates": candidates, "kinds": kinds, "true_index": true_index.value}

    def describe(self, task: Any, index: int) -> Dict[str, Any]:
        """The scene parameters of a clip, parsed from the library's one-line JSON."""
        code = task_code(task)
        index = check_index(index, "index")
        cap = 4096
        while True:
            buf = ctypes.create_string_buffer(cap)
            status = _lib.vn_world_describe(self._live(), code, index, buf, cap)
            if status == -7 and cap < (1 << 22):  # VN_ERR_SHAPE: the buffer is too small
                cap *= 4
                continue
            _lib.check(status)
            return json.loads(buf.value.decode())

    def __repr__(self) -> str:
        o = self._options
        return (f"<vnative.World seed={o['seed']} {o['n_frames']}x{o['size']}x{o['size']}x{o['channels']}"
                f" {self._state()}>")
