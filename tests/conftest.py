"""Shared fixtures of the test suite.

Other areas may append their fixtures below. Keep them fast and offline (real
data from ``../shared/data`` or the bundled datasets; nothing downloaded).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest


# --------------------------------------------------------------------------- location models
@dataclass(frozen=True)
class LocateInstance:
    """A small labelled location instance.

    ``D`` is the dense cost (``np.inf`` unreachable), ``cost`` the same as a wide
    DataFrame labelled by ``demand`` (``'d0'``...) and ``candidates`` (``'s0'``...),
    ``weights`` a Series by demand label, ``capacity`` a Series by candidate label.
    """

    D: np.ndarray
    weights: pd.Series
    capacity: pd.Series
    cutoff_m: float

    @property
    def demand(self) -> pd.Index:
        return self.weights.index

    @property
    def candidates(self) -> pd.Index:
        return self.capacity.index

    @property
    def w(self) -> np.ndarray:
        return self.weights.to_numpy(dtype=float)

    @property
    def cost(self) -> pd.DataFrame:
        return pd.DataFrame(self.D, index=self.demand, columns=self.candidates)


def make_locate_instance(seed: int, n: int = 7, m: int = 5, cutoff_m: float = 10.0) -> LocateInstance:
    """Random integer costs 0..19 (a fifth unreachable); every demand has >= 3 sites within ``cutoff_m``.

    Weights are integers 0..4 (the first >= 1); capacities are about 60 % of the total
    weight per site, so capacitated models are usually but not always feasible.
    """
    rng = np.random.default_rng(seed)
    D = rng.integers(0, 20, size=(n, m)).astype(float)
    D[rng.random((n, m)) < 0.2] = np.inf
    for i in range(n):
        near = np.flatnonzero(D[i] <= cutoff_m)
        if len(near) < 3:
            pick = rng.choice(np.setdiff1d(np.arange(m), near), 3 - len(near), replace=False)
            D[i, pick] = rng.integers(0, int(cutoff_m) + 1, len(pick))
    w = rng.integers(0, 5, size=n).astype(float)
    w[0] = max(w[0], 1.0)
    cap = np.ceil(0.6 * w.sum()) + rng.integers(0, 3, size=m)
    return LocateInstance(D, pd.Series(w, index=[f"d{i}" for i in range(n)], name="weight"),
                          pd.Series(cap, index=[f"s{j}" for j in range(m)], name="capacity"), cutoff_m)


def open_sets(m: int, existing=(), excluded=(), sizes=None) -> Iterator[tuple[int, list[int]]]:
    """Every (number of new sites, open positions) with ``existing`` open and ``excluded`` closed.

    ``sizes`` limits the numbers of new sites (default: all, smallest first).
    """
    free = [j for j in range(m) if j not in existing and j not in excluded]
    for k in (range(len(free) + 1) if sizes is None else sizes):
        for sub in itertools.combinations(free, k):
            yield k, list(existing) + list(sub)


def assignments(D: np.ndarray, w: np.ndarray, open_idx, cap, cutoff=None, optional=False) -> Iterator[dict]:
    """Every single-source assignment {demand: site or -1} of the demands with weight > 0 within capacity."""
    need = np.flatnonzero(w > 0)
    options = []
    for i in need:
        o = [j for j in open_idx if np.isfinite(D[i, j]) and (cutoff is None or D[i, j] <= cutoff)]
        o = o + [-1] if optional else o
        if not o:
            return
        options.append(o)
    for combo in itertools.product(*options):
        load: dict[int, float] = {}
        for i, j in zip(need, combo, strict=True):
            if j >= 0:
                load[j] = load.get(j, 0.0) + w[i]
        if all(v <= cap[j] + 1e-9 for j, v in load.items()):
            yield dict(zip(need, combo, strict=True))


def milp_cover(A) -> int:
    """Fewest columns covering every row of the 0/1 matrix ``A``, by scipy's own MILP interface
    on the whole matrix (independent of careplan's reductions, row generation and local search)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    m = A.shape[1]
    res = milp(np.ones(m), constraints=[LinearConstraint(A, 1, np.inf)], integrality=np.ones(m),
               bounds=Bounds(0, 1))
    assert res.status == 0
    return round(res.fun)


def brute_best(values: Iterator[float | None], sense: str) -> float | None:
    """Best of the feasible values (None entries are infeasible); None if none is feasible."""
    best = None
    for v in values:
        if v is not None and (best is None or (v > best if sense == "max" else v < best)):
            best = v
    return best


@pytest.fixture
def locate_instance() -> LocateInstance:
    """The small labelled location instance of seed 0 (see :func:`make_locate_instance`)."""
    return make_locate_instance(0)


@pytest.fixture
def locate_brute() -> dict[str, Callable]:
    """Brute-force helpers for location models: ``open_sets``, ``assignments``, ``best``."""
    return {"open_sets": open_sets, "assignments": assignments, "best": brute_best}


# --------------------------------------------------------------------------- the bundled sample
@pytest.fixture(scope="session")
def sample():
    """The bundled Nanjing Xuanwu sample (areas, facilities, candidates; ``network_path``)."""
    import careplan as cp

    return cp.datasets.load_sample()


@pytest.fixture(scope="session")
def sample_network(sample):
    """The sample's walking network, built once per test session (CareplanWarnings silenced)."""
    import warnings

    import careplan as cp
    from careplan._errors import CareplanWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CareplanWarning)
        return cp.WalkNetwork.from_file(sample.network_path)
