"""`vnative retrieve`: the top-k of the windows of `vnative encode` against a brute-force
numpy search, by cosine and inner product, for a row, a .npy of queries, a video and the
reversal along a time vector (`vnative timevec --save-t`); the JSON; and bad flags and
files named. Exit 77 (SKIP) when no python3 here has numpy."""
import json
import os
import subprocess
import sys

from encode_fixtures import GOOD, make_checkpoint, make_videos, need_ffmpeg, read_ids, run
from scratch import scratch_dir

SKIP = 77


def ensure_numpy():
    """/usr/bin/python3 has numpy; the python3 meson found may not (a pyenv one, say)."""
    try:
        import numpy  # noqa: F401
        return
    except ImportError:
        pass
    candidate = "/usr/bin/python3"
    if os.environ.get("VN_RETRIEVE_REEXEC") != "1" and os.path.exists(candidate) \
            and os.path.realpath(candidate) != os.path.realpath(sys.executable):
        if subprocess.run([candidate, "-c", "import numpy"], capture_output=True).returncode == 0:
            os.execve(candidate, [candidate] + sys.argv, dict(os.environ, VN_RETRIEVE_REEXEC="1"))
    print("SKIP: numpy is not installed for %s (nor for %s)" % (sys.executable, candidate))
    sys.exit(SKIP)


ensure_numpy()
import numpy as np  # noqa: E402

TOL = 1e-4


def retrieve(cli, *args, code=0):
    return run(cli, "retrieve", "--threads", "2", *args, code=code)


def retrieve_json(cli, *args):
    return json.loads(retrieve(cli, *args, "--json").stdout)


def brute(E, q, metric, k):
    """Scores of every row for one query, best first: (rows, scores) of the top k."""
    E = E.astype(np.float64)
    q = q.astype(np.float64)
    if metric == "cosine":
        norms = np.linalg.norm(E, axis=1)
        E = E / np.where(norms > 0, norms, 1)[:, None]
        qn = np.linalg.norm(q)
        q = q / qn if qn > 0 else q
    s = E @ q
    order = np.argsort(-s, kind="stable")[:k]
    return order, s


def check_results(results, E, q, metric, k, label):
    """The CLI's top-k is the brute-force top-k: the same scores rank by rank, each row's
    score is its brute-force score, no row twice (rows may trade places only on a tie)."""
    order, s = brute(E, q, metric, k)
    rows = [r["row"] for r in results]
    scores = [r["score"] for r in results]
    assert len(rows) == min(k, len(E)), (label, rows)
    assert len(set(rows)) == len(rows), (label, rows)
    scale = TOL * max(1.0, float(np.abs(s).max()))
    for j, (r, sc) in enumerate(zip(rows, scores)):
        assert abs(sc - s[order[j]]) <= scale, (label, j, sc, s[order[j]])
        assert abs(sc - s[r]) <= scale, (label, j, r, sc, s[r])
    assert [r["rank"] for r in results] == list(range(1, len(rows) + 1)), (label, results)
    return rows


