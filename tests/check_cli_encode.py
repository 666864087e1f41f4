"""`vnative encode`: a folder, one file and a manifest into emb.npy and ids.csv, one row per
video or per window; the window count against each video's duration; rows identical
whatever the threads and batch; corrupt videos skipped with a warning naming them, and
nothing decodable, missing files and bad flags refused with a message."""
import math
import os
import sys

from encode_fixtures import GOOD, duration, make_checkpoint, make_videos, need_ffmpeg, read_ids, read_npy, run
from scratch import scratch_dir

DIM = 128  # the xs preset


def encode(cli, *args, code=0):
    return run(cli, "encode", "--threads", "2", *args, code=code)


def check_outputs(emb, ids, sources):
    """emb float32 [rows, DIM], every value finite; ids rows 0..n-1 naming sources in order.
    Returns the id rows."""
    descr, shape, data = read_npy(emb)
    rows = read_ids(ids)
    assert descr == "<f4" and len(shape) == 2 and shape[1] == DIM, (descr, shape)
    assert shape[0] == len(rows), (shape, len(rows))
    assert all(math.isfinite(x) for x in data), "non-finite embeddings"
    assert [r[0] for r in rows] == list(range(len(rows))), rows
    assert [r[1] for r in rows] == sorted((r[1] for r in rows), key=sources.index), "rows out of input order"
    return rows


def windows(dur, window, stride):
    return int(math.floor((dur - window) / stride + 1e-6)) + 1 if dur + 1e-6 >= window else 0


def check_folder(cli, tmp, vids, ck):
    paths = [os.path.join(vids, n) for n in GOOD]
    durs = {p: duration(cli, p) for p in paths}
    emb, ids = os.path.join(tmp, "whole.npy"), os.path.join(tmp, "whole.csv")
    r = encode(cli, "--model", ck, "--input", vids, "--out", emb, "--ids", ids)
    # the corrupt files are skipped with a warning naming each; the text file and sub/ are not listed
    for bad in ("bad.mp4", "empty.mp4"):
        assert f"skipping {os.path.join(vids, bad)}" in r.stderr, r.stderr
    assert "notes.txt" not in r.stderr and "nested" not in r.stderr, r.stderr
    assert f"{len(GOOD)} rows" in r.stdout and f"from {len(GOOD)} of {len(GOOD) + 2} files" in r.stdout, r.stdout
    assert "clips/s" in r.stdout and "2 skipped" in r.stdout, r.stdout
    rows = check_outputs(emb, ids, paths)
    # one row per video over all of it
    assert [r[1] for r in rows] == paths, rows
    for _, src, s0, s1 in rows:
        assert s0 == 0.0 and abs(s1 - durs[src]) < 1e-6, (src, s0, s1, durs[src])

    # the checkpoint as its model.safetensors, and another thread count and batch: the same bytes
    emb2 = os.path.join(tmp, "whole2.npy")
    run(cli, "encode", "--model", os.path.join(ck, "model.safetensors"), "--input", vids, "--out", emb2,
        "--threads", "1", "--batch", "1")
    with open(emb, "rb") as a, open(emb2, "rb") as b:
        assert a.read() == b.read(), "the rows depend on the threads, the batch or how the model is named"

    # sliding windows: whole windows only, every stride seconds, in each video's own time
    for window, stride in ((1.0, 0.5), (2.0, None)):
        wemb, wids = os.path.join(tmp, f"w{window}.npy"), os.path.join(tmp, f"w{window}.csv")
        extra = ["--stride", str(stride)] if stride else []
        r = encode(cli, "--model", ck, "--input", vids, "--out", wemb, "--ids", wids, "--window", str(window),
                   *extra, "--batch", "5")
        rows = check_outputs(wemb, wids, paths)
        step = stride or window
        for p in paths:
            mine = [(s0, s1) for _, src, s0, s1 in rows if src == p]
            n = windows(durs[p], window, step)
            assert len(mine) == n, (p, durs[p], window, step, mine)
            assert mine == [(k * step, k * step + window) for k in range(n)], (p, mine)
            assert not mine or mine[-1][1] <= durs[p] + 1e-6, (p, mine)
        # a video shorter than the window gives no rows and says so
        assert "short.mp4: 0.600 s is shorter than one window" in r.stderr, r.stderr
    expected = {"a.mp4": 7, "b.mp4": 11, "c.mkv": 5, "short.mp4": 0}  # durations 4, 6, 3 and 0.6 s
    rows = read_ids(os.path.join(tmp, "w1.0.csv"))
    assert {n: sum(1 for r in rows if r[1].endswith("/" + n)) for n in GOOD} == expected, rows
    assert read_npy(os.path.join(tmp, "w1.0.npy"))[1] == (23, DIM)

    # overlapping windows are decoded together and gathered: each is bit for bit the window
    # read alone (stride 1: no overlap)
    alone, alone_ids = os.path.join(tmp, "alone.npy"), os.path.join(tmp, "alone.csv")
    encode(cli, "--model", ck, "--input", vids, "--out", alone, "--ids", alone_ids, "--window", "1")
    together = {(src, s0): r for r, src, s0, _ in rows}
    _, _, a_data = read_npy(alone)
    _, _, t_data = read_npy(os.path.join(tmp, "w1.0.npy"))
    for r, src, s0, _ in read_ids(alone_ids):
        k = together[(src, s0)]
        assert a_data[r * DIM:(r + 1) * DIM] == t_data[k * DIM:(k + 1) * DIM], (src, s0)

    # one video file
    one = os.path.join(tmp, "one.npy")
    r = encode(cli, "--model", ck, "--input", paths[1], "--out", one, "--window", "1")
    assert read_npy(one)[1] == (6, DIM) and "6 rows" in r.stdout, r.stdout  # 6 s, a window a second
    return paths


