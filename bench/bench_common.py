"""Helpers the bench/run_*.py drivers share: running a JSON-printing benchmark, the oneDNN
sgemm peak, the load average, and rewriting one marked section of a markdown file."""
import json
import os
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_json(argv, env=None):
    """Run argv; return its stdout's JSON lines. On failure, raise with its stderr."""
    p = subprocess.run(argv, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}: {p.stderr.strip()[-2000:]}")
    return [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]


def gemm_peak(build, threads):
    """The best GFLOP/s of vnative's oneDNN sgemm on the square shapes of gemm_shapes.txt."""
    rows = [line for line in open(os.path.join(ROOT, "bench", "gemm_shapes.txt")) if line.startswith("square")]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.writelines(rows)
        path = f.name
    try:
        res = run_json([os.path.join(build, "bench", "bench_gemm"), path, str(threads)])
    finally:
        os.unlink(path)
    return max(r["gflops"] for r in res), {r["name"]: r["gflops"] for r in res}


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def write_marked(doc, begin, end, block, header="# Performance\n"):
    """Replace the text from begin to end in doc with block (which holds both markers);
    append it when the markers are not there (to header, when doc does not exist yet).
    Written atomically."""
    text = open(doc).read() if os.path.exists(doc) else header
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(doc + ".tmp", "w") as f:
        f.write(text)
    os.replace(doc + ".tmp", doc)
