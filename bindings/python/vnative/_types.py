"""ctypes mirrors of the public C structs (include/vnative/*.h), and helpers to fill them.

Every struct lists its fields in the header's order with the header's types: enums are
``c_int``, ``const char *`` is ``c_char_p``, pointers to other structs are ``POINTER(...)``.
Options structs start with a ``version`` field; the bindings fill them through the
library's ``*_options_init`` functions (never by hand), then override fields by name.
``tests/python/struct_layout.c`` prints the C compiler's sizes and offsets, and
``test_bindings_layout.py`` compares them with these classes field by field.
"""
import ctypes
import numbers
from ctypes import POINTER, c_char, c_char_p, c_double, c_float, c_int, c_int64, c_size_t, c_uint, c_uint64, c_void_p
from typing import Any, Callable, Dict, Mapping, Optional

VN_MAX_DIMS = 6
VN_OBJECTIVE_COUNT = 5

# Versions of the structs this binding was written against (the headers' *_VERSION macros).
CONTEXT_OPTIONS_VERSION = 1
DEVICE_INFO_VERSION = 1
VIDEO_OPEN_OPTIONS_VERSION = 1
VIDEO_INFO_VERSION = 1
CLIP_OPTIONS_VERSION = 1
TRANSFORM_OPTIONS_VERSION = 1
VIDEO_WRITER_OPTIONS_VERSION = 1
LOADER_OPTIONS_VERSION = 1
LOADER_STATS_VERSION = 1
WORLD_OPTIONS_VERSION = 1
ENCODER_CONFIG_VERSION = 1
TRAIN_METRICS_VERSION = 1
TRAIN_OPTIONS_VERSION = 1
TRAIN_DIST_VERSION = 1
PROBE_RESULT_VERSION = 1
LINEAR_PROBE_OPTIONS_VERSION = 1
KNN_PROBE_OPTIONS_VERSION = 1
WINDOW_OPTIONS_VERSION = 1
REAL_AOT_OPTIONS_VERSION = 1
FUTURE_PROBE_OPTIONS_VERSION = 1
FUTURE_PROBE_RESULT_VERSION = 1
TIMEVEC_OPTIONS_VERSION = 1
TIMEVEC_RESULT_VERSION = 1


# --- common / context / tensor ---------------------------------------------------------

class ContextOptions(ctypes.Structure):
    """vn_context_options (context.h)."""
    _fields_ = [
        ("version", c_uint),
        ("backend", c_int),
        ("n_threads", c_int),
        ("seed", c_uint64),
        ("deterministic", c_int),
        ("device", c_int),
    ]


class DeviceInfo(ctypes.Structure):
    """vn_device_info (context.h)."""
    _fields_ = [
        ("version", c_uint),
        ("backend", c_int),
        ("index", c_int),
        ("name", c_char * 128),
        ("memory_bytes", c_uint64),
        ("compute_units", c_int),
        ("capability_major", c_int),
        ("capability_minor", c_int),
    ]


class Tensor(ctypes.Structure):
    """vn_tensor (tensor.h): a view of caller-owned memory; strides in elements."""
    _fields_ = [
        ("data", c_void_p),
        ("dtype", c_int),
        ("ndim", c_int),
        ("shape", c_int64 * VN_MAX_DIMS),
        ("strides", c_int64 * VN_MAX_DIMS),
    ]


# --- video.h ---------------------------------------------------------------------------

class VideoOpenOptions(ctypes.Structure):
    """vn_video_open_options (video.h)."""
    _fields_ = [
        ("version", c_uint),
        ("approximate", c_int),
        ("n_threads", c_int),
        ("timeout_s", c_double),
    ]


