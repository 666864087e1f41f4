"""report.html in a real browser: headless Chromium takes a screenshot of the report of
check_cli_report's fixture, which must show the page (not a blank one: many colours, the
first model's colour among them, where the bars are) with no console messages (the page
has no script, so any message means something failed to load or parse). Exits 77 (SKIP)
with the reason when /usr/bin/chromium is absent."""
import os
import signal
import struct
import subprocess
import sys
import zlib

from scratch import scratch_dir

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_cli_report import make_fixture  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FIRST_MODEL_RGB = (0x4E, 0x79, 0xA7)  # rp_color(0): the video model's bars


def decode_png(path):
    """(width, height, channels, pixels) of an 8-bit RGB or RGBA PNG, in pure Python."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    assert depth == 8 and ctype in (2, 6) and interlace == 0, ihdr
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), w * bpp
    out, prev = bytearray(h * stride), bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                line[i] = (line[i] + ((line[i - bpp] if i >= bpp else 0) + prev[i]) // 2) & 255
        elif f == 4:
            for i in range(stride):
                a, b = (line[i - bpp] if i >= bpp else 0), prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out[y * stride:(y + 1) * stride] = line
        prev = line
    return w, h, bpp, out


def screenshot(html, png, profile):
    cmd = [CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", "--disable-dev-shm-usage", "--hide-scrollbars", "--no-first-run",
           "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0", "--screenshot=" + png,
           "--window-size=1200,2400", "file://" + html]
    # Its own process group: on a timeout the renderer and GPU children go too.
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise AssertionError("chromium did not finish within 180 s")
    return p.returncode, out + err


def main():
    cli = sys.argv[1]
    if not os.path.exists(CHROMIUM):
        print(f"SKIP: {CHROMIUM} is absent (apt-get install chromium to run this test)")
        return 77
    tmp = scratch_dir("report_chromium_")
    results, frames_log, _ = make_fixture(tmp)
    out = os.path.join(tmp, "out")
    r = subprocess.run([cli, "report", "--results", results, "--out", out, "--logs", "frames=" + frames_log],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    png = os.path.join(tmp, "report.png")
    code, log = screenshot(os.path.join(out, "report.html"), png, os.path.join(tmp, "profile"))
    assert code == 0 and os.path.exists(png), f"chromium exit {code}, no screenshot\n{log[-3000:]}"
    console = [l for l in log.splitlines() if "CONSOLE" in l or "Uncaught" in l]
    assert not console, "console messages:\n" + "\n".join(console)

    w, h, bpp, px = decode_png(png)
    assert (w, h) == (1200, 2400), (w, h)
    colours, inked, first_model = set(), 0, 0
    for i in range(0, len(px), bpp * 7):  # every 7th pixel is plenty to tell a page from a blank
        rgb = (px[i], px[i + 1], px[i + 2])
        colours.add(rgb)
        inked += min(rgb) < 200
        first_model += all(abs(a - b) <= 6 for a, b in zip(rgb, FIRST_MODEL_RGB))
    sampled = len(px) // (bpp * 7)
    assert len(colours) >= 50, f"a screenshot of {len(colours)} colours: blank?"
    assert inked > 0.01 * sampled, f"only {inked} of {sampled} sampled pixels have ink"
    assert first_model > 100, f"the first model's colour is on {first_model} sampled pixels: no bars drawn?"
    print(f"report_chromium: ok ({png}: {len(colours)} colours, {100.0 * inked / sampled:.1f}% ink)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
