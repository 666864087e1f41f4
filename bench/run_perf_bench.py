"""Driver of bench/perf_bench.sh: `vnative bench` against the same models in PyTorch
(bench/peer_torch_train.py), side by side in one process tree, with the oneDNN sgemm peak,
the world generator and the clip loader measured in the same run. Writes the table and
the goals between the perf-bench markers of docs/PERFORMANCE.md.

Every (side, config) runs in its own process, so that each peak RSS is that config's; the
sides alternate within a round and each cell keeps the best of VN_BENCH_ROUNDS rounds
(the machine is shared: a loaded moment slows whichever side it hits). The measurements are
saved in BUILD/perf_bench_raw.json; `run_perf_bench.py --replay FILE` writes the table from
such a file again without running anything.
"""
import datetime
import json
import os
import platform
import sys

from bench_common import ROOT, gemm_peak, loadavg, run_json, write_marked

BUILD = os.path.join(ROOT, os.environ.get("VN_BENCH_BUILD", "build"))
VNATIVE = os.path.join(BUILD, "src", "cli", "vnative")
PEER = os.path.join(ROOT, "bench", "peer_torch_train.py")
THREADS = int(os.environ.get("VN_BENCH_THREADS", "2"))
ROUNDS = int(os.environ.get("VN_BENCH_ROUNDS", "2"))
DATA = os.path.join(ROOT, "..", "shared", "data", "real")
DOC = os.path.join(ROOT, "docs", "PERFORMANCE.md")
RAW = os.path.join(BUILD, "perf_bench_raw.json")  # the last run's measurements, for --replay
SAME = "bf16, PyTorch bf16"  # the goals against PyTorch's own autocast to bf16
NAMES = {"fp32": "Both in fp32", "bf16": "vnative bf16 against PyTorch fp32 (the peer the goals name)",
         SAME: "vnative bf16 against PyTorch's autocast to bf16 (the same precision)"}
BEGIN, END = "<!-- BEGIN perf-bench -->", "<!-- END perf-bench -->"

FAMILIES = [("frames", "joint"), ("frames+temporal", "joint"), ("video", "joint"), ("video", "divided")]
PRESETS = {"xs": dict(batch=16, steps=10, warmup=3, reps=5), "s": dict(batch=8, steps=5, warmup=2, reps=3)}


def vn_argv(preset, family, attention, precision, what="step,encode"):
    p = PRESETS[preset]
    att = ["--attention", attention] if family == "video" else []
    return [VNATIVE, "bench", "--json", "--model", preset, "--family", family] + att + [
            "--batch", str(p["batch"]), "--threads", str(THREADS), "--precision", precision, "--what", what,
            "--steps", str(p["steps"]), "--warmup", str(p["warmup"]), "--reps", str(p["reps"])]


def torch_argv(preset, family, attention, amp=False):
    p = PRESETS[preset]
    return ["/usr/bin/python3", PEER, "--preset", preset, "--family", family, "--attention", attention,
            "--batch", str(p["batch"]), "--threads", str(THREADS), "--steps", str(p["steps"]),
            "--warmup", str(p["warmup"]), "--reps", str(p["reps"])] + (["--autocast-bf16"] if amp else [])


def bf16_supported():
    try:
        argv = vn_argv("xs", "video", "joint", "bf16", "encode")
        argv[argv.index("--reps") + 1] = "1"
        run_json(argv)
        return True
    except RuntimeError as e:
        print(f"bf16: not measured here ({str(e)[-300:]})", file=sys.stderr)
        return False


def keep_best(best, key, r):
    b = best.setdefault(key, dict(r))
    for k in ("step_ms", "encode_ms"):
        if k in r and r[k] < b.get(k, float("inf")):
            b[k] = r[k]
            if k == "step_ms":
                for kk in ("rss_peak_mb", "data_wait_ms"):
                    if kk in r:
                        b[kk] = r[kk]


def cpu_name():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def fmt(x, d=1):
    return "-" if x is None else f"{x:,.{d}f}"


def ratio(a, b):
    return None if a is None or b is None else a / b


