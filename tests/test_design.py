"""The design rules of issue 10: laws are values, one band path, no import circles, small files."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "scaling"


# --------------------------------------------------------------------------- laws are values


@pytest.mark.parametrize("name", ["power-law", "chinchilla", "lr-annealing", "multi-power", "lr-annealing-n",
                                  "overtraining", "downstream", "kaplan-nd", "kaplan-batch", "encoder-decoder",
                                  "lr-sensitivity"])
def test_get_law_returns_the_same_object_for_the_same_name(name):
    from scaling.laws import get_law

    assert get_law(name) is get_law(name)


def test_equivalent_option_spellings_share_one_law_and_different_options_do_not():
    from scaling.laws import get_law

    assert get_law("lr-annealing", lam="0.999") is get_law("lr-annealing", lam=0.999) is get_law("lr-annealing")
    assert get_law("lr-annealing", lam="fit") is not get_law("lr-annealing")
    assert get_law("power-law", x="D") is not get_law("power-law", x="N")


def test_a_loaded_fit_rebuilds_the_law_value_it_was_fitted_with(tmp_path):
    from scaling.fitting import FitResult

    from scaling.laws import get_law

    law = get_law("lr-annealing")
    fit = _tiny_curve_fit()
    fit.save(tmp_path / "f.json")
    assert FitResult.load(tmp_path / "f.json").law_object() is law


def test_law_call_returns_float64():
    from scaling.laws import get_law

    lr = np.r_[np.linspace(0, 3e-4, 100), np.full(901, 3e-4)]
    y = get_law("lr-annealing")(np.array([3.0, 0.5, 0.5, 0.5]), {"lr": lr, "step": np.array([500, 1000])})
    assert isinstance(y, np.ndarray) and y.dtype == np.float64
    y2 = get_law("chinchilla")(np.array([6.0, 6.0, 0.5, 0.34, 0.28]), {"N": np.array([1e9]), "D": np.array([2e10])})
    assert y2.dtype == np.float64


# --------------------------------------------------------------------------- one band path


@functools.lru_cache(maxsize=1)  # FitResult is immutable: the tests share one fit
def _tiny_curve_fit():
    from scaling import schedules as sch
    from scaling.fitting import Dataset, Group, fit
    from scaling.laws import get_law

    law = get_law("lr-annealing")
    theta = np.array([2.8, 0.45, 0.5, 0.35])
    rng = np.random.default_rng(3)
    groups = []
    for name, spec in (("constant", "constant:peak=3e-3,warmup=50,total=2000"),
                       ("cosine", "cosine:peak=3e-3,final=3e-4,warmup=50,total=2000")):
        s, total = sch.parse_schedule(spec)
        lr = sch.schedule_array(s, total)
        steps = np.arange(100, 2001, 50)
        y = law(theta, {"lr": lr, "step": steps}) * np.exp(0.003 * rng.standard_normal(steps.size))
        groups.append(Group(name, {"lr": lr, "step": steps}, y))
    return fit(law, Dataset(groups, info={"kind": "curves", "runs": ["constant", "cosine"]}), bootstrap=12, seed=0)


def test_predict_the_report_and_schedule_planning_show_the_same_band():
    from scaling import plan
    from scaling.prediction import predict
    from scaling.schedules import parse_schedule, schedule_array

    fit = _tiny_curve_fit()
    spec = "wsd:peak=3e-3,final=3e-5,warmup=50,total=2000,decay=0.2,shape=1-sqrt"
    lr = schedule_array(*parse_schedule(spec))
    curves = plan.schedule_curves(fit, {"wsd": spec}, steps=2000, n_points=50)
    steps = curves["step"].to_numpy()
    pred = predict(fit, lr, steps=steps)
    for col in ("loss", "loss_lo", "loss_hi"):
        np.testing.assert_allclose(curves[col].to_numpy(), pred[col].to_numpy(), rtol=1e-12)
    assert np.all(pred["loss_hi"] > pred["loss_lo"])

    # the schedule ranking's predictive band at the last step is predict's band there
    ranked = plan.compare_schedules(fit, {"wsd": spec}, steps=2000).iloc[0]
    at_end = predict(fit, lr, steps=np.array([2000]))
    np.testing.assert_allclose([ranked["final_loss"], ranked["final_loss_pred_lo"], ranked["final_loss_pred_hi"]],
                               at_end[["loss", "loss_lo", "loss_hi"]].to_numpy()[0], rtol=1e-12)
    assert ranked["final_loss_pred_lo"] <= ranked["final_loss_lo"] <= ranked["final_loss_hi"] <= ranked["final_loss_pred_hi"]

    from scaling.fitting import Dataset, Group
    from scaling.report import frames

    ds = Dataset([Group("wsd", {"lr": lr, "step": steps}, pred["loss"].to_numpy())], info={"kind": "curves"})
    shown = frames.curves_fit(fit, ds)
    np.testing.assert_allclose(shown["loss_lo"].to_numpy(), pred["loss_lo"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(shown["loss_hi"].to_numpy(), pred["loss_hi"].to_numpy(), rtol=1e-12)


def test_bands_are_made_only_in_evaluate():
    """No module but scaling/evaluate.py takes quantiles of law values or widens by the residual scatter."""
    offenders = []
    for path in PKG.rglob("*.py"):
        if path.name == "evaluate.py":
            continue
        text = path.read_text()
        if re.search(r"np\.(nan)?quantile\(", text) and path.parts[-2] not in ("fitting",):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders


# --------------------------------------------------------------------------- structure


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return {m for m in out if m.startswith("scaling")}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def test_no_import_cycles_between_modules():
    """Module-level imports (not those deferred inside functions) form no cycle."""
    graph = {}
    for path in PKG.rglob("*.py"):
        tree = ast.parse(path.read_text())
        top = set()
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("scaling"):
                # "from scaling.fitting import bootstrap" imports the submodule, not the package
                subs = [f"{node.module}.{a.name}" for a in node.names]
                found = [m for m in subs if (ROOT / (m.replace(".", "/") + ".py")).exists()]
                top |= set(found) if len(found) == len(subs) else {node.module}
            elif isinstance(node, ast.Import):
                top |= {a.name for a in node.names if a.name.startswith("scaling")}
        graph[_module_name(path)] = top
    mods = set(graph)

    def resolve(m):
        while m and m not in mods:
            m = m.rpartition(".")[0]
        return m

    edges = {m: {resolve(t) for t in ts if resolve(t) and resolve(t) != m} for m, ts in graph.items()}
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in edges.get(m, ()):
            if state.get(t) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(t):] + [t]))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)


def test_the_report_package_has_no_document_renderer_circle():
    doc = _imports(PKG / "report" / "document.py")
    assert not any(m.startswith("scaling.report.html") or m.startswith("scaling.report.markdown") for m in doc)


def test_no_file_in_the_package_is_over_about_500_lines():
    long = {str(p.relative_to(ROOT)): n for p in PKG.rglob("*.py") if (n := len(p.read_text().splitlines())) > 520}
    assert not long, long


def test_cli_modules_hold_no_fitting_or_loading_logic():
    """A subcommand module parses, calls the API and prints: it never calls jax or pandas readers itself."""
    for path in (PKG / "cli").glob("*.py"):
        text = path.read_text()
        for banned in ("import jax", "jnp.", "read_csv(", "jax.jit", "dataset_from_"):
            assert banned not in text or (banned == "dataset_from_" and path.name == "fit.py"), (path.name, banned)


def test_public_names_and_subpackages_do_not_collide():
    import importlib
    import pkgutil

    import scaling

    subs = {m.name for m in pkgutil.iter_modules(scaling.__path__)}
    assert not (set(scaling._EXPORTS) & subs), set(scaling._EXPORTS) & subs
    importlib.import_module("scaling.fitting")
    assert callable(scaling.fit)


@pytest.mark.slow
def test_readme_python_examples_run(tmp_path, monkeypatch):
    """Every ```python block of the README runs as written (from the repository root)."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "the README has Python examples"
    monkeypatch.chdir(ROOT)
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
