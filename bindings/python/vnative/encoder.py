"""Encoders: configs and presets, embeddings, parameters as numpy, weights files (encoder.h)."""
import ctypes
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import numpy as np

from . import _lib
from . import _types as T
from ._core import Resource, input_array, output_array, tensor
from ._lib import VnError
from .context import Context, resolve_context

FAMILIES = ("frames", "frames+temporal", "video")
PRESETS = ("xs", "s")


def _family_code(value: Any) -> int:
    return _lib.enum_from_name(_lib.vn_encoder_family_from_name, value, "encoder family")


def _family_name(value: int) -> str:
    return _lib.vn_encoder_family_name(value).decode()


_TO_C = {
    "family": _family_code,
    "pooling": T.enum_converter(T.POOLING, "pooling"),
    "attention": T.enum_converter(T.ATTENTION, "attention"),
    "pos": T.enum_converter(T.POS_EMBEDDING, "position embedding"),
}
_FROM_C = {
    "family": _family_name,
    "pooling": T.enum_namer(T.POOLING),
    "attention": T.enum_namer(T.ATTENTION),
    "pos": T.enum_namer(T.POS_EMBEDDING),
}


def _config_struct(config: Union[str, Mapping[str, Any], None] = "xs", family: Optional[str] = None,
                   **fields: Any) -> T.EncoderConfig:
    cfg = T.EncoderConfig()
    if isinstance(config, str):
        fam = family if family is not None else fields.pop("family", "video")
        _lib.check(_lib.vn_encoder_config_preset(ctypes.byref(cfg), config.encode(), _family_code(fam)))
    elif config is None or isinstance(config, Mapping):
        _lib.check(_lib.vn_encoder_config_init(ctypes.byref(cfg), T.ENCODER_CONFIG_VERSION))
        merged = dict(config or {})
        if family is not None:
            merged["family"] = family
        merged.update(fields)
        fields = merged
    else:
        raise TypeError(f"config must be a preset name, a dict or None, got {type(config).__name__}")
    T.apply_fields(cfg, fields, "encoder config", _TO_C)
    return cfg


def config_dict(cfg: T.EncoderConfig) -> Dict[str, Any]:
    """A vn_encoder_config as a dict, the enums by name."""
    return T.to_dict(cfg, _FROM_C)


def encoder_config(preset: Optional[str] = "xs", family: Optional[str] = None, **fields: Any) -> Dict[str, Any]:
    """An encoder config as a dict: a preset ("xs", "s"; None for the library defaults) for a
    family ("frames", "frames+temporal", "video"; default "video"), with ``fields`` overriding
    vn_encoder_config fields (frames, size, channels, patch, tubelet_t, dim, depth, heads,
    mlp_ratio, pooling, attention, pos, temporal_depth, seed, init_std). Enums are names.
    """
    return config_dict(_config_struct(preset, family, **fields))


