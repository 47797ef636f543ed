"""The schema of a saved fit (``fit.json``), checked in full before a fit is used.

A fit file may come from someone else, an older version, or a hand edit, and
everything downstream (``predict``, ``budget``, the report) trusts its
numbers. :func:`check_fit_dict` checks every field of
:class:`scaling.fitting.result.FitResult` against this schema and returns one
line per problem, naming the file and the key; :func:`validate_fit_dict`
raises the first as a :class:`~scaling.errors.FitFileError`.

=====================  ===============================================================
key                    rule
=====================  ===============================================================
``format``             ``"scaling.FitResult/1"``
``law``                a registered law name (``scaling laws``)
``law_options``        an object the law's factory accepts; with it, the law's
                       rebuilt ``param_names`` must equal the file's (a fit
                       relabelled as another law is refused)
``param_names``        list of P distinct strings
``params``             P finite numbers
``stderr``             P numbers >= 0 or NaN (undetermined)
``covar``              null or a P x P matrix of numbers
``samples``            null or a B x P matrix of numbers (B >= 1)
``intervals``          {param: [lo, hi]} for params of the law, lo <= hi
``level``              a number in (0, 1)
``derived``            {name: number}
``derived_samples``    {name: [numbers]}
``derived_intervals``  {name: [lo, hi]}
``residuals``          ``n_points`` numbers
``n_points`` ...       ``n_points``, ``n_starts``, ``n_starts_at_best``, ``nfev``:
                       whole numbers >= 0; ``seed``: whole number or null
``objective`` ...      ``objective``, ``aic``, ``bic``, ``r2``, ``rmse``: numbers
                       (NaN/inf allowed: a perfect fit has aic = -inf);
                       ``seconds``: finite >= 0
``success``            true/false; ``message``, ``version``: strings
``data_info``          an object
=====================  ===============================================================

No value may nest deeper than :data:`MAX_DEPTH` levels. Keys not listed are
ignored (newer versions may add some). Written by hand, without a schema
library: the rules that matter most (shapes tied to P, the law's own
parameter names) are not expressible in JSON Schema anyway.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from scaling.errors import FitFileError

__all__ = ["MAX_DEPTH", "check_fit_dict", "validate_fit_dict"]

FORMAT = "scaling.FitResult/1"
#: Deepest nesting of lists/objects accepted anywhere in a fit file.
MAX_DEPTH = 16

_REQUIRED = (
    "law", "law_options", "param_names", "params", "stderr", "covar", "intervals", "level", "samples",
    "derived", "derived_samples", "derived_intervals", "objective", "n_points", "residuals", "aic", "bic",
    "r2", "rmse", "success", "message", "n_starts", "n_starts_at_best", "nfev", "seconds", "data_info",
    "version", "seed",
)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _as_float(x: Any) -> float:
    try:
        return float(x)
    except OverflowError:  # a JSON integer beyond float range
        return math.inf if x > 0 else -math.inf


def _kind(x: Any) -> str:
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "a boolean"
    if isinstance(x, (int, float)):
        return f"the number {x!r}" if not isinstance(x, int) or abs(x) < 10**15 else "a huge integer"
    if isinstance(x, str):
        return f"the text {x[:30]!r}"
    if isinstance(x, list):
        return f"a list of {len(x)}"
    if isinstance(x, dict):
        return "an object"
    return type(x).__name__


def _depth_problem(d: Any) -> str | None:
    """The first key path nested deeper than MAX_DEPTH (iterative: deep input cannot overflow the stack)."""
    stack = [(d, 0, "")]
    while stack:
        value, depth, path = stack.pop()
        if depth > MAX_DEPTH:
            return path or "(top level)"
        if isinstance(value, dict):
            stack.extend((v, depth + 1, f"{path}.{k}" if path else str(k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, depth + 1, f"{path}[{i}]") for i, v in enumerate(value))
    return None


class _Checker:
    def __init__(self, d: Mapping[str, Any], source: str):
        self.d = d
        self.source = source
        self.problems: list[str] = []

    def bad(self, key: str, what: str, fix: str = "re-run 'scaling fit' to write a fresh file") -> None:
        self.problems.append(f"{self.source}: key '{key}' {what}; {fix}")

    # -- values
    def number(self, key: str, value: Any, *, finite=False, nonneg=False, nan_ok=True) -> float | None:
        if not _is_number(value):
            self.bad(key, f"must be a number, got {_kind(value)}")
            return None
        v = _as_float(value)
        if math.isnan(v):
            if nan_ok and not finite:
                return v
            self.bad(key, "must be a finite number, got NaN")
            return None
        if finite and math.isinf(v):
            self.bad(key, f"must be a finite number, got {v}")
            return None
        if nonneg and v < 0:
            self.bad(key, f"must be >= 0, got {value!r}")
            return None
        return v

    def whole(self, key: str, *, null_ok=False, nonneg=True) -> None:
        value = self.d[key]
        if value is None and null_ok:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            self.bad(key, f"must be a whole number{' or null' if null_ok else ''}, got {_kind(value)}")
        elif nonneg and value < 0:
            self.bad(key, f"must be >= 0, got {value}")
        elif abs(value) >= 2**63:
            self.bad(key, "is too large (beyond 64-bit integers)")

    def vector(self, key: str, value: Any, n: int | None, **rules) -> list[float] | None:
        if not isinstance(value, list):
            self.bad(key, f"must be a list of numbers, got {_kind(value)}")
            return None
        if n is not None and len(value) != n:
            self.bad(key, f"has {len(value)} values but the fit has {n} parameters")
            return None
        out = []
        for i, v in enumerate(value):
            x = self.number(f"{key}[{i}]", v, **rules)
            if x is None:
                return None
            out.append(x)
        return out

    def matrix(self, key: str, rows: int | None, cols: int) -> None:
        value = self.d[key]
        if value is None:
            return
        if not isinstance(value, list) or (rows is None and len(value) == 0):
            self.bad(key, f"must be null or a list of rows, got {_kind(value)}")
            return
        if rows is not None and len(value) != rows:
            self.bad(key, f"has {len(value)} rows, expected {rows} (one per parameter)")
            return
        for i, row in enumerate(value):
            if not isinstance(row, list) or len(row) != cols:
                self.bad(f"{key}[{i}]", f"must be a list of {cols} numbers (one per parameter), got {_kind(row)}")
                return
            if self.vector(f"{key}[{i}]", row, cols) is None:
                return

    def interval_map(self, key: str, allowed: set[str] | None) -> None:
        value = self.d[key]
        if not isinstance(value, dict):
            self.bad(key, f"must be an object {{name: [lo, hi]}}, got {_kind(value)}")
            return
        for name, pair in value.items():
            where = f"{key}.{name}"
            if allowed is not None and name not in allowed:
                self.bad(where, f"names no parameter of the fit ({', '.join(sorted(allowed))})")
                return
            if not isinstance(pair, list) or len(pair) != 2:
                self.bad(where, f"must be [lo, hi], got {_kind(pair)}")
                return
            lo, hi = (self.number(f"{where}[{i}]", v) for i, v in enumerate(pair))
            if lo is None or hi is None:
                return
            if lo > hi:
                self.bad(where, f"has lo {pair[0]!r} above hi {pair[1]!r}")
                return

    def number_map(self, key: str, *, lists: bool) -> None:
        value = self.d[key]
        if not isinstance(value, dict):
            self.bad(key, f"must be an object {{name: {'[numbers]' if lists else 'number'}}}, got {_kind(value)}")
            return
        for name, v in value.items():
            ok = self.vector(f"{key}.{name}", v, None) if lists else self.number(f"{key}.{name}", v)
            if ok is None:
                return


def check_fit_dict(d: Any, *, source: str = "fit result") -> list[str]:
    """Every problem of a parsed fit file, one line each (empty when it is sound).

    Parameters
    ----------
    d : object
        The parsed JSON (anything: a list, null, a dict with wrong types ...).
    source : str
        The file name for the messages.
    """
    if not isinstance(d, dict):
        return [f"{source}: is not a scaling fit result (the file holds {_kind(d)}, not an object); "
                "pass a fit.json written by 'scaling fit'"]
    if d.get("format") != FORMAT:
        got = d.get("format")
        return [f"{source}: is not a scaling fit result (key 'format' is {_kind(got)}, expected {FORMAT!r}); "
                "pass a fit.json written by 'scaling fit'"]
    deep = _depth_problem(d)
    if deep is not None:
        return [f"{source}: key '{deep}' nests lists or objects more than {MAX_DEPTH} deep; "
                "a fit file is flat; re-run 'scaling fit'"]
    missing = [k for k in _REQUIRED if k not in d]
    if missing:
        return [f"{source}: lacks key{'s' * (len(missing) > 1)} {', '.join(repr(k) for k in missing)}; "
                "re-run 'scaling fit' to write a complete file"]
    c = _Checker(d, source)

    # The law and its parameter names first: every shape below depends on P.
    names = d["param_names"]
    p = None
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        c.bad("param_names", f"must be a non-empty list of names, got {_kind(names)}")
    elif len(set(names)) != len(names):
        c.bad("param_names", "repeats a name")
    else:
        p = len(names)
    law, options = d["law"], d["law_options"]
    if not isinstance(law, str):
        c.bad("law", f"must be a law name, got {_kind(law)}", "use a name listed by 'scaling laws'")
    elif not isinstance(options, dict):
        c.bad("law_options", f"must be an object of law options, got {_kind(options)}")
    else:
        _check_law(c, law, options, names if p is not None else None)

    c.vector("params", d["params"], p, finite=True)
    c.vector("stderr", d["stderr"], p, nonneg=True)
    if p is not None:
        c.matrix("covar", p, p)
        c.matrix("samples", None, p)
    c.interval_map("intervals", set(names) if p is not None else None)
    level = c.number("level", d["level"], finite=True)
    if level is not None and not 0 < level < 1:
        c.bad("level", f"must be a confidence level in (0, 1), got {d['level']!r}", "use e.g. 0.9")
    c.number_map("derived", lists=False)
    c.number_map("derived_samples", lists=True)
    c.interval_map("derived_intervals", None)
    for key in ("n_points", "n_starts", "n_starts_at_best", "nfev"):
        c.whole(key)
    c.whole("seed", null_ok=True, nonneg=False)
    n_points = d["n_points"] if isinstance(d["n_points"], int) and not isinstance(d["n_points"], bool) else None
    c.vector("residuals", d["residuals"], None)
    if n_points is not None and isinstance(d["residuals"], list) and len(d["residuals"]) != n_points:
        c.bad("residuals", f"has {len(d['residuals'])} values but n_points is {n_points}")
    for key in ("objective", "aic", "bic", "r2", "rmse"):
        c.number(key, d[key])
    c.number("seconds", d["seconds"], finite=True, nonneg=True)
    if not isinstance(d["success"], bool):
        c.bad("success", f"must be true or false, got {_kind(d['success'])}")
    for key in ("message", "version"):
        if not isinstance(d[key], str):
            c.bad(key, f"must be text, got {_kind(d[key])}")
    if not isinstance(d["data_info"], dict):
        c.bad("data_info", f"must be an object, got {_kind(d['data_info'])}")
    # optional fields (newer files): diagnostics and the band calibration
    diags = d.get("diagnostics", [])
    if not isinstance(diags, list) or not all(isinstance(x, dict) and isinstance(x.get("message", ""), str)
                                              for x in diags):
        c.bad("diagnostics", "must be a list of objects with a text 'message'")
    cal = d.get("calibration", {})
    if cal is None:
        cal = {}
    if not isinstance(cal, dict):
        c.bad("calibration", f"must be an object, got {_kind(cal)}")
    elif "sigma_log" in cal and cal["sigma_log"] is not None:
        c.number("calibration", cal["sigma_log"], finite=True, nonneg=True)
    return c.problems


def _check_law(c: _Checker, law: str, options: dict, names: list[str] | None) -> None:
    from scaling.laws import LAWS, get_law

    if law not in LAWS:
        c.bad("law", f"names no known law ({law[:40]!r})", f"known laws: {', '.join(sorted(LAWS))}")
        return
    try:
        built = get_law(law, **options)
    except Exception as exc:  # a factory may raise anything on a hand-edited option
        msg = " ".join(str(exc).split())[:160]
        c.bad("law_options", f"are not options of law {law!r} ({msg})", "remove or fix the option")
        return
    if names is not None and tuple(names) != tuple(built.param_names):
        c.bad(
            "param_names",
            f"are {', '.join(names)} but law {law!r} has {', '.join(built.param_names)}: the fit belongs to "
            "another law or was edited",
            "fit the data with this law again",
        )


def validate_fit_dict(d: Any, *, source: str = "fit result") -> None:
    """Raise :class:`~scaling.errors.FitFileError` with the first problem of a fit file.

    The message is one line: the file, the key, what is wrong and how to fix
    it, plus how many further problems there are.
    """
    problems = check_fit_dict(d, source=source)
    if problems:
        more = f" (and {len(problems) - 1} more problem{'s' * (len(problems) > 2)})" if len(problems) > 1 else ""
        raise FitFileError(problems[0] + more)
