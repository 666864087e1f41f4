#!/usr/bin/python3
"""Plot endurance_loader's CSV (seconds, epoch, files_done, rss_mb): resident memory against
files read, one colour per epoch, with the warm-up boundary and the least-squares line after
it. Usage: endurance_plot.py CSV PNG [TITLE]"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    src, png = sys.argv[1], sys.argv[2]
    title = sys.argv[3] if len(sys.argv) > 3 else "vn_loader endurance"
    rows = list(csv.DictReader(open(src)))
    done = [int(r["files_done"]) for r in rows]
    rss = [float(r["rss_mb"]) for r in rows]
    epoch = [int(r["epoch"]) for r in rows]
    per_epoch = max(1, done[-1] // max(1, epoch[-1]))
    warm = per_epoch // 10
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=110)
    # the last row, one epoch past the rest, is the sample after vn_loader_destroy
    for e in sorted(set(epoch))[:-1]:
        xs = [d for d, ep in zip(done, epoch) if ep == e]
        ys = [r for r, ep in zip(rss, epoch) if ep == e]
        ax.plot(xs, ys, lw=1.2, label=f"epoch {e}")
    ax.plot([done[-1]], [rss[-1]], "ko", ms=4, label=f"after vn_loader_destroy: {rss[-1]:.1f} MB")
    after = [(d, r) for d, r in zip(done, rss) if d >= warm]
    if len(after) > 2:
        n = len(after)
        sx = sum(d for d, _ in after)
        sy = sum(r for _, r in after)
        sxx = sum(d * d for d, _ in after)
        sxy = sum(d * r for d, r in after)
        k = (n * sxy - sx * sy) / (n * sxx - sx * sx)
        b = (sy - k * sx) / n
        x0, x1 = after[0][0], after[-1][0]
        ax.plot([x0, x1], [k * x0 + b, k * x1 + b], "k--", lw=1,
                label=f"fit after warm-up: {1000 * k:+.3f} MB / 1000 files")
    ax.axvline(warm, color="grey", lw=0.8, ls=":")
    ax.text(warm, min(rss), " warm-up", color="grey", va="bottom")
    ax.set_xlabel("files read (loaded or skipped)")
    ax.set_ylabel("resident memory (MB)")
    ax.set_title(title)
    ax.set_ylim(0, max(rss) * 1.15)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(png)
    print(f"wrote {png}")


if __name__ == "__main__":
    main()
