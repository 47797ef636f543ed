"""``scaling laws``: the registry, with formula, inputs, parameters and paper."""

from __future__ import annotations

import argparse


def add(sub: argparse._SubParsersAction) -> None:
    """Register ``laws``."""
    p = sub.add_parser("laws", help="list the registered laws with their formula and inputs",
                       description="List every law of the registry: name, kind, formula, inputs, parameters, paper.")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print one block per registered law."""
    from scaling.laws import LAWS, get_law

    blocks = []
    for name in LAWS:
        law = get_law(name)
        opts = ", ".join(f"{k}={v}" for k, v in law.options.items())
        blocks.append(
            f"{name}  ({law.kind}; inputs: {', '.join(law.inputs)})\n"
            f"  {law.equation}\n"
            f"  parameters: {', '.join(law.param_names)}" + (f"; options: {opts}" if opts else "") + "\n"
            f"  {law.citation}"
        )
    print("\n\n".join(blocks))
    return 0
