#!/usr/bin/python3
"""Joint against divided space-time attention as the clip grows: the xs video encoder at 8,
16, 32 and 64 frames, vnative (build/bench/bench_encoder --frames) and the same model in
PyTorch (bench/peer_torch_encoder.py --frames), one training step and one encode each.

Joint attention is quadratic in the token count F*S (F token frames, S patches per frame),
divided attention costs S*F^2 + F*S^2, and the GEMMs are linear in F*S: the question is at
which clip length the quadratic term starts to dominate, and whether the measured times
follow the analytic FLOPs (the count of bench/run_encoder_bench.py, which bench_encoder
reports and which is checked against that python here).

Writes docs/img/attention_scaling.png and the table between the attention-scaling markers
of docs/ATTENTION_SCALING.md. Sides alternate (and swap order) for VN_BENCH_ROUNDS rounds
and each keeps its best median, so load from other work on the shared machine hits both
alike; configs whose best is not yet confirmed by a second round within 10% then get more
rounds while VN_BENCH_BUDGET_S lasts; each run first waits (briefly) for a moment when
nothing else is runnable.
"""
import datetime
import math
import os
import shutil
import sys
import tempfile
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("VN_BENCH_BUILD", "build"))
DOC = os.path.join(ROOT, "docs", "ATTENTION_SCALING.md")
PNG = os.path.join(ROOT, "docs", "img", "attention_scaling.png")
BEGIN = "<!-- BEGIN attention-scaling -->"
END = "<!-- END attention-scaling -->"
THREADS = int(os.environ.get("VN_BENCH_THREADS", "2"))
ROUNDS = int(os.environ.get("VN_BENCH_ROUNDS", "2"))
# Batch 8 for every point: 64 frames joint is then ~17 GFLOP forward, a few hundred ms per
# step, and 8 frames is still large enough (256 tokens) not to be all overhead.
BATCH = int(os.environ.get("VN_BENCH_BATCH", "8"))
REPS = int(os.environ.get("VN_BENCH_REPS", "5"))
# After ROUNDS rounds, configs whose best step (on either side) no second round has come
# within 10% of get more rounds until this many seconds have gone since the start: on this
# shared 2-core machine a whole round can land under someone's build.
BUDGET_S = float(os.environ.get("VN_BENCH_BUDGET_S", "480"))
# Before each run, wait up to QUIET_S seconds for a second in which nothing else is runnable,
# and no more than QUIET_TOTAL_S in all: other work on the machine comes in bursts, and a
# 2-thread team that loses a core to one runs several times slower.
QUIET_S = float(os.environ.get("VN_BENCH_QUIET_S", "15"))
QUIET_TOTAL_S = float(os.environ.get("VN_BENCH_QUIET_TOTAL_S", "150"))
QUIET = {"waited": 0.0, "quiet": 0, "runs": 0}
PRESET = "xs"
FRAMES = (8, 16, 32, 64)
ATTENTIONS = ("joint", "divided")
SIDES = ("vnative", "torch")
BIN = {}  # the private copies of the bench programs main() runs

sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
import bench_common  # noqa: E402
import run_encoder_bench as reb  # noqa: E402
from bench_common import run_json  # noqa: E402
import torch_encoder as te  # noqa: E402


def procs_running():
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("procs_running"):
                return int(line.split()[1])
    return 0


def wait_quiet():
    """Wait for four samples in a row (a second) in which this process is the only runnable
    one, for at most QUIET_S, while the QUIET_TOTAL_S allowance lasts."""
    t0, streak = time.monotonic(), 0
    limit = min(QUIET_S, max(0.0, QUIET_TOTAL_S - QUIET["waited"]))
    QUIET["runs"] += 1
    while True:
        streak = streak + 1 if procs_running() <= 1 else 0
        if streak >= 4:
            QUIET["quiet"] += 1
            break
        if time.monotonic() - t0 >= limit:
            break
        time.sleep(0.25)
    QUIET["waited"] += time.monotonic() - t0


