"""`vnative timevec`: the table, the cosine matrix and the JSON of the time vectors, the
sliding-window projection through a video, and bad flags that are named."""
import json
import os
import subprocess
import sys

from scratch import scratch_dir


def run(cli, cmd, *args, code=0):
    r = subprocess.run([cli, cmd, *args], capture_output=True, text=True, timeout=300)
    assert r.returncode == code, f"vnative {cmd} {' '.join(args)}: exit {r.returncode}, wanted {code}\n{r.stderr}"
    return r


def main():
    cli = sys.argv[1]
    tmp = scratch_dir("cli_timevec_")
    # A 40-frame video for the sliding window: clip 0 of the world's aot task at 32 x 32.
    vids = os.path.join(tmp, "vids")
    run(cli, "world", "--task", "aot", "--count", "1", "--frames", "40", "--size", "32", "--out", vids,
        "--threads", "2")
    video = os.path.join(vids, sorted(f for f in os.listdir(vids) if f.endswith(".mp4"))[0])

    out = os.path.join(tmp, "tv.json")
    r = run(cli, "timevec", "--model", "xs", "--tasks", "aot,gravity", "--clips", "16", "--threads", "2",
            "--quiet", "--video", video, "--stride", "8", "--json", out)
    assert "cosines between the time vectors" in r.stdout, r.stdout
    with open(out) as f:
        doc = json.load(f)
    assert [t["task"] for t in doc["tasks"]] == ["aot", "gravity"], doc
    for i, t in enumerate(doc["tasks"]):
        for k in ("sign_accuracy", "pair_accuracy", "reversal_r1", "reversal_r1_base"):
            assert 0.0 <= t[k] <= 1.0, (k, t)
        assert t["ci_low"] <= t["sign_accuracy"] <= t["ci_high"], t
        assert len(t["cosines"]) == 2 and abs(t["cosines"][i] - 1.0) < 1e-6, t
        assert t["norm"] > 0 and -1.0 <= t["normal_cosine"] <= 1.0, t
    assert abs(doc["tasks"][0]["cosines"][1] - doc["tasks"][1]["cosines"][0]) < 1e-12, doc
    # windows start at 0, 8, 16, 24 (40 frames, 16 per window)
    starts = [p["start_s"] for p in doc["video_projection"]]
    assert len(starts) == 4 and starts == sorted(starts) and starts[0] == 0.0, doc["video_projection"]

    bad = [
        ((), "--model is required"),
        (("--model", "xs", "--tasks", "future"), "not a binary world task"),
        (("--model", "xs", "--clips", "2"), "--clips needs an integer"),
        (("--model", "xs", "--tasks", ""), "needs a non-empty value"),
    ]
    for args, words in bad:
        r = run(cli, "timevec", *args, code=2)
        assert words in r.stderr, (args, r.stderr)
    r = run(cli, "timevec", "--model", "xs", "--clips", "4", "--tasks", "aot", "--quiet", "--threads", "2",
            "--video", os.path.join(tmp, "missing.mp4"), code=1)
    assert "missing.mp4" in r.stderr, r.stderr
    print("cli_timevec: ok")


if __name__ == "__main__":
    main()
