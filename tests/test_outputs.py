"""Output paths are checked before the work, and written atomically with the umask's mode."""

import os
import stat

import pytest

from scaling import outputs
from scaling.errors import DataError
from scaling.outputs import check_output_path, write_atomic


def test_a_plain_new_file_in_an_existing_folder_is_fine(tmp_path):
    assert check_output_path(tmp_path / "fit.json") == tmp_path / "fit.json"


def test_a_missing_folder_is_named_with_the_fix(tmp_path):
    with pytest.raises(DataError, match=r"folder .*nope does not exist; create it first \(mkdir -p"):
        check_output_path(tmp_path / "nope" / "fit.json")


def test_a_path_under_a_file_is_refused(tmp_path):
    (tmp_path / "data.csv").write_text("x")
    with pytest.raises(DataError, match=r"data\.csv is a file, not a folder"):
        check_output_path(tmp_path / "data.csv" / "sub" / "fit.json")


def test_a_folder_as_the_output_is_refused(tmp_path):
    with pytest.raises(DataError, match="is a folder; give a file name inside it"):
        check_output_path(tmp_path)


def test_an_input_file_as_the_output_is_refused_by_identity(tmp_path):
    data = tmp_path / "runs.csv"
    data.write_text("step,loss\n0,3\n")
    (tmp_path / "link.csv").symlink_to(data)
    for out in (data, tmp_path / "link.csv", tmp_path / "." / "runs.csv"):
        with pytest.raises(DataError, match="is also an input file"):
            check_output_path(out, [data], flag="--out")
    assert data.read_text() == "step,loss\n0,3\n"


def test_a_read_only_folder_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    real = os.access
    # chmod does not stop root, so the permission answer is patched for this folder
    monkeypatch.setattr(outputs.os, "access", lambda p, mode: False if os.fspath(p) == os.fspath(folder) else real(p, mode))
    with pytest.raises(DataError, match="is not writable"):
        check_output_path(folder / "fit.json")


def test_write_atomic_writes_and_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "a.json", "{}\n")
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").read_text() == "{}\n"
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_write_atomic_keeps_an_existing_files_mode(tmp_path):
    p = tmp_path / "a.json"
    p.write_text("old")
    p.chmod(0o640)
    write_atomic(p, b"new")
    assert p.read_bytes() == b"new" and stat.S_IMODE(p.stat().st_mode) == 0o640


@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError])
def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, error):
    p = tmp_path / "pred.csv"
    p.write_text("old")

    def broken_write(fd, data):
        raise error()

    monkeypatch.setattr(outputs.os, "write", broken_write)
    with pytest.raises(error):
        write_atomic(p, "new" * 1000)
    assert p.read_text() == "old"
    assert [q.name for q in tmp_path.iterdir()] == ["pred.csv"]


def test_sigterm_during_a_write_leaves_no_temporary_file(tmp_path):
    """A ``kill`` in the middle of an atomic write from the CLI: exit 143, no .tmp, no half file."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "pred.csv"
    script = f"""
import os, signal, sys
import scaling.outputs as outputs
from scaling import cli

real_write = os.write
calls = []
def slow_write(fd, data):
    calls.append(1)
    if len(calls) == 2:  # the kill arrives halfway through the file
        os.kill(os.getpid(), signal.SIGTERM)
    return real_write(fd, bytes(data)[:1 << 16])
outputs.os.write = slow_write

def work(args):
    outputs.write_atomic({str(out)!r}, "x" * (1 << 20))
    return 0

import scaling.cli.laws as laws_command
laws_command.run = work  # any subcommand: this one now writes a large file
sys.exit(cli.main(["laws"]))
"""
    proc = subprocess.run([sys.executable, "-c", script], env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin",
                                                               "SCALING_NO_COMPILE_CACHE": "1"},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 143, proc.stderr
    assert "scaling: terminated" in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []  # neither the output nor a temporary file
