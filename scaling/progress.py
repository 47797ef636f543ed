"""Progress bars for long work (bootstraps, multistart fits, reports), drawn by tqdm.

tqdm (a small, well-kept library with no dependencies of its own) replaces
the home-made bar this module used to hold. Bars draw on standard error only
when it is a terminal and are silent otherwise, so CI logs, pipes and
notebooks' captured output stay clean.

Examples
--------
>>> from scaling.progress import Progress
>>> with Progress(total=3, desc="bootstrap") as bar:
...     for _ in range(3):
...         bar.update()
"""

from __future__ import annotations

import sys
from typing import IO, Iterable, Iterator, TypeVar

T = TypeVar("T")


def Progress(total: int, desc: str = "", *, stream: IO[str] | None = None, enabled: bool | None = None):
    """A tqdm bar ``desc: 40%|####      | 4/10 [00:03<00:04]`` (use as a context manager).

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

    Returns
    -------
    tqdm.tqdm
        Call ``.update(n)`` to advance and ``.set_description(text)`` to relabel.
    """
    from tqdm.auto import tqdm

    stream = stream if stream is not None else sys.stderr
    if enabled is None:
        isatty = getattr(stream, "isatty", None)
        enabled = bool(isatty and isatty())
    return tqdm(total=max(int(total), 0), desc=desc, file=stream, disable=not enabled, leave=False,
                dynamic_ncols=True, mininterval=0.2)


def track(iterable: Iterable[T], total: int | None = None, desc: str = "", **kwargs) -> Iterator[T]:
    """Iterate with a progress bar (see :func:`Progress`)."""
    if total is None:
        total = len(iterable)  # type: ignore[arg-type]
    with Progress(total, desc, **kwargs) as bar:
        for item in iterable:
            yield item
            bar.update(1)


__all__ = ["Progress", "track"]
