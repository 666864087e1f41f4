"""Frozen-feature probes on numpy features, and the embedding helpers that feed them (probe.h)."""
import ctypes
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence, Tuple

import numpy as np

from . import _lib
from . import _types as T
from ._core import check_index, input_array, int_array, ptr, require, tensor
from .encoder import Encoder
from .world import World, task_code

REVERSED = 1  # VN_PROBE_EMBED_REVERSED


@dataclass(frozen=True)
class ProbeResult:
    """The result of a linear or k-NN probe (vn_probe_result).

    accuracy on the test rows with its bootstrap interval [ci_low, ci_high];
    train_accuracy, val_accuracy and the chosen weight_decay for the linear probe (NaN
    for k-NN, and val_accuracy NaN when nothing was swept); n_train and n_test rows.
    """
    accuracy: float
    ci_low: float
    ci_high: float
    train_accuracy: float
    val_accuracy: float
    weight_decay: float
    n_train: int
    n_test: int


@dataclass(frozen=True)
class FutureProbeResult:
    """Future-clip retrieval scores (vn_future_probe_result): r1 with its interval, r5,
    mrr, hard_negative (true continuation above its own reversal) with its interval, the
    ridge strength (NaN without a map), n_queries scored and candidates per query."""
    r1: float
    r1_ci_low: float
    r1_ci_high: float
    r5: float
    mrr: float
    hard_negative: float
    hard_ci_low: float
    hard_ci_high: float
    ridge: float
    n_queries: int
    candidates: int


def _result(cls: Any, struct: Any) -> Any:
    return cls(**T.to_dict(struct))


def _features(x: Any, name: str, dim: Optional[int] = None) -> np.ndarray:
    return input_array(x, np.float32, name, (None, dim), "N, D")


def _labels_groups(y: Any, groups: Any, n: int, name: str) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    labels = int_array(y, f"{name}_y", n)
    g = None if groups is None else int_array(groups, f"{name}_groups", n)
    return labels, g


def _n_classes(n_classes: Optional[int], *labels: np.ndarray) -> int:
    if n_classes is not None:
        return check_index(n_classes, "n_classes", 2)
    top = max(int(y.max()) for y in labels if y.size)
    return max(2, top + 1)


def _options(struct_cls: Any, init: Any, version: int, options: Mapping[str, Any], what: str,
             settable: Optional[set] = None) -> Any:
    opts = struct_cls()
    _lib.check(init(ctypes.byref(opts), version))
    T.apply_fields(opts, options, what, settable=settable)
    return opts


def linear_options(weight_decays: Optional[Sequence[float]] = None, **options: Any) -> Tuple[Any, Any]:
    """A vn_linear_probe_options (and the array its weight_decays points into, to keep alive)."""
    opts = _options(T.LinearProbeOptions, _lib.vn_linear_probe_options_init, T.LINEAR_PROBE_OPTIONS_VERSION,
                    options, "linear probe", {"val_fraction", "max_iter", "bootstrap", "confidence", "seed"})
    keep = None
    if weight_decays is not None:
        wd = np.ascontiguousarray(np.atleast_1d(np.asarray(weight_decays, dtype=np.float64)))
        if wd.ndim != 1 or wd.size == 0:
            raise ValueError("weight_decays must be a non-empty sequence of numbers")
        keep = wd
        opts.weight_decays = ptr(wd, ctypes.c_double)
        opts.n_weight_decays = wd.size
    return opts, keep


