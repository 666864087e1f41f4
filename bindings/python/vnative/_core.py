"""Shared machinery: handle lifetimes, and numpy arrays as vn_tensor views.

Lifetimes. Every object that wraps a C handle derives from Resource. A resource made
from another (an encoder from its context, the trainer's encoder from the trainer) holds
a strong reference to its parent, and the parent counts its live children:

- ``close()`` (or leaving a ``with`` block) closes the children first, then destroys the
  handle, exactly once; later calls are no-ops and any other use raises
  ``VnError("VN_ERR_STATE", "the <kind> is closed")``;
- ``__del__`` of a parent with live children (which can only happen when the garbage
  collector finalises a reference cycle, in any order) defers the destruction to the
  last child's release, so a context is never destroyed before the encoders built on it.

Arrays. Inputs are checked in Python (dtype, number of dimensions, shape) and raise
TypeError or ValueError before any C call. An input that is already a C-contiguous,
aligned array of the right dtype is passed as is (no copy); otherwise one contiguous copy
is made. Outputs are fresh arrays (or the caller's ``out=`` array, checked the same way).
"""
import ctypes
import weakref
from typing import Any, Optional, Sequence, Tuple

import numpy as np

from ._lib import VnError
from ._types import VN_MAX_DIMS, Tensor

DTYPES = {np.dtype(np.float32): 0, np.dtype(np.uint8): 1, np.dtype(np.int32): 2, np.dtype(np.int64): 3}


class Resource:
    """Base of every handle-owning class: close(), ``with``, and safe finalisation."""

    _kind = "object"

    def __init__(self) -> None:
        self._handle: Optional[int] = None
        self._destroy: Any = None
        self._parent: Optional["Resource"] = None
        self._children: "weakref.WeakSet[Resource]" = weakref.WeakSet()
        self._n_children = 0
        self._pending = False

    def _attach(self, handle: ctypes.c_void_p, destroy: Any, parent: Optional["Resource"] = None) -> None:
        """Take ownership of ``handle`` (destroyed with ``destroy``; None: borrowed)."""
        if parent is not None:
            parent._live()
            parent._children.add(self)
            parent._n_children += 1
        self._parent = parent
        self._destroy = destroy
        self._handle = handle.value if isinstance(handle, ctypes.c_void_p) else handle

    def _live(self) -> int:
        """The C handle, or VnError(VN_ERR_STATE) when the object is closed."""
        handle = getattr(self, "_handle", None)
        if not handle:
            raise VnError("VN_ERR_STATE", f"the {self._kind} is closed")
        return handle

    @property
    def closed(self) -> bool:
        """True once close() has run (or creation failed)."""
        return not getattr(self, "_handle", None)

    def close(self) -> None:
        """Release the C object (and close objects made from this one first). Idempotent."""
        handle = getattr(self, "_handle", None)
        if not handle:
            return
        for child in list(self._children):
            child.close()
        self._handle = None
        self._free(handle)
        parent, self._parent = self._parent, None
        if parent is not None:
            parent._release()

    def _free(self, handle: int) -> None:
        if self._destroy is not None:
            self._destroy(handle)

    def _release(self) -> None:
        self._n_children -= 1
        if self._pending and self._n_children <= 0:
            self._pending = False
            self.close()

    def __enter__(self):
        """``with`` returns the object itself."""
        return self

    def __exit__(self, *exc: Any) -> None:
        """Leaving the ``with`` block closes the object."""
        self.close()

    def __del__(self) -> None:
        try:
            if getattr(self, "_n_children", 0) > 0:
                self._pending = True
            else:
                self.close()
        except Exception:  # interpreter shutdown: modules may already be torn down
            pass

    def _state(self) -> str:
        return "closed" if self.closed else "open"


# --- arrays ---------------------------------------------------------------------------

def _shape_text(shape: Sequence[Any]) -> str:
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"


