"""Loading libvnative.so and declaring the C signatures used by the bindings."""
import ctypes
import ctypes.util
import os

VN_OK = 0


class VnError(RuntimeError):
    """A vnative call failed. `status` is the vn_status name, the text is vn_last_error()."""

    def __init__(self, status, message):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def _load():
    candidates = []
    env = os.environ.get("VNATIVE_LIBRARY")
    if env:
        candidates.append(env)
    found = ctypes.util.find_library("vnative")
    if found:
        candidates.append(found)
    candidates.append("libvnative.so.0")
    errors = []
    for path in candidates:
        try:
            return ctypes.CDLL(path)
        except OSError as exc:
            errors.append(f"{path}: {exc}")
    raise OSError("cannot load libvnative (set VNATIVE_LIBRARY to its path): " + "; ".join(errors))


lib = _load()


def _fn(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


vn_status_str = _fn("vn_status_str", ctypes.c_char_p, ctypes.c_int)
vn_last_error = _fn("vn_last_error", ctypes.c_char_p)
vn_version = _fn("vn_version", ctypes.c_char_p)
vn_version_number = _fn("vn_version_number", ctypes.c_uint)
vn_backend_name = _fn("vn_backend_name", ctypes.c_char_p, ctypes.c_int)
vn_backend_from_name = _fn("vn_backend_from_name", ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int))
vn_backend_compiled = _fn("vn_backend_compiled", ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int))
vn_backend_available = _fn("vn_backend_available", ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int),
                           ctypes.POINTER(ctypes.c_char_p))


class ContextOptions(ctypes.Structure):
    """Mirror of vn_context_options (version 1). Fields are only ever appended in C."""
    _fields_ = [
        ("version", ctypes.c_uint),
        ("backend", ctypes.c_int),
        ("n_threads", ctypes.c_int),
        ("seed", ctypes.c_uint64),
        ("deterministic", ctypes.c_int),
        ("device", ctypes.c_int),
    ]


CONTEXT_OPTIONS_VERSION = 1

vn_context_options_init = _fn("vn_context_options_init", ctypes.c_int, ctypes.POINTER(ContextOptions), ctypes.c_uint)
vn_context_create = _fn("vn_context_create", ctypes.c_int, ctypes.POINTER(ctypes.c_void_p),
                        ctypes.POINTER(ContextOptions))
vn_context_destroy = _fn("vn_context_destroy", None, ctypes.c_void_p)
vn_context_backend = _fn("vn_context_backend", ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int))
vn_context_threads = _fn("vn_context_threads", ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int))
vn_context_seed = _fn("vn_context_seed", ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint64))


def check(status):
    """Raise VnError for a failed status, with the library's own message."""
    if status != VN_OK:
        raise VnError(vn_status_str(status).decode(), vn_last_error().decode(errors="replace"))
