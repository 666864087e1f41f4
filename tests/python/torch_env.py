"""Finding a Python with torch for the parity tests.

Debian's python3-torch lives in /usr/bin/python3, which need not be the python3 that
meson found (a pyenv one, say). When this interpreter lacks torch or numpy, re-run the
calling script under $VN_TORCH_PYTHON (default /usr/bin/python3) if that one has them;
otherwise report SKIP (exit 77) with the reason, as tests of an optional part must.
"""
import os
import subprocess
import sys

SKIP = 77


def ensure_torch():
    try:
        import torch  # noqa: F401
        import numpy  # noqa: F401
        return
    except ImportError:
        pass
    candidate = os.environ.get("VN_TORCH_PYTHON", "/usr/bin/python3")
    if os.environ.get("VN_PARITY_REEXEC") != "1" and os.path.exists(candidate) \
            and os.path.realpath(candidate) != os.path.realpath(sys.executable):
        ok = subprocess.run([candidate, "-c", "import torch, numpy"], capture_output=True).returncode == 0
        if ok:
            env = dict(os.environ, VN_PARITY_REEXEC="1")
            os.execve(candidate, [candidate] + sys.argv, env)
    print("SKIP: torch not installed")
    sys.exit(SKIP)