def gemm_peak():
    wait_quiet()
    # the private copies' directory has the build's layout (bench/bench_gemm)
    return bench_common.gemm_peak(os.path.dirname(os.path.dirname(BIN["bench_gemm"])), THREADS)[0]


def argv_of(side, att, frames):
    base = ([BIN["bench_encoder"]] if side == "vnative" else
            ["/usr/bin/python3", os.path.join(ROOT, "bench", "peer_torch_encoder.py")])
    return base + [PRESET, "video", att, "mean", str(BATCH), str(THREADS), str(REPS), "--frames", str(frames)]


def tokens_per_clip(frames):
    cfg = te.make_config(PRESET, "video", frames=frames)
    return frames // cfg["tubelet_t"] * (cfg["size"] // cfg["patch"]) ** 2


def check_flops(r, att, frames):
    """bench_encoder's C count must be the python one, or the GFLOP/s here and in
    docs/PERFORMANCE.md would not be comparable."""
    py = reb.forward_flops(te.make_config(PRESET, "video", attention=att, pooling="mean", frames=frames), BATCH)
    if abs(r["flops_forward"] - py) > 1e-5 * py:
        sys.exit(f"attention_scaling: bench_encoder counts {r['flops_forward']:.6g} forward FLOPs for {att} "
                 f"{frames} frames, bench/run_encoder_bench.py {py:.6g}")


