"""Self-supervised training of an encoder (train.h)."""
import ctypes
import math
import sys
import threading
import weakref
from typing import Any, Callable, Dict, List, Mapping, Optional, Union

import numpy as np

from . import _lib
from . import _types as T
from ._core import Resource, check_index
from .context import Context, resolve_context
from .encoder import Encoder, _config_struct

OBJECTIVES = ("aot", "order", "future", "jepa", "label")
PRECISIONS = ("fp32", "tf32", "bf16")

Metrics = Dict[str, Any]
Callback = Callable[[Metrics], Any]
AllReduce = Callable[[np.ndarray], None]

# vn_train_options fields set by keyword; the strings and the callback have their own arguments.
_OPTION_FIELDS = {name for name, _ in T.TrainOptions._fields_} - {
    "version", "objectives", "data", "eval_data", "callback", "callback_user"}


# Python callbacks called from C (the metrics callback, the all-reduce). An exception raised
# inside them is caught and re-raised by the call that led to them; but a signal's exception
# (Ctrl-C's KeyboardInterrupt) may also fire on a callback's very first bytecode, before any
# `try`, and ctypes then only reports it to sys.unraisablehook. While a trainer call that can
# call back runs, a hook claims such exceptions for the trainer, which stops at its next
# callback and re-raises them when the C call returns.
_hook_lock = threading.Lock()
_hook_users = 0
_hook_prev: Any = None


def _callback_owner(obj: Any) -> Optional["Trainer"]:
    owner = getattr(obj, "__self__", None)
    if owner is None:
        ref = getattr(obj, "_vn_trainer", None)
        owner = ref() if ref is not None else None
    return owner if isinstance(owner, Trainer) else None


def _unraisable(u: Any) -> None:
    owner = _callback_owner(u.object)
    if owner is not None and owner._in_call:
        if owner._callback_error is None:
            owner._callback_error = u.exc_value
        return
    (_hook_prev or sys.__unraisablehook__)(u)


class _CallbackGuard:
    """Around a C call that may call back into Python: claims lost callback exceptions."""

    def __init__(self, trainer: "Trainer") -> None:
        self.trainer = trainer

    def __enter__(self) -> None:
        global _hook_users, _hook_prev
        with _hook_lock:
            if _hook_users == 0:
                _hook_prev = sys.unraisablehook
                sys.unraisablehook = _unraisable
            _hook_users += 1
        self.trainer._callback_error = None
        self.trainer._in_call = True

    def __exit__(self, *exc: Any) -> None:
        global _hook_users, _hook_prev
        self.trainer._in_call = False
        with _hook_lock:
            _hook_users -= 1
            if _hook_users == 0:
                if sys.unraisablehook is _unraisable:
                    sys.unraisablehook = _hook_prev
                _hook_prev = None


def parse_objectives(spec: str) -> Dict[str, float]:
    """Parse "aot=1,future=0.5,jepa" into {objective: weight} (objectives with weight 0 omitted)."""
    if not isinstance(spec, str):
        raise TypeError(f"objectives must be a str such as 'aot=1,future=0.5', got {type(spec).__name__}")
    weights = (ctypes.c_float * T.VN_OBJECTIVE_COUNT)()
    _lib.check(_lib.vn_objectives_parse(spec.encode(), weights))
    return {OBJECTIVES[i]: float(w) for i, w in enumerate(weights) if w > 0}


def train_defaults() -> Dict[str, Any]:
    """The library's default vn_train_options (the numeric fields), as a dict."""
    opts = T.TrainOptions()
    _lib.check(_lib.vn_train_options_init(ctypes.byref(opts), T.TRAIN_OPTIONS_VERSION))
    return {k: v for k, v in T.to_dict(opts).items() if k in _OPTION_FIELDS}


def _metrics_dict(m: T.TrainMetrics, active: List[int]) -> Metrics:
    def nan_to_none(x: float) -> Optional[float]:
        return None if math.isnan(x) else float(x)
    return {
        "is_eval": bool(m.is_eval),
        "step": int(m.step),
        "clips_seen": int(m.clips_seen),
        "loss": float(m.loss),
        "losses": {OBJECTIVES[i]: float(m.losses[i]) for i in active},
        "accuracy": {OBJECTIVES[i]: nan_to_none(m.accuracy[i]) for i in active},
        "grad_norm": float(m.grad_norm),
        "lr": float(m.lr),
        "clips_per_s": float(m.clips_per_s),
        "elapsed_s": float(m.elapsed_s),
    }


