"""The ``scaling`` command line: a thin shell over the import API.

Each subcommand has an ``_add_<name>(subparsers)`` function that declares its
flags and a ``_run_<name>(args)`` function that does the work. Heavy imports
(jax, matplotlib, lmfit, pandas) happen inside the ``_run_`` functions so that
``scaling --help`` starts fast. User errors (:class:`scaling.errors.ScalingError`)
are printed as one line and exit with status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from scaling.errors import ScalingError

EXIT_USAGE = 2


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scaling",
        description="Fit scaling laws and predict LLM loss curves before you spend compute.",
    )
    parser.add_argument("--version", action="store_true", help="print the package version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in _SUBCOMMANDS:
        add(sub)
    return parser


# --------------------------------------------------------------------------- inspect
# (added by the loaders work)

# --------------------------------------------------------------------------- fit

# --------------------------------------------------------------------------- predict

# --------------------------------------------------------------------------- laws / schedules

# --------------------------------------------------------------------------- budget / report


# Order here is the order in ``scaling --help``.
_SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``scaling`` console script; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from scaling import __version__

        print(__version__)
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE if args.command is None and argv else 0
    try:
        return int(args.func(args) or 0)
    except ScalingError as exc:
        print(f"scaling: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("scaling: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
