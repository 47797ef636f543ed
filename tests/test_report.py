"""Reports: figures, HTML/Markdown rendering, atomic writing, and the budget/report CLI."""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from scaling.laws import get_law  # noqa: E402

# --------------------------------------------------------------------------- fixtures


@dataclasses.dataclass(frozen=True)
class FitLike:
    """The FitResult fields that planning and reports read, filled from known parameters."""

    law: str
    law_options: dict
    param_names: tuple
    params: np.ndarray
    samples: np.ndarray | None
    stderr: np.ndarray | None
    intervals: dict
    derived: dict
    derived_samples: dict
    derived_intervals: dict
    data_info: dict
    level: float = 0.9
    objective: float = 1e-3
    n_points: int = 20
    r2: float = 0.99
    rmse: float = 0.01
    aic: float = -100.0
    n_starts: int = 8
    n_starts_at_best: int = 8
    seconds: float = 0.1

    def law_object(self):
        return get_law(self.law, **self.law_options)


def make_fit(law, theta, samples, *, data_info=None) -> FitLike:
    """A fit-like value whose derived quantities come from the law itself."""
    import jax

    from scaling._x64 import float64

    theta = np.asarray(theta, float)
    with float64():
        derived = {k: float(v) for k, v in law.derived(theta).items()}
        dsamp = {k: np.asarray(v, float) for k, v in jax.vmap(law.derived)(samples).items()}
    q = lambda a: tuple(np.quantile(a, [0.05, 0.95]))  # noqa: E731
    return FitLike(
        law=law.name, law_options=dict(law.options), param_names=law.param_names, params=theta,
        samples=samples, stderr=samples.std(axis=0),
        intervals={n: q(samples[:, i]) for i, n in enumerate(law.param_names)},
        derived=derived, derived_samples=dsamp, derived_intervals={k: q(v) for k, v in dsamp.items()},
        data_info=data_info or {},
    )


HOFF_THETA = np.array([np.log(406.4), np.log(410.7), np.log(1.69), 0.34, 0.28])


@pytest.fixture(scope="module")
def chinchilla_case():
    rng = np.random.default_rng(0)
    law = get_law("chinchilla")
    N = np.repeat([1e7, 3e7, 1e8, 3e8], 4)
    D = N * np.tile([5.0, 10.0, 20.0, 40.0], 4)
    L = 1.69 + 406.4 * N**-0.34 + 410.7 * D**-0.28
    points = pd.DataFrame({"run": [f"m{i}" for i in range(len(N))], "N": N, "D": D, "C": 6 * N * D,
                           "loss": L * np.exp(rng.normal(0, 0.003, len(N)))})
    samples = HOFF_THETA + rng.normal(0, [0.05, 0.05, 0.01, 0.005, 0.005], (40, 5))
    return make_fit(law, HOFF_THETA, samples), points


CURVE_THETA = np.array([3.0, 0.5, 0.5, 20.0])
SPECS = {
    "cosine": "cosine:peak=3e-4,final=3e-5,warmup=50,total=600",
    "constant": "constant:peak=3e-4,warmup=50,total=600",
    "wsd": "wsd:peak=3e-4,final=3e-5,warmup=50,total=600,decay=0.2",
}


@pytest.fixture(scope="module")
def curve_case():
    from scaling import schedules as sch
    from scaling._x64 import float64

    rng = np.random.default_rng(1)
    law = get_law("lr-annealing", warmup_steps=50)
    frames = []
    for name, spec in SPECS.items():
        lr = sch.schedule_array(sch.parse_schedule(spec)[0], 600)
        steps = np.arange(10, 601, 10)
        with float64():
            y = np.asarray(law.fn(CURVE_THETA, {"lr": lr, "step": steps}))
        frames.append(pd.DataFrame({"run": name, "step": steps, "loss": y * (1 + rng.normal(0, 0.002, len(y))),
                                    "lr": lr[steps]}))
    curves = pd.concat(frames, ignore_index=True)
    samples = CURVE_THETA * (1 + rng.normal(0, 0.02, (30, 4)))
    fit = make_fit(law, CURVE_THETA, samples, data_info={"runs": ["cosine", "constant"], "warmup_steps": 50})
    return fit, curves


_BUILT: dict = {}  # one report per session, shared with test_report_browser.py


