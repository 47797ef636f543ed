"""Run every benchmark script in this folder, one after another, and print their tables.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/run_all.py [NAME ...]``).
Each script prints its own table with ratios against a baseline measured in
the same run; scripts that need ``../shared`` data say so and exit cleanly
when it is absent. Timings are wall-clock on whatever machine runs this: run
on a quiet machine and compare only numbers from the same run.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Cheapest first, so a reader sees results early.
ORDER = ("epoch_replication", "bench_final_loss", "gadre_replication", "multipowerlaw", "calibration")


def main(argv: list[str]) -> int:
    names = argv or [n for n in ORDER if (HERE / f"{n}.py").exists()]
    failed = []
    for name in names:
        script = HERE / f"{name}.py"
        print(f"\n=== {name} ({script.name})", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script)])
        print(f"=== {name}: exit {rc}, {time.perf_counter() - t0:.1f} s", flush=True)
        if rc:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
