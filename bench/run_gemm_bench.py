#!/usr/bin/python3
"""Run vnative's GEMM and PyTorch's side by side and write the table into docs/PERFORMANCE.md."""
import datetime
import json
import os
import subprocess
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("VN_BENCH_BUILD", "build"))
SHAPES = os.path.join(ROOT, "bench", "gemm_shapes.txt")
DOC = os.path.join(ROOT, "docs", "PERFORMANCE.md")
BEGIN = "<!-- BEGIN gemm-bench: written by bench/gemm_bench.sh, edits inside are overwritten -->"
END = "<!-- END gemm-bench -->"
THREADS = int(os.environ.get("VN_BENCH_THREADS", "2"))
ROUNDS = int(os.environ.get("VN_BENCH_ROUNDS", "3"))


def run(argv):
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return {row["name"]: row for row in map(json.loads, out.splitlines())}


def describe_torch(info):
    libs = ", ".join(os.path.basename(p) for p in info.get("libs", [])) or "no BLAS library mapped"
    return f"PyTorch {info.get('torch', torch.__version__)} (BLAS mapped in its process: {libs})"


def best_of_rounds():
    """Alternate the two sides for several rounds and keep each shape's best rate, so that
    load from other work on a shared machine hits both sides alike and is filtered out."""
    vn, pt = {}, {}
    for _ in range(ROUNDS):
        for side, argv in ((vn, [os.path.join(BUILD, "bench", "bench_gemm"), SHAPES, str(THREADS)]),
                           (pt, ["/usr/bin/python3", os.path.join(ROOT, "bench", "peer_torch_gemm.py"), SHAPES,
                                 str(THREADS)])):
            for name, row in run(argv).items():
                if name == "__blas__":
                    side[name] = row
                elif name not in side or row["gflops"] > side[name]["gflops"]:
                    side[name] = row
    return vn, pt


def main():
    load = os.getloadavg()[0]
    vn, pt = best_of_rounds()
    blas = pt.pop("__blas__", {})
    peak = max(row["gflops"] for row in vn.values())
    lines = [
        BEGIN,
        f"GEMM, fp32, {THREADS} threads; per shape the best of {ROUNDS} alternating rounds, each the median of 7 "
        f"timings; run {datetime.date.today()} on {os.cpu_count()} cores, load average {load:.2f} at the start. "
        f"Peer: {describe_torch(blas)}, `torch.matmul` with `out=`. Best vnative rate here: {peak:.1f} GFLOP/s.",
        "",
        "| shape | batch x m x n x k | vnative GFLOP/s | PyTorch GFLOP/s | vnative / PyTorch |",
        "|---|---|---:|---:|---:|",
    ]
    for line in open(SHAPES):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        name = parts[0]
        dims = " x ".join(parts[1:5]) + (" (A^T)" if parts[5] == "1" else "") + (" (B^T)" if parts[6] == "1" else "")
        v, p = vn[name]["gflops"], pt[name]["gflops"]
        lines.append(f"| {name} | {dims} | {v:.1f} | {p:.1f} | {v / p:.2f}x |")
    lines.append(END)
    table = "\n".join(lines)
    print(table)
    doc = open(DOC).read() if os.path.exists(DOC) else "# Performance\n"
    if BEGIN in doc and END in doc:
        doc = doc[: doc.index(BEGIN)] + table + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n## GEMM (backend dispatch, oneDNN)\n\n" + table + "\n"
    open(DOC, "w").write(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
