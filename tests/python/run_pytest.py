"""Run the Python binding tests under pytest, from meson (the python_bindings test).

    run_pytest.py LAYOUT_EXE TEST_FILE...

The tests need numpy and pytest. When this interpreter lacks them, re-run under
$VN_PYTHON (default /usr/bin/python3, Debian's python3-numpy and python3-pytest) if that
one has them; when no interpreter has them, report SKIP (exit 77) with the reason.
LAYOUT_EXE (tests/python/struct_layout, built by meson) goes to the tests as
$VN_LAYOUT_EXE for the struct layout checks.
"""
import os
import subprocess
import sys

SKIP = 77


def has_deps(python):
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        try:
            import numpy  # noqa: F401
            import pytest  # noqa: F401
            return True
        except ImportError:
            return False
    return subprocess.run([python, "-c", "import numpy, pytest"], capture_output=True).returncode == 0


def main():
    if len(sys.argv) < 3:
        print("usage: run_pytest.py LAYOUT_EXE TEST_FILE...", file=sys.stderr)
        return 2
    layout, tests = sys.argv[1], sys.argv[2:]
    candidates = [sys.executable, os.environ.get("VN_PYTHON", "/usr/bin/python3")]
    python = next((p for p in candidates if p and os.path.exists(p) and has_deps(p)), None)
    if python is None:
        print("SKIP: no Python with numpy and pytest (tried " + ", ".join(filter(None, candidates)) + ")")
        return SKIP
    env = dict(os.environ, VN_LAYOUT_EXE=layout, PYTHONDONTWRITEBYTECODE="1")
    here = os.path.dirname(os.path.abspath(__file__))
    cmd = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", here] + tests
    print(" ".join(cmd), flush=True)
    return subprocess.run(cmd, env=env, cwd=here).returncode


if __name__ == "__main__":
    sys.exit(main())
