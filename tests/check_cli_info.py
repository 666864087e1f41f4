"""`vnative info --json`: one JSON object naming the cpu backend with its oneDNN version,
cuda as compiled or not (as the build says) and, without a GPU, unavailable with a reason."""
import json
import subprocess
import sys


def main(cli, cuda_compiled):
    out = subprocess.run([cli, "info", "--json"], check=True, capture_output=True, text=True).stdout
    info = json.loads(out)
    backends = {b["name"]: b for b in info["backends"]}
    cpu = backends["cpu"]
    assert cpu["compiled"] and cpu["available"], cpu
    assert cpu["library"].startswith("oneDNN "), cpu["library"]
    assert info["libraries"]["oneDNN"] in cpu["library"]
    for lib in ("libavformat", "libavcodec", "libavutil", "libswscale"):
        assert info["libraries"][lib].count(".") == 2, info["libraries"]
    assert info["threads"] >= 1
    assert len(cpu["devices"]) == 1
    cuda = backends["cuda"]
    assert cuda["compiled"] == cuda_compiled, cuda
    if not cuda["available"]:
        assert cuda["reason"], cuda
        assert cuda["devices"] == []
        assert info["default_backend"] == "cpu"
    if cuda_compiled:
        assert "CUDA runtime" in cuda["library"] and "cuBLAS" in cuda["library"], cuda
    text = subprocess.run([cli, "info"], check=True, capture_output=True, text=True).stdout
    assert "oneDNN" in text and "cuda" in text
    bad = subprocess.run([cli, "info", "--bogus"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--bogus" in bad.stderr
    print(f"cli info ok: cpu {cpu['library']}, cuda compiled={cuda['compiled']} available={cuda['available']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] == "true"))
