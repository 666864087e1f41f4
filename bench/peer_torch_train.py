"""The PyTorch side of bench/perf_bench.sh: the training step and encode that
`vnative bench` times, on the same model (the modules of tests/python/torch_encoder.py,
which the parity tests check against vnative's encoder).

    /usr/bin/python3 bench/peer_torch_train.py --preset xs --family video --attention joint
        --batch 16 --threads 2 [--steps 10] [--warmup 3] [--reps 5]

step:   the aot objective as vn_trainer_step runs it: half the clips reversed along time,
        encoder forward, a linear head to one logit, BCE-with-logits, backward,
        clip_grad_norm_(1.0), AdamW (weight decay 0.05 on weights only). The clips are
        made once up front (vnative renders world clips inside its step: that time is
        counted on vnative's side only).
encode: the encoder's forward under torch.no_grad().
Prints one JSON object: medians in ms, the process's RSS before the model and its peak
after the steps, torch's version, threads and the BLAS mapped into the process.
"""
import argparse
import contextlib
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "python"))
import torch_encoder as te  # noqa: E402


def proc_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return float(line.split()[1]) / 1024.0
    return float("nan")


def blas_libs():
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            name = os.path.basename(line.split()[-1]) if "/" in line else ""
            if "blas" in name.lower() or "lapack" in name.lower():
                libs.add(name)
    return sorted(libs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="xs")
    ap.add_argument("--family", default="video")
    ap.add_argument("--attention", default="joint")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--what", default="step,encode")
    # PyTorch's own mixed precision, to compare with vnative's bf16 (not in the default run)
    ap.add_argument("--autocast-bf16", action="store_true")
    a = ap.parse_args()
    amp = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if a.autocast_bf16 else contextlib.nullcontext
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    rss_base = proc_mb("VmRSS:")
    cfg = te.make_config(a.preset, a.family, attention=a.attention, pooling="mean")
    model = te.Encoder(cfg)
    head = torch.nn.Linear(cfg["dim"], 1)
    decay, no_decay = [], []
    for name, p in list(model.named_parameters()) + list(head.named_parameters()):
        if p.ndim >= 2:
            torch.nn.init.trunc_normal_(p, std=0.02, a=-0.04, b=0.04)
        (decay if name.endswith(".weight") and p.ndim >= 2 else no_decay).append(p)
    params = decay + no_decay
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    B = a.batch
    clips = torch.rand(B, cfg["channels"], cfg["frames"], cfg["size"], cfg["size"]) * 2 - 1
    out = {"side": "pytorch", "preset": a.preset, "family": a.family, "attention": a.attention, "batch": B,
           "threads": torch.get_num_threads(), "torch": torch.__version__, "autocast_bf16": a.autocast_bf16,
           "params": sum(p.numel() for p in model.parameters()), "rss_base_mb": rss_base}

    if "step" in a.what:
        times = []
        for it in range(-a.warmup, a.steps):
            t0 = time.perf_counter()
            rev = torch.rand(B) < 0.5
            x = torch.where(rev[:, None, None, None, None], clips.flip(2), clips)
            target = (~rev).float()
            opt.zero_grad(set_to_none=False)
            with amp():
                emb, _ = model(x)
                logits = head(emb).squeeze(1)
            loss = loss_fn(logits.float(), target)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            if it >= 0:
                times.append(time.perf_counter() - t0)
        out["step_ms"] = statistics.median(times) * 1e3
        out["rss_peak_mb"] = proc_mb("VmHWM:")
    if "encode" in a.what:
        times = []
        with torch.no_grad(), amp():
            for it in range(-2, a.reps):
                t0 = time.perf_counter()
                model(clips)
                if it >= 0:
                    times.append(time.perf_counter() - t0)
        out["encode_ms"] = statistics.median(times) * 1e3
    out["blas"] = blas_libs()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
