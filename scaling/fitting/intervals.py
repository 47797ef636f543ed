"""Intervals without resampling: a smoothed Laplace (sandwich) covariance and profile likelihoods.

Both rest on the M-estimator view of the fit
:math:`\\hat\\theta = \\arg\\min \\sum_i \\rho(r_i(\\theta))` with
:math:`\\psi = \\rho'` (Huber: :math:`\\psi(r) = \\mathrm{clip}(r, -\\delta, \\delta)`;
least squares: :math:`\\psi(r) = r`).

**Why smoothed.** The sandwich covariance of an M-estimator (Huber 1967) is
:math:`H^{-1} M H^{-1}` with the meat :math:`M = \\sum_i \\psi(r_i)^2 \\nabla r_i
\\nabla r_i^T` and the bread :math:`H = \\sum_i \\psi'(r_i) \\nabla r_i \\nabla r_i^T`.
For Huber, :math:`\\psi'(r) = 1[|r| \\le \\delta]`: the exact bread counts only the
residuals inside Huber's quadratic zone. With ``delta = 1e-3`` on log loss and
noise of ~1 % most residuals lie outside, so the bread rests on a handful of
points and the intervals are as noisy as that count (too narrow when a few
points happen to sit at zero, infinite when none do). Its expectation is
:math:`\\sum_i P(|\\varepsilon_i| \\le \\delta)\\, \\nabla r_i \\nabla r_i^T`; we estimate
each term by kernel smoothing the residual,

.. math::

    \\tilde\\psi'(r_i) = \\Phi\\Big(\\frac{\\delta - r_i}{h}\\Big) - \\Phi\\Big(\\frac{-\\delta - r_i}{h}\\Big),

Gaussian kernel, Silverman's bandwidth ``h`` on the residuals (Powell's 1991
kernel estimate of the sparsity in quantile regression, which has the same
problem with :math:`\\delta \\to 0`). As ``h/delta -> 0`` this is the exact
indicator; for least squares it is 1 (the Gauss-Newton bread).

**Profile likelihood.** For parameter ``j`` fixed at ``v`` and the others
refitted, the drop-in-dispersion statistic (Schrader & Hettmansperger 1980)

.. math::

    S_j(v) = 2\\,[f_{prof}(v) - f(\\hat\\theta)]\\; \\frac{\\frac1n \\sum_i \\tilde\\psi'(r_i)}
             {\\frac{1}{n-P} \\sum_i \\psi(r_i)^2}

is asymptotically :math:`\\chi^2_1` (for least squares it is the F statistic
:math:`\\Delta RSS / \\hat\\sigma^2`); the interval is ``{v : S_j(v) <= t^2}``
with ``t`` the Student quantile on ``n - P`` degrees of freedom (exact for a
linear Gaussian model). It follows the objective's shape, so it is
asymmetric where the law is curved in a parameter, and it respects bounds.
"""

from __future__ import annotations

import numpy as np

#: Profile grid in units of the Laplace standard error (both sides).
PROFILE_STEPS = np.array([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0, 9.0])

#: Points at which :func:`derived_intervals` checks that a one-parameter quantity is monotone.
MONOTONE_CHECK_POINTS = 17


def smoothed_curvature(r: np.ndarray, objective) -> np.ndarray:
    """Kernel-smoothed :math:`\\psi'(r_i)` per point (see the module docstring); 1 for least squares."""
    from scipy.special import ndtr  # the normal CDF; scipy.stats costs ~0.9 s to import

    if objective.squared:
        return np.ones_like(r)
    delta = float(objective.delta)
    n = r.size
    sd = float(np.std(r, ddof=1)) if n > 1 else 0.0
    iqr = float(np.subtract(*np.percentile(r, [75, 25]))) / 1.349
    spread = min(sd, iqr) if iqr > 0 else sd
    h = 0.9 * spread * n ** -0.2
    if not h > 0:
        return (np.abs(r) <= delta).astype(np.float64)
    return ndtr((delta - r) / h) - ndtr((-delta - r) / h)


