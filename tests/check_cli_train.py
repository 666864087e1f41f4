"""`vnative train`: checkpoints and the JSON-lines log of a short run; a resumed run that
ends with the same weights, byte for byte, as an uninterrupted one; Ctrl-C that stops with
exit code 130 and a usable checkpoint; and bad flags that are named."""
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time

from scratch import scratch_dir

# Small enough for two slow shared cores: about 1.5 s per step.
COMMON = ["--model", "xs", "--batch", "4", "--eval-every", "3", "--eval-clips", "8", "--threads", "2"]
STEP_FIELDS = {"type", "step", "loss", "losses", "accuracy", "grad_norm", "lr", "clips_per_s", "elapsed_s",
               "clips_seen"}


def safetensors(path):
    """(header, data bytes) of a safetensors file, read by hand: u64 LE length, JSON, data."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8:8 + n]), blob[8 + n:]


def tensors(path):
    header, data = safetensors(path)
    return {name: data[t["data_offsets"][0]:t["data_offsets"][1]] for name, t in header.items()
            if name != "__metadata__"}


def train(cli, *args, ok=True):
    r = subprocess.run([cli, "train", *args], capture_output=True, text=True, timeout=300)
    if ok:
        assert r.returncode == 0, f"vnative train {' '.join(args)}: exit {r.returncode}\n{r.stderr}"
    return r


def read_log(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def check_line(rec):
    if rec["type"] == "step":
        assert set(rec) == STEP_FIELDS, rec
        assert rec["lr"] > 0 and rec["grad_norm"] > 0 and rec["clips_seen"] == 4 * rec["step"], rec
    else:
        assert rec["type"] == "eval" and set(rec) == STEP_FIELDS - {"grad_norm", "lr"}, rec
    # only aot is active: the other objectives' NaN entries are left out
    assert set(rec["losses"]) == {"aot"} and set(rec["accuracy"]) == {"aot"}, rec
    assert 0 <= rec["accuracy"]["aot"] <= 1 and rec["loss"] == rec["losses"]["aot"], rec


def first_run_and_resume(cli, tmp):
    a = os.path.join(tmp, "a")
    log = os.path.join(a, "log.jsonl")
    r = train(cli, *COMMON, "--steps", "6", "--total-steps", "8", "--out", a, "--log", log)
    for name in ("model.safetensors", "trainer.safetensors"):
        assert os.path.isfile(os.path.join(a, name)), name
    assert "vnative train: step" not in r.stdout, "progress belongs on stderr"
    assert "step 6" in r.stdout and a in r.stdout, r.stdout
    assert "vnative train: step 6/6" in r.stderr, r.stderr  # not a terminal: plain lines
    recs = read_log(log)
    for rec in recs:
        check_line(rec)
    assert [x["step"] for x in recs if x["type"] == "step"] == [1, 2, 3, 4, 5, 6], recs
    assert [x["step"] for x in recs if x["type"] == "eval"] == [3, 6], recs
    meta = safetensors(os.path.join(a, "trainer.safetensors"))[0]["__metadata__"]
    assert meta["step"] == "6", meta

    # Only --steps is new: the other settings come from what the first run recorded.
    train(cli, "--steps", "8", "--resume", "--threads", "2", "--out", a, "--log", log)
    recs = read_log(log)
    steps = [x["step"] for x in recs if x["type"] == "step"]
    assert steps == [1, 2, 3, 4, 5, 6, 7, 8], steps
    assert recs[8]["type"] == "step" and recs[8]["step"] == 7, "the resumed run continues at step 7"
    assert safetensors(os.path.join(a, "trainer.safetensors"))[0]["__metadata__"]["step"] == "8"
    return a, recs


def straight_run_matches(cli, tmp, a, resumed):
    b = os.path.join(tmp, "b")
    train(cli, *COMMON, "--steps", "8", "--out", b, "--log", os.path.join(b, "log.jsonl"))
    ta, tb = tensors(os.path.join(a, "model.safetensors")), tensors(os.path.join(b, "model.safetensors"))
    assert ta.keys() == tb.keys() and len(ta) > 10
    differ = [name for name in ta if ta[name] != tb[name]]
    assert not differ, f"6 + 2 resumed steps differ from 8 straight ones in {differ[:5]}"
    straight = {(x["type"], x["step"]): x["loss"] for x in read_log(os.path.join(b, "log.jsonl"))}
    for x in resumed:
        assert straight[(x["type"], x["step"])] == x["loss"], x


def interrupt(cli, tmp):
    c = os.path.join(tmp, "c")
    log = os.path.join(c, "log.jsonl")
    p = subprocess.Popen([cli, "train", *COMMON, "--steps", "1000", "--save-every", "0", "--out", c, "--log", log],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and p.poll() is None:
        if os.path.exists(log) and any('"type":"step"' in line for line in open(log)):
            break
        time.sleep(0.1)
    assert p.poll() is None, f"the run ended early: {p.returncode}"
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, (p.returncode, err)
    assert c in err, err
    meta = safetensors(os.path.join(c, "trainer.safetensors"))[0]["__metadata__"]
    assert int(meta["step"]) >= 1, meta
    assert len(tensors(os.path.join(c, "model.safetensors"))) > 10
    steps = [x["step"] for x in read_log(log) if x["type"] == "step"]
    assert steps[-1] == int(meta["step"]), (steps, meta)


def bad_flags(cli, tmp):
    out = ["--out", os.path.join(tmp, "bad")]
    cases = [
        (["--steps", "-1", *out], "--steps"),
        (["--objective", "bogus", *out], "bogus"),
        (["--data", "/nonexistent", *out], "/nonexistent"),
        (["--data", "world:bogus", *out], "bogus"),
        (["--steps", "10"], "--out"),
        (["--bogus", *out], "--bogus"),
        (["--model", "m", *out], "--model"),
        (["--resume", *out], "trainer.safetensors"),
        (["--precision", "fp16", *out], "fp16"),
    ]
    for args, named in cases:
        r = train(cli, *args, ok=False)
        assert r.returncode != 0 and named in r.stderr, (args, r.returncode, r.stderr)
        assert r.stderr.startswith("vnative train: "), r.stderr
    assert train(cli, "--steps", "-1", *out, ok=False).returncode == 2
    assert not os.path.exists(os.path.join(tmp, "bad", "trainer.safetensors"))
    # A finished run's directory is not silently trained over.
    r = train(cli, "--out", os.path.join(tmp, "a"), ok=False)
    assert r.returncode == 2 and "--resume" in r.stderr, r.stderr


def main(cli):
    tmp = scratch_dir("cli_train_")
    t0 = time.monotonic()
    a, recs = first_run_and_resume(cli, tmp)
    straight_run_matches(cli, tmp, a, [x for x in recs if x["step"] > 6])
    interrupt(cli, tmp)
    bad_flags(cli, tmp)
    shutil.rmtree(tmp)
    print(f"cli train ok in {time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.environ["VN_CLI"]))
