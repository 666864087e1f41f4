"""`vnative bench`: the FLOPs it counts are the model's analytic count, the profile covers
the step, the text and JSON outputs agree, bf16 runs or is refused with a reason, and
bad flags exit 2 with the flag named."""
import json
import os
import subprocess
import sys
import tempfile


def run(cli, *args, code=0):
    p = subprocess.run([cli, "bench", *args], capture_output=True, text=True, timeout=600)
    assert p.returncode == code, (args, p.returncode, p.stdout, p.stderr)
    return p


def xs_flops(B, family):
    """Analytic FLOPs of the xs preset: forward, and a training step of the aot objective
    (backward = dX and dW of every GEMM but the patch embedding's dX; attention backward
    twice its forward; the 1-logit head)."""
    D, H, depth, heads, T, size, patch = 128, 512, 4, 4, 16, 32, 8
    tt = 2 if family == "video" else 1
    S = (size // patch) ** 2
    P = 3 * tt * patch * patch
    if family == "video":
        seqs, L = B, (T // tt) * S
    else:
        seqs, L = B * T, S
    gemm = 2.0 * seqs * L * (D * P + depth * (4 * D * D + 2 * D * H))
    attn = depth * 4.0 * seqs * L * L * D
    patch_dx = 2.0 * seqs * L * D * P
    fwd = gemm + attn
    step = fwd + (2 * gemm - patch_dx) + 2 * attn + 3 * 2.0 * B * D
    return fwd, step


def main(cli):
    B = 2
    out = run(cli, "--model", "xs", "--family", "video", "--batch", str(B), "--steps", "2", "--warmup", "0",
              "--reps", "1", "--threads", "2", "--what", "step,encode,world", "--json", "--profile").stdout
    r = json.loads(out)
    fwd, step = xs_flops(B, "video")
    assert abs(r["encode_flops"] - fwd) <= 1e-5 * fwd, (r["encode_flops"], fwd)
    assert abs(r["step_flops"] - step) <= 1e-5 * step, (r["step_flops"], step)
    assert r["step_ms"] > 0 and r["encode_ms"] > 0 and r["world_clips_s"] > 0 and r["world_clips_s_1t"] > 0
    assert r["rss_peak_mb"] >= r["rss_base_mb"] > 0, r
    ops = {e["op"]: e for e in r["profile"]}
    for op in ("gemm", "attention fwd", "attention bwd", "layernorm bwd", "adamw", "data (wait for the batch)"):
        assert op in ops and ops[op]["ms_per_call"] >= 0, (op, sorted(ops))
    assert ops["gemm"]["calls_per_call"] > 1 and ops["gemm"]["gflops"] > 0
    assert ops["adamw"]["calls_per_call"] == 1
    # the encode's own table: forward ops only, and its FLOPs are the encode's
    enc = {e["op"]: e for e in r["encode_profile"]}
    assert "gemm" in enc and "attention fwd" in enc, sorted(enc)
    assert not any(k.endswith("bwd") or k == "adamw" for k in enc if enc[k]["calls_per_call"] > 0), sorted(enc)
    counted = sum(e["gflops"] * e["ms_per_call"] * 1e6 for e in r["encode_profile"])
    assert abs(counted - fwd) <= 0.02 * fwd, (counted, fwd)

    fr = json.loads(run(cli, "--model", "xs", "--family", "frames", "--batch", str(B), "--reps", "1", "--what",
                        "encode", "--json").stdout)
    ffwd, _ = xs_flops(B, "frames")
    assert abs(fr["encode_flops"] - ffwd) <= 1e-5 * ffwd, (fr["encode_flops"], ffwd)

    text = run(cli, "--model", "xs", "--family", "frames", "--batch", str(B), "--steps", "1", "--warmup", "0",
               "--reps", "1", "--what", "encode", "--profile").stdout
    assert "where an encode's time goes (1 profiled encodes" in text and "ms/encode" in text, text
    assert "where a training step's time goes" not in text, text

    with tempfile.TemporaryDirectory(dir=os.environ.get("VN_TEST_TMPDIR")) as d:
        p = subprocess.run([cli, "train", "--model", "xs", "--steps", "2", "--batch", "2", "--out", d, "--quiet",
                            "--profile"], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert "where a training step's time goes (2 profiled steps" in p.stdout and "adamw" in p.stdout, p.stdout

    p = subprocess.run([cli, "bench", "--model", "xs", "--batch", str(B), "--steps", "1", "--warmup", "0",
                        "--what", "step", "--precision", "bf16", "--json"], capture_output=True, text=True)
    if p.returncode == 0:
        assert json.loads(p.stdout)["precision"] == "bf16"
        bf16 = "runs"
    else:
        assert p.returncode == 1 and "bf16" in p.stderr, (p.returncode, p.stderr)
        bf16 = "refused: " + p.stderr.strip().splitlines()[-1]

    for args, needle in ((["--what", "steps"], "--what"), (["--what", "loader"], "--data"),
                         (["--model", "/nonexistent/model.safetensors"], "preset"), (["--bogus"], "--bogus"),
                         (["--batch", "-1"], "--batch"), (["--precision", "fp8"], "precision")):
        p = subprocess.run([cli, "bench", *args], capture_output=True, text=True)
        assert p.returncode in (1, 2) and needle in p.stderr, (args, p.returncode, p.stderr)
    print(f"cli bench ok: step {r['step_flops']:.4g} FLOPs, encode {r['encode_flops']:.4g} (analytic); bf16 {bf16}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