class VideoInfo(ctypes.Structure):
    """vn_video_info (video.h)."""
    _fields_ = [
        ("version", c_uint),
        ("width", c_int),
        ("height", c_int),
        ("coded_width", c_int),
        ("coded_height", c_int),
        ("rotation", c_int),
        ("n_frames", c_int64),
        ("n_frames_exact", c_int),
        ("n_keyframes", c_int64),
        ("duration_s", c_double),
        ("avg_fps", c_double),
        ("time_base_num", c_int),
        ("time_base_den", c_int),
        ("variable_frame_rate", c_int),
        ("full_range", c_int),
        ("codec", c_char * 32),
        ("pixel_format", c_char * 32),
        ("color_space", c_char * 32),
    ]


class ClipOptions(ctypes.Structure):
    """vn_clip_options (video.h)."""
    _fields_ = [
        ("version", c_uint),
        ("n_frames", c_int),
        ("stride", c_int),
        ("target_fps", c_double),
        ("start", c_int64),
        ("reverse", c_int),
        ("seed", c_uint64),
    ]


class TransformOptions(ctypes.Structure):
    """vn_transform_options (video.h)."""
    _fields_ = [
        ("version", c_uint),
        ("short_side", c_int),
        ("crop_size", c_int),
        ("random_resized_crop", c_int),
        ("rrc_scale", c_float * 2),
        ("rrc_ratio", c_float * 2),
        ("hflip_prob", c_float),
        ("grayscale", c_int),
        ("mean", c_float * 3),
        ("std", c_float * 3),
        ("seed", c_uint64),
    ]


class VideoWriterOptions(ctypes.Structure):
    """vn_video_writer_options (video.h)."""
    _fields_ = [
        ("version", c_uint),
        ("width", c_int),
        ("height", c_int),
        ("channels", c_int),
        ("fps", c_double),
        ("codec", c_int),
        ("quality", c_int),
        ("gop", c_int),
        ("bframes", c_int),
    ]


# --- loader.h --------------------------------------------------------------------------

class LoaderOptions(ctypes.Structure):
    """vn_loader_options (loader.h)."""
    _fields_ = [
        ("version", c_uint),
        ("source", c_char_p),
        ("batch_size", c_int),
        ("n_workers", c_int),
        ("prefetch", c_int),
        ("shuffle", c_int),
        ("drop_last", c_int),
        ("seed", c_uint64),
        ("timeout_s", c_double),
        ("dtype", c_int),
        ("clip", POINTER(ClipOptions)),
        ("transform", POINTER(TransformOptions)),
    ]


class LoaderStats(ctypes.Structure):
    """vn_loader_stats (loader.h)."""
    _fields_ = [
        ("version", c_uint),
        ("n_items", c_int64),
        ("n_loaded", c_int64),
        ("n_skipped", c_int64),
        ("n_skipped_total", c_int64),
        ("queue_peak", c_int64),
    ]


# --- world.h ---------------------------------------------------------------------------

class WorldOptions(ctypes.Structure):
    """vn_world_options (world.h)."""
    _fields_ = [
        ("version", c_uint),
        ("seed", c_uint64),
        ("n_frames", c_int),
        ("size", c_int),
        ("channels", c_int),
        ("noise", c_float),
        ("jitter", c_float),
        ("textured", c_int),
        ("n_threads", c_int),
        ("mean", c_float * 3),
        ("std", c_float * 3),
        ("future_context", c_int),
        ("future_candidates", c_int),
    ]


# --- encoder.h -------------------------------------------------------------------------

class EncoderConfig(ctypes.Structure):
    """vn_encoder_config (encoder.h)."""
    _fields_ = [
        ("version", c_uint),
        ("family", c_int),
        ("frames", c_int),
        ("size", c_int),
        ("channels", c_int),
        ("patch", c_int),
        ("tubelet_t", c_int),
        ("dim", c_int),
        ("depth", c_int),
        ("heads", c_int),
        ("mlp_ratio", c_float),
        ("pooling", c_int),
        ("attention", c_int),
        ("pos", c_int),
        ("temporal_depth", c_int),
        ("seed", c_uint64),
        ("init_std", c_float),
    ]