@pytest.fixture(scope="module")
def written_report(tmp_path_factory, chinchilla_case, curve_case):
    from scaling.report import build_report, write_report

    if "report" not in _BUILT:
        out = tmp_path_factory.mktemp("report")
        rep = build_report([chinchilla_case[0], curve_case[0]], points=chinchilla_case[1], curves=curve_case[1],
                           budgets=[1e21, 1e22], published=True, progress=False)
        _BUILT["report"] = (rep, write_report(rep, out), out)
    return _BUILT["report"]


# --------------------------------------------------------------------------- figures


def test_figure_helpers_draw_on_the_axes_they_are_given(chinchilla_case):
    from scaling import plan
    from scaling.report import figures as F
    from scaling.report import frames

    fit, points = chinchilla_case
    for draw in (lambda ax: F.plot_points_fit(ax, frames.points_fit(fit, points), law_name=fit.law),
                 lambda ax: F.plot_points_residuals(ax, frames.points_residuals(fit, points)),
                 lambda ax: F.plot_isoflop(ax, plan.isoflop_curves(fit, [1e20, 1e21])),
                 lambda ax: F.plot_frontier(ax, frames.frontier(fit, (1e18, 1e22), published=True))):
        fig, ax = F.new_axes()
        assert draw(ax) is ax
        assert ax.has_data()


