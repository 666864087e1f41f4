"""PyTorch twins of vnative's three encoder families (include/vnative/encoder.h), for the
parity test (tests/python/parity_encoder.py) and the benchmark peer
(bench/peer_torch_encoder.py).

The modules are built so that their state_dict keys ARE vnative's parameter names
("patch_embed.proj.weight", "blocks.0.attn.qkv.weight", "temporal.blocks.1.mlp.fc2.bias",
"pool.query", ...) with the same shapes, so weights move either way without reshuffling.

What each family computes (tokens in (t, h, w) order):
  frames           per-frame ViT (tubelet_t = 1): patch tokens of each frame + pos_embed
                   [S, D] -> blocks (joint within the frame) -> norm -> pool per frame
                   -> mean over the T frames
  frames+temporal  the per-frame embeddings [N, T, D] (pooled per frame as in frames)
                   + temporal.pos_embed [T, D] (always learned) -> temporal.blocks (joint)
                   -> temporal.norm -> mean over T (the pooling kind applies per frame)
  video            tubelet tokens (Conv3d, kernel = stride = (tt, p, p)) + pos_embed [L, D]
                   -> blocks (joint, or divided: x += tattn(tnorm(x)) along time for each
                   patch position, then x += attn(norm1(x)) along space within each frame)
                   -> norm -> pool (mean, or attentive)
Each block is pre-norm: x += attn(norm1(x)); x += mlp(norm2(x)), MLP = fc1 -> GELU (tanh
approximation) -> fc2, hidden width round(dim * mlp_ratio); LayerNorm eps 1e-5.

Attention: nn.MultiheadAttention keeps q, k and v projections as in_proj_weight/bias and
computes exactly softmax(q k^T / sqrt(head_size)) v per head followed by out_proj. vnative
(like timm) stores the three projections fused as one Linear "attn.qkv" [3D, D] (q | k | v
along the output dimension, heads contiguous within each) and "attn.proj". MHA's
in_proj_weight is that same [3D, D] matrix in the same (q | k | v) order, so the module
below is mathematically nn.MultiheadAttention (batch_first, no dropout, no masks); it is
written with an nn.Linear qkv + softmax + an nn.Linear proj so that the parameter names
and the gradient of the fused qkv weight come out directly. `Attention.as_mha()` builds
the equivalent nn.MultiheadAttention, and the parity test checks the two agree.

Token features (the second output) are what vn_encoder_encode_tokens returns: the normed
tokens [N, L, D] (frames: [N, T*S, D]; frames+temporal: the temporal outputs [N, T, D]).

Attentive pooling: one learned query q [D], single head, no projections:
out = sum_t softmax_t(q . x_t / sqrt(D)) x_t.
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FAMILIES = ("frames", "frames+temporal", "video")

# The presets of vn_encoder_config_preset (the frames families use tubelet_t = 1).
PRESETS = {
    "xs": dict(frames=16, size=32, channels=3, patch=8, tubelet_t=2, dim=128, depth=4, heads=4, mlp_ratio=4.0,
               temporal_depth=2),
    "s": dict(frames=16, size=64, channels=3, patch=8, tubelet_t=2, dim=192, depth=6, heads=3, mlp_ratio=4.0,
              temporal_depth=2),
}


def make_config(preset="xs", family="video", **overrides):
    cfg = dict(PRESETS[preset])
    cfg.update(family=family, pooling="mean", attention="joint", pos="learned")
    if family != "video":
        cfg["tubelet_t"] = 1
    cfg.update(overrides)
    return cfg


def sincos3d(Lt, Lh, Lw, C):
    """vn_sincos3d_table: V-JEPA's 3-D sin-cos table with uniform_power=True (2*ceil(C/6)
    channels per axis, axes (t, h, w) concatenated and truncated to C)."""
    D = 2 * ((C + 5) // 6)
    half = D // 2
    t, h, w = np.meshgrid(np.arange(Lt), np.arange(Lh), np.arange(Lw), indexing="ij")
    coords = [t.ravel().astype(np.float64), h.ravel().astype(np.float64), w.ravel().astype(np.float64)]
    table = np.zeros((Lt * Lh * Lw, C), dtype=np.float64)
    for c in range(C):
        axis, i = divmod(c, D)
        f = i if i < half else i - half
        omega = 10000.0 ** (-f / half)
        a = coords[axis] * omega
        table[:, c] = np.sin(a) if i < half else np.cos(a)
    return torch.from_numpy(table.astype(np.float32))


class Attention(nn.Module):
    """Multi-head self-attention, mathematically nn.MultiheadAttention (see the module
    docstring), with a fused qkv Linear."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, T, C = x.shape
        H = self.heads
        qkv = self.qkv(x).view(B, T, 3, H, C // H).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]                            # [B, H, T, HS]
        att = torch.softmax((q @ k.transpose(-2, -1)) / math.sqrt(C // H), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        return self.proj(y)

    def as_mha(self):
        C = self.proj.in_features
        mha = nn.MultiheadAttention(C, self.heads, batch_first=True, dtype=self.qkv.weight.dtype)
        with torch.no_grad():
            mha.in_proj_weight.copy_(self.qkv.weight)
            mha.in_proj_bias.copy_(self.qkv.bias)
            mha.out_proj.weight.copy_(self.proj.weight)
            mha.out_proj.bias.copy_(self.proj.bias)
        return mha


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU(approximate="tanh")
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, divided=False):
        super().__init__()
        self.divided = divided
        if divided:
            self.tnorm = nn.LayerNorm(dim, eps=1e-5)
            self.tattn = Attention(dim, heads)
        self.norm1 = nn.LayerNorm(dim, eps=1e-5)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-5)
        self.mlp = Mlp(dim, int(round(dim * mlp_ratio)))

    def forward(self, x, grid=None):
        """x [B, L, D]; grid = (F, S) frames x patches per frame for divided attention."""
        if self.divided:
            B, L, D = x.shape
            Fr, S = grid
            # temporal: for each patch position, attend along the F frames
            xt = x.view(B, Fr, S, D).transpose(1, 2).reshape(B * S, Fr, D)
            yt = self.tattn(self.tnorm(xt)).view(B, S, Fr, D).transpose(1, 2).reshape(B, L, D)
            x = x + yt
            # spatial: within each frame
            xs = x.reshape(B * Fr, S, D)
            x = x + self.attn(self.norm1(xs)).view(B, L, D)
        else:
            x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class AttentivePool(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.query = nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        a = torch.softmax((x @ self.query) / math.sqrt(x.shape[-1]), dim=-1)  # [B, T]
        return (a.unsqueeze(-1) * x).sum(dim=1)


class PatchEmbed(nn.Module):
    def __init__(self, channels, dim, tubelet_t, patch):
        super().__init__()
        self.proj = nn.Conv3d(channels, dim, kernel_size=(tubelet_t, patch, patch), stride=(tubelet_t, patch, patch))

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)  # [B, L, D], (t, h, w) order


def _pool(kind, dim):
    return AttentivePool(dim) if kind == "attentive" else None


def _apply_pool(pool, x):
    return pool(x) if pool is not None else x.mean(dim=1)


class Temporal(nn.Module):
    """The temporal transformer of frames+temporal, over [N, T, D] frame embeddings."""

    def __init__(self, cfg):
        super().__init__()
        D, T = cfg["dim"], cfg["frames"]
        self.pos_embed = nn.Parameter(torch.zeros(T, D))  # always learned
        self.blocks = nn.ModuleList(Block(D, cfg["heads"], cfg["mlp_ratio"]) for _ in range(cfg["temporal_depth"]))
        self.norm = nn.LayerNorm(D, eps=1e-5)

    def forward(self, x):
        x = x + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)


