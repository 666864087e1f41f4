"""PyTorch's matmul on the shapes in bench/gemm_shapes.txt, one JSON object per shape.

    /usr/bin/python3 bench/peer_torch_gemm.py SHAPES_FILE THREADS
"""
import json
import os
import statistics
import sys
import time

import torch


def mapped_blas():
    """The BLAS library files mapped into this process: Debian's torch links the generic
    libblas.so.3, which the alternatives system points at OpenBLAS when it is installed."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if "blas" in os.path.basename(path).lower():
                libs.add(os.path.realpath(path))
    return sorted(libs)


def main(shapes_path, threads):
    torch.set_num_threads(threads)
    torch.matmul(torch.rand(64, 64), torch.rand(64, 64))
    print(json.dumps({"name": "__blas__", "libs": mapped_blas(), "torch": torch.__version__}), flush=True)
    torch.manual_seed(1)
    for line in open(shapes_path):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        name = parts[0]
        batch, m, n, k, ta, tb = (int(x) for x in parts[1:7])
        a = torch.rand(batch, k, m) if ta else torch.rand(batch, m, k)
        b = torch.rand(batch, n, k) if tb else torch.rand(batch, k, n)
        opa = a.transpose(1, 2) if ta else a
        opb = b.transpose(1, 2) if tb else b
        if batch == 1:
            opa, opb = opa[0], opb[0]
        out = torch.matmul(opa, opb)
        t0, iters = time.perf_counter(), 0
        while time.perf_counter() - t0 < 0.05:
            torch.matmul(opa, opb, out=out)
            iters += 1
        reps = int(0.2 / ((time.perf_counter() - t0) / iters)) + 1
        times = []
        for _ in range(7):
            s = time.perf_counter()
            for _ in range(reps):
                torch.matmul(opa, opb, out=out)
            times.append((time.perf_counter() - s) / reps)
        sec = statistics.median(times)
        flops = 2.0 * batch * m * n * k
        print(json.dumps({"name": name, "seconds": sec, "gflops": flops / sec * 1e-9}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
