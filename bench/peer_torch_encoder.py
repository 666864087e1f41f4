"""The PyTorch side of bench/encoder_bench.sh: the same encoder as vnative's (the modules
of tests/python/torch_encoder.py) timed on one training step and one encode.

    /usr/bin/python3 bench/peer_torch_encoder.py PRESET FAMILY joint|divided mean|attentive BATCH THREADS [REPS]
        [--frames N]

--frames overrides the preset's clip length, as bench_encoder's --frames does (for
bench/attention_scaling.sh).

step:   zero_grad, forward, loss = sum(emb * G), backward, torch.optim.AdamW step (weight
        decay 0.05 on linear and conv weights, 0 on biases, norms, positional embeddings
        and the pooling query, as vnative's vn_encoder_param_decays);
encode: forward under torch.no_grad().
Prints one JSON object with the medians in seconds, as bench/bench_encoder.c does.
"""
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "python"))
import torch_encoder as te  # noqa: E402


def main(preset, family, attention, pooling, batch, threads, reps=5, frames=None):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    cfg = te.make_config(preset, family, attention=attention, pooling=pooling)
    if frames is not None:
        cfg["frames"] = frames
    model = te.Encoder(cfg)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        torch.nn.init.trunc_normal_(p, std=0.02, a=-0.04, b=0.04) if p.ndim >= 2 else None
        is_weight = name.endswith(".weight") and p.ndim >= 2
        (decay if is_weight else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-4)
    x = torch.rand(batch, cfg["channels"], cfg["frames"], cfg["size"], cfg["size"]) * 2 - 1
    G = (torch.rand(batch, cfg["dim"]) - 0.5) / batch
    step_t, enc_t = [], []
    for it in range(-2, reps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        emb, _ = model(x)
        loss = (emb * G).sum()
        loss.backward()
        opt.step()
        t1 = time.perf_counter()
        with torch.no_grad():
            emb, _ = model(x)
        t2 = time.perf_counter()
        if it >= 0:
            step_t.append(t1 - t0)
            enc_t.append(t2 - t1)
    print(json.dumps({"preset": preset, "family": family, "attention": attention, "pooling": pooling,
                      "batch": batch, "frames": cfg["frames"], "params": sum(p.numel() for p in model.parameters()),
                      "step_s": statistics.median(step_t), "encode_s": statistics.median(enc_t),
                      "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    a = sys.argv[1:]
    frames = None
    if len(a) >= 2 and a[-2] == "--frames":
        frames = int(a[-1])
        a = a[:-2]
    if len(a) not in (6, 7) or (frames is not None and frames < 1):
        print(__doc__)
        sys.exit(2)
    sys.exit(main(a[0], a[1], a[2], a[3], int(a[4]), int(a[5]), *(int(v) for v in a[6:]), frames=frames))
