"""TensorBoard event files, written with the tensorboard package's own (TF-free) event writer."""

import sys
import time
from pathlib import Path

import pytest

from scaling.errors import DataError
from scaling.loaders import detect_format, load

pytest.importorskip("tbparse")


def write_events(folder: Path, points: dict[str, list[tuple[int, float]]]) -> Path:
    """Write scalar summaries like SummaryWriter.add_scalar would; skip when the writer is unavailable."""
    try:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError as exc:  # pragma: no cover - depends on the tensorboard build
        pytest.skip(f"cannot write TensorBoard events here: {exc}")
    folder.mkdir(parents=True, exist_ok=True)
    writer = EventFileWriter(str(folder))
    for tag, values in points.items():
        for step, value in values:
            summary = Summary(value=[Summary.Value(tag=tag, simple_value=value)])
            writer.add_event(Event(step=step, wall_time=time.time(), summary=summary))
    writer.close()
    return folder


LOG = {
    "train/loss": [(0, 5.0), (10, 4.0), (20, 3.5)],
    "train/learning_rate": [(0, 0.0), (10, 0.001), (20, 0.0005)],
    "eval/loss": [(20, 3.75)],
}


def test_tensorboard_folder_loads_train_val_and_lr(tmp_path):
    folder = write_events(tmp_path / "tb" / "my-run", LOG)
    assert detect_format(folder) == "tensorboard"
    t = load(folder)
    assert t["run"].unique().tolist() == ["my-run"]
    train = t.loc[t.split == "train"]
    assert train["step"].tolist() == [0, 10, 20]
    assert train["loss"].tolist() == pytest.approx([5.0, 4.0, 3.5])
    assert train["lr"].tolist() == pytest.approx([0.0, 0.001, 0.0005])
    assert t.loc[t.split == "val", "loss"].tolist() == pytest.approx([3.75])


def test_tensorboard_event_file_directly(tmp_path):
    folder = write_events(tmp_path / "run-x", LOG)
    (event_file,) = folder.glob("*tfevents*")
    assert detect_format(event_file) == "tensorboard"
    assert load(event_file)["run"].unique().tolist() == ["run-x"]


def test_tensorboard_parent_folder_gives_one_run_per_subfolder(tmp_path):
    write_events(tmp_path / "logs" / "a", LOG)
    write_events(tmp_path / "logs" / "b", LOG)
    t = load(tmp_path / "logs")
    assert sorted(t["run"].unique()) == ["a", "b"]


def test_missing_tbparse_gives_install_hint(tmp_path, monkeypatch):
    folder = write_events(tmp_path / "r", LOG)
    monkeypatch.setitem(sys.modules, "tbparse", None)  # import tbparse -> ImportError
    with pytest.raises(DataError, match=r"needs the optional 'tbparse' package: pip install"):
        load(folder)


def test_tensorboard_without_scalars(tmp_path):
    folder = write_events(tmp_path / "r", {})
    with pytest.raises(DataError, match="no scalar summaries"):
        load(folder)


def test_a_nan_event_is_noted_as_a_literal_nan_loss(tmp_path):
    folder = write_events(tmp_path / "tb" / "run1", {"train/loss": [(0, 5.0), (10, float("nan")), (20, 3.5)],
                                                     "eval/loss": [(20, 3.75)]})
    t = load(folder)
    assert t.loc[t.split == "train", "step"].tolist() == [0, 20]
    notes = " ".join(t.attrs["notes"])
    assert "column 'train/loss' holds a literal NaN loss in 1 row (event step 10)" in notes
    assert "eval/loss" not in notes  # eval/loss has no event at 0 and 10: not logged, not NaN
