"""Loading libvnative.so, the C signatures the bindings call, and status checking.

The library is found through $VNATIVE_LIBRARY (a path, e.g. build/libvnative.so) when it
is set, otherwise the system's libvnative.so.0 (the dynamic loader's search path), then
whatever ctypes.util.find_library("vnative") names. Opaque handles are ``c_void_p``.
Symbols a build may lack (the index, in libraries older than index.h) are declared as
None, and the classes that need them raise VnError("VN_ERR_UNSUPPORTED").
"""
import ctypes
import ctypes.util
import os
from ctypes import POINTER, c_char, c_char_p, c_double, c_float, c_int, c_int64, c_size_t, c_uint, c_uint64, c_void_p
from typing import Any, Optional

from . import _types as T

VN_OK = 0
VN_ERR_END = -12


class VnError(RuntimeError):
    """A vnative call failed.

    ``status`` is the vn_status name (e.g. ``"VN_ERR_NOT_FOUND"``) and ``message`` the
    library's vn_last_error() text (or the binding's own, for a closed handle).
    """

    def __init__(self, status: str, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message

    def __reduce__(self):
        return (VnError, (self.status, self.message))


def _load() -> ctypes.CDLL:
    env = os.environ.get("VNATIVE_LIBRARY")
    if env:
        try:
            return ctypes.CDLL(env)
        except OSError as exc:
            raise OSError(f"cannot load libvnative from VNATIVE_LIBRARY={env}: {exc}") from None
    candidates = ["libvnative.so.0"]
    found = ctypes.util.find_library("vnative")
    if found:
        candidates.append(found)
    errors = []
    for path in candidates:
        try:
            return ctypes.CDLL(path)
        except OSError as exc:
            errors.append(f"{path}: {exc}")
    raise OSError("cannot load libvnative (install it, or set VNATIVE_LIBRARY to its path): " + "; ".join(errors))


lib = _load()
# Where the library came from: an absolute path, or the soname the dynamic loader resolved.
path = getattr(lib, "_name", "")
if os.sep in path:
    path = os.path.abspath(path)


def _fn(name: str, restype: Any, *argtypes: Any, optional: bool = False) -> Any:
    try:
        f = getattr(lib, name)
    except AttributeError:
        if optional:
            return None
        raise
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


P = POINTER
vp = c_void_p
st = c_int  # vn_status and every enum
pi, pi64, pu64, pd, pf = P(c_int), P(c_int64), P(c_uint64), P(c_double), P(c_float)
pstr = P(c_char_p)
pT = P(T.Tensor)

# --- common.h / context.h / tensor.h -----------------------------------------------------
vn_status_str = _fn("vn_status_str", c_char_p, st)
vn_last_error = _fn("vn_last_error", c_char_p)
vn_clear_error = _fn("vn_clear_error", None)
vn_set_log_level = _fn("vn_set_log_level", st, c_int)
vn_version = _fn("vn_version", c_char_p)
vn_version_number = _fn("vn_version_number", c_uint)
vn_backend_name = _fn("vn_backend_name", c_char_p, c_int)
vn_backend_from_name = _fn("vn_backend_from_name", st, c_char_p, pi)
vn_backend_compiled = _fn("vn_backend_compiled", st, c_int, pi)
vn_backend_available = _fn("vn_backend_available", st, c_int, pi, pstr)
vn_component_version = _fn("vn_component_version", st, c_int, pstr, pstr)
vn_device_count = _fn("vn_device_count", st, c_int, pi)
vn_device_get_info = _fn("vn_device_get_info", st, c_int, c_int, P(T.DeviceInfo))
vn_context_options_init = _fn("vn_context_options_init", st, P(T.ContextOptions), c_uint)
vn_context_create = _fn("vn_context_create", st, P(vp), P(T.ContextOptions))
vn_context_destroy = _fn("vn_context_destroy", None, vp)
vn_context_backend = _fn("vn_context_backend", st, vp, pi)
vn_context_threads = _fn("vn_context_threads", st, vp, pi)
vn_context_seed = _fn("vn_context_seed", st, vp, pu64)
vn_context_comm_id = _fn("vn_context_comm_id", st, vp, c_void_p, c_size_t, P(c_size_t))
vn_context_set_profiling = _fn("vn_context_set_profiling", st, vp, c_int)
vn_context_profile_reset = _fn("vn_context_profile_reset", st, vp)
vn_context_profile_count = _fn("vn_context_profile_count", st, vp, pi)
vn_context_profile_entry = _fn("vn_context_profile_entry", st, vp, c_int, pstr, pi64, pd, pd)
vn_dtype_name = _fn("vn_dtype_name", c_char_p, c_int)

# --- video.h -----------------------------------------------------------------------------
vn_video_open_options_init = _fn("vn_video_open_options_init", st, P(T.VideoOpenOptions), c_uint)
vn_video_create = _fn("vn_video_create", st, P(vp), c_char_p, P(T.VideoOpenOptions))
vn_video_create_from_memory = _fn("vn_video_create_from_memory", st, P(vp), c_void_p, c_size_t,
                                  P(T.VideoOpenOptions))
vn_video_destroy = _fn("vn_video_destroy", None, vp)
vn_video_get_info = _fn("vn_video_get_info", st, vp, P(T.VideoInfo))
vn_video_frame_time = _fn("vn_video_frame_time", st, vp, c_int64, pd)
vn_video_frame_at_time = _fn("vn_video_frame_at_time", st, vp, c_double, pi64)
vn_video_keyframes = _fn("vn_video_keyframes", st, vp, pi64, c_int64, pi64)
vn_video_read_frames = _fn("vn_video_read_frames", st, vp, pi64, c_int64, pT)
vn_video_read_times = _fn("vn_video_read_times", st, vp, pd, c_int64, pT)
vn_clip_options_init = _fn("vn_clip_options_init", st, P(T.ClipOptions), c_uint)
vn_clip_indices = _fn("vn_clip_indices", st, vp, P(T.ClipOptions), pi64)
vn_transform_options_init = _fn("vn_transform_options_init", st, P(T.TransformOptions), c_uint)
vn_clip_shape = _fn("vn_clip_shape", st, vp, P(T.ClipOptions), P(T.TransformOptions), c_int, pi64)
vn_video_read_clip = _fn("vn_video_read_clip", st, vp, P(T.ClipOptions), P(T.TransformOptions), pT)
vn_video_writer_options_init = _fn("vn_video_writer_options_init", st, P(T.VideoWriterOptions), c_uint)
vn_video_writer_create = _fn("vn_video_writer_create", st, P(vp), c_char_p, P(T.VideoWriterOptions))
vn_video_writer_write = _fn("vn_video_writer_write", st, vp, pT)
vn_video_writer_finish = _fn("vn_video_writer_finish", st, vp)
vn_video_writer_destroy = _fn("vn_video_writer_destroy", None, vp)
vn_video_codec_resolve = _fn("vn_video_codec_resolve", st, c_int, pstr)

# --- loader.h ----------------------------------------------------------------------------
vn_loader_options_init = _fn("vn_loader_options_init", st, P(T.LoaderOptions), c_uint)
vn_loader_create = _fn("vn_loader_create", st, P(vp), P(T.LoaderOptions))
vn_loader_destroy = _fn("vn_loader_destroy", None, vp)
vn_loader_size = _fn("vn_loader_size", st, vp, pi64)
vn_loader_batch_shape = _fn("vn_loader_batch_shape", st, vp, pi64)
vn_loader_start_epoch = _fn("vn_loader_start_epoch", st, vp, c_int64)
vn_loader_next = _fn("vn_loader_next", st, vp, pT, pi64, pi64, pi64)
vn_loader_get_stats = _fn("vn_loader_get_stats", st, vp, P(T.LoaderStats))

# --- world.h -----------------------------------------------------------------------------
vn_world_task_name = _fn("vn_world_task_name", c_char_p, c_int)
vn_world_task_from_name = _fn("vn_world_task_from_name", st, c_char_p, pi)
vn_world_options_init = _fn("vn_world_options_init", st, P(T.WorldOptions), c_uint)
vn_world_create = _fn("vn_world_create", st, P(vp), P(T.WorldOptions))
vn_world_destroy = _fn("vn_world_destroy", None, vp)
vn_world_clip = _fn("vn_world_clip", st, vp, c_int, c_int64, pT, pi)
vn_world_batch = _fn("vn_world_batch", st, vp, c_int, c_int64, pT, pi)
vn_world_future = _fn("vn_world_future", st, vp, c_int64, pT, pT, pi, pi)
vn_world_describe = _fn("vn_world_describe", st, vp, c_int, c_int64, P(c_char), c_size_t)

# --- encoder.h ---------------------------------------------------------------------------
vn_encoder_family_name = _fn("vn_encoder_family_name", c_char_p, c_int)
vn_encoder_family_from_name = _fn("vn_encoder_family_from_name", st, c_char_p, pi)
vn_encoder_config_init = _fn("vn_encoder_config_init", st, P(T.EncoderConfig), c_uint)
vn_encoder_config_preset = _fn("vn_encoder_config_preset", st, P(T.EncoderConfig), c_char_p, c_int)
vn_encoder_create = _fn("vn_encoder_create", st, P(vp), vp, P(T.EncoderConfig))
vn_encoder_destroy = _fn("vn_encoder_destroy", None, vp)
vn_encoder_get_config = _fn("vn_encoder_get_config", st, vp, P(T.EncoderConfig))
vn_encoder_num_params = _fn("vn_encoder_num_params", st, vp, pi64)
vn_encoder_output_shape = _fn("vn_encoder_output_shape", st, vp, pi64, pi64)
vn_encoder_encode = _fn("vn_encoder_encode", st, vp, pT, pT)
vn_encoder_encode_tokens = _fn("vn_encoder_encode_tokens", st, vp, pT, pT)
vn_encoder_set_precision = _fn("vn_encoder_set_precision", st, vp, c_int)
vn_encoder_get_precision = _fn("vn_encoder_get_precision", st, vp, pi)
vn_precision_name = _fn("vn_precision_name", c_char_p, c_int)
vn_precision_from_name = _fn("vn_precision_from_name", st, c_char_p, pi)
vn_encoder_param_count = _fn("vn_encoder_param_count", st, vp, pi)
vn_encoder_param_info = _fn("vn_encoder_param_info", st, vp, c_int, pstr, pi, pi64)
vn_encoder_get_param = _fn("vn_encoder_get_param", st, vp, c_char_p, pT)
vn_encoder_set_param = _fn("vn_encoder_set_param", st, vp, c_char_p, pT)
vn_encoder_save = _fn("vn_encoder_save", st, vp, c_char_p)
vn_encoder_load = _fn("vn_encoder_load", st, P(vp), vp, c_char_p)
vn_encoder_config_load = _fn("vn_encoder_config_load", st, P(T.EncoderConfig), c_char_p)

# --- train.h -----------------------------------------------------------------------------
vn_objective_name = _fn("vn_objective_name", c_char_p, c_int)
vn_objective_from_name = _fn("vn_objective_from_name", st, c_char_p, pi)
vn_objectives_parse = _fn("vn_objectives_parse", st, c_char_p, pf)
vn_train_options_init = _fn("vn_train_options_init", st, P(T.TrainOptions), c_uint)
vn_train_metrics_init = _fn("vn_train_metrics_init", st, P(T.TrainMetrics), c_uint)
vn_trainer_create = _fn("vn_trainer_create", st, P(vp), vp, P(T.EncoderConfig), P(T.TrainOptions))
vn_trainer_destroy = _fn("vn_trainer_destroy", None, vp)
vn_trainer_step = _fn("vn_trainer_step", st, vp, P(T.TrainMetrics))
vn_trainer_run = _fn("vn_trainer_run", st, vp, c_int64, P(T.TrainMetrics))
vn_trainer_evaluate = _fn("vn_trainer_evaluate", st, vp, P(T.TrainMetrics))
vn_trainer_get_step = _fn("vn_trainer_get_step", st, vp, pi64)
vn_trainer_set_dist = _fn("vn_trainer_set_dist", st, vp, P(T.TrainDist))
vn_trainer_set_precision = _fn("vn_trainer_set_precision", st, vp, c_int)
vn_trainer_get_encoder = _fn("vn_trainer_get_encoder", st, vp, P(vp))
vn_trainer_save = _fn("vn_trainer_save", st, vp, c_char_p)
vn_trainer_resume = _fn("vn_trainer_resume", st, vp, c_char_p)

# --- probe.h -----------------------------------------------------------------------------
vn_probe_result_init = _fn("vn_probe_result_init", st, P(T.ProbeResult), c_uint)
vn_linear_probe_options_init = _fn("vn_linear_probe_options_init", st, P(T.LinearProbeOptions), c_uint)
vn_knn_probe_options_init = _fn("vn_knn_probe_options_init", st, P(T.KnnProbeOptions), c_uint)
vn_probe_linear = _fn("vn_probe_linear", st, pT, pi, pi, pT, pi, pi, c_int, P(T.LinearProbeOptions),
                      P(T.ProbeResult))
vn_probe_knn = _fn("vn_probe_knn", st, pT, pi, pT, pi, pi, c_int, P(T.KnnProbeOptions), P(T.ProbeResult))
vn_probe_embed_world = _fn("vn_probe_embed_world", st, vp, vp, c_int, c_int64, c_int, c_uint, pT, pi)
vn_window_options_init = _fn("vn_window_options_init", st, P(T.WindowOptions), c_uint)
vn_probe_embed_video = _fn("vn_probe_embed_video", st, vp, c_char_p, P(T.WindowOptions), c_uint, pT, pd, pi64)
vn_real_aot_options_init = _fn("vn_real_aot_options_init", st, P(T.RealAotOptions), c_uint)
vn_probe_real_aot = _fn("vn_probe_real_aot", st, vp, P(c_char_p), c_int, P(T.RealAotOptions), P(T.ProbeResult))
vn_future_probe_options_init = _fn("vn_future_probe_options_init", st, P(T.FutureProbeOptions), c_uint)
vn_future_probe_result_init = _fn("vn_future_probe_result_init", st, P(T.FutureProbeResult), c_uint)
vn_probe_future = _fn("vn_probe_future", st, vp, vp, c_int64, c_int64, P(T.FutureProbeOptions),
                      P(T.FutureProbeResult))
vn_probe_pixels_world = _fn("vn_probe_pixels_world", st, vp, c_int, c_int64, c_int, pT, pi)

# --- timevec.h ---------------------------------------------------------------------------
vn_timevec_fit = _fn("vn_timevec_fit", st, pT, pT, pf, pd)
vn_timevec_options_init = _fn("vn_timevec_options_init", st, P(T.TimevecOptions), c_uint)
vn_timevec_result_init = _fn("vn_timevec_result_init", st, P(T.TimevecResult), c_uint)
vn_timevec_evaluate = _fn("vn_timevec_evaluate", st, pf, c_double, pT, pT, P(T.TimevecOptions),
                          P(T.TimevecResult))
vn_timevec_project = _fn("vn_timevec_project", st, pf, pT, pd)
vn_timevec_probe_normal = _fn("vn_timevec_probe_normal", st, pT, pT, P(T.LinearProbeOptions), pf)
vn_timevec_cosine = _fn("vn_timevec_cosine", st, pf, pf, c_int64, pd)

# --- index.h (optional: a library built before index.h has none of these) ----------------
vn_index_create = _fn("vn_index_create", st, P(vp), vp, c_int64, c_int, optional=True)
vn_index_destroy = _fn("vn_index_destroy", None, vp, optional=True)
vn_index_add = _fn("vn_index_add", st, vp, pT, pi64, optional=True)
vn_index_size = _fn("vn_index_size", st, vp, pi64, optional=True)
vn_index_dim = _fn("vn_index_dim", st, vp, pi64, optional=True)
vn_index_metric_of = _fn("vn_index_metric_of", st, vp, pi, optional=True)
vn_index_search = _fn("vn_index_search", st, vp, pT, c_int64, pi64, pf, optional=True)
vn_index_search_shifted = _fn("vn_index_search_shifted", st, vp, pT, pf, c_float, c_int64, pi64, pf,
                              optional=True)
vn_index_get = _fn("vn_index_get", st, vp, c_int64, pf, pi64, optional=True)
vn_index_save = _fn("vn_index_save", st, vp, c_char_p, c_char_p, optional=True)
vn_index_load = _fn("vn_index_load", st, P(vp), vp, c_char_p, c_char_p, c_int, optional=True)

HAVE_INDEX = all(f is not None for f in (
    vn_index_create, vn_index_destroy, vn_index_add, vn_index_size, vn_index_dim, vn_index_metric_of,
    vn_index_search, vn_index_search_shifted, vn_index_get, vn_index_save, vn_index_load))


def error(status: int) -> VnError:
    """The VnError for a failed status, with the library's own message."""
    name = (vn_status_str(status) or b"VN_ERR_UNKNOWN").decode()
    return VnError(name, (vn_last_error() or b"").decode(errors="replace"))


def check(status: int) -> None:
    """Raise VnError for a failed status, with the library's own message."""
    if status != VN_OK:
        raise error(status)


def enum_from_name(parse: Any, name: Any, what: str) -> int:
    """Parse an enum through the library's *_from_name (a str), or accept an int as is."""
    if isinstance(name, int) and not isinstance(name, bool):
        return name
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a name (str), got {type(name).__name__}")
    out = c_int()
    check(parse(name.encode(), ctypes.byref(out)))
    return out.value


def encode_path(value: Any, what: str = "path") -> bytes:
    """A str or os.PathLike as bytes for a ``const char *`` argument."""
    try:
        return os.fsencode(value)
    except TypeError:
        raise TypeError(f"{what} must be a str or os.PathLike, got {type(value).__name__}") from None


def optional_path(value: Optional[Any], what: str = "path") -> Optional[bytes]:
    """encode_path, with None passed through as NULL."""
    return None if value is None else encode_path(value, what)
