"""The runtime context, and library-wide queries: version, backends, devices, logging."""
import ctypes
from typing import Any, Dict, List, Optional

from . import _lib
from . import _types as T
from ._core import Resource

LOG_LEVELS = {"error": 0, "warn": 1, "info": 2, "debug": 3}
_BACKENDS = ("cpu", "cuda", "reference")
_COMPONENTS = ("oneDNN", "libavformat", "libavcodec", "libavutil", "libswscale", "cuda_runtime", "cublas")


def version() -> str:
    """The run-time library version, e.g. ``"0.1.0"``."""
    return _lib.vn_version().decode()


def library_path() -> str:
    """The path (or soname) libvnative was loaded from."""
    return str(_lib.path)


def _backend_kind(name: Any) -> int:
    return _lib.enum_from_name(_lib.vn_backend_from_name, name, "backend")


def backends() -> Dict[str, Dict[str, Any]]:
    """``{name: {"compiled": bool, "available": bool, "reason": str}}`` for cpu, cuda and reference."""
    result = {}
    for name in _BACKENDS:
        kind = _backend_kind(name)
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


def devices(backend: str = "cpu") -> List[Dict[str, Any]]:
    """The devices a backend can use now, as dicts of vn_device_info fields (empty for CUDA without a GPU)."""
    kind = _backend_kind(backend)
    count = ctypes.c_int()
    _lib.check(_lib.vn_device_count(kind, ctypes.byref(count)))
    out = []
    for i in range(count.value):
        info = T.DeviceInfo()
        info.version = T.DEVICE_INFO_VERSION
        _lib.check(_lib.vn_device_get_info(kind, i, ctypes.byref(info)))
        d = T.to_dict(info)
        d["backend"] = _lib.vn_backend_name(info.backend).decode()
        out.append(d)
    return out


def components() -> Dict[str, str]:
    """``{name: version}`` of the libraries this build links (oneDNN, FFmpeg, CUDA when compiled in)."""
    out = {}
    for i in range(len(_COMPONENTS)):
        name, ver = ctypes.c_char_p(), ctypes.c_char_p()
        if _lib.vn_component_version(i, ctypes.byref(name), ctypes.byref(ver)) == _lib.VN_OK:
            out[(name.value or b"").decode()] = (ver.value or b"").decode()
    return out


def set_log_level(level: str) -> None:
    """Drop library messages less severe than ``level`` ("error", "warn", "info" or "debug")."""
    if level not in LOG_LEVELS:
        raise ValueError(f"unknown log level {level!r} (known: {', '.join(LOG_LEVELS)})")
    _lib.check(_lib.vn_set_log_level(LOG_LEVELS[level]))


class Context(Resource):
    """A runtime context: the compute backend, thread count and seed.

    Every object that computes (Encoder, Trainer, Index) is made from a context and keeps
    it alive; closing the context closes them first. Use as a context manager::

        with vnative.Context(backend="cpu", threads=2, seed=1) as ctx:
            enc = vnative.Encoder(ctx, "xs")

    ``backend`` is "auto", "cpu", "cuda" or "reference" (the VN_BACKEND environment
    variable overrides it); ``threads`` 0 uses every core; ``deterministic`` makes results
    bit-identical across runs and thread counts; ``device`` is the GPU index for CUDA.
    """

    _kind = "context"

    def __init__(self, backend: str = "auto", threads: int = 0, seed: int = 0, deterministic: bool = False,
                 device: int = 0) -> None:
        super().__init__()
        opts = T.ContextOptions()
        _lib.check(_lib.vn_context_options_init(ctypes.byref(opts), T.CONTEXT_OPTIONS_VERSION))
        T.apply_fields(opts, {"backend": _backend_kind(backend), "n_threads": threads, "seed": seed,
                              "deterministic": int(bool(deterministic)), "device": device}, "Context")
        handle = ctypes.c_void_p()
        _lib.check(_lib.vn_context_create(ctypes.byref(handle), ctypes.byref(opts)))
        self._attach(handle, _lib.vn_context_destroy)

    @property
    def backend(self) -> str:
        """The backend the context runs on: "cpu", "cuda" or "reference" (never "auto")."""
        out = ctypes.c_int()
        _lib.check(_lib.vn_context_backend(self._live(), ctypes.byref(out)))
        return _lib.vn_backend_name(out.value).decode()

    @property
    def threads(self) -> int:
        """The number of threads the context's CPU kernels use."""
        out = ctypes.c_int()
        _lib.check(_lib.vn_context_threads(self._live(), ctypes.byref(out)))
        return out.value

    @property
    def seed(self) -> int:
        """The seed the context was created with."""
        out = ctypes.c_uint64()
        _lib.check(_lib.vn_context_seed(self._live(), ctypes.byref(out)))
        return out.value

    def comm_id(self) -> bytes:
        """A device collectives' group id made by this context, for Trainer.set_dist(comm_id=...)
        on every replica (VnError VN_ERR_UNSUPPORTED on a backend without collectives)."""
        buf = ctypes.create_string_buffer(256)
        n = ctypes.c_size_t()
        _lib.check(_lib.vn_context_comm_id(self._live(), buf, len(buf), ctypes.byref(n)))
        return buf.raw[:n.value]

    def set_profiling(self, on: bool = True) -> None:
        """Start (from zero) or stop the per-op profile of everything this context runs:
        self time, calls and counted FLOPs per engine op (see profile())."""
        _lib.check(_lib.vn_context_set_profiling(self._live(), int(bool(on))))

    def profile_reset(self) -> None:
        """Zero the profile's counters (profiling stays on or off)."""
        _lib.check(_lib.vn_context_profile_reset(self._live()))

    def profile(self) -> List[Dict[str, Any]]:
        """The profile so far, one dict per op that ran: ``op``, ``calls``, ``seconds`` (self
        time: nested ops are charged to their own entries, so the entries add up) and
        ``flops`` (counted from the shapes of the GEMMs and attention that ran; 0 for the
        others)."""
        n = ctypes.c_int()
        _lib.check(_lib.vn_context_profile_count(self._live(), ctypes.byref(n)))
        out = []
        for i in range(n.value):
            name, calls = ctypes.c_char_p(), ctypes.c_int64()
            secs, flops = ctypes.c_double(), ctypes.c_double()
            _lib.check(_lib.vn_context_profile_entry(self._live(), i, ctypes.byref(name), ctypes.byref(calls),
                                                     ctypes.byref(secs), ctypes.byref(flops)))
            if calls.value:
                out.append({"op": name.value.decode(), "calls": calls.value, "seconds": secs.value,
                            "flops": flops.value})
        return out

    def __repr__(self) -> str:
        if self.closed:
            return "<vnative.Context closed>"
        return f"<vnative.Context backend={self.backend} threads={self.threads} seed={self.seed}>"


def resolve_context(ctx: Optional[Context]) -> Context:
    """The given context, checked to be a live vnative.Context."""
    if not isinstance(ctx, Context):
        raise TypeError(f"expected a vnative.Context, got {type(ctx).__name__}")
    ctx._live()
    return ctx
