"""The time vector: one direction in embedding space for the arrow of time (timevec.h)."""
import ctypes
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np

from . import _lib
from . import _types as T
from ._core import input_array, ptr, tensor
from .probe import linear_options


@dataclass(frozen=True)
class TimevecResult:
    """How well a time vector reads the arrow of time on held-out pairs (vn_timevec_result)."""
    sign_accuracy: float
    ci_low: float
    ci_high: float
    pair_accuracy: float
    reversal_r1: float
    reversal_r1_base: float
    mean_gap: float
    n: int


def _pairs(forward: Any, reversed: Any, dim: Optional[int] = None):
    f = input_array(forward, np.float32, "forward", (None, dim), "N, D")
    r = input_array(reversed, np.float32, "reversed", f.shape, "N, D")
    return f, r


def _vector(v: Any, name: str, dim: int) -> np.ndarray:
    return input_array(v, np.float32, name, (dim,), "D")


def cosine(a: Any, b: Any) -> float:
    """The cosine between two float32 vectors of one length; 0 when either is zero."""
    va = input_array(a, np.float32, "a", (None,), "D")
    vb = _vector(b, "b", va.shape[0])
    out = ctypes.c_double()
    _lib.check(_lib.vn_timevec_cosine(ptr(va, ctypes.c_float), ptr(vb, ctypes.c_float), va.shape[0],
                                      ctypes.byref(out)))
    return out.value


class TimeVector:
    """t = mean(forward) - mean(reversed) and the threshold ``offset`` halfway between them.

    ``TimeVector.fit(forward, reversed)`` from paired embeddings float32 [N, D] (row i of
    each is one clip, played both ways); ``TimeVector(t, offset)`` from known values.
    """

    def __init__(self, t: Any, offset: float = 0.0) -> None:
        self.t = input_array(t, np.float32, "t", (None,), "D").copy()
        self.offset = float(offset)

    @classmethod
    def fit(cls, forward: Any, reversed: Any) -> "TimeVector":
        """Fit t and offset on paired forward / reversed embeddings."""
        f, r = _pairs(forward, reversed)
        t = np.empty(f.shape[1], dtype=np.float32)
        offset = ctypes.c_double()
        tf, tr = tensor(f), tensor(r)
        _lib.check(_lib.vn_timevec_fit(ctypes.byref(tf), ctypes.byref(tr), ptr(t, ctypes.c_float),
                                       ctypes.byref(offset)))
        return cls(t, offset.value)

    @property
    def dim(self) -> int:
        """D."""
        return int(self.t.shape[0])

    def evaluate(self, forward: Any, reversed: Any, **options: Any) -> TimevecResult:
        """Score on pairs it was not fitted on; ``options``: alpha, bootstrap, confidence, seed."""
        f, r = _pairs(forward, reversed, self.dim)
        opts = T.TimevecOptions()
        _lib.check(_lib.vn_timevec_options_init(ctypes.byref(opts), T.TIMEVEC_OPTIONS_VERSION))
        T.apply_fields(opts, options, "time vector")
        res = T.TimevecResult()
        _lib.check(_lib.vn_timevec_result_init(ctypes.byref(res), T.TIMEVEC_RESULT_VERSION))
        tf, tr = tensor(f), tensor(r)
        _lib.check(_lib.vn_timevec_evaluate(ptr(self.t, ctypes.c_float), self.offset, ctypes.byref(tf),
                                            ctypes.byref(tr), ctypes.byref(opts), ctypes.byref(res)))
        return TimevecResult(**T.to_dict(res))

    def project(self, emb: Any) -> np.ndarray:
        """Projections of the rows of emb float32 [N, D] on t / |t| (float64 [N])."""
        e = input_array(emb, np.float32, "emb", (None, self.dim), "N, D")
        out = np.empty(e.shape[0], dtype=np.float64)
        te = tensor(e)
        _lib.check(_lib.vn_timevec_project(ptr(self.t, ctypes.c_float), ctypes.byref(te), ptr(out, ctypes.c_double)))
        return out

    def cosine(self, other: Any) -> float:
        """The cosine between t and another time vector (or any D-vector)."""
        return cosine(self.t, other.t if isinstance(other, TimeVector) else other)

    @staticmethod
    def probe_normal(forward: Any, reversed: Any, weight_decays: Optional[Sequence[float]] = None,
                     **options: Any) -> np.ndarray:
        """The normal of the linear probe separating forward (1) from reversed (0), float32 [D]."""
        f, r = _pairs(forward, reversed)
        opts, keep = linear_options(weight_decays, **options)
        normal = np.empty(f.shape[1], dtype=np.float32)
        tf, tr = tensor(f), tensor(r)
        _lib.check(_lib.vn_timevec_probe_normal(ctypes.byref(tf), ctypes.byref(tr), ctypes.byref(opts),
                                                ptr(normal, ctypes.c_float)))
        del keep
        return normal

    def __repr__(self) -> str:
        return f"<vnative.TimeVector dim={self.dim} |t|={float(np.linalg.norm(self.t)):.4g} offset={self.offset:.4g}>"
