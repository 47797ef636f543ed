"""Hoffmann et al.'s Approach 2: iso-FLOP profiles, their minima, and power laws through them.

For each compute budget :math:`C` (runs of the same training FLOPs, or runs
binned by :math:`\\log_{10} C`), the final loss is fitted by a parabola in
:math:`\\log N`,

.. math::

    L \\approx c_0 + c_1 \\log N + c_2 (\\log N)^2, \\qquad
    \\log N_{opt}(C) = -\\frac{c_1}{2 c_2},

and :math:`D_{opt} = C / (6 N_{opt})`. Power laws are then fitted by least
squares in log-log space,

.. math::

    N_{opt} = k_N\\, C^{a}, \\qquad D_{opt} = k_D\\, C^{b} \\quad (a + b = 1).

The parametric (Approach 3) fit of :math:`L = E + A N^{-\\alpha} + B
D^{-\\beta}` predicts :math:`a = \\beta / (\\alpha + \\beta)`; comparing the two is
Hoffmann's consistency check (they report a = 0.49 from Approach 2 and 0.46
from Approach 3).

Pure numpy; no fitting machinery (the parabolas and the log-log lines are
linear least squares).

References
----------
J. Hoffmann et al., "Training Compute-Optimal Large Language Models",
arXiv:2203.15556 (2022), Section 3.2 and Table 2.
"""

from __future__ import annotations

import numpy as np

from scaling.errors import FitError


def isoflop_minima(N, C, loss, *, bin_width: float = 0.1, min_points: int = 5) -> dict[str, np.ndarray]:
    """The loss-optimal model size of every iso-FLOP group.

    Parameters
    ----------
    N, C, loss : arrays (n,)
        Parameters, training FLOPs and final loss of each run.
    bin_width : float
        Runs whose ``log10 C`` agree to within this width form one group
        (bins centred on the rounded values; 0.1 decade by default).
    min_points : int
        Groups with fewer runs are skipped.

    Returns
    -------
    dict of arrays, one entry per usable group
        ``C`` (geometric mean of the group), ``N_opt``, ``D_opt``,
        ``loss_min`` (the parabola's minimum) and ``n_runs``. A group is
        usable when its parabola opens upwards and its vertex lies inside
        the sizes the group spans (an extrapolated minimum is no minimum).
    """
    N, C, loss = (np.asarray(x, dtype=np.float64).reshape(-1) for x in (N, C, loss))
    key = np.round(np.log10(C) / bin_width).astype(np.int64)
    out = {k: [] for k in ("C", "N_opt", "D_opt", "loss_min", "n_runs")}
    for g in np.unique(key):
        sel = key == g
        if sel.sum() < min_points:
            continue
        x = np.log(N[sel])
        c2, c1, c0 = np.polyfit(x, loss[sel], 2)
        if not c2 > 0:
            continue
        x_opt = -c1 / (2.0 * c2)
        if not x.min() <= x_opt <= x.max():
            continue
        c = float(np.exp(np.mean(np.log(C[sel]))))
        n_opt = float(np.exp(x_opt))
        out["C"].append(c)
        out["N_opt"].append(n_opt)
        out["D_opt"].append(c / (6.0 * n_opt))
        out["loss_min"].append(float(c0 + c1 * x_opt + c2 * x_opt**2))
        out["n_runs"].append(int(sel.sum()))
    return {k: np.asarray(v) for k, v in out.items()}


def approach2(N, C, loss, *, bin_width: float = 0.1, min_points: int = 5) -> dict:
    """Approach 2 end to end: iso-FLOP minima and the power laws ``N_opt ~ C^a``, ``D_opt ~ C^b``.

    Returns
    -------
    dict
        ``a``, ``b`` (exponents), ``k_N``, ``k_D`` (coefficients),
        ``a_se`` (standard error of ``a`` from the log-log regression) and
        ``minima`` (the output of :func:`isoflop_minima`).

    Raises
    ------
    FitError
        Fewer than 3 usable iso-FLOP groups.

    Examples
    --------
    >>> res = approach2(df["N"], df["C"], df["loss"])  # doctest: +SKIP
    >>> res["a"]  # compare with beta / (alpha + beta) of a parametric fit  # doctest: +SKIP
    """
    minima = isoflop_minima(N, C, loss, bin_width=bin_width, min_points=min_points)
    m = minima["C"].size
    if m < 3:
        raise FitError(f"Approach 2 needs at least 3 iso-FLOP groups with an interior loss minimum, found {m}; "
                       "give more runs per compute budget or widen bin_width")
    logc = np.log(minima["C"])
    X = np.column_stack([np.ones(m), logc])
    (log_kn, a), res, _, _ = np.linalg.lstsq(X, np.log(minima["N_opt"]), rcond=None)
    (log_kd, b), _, _, _ = np.linalg.lstsq(X, np.log(minima["D_opt"]), rcond=None)
    resid = np.log(minima["N_opt"]) - X @ np.array([log_kn, a])
    s2 = float(resid @ resid) / max(m - 2, 1)
    a_se = float(np.sqrt(s2 * np.linalg.inv(X.T @ X)[1, 1]))
    return {"a": float(a), "b": float(b), "k_N": float(np.exp(log_kn)), "k_D": float(np.exp(log_kd)),
            "a_se": a_se, "minima": minima}


__all__ = ["approach2", "isoflop_minima"]
