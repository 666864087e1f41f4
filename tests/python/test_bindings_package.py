"""The package as pip installs it: `pip install ./bindings/python` into a scratch target,
then imported from there alone, finding the library through VNATIVE_LIBRARY or the
loader's search path (libvnative.so.0)."""
import os
import shutil
import subprocess
import sys

import pytest

import vnative

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python")
PROBE = "import vnative, os; print(os.path.dirname(vnative.__file__)); print(vnative.library_path()); " \
        "print(vnative.version())"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    have = subprocess.run([sys.executable, "-c", "import setuptools, pip"], capture_output=True).returncode == 0
    if not have:
        pytest.skip("pip or setuptools is missing for this Python")
    tmp = tmp_path_factory.mktemp("pip")
    src = tmp / "src"
    shutil.copytree(SOURCE, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = tmp / "site"
    # Offline: no build isolation (setuptools from this Python) and no dependency resolution.
    out = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation", "--no-deps",
                          "--no-index", "--target", str(target), str(src)], capture_output=True, text=True,
                         env=dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1"))
    assert out.returncode == 0, out.stdout + out.stderr
    return target


def run(target, **env_over):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VNATIVE_LIBRARY", "LD_LIBRARY_PATH")}
    env.update(PYTHONPATH=str(target), **env_over)
    return subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, cwd=str(target))


def test_installed_package_with_vnative_library(installed):
    lib = vnative.library_path()
    out = run(installed, VNATIVE_LIBRARY=lib)
    assert out.returncode == 0, out.stderr
    where, path, ver = out.stdout.split("\n")[:3]
    assert os.path.realpath(where) == os.path.realpath(installed / "vnative")
    assert path == lib and ver == vnative.version()
    assert (installed / "vnative" / "py.typed").exists()


def test_installed_package_finds_the_soname(installed):
    libdir = os.path.dirname(os.path.abspath(vnative.library_path()))
    if not os.path.exists(os.path.join(libdir, "libvnative.so.0")):
        pytest.skip("no libvnative.so.0 beside the library under test")
    out = run(installed, LD_LIBRARY_PATH=libdir)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[1] == "libvnative.so.0"


def test_a_bad_vnative_library_is_reported(installed):
    out = run(installed, VNATIVE_LIBRARY="/nonexistent/libvnative.so")
    assert out.returncode != 0
    assert "VNATIVE_LIBRARY=/nonexistent/libvnative.so" in out.stderr