def profile_table(title, prof, unit="step"):
    total = sum(e["ms_per_call"] for e in prof)
    rows = [f"**{title}** ({unit} {total:.1f} ms while profiled)", "",
            f"| op | ms/{unit} | share | calls/{unit} | GFLOP/s |", "|---|---:|---:|---:|---:|"]
    for e in sorted(prof, key=lambda e: -e["ms_per_call"]):
        if e["ms_per_call"] < 0.005 * total:
            continue
        g = f"{e['gflops']:.0f}" if e["gflops"] > 0 else ""
        rows.append(f"| {e['op']} | {e['ms_per_call']:.2f} | {100 * e['ms_per_call'] / total:.1f}% | "
                    f"{e['calls_per_call']:.0f} | {g} |")
    rows.append(f"| (ops under 0.5% left out; the rows sum to {total:.1f} ms) | | | | |")
    return rows


def collect():
    """Run every side of every config ROUNDS times, then the data rates and the profiles."""
    load0 = loadavg()
    started = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    peak, _ = gemm_peak(BUILD, THREADS)
    bf16 = bf16_supported()
    # torch_bf16: PyTorch's own mixed precision (autocast to bf16), vnative bf16's same-precision peer
    sides = ["fp32"] + (["bf16"] if bf16 else []) + ["torch"] + (["torch_bf16"] if bf16 else [])
    best, torch_info, loads = {}, {}, []
    for rnd in range(ROUNDS):
        loads.append(loadavg())
        for preset in PRESETS:
            for family, attention in FAMILIES:
                order = sides if rnd % 2 == 0 else sides[::-1]
                for side in order:
                    key = (preset, family, attention, side)
                    if side.startswith("torch"):
                        r = run_json(torch_argv(preset, family, attention, side == "torch_bf16"))[0]
                        torch_info = {"torch": r["torch"], "blas": r["blas"], "threads": r["threads"]}
                    else:
                        r = run_json(vn_argv(preset, family, attention, side))[0]
                    keep_best(best, key, r)
                    print(f"round {rnd + 1}: {preset} {family} {attention} {side}: step {r.get('step_ms', 0):.1f} ms, "
                          f"encode {r.get('encode_ms', 0):.1f} ms", file=sys.stderr)
    aux = run_json([VNATIVE, "bench", "--json", "--model", "xs", "--what", "world,loader", "--data", DATA,
                    "--threads", str(THREADS)])[0]
    profiles = []
    for preset, family, prec in (("s", "frames", "fp32"), ("s", "frames", "bf16"), ("xs", "video", "fp32"),
                                 ("xs", "video", "bf16")):
        if prec == "bf16" and not bf16:
            continue
        argv = vn_argv(preset, family, "joint", prec, "step,encode")
        argv[argv.index("--steps") + 1] = "3"
        r = run_json(argv + ["--profile"])[0]
        profiles.append(dict(preset=preset, family=family, prec=prec, step=r["profile"], encode=r["encode_profile"]))
    # the peak once more at the end: a busy moment of the shared host at the start would
    # otherwise lower it, and with it every "% of peak" and ceiling below
    peak_end, _ = gemm_peak(BUILD, THREADS)
    return dict(load0=load0, load1=loadavg(), started=started, peak=max(peak, peak_end), peaks=[peak, peak_end],
                bf16=bf16, torch_info=torch_info,
                loads=loads, aux=aux, profiles=profiles, best=[[list(k), v] for k, v in best.items()])


