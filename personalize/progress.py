"""Progress of long work (loading the demo store, training, imports): a bar in a terminal, plain lines otherwise.

On a terminal, :func:`progress` draws a ``tqdm`` bar on stderr. Anywhere else (a log collector, CI, a test) it
writes a line through the ``personalize.progress`` logger when a quarter more is done and when the work ends, with
the count and the seconds, so a slow start is never silent.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterator

log = logging.getLogger("personalize.progress")

Advance = Callable[[int], None]
"""Report that ``n`` more units are done."""


@contextlib.contextmanager
def progress(title: str, total: int, unit: str) -> Iterator[Advance]:
    """Report the progress of ``total`` units of work called ``title`` (see the module docstring)."""
    started = time.perf_counter()
    if sys.stderr.isatty():
        from tqdm import tqdm

        with tqdm(total=total, desc=title, unit=f" {unit}", file=sys.stderr, leave=True) as bar:
            yield bar.update
        return
    done, reported = 0, 0

    def advance(count: int) -> None:
        nonlocal done, reported
        done += count
        quarter = 4 * done // max(1, total)
        if quarter > reported and done < total:
            reported = quarter
            log.info("%s: %d%% (%s of %s %s)", title, 25 * quarter, f"{done:,}", f"{total:,}", unit)

    yield advance
    log.info("%s: %s %s in %.1f s", title, f"{done:,}", unit, time.perf_counter() - started)