# --- train.h ---------------------------------------------------------------------------

class TrainMetrics(ctypes.Structure):
    """vn_train_metrics (train.h)."""
    _fields_ = [
        ("version", c_uint),
        ("is_eval", c_int),
        ("step", c_int64),
        ("clips_seen", c_int64),
        ("loss", c_float),
        ("losses", c_float * VN_OBJECTIVE_COUNT),
        ("accuracy", c_float * VN_OBJECTIVE_COUNT),
        ("grad_norm", c_float),
        ("lr", c_float),
        ("clips_per_s", c_double),
        ("elapsed_s", c_double),
    ]


# int (*vn_train_callback)(const vn_train_metrics *metrics, void *user)
TRAIN_CALLBACK = ctypes.CFUNCTYPE(c_int, POINTER(TrainMetrics), c_void_p)
# vn_status (*allreduce_sum)(void *user, float *buf, int64_t n, char *msg, size_t cap)
ALLREDUCE_CALLBACK = ctypes.CFUNCTYPE(c_int, c_void_p, POINTER(c_float), c_int64, POINTER(c_char), c_size_t)


class TrainOptions(ctypes.Structure):
    """vn_train_options (train.h)."""
    _fields_ = [
        ("version", c_uint),
        ("objectives", c_char_p),
        ("data", c_char_p),
        ("eval_data", c_char_p),
        ("batch", c_int),
        ("total_steps", c_int64),
        ("lr", c_float),
        ("min_lr", c_float),
        ("warmup_steps", c_int64),
        ("weight_decay", c_float),
        ("beta1", c_float),
        ("beta2", c_float),
        ("eps", c_float),
        ("grad_clip", c_float),
        ("seed", c_uint64),
        ("jepa_mask_ratio", c_float),
        ("ema_start", c_float),
        ("ema_end", c_float),
        ("predictor_dim", c_int),
        ("predictor_depth", c_int),
        ("predictor_heads", c_int),
        ("future_tau", c_float),
        ("num_classes", c_int),
        ("eval_every", c_int64),
        ("eval_clips", c_int),
        ("loader_workers", c_int),
        ("callback", TRAIN_CALLBACK),
        ("callback_user", c_void_p),
    ]


class TrainDist(ctypes.Structure):
    """vn_train_dist (train.h)."""
    _fields_ = [
        ("version", c_uint),
        ("rank", c_int),
        ("world_size", c_int),
        ("allreduce_sum", ALLREDUCE_CALLBACK),
        ("user", c_void_p),
        ("comm_id", c_void_p),
        ("comm_id_len", c_size_t),
    ]


# --- probe.h ---------------------------------------------------------------------------

class ProbeResult(ctypes.Structure):
    """vn_probe_result (probe.h)."""
    _fields_ = [
        ("version", c_uint),
        ("accuracy", c_double),
        ("ci_low", c_double),
        ("ci_high", c_double),
        ("train_accuracy", c_double),
        ("val_accuracy", c_double),
        ("weight_decay", c_double),
        ("n_train", c_int64),
        ("n_test", c_int64),
    ]


class LinearProbeOptions(ctypes.Structure):
    """vn_linear_probe_options (probe.h)."""
    _fields_ = [
        ("version", c_uint),
        ("weight_decays", POINTER(c_double)),
        ("n_weight_decays", c_int),
        ("val_fraction", c_double),
        ("max_iter", c_int),
        ("bootstrap", c_int),
        ("confidence", c_double),
        ("seed", c_uint64),
    ]


class KnnProbeOptions(ctypes.Structure):
    """vn_knn_probe_options (probe.h)."""
    _fields_ = [
        ("version", c_uint),
        ("k", c_int),
        ("temperature", c_double),
        ("bootstrap", c_int),
        ("confidence", c_double),
        ("seed", c_uint64),
    ]