class Encoder(nn.Module):
    """One of the three families, from a config dict (see make_config)."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = dict(cfg)
        fam = cfg["family"]
        if fam not in FAMILIES:
            raise ValueError(f"unknown family {fam}")
        D, p = cfg["dim"], cfg["patch"]
        tt = cfg["tubelet_t"] if fam == "video" else 1
        self.tt = tt
        self.lt = cfg["frames"] // tt
        self.side = cfg["size"] // p
        S = self.side * self.side
        L = (self.lt if fam == "video" else 1) * S
        self.patch_embed = PatchEmbed(cfg["channels"], D, tt, p)
        if cfg["pos"] == "learned":
            self.pos_embed = nn.Parameter(torch.zeros(L, D))
        else:
            lt = self.lt if fam == "video" else 1
            self.register_buffer("pos_embed", sincos3d(lt, self.side, self.side, D))
        divided = fam == "video" and cfg["attention"] == "divided"
        self.blocks = nn.ModuleList(Block(D, cfg["heads"], cfg["mlp_ratio"], divided) for _ in range(cfg["depth"]))
        self.norm = nn.LayerNorm(D, eps=1e-5)
        self.pool = _pool(cfg["pooling"], D)
        if fam == "frames+temporal":
            self.temporal = Temporal(cfg)

    def _vit(self, x, grid=None):
        x = x + self.pos_embed
        for blk in self.blocks:
            x = blk(x, grid)
        return self.norm(x)

    def forward(self, clips):
        """clips [N, C, T, H, W] -> (embeddings [N, D], tokens)."""
        fam = self.cfg["family"]
        N, C, T, H, W = clips.shape
        if fam == "video":
            tokens = self._vit(self.patch_embed(clips), (self.lt, self.side * self.side))
            return _apply_pool(self.pool, tokens), tokens
        frames = clips.transpose(1, 2).reshape(N * T, C, 1, H, W)
        tokens = self._vit(self.patch_embed(frames))                 # [N*T, S, D]
        per_frame = _apply_pool(self.pool, tokens).view(N, T, -1)    # [N, T, D]
        if fam == "frames":
            return per_frame.mean(dim=1), tokens.view(N, -1, tokens.shape[-1])
        z = self.temporal(per_frame)                                 # [N, T, D]
        return z.mean(dim=1), z


def load_params(model, param_dir, names=None):
    """Fill model's parameters from param_dir/<vnative name>.npy. Every parameter of the
    model must have a file and every file a parameter (names, when given, is vnative's
    list); shapes must match exactly. Returns the list of names loaded."""
    import os
    own = dict(model.named_parameters())
    files = sorted(f[:-4] for f in os.listdir(param_dir) if f.endswith(".npy"))
    if names is None:
        names = files
    missing = sorted(set(own) - set(names))
    extra = sorted(set(names) - set(own))
    if missing or extra:
        raise ValueError(f"parameter names differ: torch only {missing}, vnative only {extra}")
    with torch.no_grad():
        for name in names:
            a = np.load(os.path.join(param_dir, name + ".npy"))
            p = own[name]
            if tuple(a.shape) != tuple(p.shape):
                raise ValueError(f"{name}: vnative shape {a.shape}, torch {tuple(p.shape)}")
            p.copy_(torch.from_numpy(a).to(p.dtype))
    return list(names)
