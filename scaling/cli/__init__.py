"""The ``scaling`` command line: a thin shell over the import API.

One module per subcommand (``scaling/cli/<name>.py``), each with ``add(sub)``
declaring its flags and ``run(args)`` that parses, calls the API and prints;
no loading, fitting or planning logic lives here. Heavy imports (jax,
matplotlib, lmfit, pandas) happen inside ``run`` so ``scaling --help`` starts
fast. User errors (:class:`scaling.errors.ScalingError`) are printed as one
line and exit with status 2, never as a traceback.

JAX's persistent compilation cache is switched on for every subcommand (see
:func:`scaling._compile.enable_persistent_cache`), so a second ``scaling fit``
of the same law and data shape in a new process compiles nothing. Set
``SCALING_NO_COMPILE_CACHE=1`` to turn it off, ``SCALING_CACHE_DIR`` to move it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from scaling.errors import ScalingError

EXIT_USAGE = 2

#: Subcommand modules, in the order of ``scaling --help``.
SUBCOMMANDS = ("demo", "inspect", "fit", "compare", "predict", "laws", "schedules", "budget", "schedule_plan",
               "report", "datasets")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2), as for every other user error."""

    def error(self, message: str):  # noqa: D401 - argparse's hook
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"scaling: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = _Parser(
        prog="scaling",
        description="Fit scaling laws and predict LLM loss curves before you spend compute.",
    )
    parser.add_argument("--version", action="store_true", help="print the package version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMANDS:
        importlib.import_module(f"scaling.cli.{name}").add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``scaling`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from scaling import __version__

        print(__version__)
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE if args.command is None and argv else 0
    from scaling._compile import enable_persistent_cache

    enable_persistent_cache()
    previous = _terminate_like_interrupt()
    try:
        return int(args.func(args) or 0)
    except ScalingError as exc:
        print(f"scaling: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except _Terminated:
        print("scaling: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("scaling: interrupted", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            import signal

            signal.signal(signal.SIGTERM, previous)


class _Terminated(BaseException):
    """SIGTERM, raised where the process is, so an atomic write removes its temporary file."""


def _terminate_like_interrupt():
    """Turn SIGTERM into :class:`_Terminated` (as Ctrl-C is KeyboardInterrupt); returns the old handler.

    A ``kill`` during a large write would otherwise leave the ``.tmp`` file
    beside the output until the next write to it; raised as an exception, it
    unwinds through :func:`scaling.outputs.write_atomic`, which removes it.
    Only in the main thread (signals can be set nowhere else).
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def raise_terminated(signum, frame):
        raise _Terminated()

    return signal.signal(signal.SIGTERM, raise_terminated)


__all__ = ["EXIT_USAGE", "SUBCOMMANDS", "build_parser", "main"]
