"""`vnative report`: report.json, report.md and one self-contained report.html from a
synthetic results file and two training logs, read back strictly (the HTML's tags must
balance, every <svg> must parse as XML, every image must decode as the PNG it claims to
be, nothing may point outside the file), and malformed inputs that are named."""
import base64
import html.parser
import json
import math
import os
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib

from scratch import scratch_dir

MODELS = ["video", "frames", "random", "pixels", "esc<&>\"'"]
TASKS = ["aot", "gravity", "real-aot"]
EXAMPLES = [
    {"task": "aot", "index": 0, "frames": 16, "size": 32, "world_seed": 123},
    {"task": "gravity", "index": 3, "frames": 8, "size": 48, "world_seed": 7},
    {"task": "future", "index": 1, "frames": 12, "size": 32, "world_seed": 5},
]


def make_fixture(tmp):
    """results.json, video.jsonl (beside it, named relatively) and frames.jsonl (for --logs)."""
    probes = []
    for ti, task in enumerate(TASKS):
        for mi, model in enumerate(MODELS[:4]):
            for kind in ("linear", "knn"):
                acc = round(0.5 + 0.1 * mi + 0.01 * ti + (0.005 if kind == "knn" else 0), 6)
                probes.append({"model": model, "task": task, "probe": kind, "accuracy": acc,
                               "ci_low": acc - 0.03, "ci_high": min(1.0, acc + 0.03), "n_test": 200})
    probes[0].update(accuracy=0.99, ci_low=0.98, ci_high=1.0)
    probes.append({"model": "video", "task": "future", "probe": "retrieval", "r1": 0.5, "r5": 0.9, "mrr": 0.6,
                   "hard_negative": 0.8, "hard_ci_low": 0.75, "hard_ci_high": 0.85})
    probes.append({"model": "frames", "task": "future", "probe": "retrieval", "r1": 0.25, "r5": 0.6,
                   "mrr": 0.4, "hard_negative": 0.5, "hard_ci_low": 0.45, "hard_ci_high": 0.55})
    timevec = []
    for model, sep in (("video", 2.0), ("frames", 0.0)):
        for task in ("aot", "gravity"):
            fwd = [sep / 2 + math.sin(7.1 * i) for i in range(120)]
            rev = [-sep / 2 + math.cos(3.3 * i) for i in range(100)]
            timevec.append({"model": model, "task": task, "sign_accuracy": 0.95 if sep else 0.5, "ci_low": 0.45,
                            "ci_high": 0.97, "pair_accuracy": 0.99, "reversal_r1": 0.4, "reversal_r1_base": 0.1,
                            "cosines": {"aot": 1.0, "gravity": 0.3}, "projections": {"forward": fwd, "reversed": rev}})
    results = {
        "title": "Report <test> & \"check\"",
        "unknown_top": {"kept": [1, 2.5, None, True]},
        "models": [
            {"name": "video", "family": "video", "description": "xs video encoder", "log": "video.jsonl"},
            {"name": "frames", "family": "frames", "description": "bag of images", "extra": 1},
            {"name": "random", "family": "video", "description": "random init (floor)"},
            {"name": "pixels", "family": "pixels", "description": "linear probe on frame differences"},
            {"name": MODELS[4], "description": "a name that needs escaping"},
        ],
        "probes": probes,
        "timevec": timevec,
        "video_projection": [{"model": "video", "video": "clip.mp4",
                              "points": [{"start_s": 0.32 * i, "projection": math.sin(i / 3)} for i in range(25)]}],
        "examples": EXAMPLES,
    }
    path = os.path.join(tmp, "results.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    with open(os.path.join(tmp, "video.jsonl"), "w") as f:
        for s in range(1, 301):
            loss = 0.05 + math.exp(-s / 60)
            f.write(json.dumps({"type": "step", "step": s, "loss": 2 * loss, "losses": {"aot": loss, "future": loss},
                                "lr": 1e-3}) + "\n")
            if s % 100 == 0:
                f.write(json.dumps({"type": "eval", "step": s, "loss": loss, "accuracy": {"aot": 0.6 + s / 1000}}) + "\n")
        f.write('{"type": "step", "step": 301, "lo')  # a run still writing
    frames_log = os.path.join(tmp, "frames.jsonl")
    with open(frames_log, "w") as f:  # one objective, more steps than a line may have points
        for s in range(1, 2501):
            f.write(json.dumps({"type": "step", "step": s, "loss": 0.69 + 0.01 * math.sin(s),
                                "losses": {"aot": 0.69 + 0.01 * math.sin(s)}}) + "\n")
    return path, frames_log, results


def run(cli, *args, code=0):
    r = subprocess.run([cli, "report", *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == code, f"vnative report {' '.join(args)}: exit {r.returncode}, wanted {code}\n{r.stderr}"
    return r


class StrictHTML(html.parser.HTMLParser):
    """Tags must balance (void elements aside); collects text, images and raw svg spans."""
    VOID = {"meta", "img", "br", "hr", "link", "input", "source", "wbr", "col", "area", "base"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.text, self.imgs, self.tags = [], [], [], {}

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "img":
            self.imgs.append(dict(attrs))
        if tag not in self.VOID:
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1

    def handle_endtag(self, tag):
        assert self.stack, f"</{tag}> at {self.getpos()} closes nothing"
        top, pos = self.stack.pop()
        assert top == tag, f"</{tag}> at {self.getpos()} closes <{top}> opened at {pos}"

    def handle_data(self, data):
        self.text.append(data)


def png_info(data):
    """(width, height) of an 8-bit RGB PNG, after checking every chunk's CRC and the pixels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind}"
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    assert kind == b"IEND" and pos == len(data)
    w, h, depth, ctype, _, _, interlace = ihdr
    assert (depth, ctype, interlace) == (8, 2, 0), ihdr
    raw = zlib.decompress(idat)  # checks the Adler-32 too
    assert len(raw) == h * (1 + 3 * w)
    assert len(set(raw[1:1 + 3 * w])) > 4, "the first row is flat: nothing was drawn"
    return w, h


def check_html(doc, results):
    for bad in ("http://", "https://", "<script", "<link", "@import", "url("):
        assert bad not in doc.lower(), f"report.html has {bad}"
    p = StrictHTML()
    p.feed(doc)
    p.close()
    assert not p.stack, f"unclosed tags: {p.stack}"
    text = "".join(p.text)
    for name in MODELS + TASKS + ["future"]:
        assert name in text, f"{name!r} is not in report.html's text"
    assert results["title"] in text
    assert "ends in a partial line" in text and "No training log for: random, pixels" in text, text[:2000]

    svgs = re.findall(r"<svg\b.*?</svg>", doc, re.S)
    # 4 bar charts (linear, knn, retrieval, time-vector sign), loss, held-out accuracy,
    # 4 histograms, the video projection
    assert len(svgs) == 11 == p.tags.get("svg"), (len(svgs), p.tags.get("svg"))
    for s in svgs:
        root = ET.fromstring(s)
        assert root.tag == "svg" and root.get("viewBox") and root.find("title") is not None, s[:200]
        for path in root.iter("path"):
            points = len(re.findall(r"[ML]", path.get("d", "")))
            assert points <= 1000, f"a line of {points} points"
    loss = [s for s in svgs if "<title>Training loss</title>" in s]
    assert len(loss) == 1 and "video: future" in loss[0] and "frames" in loss[0], loss
    widest = max(len(re.findall(r"L", d)) for d in re.findall(r' d="([^"]*)"', loss[0]))
    assert widest + 1 == 500, widest  # 2500 steps of frames in runs of 5

    assert len(p.imgs) == len(EXAMPLES), p.imgs
    for img, ex in zip(p.imgs, EXAMPLES):
        prefix = "data:image/png;base64,"
        assert img["src"].startswith(prefix), img["src"][:40]
        data = base64.b64decode(img["src"][len(prefix):], validate=True)
        n, s = ex["frames"], ex["size"]
        want = n * s + (n - 2) * 2 + 10 if ex["task"] == "future" else n * s + (n - 1) * 2
        assert png_info(data) == (want, s), (png_info(data), want, s, ex)


def md_tables(md):
    """{title: [rows of cells]} of the Markdown tables."""
    tables, title = {}, None
    for line in md.splitlines():
        if line.startswith("## "):
            title = line[3:]
        elif line.startswith("|") and not line.startswith("|---"):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            tables.setdefault(title, []).append(cells)
    return tables


def check_md(md, results):
    t = md_tables(md)
    for title in ("Linear probe accuracy (%)", "k-NN probe accuracy (%)"):
        head, rows = t[title][0], t[title][1:]
        assert head == ["task"] + MODELS, head
        assert [r[0] for r in rows] == TASKS, rows
    lin = t["Linear probe accuracy (%)"]
    assert lin[1][1] == "99.0 [98.0, 100.0]", lin[1]
    assert lin[1][5] == "-", lin[1]  # the escaped model has no probes
    ret = t["Retrieval (%)"]
    assert ret[0][:2] == ["task", "metric"] and [r[1] for r in ret[1:]] == ["R@1", "R@5", "MRR", "hard-negative"]
    assert ret[4][2] == "80.0 [75.0, 85.0]", ret[4]
    tv = t["Time vectors (%)"]
    assert [(r[0], r[1]) for r in tv[1:]] == [("aot", "video"), ("gravity", "video"), ("aot", "frames"),
                                             ("gravity", "frames")], tv
    assert tv[1][2] == "95.0 [45.0, 97.0]" and tv[1][6] == "aot 1.00, gravity 0.30", tv[1]
    assert [r[0] for r in t["Models"][1:]] == MODELS


def check_json(doc, results, frames_log):
    assert doc["generated_by"].startswith("vnative "), doc["generated_by"]
    for key in ("probes", "timevec", "video_projection", "examples", "unknown_top", "title"):
        assert doc[key] == results[key], key  # the same doubles back, and unknown keys kept
    assert doc["models"][1]["log"] == frames_log and doc["models"][1]["extra"] == 1
    assert doc["models"][0]["log"] == "video.jsonl" and "log" not in doc["models"][2]
    d = doc["derived"]
    assert d["models"] == MODELS and d["probe_tasks"] == TASKS + ["future"], d
    logs = {l["model"]: l for l in d["logs"]}
    assert logs["video"]["truncated_last_line"] is True and not logs["frames"]["truncated_last_line"]
    assert logs["frames"]["last_loss"]["loss"]["points"] == 2500
    last = logs["video"]["last_eval_accuracy"]["aot"]
    assert last["step"] == 300 and abs(last["value"] - 0.9) < 1e-12, last


def write(tmp, name, content):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(content if isinstance(content, str) else json.dumps(content))
    return path


def check_errors(cli, tmp, results_path, results):
    out = os.path.join(tmp, "bad_out")
    text = open(results_path).read()
    base = {"models": [{"name": "m"}], "probes": [{"model": "m", "task": "aot", "probe": "linear", "accuracy": 0.9}]}

    def with_(**kw):
        d = json.loads(json.dumps(base))
        for k, v in kw.items():
            d[k] = v
        return d

    bad1 = [  # (file name, content, words in the message)
        ("truncated.json", text[:text.rfind(",", 0, len(text) // 2) + 1], "end of input"),
        ("garbage.json", "\x00\x01garbage{{{", "expected a value"),
        ("empty.json", "", "empty input"),
        ("array.json", "[1, 2]", "the results file must be an object, got array"),
        ("nomodels.json", {"probes": []}, 'has no "models"'),
        ("modelstype.json", {"models": "video"}, "models must be an array, got string"),
        ("nomodel.json", {"models": []}, '"models" is empty'),
        ("noname.json", {"models": [{"family": "video"}]}, 'models[0] has no "name"'),
        ("dupname.json", {"models": [{"name": "a"}, {"name": "a"}]}, "already the name"),
        ("acctype.json", with_(probes=[{"model": "m", "task": "aot", "probe": "linear", "accuracy": "high"}]),
         "probes[0].accuracy must be a number, got string"),
        ("accrange.json", with_(probes=[{"model": "m", "task": "aot", "probe": "linear", "accuracy": 99}]),
         "probes[0].accuracy is 99"),
        ("notask.json", with_(probes=[{"model": "m", "probe": "linear", "accuracy": 0.5}]), 'probes[0] has no "task"'),
        ("unknown.json", with_(probes=[{"model": "x", "task": "aot", "probe": "linear", "accuracy": 0.5}]),
         'probes[0].model "x" is not one of the "models"'),
        ("noacc.json", with_(probes=[{"model": "m", "task": "aot", "probe": "knn"}]), 'probes[0] has no "accuracy"'),
        ("tvproj.json", with_(timevec=[{"model": "m", "task": "aot", "sign_accuracy": 0.5,
                                        "projections": {"forward": [1, "2"], "reversed": []}}]),
         "timevec[0].projections.forward[1] must be a number, got string"),
        ("extask.json", with_(examples=[{"task": "juggling", "index": 0}]), 'examples[0].task "juggling" is not a world task'),
        ("exframes.json", with_(examples=[{"task": "aot", "index": 0, "frames": 1000}]), "examples[0].frames must be"),
        ("vp.json", with_(video_projection=[{"model": "m", "points": [{"start_s": 0}]}]),
         'video_projection[0].points[0] has no "projection"'),
        ("deep.json", with_(extra=json.loads("[" * 40 + "]" * 40)), "nested deeper than"),
    ]
    for name, content, words in bad1:
        path = write(tmp, name, content)
        r = run(cli, "--results", path, "--out", out, code=1)
        assert words in r.stderr and name in r.stderr, (name, r.stderr)
    path = write(tmp, "nolog.json", {"models": [{"name": "m", "log": "missing.jsonl"}]})
    r = run(cli, "--results", path, "--out", out, code=1)
    assert "the log of model 'm', missing.jsonl: No such file" in r.stderr, r.stderr
    r = run(cli, "--results", os.path.join(tmp, "absent.json"), "--out", out, code=1)
    assert "absent.json" in r.stderr and "No such file" in r.stderr, r.stderr
    # line and column of the problem
    path = write(tmp, "where.json", '{"models": [\n  {"name": "m"},\n  {"name": 5}\n]}')
    r = run(cli, "--results", path, "--out", out, code=1)
    assert "where.json:3:12: models[1].name must be a string, got number" in r.stderr, r.stderr
    # logs: one that is missing, one bad in the middle (a truncated last line is fine)
    ok = write(tmp, "ok.json", {"models": [{"name": "m"}]})
    r = run(cli, "--results", ok, "--out", out, "--logs", "m=" + os.path.join(tmp, "nolog.jsonl"), code=1)
    assert "nolog.jsonl" in r.stderr and "No such file" in r.stderr, r.stderr
    mid = write(tmp, "mid.jsonl", '{"type":"step","step":1,"loss":1}\n{"type":"step",\n{"type":"step","step":2}\n')
    r = run(cli, "--results", ok, "--out", out, "--logs", "m=" + mid, code=1)
    assert "mid.jsonl:2:" in r.stderr, r.stderr
    nostep = write(tmp, "nostep.jsonl", '{"type":"step","loss":1}\n')
    r = run(cli, "--results", ok, "--out", out, "--logs", "m=" + nostep, code=1)
    assert "nostep.jsonl:1: a step line needs \"step\"" in r.stderr, r.stderr
    # bad flags: exit 2
    for args, words in [((), "--results is required"), (("--results", ok), "--out is required"),
                        (("--results", ok, "--out", out, "--bogus"), "unknown option '--bogus'"),
                        (("--results", ok, "--out", out, "--logs"), "--logs needs NAME=FILE"),
                        (("--results", ok, "--out", out, "--logs", "m"), "--logs needs NAME=FILE"),
                        (("--results", ok, "--out", out, "--logs", "=x"), "--logs needs NAME=FILE"),
                        (("--results", ok, "--out", out, "--logs", "zz=" + mid), "no model named 'zz'"),
                        (("--results", ok, "--out", out, "--title", ""), "needs a non-empty value")]:
        r = run(cli, *args, code=2)
        assert words in r.stderr, (args, r.stderr)
    assert not os.path.exists(os.path.join(out, "report.html")), "a failed run left a report"


def check_minimal(cli, tmp):
    """Only models: every section says what is absent, and the report is still whole."""
    ok = write(tmp, "minimal.json", {"models": [{"name": "solo"}]})
    out = os.path.join(tmp, "minimal_out")
    run(cli, "--results", ok, "--out", out, "--title", "Minimal")
    doc = open(os.path.join(out, "report.html")).read()
    p = StrictHTML()
    p.feed(doc)
    assert not p.stack
    for words in ("No probe results", "No time-vector results", "No projection along a video", "No example clips",
                  "No training logs", "<title>Minimal</title>"):
        assert words in doc, words
    md = open(os.path.join(out, "report.md")).read()
    assert md.startswith("# Minimal\n") and "No probe results" in md
    j = json.load(open(os.path.join(out, "report.json")))
    assert j["title"] == "Minimal" and len(j["derived"]["absent"]) == 5, j["derived"]


def main():
    cli = sys.argv[1]
    tmp = scratch_dir("cli_report_")
    results_path, frames_log, results = make_fixture(tmp)
    out = os.path.join(tmp, "out")
    r = run(cli, "--results", results_path, "--out", out, "--logs", "frames=" + frames_log)
    assert "report.html" in r.stdout, r.stdout
    doc = open(os.path.join(out, "report.html"), encoding="utf-8").read()
    check_html(doc, results)
    check_md(open(os.path.join(out, "report.md"), encoding="utf-8").read(), results)
    check_json(json.load(open(os.path.join(out, "report.json"))), results, frames_log)
    # the same inputs give the same bytes: the clips are a pure function of their seeds
    out2 = os.path.join(tmp, "out2")
    run(cli, "--results", results_path, "--out", out2, "--logs", "frames=" + frames_log)
    assert open(os.path.join(out2, "report.html"), encoding="utf-8").read() == doc
    assert not [f for f in os.listdir(out) if f.endswith(".tmp")]
    check_errors(cli, tmp, results_path, results)
    check_minimal(cli, tmp)
    print("cli_report: ok")


if __name__ == "__main__":
    main()
