"""Data-parallel `vnative train` under Open MPI (mpirun -np 2 on this machine):

- 2 ranks with a local batch of 4 end with the weights of one process with the global
  batch of 8 (relative L2 difference <= 1e-6), and say that both ranks hold identical
  weights; only rank 0 writes the checkpoint;
- a resume with another number of ranks is refused, naming both counts;
- a rank killed mid-run takes the job down within 60 s, with an error;
- a rank that stops answering makes the other give up after --dist-timeout.

SKIP (77) when this vnative was built without MPI or mpirun is missing.

With the argument `nccl` it checks the GPU path instead: on the cuda backend with two
GPUs, 2 ranks sum their gradients on the devices through NCCL and end with the weights
of one GPU process with the global batch (relative L2 <= 1e-5). SKIP without 2 GPUs."""
import array
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time

from scratch import scratch_dir

SKIP = 77
COMMON = ["--model", "xs", "--threads", "1", "--objective", "aot", "--eval-every", "0", "--quiet"]
# The job is two processes on two cores: root and more ranks than cores are this machine's norm.
MPI_ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_btl_vader_single_copy_mechanism="none")
# In the AddressSanitizer build: Open MPI keeps some of MPI_Init's allocations to exit, in
# libraries without frame pointers, so LeakSanitizer needs the slow unwinder to see their
# frames and tests/lsan.supp to leave them out; vnative's own leaks still fail the run.
if "address" in os.environ.get("VN_TEST_SANITIZE", ""):
    MPI_ENV["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":fast_unwind_on_malloc=0"
    MPI_ENV["LSAN_OPTIONS"] = "suppressions=" + os.path.join(os.environ["VN_TEST_SRCDIR"], "tests", "lsan.supp")


def weights(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header, base = json.loads(blob[8:8 + n]), 8 + n
    out = {}
    for name, t in header.items():
        if name != "__metadata__":
            a = array.array("f")
            a.frombytes(blob[base + t["data_offsets"][0]:base + t["data_offsets"][1]])
            out[name] = a
    return out


def rel_l2(a, b):
    num = den = 0.0
    for name in a:
        for x, y in zip(a[name], b[name]):
            num += (x - y) ** 2
            den += x * x
    return (num / den) ** 0.5


def mpirun(cli, n, *args, timeout=300):
    return subprocess.run(["mpirun", "-np", str(n), cli, "train", *args], capture_output=True, text=True,
                          timeout=timeout, env=MPI_ENV)


def rank_pid(out_dir, rank):
    """The pid of the replica of a run writing to out_dir with the given rank."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if out_dir.encode() in cmd and b"train" in cmd and f"OMPI_COMM_WORLD_RANK={rank}".encode() in env:
            return int(pid)
    return None


def equivalence(cli, tmp):
    one, two = os.path.join(tmp, "one"), os.path.join(tmp, "two")
    r = subprocess.run([cli, "train", *COMMON, "--batch", "8", "--steps", "4", "--out", one], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    r = mpirun(cli, 2, *COMMON, "--batch", "4", "--steps", "4", "--out", two)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "data parallel: 2 ranks, global batch 8, the ranks' weights are identical; gradients all-reduced " \
        "through MPI" in r.stdout, r.stdout
    # rank 0 alone reports and writes
    assert r.stdout.count("reached step 4 of 4") == 1, r.stdout
    d = rel_l2(weights(os.path.join(one, "model.safetensors")), weights(os.path.join(two, "model.safetensors")))
    assert d <= 1e-6, f"2 ranks vs 1 process: relative L2 difference {d:.3g}"
    print(f"2 ranks x batch 4 vs 1 process x batch 8 after 4 steps: relative L2 difference {d:.3g}")
    return two


def resume_other_count(cli, two):
    r = subprocess.run([cli, "train", "--resume", "--steps", "5", "--out", two, "--quiet"], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode != 0 and "2 replicas" in r.stderr and "this one has 1" in r.stderr, r.stderr
    r = mpirun(cli, 2, "--resume", "--steps", "5", "--out", two, "--quiet")
    assert r.returncode == 0, r.stdout + r.stderr


def killed_rank(cli, tmp, how, extra, bound):
    out = os.path.join(tmp, how)
    p = subprocess.Popen(["mpirun", "-np", "2", cli, "train", *COMMON, "--batch", "4", "--steps", "1000000",
                          "--save-every", "0", "--out", out, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=MPI_ENV)
    pid, deadline = None, time.time() + 60
    while pid is None and time.time() < deadline:
        time.sleep(0.5)
        pid = rank_pid(out, 1)
    assert pid, "rank 1 never started"
    time.sleep(2)  # a few steps in
    os.kill(pid, signal.SIGKILL if how == "killed" else signal.SIGSTOP)
    t0 = time.time()
    try:
        stdout, stderr = p.communicate(timeout=bound)
    except subprocess.TimeoutExpired:
        p.kill()
        os.kill(pid, signal.SIGKILL)
        raise AssertionError(f"the job was still running {bound} s after rank 1 was {how}")
    waited = time.time() - t0
    if how != "killed":
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert p.returncode != 0, "the job reported success"
    print(f"rank 1 {how}: the job ended after {waited:.1f} s with exit {p.returncode}")
    return stdout + stderr


def cuda_devices(cli):
    r = subprocess.run([cli, "info", "--json"], capture_output=True, text=True, timeout=60)
    for b in json.loads(r.stdout)["backends"]:
        if b["name"] == "cuda":
            return (len(b["devices"]) if b["available"] else 0), b.get("reason", "")
    return 0, "this vnative has no cuda backend"


def nccl(cli, tmp):
    n, why = cuda_devices(cli)
    if n < 2:
        print(f"SKIP: NCCL data parallelism needs 2 GPUs; this machine has {n}" + (f" ({why})" if why else ""))
        return SKIP
    env = dict(MPI_ENV, VN_BACKEND="cuda")
    one, two = os.path.join(tmp, "gpu_one"), os.path.join(tmp, "gpu_two")
    r = subprocess.run([cli, "train", *COMMON, "--batch", "8", "--steps", "4", "--out", one], capture_output=True,
                       text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["mpirun", "-np", "2", cli, "train", *COMMON, "--batch", "4", "--steps", "4", "--out", two],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "all-reduced on the device (NCCL)" in r.stdout, r.stdout
    d = rel_l2(weights(os.path.join(one, "model.safetensors")), weights(os.path.join(two, "model.safetensors")))
    assert d <= 1e-5, f"2 GPU ranks vs 1 GPU process: relative L2 difference {d:.3g}"
    print(f"NCCL: 2 GPU ranks vs 1 GPU process after 4 steps: relative L2 difference {d:.3g}")
    return 0


def main():
    cli, have_mpi = sys.argv[1], sys.argv[2] == "true"
    if not have_mpi:
        print("SKIP: this vnative was built without MPI (meson option mpi, package libopenmpi-dev)")
        return SKIP
    if not shutil.which("mpirun"):
        print("SKIP: mpirun is not installed (package openmpi-bin)")
        return SKIP
    tmp = scratch_dir("cli_dist")
    if len(sys.argv) > 3 and sys.argv[3] == "nccl":
        rc = nccl(cli, tmp)
        shutil.rmtree(tmp, ignore_errors=True)
        return rc
    two = equivalence(cli, tmp)
    resume_other_count(cli, two)
    log = killed_rank(cli, tmp, "killed", [], 60)
    assert "rank 1" in log or "exited on signal 9" in log, log
    log = killed_rank(cli, tmp, "stopped", ["--dist-timeout", "5"], 60)
    assert "no answer from the other ranks" in log, log
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
