#!/usr/bin/env python3
"""PyTorch parity of the dense ops and losses of src/nn (ops.h).

For each op: random float32 inputs and an upstream gradient are written as .npy, the C
fast path runs on them through tests/nn_dump, and its output and input gradients are
compared with torch.nn.functional and torch autograd in float32, at relative error
||c - torch|| / ||torch|| <= 1e-4.

usage: parity_dense.py <path to nn_dump>

Torch comes from Debian's python3-torch in /usr/bin/python3, which is not necessarily the
python3 on PATH: without torch here the script re-executes itself with that one (or with
$VN_TORCH_PYTHON), and reports SKIP (exit 77) when neither has torch.
"""
import os
import subprocess
import sys
import tempfile

TOL = 1e-4

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_env import ensure_torch  # noqa: E402

ensure_torch()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def rel_err(a, b):
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    nb = np.linalg.norm(b)
    d = np.linalg.norm(a - b)
    return d / nb if nb > 0 else d


class Case:
    def __init__(self, name, inputs, grads, fn, loss=False, extra=None):
        self.name = name          # the op name nn_dump knows
        self.inputs = inputs      # dict name -> float32 array (differentiable ones listed in grads)
        self.grads = grads        # names of inputs that get gradients
        self.fn = fn              # torch function of the input tensors (a dict) -> output
        self.loss = loss
        self.extra = extra or {}  # non-tensor data written alongside (labels as float32)


def cases(rng):
    f32 = np.float32

    def randn(*shape, scale=1.0):
        return (rng.standard_normal(shape) * scale).astype(f32)

    out = []
    N, IC, OC = 37, 53, 29
    out.append(Case("linear", {"inp": randn(N, IC), "w": randn(OC, IC, scale=0.3), "b": randn(OC, scale=0.3)},
                    ["inp", "w", "b"], lambda t: F.linear(t["inp"], t["w"], t["b"])))
    N, C = 41, 77
    out.append(Case("layernorm", {"inp": randn(N, C, scale=1.5) + f32(0.7), "w": 1 + randn(C, scale=0.3),
                                  "b": randn(C, scale=0.3)},
                    ["inp", "w", "b"], lambda t, C=C: F.layer_norm(t["inp"], (C,), t["w"], t["b"], eps=1e-5)))
    out.append(Case("gelu", {"inp": (rng.uniform(-6, 6, size=(1001,))).astype(f32)}, ["inp"],
                    lambda t: F.gelu(t["inp"], approximate="tanh")))
    out.append(Case("softmax", {"inp": randn(23, 131, scale=2.0)}, ["inp"], lambda t: F.softmax(t["inp"], dim=-1)))
    out.append(Case("meanpool", {"inp": randn(3, 17, 45)}, ["inp"], lambda t: t["inp"].mean(dim=1)))
    Nb = 301
    targets = np.where(np.arange(Nb) % 2 == 0, rng.integers(0, 2, Nb), rng.uniform(0, 1, Nb)).astype(f32)
    logits = randn(Nb, scale=3.0)
    logits[:2] = [30.0, -30.0]
    out.append(Case("bce_logits", {"logits": logits, "targets": targets}, ["logits"],
                    lambda t: F.binary_cross_entropy_with_logits(t["logits"], t["targets"]), loss=True))
    N, K = 33, 19
    labels = rng.integers(0, K, N)
    out.append(Case("softmax_ce", {"logits": randn(N, K, scale=2.0)}, ["logits"],
                    lambda t, labels=labels: F.cross_entropy(t["logits"], torch.from_numpy(labels).long()),
                    loss=True, extra={"labels": labels.astype(f32)}))
    N, M, D, tau = 24, 31, 16, 0.07
    pos = rng.integers(0, M, N)
    def infonce(t, tau=tau, pos=pos):
        return F.cross_entropy(t["q"] @ t["k"].T / tau, torch.from_numpy(pos).long())
    out.append(Case("infonce", {"q": randn(N, D, scale=D ** -0.5), "k": randn(M, D, scale=D ** -0.5)}, ["q", "k"],
                    infonce, loss=True, extra={"pos": pos.astype(f32), "tau": np.array([tau], dtype=f32)}))
    N, C = 29, 48
    target = randn(N, C, scale=2.0)
    for name, lossf in (("l1_ln_target", F.l1_loss), ("mse_ln_target", F.mse_loss)):
        out.append(Case(name, {"pred": randn(N, C), "target": target}, ["pred"],
                        lambda t, lossf=lossf, C=C: lossf(t["pred"], F.layer_norm(t["target"], (C,), eps=1e-5)),
                        loss=True))
    return out


def run_case(nn_dump, case, rng, tmp):
    d = os.path.join(tmp, case.name)
    os.makedirs(d, exist_ok=True)
    for k, v in list(case.inputs.items()) + list(case.extra.items()):
        np.save(os.path.join(d, k + ".npy"), np.ascontiguousarray(v, dtype=np.float32))

    tensors = {k: torch.from_numpy(v.copy()).requires_grad_(k in case.grads) for k, v in case.inputs.items()}
    y = case.fn(tensors)
    dout = np.array([0.75], dtype=np.float32) if case.loss else rng.standard_normal(y.shape).astype(np.float32)
    np.save(os.path.join(d, "dout.npy"), dout)
    y.backward(torch.from_numpy(dout.reshape(y.shape).copy()))

    r = subprocess.run([nn_dump, case.name, d], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"{case.name}: nn_dump failed ({r.returncode}): {r.stderr.strip()}")
        return False
    ok = True
    checks = [("out", np.load(os.path.join(d, "out.npy")), y.detach().numpy())]
    checks += [("d" + g, np.load(os.path.join(d, "d" + g + ".npy")), tensors[g].grad.numpy()) for g in case.grads]
    for what, got, want in checks:
        e = rel_err(got.reshape(want.shape), want)
        good = e <= TOL
        ok &= good
        print(f"{case.name:14s} {what:8s} rel err {e:.2e} {'ok' if good else 'FAIL'}")
    return ok


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    torch.set_num_threads(2)
    rng = np.random.default_rng(20261126)
    ok = True
    with tempfile.TemporaryDirectory(prefix="vn_parity_") as tmp:
        for case in cases(rng):
            ok &= run_case(sys.argv[1], case, rng, tmp)
    print("parity_dense:", "all ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
