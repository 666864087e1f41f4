"""The README's five-line Python example, taken from README.md between its markers and run
as written, so the README and the bindings cannot drift apart."""
import os
import re
import subprocess
import sys

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")
BEGIN, END = "<!-- python-example -->", "<!-- /python-example -->"


def readme_example():
    with open(README, encoding="utf-8") as f:
        text = f.read()
    assert text.count(BEGIN) == 1 and text.count(END) == 1, "README.md needs exactly one python-example block"
    block = text[text.index(BEGIN) + len(BEGIN):text.index(END)]
    m = re.search(r"```python\n(.*?)```", block, re.S)
    assert m, "the python-example block holds a ```python fence"
    return m.group(1)


def test_the_example_is_five_lines():
    lines = [line for line in readme_example().splitlines() if line.strip()]
    assert len(lines) == 5, lines


def test_the_example_runs_and_prints_the_embedding_shape():
    env = dict(os.environ)
    env.setdefault("VN_BACKEND", "")
    out = subprocess.run([sys.executable, "-c", readme_example()], capture_output=True, text=True, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(1, 128)"
    assert "Exception ignored" not in out.stderr  # nothing went wrong tearing down at exit
