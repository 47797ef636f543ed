"""The law record: a pure JAX function plus what is needed to fit and show it.

A law is ``fn(theta, inputs) -> loss`` where ``theta`` is a 1-D array of the
law's parameters in the order of :attr:`Law.param_names` (the *fit space*:
e.g. Chinchilla is fitted in Hoffmann's log form, so ``theta`` holds
``log A`` rather than ``A``) and ``inputs`` is a mapping from input name to
array. The function must be jit-able and vmap-able over ``theta`` and must
not do I/O. Natural-unit quantities (``A = exp(a)``, the compute-optimal
exponents, ...) come from :attr:`Law.derived`, which the fitter applies to
every bootstrap sample so they get intervals too.

Two kinds of law exist:

``kind="final"``
    Final loss of a training run against run-level inputs such as ``N``
    (parameters), ``D`` (tokens) or ``C`` (FLOPs). ``inputs`` maps each name
    in :attr:`Law.inputs` to an array of shape ``(n,)``; the law returns
    shape ``(n,)``.
``kind="curve"``
    Loss along one training run as a function of its learning-rate schedule.
    ``inputs["lr"]`` has shape ``(T + 1,)``: the LR used at optimizer steps
    ``0..T`` (index = global step); ``inputs["step"]`` has shape ``(n,)``:
    the integer steps at which loss is wanted. Laws that also take the model
    size read ``inputs["N"]`` (a scalar for the run). Returns shape ``(n,)``.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any, Callable, Mapping

import numpy as np

LawFn = Callable[[Any, Mapping[str, Any]], Any]


@dataclasses.dataclass(frozen=True)
class LinearTerms:
    """A law that is linear in non-negative coefficients for fixed exponents.

    .. math::

        L(x) = \\sum_j c_j\\, \\phi_j(x; \\lambda_{q(j)}), \\qquad c_j \\ge 0,

    where each basis column :math:`\\phi_j` depends on at most one nonlinear
    parameter :math:`\\lambda_{q(j)}` (e.g. Chinchilla: ``1``, ``N**-alpha``,
    ``D**-beta``). The fitter uses it for variable projection: on a coarse
    grid of the nonlinear parameters the coefficients solve a small
    non-negative least-squares problem (plain numpy, no JAX).

    Attributes
    ----------
    terms : tuple of (coefficient name, nonlinear name or None, basis)
        ``basis(value, inputs) -> ndarray (n,)`` (numpy; ``value`` is the
        nonlinear parameter, ignored when the name is None). The coefficient
        name is a fit-space parameter holding ``log c_j`` (``log_coefficients``)
        or ``c_j``.
    grid : mapping of str to tuple of float
        Coarse grid of each nonlinear parameter.
    log_coefficients : bool
        Fit space holds ``log c_j`` (True) or ``c_j``.
    """

    terms: tuple
    grid: Mapping[str, tuple[float, ...]]
    log_coefficients: bool = True


@dataclasses.dataclass(frozen=True)
class Prior:
    """A weakly informative Gaussian prior on linear combinations of a law's fit-space parameters.

    .. math::

        q = M(p)\\,\\theta + c(p), \\qquad q_j \\sim \\mathcal{N}(\\mu_j, s_j^2)

    where ``p`` is the peak LR of the fitted data, so that a quantity can be
    written in LR-normalised units (the multi-power ``C`` as
    ``log C_n = log C + (1 - gamma) log p``, which does not change when every
    LR is multiplied by a constant). The fitter adds
    ``lambda/2 * sum_j ((q_j - mu_j) / s_j)^2`` to its objective, with
    ``lambda`` set from the data (:mod:`scaling.fitting.prior`), so a
    parameter the design cannot determine is held near published values
    instead of drifting to a bound.

    Attributes
    ----------
    names : tuple of str
        Name of each quantity ``q_j`` (for reports and the fit JSON).
    mean, sd : tuple of float
        ``mu_j`` and ``s_j``.
    rows : callable
        ``rows(log_peak) -> (M, c)``: ``M`` of shape ``(m, P)`` and ``c`` of
        shape ``(m,)`` (numpy float64).
    source : str
        Where ``mu`` and ``s`` come from.
    """

    names: tuple[str, ...]
    mean: tuple[float, ...]
    sd: tuple[float, ...]
    rows: Callable[[float], tuple[np.ndarray, np.ndarray]]
    source: str


@dataclasses.dataclass(frozen=True)
class Law:
    """A scaling law: a pure function and its metadata (frozen).

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"chinchilla"``.
    fn : callable
        ``fn(theta, inputs) -> loss``; see the module docstring for shapes.
    param_names : tuple of str
        Names of the entries of ``theta`` (fit space), in order.
    bounds : tuple of (float, float)
        Lower/upper bound of each parameter in fit space (``-inf``/``inf``
        allowed).
    start_grid : mapping of str to tuple of float
        Candidate start values per parameter; the fitter's default starts are
        the Cartesian product, in ``param_names`` order.
    inputs : tuple of str
        Names of the input arrays the law reads (``("N", "D")``,
        ``("lr", "step")``, ...).
    kind : {"final", "curve"}
        What the law predicts; see the module docstring.
    equation : str
        The equation in plain text, for ``scaling laws`` and reports.
    citation : str
        The paper the law comes from.
    derived : callable or None
        ``derived(theta) -> dict[str, float]`` of natural-unit quantities
        (jax-traceable so it can be vmapped over bootstrap samples).
    options : mapping
        Fixed options the law was built with (e.g. ``{"x": "N"}``,
        ``{"lam": 0.999, "warmup": "real"}``); saved with fit results so the
        law can be rebuilt exactly with ``get_law(name, **options)``.
    linear : LinearTerms or None
        Declares the law linear in non-negative coefficients for fixed
        exponents (enables the fitter's variable-projection start design).
    prior : Prior or None
        A weakly informative prior the fitter applies to curve fits by default
        (``fit(..., prior="none")`` turns it off).
    huber_delta : float or None
        Default Huber threshold on log loss of this law's fits (``None``: the
        fitter's :data:`scaling.fitting.objective.DEFAULT_DELTA`, 1e-3);
        ``fit(..., delta=...)`` overrides it. Saved with every fit result.
    for_design : callable or None
        ``for_design(dataset) -> Law``: the law a fit of ``dataset`` uses,
        for an option whose right value depends on what the fitted runs can
        determine (lr-annealing's ``lam="auto"``: fitted from two or more
        schedules, fixed from one). :func:`scaling.fitting.fit` applies it
        first, so the fit result records the resolved options. ``None``: the
        law as it is.
    design_rule : str
        With :attr:`for_design`: one sentence saying how it decides, which
        the fit's ``option_resolved`` note repeats
        (:mod:`scaling.fitting.diagnostics`).
    """

    name: str
    fn: LawFn
    param_names: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]
    start_grid: Mapping[str, tuple[float, ...]]
    inputs: tuple[str, ...]
    kind: str
    equation: str
    citation: str
    derived: Callable[[Any], Mapping[str, Any]] | None = None
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    linear: LinearTerms | None = None
    prior: Prior | None = None
    huber_delta: float | None = None
    for_design: Callable[[Any], "Law"] | None = None
    design_rule: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("final", "curve"):
            raise ValueError(f"law {self.name!r}: kind must be 'final' or 'curve', not {self.kind!r}")
        if len(self.bounds) != len(self.param_names):
            raise ValueError(f"law {self.name!r}: one (lo, hi) bound per parameter is required")
        missing = [p for p in self.param_names if p not in self.start_grid]
        if missing:
            raise ValueError(f"law {self.name!r}: start_grid lacks {missing}")

    def resolve(self, dataset) -> "Law":
        """The law a fit of ``dataset`` uses: :attr:`for_design` applied, or this law."""
        return self if self.for_design is None else self.for_design(dataset)

    @property
    def n_params(self) -> int:
        """Number of fitted parameters ``P``."""
        return len(self.param_names)

    def starts(self) -> np.ndarray:
        """The default start grid as an array of shape ``(K, P)``, float64.

        Values outside the bounds are clipped onto them.
        """
        axes = [np.asarray(self.start_grid[p], dtype=np.float64) for p in self.param_names]
        grid = np.array(list(itertools.product(*axes)), dtype=np.float64).reshape(-1, self.n_params)
        lo = np.array([b[0] for b in self.bounds], dtype=np.float64)
        hi = np.array([b[1] for b in self.bounds], dtype=np.float64)
        return np.clip(grid, lo, hi)

    def __call__(self, theta, inputs):
        """Evaluate the law: ``self.fn(theta, inputs)``, in float64.

        Called with concrete arrays it returns a numpy float64 array (x64 is
        enabled for the call only, see :mod:`scaling._x64`); inside a traced
        function (jit, grad, vmap) it returns the traced value unchanged.
        """
        import jax

        from scaling._x64 import float64

        with float64():
            out = self.fn(theta, inputs)
            if isinstance(out, jax.core.Tracer):
                return out
            return np.asarray(out, dtype=np.float64)
