"""Python bindings for libvnative: video-native representations and temporal probes.

A ctypes layer over the installed or built libvnative.so (found through $VNATIVE_LIBRARY,
then the system's libvnative.so.0), with numpy arrays in and out::

    import vnative
    with vnative.Context(backend="cpu", seed=0) as ctx:
        enc = vnative.Encoder(ctx, "xs")                      # the xs video encoder
        clip, label = vnative.World(size=32).clip("aot", 0)   # float32 [C, T, H, W]
        print(enc.encode(clip[None]).shape)                   # (1, 128)

Classes: Context, Video, VideoWriter, Loader, World, Encoder, Trainer, Probe,
TimeVector, Index. Every failed call raises VnError (``status``: the vn_status name,
``message``: the library's vn_last_error()); bad argument types, dtypes and shapes raise
TypeError or ValueError before reaching C. Handles close with close() or a ``with``
block, and an object keeps the context it was made from alive.
"""
from ._lib import VnError
from .context import Context, backends, components, devices, library_path, set_log_level, version
from .encoder import FAMILIES, PRESETS, Encoder, encoder_config
from .index import Index
from .loader import Loader
from .probe import FutureProbeResult, Probe, ProbeResult
from .timevec import TimeVector, TimevecResult
from .trainer import OBJECTIVES, Trainer, parse_objectives, train_defaults
from .video import Video, VideoWriter
from .world import BINARY_TASKS, TASKS, World

__version__ = "0.1.0"

__all__ = [
    "VnError", "Context", "Video", "VideoWriter", "Loader", "World", "Encoder", "Trainer", "Probe",
    "ProbeResult", "FutureProbeResult", "TimeVector", "TimevecResult", "Index",
    "version", "backends", "devices", "components", "library_path", "set_log_level",
    "encoder_config", "parse_objectives", "train_defaults",
    "FAMILIES", "PRESETS", "OBJECTIVES", "TASKS", "BINARY_TASKS",
]