class WindowOptions(ctypes.Structure):
    """vn_window_options (probe.h)."""
    _fields_ = [
        ("version", c_uint),
        ("frame_step", c_int),
        ("window_stride", c_int),
        ("max_windows", c_int),
        ("mean", c_float * 3),
        ("std", c_float * 3),
    ]


class RealAotOptions(ctypes.Structure):
    """vn_real_aot_options (probe.h)."""
    _fields_ = [
        ("version", c_uint),
        ("window", POINTER(WindowOptions)),
        ("folds", c_int),
        ("bootstrap", c_int),
        ("confidence", c_double),
        ("seed", c_uint64),
    ]


class FutureProbeOptions(ctypes.Structure):
    """vn_future_probe_options (probe.h)."""
    _fields_ = [
        ("version", c_uint),
        ("map", c_int),
        ("batch", c_int),
        ("bootstrap", c_int),
        ("confidence", c_double),
        ("seed", c_uint64),
    ]


class FutureProbeResult(ctypes.Structure):
    """vn_future_probe_result (probe.h)."""
    _fields_ = [
        ("version", c_uint),
        ("r1", c_double),
        ("r1_ci_low", c_double),
        ("r1_ci_high", c_double),
        ("r5", c_double),
        ("mrr", c_double),
        ("hard_negative", c_double),
        ("hard_ci_low", c_double),
        ("hard_ci_high", c_double),
        ("ridge", c_double),
        ("n_queries", c_int64),
        ("candidates", c_int),
    ]


# --- timevec.h -------------------------------------------------------------------------

class TimevecOptions(ctypes.Structure):
    """vn_timevec_options (timevec.h)."""
    _fields_ = [
        ("version", c_uint),
        ("alpha", c_double),
        ("bootstrap", c_int),
        ("confidence", c_double),
        ("seed", c_uint64),
    ]


class TimevecResult(ctypes.Structure):
    """vn_timevec_result (timevec.h)."""
    _fields_ = [
        ("version", c_uint),
        ("sign_accuracy", c_double),
        ("ci_low", c_double),
        ("ci_high", c_double),
        ("pair_accuracy", c_double),
        ("reversal_r1", c_double),
        ("reversal_r1_base", c_double),
        ("mean_gap", c_double),
        ("n", c_int64),
    ]


# C struct name -> ctypes class, for the layout test.
STRUCTS = {
    "vn_context_options": ContextOptions,
    "vn_device_info": DeviceInfo,
    "vn_tensor": Tensor,
    "vn_video_open_options": VideoOpenOptions,
    "vn_video_info": VideoInfo,
    "vn_clip_options": ClipOptions,
    "vn_transform_options": TransformOptions,
    "vn_video_writer_options": VideoWriterOptions,
    "vn_loader_options": LoaderOptions,
    "vn_loader_stats": LoaderStats,
    "vn_world_options": WorldOptions,
    "vn_encoder_config": EncoderConfig,
    "vn_train_metrics": TrainMetrics,
    "vn_train_options": TrainOptions,
    "vn_train_dist": TrainDist,
    "vn_probe_result": ProbeResult,
    "vn_linear_probe_options": LinearProbeOptions,
    "vn_knn_probe_options": KnnProbeOptions,
    "vn_window_options": WindowOptions,
    "vn_real_aot_options": RealAotOptions,
    "vn_future_probe_options": FutureProbeOptions,
    "vn_future_probe_result": FutureProbeResult,
    "vn_timevec_options": TimevecOptions,
    "vn_timevec_result": TimevecResult,
}


# --- filling structs by field name -----------------------------------------------------

Converter = Callable[[Any], Any]


