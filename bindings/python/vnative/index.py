"""Exact nearest-neighbour search over embeddings (index.h)."""
import ctypes
from typing import Any, Tuple

import numpy as np

from . import _lib
from . import _types as T
from ._core import Resource, check_index, input_array, int_array, ptr, tensor
from ._lib import VnError
from .context import Context, resolve_context

METRICS = tuple(T.INDEX_METRICS)
_metric_code = T.enum_converter(T.INDEX_METRICS, "metric")
_metric_name = T.enum_namer(T.INDEX_METRICS)


def available() -> bool:
    """Whether the loaded libvnative has the vn_index_* functions."""
    return _lib.HAVE_INDEX


def _require() -> None:
    if not _lib.HAVE_INDEX:
        raise VnError("VN_ERR_UNSUPPORTED", f"{_lib.path} has no vn_index_* functions (a library older than index.h)")


class Index(Resource):
    """Exact top-k search by cosine similarity or inner product over int64-labelled vectors.

    ``Index(ctx, dim, metric="cosine")`` is empty; ``add(vectors, ids)`` appends float32
    [n, dim] rows; ``search(queries, k)`` returns (ids int64 [q, k], scores float32 [q, k]),
    best first, id -1 and score -inf past the index's size. ``len(index)`` is the number
    of vectors. Files are .npy (float32 [n, dim] vectors, int64 [n] ids): save() and
    Index.load().
    """

    _kind = "index"

    def __init__(self, ctx: Context, dim: int, metric: str = "cosine") -> None:
        super().__init__()
        _require()
        ctx = resolve_context(ctx)
        dim = check_index(dim, "dim", 1)
        code = _metric_code(metric)
        handle = ctypes.c_void_p()
        _lib.check(_lib.vn_index_create(ctypes.byref(handle), ctx._live(), dim, code))
        self._ctx = ctx
        self._attach(handle, _lib.vn_index_destroy, ctx)

    @classmethod
    def load(cls, ctx: Context, vectors_path: Any, ids_path: Any = None, metric: str = "cosine") -> "Index":
        """An index from .npy files written by save() (ids_path None numbers the rows 0..n-1)."""
        _require()
        ctx = resolve_context(ctx)
        code = _metric_code(metric)
        self = cls.__new__(cls)
        Resource.__init__(self)
        handle = ctypes.c_void_p()
        _lib.check(_lib.vn_index_load(ctypes.byref(handle), ctx._live(), _lib.encode_path(vectors_path, "vectors_path"),
                                      _lib.optional_path(ids_path, "ids_path"), code))
        self._ctx = ctx
        self._attach(handle, _lib.vn_index_destroy, ctx)
        return self

    @property
    def dim(self) -> int:
        """The vectors' dimension."""
        out = ctypes.c_int64()
        _lib.check(_lib.vn_index_dim(self._live(), ctypes.byref(out)))
        return out.value

    @property
    def metric(self) -> str:
        """"cosine" or "inner_product"."""
        out = ctypes.c_int()
        _lib.check(_lib.vn_index_metric_of(self._live(), ctypes.byref(out)))
        return _metric_name(out.value)

    def __len__(self) -> int:
        """The number of vectors stored."""
        out = ctypes.c_int64()
        _lib.check(_lib.vn_index_size(self._live(), ctypes.byref(out)))
        return out.value

    @property
    def size(self) -> int:
        """Number of vectors stored (len(index))."""
        return len(self)

    def add(self, vectors: Any, ids: Any = None) -> None:
        """Append float32 vectors [n, dim] (or one [dim]) with int64 ids [n] (None: size, size+1, ...)."""
        dim = self.dim
        single = isinstance(vectors, np.ndarray) and vectors.ndim == 1
        v = input_array(vectors[None] if single else vectors, np.float32, "vectors", (None, dim), "N, dim")
        i = None if ids is None else int_array(np.atleast_1d(ids), "ids", v.shape[0], np.int64)
        t = tensor(v)
        _lib.check(_lib.vn_index_add(self._live(), ctypes.byref(t), ptr(i, ctypes.c_int64)))

    def _queries(self, queries: Any) -> Tuple[np.ndarray, bool]:
        single = isinstance(queries, np.ndarray) and queries.ndim == 1
        q = input_array(queries[None] if single else queries, np.float32, "queries", (None, self.dim), "Q, dim")
        return q, single

    def search(self, queries: Any, k: int = 10) -> Tuple[np.ndarray, np.ndarray]:
        """The k best vectors for each query row: (ids int64 [q, k], scores float32 [q, k]).
        A single query [dim] gives ([k], [k])."""
        q, single = self._queries(queries)
        k = check_index(k, "k", 1)
        ids = np.empty((q.shape[0], k), dtype=np.int64)
        scores = np.empty((q.shape[0], k), dtype=np.float32)
        t = tensor(q)
        _lib.check(_lib.vn_index_search(self._live(), ctypes.byref(t), k, ptr(ids, ctypes.c_int64),
                                        ptr(scores, ctypes.c_float)))
        return (ids[0], scores[0]) if single else (ids, scores)

    def search_shifted(self, queries: Any, direction: Any, alpha: float, k: int = 10) -> Tuple[np.ndarray, np.ndarray]:
        """search() with every query moved first: q - alpha * direction (direction float32 [dim]).

        With a time vector t and alpha = 2 (q . t) / (t . t), this finds "the reversed
        version of this clip"; alpha 0 is search().
        """
        q, single = self._queries(queries)
        d = input_array(direction, np.float32, "direction", (q.shape[1],), "dim")
        k = check_index(k, "k", 1)
        ids = np.empty((q.shape[0], k), dtype=np.int64)
        scores = np.empty((q.shape[0], k), dtype=np.float32)
        t = tensor(q)
        _lib.check(_lib.vn_index_search_shifted(self._live(), ctypes.byref(t), ptr(d, ctypes.c_float), float(alpha),
                                                k, ptr(ids, ctypes.c_int64), ptr(scores, ctypes.c_float)))
        return (ids[0], scores[0]) if single else (ids, scores)

    def get(self, row: int) -> Tuple[np.ndarray, int]:
        """The stored vector of ``row`` (normalised for cosine) and its id."""
        row = check_index(row, "row")
        out = np.empty(self.dim, dtype=np.float32)
        ident = ctypes.c_int64()
        _lib.check(_lib.vn_index_get(self._live(), row, ptr(out, ctypes.c_float), ctypes.byref(ident)))
        return out, ident.value

    def save(self, vectors_path: Any, ids_path: Any) -> None:
        """Write the vectors (.npy float32 [n, dim], as added) and ids (.npy int64 [n]) atomically."""
        _lib.check(_lib.vn_index_save(self._live(), _lib.encode_path(vectors_path, "vectors_path"),
                                      _lib.encode_path(ids_path, "ids_path")))

    def __repr__(self) -> str:
        if self.closed:
            return "<vnative.Index closed>"
        return f"<vnative.Index {len(self)} x {self.dim} {self.metric}>"

