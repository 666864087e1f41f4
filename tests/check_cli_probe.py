"""`vnative probe`: the table and the JSON of the linear and k-NN probes, for a fresh
preset and for a trained model file, and bad flags that are named."""
import json
import os
import subprocess
import sys

from scratch import scratch_dir

SMALL = ["--train-clips", "48", "--test-clips", "32", "--threads", "2", "--quiet"]


def run(cli, cmd, *args, code=0):
    r = subprocess.run([cli, cmd, *args], capture_output=True, text=True, timeout=300)
    assert r.returncode == code, f"vnative {cmd} {' '.join(args)}: exit {r.returncode}, wanted {code}\n{r.stderr}"
    return r


def check_result(p, with_wd):
    assert 0.0 <= p["ci_low"] <= p["accuracy"] <= p["ci_high"] <= 1.0, p
    if with_wd:
        assert 0.0 <= p["train_accuracy"] <= 1.0, p
        assert p["weight_decay"] >= 0 and 0.0 <= p["val_accuracy"] <= 1.0, p
    else:
        assert set(p) == {"accuracy", "ci_low", "ci_high"}, p


def check_json(path, tasks, model):
    with open(path) as f:
        doc = json.load(f)
    assert doc["model"] == model and doc["train_clips"] == 48 and doc["test_clips"] == 32, doc
    assert [t["task"] for t in doc["tasks"]] == tasks, doc
    for t in doc["tasks"]:
        check_result(t["linear"], True)
        check_result(t["knn"], False)
    return doc


def check_real(cli, tmp):
    """--real on a directory and on each manifest layout of the same videos: 6 world aot
    clips of 24 frames give 2 windows each under xs (16 frames, every 8)."""
    vids = os.path.join(tmp, "real")
    run(cli, "world", "--task", "aot", "--count", "6", "--frames", "24", "--size", "32", "--threads", "2",
        "--out", vids)
    names = sorted(n for n in os.listdir(vids) if n.endswith(".mp4"))
    assert len(names) == 6, names
    tsv = os.path.join(tmp, "real.tsv")
    with open(tsv, "w") as f:
        f.write("file\tbytes\n" + "".join(f"real/{n}\t0\n" for n in names))
    plain = os.path.join(tmp, "real.txt")
    with open(plain, "w") as f:
        f.write("# one path per line\n\n" + "".join(os.path.join(vids, n) + "\n" for n in names))
    docs = []
    for source in (vids, os.path.join(vids, "manifest.csv"), tsv, plain):
        out = os.path.join(tmp, "real.json")
        r = run(cli, "probe", "--model", "xs", "--tasks", "aot", "--real", source, "--real-folds", "3",
                "--json", out, *SMALL)
        rows = [line.split()[0] for line in r.stdout.splitlines()[2:]]
        assert rows == ["aot", "real-aot"], r.stdout
        assert r.stdout.splitlines()[-1].split()[5] == "-", r.stdout
        with open(out) as f:
            doc = json.load(f)
        real = doc["real_aot"]
        assert (real["windows"], real["videos"], real["sources"], real["folds"]) == (12, 6, 6, 3), real
        check_result({k: real[k] for k in ("accuracy", "ci_low", "ci_high")}, False)
        docs.append(real)
    # Every listing names the same videos in the same order, so the numbers agree.
    for d in docs[1:]:
        assert {k: v for k, v in d.items() if k != "source"} == {k: v for k, v in docs[0].items() if k != "source"}

    one = os.path.join(tmp, "one")
    os.mkdir(one)
    os.link(os.path.join(vids, names[0]), os.path.join(one, names[0]))
    bad = [
        ((os.path.join(tmp, "nowhere"),), 1, "nowhere"),
        ((one,), 1, "at least 2"),
        ((vids, "--real-folds", "1"), 2, "--real-folds"),
    ]
    for args, code, words in bad:
        r = run(cli, "probe", "--model", "xs", "--tasks", "aot", "--real", *args, *SMALL, code=code)
        assert words in r.stderr, (args, r.stderr)


