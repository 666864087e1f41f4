#!/usr/bin/env python3
"""PyTorch parity of the three encoder families (include/vnative/encoder.h).

For each config (one block, and a full xs-shaped encoder, of each family; joint and divided
attention; mean and attentive pooling; learned and sin-cos positions):
  1. tests/nn_encoder_dump --params-only writes vnative's freshly initialised weights;
  2. they are perturbed (non-zero biases, LayerNorm weights away from 1, larger weights so
     that attention is far from uniform) and handed back through DIR/init, which the dump
     tool loads with vn_encoder_set_param;
  3. the dump tool runs vn_encoder_forward and vn_encoder_backward with d_embeddings = G on
     random clips and writes the embeddings, token features and every parameter gradient;
  4. the same weights go into the torch modules of torch_encoder.py (nn.Linear,
     nn.LayerNorm, nn.GELU(approximate='tanh'), nn.Conv3d, and attention that is
     nn.MultiheadAttention's math with a fused qkv Linear), loss = sum(emb * G), autograd
     (G random in magnitude with the sign of torch's embeddings, so that the loss does not
     cancel and its relative error is meaningful).
Embeddings, the loss and EVERY parameter gradient must agree at relative L2 error
||c - torch|| / ||torch|| <= 1e-4 in float32; the worst per config is printed.

usage: parity_encoder.py <path to nn_encoder_dump> [config-name-substring ...]

Torch comes from Debian's python3-torch in /usr/bin/python3 (or $VN_TORCH_PYTHON): without
torch here the script re-executes itself with that one, and reports SKIP (exit 77) when no
python has torch.
"""
import os
import shutil
import subprocess
import sys
import tempfile

TOL = 1e-4

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_env import ensure_torch  # noqa: E402

ensure_torch()

import numpy as np  # noqa: E402
import torch  # noqa: E402

import torch_encoder as te  # noqa: E402


def rel_err(a, b):
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    nb = np.linalg.norm(b)
    d = np.linalg.norm(a - b)
    return d / nb if nb > 0 else d


def configs():
    """(name, batch N, config dict) for every case."""
    out = []
    one = dict(depth=1, temporal_depth=1)
    out.append(("video-block-joint-mean", 2, te.make_config("xs", "video", **one)))
    out.append(("video-block-divided-attentive", 2, te.make_config("xs", "video", attention="divided",
                                                                   pooling="attentive", **one)))
    out.append(("frames-block-mean", 2, te.make_config("xs", "frames", **one)))
    out.append(("frames-block-attentive", 2, te.make_config("xs", "frames", pooling="attentive", **one)))
    out.append(("frames+temporal-block-mean", 2, te.make_config("xs", "frames+temporal", **one)))
    out.append(("frames+temporal-block-attentive", 2, te.make_config("xs", "frames+temporal", pooling="attentive",
                                                                     **one)))
    for att in ("joint", "divided"):
        for pool in ("mean", "attentive"):
            out.append((f"video-xs-{att}-{pool}", 4, te.make_config("xs", "video", attention=att, pooling=pool)))
    out.append(("video-xs-divided-sincos", 2, te.make_config("xs", "video", attention="divided", pos="sincos")))
    for pool in ("mean", "attentive"):
        out.append((f"frames-xs-{pool}", 4, te.make_config("xs", "frames", pooling=pool)))
        out.append((f"frames+temporal-xs-{pool}", 4, te.make_config("xs", "frames+temporal", pooling=pool)))
    out.append(("frames-xs-sincos", 2, te.make_config("xs", "frames", pos="sincos")))
    # the s shapes (3 heads of 64, 8x8 patches per frame), one block each
    out.append(("video-s-block-divided-attentive", 1, te.make_config("s", "video", attention="divided",
                                                                     pooling="attentive", **one)))
    out.append(("frames+temporal-s-block-attentive", 1, te.make_config("s", "frames+temporal",
                                                                       pooling="attentive", **one)))
    return out


def dump_args(cfg):
    return ["--family", cfg["family"], "--preset", "xs", "--frames", str(cfg["frames"]), "--size", str(cfg["size"]),
            "--channels", str(cfg["channels"]), "--patch", str(cfg["patch"]), "--tubelet", str(cfg["tubelet_t"]),
            "--dim", str(cfg["dim"]), "--depth", str(cfg["depth"]), "--heads", str(cfg["heads"]),
            "--mlp-ratio", repr(cfg["mlp_ratio"]), "--pooling", cfg["pooling"], "--attention", cfg["attention"],
            "--pos", cfg["pos"], "--temporal-depth", str(cfg["temporal_depth"]), "--seed", "7",
            "--threads", "2"]


def perturbed(name, a, rng):
    """Weights of the test's own, from vnative's init: every tensor moves, so that no
    gradient path hides behind a zero bias or a unit LayerNorm scale."""
    if name.endswith("norm.weight") or name.endswith("norm1.weight") or name.endswith("norm2.weight") \
            or name.endswith("tnorm.weight"):
        return (1.0 + 0.2 * rng.standard_normal(a.shape)).astype(np.float32)
    if name.endswith(".bias"):
        return (0.05 * rng.standard_normal(a.shape)).astype(np.float32)
    if name.endswith("pool.query"):
        return (0.5 * rng.standard_normal(a.shape)).astype(np.float32)
    # weights (std 0.02 at init) x 4 plus noise: attention scores of order 1
    return (4.0 * a + 0.02 * rng.standard_normal(a.shape)).astype(np.float32)