def residuals_and_jacobian(ns, theta, packed, index):
    """Residuals ``(n,)`` and their Jacobian ``(n, P)`` at ``theta`` (real points only)."""
    r = np.asarray(ns.residuals_jit(np.asarray(theta, dtype=np.float64), packed))[index]
    J = np.asarray(ns.jacobian_jit(np.asarray(theta, dtype=np.float64), packed))[index]
    return r, J


def psi(r: np.ndarray, objective) -> np.ndarray:
    """The objective's influence function ``rho'(r)``."""
    return r if objective.squared else np.clip(r, -objective.delta, objective.delta)


def sandwich_covariance(r: np.ndarray, J: np.ndarray, objective, free=None) -> np.ndarray:
    """Smoothed sandwich covariance ``H^-1 M H^-1`` (module docstring), shape ``(P, P)``.

    ``free`` (bool ``(P,)``) marks parameters not at a bound; the others get
    zero variance (a parameter pinned to its bound has no spread there).
    """
    n, p = J.shape
    free = np.ones(p, dtype=bool) if free is None else np.asarray(free, dtype=bool)
    Jf = J[:, free]
    H = Jf.T @ (smoothed_curvature(r, objective)[:, None] * Jf)
    G = psi(r, objective)[:, None] * Jf
    M = G.T @ G * (n / max(n - p, 1))
    Hinv = np.linalg.pinv(H)
    cov = np.zeros((p, p))
    cov[np.ix_(free, free)] = Hinv @ M @ Hinv
    return cov


def posterior_covariance(r: np.ndarray, J: np.ndarray, objective, prior_precision: np.ndarray, variance: float,
                         free=None) -> np.ndarray:
    """Laplace covariance of a fit with a Gaussian prior, shape ``(P, P)``.

    .. math::

        \\Sigma = \\big(J^T D J / v + P_0\\big)^{-1}

    with ``D`` the smoothed curvature of the objective, ``v`` the variance of
    a log residual inflated by the residuals' autocorrelation time
    (:func:`scaling.fitting.prior.prior_weight` at the fit) and ``P_0`` the
    prior precision ``M^T diag(1/s^2) M``. Unlike the sandwich, whose score
    term has only the data's noise, it keeps the prior's own spread in the
    directions the data do not determine. ``free`` as in
    :func:`sandwich_covariance`.
    """
    p = J.shape[1]
    free = np.ones(p, dtype=bool) if free is None else np.asarray(free, dtype=bool)
    Jf = J[:, free]
    H = Jf.T @ (smoothed_curvature(r, objective)[:, None] * Jf) / max(float(variance), 1e-300)
    H = H + np.asarray(prior_precision)[np.ix_(free, free)]
    cov = np.zeros((p, p))
    cov[np.ix_(free, free)] = np.linalg.pinv(H)
    return cov


def dispersion_scale(r: np.ndarray, objective, n_params: int) -> float:
    """The factor turning ``2 * (f_prof - f_min)`` into a chi-square(1) statistic."""
    n = r.size
    mean_curv = float(np.mean(smoothed_curvature(r, objective)))
    mean_psi2 = float(np.sum(psi(r, objective) ** 2)) / max(n - n_params, 1)
    return mean_curv / mean_psi2 if mean_psi2 > 0 else np.inf


