"""How many threads careplan's own thread pools use by default."""

from __future__ import annotations

import os

__all__ = ["default_threads"]


def default_threads() -> int:
    """Threads of careplan's thread pools when a call gives no ``n_threads``.

    The environment variable ``CAREPLAN_THREADS`` (an integer >= 1) when set, else
    every CPU (``os.cpu_count()``). :mod:`careplan.batch` sets ``CAREPLAN_THREADS=1``
    in its LocalCluster worker processes, so that n workers use n cores rather than
    n x CPUs threads fighting for them.

    Returns
    -------
    int
        At least 1.

    Raises
    ------
    CareplanError
        ``CAREPLAN_THREADS`` is set but not an integer >= 1.
    """
    raw = os.environ.get("CAREPLAN_THREADS", "").strip()
    if not raw:
        return max(1, os.cpu_count() or 1)
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        from careplan._errors import InputError

        raise InputError(f"CAREPLAN_THREADS={raw!r} must be an integer >= 1 (the threads of "
                         "careplan's thread pools); unset it to use every CPU")
    return n
