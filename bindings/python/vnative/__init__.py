"""Python bindings for libvnative (ctypes over the installed or built libvnative.so).

    import vnative
    with vnative.Context(backend="cpu", threads=2, seed=1) as ctx:
        print(ctx.backend, ctx.threads)
"""
import ctypes

from . import _lib
from ._lib import VnError

__all__ = ["Context", "VnError", "version", "backends"]


def version() -> str:
    """The run-time library version, e.g. "0.1.0"."""
    return _lib.vn_version().decode()


def _kind(name: str) -> int:
    out = ctypes.c_int()
    _lib.check(_lib.vn_backend_from_name(name.encode(), ctypes.byref(out)))
    return out.value


def backends() -> dict:
    """{name: {"compiled": bool, "available": bool, "reason": str}} for cpu, cuda and reference."""
    result = {}
    for name in ("cpu", "cuda", "reference"):
        kind = _kind(name)
        compiled, available = ctypes.c_int(), ctypes.c_int()
        reason = ctypes.c_char_p()
        _lib.check(_lib.vn_backend_compiled(kind, ctypes.byref(compiled)))
        _lib.check(_lib.vn_backend_available(kind, ctypes.byref(available), ctypes.byref(reason)))
        result[name] = {
            "compiled": bool(compiled.value),
            "available": bool(available.value),
            "reason": (reason.value or b"").decode(),
        }
    return result


class Context:
    """A runtime context: the compute backend, thread count and seed. Use as a context manager."""

    def __init__(self, backend: str = "auto", threads: int = 0, seed: int = 0, deterministic: bool = False,
                 device: int = 0):
        opts = _lib.ContextOptions()
        _lib.check(_lib.vn_context_options_init(ctypes.byref(opts), _lib.CONTEXT_OPTIONS_VERSION))
        opts.backend = _kind(backend)
        opts.n_threads = threads
        opts.seed = seed
        opts.deterministic = int(deterministic)
        opts.device = device
        handle = ctypes.c_void_p()
        _lib.check(_lib.vn_context_create(ctypes.byref(handle), ctypes.byref(opts)))
        self._handle = handle

    def close(self):
        if self._handle:
            _lib.vn_context_destroy(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def _live(self):
        if not self._handle:
            raise VnError("VN_ERR_STATE", "the context is closed")
        return self._handle

    @property
    def backend(self) -> str:
        out = ctypes.c_int()
        _lib.check(_lib.vn_context_backend(self._live(), ctypes.byref(out)))
        return _lib.vn_backend_name(out.value).decode()

    @property
    def threads(self) -> int:
        out = ctypes.c_int()
        _lib.check(_lib.vn_context_threads(self._live(), ctypes.byref(out)))
        return out.value

    @property
    def seed(self) -> int:
        out = ctypes.c_uint64()
        _lib.check(_lib.vn_context_seed(self._live(), ctypes.byref(out)))
        return out.value