def profile_intervals(law, packed, weights, theta, f_min, covar, r, objective, level, *, solver=None):
    """Profile-likelihood intervals of every parameter (module docstring).

    Parameters
    ----------
    law : Law
    packed : tuple
        Packed data (:func:`scaling.fitting.objective.pack`).
    weights : array (n_padded,)
        Point weights (1 on real points, 0 on padding).
    theta : array (P,)
        The best fit; ``f_min`` its objective.
    covar : array (P, P)
        Laplace covariance: its standard errors set the profile grid and its
        regression slopes warm-start the other parameters.
    r : array (n,)
        Residuals at the best fit.
    objective : Objective
    level : float
        Confidence level.

    Returns
    -------
    dict of str to (float, float)
        An end is ``-inf`` / ``inf`` when the statistic stays below the
        threshold over the whole grid (the data do not bound the parameter).
    """
    from scipy.special import stdtrit

    from scaling.fitting.solver import DampedNewton

    solver = solver or DampedNewton()
    p = theta.size
    lo_b = np.array([b[0] for b in law.bounds], dtype=np.float64)
    hi_b = np.array([b[1] for b in law.bounds], dtype=np.float64)
    sd = np.sqrt(np.clip(np.diag(covar), 0.0, None))
    # a parameter with no Laplace spread (at a bound, or unidentified) still
    # gets a profile: on a scale relative to its value
    sd = np.where(np.isfinite(sd) & (sd > 0), sd, 1e-2 * np.maximum(np.abs(theta), 1.0))
    steps = np.concatenate([-PROFILE_STEPS[::-1], PROFILE_STEPS])
    starts, lo, hi, rows = [], [], [], []
    for j in range(p):
        slope = covar[:, j] / covar[j, j] if covar[j, j] > 0 else np.zeros(p)
        for s in steps:
            v = float(np.clip(theta[j] + s * sd[j], lo_b[j], hi_b[j]))
            t0 = np.clip(theta + slope * (v - theta[j]), lo_b, hi_b)
            t0[j] = v
            l, h = lo_b.copy(), hi_b.copy()
            l[j] = h[j] = v
            starts.append(t0)
            lo.append(l)
            hi.append(h)
            rows.append((j, v))
    res = solver.solve(law, packed, np.array(starts), weights=weights, delta=objective.threshold,
                       space=objective.space, bounds=(np.array(lo), np.array(hi)))
    scale = dispersion_scale(r, objective, p)
    dof = max(r.size - p, 1)
    crit = float(stdtrit(dof, 0.5 + level / 2.0))
    out = {}
    for j, name in enumerate(law.param_names):
        sel = [k for k, (jj, _) in enumerate(rows) if jj == j]
        v = np.array([rows[k][1] for k in sel])
        # refits cannot go below the best fit except by rounding
        stat = np.sqrt(np.clip(2.0 * (res.f[sel] - f_min) * scale, 0.0, None))
        stat = np.where(np.isfinite(stat), stat, np.inf)
        out[name] = (_crossing(v, stat, crit, theta[j], lo_b[j], side=-1),
                     _crossing(v, stat, crit, theta[j], hi_b[j], side=+1))
    return out


def laplace_intervals(names, theta, covar, z, bounds) -> dict[str, tuple]:
    """Laplace intervals ``theta_j +- z sd_j`` held inside the law's box.

    The bootstrap (refits respect the bounds) and profile intervals stay in the
    box by construction; a normal interval does not, and an ``L0`` or ``alpha``
    interval reaching below 0 names values the law excludes. Clipping loses no
    coverage of a true value inside the box.

    Parameters
    ----------
    names : sequence of str, length P
    theta : array, shape (P,)
    covar : array, shape (P, P)
    z : float
        Normal or Student quantile.
    bounds : sequence of (float, float), length P
        The law's box.

    Returns
    -------
    dict of str to (float, float)
    """
    theta = np.asarray(theta, dtype=np.float64)
    sd = np.sqrt(np.clip(np.diag(np.asarray(covar, dtype=np.float64)), 0.0, None))
    box = np.asarray(bounds, dtype=np.float64).reshape(-1, 2)
    lo, hi = np.maximum(theta - z * sd, box[:, 0]), np.minimum(theta + z * sd, box[:, 1])
    return {name: (float(lo[i]), float(hi[i])) for i, name in enumerate(names)}


