"""Parsing helpers shared by several subcommands (law options, fit files, number lists)."""

from __future__ import annotations

from scaling.errors import DataError, ScalingError


def option_value(text: str):
    """``"true"`` -> True, ``"3"`` -> 3, ``"1e-3"`` -> 0.001, anything else stays text."""
    low = text.strip().lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def law_options(pairs: list[str]) -> dict:
    """``["x=D", "lam=0.999"]`` -> ``{"x": "D", "lam": 0.999}``, or a one-line error."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ScalingError(f"--law-option {pair!r}: write KEY=VALUE, e.g. --law-option x=D")
        options[key.strip()] = option_value(value)
    return options


def load_fit(path: str):
    """FitResult from a JSON file, or a one-line error."""
    from pathlib import Path

    if not Path(path).is_file():
        raise DataError(f"fit result {path} not found; make one with 'scaling fit ... --out {path}'")
    from scaling.fitting.result import FitResult

    return FitResult.load(path)


def float_list(text: str, flag: str) -> list[float]:
    """``"0.1,0.2"`` -> ``[0.1, 0.2]``, or a one-line error naming ``flag``."""
    try:
        return [float(x) for x in str(text).split(",") if x.strip()]
    except ValueError:
        raise ScalingError(f"{flag} {text!r}: write comma-separated numbers, e.g. {flag} 0.1,0.2,0.3") from None


def level_value(text: str) -> float:
    """argparse type for ``--level``: a number strictly between 0 and 1."""
    import argparse
    import math

    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; give a level such as 0.9") from None
    if not (math.isfinite(v) and 0.0 < v < 1.0):
        raise argparse.ArgumentTypeError(f"{text!r} must lie strictly between 0 and 1, e.g. 0.9")
    return v


def positive_int(text: str) -> int:
    """argparse type for step counts: a finite integer >= 1."""
    import argparse

    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of steps, e.g. 10000") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return v


def print_warnings(result, *, in_report: bool = False) -> None:
    """Print a fit's diagnostics (if the result carries any) as ``warning:``/``note:`` lines on stderr.

    With ``in_report`` (``scaling fit``, whose report on stdout lists them in
    full under ``[[Diagnostics]]``) one line counts them by code instead, so a
    terminal does not show every message twice and a redirected stdout still
    leaves the count in sight.
    """
    import sys
    from collections.abc import Mapping

    found = [(d.get("severity", "warning"), d.get("code", ""), d.get("message", str(d))) if isinstance(d, Mapping)
             else ("warning", "", str(d)) for d in getattr(result, "diagnostics", None) or ()]
    if not in_report:
        for sev, _, msg in found:
            print(f"{sev}: {msg}", file=sys.stderr)
        return
    parts = []
    for sev in ("warning", "note"):
        codes = [c or "?" for s, c, _ in found if s == sev]
        if codes:
            parts.append(f"{len(codes)} {sev}{'s' * (len(codes) != 1)} ({', '.join(dict.fromkeys(codes))})")
    if parts:
        print(f"diagnostics: {' and '.join(parts)}; the messages are under [[Diagnostics]] in the report on stdout "
              "and in the fit file", file=sys.stderr)


__all__ = ["float_list", "law_options", "level_value", "load_fit", "option_value", "positive_int",
           "print_warnings"]
