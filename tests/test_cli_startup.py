"""`scaling --help` must start fast: it may not import the heavy libraries."""

import subprocess
import sys

HEAVY = ("jax", "matplotlib", "lmfit", "pandas", "scipy")

PROBE = """
import sys
from scaling.cli import main
try:
    main(["--help"])
except SystemExit:
    pass
for sub in ("inspect",):
    try:
        main([sub, "--help"])
    except SystemExit:
        pass
print("HEAVY:" + " ".join(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def test_help_does_not_import_heavy_libraries():
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY)], capture_output=True, text=True, check=True
    )
    heavy = out.stdout.rsplit("HEAVY:", 1)[1].strip()
    assert heavy == "", f"imported by --help: {heavy}"
    assert "usage: scaling" in out.stdout


def test_help_lists_inspect():
    out = subprocess.run([sys.executable, "-m", "scaling.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "inspect" in out.stdout