def test_figure_helpers_only_draw():
    """figures.py computes nothing: it imports neither the planner nor the evaluator."""
    import ast
    from pathlib import Path

    import scaling.report.figures as F

    tree = ast.parse(Path(F.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | \
        {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m and m.split(".")[0] == "scaling"}, imported


def test_colours_stay_distinct_past_the_palette():
    from scaling.report import figures as F

    for n in (3, 8, 9, 12, 30):
        cols = [tuple(round(c, 3) for c in __import__("matplotlib").colors.to_rgb(x)) for x in F.colors(n)]
        assert len(set(cols)) == n


def test_frontier_uses_log_axes(chinchilla_case):
    from scaling.report import figures as F
    from scaling.report import frames

    fig, ax = F.new_axes()
    F.plot_frontier(ax, frames.frontier(chinchilla_case[0], (1e18, 1e22)))
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"


def test_published_frontiers_are_drawn_when_asked(chinchilla_case):
    from scaling.report import figures as F
    from scaling.report import frames

    fig, ax = F.new_axes()
    F.plot_frontier(ax, frames.frontier(chinchilla_case[0], (1e18, 1e22), published=True))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("Hoffmann" in t for t in labels) and any("Epoch" in t for t in labels)


def test_legends_sit_outside_the_data(chinchilla_case):
    from scaling.report import figures as F
    from scaling.report import frames

    fig, ax = F.new_axes()
    F.plot_frontier(ax, frames.frontier(chinchilla_case[0], (1e18, 1e22), published=True))
    fig.canvas.draw()
    leg = ax.get_legend().get_window_extent()
    assert leg.x0 >= ax.get_window_extent().x1


def test_overtraining_draws_every_promised_optimum_marker(chinchilla_case):
    from scaling import plan
    from scaling.report import figures as F
    from scaling.report import frames

    fit = chinchilla_case[0]
    n0 = float(plan.compute_optimal(fit, [1e21]).loc[0, "N"])
    frame = frames.overtraining(fit, [n0, n0 / 4, n0 / 16])
    assert len(frame["optima"]) == 3
    fig, ax = F.new_axes()
    F.plot_overtraining(ax, frame)
    markers = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    assert len(markers) == 3 and "circle" in ax.get_title()


def test_curve_figure_marks_held_out_runs(curve_case):
    from scaling.fitting.dataset import dataset_from_curves
    from scaling.report import figures as F
    from scaling.report import frames

    fit, curves = curve_case
    ds = dataset_from_curves(fit.law_object(), curves, warmup_steps=50)
    fig, ax = F.new_axes()
    F.plot_curves_fit(ax, frames.curves_fit(fit, ds))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "wsd (held out)" in labels and "cosine (fitted)" in labels


def test_parameter_histograms_one_panel_per_quantity(chinchilla_case):
    from scaling.report import figures as F

    fig, axes = F.new_axes(1, 3)
    out = F.plot_param_intervals(axes, chinchilla_case[0], names=["E", "alpha", "beta"])
    assert [ax.get_title().split(" =")[0] for ax in out] == ["E", "alpha", "beta"]


# --------------------------------------------------------------------------- report


def test_report_writes_html_markdown_and_figures(written_report):
    rep, paths, out = written_report
    assert paths["html"] == out / "report.html" and paths["html"].stat().st_size > 10_000
    assert paths["markdown"].exists()
    stems = {p.stem for p in paths["figures"]}
    assert {"fit1-frontier", "fit1-isoflop", "fit2-curves-fit", "fit2-schedules"} <= stems
    assert all((out / "figures" / f"{s}.svg").exists() and (out / "figures" / f"{s}.png").exists() for s in stems)


def test_html_is_self_contained(written_report):
    html = written_report[1]["html"].read_text()
    srcs = re.findall(r'src="([^"]+)"', html)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "http://" not in html and "https://" not in html


def test_report_opens_with_the_answer(written_report):
    html = written_report[1]["html"].read_text()
    answer = html.index("Answer")
    assert answer < html.index("<img")
    head = html[answer:html.index("<img")]
    assert "Compute-optimal plan" in head and "Schedule plan" in head and "tokens" in head


def test_markdown_links_existing_figures(written_report):
    rep, paths, out = written_report
    md = paths["markdown"].read_text()
    links = re.findall(r"\]\((figures/[^)]+\.png)\)", md)
    assert len(links) == len(rep.figures()) and all((out / link).exists() for link in links)
    assert md.index("## Answer") < md.index("![")


def test_every_png_decodes_and_is_not_blank(written_report):
    import matplotlib.image as mpimg

    for p in written_report[1]["figures"]:
        if p.suffix == ".png":
            img = mpimg.imread(p)
            assert img.shape[0] > 100 and img.shape[1] > 100 and float(img[..., :3].std()) > 0.01


def test_write_atomic_replaces_and_leaves_no_temporary_files(tmp_path):
    from scaling.outputs import write_atomic

    target = tmp_path / "a.txt"
    target.write_text("old")
    write_atomic(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    assert target.stat().st_mode & 0o044, "written files are readable by others, like open() would make them"


def test_text_table_aligns_columns():
    from scaling.report.document import Table, text_table

    out = text_table(Table(("name", "value"), (("a", "1"), ("bbb", "22"))))
    assert out.splitlines() == ["name  value", "----  -----", "a         1", "bbb      22"]


def test_numbers_print_with_short_exponents():
    from scaling.report.document import fmt, interval

    assert fmt(1.82e9, ".3g") == "1.82e9" and fmt(3e-5, "g") == "3e-5"
    assert interval(2.0, 1.5, 2.5, ".2g") == "2 [1.5, 2.5]"
    assert interval(2.0, float("nan"), float("nan")) == "2"


# --------------------------------------------------------------------------- progress


def test_progress_is_silent_off_a_terminal():
    from scaling.progress import Progress

    buf = io.StringIO()
    with Progress(3, "x", stream=buf) as bar:
        bar.update(3)
    assert buf.getvalue() == ""


def test_progress_draws_when_enabled():
    from scaling.progress import Progress

    buf = io.StringIO()
    with Progress(2, "boot", stream=buf, enabled=True) as bar:
        bar.update(2)
    assert "boot" in buf.getvalue() and "/2" in buf.getvalue()


# --------------------------------------------------------------------------- CLI


def _saved_fit(tmp_path, fit_like):
    """Save the stand-in through the real FitResult (the CLI reads FitResult JSON)."""
    result = pytest.importorskip("scaling.fitting.result")
    names = [f.name for f in dataclasses.fields(result.FitResult)]
    neutral = {"covar": None, "residuals": np.zeros(fit_like.n_points), "bic": fit_like.aic, "success": True,
               "message": "test", "nfev": 1, "version": "test", "seed": 0, "diagnostics": (), "calibration": {}}
    values = {k: getattr(fit_like, k) if hasattr(fit_like, k) else neutral[k] for k in names}
    path = tmp_path / "fit.json"
    result.FitResult(**values).save(path)
    return path


def test_cli_budget_prints_the_allocation(tmp_path, chinchilla_case, capsys):
    from scaling.cli import main

    path = _saved_fit(tmp_path, chinchilla_case[0])
    assert main(["budget", str(path), "--flops", "5.76e23", "--flops-range", "1e19:1e21:3"]) == 0
    out = capsys.readouterr().out
    assert "5.76e23" in out and "N (params)" in out and len(out.splitlines()) >= 6


def test_cli_budget_missing_fit_file_is_a_one_line_error(tmp_path, capsys):
    from scaling.cli import main

    assert main(["budget", str(tmp_path / "nope.json"), "--flops", "1e21"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("scaling: error:") and len(err.strip().splitlines()) == 1


def test_cli_schedule_plan_prints_a_ranking(tmp_path, curve_case, capsys):
    from scaling.cli import main

    from scaling.fitting import FitResult

    path = _saved_fit(tmp_path, curve_case[0])
    # a calibrated held-out scatter, so that the predictive band differs from the parameter band
    FitResult.save(dataclasses.replace(FitResult.load(path), calibration={"sigma_log": 1e-3, "level": 0.9}), path)
    assert main(["schedule-plan", str(path), "--steps", "600", "--peak", "3e-4", "--warmup", "50"]) == 0
    out = capsys.readouterr().out
    assert "recommended:" in out and "cosine" in out and "best WSD decay fraction" in out
    # the scan's best fraction carries the predictive band, as the ranking table does, not the narrower
    # parameter band under the same look
    from scaling import plan
    from scaling.report.document import interval

    scan = plan.best_wsd_decay(FitResult.load(path), steps=600, peak=3e-4, warmup=50, shape="1-sqrt")
    best = scan.loc[scan["rank"] == 1].iloc[0]
    line = next(ln for ln in out.splitlines() if ln.startswith("best WSD decay fraction"))
    assert interval(best["final_loss"], best["final_loss_pred_lo"], best["final_loss_pred_hi"], ".4f") in line
    assert "predictive band" in line
    assert best["final_loss_pred_hi"] - best["final_loss_pred_lo"] > best["final_loss_hi"] - best["final_loss_lo"]


def test_cli_report_prints_where_the_report_is(tmp_path, chinchilla_case, capsys):
    from scaling.cli import main

    path = _saved_fit(tmp_path, chinchilla_case[0])
    pts = tmp_path / "points.csv"
    chinchilla_case[1].to_csv(pts, index=False)
    assert main(["report", str(path), "--data", str(pts), "--budget", "1e21", "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert f"report: {tmp_path / 'r' / 'report.html'}" in out
    assert Path(tmp_path / "r" / "report.md").exists()


def test_cli_budget_target_loss_counts_inference(tmp_path, chinchilla_case, capsys):
    from scaling.cli import main

    path = _saved_fit(tmp_path, chinchilla_case[0])
    assert main(["budget", str(path), "--target-loss", "2.2", "--inference-tokens", "1e13"]) == 0
    out = capsys.readouterr().out
    assert "Cheapest way to reach loss 2.2" in out and "inference_flops" in out and "1e13 inference tokens" in out


def test_cli_schedule_plan_can_search_a_free_schedule(tmp_path, curve_case, capsys):
    from scaling.cli import main

    path = _saved_fit(tmp_path, curve_case[0])
    lr_csv = tmp_path / "free.csv"
    assert main(["schedule-plan", str(path), "--steps", "600", "--peak", "3e-4", "--warmup", "50",
                 "--optimise", "--optimised-out", str(lr_csv)]) == 0
    assert "optimised (free monotone)" in capsys.readouterr().out
    table = pd.read_csv(lr_csv)
    assert list(table.columns) == ["step", "lr"] and len(table) == 601


# --------------------------------------------------------------------------- law comparison

COMPARISON = pd.DataFrame({
    "rank": [1, 2], "law": ["multi-power", "lr-annealing"], "n_params": [7, 4], "aic": [-900.0, -820.6],
    "delta_aic": [0.0, 79.4], "bic": [-880.0, -808.0], "delta_bic": [0.0, 72.0], "eval": ["holdout", "holdout"],
    "R2": [0.9978, 0.9981], "PredE": [0.00136, 0.00140], "WorstE": [0.00326, 0.00528],
})


def test_comparison_section_names_the_best_law_and_draws_a_figure():
    from scaling.report.build import comparison_section
    from scaling.report.document import FigureItem, Table

    answer, section = comparison_section(COMPARISON.iloc[::-1])  # ranked by the 'rank' column, not row order
    assert "`multi-power` ranks first" in answer[0] and "evaluation: holdout)" in answer[0]
    one = comparison_section(COMPARISON.assign(eval="leave-one-run-out", n_eval_runs=[1, 1]))[0]
    assert "evaluation: leave-one-run-out, 1 held-out run)" in one[0]
    tables = [b for b in section.blocks if isinstance(b, Table)]
    figs = [b for b in section.blocks if isinstance(b, FigureItem)]
    assert tables[0].rows[0][1] == "multi-power"
    assert [f.name for f in figs] == ["law-comparison"] and figs[0].png[:8] == b"\x89PNG\r\n\x1a\n"


def test_comparison_table_without_error_columns_is_a_clear_error():
    from scaling.errors import ScalingError
    from scaling.report.build import comparison_section

    with pytest.raises(ScalingError, match=r"lacks columns \['PredE', 'WorstE'\].*scaling compare"):
        comparison_section(COMPARISON.drop(columns=["PredE", "WorstE"]))


def test_cli_report_adds_the_law_comparison(tmp_path, chinchilla_case, capsys):
    from scaling.cli import main

    path = _saved_fit(tmp_path, chinchilla_case[0])
    pts = tmp_path / "points.csv"
    chinchilla_case[1].to_csv(pts, index=False)
    table = tmp_path / "compare.csv"
    COMPARISON.to_csv(table, index=False)
    assert main(["report", str(path), "--data", str(pts), "--budget", "1e21", "--compare", str(table),
                 "--out", str(tmp_path / "r")]) == 0
    html = (tmp_path / "r" / "report.html").read_text()
    assert "Evidence: law comparison" in html and "multi-power" in html
    assert (tmp_path / "r" / "figures" / "law-comparison.png").exists()


def test_cli_report_missing_comparison_file_is_a_one_line_error(tmp_path, chinchilla_case, capsys):
    from scaling.cli import main

    path = _saved_fit(tmp_path, chinchilla_case[0])
    assert main(["report", str(path), "--compare", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.csv: no such file" in err and "Traceback" not in err


# --------------------------------------------------------------------------- hostile names


def test_a_dollar_sign_in_a_run_name_is_drawn_not_parsed_as_mathtext():
    from scaling.report import figures as F

    fig, ax = F.new_axes()
    ax.plot([0, 1], [0, 1], label="run $a")
    F.legend_outside(ax)
    fig.canvas.draw()  # an unbalanced $ raised a mathtext ParseException here
    assert ax.get_legend().get_texts()[0].get_text() == r"run \$a"


def test_markdown_escapes_raw_html_from_run_names():
    from scaling.report.document import Report, Section, Table
    from scaling.report.markdown import render_markdown

    rep = Report("t", ("<script>alert(1)</script>",),
                 (Section("s", (Table(("run",), (("<img src=x onerror=alert(1)>",),)),)),), "")
    md = render_markdown(rep)
    assert "<script>" not in md and "<img" not in md and "&lt;script&gt;" in md


def test_schedule_figure_has_one_legend_naming_every_schedule():
    import pandas as pd

    from scaling.report import figures as F

    frames = [pd.DataFrame({"schedule": name, "step": [1, 2, 3], "lr": [1e-3, 1e-3, 5e-4],
                            "loss": [3.0, 2.9, 2.8 - k / 100], "loss_lo": [2.9] * 3, "loss_hi": [3.1] * 3})
              for k, name in enumerate(["cosine", "wsd 10% exp", "constant"])]
    fig, axes = F.new_axes(1, 2)
    F.plot_schedules(axes[0], pd.concat(frames), lr_ax=axes[1], highlight="cosine")
    legend = axes[1].get_legend()
    assert legend is not None and [t.get_text() for t in legend.get_texts()] == ["cosine", "wsd 10% exp", "constant"]


def test_the_answer_says_when_curve_laws_disagree_on_the_schedule():
    from scaling.report.build import schedule_disagreement

    assert schedule_disagreement([("lr-annealing", "wsd 10% exp"), ("multi-power", "wsd 10% exp")]) is None
    line = schedule_disagreement([("lr-annealing", "wsd 10% exp"), ("multi-power", "multistep 80/10/10")])
    assert "disagree" in line and "wsd 10% exp" in line and "multistep 80/10/10" in line
    assert schedule_disagreement([("lr-annealing", "cosine"), ("multi-power", None)]) is None