def derived_intervals(derived, theta, param_intervals, covar, z, *, values, jacobian) -> dict[str, tuple]:
    """Intervals of a law's natural-unit quantities from the parameter intervals, without resampling.

    A quantity that is a monotone function of one parameter (``B = exp(log B)``,
    ``L0`` itself) gets that parameter's interval mapped through the function:
    ``[f(lo), f(hi)]`` holds exactly as often as ``[lo, hi]`` does, keeps the
    quantity's sign (``exp`` of a wide ``log C`` interval is positive, where a
    symmetric delta-method interval around ``C`` went below zero) and follows
    the parameter intervals' method (Laplace or profile). Any other quantity
    gets the delta-method interval ``d +- z sqrt(J Sigma J^T)``.

    Parameters
    ----------
    derived : mapping of str to float
        The quantities at ``theta``, in the law's order.
    theta : array, shape (P,)
    param_intervals : mapping of str to (float, float)
        Parameter intervals, in the law's parameter order.
    covar : array, shape (P, P)
        Parameter covariance for the delta method.
    z : float
        Normal or Student quantile of the delta-method interval.
    values : callable
        ``values(thetas (S, P)) -> {name: (S,)}``, the law's ``derived`` over rows.
    jacobian : callable
        ``jacobian(theta, names) -> (K, P)``, the Jacobian of ``derived``.

    Returns
    -------
    dict of str to (float, float)
    """
    theta = np.asarray(theta, dtype=np.float64)
    names = tuple(derived)
    Jd = np.asarray(jacobian(theta, names), dtype=np.float64)
    sd = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", Jd, covar, Jd), 0.0, None))
    out = {k: (v - z * sd[i], v + z * sd[i]) for i, (k, v) in enumerate(derived.items())}
    iv = np.array([param_intervals[k] for k in param_intervals], dtype=np.float64)
    single = {k: int(np.flatnonzero(Jd[i])[0]) for i, k in enumerate(names) if np.count_nonzero(Jd[i]) == 1}
    todo = sorted({j for j in single.values() if np.all(np.isfinite(iv[j]))})
    if not todo:
        return out
    # each such parameter swept over its interval, the others held at theta: one batched call
    u = np.linspace(0.0, 1.0, MONOTONE_CHECK_POINTS)
    rows = np.tile(theta, (len(todo) * u.size, 1))
    for m, j in enumerate(todo):
        rows[m * u.size:(m + 1) * u.size, j] = iv[j, 0] + u * (iv[j, 1] - iv[j, 0])
    swept = {k: np.asarray(v, dtype=np.float64) for k, v in values(rows).items()}
    for k, j in single.items():
        if j not in todo:
            continue
        m = todo.index(j)
        f = swept[k][m * u.size:(m + 1) * u.size]
        step = np.diff(f)
        if np.all(np.isfinite(f)) and (np.all(step >= 0) or np.all(step <= 0)):
            out[k] = (float(min(f[0], f[-1])), float(max(f[0], f[-1])))
    return out


def _crossing(v, stat, crit, centre, bound, side):
    """Where the profile statistic first reaches ``crit`` going from ``centre`` to one side."""
    mask = (v - centre) * side > 0
    if not mask.any():
        return float(bound)
    order = np.argsort((v[mask] - centre) * side)
    vs = np.concatenate([[centre], v[mask][order]])
    ss = np.concatenate([[0.0], stat[mask][order]])
    above = np.flatnonzero(ss >= crit)
    if above.size == 0:
        # the statistic stays below the threshold: up to the bound if the
        # grid reached it, else unbounded by the data
        return float(bound) if np.isclose(vs[-1], bound) else float(side * np.inf)
    k = int(above[0])
    if not np.isfinite(ss[k]):
        return float(vs[k])
    w = (crit - ss[k - 1]) / (ss[k] - ss[k - 1]) if ss[k] > ss[k - 1] else 1.0
    return float(vs[k - 1] + w * (vs[k] - vs[k - 1]))


__all__ = ["derived_intervals", "dispersion_scale", "laplace_intervals", "profile_intervals",
           "residuals_and_jacobian", "sandwich_covariance", "smoothed_curvature"]
