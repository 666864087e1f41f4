#!/usr/bin/python3
"""Run the clip I/O benchmark (issue 3) and write its table into docs/PERFORMANCE.md.

Called by bench/video_bench.sh after the build. Every measurement is its own process, so
peak RSS is that process's (os.wait4), and the sides of a comparison run interleaved
(vnative, peer, vnative, peer, ...) so that load from anything else on the machine hits
them alike. Times are medians over the repetitions.

Environment: VN_BENCH_BUILD (build dir, default build), VN_BENCH_REAL (real-clip folder,
default ../shared/data/real), VN_BENCH_REPS (default 7), VN_BENCH_QUICK=1 (fewer clips and
repetitions, for a smoke run; the table then says so).
"""
import datetime
import json
import math
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("VN_BENCH_BUILD", "build"))
REAL = os.path.abspath(os.environ.get("VN_BENCH_REAL", os.path.join(ROOT, "..", "shared", "data", "real")))
QUICK = os.environ.get("VN_BENCH_QUICK") == "1"
REPS = int(os.environ.get("VN_BENCH_REPS", "3" if QUICK else "7"))
CLIP_REPS = max(3, (REPS + 1) // 2)
DATA = os.path.join(BUILD, "bench-data")
BENCH = os.path.join(BUILD, "bench", "bench_video")
PEER = os.path.join(ROOT, "bench", "peer_pyav.py")
PY = "/usr/bin/python3"
DOC = os.path.join(ROOT, "docs", "PERFORMANCE.md")
BEGIN = "<!-- BEGIN video-bench: written by bench/video_bench.sh, edits inside are overwritten -->"
END = "<!-- END video-bench -->"

SECONDS = 30
FPS = 30
N_FRAMES = SECONDS * FPS
N_CLIPS = 20 if QUICK else 100
N_CLIPS_CLI = 10 if QUICK else 30
CLIP_SPAN = 15 * 4 + 1
GOAL_DECODE = 0.95
GOAL_CLIPS = 1.5


def fail(argv, code, err):
    sys.exit(f"run_bench: {' '.join(argv)} failed ({code}):\n{err}")


def run_json(argv):
    """One bench_video or peer_pyav process printing one JSON object; adds its peak RSS."""
    out_path = os.path.join(DATA, "last.json")
    err_path = os.path.join(DATA, "last.err")
    with open(out_path, "wb") as o, open(err_path, "wb") as e:
        p = subprocess.Popen(argv, stdout=o, stderr=e, stdin=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        with open(err_path, errors="replace") as e:
            fail(argv, code, e.read())
    with open(out_path) as o:
        res = json.loads(o.read().strip().splitlines()[-1])
    res["rss_kb"] = ru.ru_maxrss
    return res


def ffmpeg_decode_once(path, rgb):
    """ffmpeg CLI full decode; the time is -benchmark's rtime: the transcode loop, without
    the open and probe, so the CLI's start-up does not count against it."""
    argv = ["ffmpeg", "-nostdin", "-benchmark", "-threads", "1", "-i", path]
    argv += (["-pix_fmt", "rgb24"] if rgb else []) + ["-f", "null", "-"]
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    err = p.stderr.read().decode(errors="replace")
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    m = re.search(r"bench: utime=\S+ stime=\S+ rtime=([0-9.]+)s", err)
    frames = re.findall(r"frame=\s*(\d+)", err)
    if os.waitstatus_to_exitcode(status) != 0 or not m or not frames:
        fail(argv, os.waitstatus_to_exitcode(status), err)
    return {"frames": int(frames[-1]), "seconds": [float(m.group(1))], "wall": wall, "rss_kb": ru.ru_maxrss}


def rrc_box(rng, height, width):
    """torchvision-style random resized crop box, the same ranges as vnative's defaults."""
    area = height * width
    for _ in range(10):
        target = area * rng.uniform(0.3, 1.0)
        ratio = math.exp(rng.uniform(math.log(0.75), math.log(1.35)))
        w = int(round(math.sqrt(target * ratio)))
        h = int(round(math.sqrt(target / ratio)))
        if 0 < w <= width and 0 < h <= height:
            return rng.randint(0, height - h), rng.randint(0, width - w), h, w
    return 0, (width - height) // 2, height, height


def ffmpeg_clips_once(path, starts):
    """One ffmpeg process per clip: accurate input seek, every 4th frame, crop, scale to 112,
    rgb24. The CLI cannot emit normalised float, so it stops at rgb24 (less work)."""
    rss, t0 = 0, time.perf_counter()
    for i, start in enumerate(starts):
        top, left, h, w = rrc_box(random.Random(i), 360, 640)
        t = max(0.0, (start - 0.25) / FPS)
        vf = f"select='not(mod(n\\,4))',crop={w}:{h}:{left}:{top},scale=112:112:flags=bilinear,format=rgb24"
        argv = ["ffmpeg", "-nostdin", "-loglevel", "error", "-threads", "1", "-ss", f"{t:.4f}", "-i", path,
                "-vf", vf, "-fps_mode", "passthrough", "-frames:v", "16", "-f", "rawvideo", "-y", "/dev/null"]
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        err = p.stderr.read().decode(errors="replace")
        _, status, ru = os.wait4(p.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            fail(argv, os.waitstatus_to_exitcode(status), err)
        rss = max(rss, ru.ru_maxrss)
    return {"clips": len(starts), "seconds": [time.perf_counter() - t0], "rss_kb": rss}


def interleaved(sides, reps):
    """sides: name -> function returning one repetition's result. Runs them round-robin."""
    got = {name: [] for name in sides}
    for _ in range(reps):
        for name, fn in sides.items():
            got[name].append(fn())
    out = {}
    for name, runs in got.items():
        r = dict(runs[0])
        r["seconds"] = [s for run in runs for s in run["seconds"]]
        r["median_s"] = statistics.median(r["seconds"])
        r["rss_kb"] = max(run["rss_kb"] for run in runs)
        if "wall" in runs[0]:
            r["wall"] = statistics.median(run["wall"] for run in runs)
        if "open_seconds" in runs[0]:
            r["open_s"] = statistics.median(s for run in runs for s in run["open_seconds"])
        out[name] = r
    return out


def ffmpeg_gen(path, extra):
    if os.path.exists(path):
        return
    tmp = path + ".tmp.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=s=640x360:r={FPS}:d={SECONDS}", "-c:v", "libx264", "-pix_fmt", "yuv420p"]
                   + extra + [tmp], check=True)
    os.replace(tmp, path)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def versions():
    ff = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.splitlines()[0]
    ff = ff.split(" Copyright")[0].replace("ffmpeg version ", "")
    peer = subprocess.run([PY, "-c", "import av, numpy; print(av.__version__, numpy.__version__)"],
                          capture_output=True, text=True).stdout.split()
    return ff, peer[0], peer[1]


def num(x, digits=0):
    return f"{x:,.{digits}f}"


def mb(kb):
    return f"{kb / 1024:.0f}"


def fps(r):
    return r["frames"] / r["median_s"]


def cps(r):
    return r["clips"] / r["median_s"]


def main():
    os.makedirs(DATA, exist_ok=True)
    # x264's default GOP (keyint 250), as ffmpeg writes a file unless told otherwise; and,
    # for context in workload 2 only, a 1 s GOP.
    f2 = os.path.join(DATA, f"h264_640x360_{SECONDS}s.mp4")
    ffmpeg_gen(f2, [])
    f2s = os.path.join(DATA, f"h264_640x360_{SECONDS}s_gop30.mp4")
    ffmpeg_gen(f2s, ["-g", "30"])
    rng = random.Random(1234)
    starts = [rng.randint(0, N_FRAMES - CLIP_SPAN) for _ in range(N_CLIPS)]
    starts_path = os.path.join(DATA, "starts.txt")
    with open(starts_path, "w") as f:
        f.write("\n".join(map(str, starts)) + "\n")

    load_before = os.getloadavg()[0]
    baseline = run_json([BENCH, "baseline", "1"])
    print("workload 1: full decode", file=sys.stderr)
    w1 = interleaved({
        "vn": lambda: run_json([BENCH, "decode-only", f2, "1"]),
        "ff": lambda: ffmpeg_decode_once(f2, rgb=False),
        "av": lambda: run_json([PY, PEER, "decode-only", f2, "1"]),
        "vn_rgb": lambda: run_json([BENCH, "decode-rgb", f2, "1"]),
        "ff_rgb": lambda: ffmpeg_decode_once(f2, rgb=True),
        "av_rgb": lambda: run_json([PY, PEER, "decode-rgb", f2, "1"]),
    }, REPS)
    print("workload 2: clips", file=sys.stderr)
    w2 = interleaved({
        "vn": lambda: run_json([BENCH, "clips", f2, starts_path, "1"]),
        "av": lambda: run_json([PY, PEER, "clips", f2, starts_path, "1"]),
        "vn_gop30": lambda: run_json([BENCH, "clips", f2s, starts_path, "1"]),
        "av_gop30": lambda: run_json([PY, PEER, "clips", f2s, starts_path, "1"]),
    }, CLIP_REPS)
    w2_cli = interleaved({"ff": lambda: ffmpeg_clips_once(f2, starts[:N_CLIPS_CLI])}, max(1, CLIP_REPS // 2))
    print("workload 3: loader", file=sys.stderr)
    have_real = os.path.isdir(REAL)
    if have_real:
        # Two timed epochs per process (after an untimed one), the worker counts alternating.
        w3 = interleaved({
            "vn2": lambda: run_json([BENCH, "loader", REAL, "2", "2"]),
            "vn1": lambda: run_json([BENCH, "loader", REAL, "1", "2"]),
        }, max(3, REPS // 2))

    load_after = os.getloadavg()[0]
    ff_version, av_version, np_version = versions()
    vn, ff, av = w1["vn"], w1["ff"], w1["av"]
    vn_rgb, ff_rgb, av_rgb = w1["vn_rgb"], w1["ff_rgb"], w1["av_rgb"]
    r_dec = fps(vn) / fps(ff)
    r_rgb = fps(vn_rgb) / fps(ff_rgb)
    r_clips = cps(w2["vn"]) / cps(w2["av"])
    r_clips30 = cps(w2["vn_gop30"]) / cps(w2["av_gop30"])
    ffc = w2_cli["ff"]

    def status(ok, text):
        return ("MET" if ok else "**MISSED**") + f" ({text})"

    rows = [
        "| workload | side | what is timed | frames/s | clips/s | peak RSS (MB) | vnative ÷ this side |",
        "|---|---|---|---:|---:|---:|---:|",
        f"| 1 decode | **vnative** | `bench_video decode-only`: `vn_video_create` (packet scan; {vn['open_s'] * 1e3:.0f} ms) "
        f"+ one `vn_video_read_clip` of all {vn['frames']} frames with a 2×2 centre crop: every frame decoded, "
        "4 pixels of each converted | "
        f"{num(fps(vn))} | | {mb(vn['rss_kb'])} | |",
        f"| 1 decode | ffmpeg CLI | `ffmpeg -threads 1 -i F -f null -`: decode all {ff['frames']} frames, no conversion; "
        f"`-benchmark` rtime, which leaves out open and probe (whole process {ff['wall']:.3f} s) | {num(fps(ff))} | | "
        f"{mb(ff['rss_kb'])} | **{r_dec:.2f}** |",
        f"| 1 decode | PyAV | `for f in container.decode(s)`: open + decode, no conversion | {num(fps(av))} | | "
        f"{mb(av['rss_kb'])} | {fps(vn) / fps(av):.2f} |",
        f"| 1 decode + RGB | **vnative** | `bench_video decode-rgb`: open + `vn_video_read_frames` of every frame to RGB24, "
        f"30 frames per call | {num(fps(vn_rgb))} | | {mb(vn_rgb['rss_kb'])} | |",
        f"| 1 decode + RGB | ffmpeg CLI | `ffmpeg -threads 1 -i F -pix_fmt rgb24 -f null -` (rtime; whole process "
        f"{ff_rgb['wall']:.3f} s) | {num(fps(ff_rgb))} | | {mb(ff_rgb['rss_kb'])} | {r_rgb:.2f} |",
        f"| 1 decode + RGB | PyAV | open + decode + `to_ndarray(format='rgb24')` per frame | {num(fps(av_rgb))} | | "
        f"{mb(av_rgb['rss_kb'])} | {fps(vn_rgb) / fps(av_rgb):.2f} |",
        f"| 2 clips, GOP 250 | **vnative** | `bench_video clips`: open + {N_CLIPS} × `vn_video_read_clip` (16 frames, stride 4, "
        f"random resized crop 112, f32 CTHW) | {num(cps(w2['vn']) * 16)} | {num(cps(w2['vn']), 1)} | "
        f"{mb(w2['vn']['rss_kb'])} | |",
        f"| 2 clips, GOP 250 | PyAV loop | the same clips: scan pts, then per clip seek to the keyframe, decode forward, "
        f"`to_ndarray('rgb24')` the kept frames, numpy crop + bilinear resize + normalise | {num(cps(w2['av']) * 16)} | "
        f"{num(cps(w2['av']), 1)} | {mb(w2['av']['rss_kb'])} | **{r_clips:.2f}** |",
        f"| 2 clips, GOP 250 | ffmpeg CLI | one process per clip ({ffc['clips']} clips): `-ss T -i F -vf select,crop,"
        f"scale=112,format=rgb24`; rgb24 out, no float (less work) | {num(cps(ffc) * 16)} | {num(cps(ffc), 1)} | "
        f"{mb(ffc['rss_kb'])} | {cps(w2['vn']) / cps(ffc):.2f} |",
        f"| 2 clips, GOP 30 (context) | vnative | as above on a 1 s GOP encode | {num(cps(w2['vn_gop30']) * 16)} | "
        f"{num(cps(w2['vn_gop30']), 1)} | {mb(w2['vn_gop30']['rss_kb'])} | |",
        f"| 2 clips, GOP 30 (context) | PyAV loop | as above | {num(cps(w2['av_gop30']) * 16)} | "
        f"{num(cps(w2['av_gop30']), 1)} | {mb(w2['av_gop30']['rss_kb'])} | {r_clips30:.2f} |",
    ]
    if have_real:
        l2, l1 = w3["vn2"], w3["vn1"]
        rows += [
            f"| 3 loader | **vnative**, 2 workers | epochs over the {l2['clips']} real clips (`{os.path.relpath(REAL, ROOT)}`):"
            f" 16 frames, stride 4, random resized crop 112, flip, f32, batch 8, prefetch 2 | "
            f"{num(cps(l2) * 16)} | {num(cps(l2), 1)} | {mb(l2['rss_kb'])} | |",
            f"| 3 loader | vnative, 1 worker | the same | {num(cps(l1) * 16)} | {num(cps(l1), 1)} | {mb(l1['rss_kb'])} | "
            f"{cps(l2) / cps(l1):.2f} |",
        ]
    else:
        rows.append(f"| 3 loader | vnative | not run: {REAL} is absent | | | | |")

    clips_text = f"{num(cps(w2['vn']), 1)} vs {num(cps(w2['av']), 1)} clips/s"
    goals = [
        "| goal | measured | status |",
        "|---|---|---|",
        f"| (1) full decode ≥ {GOAL_DECODE:.0%} of `ffmpeg -threads 1 -i F -f null -` | {r_dec:.1%} | "
        f"{status(r_dec >= GOAL_DECODE, f'{num(fps(vn))} vs {num(fps(ff))} frames/s')} |",
        f"| (secondary, not an issue goal) decode + RGB24 ≥ {GOAL_DECODE:.0%} of `ffmpeg ... -pix_fmt rgb24 -f null -` | {r_rgb:.1%} | "
        f"{status(r_rgb >= GOAL_DECODE, f'{num(fps(vn_rgb))} vs {num(fps(ff_rgb))} frames/s')} |",
        f"| (2) clips ≥ {GOAL_CLIPS}× the PyAV loop (GOP 250) | {r_clips:.2f}× | "
        f"{status(r_clips >= GOAL_CLIPS, clips_text)} |",
    ]

    today = datetime.date.today().isoformat()
    header = [
        BEGIN,
        "## Clip I/O (issue 3)",
        "",
        "Run: `./bench/video_bench.sh` (builds `bench/bench_video` if needed; needs ffmpeg with libx264 and Debian's "
        "`python3-av` and `python3-numpy` for `/usr/bin/python3`).",
        "",
        f"Measured {today}{' (QUICK smoke run: fewer clips and repetitions)' if QUICK else ''} on {cpu_name()}, "
        f"{os.cpu_count()} cores; FFmpeg {ff_version}, PyAV {av_version}, numpy {np_version}. "
        f"Medians of {REPS} repetitions ({CLIP_REPS} for clips; {2 * max(3, REPS // 2)} epochs for the loader), each "
        "repetition its own process, the sides interleaved. "
        "One decoder thread on every side. Peak RSS is each process's maximum (wait4), so the Python rows include "
        "the interpreter and numpy (about 90 MB before any video); the vnative rows include "
        f"{mb(baseline['rss_kb'])} MB that a program linking this build of libvnative has before doing anything "
        "(`bench_video baseline`). "
        f"Load average (1 min) {load_before:.2f} before the run and {load_after:.2f} after it: other work on the "
        "machine shows up here.",
        "",
        f"Inputs, generated by the script: `testsrc2` 640×360, {FPS} fps, {SECONDS} s ({N_FRAMES} frames), libx264 "
        "(preset medium, yuv420p, B-frames, x264's default GOP: keyint 250). The public API has no call that decodes "
        "without converting, and vnative skips decoding pictures no request needs, so its decode-only row asks for "
        "every frame with a 2×2 crop: the same decoding work as `-f null`. Workload 2 also runs on a 1 s GOP "
        "encode, for context. "
        f"It reads {N_CLIPS} clips from the same random starts (seed 1234) on every side; vnative and PyAV open the "
        "file once per repetition and scan its packets once; crops are drawn per clip with the same ranges "
        "(scale [0.3, 1], ratio [0.75, 1.35]) but not the same boxes.",
        "",
    ]
    table = header + rows + ["", "Goals:", ""] + goals + ["", END]
    write_doc("\n".join(table))
    print("\n".join(rows + [""] + goals))


def write_doc(block):
    os.makedirs(os.path.dirname(DOC), exist_ok=True)
    text = ""
    if os.path.exists(DOC):
        with open(DOC) as f:
            text = f.read()
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        if not text:
            text = "# Performance\n"
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(DOC + ".tmp", "w") as f:
        f.write(text)
    os.replace(DOC + ".tmp", DOC)


if __name__ == "__main__":
    main()
