"""A scratch directory for the CLI checks, under the build tree's tests/tmp (VN_TEST_TMPDIR,
which a fresh build has not created yet) or the system's temp directory."""
import os
import tempfile


def scratch_dir(prefix):
    base = os.environ.get("VN_TEST_TMPDIR")
    if base:
        os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix=prefix, dir=base)
