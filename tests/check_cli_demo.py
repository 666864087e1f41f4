"""`vnative demo --quick`: the whole main job end to end at a tiny budget. Its report must
hold every task and every model, as a valid HTML file; its results file must parse."""
import html.parser
import json
import os
import subprocess
import sys

from scratch import scratch_dir

TASKS = ["aot", "gravity", "collision", "order", "speed", "intphys"]
MODELS = ["video", "frames", "random", "pixels"]


class Collect(html.parser.HTMLParser):
    VOID = {"meta", "br", "img", "hr", "input", "link", "col", "area", "base", "wbr", "source", "path", "line",
            "rect", "circle", "polyline", "polygon", "stop", "use"}

    def __init__(self):
        super().__init__()
        self.text = []
        self.stack = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def main():
    cli = sys.argv[1]
    tmp = scratch_dir("cli_demo_")
    out = os.path.join(tmp, "demo")
    real = os.environ.get("VN_TEST_SHARED_DATA", "")
    real_args = ["--real", real] if real and os.path.isdir(real) else ["--no-real"]
    # One thread: meson runs other tests beside this one, and a 2-thread OpenMP team
    # sharing a core with them waits at every barrier.
    r = subprocess.run([cli, "demo", "--quick", "--out", out, "--threads", "1", *real_args], capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, f"vnative demo --quick: exit {r.returncode}\n{r.stdout}\n{r.stderr[-4000:]}"
    for t in TASKS:
        assert any(line.startswith(t + " ") for line in r.stdout.splitlines()), (t, r.stdout)
    for s in ("[demo 1/4", "[demo 2/4", "[demo 3/4", "[demo 4/4"):
        assert s in r.stderr, (s, r.stderr[-2000:])

    with open(os.path.join(out, "results.json")) as f:
        results = json.load(f)
    assert [m["name"] for m in results["models"]] == MODELS, results["models"]
    probed = {(p["model"], p["task"], p["probe"]) for p in results["probes"]}
    for m in MODELS:
        for t in TASKS:
            assert (m, t, "linear") in probed and (m, t, "knn") in probed, (m, t)
    for m in MODELS[:3]:
        assert (m, "future", "retrieval") in probed, m
        if real_args[0] == "--real":
            assert (m, "real-aot", "linear") in probed, m
    assert {(t["model"], t["task"]) for t in results["timevec"]} >= {(m, "aot") for m in MODELS[:3]}

    with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
        page = f.read()
    p = Collect()
    p.feed(page)
    p.close()
    assert not p.stack, f"unclosed tags {p.stack}"
    text = " ".join(p.text)
    for word in TASKS + MODELS + ["future"]:
        assert word in text, f"the report never names {word}"
    assert "http://" not in page and "https://" not in page
    with open(os.path.join(out, "report.md")) as f:
        md = f.read()
    for word in TASKS + MODELS:
        assert word in md, word

    # A second run reuses the trained models: no step is added to the logs and no
    # checkpoint is written again.
    log, model = os.path.join(out, "video", "log.jsonl"), os.path.join(out, "video", "model.safetensors")

    def state():
        with open(log, "rb") as f:
            return f.read(), os.path.getmtime(model)

    before = state()
    r = subprocess.run([cli, "demo", "--quick", "--out", out, "--threads", "1", "--no-real", "--quiet"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-4000:]
    assert state() == before, "the second run retrained the video model"
    r = subprocess.run([cli, "demo", "--bogus"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--bogus" in r.stderr, r.stderr
    print("cli_demo: ok")


if __name__ == "__main__":
    main()