def apply_fields(struct: ctypes.Structure, values: Mapping[str, Any], what: str,
                 converters: Optional[Dict[str, Converter]] = None, settable: Optional[set] = None) -> None:
    """Set struct fields from ``values`` by name, after ``converters`` (enum names, say).

    Unknown names (and ``version``, and fields outside ``settable`` when it is given)
    raise TypeError naming the allowed ones; a fixed-size array field takes a sequence
    of exactly its length; a value of the wrong type raises TypeError.
    """
    converters = converters or {}
    types = dict(struct._fields_)
    allowed = sorted(settable if settable is not None else (n for n in types if n != "version"))
    for name, value in values.items():
        if name not in allowed:
            raise TypeError(f"{what}: unknown option {name!r} (known: {', '.join(allowed)})")
        if name in converters:
            value = converters[name](value)
        ctype = types[name]
        try:
            if isinstance(ctype, type) and issubclass(ctype, ctypes.Array) and ctype._type_ is not c_char:
                seq = list(value)
                if len(seq) != ctype._length_:
                    raise ValueError(f"{what}: {name} needs {ctype._length_} values, got {len(seq)}")
                setattr(struct, name, ctype(*seq))
            elif ctype in (c_float, c_double):
                if isinstance(value, (str, bytes)) or not isinstance(value, numbers.Real):
                    raise TypeError(f"{name} must be a number")
                setattr(struct, name, float(value))
            elif ctype in (c_int, c_uint, c_int64, c_uint64):
                if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
                    if not float(value).is_integer():
                        raise TypeError(f"{name} must be an integer")
                elif not isinstance(value, numbers.Integral):
                    raise TypeError(f"{name} must be an integer")
                setattr(struct, name, int(value))
            else:
                setattr(struct, name, value)
        except TypeError as exc:
            raise TypeError(f"{what}: bad value {value!r} for {name}: {exc}") from None


def to_dict(struct: ctypes.Structure, converters: Optional[Dict[str, Converter]] = None,
            skip: tuple = ("version",)) -> Dict[str, Any]:
    """The struct's fields as a dict (arrays as lists, char arrays as str), skipping ``skip``."""
    converters = converters or {}
    out: Dict[str, Any] = {}
    for name, ctype in struct._fields_:
        if name in skip:
            continue
        value = getattr(struct, name)
        if isinstance(value, bytes):
            value = value.decode(errors="replace")
        elif isinstance(value, ctypes.Array):
            value = [_short_float(v) for v in value] if ctype._type_ is c_float else list(value)
        elif ctype is c_float:
            value = _short_float(value)
        if name in converters:
            value = converters[name](value)
        out[name] = value
    return out


def _short_float(value: float) -> float:
    """A float32 value as the shortest double that rounds to it (0.02, not 0.0199999995)."""
    if value != value or value in (float("inf"), float("-inf")):
        return value
    for digits in range(6, 10):
        text = f"{value:.{digits}g}"
        if c_float(float(text)).value == c_float(value).value:
            return float(text)
    return value


def enum_converter(names: Dict[str, int], what: str) -> Converter:
    """A converter accepting an enum's name (case-insensitive) or its integer value."""
    def convert(value: Any) -> int:
        if isinstance(value, str):
            key = value.lower()
            if key not in names:
                raise ValueError(f"unknown {what} {value!r} (known: {', '.join(names)})")
            return names[key]
        if isinstance(value, bool) or not isinstance(value, int) or value not in names.values():
            raise ValueError(f"unknown {what} {value!r} (known: {', '.join(names)})")
        return int(value)
    return convert


def enum_namer(names: Dict[str, int]) -> Converter:
    """The inverse of enum_converter: an integer value back to its name."""
    inverse = {v: k for k, v in names.items()}
    return lambda value: inverse.get(value, f"unknown({value})")


POOLING = {"mean": 0, "attentive": 1}
ATTENTION = {"joint": 0, "divided": 1}
POS_EMBEDDING = {"learned": 0, "sincos": 1}
CODECS = {"auto": 0, "h264": 1, "mpeg4": 2, "ffv1": 3, "vp9": 4}
INDEX_METRICS = {"cosine": 0, "inner_product": 1}
FUTURE_MAPS = {"ridge": 0, "none": 1}