def check_manifest(cli, tmp, vids, ck):
    """The loader's manifest: a header, labels, quoting, comments, paths relative to the
    manifest, time ranges (clipped to the video), and a range past the end, skipped."""
    man = os.path.join(tmp, "man.csv")
    with open(man, "w") as f:
        f.write("path,label,start_s,end_s\n"
                "# a comment, then a blank line\n\n"
                "vids/b.mp4,1,1.0,3.5\n"
                '"vids/a.mp4",,,\n'
                "vids/a.mp4,2,2.5,9\n"
                "vids/b.mp4,0,7,8\n")
    b, a = os.path.join(tmp, "vids", "b.mp4"), os.path.join(tmp, "vids", "a.mp4")
    emb, ids = os.path.join(tmp, "man.npy"), os.path.join(tmp, "man_ids.csv")
    r = encode(cli, "--model", ck, "--input", man, "--out", emb, "--ids", ids)
    assert f"skipping {b}: the manifest's range [7, 8) s starts after the video ends" in r.stderr, r.stderr
    rows = read_ids(ids)
    assert [(s, s0, s1) for _, s, s0, s1 in rows] == [(b, 1.0, 3.5), (a, 0.0, 4.0), (a, 2.5, 4.0)], rows
    assert read_npy(emb)[1] == (3, DIM)

    r = encode(cli, "--model", ck, "--input", man, "--out", emb, "--ids", ids, "--window", "1")
    rows = read_ids(ids)
    assert [(s, s0, s1) for _, s, s0, s1 in rows] == [
        (b, 1.0, 2.0), (b, 2.0, 3.0),
        (a, 0.0, 1.0), (a, 1.0, 2.0), (a, 2.0, 3.0), (a, 3.0, 4.0),
        (a, 2.5, 3.5)], rows

    # a malformed row is named with its line
    bad = os.path.join(tmp, "bad.csv")
    with open(bad, "w") as f:
        f.write("vids/a.mp4\nvids/b.mp4,3,2\n")
    r = encode(cli, "--model", ck, "--input", bad, "--out", emb, code=1)
    assert f"{bad}, line 2" in r.stderr and "time range" in r.stderr, r.stderr


def check_bad(cli, tmp, vids, ck):
    out = os.path.join(tmp, "bad.npy")
    base = ["--input", vids, "--out", out]
    for args, words in [
        (base, "--model is required"),
        (["--model", ck, "--out", out], "--input is required"),
        (["--model", ck, "--input", vids], "--out is required"),
        (["--model", ck, *base, "--stride", "1"], "--stride goes with --window"),
        (["--model", ck, *base, "--window", "0"], "--window needs a number"),
        (["--model", ck, *base, "--batch", "0"], "--batch needs an integer"),
        (["--model", ck, *base, "--frobnicate"], "unknown option"),
        (["--model", ck, *base, "--ids", out], "name the same file"),
    ]:
        r = run(cli, "encode", *args, code=2)
        assert words in r.stderr, (args, r.stderr)

    missing = os.path.join(tmp, "nowhere")
    empty_dir = os.path.join(tmp, "empty_dir")
    os.mkdir(empty_dir)
    for args, words in [
        (["--model", missing, *base], missing),                       # no such checkpoint
        (["--model", empty_dir, *base], "without model.safetensors"),  # a directory that is not one
        (["--model", os.path.join(vids, "notes.txt"), *base], "notes.txt"),  # not a weights file
        (["--model", ck, "--input", missing, "--out", out], missing),  # no such input
        (["--model", ck, *base, "--ids", os.path.join(missing, "ids.csv")], "cannot write in"),  # refused up front
        (["--model", ck, "--input", vids, "--out", os.path.join(missing, "e.npy")], "cannot write in"),
    ]:
        r = run(cli, "encode", *args, code=1)
        assert words in r.stderr, (args, r.stderr)
        assert not os.path.exists(out), "a failed run wrote its output"

    # nothing decodable: every file is skipped, and the exit code says so
    junk = os.path.join(tmp, "junk")
    os.mkdir(junk)
    for name in ("x.mp4", "y.mkv"):
        with open(os.path.join(junk, name), "wb") as f:
            f.write(os.urandom(2048))
    r = run(cli, "encode", "--model", ck, "--input", junk, "--out", out, code=1)
    assert "nothing could be encoded" in r.stderr, r.stderr
    assert all(f"skipping {os.path.join(junk, n)}" in r.stderr for n in ("x.mp4", "y.mkv")), r.stderr
    assert not os.path.exists(out)
    # windows longer than every video: nothing either
    r = run(cli, "encode", "--model", ck, "--input", vids, "--out", out, "--window", "60", code=1)
    assert "nothing could be encoded" in r.stderr and "shorter than one window" in r.stderr, r.stderr


def main():
    cli = sys.argv[1]
    need_ffmpeg()
    tmp = scratch_dir("cli_encode_")
    vids = make_videos(tmp)
    ck = make_checkpoint(cli, tmp)
    r = run(cli, "encode", "--help")
    assert "--window" in r.stdout and "--ids" in r.stdout, r.stdout
    check_folder(cli, tmp, vids, ck)
    check_manifest(cli, tmp, vids, ck)
    check_bad(cli, tmp, vids, ck)
    print("cli_encode: ok")


if __name__ == "__main__":
    main()
