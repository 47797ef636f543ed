"""Gadre et al. (2024) over-training check on their public data (skips when ../shared is absent).

RedPajama, C4 val loss, the paper's 5-run fit set; predict open_lm_1b at
M = 640 and open_lm_7b at M = 20 (published relative errors 0.7103 %,
0.7320 %) and the 17-task error of open_lm_1b at M = 640 from the predicted
loss (3.6365 %). See benchmarks/gadre_replication.py.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "external" / "gadre-overtraining" / "gadre_models_flat.csv"


@pytest.fixture(scope="module")
def table():
    if not DATA.is_file():
        pytest.skip(f"{DATA} not found")
    spec = importlib.util.spec_from_file_location("gadre_bench", ROOT / "benchmarks" / "gadre_replication.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench.replicate(DATA)


def _rel(table, objective, quantity):
    t = table[(table["objective"] == objective) & (table["quantity"] == quantity)]
    return float(t["rel_err_pct"].iloc[0])


@pytest.mark.slow
def test_papers_least_squares_recipe_reproduces_the_published_digits(table):
    assert round(_rel(table, "paper", "loss open_lm_1b M=640"), 4) == 0.7103
    assert round(_rel(table, "paper", "loss open_lm_7b M=20"), 4) == 0.7320
    assert round(_rel(table, "paper", "err17 open_lm_1b M=640"), 4) == 3.6365


@pytest.mark.slow
def test_papers_recipe_gives_the_published_parameters(table):
    text = table.attrs["params"]["paper"]
    for expected in ("a=166.21", "b=-0.27285", "c=366.68", "E=1.8366"):
        assert expected in text, text


@pytest.mark.slow
def test_our_default_objective_also_extrapolates_within_one_percent(table):
    # Huber on log loss (our default) gives a different 1-dof optimum; measured 0.396 % / 0.420 % / 1.35 %
    ours = table[table["objective"] == "ours"]
    assert np.all(ours["rel_err_pct"].iloc[:2] < 1.0)
    assert _rel(table, "ours", "err17 open_lm_1b M=640") < 3.6365
