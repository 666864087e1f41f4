"""Train a small video encoder with vnative.Trainer and plot its loss to a PNG.

    PYTHONPATH=bindings/python VNATIVE_LIBRARY=build/libvnative.so \\
        python3 examples/python/train_plot.py --steps 300 --out loss.png

The xs video encoder learns the arrow of time (objective "aot") on procedural physics
clips streamed from vn_world, with a held-out evaluation every few steps; the plot shows
the training loss of every step, its running mean and the held-out loss and accuracy.
--data takes any source of vn_trainer: "world:aot,gravity", a CSV manifest or a
directory of videos (files have no held-out evaluation unless --eval-data names one).
Needs numpy and matplotlib (Debian: python3-numpy, python3-matplotlib).
"""
import argparse
import math
import sys

try:
    import matplotlib
    import numpy as np
except ImportError as exc:
    sys.exit(f"train_plot.py needs numpy and matplotlib ({exc}): apt-get install python3-numpy python3-matplotlib")

matplotlib.use("Agg")  # no display needed: draw straight into the PNG
import matplotlib.pyplot as plt  # noqa: E402

import vnative  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="xs", help="encoder preset (xs, s) (default xs)")
    ap.add_argument("--objectives", default="aot", help="weighted objectives, e.g. aot=1,order=0.5 (default aot)")
    ap.add_argument("--data", default="world:aot", help="training data (default world:aot)")
    ap.add_argument("--eval-data", default=None, help="held-out data (default: world data from another seed)")
    ap.add_argument("--steps", type=int, default=300, help="optimiser steps (default 300)")
    ap.add_argument("--batch", type=int, default=16, help="clips per step (default 16)")
    ap.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (default 1e-3)")
    ap.add_argument("--eval-every", type=int, default=0, help="held-out evaluation every N steps (default steps/10)")
    ap.add_argument("--eval-clips", type=int, default=64, help="clips per held-out evaluation (default 64)")
    ap.add_argument("--threads", type=int, default=0, help="compute threads (default: every core)")
    ap.add_argument("--save", default=None, help="write a checkpoint directory at the end")
    ap.add_argument("--out", default="loss.png", help="the plot (default loss.png)")
    args = ap.parse_args()

    eval_every = args.eval_every or max(1, args.steps // 10)
    steps, evals = [], []

    def on_metrics(m):
        (evals if m["is_eval"] else steps).append(m)
        if not m["is_eval"] and (m["step"] == 1 or m["step"] % 10 == 0):
            print(f"step {m['step']:5d}  loss {m['loss']:.4f}  lr {m['lr']:.2e}  {m['clips_per_s']:.0f} clips/s")
        return False  # True would stop the run

    with vnative.Context(threads=args.threads, seed=0) as ctx:
        trainer = vnative.Trainer(ctx, args.model, objectives=args.objectives, data=args.data,
                                  eval_data=args.eval_data, batch=args.batch, total_steps=args.steps, lr=args.lr,
                                  eval_every=eval_every, eval_clips=args.eval_clips, callback=on_metrics)
        print(f"training {args.model} on {args.data} with {args.objectives}: {args.steps} steps of {args.batch} clips,"
              f" {trainer.encoder.num_params} parameters, {ctx.backend} backend with {ctx.threads} threads")
        last = trainer.run(args.steps)
        if args.save:
            trainer.save(args.save)
            print(f"checkpoint: {args.save}/model.safetensors")
        trainer.close()

    x = np.array([m["step"] for m in steps])
    loss = np.array([m["loss"] for m in steps])
    if not np.all(np.isfinite(loss)):
        print("the loss is not finite", file=sys.stderr)
        return 1
    window = max(1, min(20, len(loss) // 5))
    running = np.convolve(loss, np.ones(window) / window, mode="valid")

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    ax_loss.plot(x, loss, color="0.75", linewidth=1, label="training loss (per step)")
    ax_loss.plot(x[window - 1:], running, color="C0", linewidth=2, label=f"running mean of {window}")
    if evals:
        ax_loss.plot([m["step"] for m in evals], [m["loss"] for m in evals], "o-", color="C3", label="held-out loss")
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("loss")
    ax_loss.set_title(f"{args.model} on {args.data}: {args.objectives}")
    ax_loss.legend()

    # Accuracy of every objective that has one (aot, order: the head; future: top-1 retrieval).
    for name in last["accuracy"]:
        tr = [(m["step"], m["accuracy"][name]) for m in steps if m["accuracy"].get(name) is not None]
        ev = [(m["step"], m["accuracy"][name]) for m in evals if m["accuracy"].get(name) is not None]
        if tr:
            ax_acc.plot(*zip(*tr), linewidth=1, alpha=0.5, label=f"{name} (training batch)")
        if ev:
            ax_acc.plot(*zip(*ev), "o-", label=f"{name} (held out)")
    ax_acc.axhline(0.5, color="0.5", linestyle=":", linewidth=1)
    ax_acc.set_ylim(0, 1)
    ax_acc.set_xlabel("step")
    ax_acc.set_ylabel("accuracy")
    ax_acc.legend()
    fig.savefig(args.out, dpi=100)
    print(f"final loss {last['loss']:.4f}; "
          + (f"held-out loss {evals[-1]['loss']:.4f}; " if evals and math.isfinite(evals[-1]["loss"]) else "")
          + f"plot: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