def run(tool, cmd_args, d):
    r = subprocess.run([tool] + cmd_args + [d], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"nn_encoder_dump failed ({r.returncode}): {r.stderr.strip()}")


def check_mha_equivalence(model):
    """The attention module is nn.MultiheadAttention's math: check it on the first block."""
    blk = model.blocks[0]
    x = torch.randn(3, 7, blk.attn.qkv.in_features, dtype=torch.float64)
    attn = blk.attn.double()
    mha = attn.as_mha()
    y_mha, _ = mha(x, x, x, need_weights=False)
    e = rel_err(attn(x).detach().numpy(), y_mha.detach().numpy())
    attn.float()
    return e


def run_config(tool, name, N, cfg, tmp, rng):
    d = os.path.join(tmp, name.replace("+", "_"))
    os.makedirs(d)
    args = dump_args(cfg)
    run(tool, args + ["--params-only"], d)
    pdir = os.path.join(d, "params")
    os.makedirs(os.path.join(d, "init"))
    names = sorted(f[:-4] for f in os.listdir(pdir) if f.endswith(".npy"))
    for n in names:
        np.save(os.path.join(d, "init", n + ".npy"), perturbed(n, np.load(os.path.join(pdir, n + ".npy")), rng))
    shutil.rmtree(pdir)

    clips = rng.standard_normal((N, cfg["channels"], cfg["frames"], cfg["size"], cfg["size"])).astype(np.float32)
    model = te.Encoder(cfg)
    te.load_params(model, os.path.join(d, "init"), names)
    mha_err = check_mha_equivalence(model)
    emb, tokens = model(torch.from_numpy(clips))
    # G has the sign of the embeddings, so that loss = sum(emb * G) sums positive terms and
    # its relative error means something (a random G lets the sum cancel towards 0).
    G = (np.abs(rng.standard_normal((N, cfg["dim"]))) * np.sign(emb.detach().numpy())).astype(np.float32)
    loss = (emb * torch.from_numpy(G)).sum()
    loss.backward()
    np.save(os.path.join(d, "clips.npy"), clips)
    np.save(os.path.join(d, "G.npy"), G)
    run(tool, args, d)

    # vnative must have used exactly the weights it was given
    worst_set = max(rel_err(np.load(os.path.join(pdir, n + ".npy")), np.load(os.path.join(d, "init", n + ".npy")))
                    for n in names)

    c_emb = np.load(os.path.join(d, "embeddings.npy"))
    c_tok = np.load(os.path.join(d, "tokens.npy"))
    c_loss = float((c_emb.astype(np.float64) * G.astype(np.float64)).sum())
    results = [("embeddings", rel_err(c_emb, emb.detach().numpy())),
               ("loss", abs(c_loss - loss.item()) / max(abs(loss.item()), 1e-30))]
    if tuple(c_tok.shape) == tuple(tokens.shape):
        results.append(("tokens", rel_err(c_tok, tokens.detach().numpy())))
    else:
        results.append((f"tokens shape {c_tok.shape} vs torch {tuple(tokens.shape)}", float("inf")))
    params = dict(model.named_parameters())
    for n in names:
        g = params[n].grad
        if g is None:
            results.append((f"grad {n} (torch has none)", float("inf")))
            continue
        results.append(("grad " + n, rel_err(np.load(os.path.join(d, "grads", n + ".npy")), g.numpy())))
    results.append(("set/get weights", worst_set))
    results.append(("Attention vs nn.MultiheadAttention (f64)", mha_err))
    bad = [(w, e) for w, e in results if not e <= TOL]
    worst = max(results, key=lambda r: r[1] if np.isfinite(r[1]) else 1e300)
    grads = [e for w, e in results if w.startswith("grad ")]
    status = "ok" if not bad else "FAIL"
    print(f"{name:34s} N={N} params={len(names):3d}  emb {results[0][1]:.1e}  loss {results[1][1]:.1e}  "
          f"tokens {results[2][1]:.1e}  worst grad {max(grads):.1e}  worst: {worst[0]} {worst[1]:.1e}  {status}",
          flush=True)
    for w, e in bad:
        print(f"    FAIL {w}: rel err {e:.3e}")
    return not bad


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    tool = sys.argv[1]
    only = sys.argv[2:]
    torch.set_num_threads(2)
    torch.manual_seed(0)
    rng = np.random.default_rng(20261126)
    ok = True
    n = 0
    with tempfile.TemporaryDirectory(prefix="vn_parity_enc_") as tmp:
        for name, N, cfg in configs():
            if only and not any(s in name for s in only):
                continue
            n += 1
            try:
                ok &= run_config(tool, name, N, cfg, tmp, rng)
            except Exception as e:  # report and go on with the other configs
                print(f"{name}: ERROR {type(e).__name__}: {e}", flush=True)
                ok = False
    if n == 0:
        print("parity_encoder: no config matched")
        return 1
    print("parity_encoder:", f"all {n} configs ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