class Trainer(Resource):
    """A trainer: a fresh encoder, its optimiser and the objectives' heads (train.h).

    ``config`` is the encoder config: a preset name ("xs", "s"), or a dict such as
    ``vnative.encoder_config("xs", frames=8)`` or ``encoder.config``; ``family`` picks the
    family of a preset. ``objectives`` is a weight spec ("aot=1,future=0.5"), ``data`` a
    source ("world:aot,gravity", a CSV manifest or a directory), ``eval_data`` an optional
    held-out source. Other keyword arguments are vn_train_options fields (batch,
    total_steps, lr, min_lr, warmup_steps, weight_decay, beta1, beta2, eps, grad_clip,
    seed, jepa_mask_ratio, ema_start, ema_end, predictor_dim, predictor_depth,
    predictor_heads, future_tau, num_classes, eval_every, eval_clips, loader_workers),
    with the library's defaults for the rest.

    ``callback(metrics)`` is called by run() after every step and evaluation; a truthy
    return stops the run. An exception in it stops the run and is re-raised by run().
    Metrics are dicts: is_eval, step, clips_seen, loss, losses and accuracy ({objective:
    value} for the active objectives; accuracy None where it has no meaning, as for
    jepa), grad_norm, lr, clips_per_s, elapsed_s.
    """

    _kind = "trainer"

    def __init__(self, ctx: Context, config: Union[str, Mapping[str, Any], None] = "xs", *,
                 family: Optional[str] = None, objectives: str = "aot", data: str = "world:aot",
                 eval_data: Optional[str] = None, callback: Optional[Callback] = None, **options: Any) -> None:
        super().__init__()
        ctx = resolve_context(ctx)
        cfg = _config_struct(config, family)
        weights = parse_objectives(objectives)
        self._active = [OBJECTIVES.index(name) for name in weights]
        self._objectives = weights
        opts = T.TrainOptions()
        _lib.check(_lib.vn_train_options_init(ctypes.byref(opts), T.TRAIN_OPTIONS_VERSION))
        T.apply_fields(opts, options, "Trainer", settable=_OPTION_FIELDS)
        # The strings must outlive the create call; keep them for the trainer's lifetime.
        self._strings = (objectives.encode(), _lib.encode_path(data, "data"), _lib.optional_path(eval_data, "eval_data"))
        opts.objectives, opts.data, opts.eval_data = self._strings
        if callback is not None and not callable(callback):
            raise TypeError("callback must be callable")
        self._callback = callback
        self._callback_error: Optional[BaseException] = None
        self._in_call = False
        # Always installed, so that run() returns to Python after every step: Ctrl-C (a
        # KeyboardInterrupt raised while the callback runs) then stops a long run cleanly.
        self._c_callback = T.TRAIN_CALLBACK(self._on_metrics)
        opts.callback = self._c_callback
        self._options = {k: v for k, v in T.to_dict(opts).items() if k in _OPTION_FIELDS}
        self._ctx = ctx
        self._encoder: Optional[Encoder] = None
        self._dist: Any = None
        handle = ctypes.c_void_p()
        _lib.check(_lib.vn_trainer_create(ctypes.byref(handle), ctx._live(), ctypes.byref(cfg), ctypes.byref(opts)))
        self._attach(handle, _lib.vn_trainer_destroy, ctx)

    def _on_metrics(self, metrics: Any, user: Any) -> int:
        try:
            if self._callback_error is not None:  # e.g. a Ctrl-C that ctypes could only report
                return 1
            if self._callback is None:
                return 0
            stop = self._callback(_metrics_dict(metrics.contents, self._active))
            return 1 if stop else 0
        except BaseException as exc:  # never let an exception unwind through C
            self._callback_error = exc
            return 1

    @property
    def options(self) -> Dict[str, Any]:
        """The numeric vn_train_options the trainer was created with."""
        return dict(self._options)

    @property
    def objectives(self) -> Dict[str, float]:
        """{objective: weight} of the active objectives."""
        return dict(self._objectives)

    @property
    def steps(self) -> int:
        """Optimiser steps done so far."""
        out = ctypes.c_int64()
        _lib.check(_lib.vn_trainer_get_step(self._live(), ctypes.byref(out)))
        return out.value

    @property
    def encoder(self) -> Encoder:
        """The encoder being trained: encode with it between steps; it is read-only and
        closes with the trainer. Save it with ``trainer.encoder.save(path)``."""
        handle = self._live()
        if self._encoder is None or self._encoder.closed:
            out = ctypes.c_void_p()
            _lib.check(_lib.vn_trainer_get_encoder(handle, ctypes.byref(out)))
            self._encoder = Encoder._borrow(out.value, self)
        return self._encoder

    def _new_metrics(self) -> T.TrainMetrics:
        m = T.TrainMetrics()
        _lib.check(_lib.vn_train_metrics_init(ctypes.byref(m), T.TRAIN_METRICS_VERSION))
        return m

    def _finish(self, status: int) -> None:
        """Re-raise an exception a callback raised during the C call, else check the status."""
        if self._callback_error is not None:
            exc, self._callback_error = self._callback_error, None
            raise exc
        _lib.check(status)

    def step(self) -> Metrics:
        """One optimiser step on the next batch; returns its metrics."""
        m = self._new_metrics()
        handle = self._live()
        with _CallbackGuard(self):
            status = _lib.vn_trainer_step(handle, ctypes.byref(m))
        self._finish(status)
        return _metrics_dict(m, self._active)

    def run(self, steps: int) -> Metrics:
        """``steps`` optimiser steps (with held-out evaluations every eval_every steps and the
        callback after each); returns the metrics of the last step."""
        steps = check_index(steps, "steps", 1)
        m = self._new_metrics()
        handle = self._live()
        with _CallbackGuard(self):
            status = _lib.vn_trainer_run(handle, steps, ctypes.byref(m))
        self._finish(status)
        return _metrics_dict(m, self._active)

    def evaluate(self) -> Metrics:
        """Every active objective on the held-out clips, without changing any weight.
        VnError VN_ERR_STATE when there is no held-out data."""
        m = self._new_metrics()
        handle = self._live()
        with _CallbackGuard(self):  # replicas average the metrics through the all-reduce
            status = _lib.vn_trainer_evaluate(handle, ctypes.byref(m))
        self._finish(status)
        return _metrics_dict(m, self._active)

    def save(self, directory: Any) -> None:
        """Write a checkpoint directory (model.safetensors and trainer.safetensors)."""
        _lib.check(_lib.vn_trainer_save(self._live(), _lib.encode_path(directory, "directory")))

    def resume(self, directory: Any) -> None:
        """Load a checkpoint written by save() into this trainer (same config and options);
        training then continues exactly where the saved one stopped."""
        _lib.check(_lib.vn_trainer_resume(self._live(), _lib.encode_path(directory, "directory")))

    @property
    def precision(self) -> str:
        """How training's matrix products multiply: "fp32" (default), "tf32" (cuda) or "bf16" (cuda; cpu with AMX or avx512_bf16)."""
        return getattr(self, "_precision", "fp32")

    @precision.setter
    def precision(self, value: str) -> None:
        code = _lib.enum_from_name(_lib.vn_precision_from_name, value, "precision")
        _lib.check(_lib.vn_trainer_set_precision(self._live(), code))
        self._precision = _lib.vn_precision_name(code).decode()

    def set_dist(self, rank: int, world_size: int, allreduce_sum: Optional[AllReduce] = None,
                 comm_id: Optional[bytes] = None) -> None:
        """Make this trainer replica ``rank`` of ``world_size`` (data parallelism), before the first step.

        ``allreduce_sum(buf)`` must sum the float32 array ``buf`` in place across every
        replica (each calls it with the same sizes in the same order); an exception in it
        fails the step with VN_ERR_IO and the exception's text (a KeyboardInterrupt is
        re-raised as is; the replicas may then disagree, so do not go on training).
        ``comm_id`` is a device collectives' group id (cuda with NCCL).
        """
        d = T.TrainDist()
        d.version = T.TRAIN_DIST_VERSION
        d.rank, d.world_size = check_index(rank, "rank"), check_index(world_size, "world_size", 1)
        keep: List[Any] = []
        if allreduce_sum is not None:
            if not callable(allreduce_sum):
                raise TypeError("allreduce_sum must be callable")

            owner = weakref.ref(self)

            def c_allreduce(user: Any, buf: Any, n: int, msg: Any, cap: int) -> int:
                try:
                    allreduce_sum(np.ctypeslib.as_array(buf, shape=(n,)))
                    return _lib.VN_OK
                except BaseException as exc:  # never let an exception unwind through C
                    tr = owner()
                    if not isinstance(exc, Exception) and tr is not None and tr._callback_error is None:
                        tr._callback_error = exc  # KeyboardInterrupt, SystemExit: re-raised as is
                    text = f"allreduce_sum raised {type(exc).__name__}: {exc}".encode(errors="replace")[:cap - 1]
                    ctypes.memmove(msg, text + b"\0", len(text) + 1)
                    return -4  # VN_ERR_IO
            c_allreduce._vn_trainer = owner  # type: ignore[attr-defined]
            keep.append(T.ALLREDUCE_CALLBACK(c_allreduce))
            d.allreduce_sum = keep[-1]
        if comm_id is not None:
            raw = ctypes.create_string_buffer(bytes(comm_id), len(comm_id))
            keep.append(raw)
            d.comm_id, d.comm_id_len = ctypes.cast(raw, ctypes.c_void_p), len(comm_id)
        _lib.check(_lib.vn_trainer_set_dist(self._live(), ctypes.byref(d)))
        self._dist = keep  # the callback lives as long as the trainer

    def __repr__(self) -> str:
        spec = ",".join(f"{k}={v:g}" for k, v in self._objectives.items())
        if self.closed:
            return f"<vnative.Trainer {spec} closed>"
        return f"<vnative.Trainer {spec} step={self.steps}>"

