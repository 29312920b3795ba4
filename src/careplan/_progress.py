"""Progress bars that can be turned quiet."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")

__all__ = ["progress", "set_quiet", "is_quiet"]

_QUIET = os.environ.get("CAREPLAN_QUIET", "") not in ("", "0", "false", "False")


def set_quiet(quiet: bool = True) -> None:
    """Silence (or re-enable) every careplan progress bar.

    The environment variable ``CAREPLAN_QUIET=1`` does the same at start-up.

    Parameters
    ----------
    quiet : bool, default True
        True silences every progress bar; False shows them again (a call's own
        ``verbose=`` still wins).
    """
    global _QUIET
    _QUIET = bool(quiet)


def is_quiet() -> bool:
    """Return True when progress bars are switched off."""
    return _QUIET


def progress(iterable: Iterable[T], *, desc: str = "", total: int | None = None,
             verbose: bool | None = None) -> Iterable[T]:
    """Wrap *iterable* in a tqdm bar unless careplan is quiet or ``verbose`` is False.

    With ``verbose=None`` (the default) the bar is shown only on a terminal: in logs
    and captured output tqdm's cursor moves for nested bars would show as ``[A``.
    ``verbose=True`` shows it everywhere.
    """
    show = (not _QUIET) if verbose is None else bool(verbose)
    if not show:
        return iterable
    return tqdm(iterable, desc=desc, total=total, leave=False, disable=None if verbose is None else False)
