"""A tiny progress bar for long work (bootstraps, grids, reports).

It draws on standard error only when standard error is a terminal, and is
silent otherwise (CI logs, pipes, notebooks stay clean). No dependency.

Examples
--------
>>> from scaling.progress import Progress
>>> with Progress(total=3, desc="bootstrap") as bar:
...     for _ in range(3):
...         bar.update()
"""

from __future__ import annotations

import sys
import time
from typing import IO, Iterable, Iterator, TypeVar

T = TypeVar("T")


class Progress:
    """A progress bar ``desc [#####-----] 5/10 0:03`` redrawn in place on a TTY.

    Parameters
    ----------
    total : int
        Number of steps.
    desc : str
        Label in front of the bar.
    stream : file, optional
        Where to draw (default ``sys.stderr``).
    enabled : bool, optional
        Force on/off; default: on only if ``stream`` is a terminal.
    width : int
        Bar width in characters.
    """

    def __init__(self, total: int, desc: str = "", *, stream: IO[str] | None = None,
                 enabled: bool | None = None, width: int = 28):
        self.total = max(int(total), 0)
        self.desc = desc
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.width = width
        self.n = 0
        self._start = time.monotonic()
        self._last = 0.0
        self._closed = False

    def update(self, n: int = 1, *, desc: str | None = None) -> None:
        """Advance by ``n`` steps (optionally relabel) and redraw at most ~10 times a second."""
        self.n = min(self.n + n, self.total) if self.total else self.n + n
        if desc is not None:
            self.desc = desc
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.1 or self.n >= self.total):
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = int(now - self._start)
        frac = self.n / self.total if self.total else 0.0
        filled = int(round(frac * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{self.desc} [{bar}] {self.n}/{self.total} {elapsed // 60}:{elapsed % 60:02d}\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        """Finish the line (on a TTY); safe to call twice."""
        if self.enabled and not self._closed:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
        self._closed = True

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def track(iterable: Iterable[T], total: int | None = None, desc: str = "", **kwargs) -> Iterator[T]:
    """Iterate ``iterable`` while showing a :class:`Progress` bar (on a TTY only)."""
    if total is None:
        try:
            total = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            total = 0
    with Progress(total, desc, **kwargs) as bar:
        for item in iterable:
            yield item
            bar.update()


__all__ = ["Progress", "track"]