class Encoder(Resource):
    """A video encoder on a context: ``encode(clips) -> embeddings``.

    ``Encoder(ctx, "xs")`` builds the xs preset of the video family with fresh weights;
    ``Encoder(ctx, "s", family="frames", seed=3)`` another preset, family and seed;
    ``Encoder(ctx, config_dict)`` any config (missing fields take the library defaults),
    e.g. ``Encoder(ctx, other.config)``. ``Encoder.load(ctx, path)`` reads a weights file.
    Clips are float32 [N, C, T, H, W] matching ``input_shape``; encoding is thread-safe
    (the GIL is released during the call).
    """

    _kind = "encoder"

    def __init__(self, ctx: Context, config: Union[str, Mapping[str, Any], None] = "xs",
                 family: Optional[str] = None, **fields: Any) -> None:
        super().__init__()
        ctx = resolve_context(ctx)
        cfg = _config_struct(config, family, **fields)
        handle = ctypes.c_void_p()
        _lib.check(_lib.vn_encoder_create(ctypes.byref(handle), ctx._live(), ctypes.byref(cfg)))
        self._init_handle(handle, ctx, owned=True)

    def _init_handle(self, handle: Any, parent: Resource, owned: bool) -> None:
        self._ctx = parent  # keeps the context (or the owning trainer) alive
        self._owned = owned
        self._param_table: Optional[Dict[str, Tuple[int, ...]]] = None
        self._attach(handle, _lib.vn_encoder_destroy if owned else None, parent)
        cfg = T.EncoderConfig()
        cfg.version = T.ENCODER_CONFIG_VERSION
        _lib.check(_lib.vn_encoder_get_config(self._live(), ctypes.byref(cfg)))
        self._config = config_dict(cfg)
        tokens, dim = ctypes.c_int64(), ctypes.c_int64()
        _lib.check(_lib.vn_encoder_output_shape(self._live(), ctypes.byref(tokens), ctypes.byref(dim)))
        self._tokens, self._dim = tokens.value, dim.value

    @classmethod
    def _borrow(cls, handle: int, owner: Resource) -> "Encoder":
        """An Encoder view of a handle another object owns (the trainer's encoder)."""
        self = cls.__new__(cls)
        Resource.__init__(self)
        self._init_handle(handle, owner, owned=False)
        return self

    @classmethod
    def load(cls, ctx: Context, path: Any) -> "Encoder":
        """Build an encoder on ``ctx`` from a weights file written by save() (or a trainer)."""
        ctx = resolve_context(ctx)
        raw = _lib.encode_path(path)
        self = cls.__new__(cls)
        Resource.__init__(self)
        handle = ctypes.c_void_p()
        _lib.check(_lib.vn_encoder_load(ctypes.byref(handle), ctx._live(), raw))
        self._init_handle(handle, ctx, owned=True)
        return self

    @staticmethod
    def config_of(path: Any) -> Dict[str, Any]:
        """The config stored in a weights file, without building an encoder."""
        cfg = T.EncoderConfig()
        cfg.version = T.ENCODER_CONFIG_VERSION
        _lib.check(_lib.vn_encoder_config_load(ctypes.byref(cfg), _lib.encode_path(path)))
        return config_dict(cfg)

    def save(self, path: Any) -> None:
        """Write the weights as a safetensors file, atomically (docs/CHECKPOINTS.md)."""
        _lib.check(_lib.vn_encoder_save(self._live(), _lib.encode_path(path)))

    # --- shapes ---------------------------------------------------------------------------

    @property
    def config(self) -> Dict[str, Any]:
        """The encoder's config as a dict (enums by name); Encoder(ctx, enc.config) rebuilds it."""
        self._live()
        return dict(self._config)

    @property
    def family(self) -> str:
        """"frames", "frames+temporal" or "video"."""
        return self._config["family"]

    @property
    def input_shape(self) -> Tuple[int, int, int, int]:
        """The shape of one input clip: (C, T, H, W)."""
        c = self._config
        return (c["channels"], c["frames"], c["size"], c["size"])

    @property
    def dim(self) -> int:
        """D, the embedding width."""
        return self._dim

    @property
    def tokens(self) -> int:
        """L, tokens per clip of encode_tokens()."""
        return self._tokens

    @property
    def output_shape(self) -> Tuple[int, int]:
        """(L, D): tokens per clip and embedding width."""
        return (self._tokens, self._dim)

    @property
    def num_params(self) -> int:
        """Number of trainable parameters (floats)."""
        n = ctypes.c_int64()
        _lib.check(_lib.vn_encoder_num_params(self._live(), ctypes.byref(n)))
        return n.value

    # --- encoding -------------------------------------------------------------------------

    def _clips(self, clips: Any) -> Tuple[np.ndarray, bool]:
        single = isinstance(clips, np.ndarray) and clips.ndim == 4
        shape = self.input_shape if single else (None,) + self.input_shape
        dims = "C, T, H, W" if single else "N, C, T, H, W"
        arr = input_array(clips, np.float32, "clips", shape, dims)
        return (arr[None] if single else arr), single

    def encode(self, clips: Any, out: Optional[np.ndarray] = None) -> np.ndarray:
        """Embed clips float32 [N, C, T, H, W] -> float32 [N, D] (a single [C, T, H, W] clip -> [D])."""
        arr, single = self._clips(clips)
        n = arr.shape[0]
        if single and out is not None:
            out = out.reshape(1, -1) if isinstance(out, np.ndarray) and out.ndim == 1 else out
        emb = output_array(out, np.float32, (n, self._dim))
        ti, to = tensor(arr), tensor(emb)
        _lib.check(_lib.vn_encoder_encode(self._live(), ctypes.byref(ti), ctypes.byref(to)))
        return emb[0] if single else emb

    def encode_tokens(self, clips: Any, out: Optional[np.ndarray] = None) -> np.ndarray:
        """Token features before pooling: float32 [N, C, T, H, W] -> float32 [N, L, D] ([L, D] for one clip)."""
        arr, single = self._clips(clips)
        n = arr.shape[0]
        if single and out is not None:
            out = out.reshape((1,) + out.shape) if isinstance(out, np.ndarray) and out.ndim == 2 else out
        tok = output_array(out, np.float32, (n, self._tokens, self._dim))
        ti, to = tensor(arr), tensor(tok)
        _lib.check(_lib.vn_encoder_encode_tokens(self._live(), ctypes.byref(ti), ctypes.byref(to)))
        return tok[0] if single else tok

    __call__ = encode

    @property
    def precision(self) -> str:
        """How encode() and encode_tokens() multiply: "fp32" (default), "tf32" or "bf16" (see set_precision)."""
        code = ctypes.c_int()
        _lib.check(_lib.vn_encoder_get_precision(self._live(), ctypes.byref(code)))
        return _lib.vn_precision_name(code.value).decode()

    def set_precision(self, name: str) -> None:
        """Run encode() and encode_tokens() with "fp32", "tf32" or "bf16" matrix products.

        bf16 rounds each product's operands to bfloat16 and sums in fp32: on a CPU with AMX
        or avx512_bf16 (cpu backend) or a GPU (cuda) it encodes faster, with embeddings about
        2e-3 relative from fp32's on the xs and s presets (docs/PRECISION.md). A precision the context's backend
        lacks raises VnError VN_ERR_UNSUPPORTED with the reason. Not while other threads encode
        with this encoder. The trainer's encoder follows Trainer.precision instead.
        """
        if not self._owned:
            raise VnError("VN_ERR_STATE", "the trainer's encoder multiplies as the trainer does: set Trainer.precision")
        code = _lib.enum_from_name(_lib.vn_precision_from_name, name, "precision")
        _lib.check(_lib.vn_encoder_set_precision(self._live(), code))

    # --- parameters -----------------------------------------------------------------------

    def _params(self) -> Dict[str, Tuple[int, ...]]:
        handle = self._live()
        if self._param_table is None:
            count = ctypes.c_int()
            _lib.check(_lib.vn_encoder_param_count(handle, ctypes.byref(count)))
            table: Dict[str, Tuple[int, ...]] = {}
            for i in range(count.value):
                name, ndim = ctypes.c_char_p(), ctypes.c_int()
                shape = (ctypes.c_int64 * T.VN_MAX_DIMS)()
                _lib.check(_lib.vn_encoder_param_info(handle, i, ctypes.byref(name), ctypes.byref(ndim), shape))
                table[name.value.decode()] = tuple(shape[d] for d in range(ndim.value))
            self._param_table = table
        return self._param_table

    def param_names(self) -> List[str]:
        """Parameter names in the library's fixed order (PyTorch/timm naming)."""
        return list(self._params())

    def param_shapes(self) -> Dict[str, Tuple[int, ...]]:
        """{name: shape} of every parameter (PyTorch layouts)."""
        return dict(self._params())

    def get_param(self, name: str) -> np.ndarray:
        """A copy of one parameter as a float32 array."""
        shapes = self._params()
        if name not in shapes:
            raise KeyError(f"the encoder has no parameter {name!r}")
        arr = np.empty(shapes[name], dtype=np.float32)
        t = tensor(arr)
        _lib.check(_lib.vn_encoder_get_param(self._live(), name.encode(), ctypes.byref(t)))
        return arr

    def set_param(self, name: str, value: Any) -> None:
        """Overwrite one parameter from a float32 array of its exact shape (not while encoding)."""
        if not self._owned:
            raise VnError("VN_ERR_STATE", "the trainer's encoder is read-only: its weights are trained")
        shapes = self._params()
        if name not in shapes:
            raise KeyError(f"the encoder has no parameter {name!r}")
        arr = input_array(value, np.float32, name, shapes[name])
        t = tensor(arr)
        _lib.check(_lib.vn_encoder_set_param(self._live(), name.encode(), ctypes.byref(t)))

    def params(self) -> Dict[str, np.ndarray]:
        """Every parameter, copied into numpy: {name: float32 array}, like a PyTorch state_dict."""
        return {name: self.get_param(name) for name in self._params()}

    def set_params(self, params: Mapping[str, Any]) -> None:
        """set_param for each entry (a subset is fine); every name and shape is checked first."""
        shapes = self._params()
        checked = {}
        for name, value in params.items():
            if name not in shapes:
                raise KeyError(f"the encoder has no parameter {name!r}")
            checked[name] = input_array(value, np.float32, name, shapes[name])
        for name, arr in checked.items():
            self.set_param(name, arr)

    def __repr__(self) -> str:
        c = self._config
        return (f"<vnative.Encoder {c['family']} {c['channels']}x{c['frames']}x{c['size']}x{c['size']}"
                f" dim={c['dim']} depth={c['depth']} {self._state()}>")
