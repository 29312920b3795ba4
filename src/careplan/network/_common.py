"""Shared checks and helpers of the network package (no network logic here)."""

from __future__ import annotations

import math
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from pyproj import CRS

from careplan._errors import CareplanWarning, InputError
from careplan._progress import progress
from careplan._threads import default_threads

#: Default largest straight distance (m) from a point to the street graph.
#: Chinese residential compounds (小区) are often gated blocks of 300-500 m
#: whose internal paths are not mapped, so a representative point can lie a
#: few hundred metres from the nearest mapped street. The snap leg is walked
#: (and counted) in every distance, so a generous limit does not flatter
#: coverage; points beyond it are reported as unreachable.
DEFAULT_MAX_SNAP_M: float = 500.0

#: Longest plausible straight access leg (m) from a point to its street: the
#: radius of the 5-minute life circle (300 m, GB 50180-2018 table 3.0.4).
#: Points snapped farther are still reached (the leg is walked and counted)
#: but flagged ``long_access`` in snapping results and distance tables.
DEFAULT_LONG_ACCESS_M: float = 300.0

_KEEP = ("largest", "all")

# ----------------------------------------------------------------------------
# checks and helpers
# ----------------------------------------------------------------------------
def _warn(message: str) -> None:
    """CareplanWarning attributed to the first caller outside careplan."""
    import sys

    level = 2
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("careplan."):
        frame = frame.f_back
        level += 1
    warnings.warn(message, CareplanWarning, stacklevel=level)


def _check_keep(keep: str) -> None:
    if keep not in _KEEP:
        raise InputError(f"keep={keep!r} is not valid: use 'largest' or 'all'.")


def _check_cutoff(cutoff_m: Any) -> float:
    try:
        c = float(cutoff_m)
    except (TypeError, ValueError):
        raise InputError(f"cutoff_m={cutoff_m!r} is not a number: give a distance in metres > 0.") from None
    if not (c > 0 and math.isfinite(c)):  # also catches NaN
        raise InputError(f"cutoff_m={cutoff_m!r} must be a finite distance > 0 metres "
                         "(e.g. cutoff_m=1000).")
    return c


def _check_max_snap(max_snap_m: Any) -> float:
    try:
        c = float(max_snap_m)
    except (TypeError, ValueError):
        raise InputError(f"max_snap_m={max_snap_m!r} is not a number of metres.") from None
    if not c >= 0:
        raise InputError(f"max_snap_m={max_snap_m!r} must be >= 0 metres.")
    return c


def _utm_crs(lon: np.ndarray, lat: np.ndarray) -> CRS:
    """WGS 84 / UTM zone of the mean point (EPSG 326zz north, 327zz south).

    The zone is ``floor((lon + 180) / 6) + 1`` (the UTM definition), the
    answer ``GeoSeries.estimate_utm_crs`` gives for a point, without its
    database query (0.2 s).
    """
    mlon, mlat = float(np.mean(lon)), float(np.mean(lat))
    zone = int(math.floor((mlon + 180.0) / 6.0)) % 60 + 1
    return CRS.from_epsg((32600 if mlat >= 0 else 32700) + zone)


def _label_list(index: pd.Index, mask: np.ndarray, limit: int = 10) -> str:
    labels = [str(x) for x in index[mask][:limit]]
    more = int(mask.sum()) - len(labels)
    return ", ".join(labels) + (f" and {more} more" if more > 0 else "")


def _n_threads(n_threads: int | None) -> int:
    if n_threads is None:
        return default_threads()
    if int(n_threads) < 1:
        raise InputError(f"n_threads={n_threads!r} must be >= 1.")
    return int(n_threads)


def _blocks(n: int, n_threads: int, max_block: int = 2000) -> list[tuple[int, int]]:
    if n == 0:
        return []
    size = max(1, min(max_block, math.ceil(n / (4 * n_threads))))
    return [(a, min(n, a + size)) for a in range(0, n, size)]


def _run_blocks(func, n_sources, *, n_threads, verbose, desc, **kernel_kw):
    """Run a ``nogil`` kernel over blocks of sources in threads; results in block order.

    ``func(s0=..., s1=..., **kernel_kw)`` handles sources ``s0 .. s1-1``.
    """
    blocks = _blocks(n_sources, n_threads)
    if not blocks:
        return []

    def one(block):
        return func(s0=block[0], s1=block[1], **kernel_kw)

    if n_threads == 1 or len(blocks) == 1:
        return [one(b) for b in progress(blocks, desc=desc, verbose=verbose)]
    # compile (or load from cache) in this thread first
    first = one(blocks[0])
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        rest = list(progress(pool.map(one, blocks[1:]), desc=desc, total=len(blocks) - 1,
                             verbose=verbose))
    return [first, *rest]


def _group_gather(ptr: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index array taking the groups ``ptr[g]:ptr[g+1]`` in ``order``, and their new ptr."""
    lens = np.diff(ptr)[order]
    new_ptr = np.zeros(order.size + 1, dtype=np.int64)
    np.cumsum(lens, out=new_ptr[1:])
    idx = np.repeat(ptr[:-1][order] - new_ptr[:-1], lens) + np.arange(new_ptr[-1])
    return idx.astype(np.int64), new_ptr


def _cat(res: list, k: int, dtype) -> np.ndarray:
    """Concatenate the k-th array of every block result (empty if no blocks)."""
    return np.concatenate([r[k] for r in res]) if res else np.empty(0, dtype=dtype)


def _readonly(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.setflags(write=False)
    return v
