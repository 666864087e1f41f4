"""A threaded, prefetching batch loader over a CSV manifest or a directory (loader.h)."""
import ctypes
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple

import numpy as np

from . import _lib
from . import _types as T
from ._core import Resource, as_dtype, check_index, ptr, tensor
from .video import clip_options, transform_options

Batch = Tuple[np.ndarray, np.ndarray]


class Loader(Resource):
    """Batches of clips and labels: ``for clips, labels in loader: ...``.

    ``source`` is a CSV manifest (``path[,label][,start_s,end_s]`` rows) or a directory of
    videos. ``clip`` and ``transform`` are dicts of vn_clip_options / vn_transform_options
    fields (see Video.read_clip); without ``clip`` each item is a random 16-frame clip,
    without ``transform`` the videos must all have one size. float32 batches are
    [N, C, T, H, W] (normalised), uint8 batches [N, T, H, W, C]; labels are int64 [N],
    -1 where the manifest has none. Each ``for`` loop is one epoch (epochs 0, 1, ...;
    the shuffle is deterministic per (seed, epoch)); the last batch may be short unless
    ``drop_last``. Unreadable files are skipped and counted in ``stats``.
    """

    _kind = "loader"

    def __init__(self, source: Any, batch_size: int = 8, *, n_workers: int = 0, prefetch: int = 0,
                 shuffle: bool = True, drop_last: bool = False, seed: int = 0, timeout_s: float = 0.0,
                 dtype: Any = np.float32, clip: Optional[Mapping[str, Any]] = None,
                 transform: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__()
        self._dtype = as_dtype(dtype)
        opts = T.LoaderOptions()
        _lib.check(_lib.vn_loader_options_init(ctypes.byref(opts), T.LOADER_OPTIONS_VERSION))
        T.apply_fields(opts, {"batch_size": batch_size, "n_workers": n_workers, "prefetch": prefetch,
                              "shuffle": int(bool(shuffle)), "drop_last": int(bool(drop_last)), "seed": seed,
                              "timeout_s": timeout_s, "dtype": 0 if self._dtype == np.float32 else 1}, "Loader")
        self.source = _lib.encode_path(source, "source")
        opts.source = self.source
        # Copied by the library at create, but kept anyway for the call's duration.
        self._clip = clip_options(clip) if clip is not None else None
        self._transform = transform_options(transform) if transform is not None else None
        if self._clip is not None:
            opts.clip = ctypes.pointer(self._clip)
        if self._transform is not None:
            opts.transform = ctypes.pointer(self._transform)
        self._batch_size = opts.batch_size
        self._epoch = 0
        handle = ctypes.c_void_p()
        _lib.check(_lib.vn_loader_create(ctypes.byref(handle), ctypes.byref(opts)))
        self._attach(handle, _lib.vn_loader_destroy)

    def __len__(self) -> int:
        """Number of items (manifest rows or files), not batches."""
        n = ctypes.c_int64()
        _lib.check(_lib.vn_loader_size(self._live(), ctypes.byref(n)))
        return n.value

    @property
    def batch_size(self) -> int:
        """Clips per full batch."""
        return self._batch_size

    @property
    def batch_shape(self) -> Tuple[int, int, int, int, int]:
        """The shape of a full batch: (N, C, T, H, W) for float32, (N, T, H, W, C) for uint8."""
        shape = (ctypes.c_int64 * 5)()
        _lib.check(_lib.vn_loader_batch_shape(self._live(), shape))
        return tuple(shape)  # type: ignore[return-value]

    @property
    def dtype(self) -> np.dtype:
        """float32 or uint8."""
        return self._dtype

    @property
    def epoch(self) -> int:
        """The epoch the next ``for`` loop (or start_epoch() without an argument) runs."""
        return self._epoch

    def start_epoch(self, epoch: Optional[int] = None) -> None:
        """Begin an epoch (default: the next one): fixes its order and starts the workers."""
        epoch = self._epoch if epoch is None else check_index(epoch, "epoch")
        _lib.check(_lib.vn_loader_start_epoch(self._live(), epoch))
        self._epoch = epoch + 1

    def next_batch(self, with_items: bool = False) -> Optional[Tuple[np.ndarray, ...]]:
        """The next batch of the current epoch as (clips, labels) (and item indices with
        ``with_items``), trimmed to the clips it holds; None when the epoch is over."""
        handle = self._live()
        clips = np.empty(self.batch_shape, dtype=self._dtype)
        labels = np.empty(self._batch_size, dtype=np.int64)
        items = np.empty(self._batch_size, dtype=np.int64)
        n = ctypes.c_int64()
        t = tensor(clips)
        status = _lib.vn_loader_next(handle, ctypes.byref(t), ptr(labels, ctypes.c_int64),
                                     ptr(items, ctypes.c_int64), ctypes.byref(n))
        if status == _lib.VN_ERR_END:
            return None
        _lib.check(status)
        k = n.value
        if k < clips.shape[0]:
            clips, labels, items = clips[:k], labels[:k], items[:k]
        return (clips, labels, items) if with_items else (clips, labels)

    def batches(self, epoch: Optional[int] = None, with_items: bool = False) -> Iterator[Tuple[np.ndarray, ...]]:
        """Start an epoch (default: the next one) and yield its batches."""
        self.start_epoch(epoch)
        while True:
            batch = self.next_batch(with_items)
            if batch is None:
                return
            yield batch

    def __iter__(self) -> Iterator[Batch]:
        """One epoch (the next one) of (clips, labels) batches."""
        return self.batches()  # type: ignore[return-value]

    @property
    def stats(self) -> Dict[str, int]:
        """n_items, n_loaded and n_skipped (this epoch), n_skipped_total, queue_peak."""
        s = T.LoaderStats()
        s.version = T.LOADER_STATS_VERSION
        _lib.check(_lib.vn_loader_get_stats(self._live(), ctypes.byref(s)))
        return T.to_dict(s)

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{len(self)} items"
        return f"<vnative.Loader {self.source.decode(errors='replace')} batch={self._batch_size} {state}>"