def main():
    cli = sys.argv[1]
    need_ffmpeg()
    tmp = scratch_dir("cli_retrieve_")
    vids = make_videos(tmp)
    ck = make_checkpoint(cli, tmp)
    # the index: windows of a second every half second (23 rows); and one row per video
    emb, ids = os.path.join(tmp, "emb.npy"), os.path.join(tmp, "ids.csv")
    run(cli, "encode", "--model", ck, "--input", vids, "--out", emb, "--ids", ids, "--window", "1", "--stride",
        "0.5", "--threads", "2")
    whole, whole_ids = os.path.join(tmp, "whole.npy"), os.path.join(tmp, "whole.csv")
    run(cli, "encode", "--model", ck, "--input", vids, "--out", whole, "--ids", whole_ids, "--threads", "2")
    E = np.load(emb)
    id_rows = read_ids(ids)
    n, dim = E.shape
    assert E.dtype == np.float32 and n == len(id_rows) == 23, (E.shape, len(id_rows))

    r = run(cli, "retrieve", "--help")
    assert "--query-row" in r.stdout and "--reverse" in r.stdout, r.stdout

    # --query-row: the row itself first, cosine 1; and the table names it
    for row in (0, 9, n - 1):
        doc = retrieve_json(cli, "--index", emb, "--ids", ids, "--query-row", str(row), "--k", "5")
        assert doc["size"] == n and doc["dim"] == dim and doc["k"] == 5 and doc["metric"] == "cosine", doc
        assert doc["reverse"] is False and len(doc["queries"]) == 1, doc
        q = doc["queries"][0]
        assert q["query"] == {"kind": "row", "row": row}, q
        res = q["results"]
        assert res[0]["row"] == row and abs(res[0]["score"] - 1.0) < 1e-5, res[0]
        check_results(res, E, E[row], "cosine", 5, f"row {row}")
        for x in res:  # the ids CSV names every result
            _, src, s0, s1 = id_rows[x["row"]]
            assert (x["source"], x["start_s"], x["end_s"]) == (src, s0, s1), (x, id_rows[x["row"]])
    r = retrieve(cli, "--index", emb, "--ids", ids, "--query-row", "9", "--k", "3")
    lines = r.stdout.splitlines()
    assert lines[0].startswith("query: row 9 (") and id_rows[9][1] in lines[0], lines
    assert lines[1].split()[:3] == ["rank", "cosine", "row"] and len(lines) == 5, lines
    first = lines[2].split()
    assert first[0] == "1" and abs(float(first[1]) - 1.0) < 1e-5 and first[2] == "9" and first[-1] == id_rows[9][1]

    # inner product, and k past the size: every row once
    for metric in ("ip", "cosine"):
        doc = retrieve_json(cli, "--index", emb, "--query-row", "4", "--metric", metric, "--k", str(n + 10))
        res = doc["queries"][0]["results"]
        assert "source" not in res[0], res[0]
        assert sorted(x["row"] for x in res) == list(range(n)), res
        check_results(res, E, E[4], metric, n + 10, f"{metric} all")

    # --query-npy: [q, dim] queries (some near rows of the index) and one [dim] vector
    rng = np.random.default_rng(7)
    Q = np.concatenate([rng.standard_normal((2, dim)), E[[3, 17]] + 0.01 * rng.standard_normal((2, dim))])
    Q = Q.astype(np.float32)
    qpath = os.path.join(tmp, "q.npy")
    np.save(qpath, Q)
    for metric in ("cosine", "ip"):
        doc = retrieve_json(cli, "--index", emb, "--query-npy", qpath, "--k", "6", "--metric", metric)
        assert len(doc["queries"]) == len(Q), doc
        for i, qd in enumerate(doc["queries"]):
            assert qd["query"] == {"kind": "npy", "row": i, "path": qpath}, qd
            check_results(qd["results"], E, Q[i], metric, 6, f"npy {metric} {i}")
        if metric == "cosine":  # a row with a little noise finds the row
            assert [doc["queries"][i]["results"][0]["row"] for i in (2, 3)] == [3, 17], doc
    one = os.path.join(tmp, "one.npy")
    np.save(one, Q[3])
    doc = retrieve_json(cli, "--index", emb, "--query-npy", one, "--k", "4")
    assert len(doc["queries"]) == 1 and doc["queries"][0]["results"][0]["row"] == 17, doc
    check_results(doc["queries"][0]["results"], E, Q[3], "cosine", 4, "npy 1-d")

    # --query-video: the video encoded whole is its own row of the per-video index
    W = np.load(whole)
    wrows = read_ids(whole_ids)
    for name in GOOD:
        path = os.path.join(vids, name)
        doc = retrieve_json(cli, "--index", whole, "--ids", whole_ids, "--query-video", path, "--model", ck, "--k",
                            str(len(W)))
        res = doc["queries"][0]["results"]
        assert doc["queries"][0]["query"] == {"kind": "video", "path": path}, doc
        assert res[0]["source"] == path and abs(res[0]["score"] - 1.0) < 1e-5, (name, res)
        check_results(res, W, W[[r[1] for r in wrows].index(path)], "cosine", len(W), f"video {name}")

    # --reverse: each query reflected across t's hyperplane, q - 2 (q.t)/(t.t) t
    tpath = os.path.join(tmp, "t.npy")
    run(cli, "timevec", "--model", os.path.join(ck, "model.safetensors"), "--tasks", "aot", "--clips", "8",
        "--threads", "2", "--quiet", "--save-t", tpath)
    t = np.load(tpath)
    assert t.dtype == np.float32 and t.shape == (dim,) and np.linalg.norm(t) > 0, (t.dtype, t.shape)
    for metric, row in (("cosine", 5), ("ip", 12)):
        doc = retrieve_json(cli, "--index", emb, "--ids", ids, "--query-row", str(row), "--metric", metric,
                            "--reverse", "--timevec", tpath, "--k", "7")
        assert doc["reverse"] is True and doc["timevec"] == tpath, doc
        q = E[row].astype(np.float64)
        if metric == "cosine":
            q = q / np.linalg.norm(q)
        alpha = 2 * (q @ t) / (t @ t)
        assert abs(doc["queries"][0]["query"]["alpha"] - alpha) <= 1e-4 * max(1, abs(alpha)), (doc, alpha)
        check_results(doc["queries"][0]["results"], E, q - alpha * t, metric, 7, f"reverse {metric}")
    # a direction of our own, and several queries each with their own alpha
    t2 = rng.standard_normal(dim).astype(np.float32)
    t2path = os.path.join(tmp, "t2.npy")
    np.save(t2path, t2)
    doc = retrieve_json(cli, "--index", emb, "--query-npy", qpath, "--reverse", "--timevec", t2path, "--k", "5")
    for i, qd in enumerate(doc["queries"]):
        q = Q[i].astype(np.float64)
        alpha = 2 * (q @ t2) / (t2 @ t2)
        check_results(qd["results"], E, q - alpha * t2, "cosine", 5, f"reverse npy {i}")
    r = retrieve(cli, "--index", emb, "--query-row", "5", "--reverse", "--timevec", tpath)
    assert "reflected along" in r.stdout.splitlines()[0], r.stdout

    # bad flags (exit 2) and bad files (exit 1), each named
    wrong_dim = os.path.join(tmp, "wrong.npy")
    np.save(wrong_dim, np.zeros((2, dim + 1), np.float32))
    f64 = os.path.join(tmp, "f64.npy")
    np.save(f64, Q.astype(np.float64))
    zero = os.path.join(tmp, "zero.npy")
    np.save(zero, np.zeros(dim, np.float32))
    short_ids = os.path.join(tmp, "short_ids.csv")
    with open(ids) as f:
        lines = f.readlines()
    with open(short_ids, "w") as f:
        f.writelines(lines[:-3])
    missing = os.path.join(tmp, "nowhere.npy")
    for args, code, words in [
        (["--query-row", "1"], 2, "--index is required"),
        (["--index", emb], 2, "exactly one of"),
        (["--index", emb, "--query-row", "1", "--query-npy", qpath], 2, "exactly one of"),
        (["--index", emb, "--query-video", os.path.join(vids, "a.mp4")], 2, "needs --model"),
        (["--index", emb, "--query-row", "1", "--model", ck], 2, "only used by --query-video"),
        (["--index", emb, "--query-row", "1", "--reverse"], 2, "go together"),
        (["--index", emb, "--query-row", "1", "--timevec", tpath], 2, "go together"),
        (["--index", emb, "--query-row", "1", "--metric", "l2"], 2, "--metric"),
        (["--index", emb, "--query-row", "1", "--k", "0"], 2, "--k needs an integer"),
        (["--index", missing, "--query-row", "1"], 1, missing),
        (["--index", emb, "--query-row", str(n)], 1, "outside the index"),
        (["--index", emb, "--query-npy", wrong_dim], 1, "wrong.npy must be float32"),
        (["--index", emb, "--query-npy", f64], 1, "f64.npy"),
        (["--index", emb, "--query-npy", missing], 1, missing),
        (["--index", emb, "--query-row", "1", "--reverse", "--timevec", wrong_dim], 1, "wrong.npy"),
        (["--index", emb, "--query-row", "1", "--reverse", "--timevec", zero], 1, "zero vector"),
        (["--index", emb, "--ids", short_ids, "--query-row", "1"], 1, "names 20 rows but the index has 23"),
        (["--index", emb, "--ids", whole_ids, "--query-row", "1"], 1, "names 4 rows but the index has 23"),
        (["--index", whole, "--ids", ids, "--query-row", "1"], 1, "past the index's 4 rows"),
        (["--index", emb, "--ids", missing, "--query-row", "1"], 1, missing),
        (["--index", emb, "--query-video", os.path.join(vids, "bad.mp4"), "--model", ck], 1, "bad.mp4"),
        (["--index", emb, "--query-video", os.path.join(vids, "a.mp4"), "--model", missing], 1, missing),
    ]:
        r = retrieve(cli, *args, code=code)
        assert words in r.stderr, (args, r.stderr)
    print("cli_retrieve: ok")


if __name__ == "__main__":
    main()