def main():
    # --replay FILE renders the table from a run's saved measurements (RAW) without running anything
    if len(sys.argv) == 3 and sys.argv[1] == "--replay":
        run = json.load(open(sys.argv[2]))
    else:
        run = collect()
        with open(RAW + ".tmp", "w") as fh:
            json.dump(run, fh)
        os.replace(RAW + ".tmp", RAW)
    load0, load1, started, peak, bf16 = run["load0"], run["load1"], run["started"], run["peak"], run["bf16"]
    peaks = run.get("peaks", [peak])
    torch_info, loads, aux = run["torch_info"], run["loads"], run["aux"]
    best = {tuple(k): v for k, v in run["best"]}
    profiles, encode_profiles = [], []
    for p in run["profiles"]:
        title = f"{p['preset']} {p['family']}, batch {PRESETS[p['preset']]['batch']}, {p['prec']}"
        profiles.append(profile_table(title, p["step"]))
        encode_profiles.append(profile_table(title, p["encode"], "encode"))

    head = ("| preset | family | batch | GFLOP/step | step ms vnative fp32 | bf16 | PyTorch | **step speed-up fp32** "
            "| **bf16** | fp32 GFLOP/s (% sgemm peak) | encode ms fp32 | bf16 | PyTorch no_grad | **encode speed-up "
            "fp32** | **bf16** | peak RSS MB vnative / PyTorch | step memory MB vnative / PyTorch |")
    table = [head, "|" + "---|" * 3 + "---:|" * 14]
    ceilings = ["| preset | family | step FLOPs at the sgemm peak, ms | PyTorch step ms | fp32 step speed-up "
                "ceiling | encode FLOPs at the peak, ms | PyTorch encode ms | fp32 encode speed-up ceiling |",
                "|---|---|---:|---:|---:|---:|---:|---:|"]
    res = {}
    same = ["| preset | family | step ms vnative bf16 | PyTorch bf16 autocast | **step speed-up** | encode ms vnative "
            "bf16 | PyTorch bf16 autocast no_grad | **encode speed-up** | PyTorch's autocast against its fp32, step / "
            "encode |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for preset in PRESETS:
        for family, attention in FAMILIES:
            f, b, t, tb = (best.get((preset, family, attention, s)) for s in ("fp32", "bf16", "torch", "torch_bf16"))
            name = family if family != "video" else f"video ({attention})"
            gflop = f["step_flops"] * 1e-9
            rate = f["step_flops"] / f["step_ms"] * 1e-6
            su = {s: ratio(t["step_ms"], x["step_ms"]) if x else None for s, x in (("fp32", f), ("bf16", b))}
            eu = {s: ratio(t["encode_ms"], x["encode_ms"]) if x else None for s, x in (("fp32", f), ("bf16", b))}
            if b and tb:
                su[SAME] = ratio(tb["step_ms"], b["step_ms"])
                eu[SAME] = ratio(tb["encode_ms"], b["encode_ms"])
                same.append(f"| {preset} | {name} | {fmt(b['step_ms'])} | {fmt(tb['step_ms'])} | "
                            f"**{su[SAME]:.2f}x** | {fmt(b['encode_ms'])} | {fmt(tb['encode_ms'])} | **{eu[SAME]:.2f}x** | "
                            f"{t['step_ms'] / tb['step_ms']:.2f}x / {t['encode_ms'] / tb['encode_ms']:.2f}x |")
            mem_v, mem_t = f["rss_peak_mb"] - f["rss_base_mb"], t["rss_peak_mb"] - t["rss_base_mb"]
            sides = (("fp32", f), ("bf16", b))
            res[(preset, name)] = dict(
                su=su, eu=eu, pct=rate / peak, pct16=b["step_flops"] / b["step_ms"] * 1e-6 / peak if b else None,
                rss={s: x["rss_peak_mb"] / t["rss_peak_mb"] for s, x in sides if x},
                mem={s: (x["rss_peak_mb"] - x["rss_base_mb"]) / mem_t for s, x in sides if x},
                step_ms={s: x["step_ms"] for s, x in sides if x},
                wait={s: x.get("data_wait_ms") for s, x in sides if x})
            # the speed-ups fp32 would reach if every counted FLOP ran at the measured sgemm peak
            ceil_step = t["step_ms"] / (f["step_flops"] / peak * 1e-6)
            ceil_enc = t["encode_ms"] / (f["encode_flops"] / peak * 1e-6)
            at_peak_step, at_peak_enc = f["step_flops"] / peak * 1e-6, f["encode_flops"] / peak * 1e-6
            ceilings.append(f"| {preset} | {name} | {at_peak_step:.1f} | {fmt(t['step_ms'])} | "
                            f"{ceil_step:.2f}x{' (below 2.5x)' if ceil_step < 2.5 else ''} | {at_peak_enc:.1f} | "
                            f"{fmt(t['encode_ms'])} | {ceil_enc:.2f}x{' (below 4x)' if ceil_enc < 4 else ''} |")
            table.append(
                f"| {preset} | {name} | {f['batch']} | {gflop:.1f} | {fmt(f['step_ms'])} | "
                f"{fmt(b['step_ms'] if b else None)} | {fmt(t['step_ms'])} | **{fmt(su['fp32'], 2)}x** | "
                f"**{fmt(su['bf16'], 2)}x** | {rate:.0f} ({100 * rate / peak:.0f}%) | {fmt(f['encode_ms'])} | "
                f"{fmt(b['encode_ms'] if b else None)} | {fmt(t['encode_ms'])} | **{fmt(eu['fp32'], 2)}x** | "
                f"**{fmt(eu['bf16'], 2)}x** | {f['rss_peak_mb']:.0f} / {t['rss_peak_mb']:.0f} | "
                f"{mem_v:.0f} / {mem_t:.0f} |")

    def goal(values, target):
        vals = [v for v in values if v is not None]
        if not vals:
            return "not measured", "-"
        lo = min(vals)
        return ("MET" if lo >= target else "**NOT MET**"), f"{lo:.2f}-{max(vals):.2f}"

    goals = ["| goal | precision (vnative, PyTorch) | measured (worst-best over the configs) | status |",
             "|---|---|---|---|"]
    same_measured = any(SAME in v["su"] for v in res.values())
    comparisons = ("fp32",) + (("bf16",) if bf16 else ()) + ((SAME,) if same_measured else ())
    for prec in comparisons:
        for preset in PRESETS:
            st, m = goal([v["su"].get(prec) for k, v in res.items() if k[0] == preset], 2.5)
            goals.append(f"| training step >= 2.5x PyTorch, {preset} | {prec} | {m}x | {st} |")
        st, m = goal([v["eu"].get(prec) for v in res.values()], 4.0)
        goals.append(f"| encode >= 4x PyTorch no_grad (xs and s) | {prec} | {m}x | {st} |")
    st, m = goal([100 * v["pct"] for k, v in res.items() if k[0] == "s"], 50)
    goals.append(f"| s: >= 50% of the measured sgemm peak over the whole step | fp32 | {m}% | {st} |")
    if bf16:
        st, m = goal([100 * v["pct16"] for k, v in res.items() if k[0] == "s"], 50)
        goals.append(f"| s: >= 50% of the measured sgemm peak over the whole step (counted FLOPs / bf16 step time) "
                     f"| bf16 | {m}% | {st} |")
    render_ms = PRESETS["xs"]["batch"] / aux["world_clips_s_1t"] * 1e3
    for prec in ("fp32", "bf16") if bf16 else ("fp32",):
        worst_rss = max(v["rss"][prec] for v in res.values())
        worst_mem = max(v["mem"][prec] for v in res.values())
        goals.append(f"| peak memory <= PyTorch's, same step (whole process peak RSS) | {prec} | vnative / PyTorch "
                     f"<= {worst_rss:.2f} | {'MET' if worst_rss <= 1 else '**NOT MET**'} |")
        goals.append(f"| (the step's own memory: peak RSS - RSS before the model) | {prec} | vnative / PyTorch <= "
                     f"{worst_mem:.2f} | {'MET' if worst_mem <= 1 else '**NOT MET**'} |")
        xs = res[("xs", "video (joint)")]
        wait, step = xs["wait"][prec] or 0.0, xs["step_ms"][prec]
        goals.append(f"| world generator never makes xs training wait | {prec} | data wait {wait:.2f} ms of a "
                     f"{step:.1f} ms step ({100 * wait / step:.1f}%); rendering a batch of 16 takes "
                     f"{render_ms:.1f} ms on 1 thread | {'MET' if wait / step < 0.02 else '**NOT MET**'} |")
    # the verdict per precision: bf16 is an option the issue names, so each is reported whole
    verdict = []
    for prec in comparisons:
        rows = [g for g in goals[2:] if f"| {prec} |" in g]
        missed = [g.split(" | ")[0].lstrip("| ") for g in rows if "MET |" not in g or "NOT MET" in g]
        verdict.append(f"{NAMES[prec]}: {len(rows) - len(missed)} of {len(rows)} goals met"
                       + (f"; not met: {'; '.join(missed)}." if missed else "."))
    goals += [""] + verdict

    blas = ", ".join(torch_info.get("blas", []))
    lines = [BEGIN, "## vnative against PyTorch: training step, encode, memory (issue 11)", "",
             f"Run: `./bench/perf_bench.sh`, {started}, {cpu_name()}, {os.cpu_count()} cores, {THREADS} threads on "
             f"each side; per cell the best of {ROUNDS} alternating rounds of each side's median (xs: "
             f"{PRESETS['xs']['steps']} steps after {PRESETS['xs']['warmup']} warm-up; s: {PRESETS['s']['steps']} after "
             f"{PRESETS['s']['warmup']}). Load average {load0:.2f} at the start, {load1:.2f} at the end (rounds began "
             f"at {', '.join(f'{x:.2f}' for x in loads)}). Peer: PyTorch {torch_info.get('torch')} (Debian "
             f"python3-torch), {torch_info.get('threads')} threads, BLAS mapped in its process: {blas}; the same "
             "modules as vnative's encoder (tests/python/torch_encoder.py, which the parity tests check).", "",
             "Step = the aot objective as `vn_trainer_step` runs it: half the clips reversed, encoder forward, a "
             "linear head, BCE, backward, grad-norm clip 1.0, AdamW. vnative renders its world clips inside the step "
             "(PyTorch's clips are made once, outside its timing). Encode = forward only (`vn_encoder_encode`; "
             "torch under `no_grad`). bf16 = GEMM inputs rounded to bfloat16 with fp32 accumulation (oneDNN on AMX "
             "here); in the step everything else stays fp32, in the encode the activations that only feed GEMMs "
             "are stored in bf16 and attention runs on AMX tiles (docs/PRECISION.md says what each rounds and "
             "what it does to accuracy); PyTorch runs fp32. FLOPs are "
             "counted from the shapes of the GEMMs and attention that ran (2mnk; attention 4BTTC forward, 8BTTC "
             f"backward). Measured sgemm peak (vnative's oneDNN, square 1024/2048, same run; the better of "
             f"{' and '.join(f'{p:.0f}' for p in peaks)} at the start and the end): {peak:.0f} GFLOP/s. "
             "Peak RSS: each side's whole process (PyTorch's includes the interpreter and torch, ~230 MB before "
             "the model); step memory: peak minus the RSS just before the model was made.", ""]
    lines += table + ["", "Speed-up = PyTorch time / vnative time."]
    if len(same) > 2:
        lines += ["", "### Same precision: vnative bf16 against PyTorch's autocast to bf16", "",
                  "The goals name PyTorch as Debian ships it, whose default is fp32. PyTorch has a bf16 mode of its "
                  "own, `torch.autocast(\"cpu\", dtype=torch.bfloat16)` (`bench/peer_torch_train.py "
                  "--autocast-bf16`): its linear layers then run on oneDNN with bf16 operands (AMX here) and most "
                  "activations are bf16. Measured in the same rounds:", ""] + same
    lines += ["", "### Goals", "",
              "Precision `fp32`: both sides fp32. `bf16`: vnative bf16 against PyTorch fp32, the peer the goals "
              "name. `bf16, PyTorch bf16`: vnative bf16 against PyTorch's autocast to bf16.", ""] + goals
    ws = int(aux.get("world_size", 64))  # runs before the world rate followed the model's size measured 64
    lines += ["", f"Data: vn_world renders {aux['world_clips_s_1t']:.0f} clips/s on 1 thread and "
              f"{aux['world_clips_s']:.0f} on {THREADS} (16 frames of {ws}x{ws}, float: xs training clips); "
              "the clip loader reads "
              f"{aux['loader_clips_s']:.1f} clips/s from the 34 real videos of ../shared/data/real (2 workers, "
              "16 frames at stride 4, random resized crop to 32, flip).", "",
              "### What fp32 can reach at all: the ceilings at the measured sgemm peak", "",
              "A speed-up over PyTorch needs PyTorch's time to hold that many times vnative's FLOPs at the rate "
              "vnative runs them. At best every counted FLOP (GEMMs and attention; the elementwise ops count none) "
              "runs at the sgemm peak measured above. Where that ceiling is below a goal, no fp32 implementation "
              "on this machine meets it; only fewer or cheaper FLOPs (bf16) can.", ""] + ceilings + [
              "", "### Where a step's time goes (`vnative bench --profile`)", ""]
    for p in profiles:
        lines += p + [""]
    lines += ["### Where an encode's time goes (`vnative bench --what encode --profile`)", ""]
    for p in encode_profiles:
        lines += p + [""]
    lines.append(END)
    block = "\n".join(lines)
    write_marked(DOC, BEGIN, END, block)
    print(block)


if __name__ == "__main__":
    main()
