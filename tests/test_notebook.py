"""The planning notebook ships executed, uses only the public API, and re-executes to its saved numbers.

Cells tagged ``key-numbers`` print ``name = value`` lines (10 significant
digits). The saved notebook's lines are the reference: re-executing it (nbclient,
as CI does) must print the same names with the same values to a relative 1e-6,
so a change anywhere on the path (data, fitting, bootstrap, planning) that moves
a published number fails here and the notebook is re-saved on purpose.
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "planning.ipynb"
TAG = "key-numbers"
KEY_LINE = re.compile(r"^([A-Za-z_][\w.\-]*) = (\S+)$")
RTOL = 1e-6
MAX_BYTES = 1_500_000
# what a notebook user may import: the package's public face (DESIGN.md), never a private module
PUBLIC_MODULES = {"scaling", "scaling.plan", "scaling.datasets", "scaling.datasets.luo2025", "scaling.fitting",
                  "scaling.prediction", "scaling.evaluate", "scaling.report"}
PUBLIC_REPORT = {"figures", "frames"}
PUBLIC_SUBPACKAGES = {m.split(".")[1] for m in PUBLIC_MODULES if m.count(".") == 1}


def _read(path=NOTEBOOK):
    nbformat = pytest.importorskip("nbformat")
    return nbformat.read(path, as_version=4)


def key_numbers(nb) -> dict[str, float]:
    """``name -> value`` from the stdout of the cells tagged ``key-numbers``."""
    out: dict[str, float] = {}
    for cell in nb.cells:
        if cell.cell_type != "code" or TAG not in cell.metadata.get("tags", []):
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream" and o.get("name") == "stdout":
                for line in o.get("text", "").splitlines():
                    m = KEY_LINE.match(line.strip())
                    if m:
                        assert m.group(1) not in out, f"key number {m.group(1)!r} printed twice"
                        out[m.group(1)] = float(m.group(2))
    return out


def differences(saved: dict[str, float], now: dict[str, float], *, rtol: float = RTOL) -> list[str]:
    """One line per key number that is missing on either side or moved by more than ``rtol``."""
    problems = [f"{k}: in the saved notebook, not printed now" for k in saved if k not in now]
    problems += [f"{k}: printed now, not in the saved notebook" for k in now if k not in saved]
    for k in sorted(saved.keys() & now.keys()):
        a, b = saved[k], now[k]
        if math.isnan(a) and math.isnan(b):
            continue
        if not math.isclose(a, b, rel_tol=rtol, abs_tol=1e-300):
            problems.append(f"{k}: saved {a:.10g}, now {b:.10g} (relative change {abs(b - a) / abs(a):.2g})")
    return problems


def _outputs(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _images(nb) -> int:
    return sum("image/png" in o.get("data", {}) for o in _outputs(nb))


# --------------------------------------------------------------------------- the saved notebook


def test_saved_notebook_is_executed_top_to_bottom_without_errors():
    nb = _read()
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.get("execution_count") for c in code]
    assert all(isinstance(n, int) for n in counts), "a code cell has no saved execution (re-save the executed notebook)"
    assert counts == sorted(counts) and len(set(counts)) == len(counts), "cells were not run top to bottom once"
    silent = [c.source.splitlines()[0] for c in code[1:] if not c.get("outputs")]
    assert not silent, f"code cells saved without output (only the set-up cell may be silent): {silent}"
    assert not [o for o in _outputs(nb) if o.get("output_type") == "error"]
    figures = [c for c in code if c.source.rstrip().endswith("\nfig")]
    assert len(figures) >= 7
    for c in figures:
        assert any("image/png" in o.get("data", {}) for o in c.outputs), f"no figure saved for {c.source[:60]!r}"


def test_saved_notebook_stays_small():
    assert NOTEBOOK.stat().st_size < MAX_BYTES, f"{NOTEBOOK.name} is {NOTEBOOK.stat().st_size:,} bytes"


def test_every_result_section_is_interpreted_in_markdown():
    nb = _read()
    readings = [c for c in nb.cells if c.cell_type == "markdown" and "**Reading" in c.source]
    assert len(readings) >= 8


def test_notebook_uses_only_public_names():
    import scaling

    nb = _read()
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert not re.search(r"\bscaling(\.\w+)*\._", source), "reaches into a private module or name"
    python = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%"))
    for node in ast.walk(ast.parse(python)):
        if isinstance(node, ast.ImportFrom) and node.module.startswith("scaling"):
            assert node.module in PUBLIC_MODULES, f"imports from {node.module}"
            if node.module == "scaling.report":
                assert {a.name for a in node.names} <= PUBLIC_REPORT, [a.name for a in node.names]
            if node.module == "scaling":
                assert {a.name for a in node.names} <= set(scaling.__all__) | PUBLIC_SUBPACKAGES
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert not alias.name.startswith("scaling") or alias.name in PUBLIC_MODULES, alias.name
    used = set(re.findall(r"\bscaling\.(\w+)", python))
    assert used <= set(scaling.__all__) | PUBLIC_SUBPACKAGES, used


def test_notebook_reads_the_shipped_datasets_not_repository_files():
    source = "\n".join(c.source for c in _read().cells if c.cell_type == "code")
    assert 'load_dataset("luo2025-25M")' in source and 'load_dataset("gadre2024-rpj")' in source
    assert "data/" not in source and "Path(" not in source


def test_saved_key_numbers_support_what_the_text_says():
    k = key_numbers(_read())
    assert len(k) >= 60
    # held-out schedules predicted to within 0.5 % mean error; the in-horizon WSD band holds most points
    assert all(v <= 0.5 for n, v in k.items() if n.startswith("held_out.") and n.endswith("PredE_pct"))
    assert k["wsd.coverage"] >= 0.8
    # the ranking separates its top two (paired interval excludes 0); constant is far behind
    assert k["rank.second.delta_lo"] > 0 and k["rank.best.p_best"] >= 0.9
    assert k["rank.constant.delta"] > 0.05
    # the law ranks the two real 72k-step runs in the observed order
    assert k["long.cosine_72000.final_loss"] < k["long.constant_72000.final_loss"]
    assert k["long.constant_gap_pred"] == pytest.approx(k["long.constant_gap_obs"], rel=0.5)
    # budgets inside the fitted range, the largest at the fitted maximum
    assert k["optimal.0.flops"] < k["optimal.1.flops"] < k["optimal.2.flops"]
    for i in range(3):
        assert k[f"optimal.{i}.N_lo"] <= k[f"optimal.{i}.N"] <= k[f"optimal.{i}.N_hi"]
        assert k[f"optimal.{i}.loss_lo"] <= k[f"optimal.{i}.loss"] <= k[f"optimal.{i}.loss_hi"]
    # the cheapest model for the largest budget's loss is that budget's compute-optimal plan
    assert k["target_loss"] == k["optimal.2.loss"]
    assert k["train_only.N"] == pytest.approx(k["optimal.2.N"], rel=1e-3)
    assert k["train_only.total_flops"] == pytest.approx(k["optimal.2.flops"], rel=1e-4)
    # a fixed smaller N needs more tokens and more compute for the same loss
    assert k["fixed.train_flops"] > k["train_only.total_flops"]
    # inference pushes to a smaller N trained longer, and that is cheaper than serving the big one
    assert k["served.N"] < k["train_only.N"] / 2 and k["served.D"] > 2 * k["train_only.D"]
    assert k["served.N_lo"] <= k["served.N"] <= k["served.N_hi"]
    assert k["served.saving"] > 1.0
    sweep_N = [k[f"sweep.{i}.N"] for i in range(5)]
    sweep_D = [k[f"sweep.{i}.D"] for i in range(5)]
    assert sweep_N == sorted(sweep_N, reverse=True) and sweep_D == sorted(sweep_D)
    assert sweep_N[0] == pytest.approx(k["train_only.N"], rel=1e-9)


def test_comparison_fails_when_a_number_moves():
    saved = key_numbers(_read())
    assert saved and differences(saved, dict(saved)) == []
    name = "served.N"
    moved = {**saved, name: saved[name] * (1 + 1e-5)}
    assert [p for p in differences(saved, moved) if p.startswith(name)]
    assert differences(saved, {k: v for k, v in saved.items() if k != name}) == [
        f"{name}: in the saved notebook, not printed now"]


# --------------------------------------------------------------------------- re-executed, as CI does


@pytest.mark.slow
def test_planning_notebook_reexecutes_to_its_saved_numbers():
    nbclient = pytest.importorskip("nbclient")
    saved = _read()
    nb = _read()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    client = nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT / "notebooks")}})
    client.execute()  # raises CellExecutionError with the failing cell's traceback
    assert not [o for o in _outputs(nb) if o.get("output_type") == "error"]
    assert _images(nb) == _images(saved), "a figure did not render"
    problems = differences(key_numbers(saved), key_numbers(nb))
    assert not problems, "key numbers moved; re-save the notebook if on purpose:\n" + "\n".join(problems)
