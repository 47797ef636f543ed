"""The planning notebook runs top to bottom on the bundled data (nbclient)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "planning.ipynb"
NEEDS = (ROOT / "data" / "curves" / "cosine.csv", ROOT / "data" / "curves" / "constant.csv",
         ROOT / "data" / "grid" / "points.csv")


@pytest.mark.slow
def test_planning_notebook_executes_top_to_bottom(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    missing = [str(p.relative_to(ROOT)) for p in NEEDS if not p.exists()]
    if missing:
        pytest.skip(f"bundled data missing: {', '.join(missing)} (run 'python data/make_runs.py --all')")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT / "notebooks")}})
    client.execute()  # raises CellExecutionError with the failing cell's traceback
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 3, "the notebook's figures did not render"


def test_notebook_uses_only_public_names():
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "scaling._" not in source and "from scaling._" not in source