class Probe:
    """Frozen-feature probes (namespace of static methods; nothing to close).

    Features are float32 [N, D] arrays, labels integers in 0..n_classes-1 (n_classes
    defaults to the largest label + 1, at least 2), groups optional integers keeping
    related rows together. Options not given take the library's defaults (a sweep of
    weight decays 1e-6..1e1, 1000 bootstrap resamples, 95% intervals).
    """

    @staticmethod
    def linear(train_x: Any, train_y: Any, test_x: Any, test_y: Any, n_classes: Optional[int] = None, *,
               train_groups: Any = None, test_groups: Any = None,
               weight_decays: Optional[Sequence[float]] = None, **options: Any) -> ProbeResult:
        """L2-regularised logistic regression fitted on train, scored on test.

        ``options``: val_fraction, max_iter, bootstrap, confidence, seed
        (vn_linear_probe_options). A single weight decay skips the sweep.
        """
        tx = _features(train_x, "train_x")
        sx = _features(test_x, "test_x", tx.shape[1])
        ty, tg = _labels_groups(train_y, train_groups, tx.shape[0], "train")
        sy, sg = _labels_groups(test_y, test_groups, sx.shape[0], "test")
        k = _n_classes(n_classes, ty, sy)
        opts, keep = linear_options(weight_decays, **options)
        res = T.ProbeResult()
        _lib.check(_lib.vn_probe_result_init(ctypes.byref(res), T.PROBE_RESULT_VERSION))
        tt, st = tensor(tx), tensor(sx)
        c_int = ctypes.c_int
        _lib.check(_lib.vn_probe_linear(ctypes.byref(tt), ptr(ty, c_int), ptr(tg, c_int), ctypes.byref(st),
                                        ptr(sy, c_int), ptr(sg, c_int), k, ctypes.byref(opts), ctypes.byref(res)))
        del keep
        return _result(ProbeResult, res)

    @staticmethod
    def knn(train_x: Any, train_y: Any, test_x: Any, test_y: Any, n_classes: Optional[int] = None, *,
            test_groups: Any = None, **options: Any) -> ProbeResult:
        """Cosine k-NN with exp(sim / temperature) votes (DINO: k=20, temperature=0.07).

        ``options``: k, temperature, bootstrap, confidence, seed (vn_knn_probe_options).
        """
        tx = _features(train_x, "train_x")
        sx = _features(test_x, "test_x", tx.shape[1])
        ty, _ = _labels_groups(train_y, None, tx.shape[0], "train")
        sy, sg = _labels_groups(test_y, test_groups, sx.shape[0], "test")
        k = _n_classes(n_classes, ty, sy)
        opts = _options(T.KnnProbeOptions, _lib.vn_knn_probe_options_init, T.KNN_PROBE_OPTIONS_VERSION, options,
                        "k-NN probe")
        res = T.ProbeResult()
        _lib.check(_lib.vn_probe_result_init(ctypes.byref(res), T.PROBE_RESULT_VERSION))
        tt, st = tensor(tx), tensor(sx)
        c_int = ctypes.c_int
        _lib.check(_lib.vn_probe_knn(ctypes.byref(tt), ptr(ty, c_int), ctypes.byref(st), ptr(sy, c_int),
                                     ptr(sg, c_int), k, ctypes.byref(opts), ctypes.byref(res)))
        return _result(ProbeResult, res)

    @staticmethod
    def embed_world(encoder: Encoder, world: World, task: Any, first_index: int, n: int, *, batch: int = 0,
                    reversed: bool = False) -> Tuple[np.ndarray, np.ndarray]:
        """Embed clips first_index .. first_index+n-1 of a binary world task with a frozen encoder.

        Returns (embeddings float32 [n, D], labels int32 [n]); ``reversed`` plays every clip
        backwards before encoding (the labels stay those of the clips as rendered). The
        world's n_frames, size and channels must match the encoder's config.
        """
        require(encoder, Encoder, "encoder")
        require(world, World, "world")
        code = task_code(task)
        first_index = check_index(first_index, "first_index")
        n = check_index(n, "n", 1)
        emb = np.empty((n, encoder.dim), dtype=np.float32)
        labels = np.empty(n, dtype=np.int32)
        t = tensor(emb)
        _lib.check(_lib.vn_probe_embed_world(encoder._live(), world._live(), code, first_index, int(batch),
                                             REVERSED if reversed else 0, ctypes.byref(t), ptr(labels, ctypes.c_int)))
        return emb, labels

    @staticmethod
    def pixels_world(world: World, task: Any, first_index: int, n: int, side: int = 8) -> Tuple[np.ndarray, np.ndarray]:
        """The pixel baseline: frame differences of side x side gray cells, no encoder.

        Returns (features float32 [n, (n_frames - 1) * side * side], labels int32 [n]).
        """
        require(world, World, "world")
        code = task_code(task)
        first_index = check_index(first_index, "first_index")
        n = check_index(n, "n", 1)
        side = check_index(side, "side", 1)
        frames = world.options["n_frames"]
        feats = np.empty((n, (frames - 1) * side * side), dtype=np.float32)
        labels = np.empty(n, dtype=np.int32)
        t = tensor(feats)
        _lib.check(_lib.vn_probe_pixels_world(world._live(), code, first_index, side, ctypes.byref(t),
                                              ptr(labels, ctypes.c_int)))
        return feats, labels

    @staticmethod
    def window_options(**fields: Any) -> Any:
        """A vn_window_options from fields: frame_step, window_stride, max_windows, mean, std."""
        return _options(T.WindowOptions, _lib.vn_window_options_init, T.WINDOW_OPTIONS_VERSION, fields, "window")

    @staticmethod
    def embed_video(encoder: Encoder, path: Any, *, reversed: bool = False,
                    **window: Any) -> Tuple[np.ndarray, np.ndarray]:
        """Embed the windows of a video file with a frozen encoder, in order of their start.

        ``window``: frame_step, window_stride, max_windows, mean, std (vn_window_options).
        Returns (embeddings float32 [n_windows, D], start times in seconds float64
        [n_windows]); a video shorter than one window gives 0 rows.
        """
        require(encoder, Encoder, "encoder")
        raw = _lib.encode_path(path)
        opts = Probe.window_options(**window)
        flags = REVERSED if reversed else 0
        handle = encoder._live()
        n = ctypes.c_int64()
        _lib.check(_lib.vn_probe_embed_video(handle, raw, ctypes.byref(opts), flags, None, None, ctypes.byref(n)))
        count = n.value
        emb = np.empty((max(count, 1), encoder.dim), dtype=np.float32)
        starts = np.empty(max(count, 1), dtype=np.float64)
        if count:
            t = tensor(emb)
            _lib.check(_lib.vn_probe_embed_video(handle, raw, ctypes.byref(opts), flags, ctypes.byref(t),
                                                 ptr(starts, ctypes.c_double), ctypes.byref(n)))
        count = min(count, n.value)
        return emb[:count], starts[:count]

    @staticmethod
    def real_aot(encoder: Encoder, paths: Sequence[Any], *, window: Optional[Mapping[str, Any]] = None,
                 **options: Any) -> ProbeResult:
        """The arrow of time on real footage, with folds by source video (>= 2 videos).

        ``window``: vn_window_options fields; ``options``: folds, bootstrap, confidence, seed.
        """
        require(encoder, Encoder, "encoder")
        if isinstance(paths, (str, bytes)):
            raise TypeError("paths must be a sequence of paths, not one path")
        raws = [_lib.encode_path(p, "paths entry") for p in paths]
        if len(raws) < 2:
            raise ValueError(f"real_aot needs at least 2 videos, got {len(raws)}")
        arr = (ctypes.c_char_p * len(raws))(*raws)
        opts = _options(T.RealAotOptions, _lib.vn_real_aot_options_init, T.REAL_AOT_OPTIONS_VERSION, options,
                        "real aot", {"folds", "bootstrap", "confidence", "seed"})
        win = Probe.window_options(**dict(window or {}))
        opts.window = ctypes.pointer(win)
        res = T.ProbeResult()
        _lib.check(_lib.vn_probe_result_init(ctypes.byref(res), T.PROBE_RESULT_VERSION))
        _lib.check(_lib.vn_probe_real_aot(encoder._live(), arr, len(raws), ctypes.byref(opts), ctypes.byref(res)))
        return _result(ProbeResult, res)

    @staticmethod
    def future(encoder: Encoder, world: World, n_train: int, n_test: int, *, map: str = "ridge",
               **options: Any) -> FutureProbeResult:
        """Future-clip retrieval on the world's future task with a frozen encoder.

        The world needs n_frames = 2 x the encoder's frames and future_context = frames, at
        its size and channels. ``map`` is "ridge" or "none"; ``options``: batch, bootstrap,
        confidence, seed.
        """
        require(encoder, Encoder, "encoder")
        require(world, World, "world")
        opts = _options(T.FutureProbeOptions, _lib.vn_future_probe_options_init, T.FUTURE_PROBE_OPTIONS_VERSION,
                        dict(options, map=T.enum_converter(T.FUTURE_MAPS, "map")(map)), "future probe")
        res = T.FutureProbeResult()
        _lib.check(_lib.vn_future_probe_result_init(ctypes.byref(res), T.FUTURE_PROBE_RESULT_VERSION))
        _lib.check(_lib.vn_probe_future(encoder._live(), world._live(), check_index(n_train, "n_train", 1),
                                        check_index(n_test, "n_test", 1), ctypes.byref(opts), ctypes.byref(res)))
        return _result(FutureProbeResult, res)