def input_array(value: Any, dtype: Any, name: str, shape: Sequence[Optional[int]],
                dims: str = "") -> np.ndarray:
    """Check ``value`` and return it as a C-contiguous, aligned array of ``dtype``.

    ``shape`` gives the expected shape, None for a free dimension; ``dims`` names the
    dimensions for messages ("N, C, T, H, W"). A numpy array of another dtype raises
    TypeError (no silent conversion of large arrays); a list or other array-like is
    converted. A wrong number of dimensions or size raises ValueError.
    """
    dtype = np.dtype(dtype)
    if isinstance(value, np.ndarray):
        if value.dtype != dtype:
            raise TypeError(f"{name} must be a {dtype.name} array, got {value.dtype.name}"
                            f" (convert with .astype(np.{dtype.name}))")
        arr = value
    else:
        try:
            arr = np.asarray(value, dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be a {dtype.name} array: {exc}") from None
    check_shape(arr, name, shape, dims)
    if not (arr.flags.c_contiguous and arr.flags.aligned):
        arr = np.ascontiguousarray(arr)
    return arr


def check_shape(arr: np.ndarray, name: str, shape: Sequence[Optional[int]], dims: str = "") -> None:
    """ValueError unless arr.shape matches ``shape`` (None entries match anything >= 1)."""
    want = _shape_text(shape) if not dims else f"({dims})"
    if arr.ndim != len(shape):
        raise ValueError(f"{name} must have {len(shape)} dimensions {want}, got shape {tuple(arr.shape)}")
    for i, (got, exp) in enumerate(zip(arr.shape, shape)):
        if (exp is None and got < 1) or (exp is not None and got != exp):
            raise ValueError(f"{name} must have shape {_shape_text(shape)}"
                             + (f" ({dims})" if dims else "") + f", got {tuple(arr.shape)}")


def output_array(out: Optional[np.ndarray], dtype: Any, shape: Tuple[int, ...], name: str = "out") -> np.ndarray:
    """A fresh array, or the caller's ``out`` after checking it is writable, C-contiguous and fits."""
    dtype = np.dtype(dtype)
    if out is None:
        return np.empty(shape, dtype=dtype)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(out).__name__}")
    if out.dtype != dtype:
        raise TypeError(f"{name} must be a {dtype.name} array, got {out.dtype.name}")
    if tuple(out.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {tuple(out.shape)}")
    if not (out.flags.c_contiguous and out.flags.aligned and out.flags.writeable):
        raise ValueError(f"{name} must be a writable, C-contiguous array")
    return out


def int_array(value: Any, name: str, n: Optional[int] = None, dtype: Any = np.int32) -> np.ndarray:
    """A 1-D integer array (any integer dtype accepted, converted to ``dtype``)."""
    arr = np.asarray(value)
    if arr.size == 0:
        arr = arr.astype(dtype)  # np.asarray([]) is float64
    elif arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integers, got {arr.dtype.name}")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {tuple(arr.shape)}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} must have {n} entries, got {arr.shape[0]}")
    if arr.dtype != np.dtype(dtype):
        info = np.iinfo(dtype)
        if arr.size and (arr.min() < info.min or arr.max() > info.max):
            raise ValueError(f"{name} has values outside the range of {np.dtype(dtype).name}")
    return np.ascontiguousarray(arr, dtype=dtype)


def tensor(arr: np.ndarray) -> Tensor:
    """A vn_tensor viewing ``arr`` (which the caller keeps alive across the C call)."""
    code = DTYPES.get(arr.dtype)
    if code is None:
        raise TypeError(f"arrays of {arr.dtype.name} cannot cross the C API")
    if arr.ndim > VN_MAX_DIMS or arr.ndim < 1:
        raise ValueError(f"arrays cross the C API with 1 to {VN_MAX_DIMS} dimensions, got {arr.ndim}")
    t = Tensor()
    t.data = arr.ctypes.data
    t.dtype = code
    t.ndim = arr.ndim
    item = arr.itemsize
    for i in range(arr.ndim):
        t.shape[i] = arr.shape[i]
        t.strides[i] = arr.strides[i] // item
    return t


def ptr(arr: Optional[np.ndarray], ctype: Any) -> Any:
    """``arr``'s data as a ctypes pointer to ``ctype`` (None for None)."""
    if arr is None:
        return None
    return arr.ctypes.data_as(ctypes.POINTER(ctype))


def as_dtype(dtype: Any, allowed: Tuple[Any, ...] = (np.float32, np.uint8)) -> np.dtype:
    """Normalise a dtype argument and check it is one the call supports."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}") from None
    names = [np.dtype(a).name for a in allowed]
    if dt.name not in names:
        raise TypeError(f"dtype must be one of {', '.join(names)}, got {dt.name}")
    return dt


def require(obj: Any, cls: type, name: str) -> Any:
    """TypeError unless obj is a ``cls`` (named in the message); returns obj."""
    if not isinstance(obj, cls):
        raise TypeError(f"{name} must be a vnative.{cls.__name__}, got {type(obj).__name__}")
    return obj


def check_index(value: Any, name: str, minimum: int = 0) -> int:
    """An integer argument (numpy integers too) that must be >= minimum."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value