def slope(xs, ys):
    """Least-squares exponent of y ~ x^k over the points (log-log)."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def plot(best, flops, torch_version):
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 5))
    colors = {"joint": "tab:blue", "divided": "tab:orange"}
    for att in ATTENTIONS:
        for side, marker, ls in (("vnative", "o", "-"), ("torch", "s", ":")):
            ys = [best[(att, f)][side]["step_s"] * 1e3 for f in FRAMES]
            name = "vnative" if side == "vnative" else "PyTorch"
            ax.plot(FRAMES, ys, ls, marker=marker, color=colors[att], lw=2 if side == "vnative" else 1.5,
                    label=f"{name}, {att}")
    # The FLOP curves share the time axis through vnative's joint rate at 8 frames, so a
    # measured line that stays parallel to its dashed line means a constant GFLOP/s.
    rate = flops[("joint", FRAMES[0])]["step"] / best[("joint", FRAMES[0])]["vnative"]["step_s"]
    for att in ATTENTIONS:
        ax.plot(FRAMES, [flops[(att, f)]["step"] / rate * 1e3 for f in FRAMES], "--", color=colors[att], lw=1.2,
                alpha=0.8, label=f"analytic FLOPs, {att}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(FRAMES)
    ax.set_xticklabels([f"{f}\n({tokens_per_clip(f)} tok)" for f in FRAMES])
    ax.set_xlabel("frames per clip (tokens per clip)")
    ax.set_ylabel("training step, ms (best of rounds' medians)")
    sec = ax.secondary_yaxis("right", functions=(lambda ms: ms * 1e-3 * rate * 1e-9,
                                                 lambda g: g * 1e9 / rate * 1e3))
    sec.set_ylabel("GFLOP per step (dashed lines)")
    # 1-2-5 labels: the range spans barely two decades, and bare powers of ten leave one label
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    for axis in (ax.yaxis, sec.yaxis):
        axis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5)))
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax.set_title(f"xs video encoder, batch {BATCH}, {THREADS} threads: step time vs clip length")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")

    for att in ATTENTIONS:
        for side, marker, ls in (("vnative", "o", "-"), ("torch", "s", ":")):
            ys = [flops[(att, f)]["step"] / best[(att, f)][side]["step_s"] * 1e-9 for f in FRAMES]
            name = "vnative" if side == "vnative" else "PyTorch"
            ax2.plot(FRAMES, ys, ls, marker=marker, color=colors[att], lw=2 if side == "vnative" else 1.5,
                     label=f"{name}, {att}")
    ax2.set_xscale("log", base=2)
    ax2.set_xticks(FRAMES)
    ax2.set_xticklabels([str(f) for f in FRAMES])
    ax2.set_ylim(bottom=0)
    ax2.set_xlabel("frames per clip")
    ax2.set_ylabel("achieved GFLOP/s on the training step (analytic count)")
    ax2.set_title(f"throughput (PyTorch {torch_version}, OpenBLAS)")
    ax2.grid(True, which="both", alpha=0.3)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(PNG), exist_ok=True)
    fig.savefig(PNG, dpi=110)
    plt.close(fig)


def crossover(best, side):
    """The smallest frame count from which divided's step stays faster than joint's."""
    faster = [best[("divided", f)][side]["step_s"] < best[("joint", f)][side]["step_s"] for f in FRAMES]
    for i, f in enumerate(FRAMES):
        if all(faster[i:]):
            return f
    return None


def findings(best, flops, noise):
    out = []
    fl = {a: [flops[(a, f)]["step"] for f in FRAMES] for a in ATTENTIONS}
    share = {a: [flops[(a, f)]["attn"] / flops[(a, f)]["forward"] for f in FRAMES] for a in ATTENTIONS}
    fx = next((f for f in FRAMES if flops[("divided", f)]["step"] < flops[("joint", f)]["step"]), None)
    out.append(
        f"From {FRAMES[0]} to {FRAMES[-1]} frames (the token count grows {FRAMES[-1] // FRAMES[0]}x) the analytic "
        f"step FLOPs grow {fl['joint'][-1] / fl['joint'][0]:.1f}x for joint and "
        f"{fl['divided'][-1] / fl['divided'][0]:.1f}x for divided: the attention products (QK^T and PV) are "
        f"{100 * share['joint'][0]:.0f}% of joint's FLOPs at {FRAMES[0]} frames and {100 * share['joint'][-1]:.0f}% "
        f"at {FRAMES[-1]}, and at most {100 * max(share['divided']):.0f}% of divided's, whose temporal qkv and proj "
        "GEMMs cost more than the attention it saves "
        + (f"up to {FRAMES[FRAMES.index(fx) - 1]} frames; in FLOPs divided is the cheaper from {fx} frames."
           if fx and fx != FRAMES[0] else
           ("at no length measured." if fx else f"at every length measured, up to {FRAMES[-1]} frames.")))
    for side, name in (("vnative", "vnative"), ("torch", "PyTorch")):
        c = crossover(best, side)
        e = {a: slope(FRAMES, [best[(a, f)][side]["step_s"] for f in FRAMES]) for a in ATTENTIONS}
        where = (f"divided's step is the faster from {c} frames on" if c is not None else
                 "divided's step is never the faster in the range measured")
        ratio = best[("joint", FRAMES[-1])][side]["step_s"] / best[("divided", FRAMES[-1])][side]["step_s"]
        spread = (f"; {noise[side]} of the {len(best)} configs had their best round confirmed within 10% by "
                  "another" if ROUNDS > 1 else "")
        out.append(f"On {name} {where} (joint / divided = {ratio:.2f} at {FRAMES[-1]} frames{spread}), and the step time "
                   f"grows as frames^{e['joint']:.2f} for joint and frames^{e['divided']:.2f} for divided against "
                   f"frames^{slope(FRAMES, fl['joint']):.2f} and frames^{slope(FRAMES, fl['divided']):.2f} for "
                   "their FLOPs (least-squares exponents over the four lengths).")
    rates = {a: [flops[(a, f)]["step"] / best[(a, f)]["vnative"]["step_s"] * 1e-9 for f in FRAMES]
             for a in ATTENTIONS}
    out.append(f"vnative reaches {min(rates['joint']):.0f}-{max(rates['joint']):.0f} GFLOP/s on joint and "
               f"{min(rates['divided']):.0f}-{max(rates['divided']):.0f} GFLOP/s on divided; divided also pays "
               "uncounted work per block (a third layernorm, and the copies that regroup qkv by patch position "
               "for the temporal attention and back) and runs its attention on sequences of only 16 patches or "
               f"{FRAMES[0] // 2}-{FRAMES[-1] // 2} token frames.")
    sp = [best[k]["torch"]["step_s"] / best[k]["vnative"]["step_s"] for k in best]
    out.append(f"Against PyTorch the training step is {min(sp):.2f}-{max(sp):.2f}x faster over the eight configs.")
    return " ".join(out)


def main():
    # Both programs link libvnative statically: private copies keep a rebuild of the build
    # directory during the run (other work shares it) from failing an exec or mixing builds.
    tmp = tempfile.mkdtemp(prefix="vn_attention_scaling.")
    try:
        for name in ("bench_encoder", "bench_gemm"):
            src = os.path.join(BUILD, "bench", name)
            if not os.path.exists(src):
                sys.exit(f"attention_scaling: {src} is missing; run ./bench/attention_scaling.sh")
            os.makedirs(os.path.join(tmp, "bench"), exist_ok=True)
            BIN[name] = shutil.copy2(src, os.path.join(tmp, "bench", name))
        return measure()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def measure():
    load0 = os.getloadavg()
    # The sgemm peak is measured before every round and after the last, keeping the best:
    # one measurement under the other work on this machine can come out at half the peak.
    peak = 0.0
    best, flops, loads, spread = {}, {}, [], {}
    torch_version = "?"
    t0 = time.monotonic()

    def confirmed(key, side):
        v = sorted(spread.get((key, side), []))
        return len(v) > 1 and v[1] <= 1.1 * v[0]

    rnd = 0
    while True:
        todo = [(att, f) for f in FRAMES for att in ATTENTIONS
                if rnd < ROUNDS or not all(confirmed((att, f), side) for side in SIDES)]
        if not todo or (rnd >= ROUNDS and time.monotonic() - t0 > BUDGET_S):
            break
        if rnd < ROUNDS:
            peak = max(peak, gemm_peak())
        loads.append(os.getloadavg()[0])
        for key in todo:
            att, frames = key
            if rnd >= ROUNDS and time.monotonic() - t0 > BUDGET_S:
                break
            # swap which side goes first each round, so neither always runs on a warm cache
            for side in (SIDES if rnd % 2 == 0 else SIDES[::-1]):
                wait_quiet()
                r = run_json(argv_of(side, att, frames))[0]
                if side == "vnative":
                    check_flops(r, att, frames)
                    attn = r["flops_attn_joint"] + r["flops_attn_temporal"] + r["flops_attn_spatial"]
                    flops[key] = {"forward": r["flops_forward"], "step": r["flops_step"], "attn": attn,
                                  "attn_t": r["flops_attn_temporal"], "attn_s": r["flops_attn_spatial"]}
                torch_version = r.get("torch", torch_version)
                cur = best.setdefault(key, {}).setdefault(side, {})
                for k in ("step_s", "encode_s"):
                    cur[k] = min(cur.get(k, 1e30), r[k])
                spread.setdefault((key, side), []).append(r["step_s"])
                print(f"round {rnd + 1} {frames} frames {att} {side}: step {r['step_s'] * 1e3:.1f} ms, "
                      f"encode {r['encode_s'] * 1e3:.1f} ms", flush=True)
        rnd += 1
    peak = max(peak, gemm_peak())
    load1 = os.getloadavg()
    # A best round that no other round comes within 10% of may be luck (or the others bad
    # luck): the findings say how many configs of each side have a confirmed best.
    noise = {side: sum(confirmed(k, side) for k in best) for side in SIDES}
    most = max(len(v) for v in spread.values())

    plot(best, flops, torch_version)

    lines = [
        BEGIN,
        f"Run: `./bench/attention_scaling.sh`, {datetime.date.today()}, {os.cpu_count()} cores, {THREADS} threads "
        f"on each side, fp32, preset xs (32x32 RGB, tubelet 2x8x8: 16 patches per frame, dim 128, depth 4, 4 heads), "
        f"video family, mean pooling, batch {BATCH} at every length; per config the best of {ROUNDS} alternating "
        f"rounds of each side's median ({REPS} timed repetitions after 2 warm-ups), and more rounds (up to {most} "
        "here) for the configs whose best no second round had come within 10% of, while the time budget lasted; "
        f"{QUIET['quiet']} of the {QUIET['runs']} runs started after a second in which nothing else was runnable "
        f"(waiting {QUIET['waited']:.0f} s in all, at most {QUIET_S:.0f} s each). Load average (1, 5, 15 min) "
        f"{', '.join(f'{x:.2f}' for x in load0)} at the start, {', '.join(f'{x:.2f}' for x in load1)} at the end; "
        f"{min(loads):.2f}-{max(loads):.2f} (1 min) at the start of the {len(loads)} rounds. Peer: PyTorch "
        f"{torch_version} "
        "(Debian python3-torch, OpenBLAS), the modules of `tests/python/torch_encoder.py`.",
        "",
        "FLOPs are the analytic count of `bench/run_encoder_bench.py` (bench_encoder reports the same): 2·M·N·K "
        "per GEMM (patch embedding, qkv, proj, fc1, fc2, and for divided the temporal qkv and proj), attention "
        "4·B·NH·T·T·HS forward (joint: T = tokens per clip; divided: a temporal attention over the token frames "
        "at each patch position plus a spatial one over the patches of each frame), step = 3 × forward; "
        "layernorm, GELU, softmax and AdamW are not counted. Attention share = the QK^T and PV products over all "
        f"counted FLOPs. % peak: against vnative's oneDNN sgemm on square shapes in the same run (best of "
        f"{ROUNDS + 1} measurements), {peak:.0f} GFLOP/s. Speed-up = PyTorch time / vnative time.",
        "",
        "| frames | tokens/clip | attention | GFLOP/step | attention share (temporal + spatial) | step vnative ms "
        "| step PyTorch ms | step speed-up | vnative GFLOP/s (% peak) | PyTorch GFLOP/s | encode vnative ms "
        "| encode PyTorch ms |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for frames in FRAMES:
        for att in ATTENTIONS:
            k = (att, frames)
            v, t, f = best[k]["vnative"], best[k]["torch"], flops[k]
            share = f"{100 * f['attn'] / f['forward']:.1f}%"
            if att == "divided":
                share += f" ({100 * f['attn_t'] / f['forward']:.1f} + {100 * f['attn_s'] / f['forward']:.1f})"
            vg = f["step"] / v["step_s"] * 1e-9
            lines.append(
                f"| {frames} | {tokens_per_clip(frames)} | {att} | {f['step'] * 1e-9:.2f} | {share} | "
                f"{v['step_s'] * 1e3:.1f} | {t['step_s'] * 1e3:.1f} | {t['step_s'] / v['step_s']:.2f}x | "
                f"{vg:.0f} ({100 * vg / peak:.0f}%) | {f['step'] / t['step_s'] * 1e-9:.0f} | "
                f"{v['encode_s'] * 1e3:.1f} | {t['encode_s'] * 1e3:.1f} |")
    lines += ["", "![step time against frames, joint and divided, vnative and PyTorch](img/attention_scaling.png)",
              "", findings(best, flops, noise), END]
    table = "\n".join(lines)
    print(table)
    header = ("# Joint vs divided attention as the clip grows\n\n"
              "How the cost of the video encoder's two attention kinds grows with the clip length: joint "
              "space-time attention (every token attends to every token) against divided attention (a temporal "
              "attention along the frames at each patch position, then a spatial one within each frame), measured "
              "on vnative and on the same model in PyTorch. Regenerate with `./bench/attention_scaling.sh` (about "
              "five minutes on a quiet machine, at most about nine under load; writes this section and "
              "`docs/img/attention_scaling.png`).\n")
    bench_common.write_marked(DOC, BEGIN, END, table, header)
    return 0


if __name__ == "__main__":
    sys.exit(main())