def check_cache(cli, tmp):
    """--cache: the second run reads the embeddings back (the files are not rewritten) and
    gives the same numbers; another weights seed makes the entry stale."""
    cache = os.path.join(tmp, "cache")
    outs = [os.path.join(tmp, f"cache{i}.json") for i in range(3)]
    args = ["probe", "--model", "xs", "--tasks", "aot,gravity", "--cache", cache, *SMALL]
    run(cli, *args, "--json", outs[0])
    npys = sorted(n for n in os.listdir(cache) if n.endswith(".npy"))
    assert npys == ["aot-0-80-0.labels.npy", "aot-0-80-0.npy", "gravity-0-80-0.labels.npy", "gravity-0-80-0.npy"], npys
    assert os.path.exists(os.path.join(cache, "aot-0-80-0.json"))
    stamp = {n: os.stat(os.path.join(cache, n)).st_mtime_ns for n in npys}
    run(cli, *args, "--json", outs[1])
    assert stamp == {n: os.stat(os.path.join(cache, n)).st_mtime_ns for n in npys}, "the cache was rewritten"
    with open(outs[0]) as a, open(outs[1]) as b:
        assert json.load(a) == json.load(b), "cached embeddings gave other numbers"
    run(cli, *args, "--seed", "5", "--json", outs[2])
    assert stamp["aot-0-80-0.npy"] != os.stat(os.path.join(cache, "aot-0-80-0.npy")).st_mtime_ns, "stale entry reused"
    with open(os.path.join(cache, "aot-0-80-0.json")) as f:
        assert json.load(f)["weights_seed"] == 5


def main():
    cli = sys.argv[1]
    tmp = scratch_dir("cli_probe_")
    out = os.path.join(tmp, "fresh.json")
    r = run(cli, "probe", "--model", "xs", "--tasks", "aot,gravity", "--json", out, *SMALL)
    rows = [line.split()[0] for line in r.stdout.splitlines()[2:]]
    assert rows == ["aot", "gravity"], r.stdout
    check_json(out, ["aot", "gravity"], "xs")

    # The same arguments give the same numbers.
    again = os.path.join(tmp, "again.json")
    run(cli, "probe", "--model", "xs", "--tasks", "aot,gravity", "--json", again, *SMALL)
    with open(out) as a, open(again) as b:
        assert json.load(a) == json.load(b), "two identical probe runs differ"

    # A trained model file, through the loader.
    model_dir = os.path.join(tmp, "m")
    run(cli, "train", "--model", "xs", "--batch", "4", "--steps", "2", "--eval-every", "0", "--threads", "2",
        "--quiet", "--out", model_dir)
    model = os.path.join(model_dir, "model.safetensors")
    out = os.path.join(tmp, "trained.json")
    run(cli, "probe", "--model", model, "--tasks", "order", "--json", out, *SMALL)
    check_json(out, ["order"], model)

    bad = [
        ((), "--model is required"),
        (("--model", "xs", "--tasks", "future"), "'future' is not a binary world task"),
        (("--model", "xs", "--tasks", "aot,aot"), "twice"),
        (("--model", "xs", "--train-clips", "2"), "--train-clips needs an integer"),
        (("--model", "xs", "--bogus"), "unknown option '--bogus'"),
        (("--model", model, "--family", "frames"), "--family and --pos go with a preset"),
    ]
    for args, words in bad:
        r = run(cli, "probe", *args, code=2)
        assert words in r.stderr, (args, r.stderr)
    r = run(cli, "probe", "--model", os.path.join(tmp, "missing.safetensors"), code=1)
    assert "missing.safetensors" in r.stderr, r.stderr
    check_real(cli, tmp)
    check_cache(cli, tmp)
    print("cli_probe: ok")


if __name__ == "__main__":
    main()
