"""Pooling of floor-area deficits into shared stations (issue 12.2): an exact MIP.

After the location model has chosen the new stations the walking circle needs, every
area's remaining (off-site) floor-area deficit is given to ONE host within the walking
circle: an existing counted facility (expanded by what it takes, no minimum), a station
the model chose (``forced``: built anyway, at least the site minimum) or, where these
do not reach, another candidate site (``optional``: a station opened only for
deficits). Small deficits (below the site minimum) are pooled: one station takes them
together with their neighbours instead of each getting its own minimum-size station.
An optional station may take a small deficit only within the pooling circle (walking
metres; Anhui 2022: 5 minutes), unless no optional site lies within it (then within
the walking circle; the area is listed in ``unpooled``).

The choice is lexicographic, each stage an exact MIP (HiGHS via
:func:`scipy.optimize.milp`) with the earlier stages' optima as constraints:

1. least floor area left unserved because a station would exceed its cap (the profile's
   maximum, the candidate's ``max_floor_area_m2``);
2. fewest optional stations (so the number of new stations is the least possible);
3. least floor area built: a new station is ``max(deficits taken, minimum)``, so small
   deficits fill the minimum of a station that must be built anyway before they
   enlarge another one;
4. least walking (sum of m2 x metres): otherwise each deficit goes to its nearest host.

Variables: ``x[a,h]`` (area a served by host h, binary, only for allowed pairs),
``y[h]`` (optional station h opened, binary), ``f[h]`` (floor area of new station h,
m2, in ``[min, cap]`` when open) and ``o[h]`` (m2 over the cap, >= 0):

    sum_h x[a,h] = 1                   every area with an allowed host
    x[a,h] <= y[h]                     optional hosts serve only when opened
    sum_a d[a] x[a,h] - f[h] - o[h] <= 0
    f[h] >= min * y[h]                 (forced stations: f[h] >= min)

The problem splits into the connected components of the area-host graph; each is
solved on its own. In a component of more than :data:`EXACT_PAIRS` pairs the stations
of stage 2 are kept in stages 3 and 4, which stop at a relative gap of 1e-4 and 1e-3
(stages 1 and 2 stay exact); without optional hosts such a component keeps only each
area's nearest host and the hosts that nearest assignment leaves below the minimum
(exact for the floor area when no cap binds). A component larger than ``max_pairs`` is solved in two steps
(stages 1-2 with optional hosts only for areas no forced host or expansion reaches,
then stages 3-4 with the opened stations fixed), stated in ``notes``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from careplan._errors import InputError, SolverError

__all__ = ["Pooling", "pool_deficits"]

#: Pairs in one component above which the two-step (not proven lexicographic) route runs.
MAX_PAIRS = 20_000
#: Pairs in one component above which the floor-area and walking stages stop at a relative
#: gap of 1e-4 and 1e-3 (the unserved m2 and the station count stay exact).
EXACT_PAIRS = 3_000


@dataclass(frozen=True)
class Pooling:
    """Result of :func:`pool_deficits`.

    Attributes
    ----------
    assignment : DataFrame
        ``area_id, host, floor_area_m2, distance_m``: the one host of every served area
        and the deficit (m2) it takes.
    floor_area_m2 : Series
        Floor area of every open new station (forced ones and the opened optional ones),
        m2, index = host label: ``min(max(taken, minimum), cap)``.
    opened : tuple
        Optional hosts opened (for deficits or for a ``cover`` group).
    unserved_m2 : Series
        Per new station, the m2 of deficits above its cap (0 where none), index = host.
    unresolved : tuple
        Areas with a deficit that no allowed host reaches.
    unpooled : tuple
        Small areas with no optional site within the pooling circle (allowed the
        walking circle instead).
    notes : tuple of str
        Components solved by the two-step route or stopped by the time limit.
    """

    assignment: pd.DataFrame
    floor_area_m2: pd.Series
    opened: tuple
    unserved_m2: pd.Series
    unresolved: tuple
    unpooled: tuple
    notes: tuple


def _check_inputs(deficit_m2: pd.Series, pairs: pd.DataFrame, min_m2: float,
                  pool_cutoff_m: float) -> None:
    missing = {"origin", "destination", "distance_m"} - set(pairs.columns)
    if missing:
        raise InputError(f"pairs need columns {sorted(missing)} (origin = area id, "
                         "destination = host label, distance_m)")
    d = pd.to_numeric(deficit_m2, errors="coerce")
    if not (np.isfinite(d) & (d >= 0)).all():
        raise InputError("deficit_m2 must be finite numbers >= 0 (m2 per area)")
    for name, v in (("min_m2", min_m2), ("pool_cutoff_m", pool_cutoff_m)):
        if not np.isfinite(v) or v < 0:
            raise InputError(f"{name} must be a finite number >= 0, got {v!r}")


def _allowed(deficit: pd.Series, pairs: pd.DataFrame, open_hosts: set, optional: set,
             min_m2: float, pool_cutoff_m: float) -> tuple[pd.DataFrame, tuple]:
    """The allowed (area, host) pairs and the small areas that cannot be pooled."""
    p = pairs[pairs["origin"].isin(deficit.index)
              & pairs["destination"].isin(open_hosts | optional)]
    p = p.sort_values(["origin", "distance_m", "destination"]).drop_duplicates(
        ["origin", "destination"])
    d = p["origin"].map(deficit).to_numpy(float)
    to_opt = p["destination"].isin(optional).to_numpy()
    small = d < min_m2
    within = p["distance_m"].to_numpy(float) <= pool_cutoff_m + 1e-9
    keep = ~to_opt | ~small | within
    # a small area that keeps no pair at all (no open host, no optional site within the
    # pooling circle) may use the optional sites within the walking circle
    kept = set(p.loc[keep, "origin"])
    lonely = ~p["origin"].isin(kept).to_numpy()
    unpooled = tuple(sorted(set(p.loc[lonely, "origin"]), key=str))
    return p[keep | lonely].reset_index(drop=True), unpooled


def _components(p: pd.DataFrame, cover: Sequence) -> list[tuple[np.ndarray, list]]:
    """Row indexes of ``p`` and indexes of the ``cover`` groups by connected component of
    the area-host graph (a cover group links its hosts)."""
    from scipy.sparse.csgraph import connected_components

    a_codes, a_uni = pd.factorize(p["origin"])
    hosts = pd.Index(pd.unique(pd.concat([p["destination"], pd.Series(
        [h for g in cover for h in g], dtype=object)], ignore_index=True)))
    n_a, n_g = len(a_uni), len(cover)
    n = n_a + n_g + len(hosts)
    src = [*a_codes, *(n_a + g for g, grp in enumerate(cover) for _ in grp)]
    dst = [*(n_a + n_g + hosts.get_indexer(p["destination"])),
           *(n_a + n_g + hosts.get_indexer(list(grp)) for grp in cover)]
    dst = np.concatenate([np.asarray(x, dtype=np.int64).ravel() for x in dst]) if dst \
        else np.zeros(0, dtype=np.int64)
    g = sp.coo_array((np.ones(len(src)), (np.asarray(src, dtype=np.int64), dst)),
                     shape=(n, n))
    _, lab = connected_components(g, directed=False)
    out: dict[int, tuple[list, list]] = {}
    for k, c in enumerate(a_codes):
        out.setdefault(int(lab[c]), ([], []))[0].append(k)
    for j in range(n_g):
        out.setdefault(int(lab[n_a + j]), ([], []))[1].append(j)
    return [(np.asarray(r, dtype=np.int64), gs) for r, gs in out.values()]


@dataclass(frozen=True)
class _Part:
    """One component as arrays (pairs, hosts) and its MIP's variable layout."""

    pairs: pd.DataFrame
    areas: list
    new_hosts: list          # forced + optional, the hosts with a floor-area variable
    optional: list
    d: np.ndarray            # deficit of each pair's area
    cap: np.ndarray          # cap of each new host (inf: none)
    cover: tuple = ()        # lists of optional hosts, at least one of each opened


def _solve_part(part: _Part, min_m2: float, forced: set, time_limit_s: float,
                exact_pairs: int = EXACT_PAIRS
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """x (per pair), y (per optional host) and f (per new host) of the lexicographic
    optimum of one component."""
    pr = part.pairs
    n_p, n_n, n_o = len(pr), len(part.new_hosts), len(part.optional)
    has_cap = np.isfinite(part.cap)
    # variables: x (n_p) | y (n_o) | f (n_n) | o (n_n)
    ix, iy, i_f, io = 0, n_p, n_p + n_o, n_p + n_o + n_n
    n = n_p + n_o + 2 * n_n
    apos = {a: i for i, a in enumerate(part.areas)}
    npos = {h: i for i, h in enumerate(part.new_hosts)}
    opos = {h: i for i, h in enumerate(part.optional)}
    rows, cols, vals, lo, hi = [], [], [], [], []

    def row(entries, low, high):
        r = len(lo)
        for c, v in entries:
            rows.append(r)
            cols.append(c)
            vals.append(v)
        lo.append(low)
        hi.append(high)

    a_of = [apos[a] for a in pr["origin"]]
    by_area: dict[int, list[int]] = {}
    for k, a in enumerate(a_of):
        by_area.setdefault(a, []).append(k)
    for ks in by_area.values():
        row([(ix + k, 1.0) for k in ks], 1.0, 1.0)
    by_new: dict[int, list[int]] = {}
    for k, h in enumerate(pr["destination"]):
        if h in opos:
            row([(ix + k, 1.0), (iy + opos[h], -1.0)], -np.inf, 0.0)
        if h in npos:
            by_new.setdefault(npos[h], []).append(k)
    for hs in part.cover:  # an area the walking circle needs: one station within reach
        row([(iy + opos[h], 1.0) for h in hs], 1.0, np.inf)
    for j in range(n_n):
        ks = by_new.get(j, [])
        row([(ix + k, float(part.d[k])) for k in ks] + [(i_f + j, -1.0), (io + j, -1.0)],
            -np.inf, 0.0)
        h = part.new_hosts[j]
        if h in opos:
            row([(i_f + j, 1.0), (iy + opos[h], -min_m2)], 0.0, np.inf)
    lb = np.zeros(n)
    ub = np.ones(n)
    ub[i_f:io] = np.where(has_cap, part.cap, np.inf)
    lb[i_f:io] = [min(min_m2, c) if h in forced else 0.0
                  for h, c in zip(part.new_hosts, part.cap, strict=True)]
    ub[io:] = np.where(has_cap, np.inf, 0.0)
    integrality = np.r_[np.ones(n_p + n_o), np.zeros(2 * n_n)]
    exp_w = np.array([0.0 if h in npos else float(part.d[k])
                      for k, h in enumerate(pr["destination"])])
    stages = []
    if has_cap.any():
        c = np.zeros(n)
        c[io:] = 1.0
        stages.append((c, 1e-6))
    if n_o:
        c = np.zeros(n)
        c[iy:i_f] = 1.0
        stages.append((c, 0.5))  # a count: the optimum itself, not one more
    c = np.zeros(n)
    c[i_f:io] = 1.0
    c[ix:iy] = exp_w
    stages.append((c, 1e-6))
    c = np.zeros(n)
    c[ix:iy] = part.d * pr["distance_m"].to_numpy(float)
    stages.append((c, None))
    status = "optimal"
    x = None
    large = n_p > exact_pairs
    for c, tol in stages:
        a = sp.csr_array((vals, (rows, cols)), shape=(len(lo), n))
        gap = 1e-9 if not large or tol == 0.5 or (tol is not None and not c[i_f:io].any()) \
            else (1e-4 if tol is not None else 1e-3)
        res = milp(c, constraints=LinearConstraint(a, lo, hi), integrality=integrality,
                   bounds=Bounds(lb, ub),
                   options={"time_limit": time_limit_s, "mip_rel_gap": gap})
        if res.x is None:
            if x is None:
                raise SolverError(f"HiGHS found no pooling of the deficits: {res.message}; "
                                  "raise time_limit_s")
            status = "time limit"
            break
        x = np.asarray(res.x)
        if res.status != 0:
            status = "time limit"
            break
        if tol == 0.5 and large:  # fix the stations (presolve drops the others' pairs)
            lb[iy:i_f] = ub[iy:i_f] = np.round(x[iy:i_f])
        if tol is not None:  # keep this stage's optimum in the next ones
            opt = float(c @ x)
            nz = np.flatnonzero(c)
            slack = tol if tol == 0.5 else tol * (1 + abs(opt))
            row([(int(i), float(c[i])) for i in nz], -np.inf, opt + slack)
    return np.round(x[ix:iy]), np.round(x[iy:i_f]), x[i_f:io], status


def _two_step(part: _Part, min_m2: float, forced: set, open_hosts: set, time_limit_s: float
              ) -> tuple[_Part, list]:
    """Opened optional hosts from stages 1-2 on the areas no open host reaches; then the
    component with those opened (as forced) and no optional host."""
    pr = part.pairs
    served = set(pr.loc[pr["destination"].isin(open_hosts), "origin"])
    need = pr[~pr["origin"].isin(served)]
    opened: list = []
    if len(need):
        sub = _subpart(need, part, forced)
        x, _, _, _ = _solve_part(sub, min_m2, forced, time_limit_s)
        opened = sorted(set(sub.pairs.loc[x > 0.5, "destination"]) & set(part.optional),
                        key=str)
    keep = pr[pr["destination"].isin(open_hosts | set(opened))]
    return _subpart(keep, part, forced | set(opened), optional=()), opened


def _subpart(pr: pd.DataFrame, part: _Part, forced: set, optional: Sequence | None = None
             ) -> _Part:
    dmap = pd.Series(part.d, index=part.pairs["origin"].to_numpy())
    dmap = dmap[~dmap.index.duplicated()]
    pr = pr.reset_index(drop=True)
    hosts = set(pr["destination"].unique())
    capmap = dict(zip(part.new_hosts, part.cap, strict=True))
    opt = [h for h in (part.optional if optional is None else optional) if h in hosts]
    new = [h for h in part.new_hosts if h in hosts and (h in forced or h in opt)]
    return _Part(pr, sorted(pr["origin"].unique(), key=str), new, opt,
                 pr["origin"].map(dmap).to_numpy(float), np.array([capmap[h] for h in new]))


def _nearest_and_slack(part: _Part, min_m2: float, forced: set) -> _Part:
    """A large component without optional hosts, cut to each area's nearest host and the
    pairs to the hosts that nearest assignment leaves below the minimum (the only moves
    that can lower the floor area built when no cap binds)."""
    pr = part.pairs.assign(_d=part.d)
    near = pr.sort_values(["origin", "distance_m", "destination"]).drop_duplicates("origin")
    load = near.groupby("destination")["_d"].sum()
    slack = {h for h in part.new_hosts if load.get(h, 0.0) < min_m2}
    keep = part.pairs[pr.index.isin(near.index) | pr["destination"].isin(slack)]
    return _subpart(keep, part, forced, optional=())


def pool_deficits(deficit_m2: pd.Series, pairs: pd.DataFrame, *,
                  expansions: Sequence = (), forced: Sequence = (), optional: Sequence = (),
                  min_m2: float, cap_m2: pd.Series | None = None, pool_cutoff_m: float,
                  cover: Sequence[Sequence] = (), time_limit_s: float = 60.0,
                  max_pairs: int = MAX_PAIRS, exact_pairs: int = EXACT_PAIRS) -> Pooling:
    """Give every area's deficit to one host, pooling small deficits (see module doc).

    Parameters
    ----------
    deficit_m2 : Series of shape (n_areas,)
        Floor-area deficit of each area to serve, m2 (index = area ids); areas <= 0 are
        skipped.
    pairs : DataFrame
        ``origin`` (area id), ``destination`` (host label), ``distance_m``: the pairs
        within the walking circle (the only ones allowed).
    expansions : sequence
        Hosts that are existing facilities: they take any deficit, no minimum, no cap.
    forced : sequence
        New stations built anyway (the location model's): at least ``min_m2``.
    optional : sequence
        Candidate sites that may become stations for deficits only (at least ``min_m2``).
    min_m2 : float
        Single-site minimum of a new station, m2
        (:func:`careplan.standards.site_limits`).
    cap_m2 : Series, optional
        Largest floor area of a new station at each host, m2 (missing / NaN: no cap).
    pool_cutoff_m : float
        Pooling circle, walking metres: how far an optional station may be from a small
        area (deficit < ``min_m2``) it takes.
    cover : sequence of sequences
        Groups of optional hosts of which at least one must open (an area the walking
        circle needs covered: the candidates within its reach). With them the new
        stations of the location model can be re-chosen together with the deficits.
    time_limit_s : float
        HiGHS time limit of each stage, seconds.
    max_pairs : int
        Pairs in one component above which the two-step route runs.
    exact_pairs : int
        Pairs in one component above which the floor-area and walking stages are cut
        (see the module doc).

    Returns
    -------
    Pooling

    Raises
    ------
    InputError
        Missing pair columns, deficits that are not finite numbers >= 0.
    SolverError
        HiGHS finds no solution within the time limit.
    """
    _check_inputs(deficit_m2, pairs, min_m2, pool_cutoff_m)
    deficit = pd.to_numeric(deficit_m2).astype(float)
    deficit = deficit[deficit > 0]
    forced_s, opt_s, exp_s = set(forced), set(optional) - set(forced), set(expansions)
    cover = [tuple(sorted(set(g) & opt_s, key=str)) for g in cover]
    if any(not g for g in cover):
        raise InputError("every cover group needs at least one optional host")
    open_hosts = exp_s | forced_s
    p, unpooled = _allowed(deficit, pairs, open_hosts, opt_s, min_m2, pool_cutoff_m)
    caps = pd.Series(dtype=float) if cap_m2 is None else pd.to_numeric(cap_m2).astype(float)

    def cap_of(h):
        v = caps.get(h, np.inf)
        return float(v) if pd.notna(v) else np.inf

    assign, sizes, opened, notes = [], {}, [], []
    for idx, groups in _components(p, cover):
        pr = p.iloc[idx].reset_index(drop=True)
        grp = tuple(cover[j] for j in groups)
        hosts = set(pr["destination"]) | {h for g in grp for h in g}
        new = sorted(hosts & (forced_s | opt_s), key=str)
        part = _Part(pr, sorted(set(pr["origin"]), key=str), new,
                     sorted(hosts & opt_s, key=str), pr["origin"].map(deficit).to_numpy(float),
                     np.array([cap_of(h) for h in new]), grp)
        fixed = forced_s
        if len(pr) > max_pairs and part.optional and not grp:
            part, more = _two_step(part, min_m2, forced_s, open_hosts, time_limit_s)
            opened += more
            fixed = forced_s | set(more)
            notes.append(f"a component of {len(pr)} pairs was solved in two steps (stations "
                         "first, then sizes); the station count is exact, the floor area "
                         "may not be the least")
        if len(part.pairs) > exact_pairs and not part.optional:
            part = _nearest_and_slack(part, min_m2, fixed)
        x, y, f, status = _solve_part(part, min_m2, fixed, time_limit_s, exact_pairs)
        if status != "optimal":
            notes.append(f"a component of {len(part.pairs)} pairs stopped at the time limit; "
                         "its pooling is the best found")
        chosen = part.pairs[x > 0.5]
        assign.append(chosen)
        now_open = {h for h, v in zip(part.optional, y, strict=True) if v > 0.5}
        opened += sorted(now_open - set(opened), key=str)
        for h, v in zip(part.new_hosts, f, strict=True):
            if h in fixed or h in now_open:
                sizes[h] = float(v)
    for h in forced_s - set(sizes):  # a model's station no deficit reaches
        sizes[h] = min(min_m2, cap_of(h))
    table = (pd.concat(assign, ignore_index=True) if assign
             else pd.DataFrame(columns=["origin", "destination", "distance_m"]))
    table = pd.DataFrame({"area_id": table["origin"].to_numpy(),
                          "host": table["destination"].to_numpy(),
                          "floor_area_m2": table["origin"].map(deficit).to_numpy(float),
                          "distance_m": table["distance_m"].to_numpy(float)})
    load = table.groupby("host")["floor_area_m2"].sum()
    size = pd.Series(sizes, dtype=float).sort_index(key=lambda s: s.map(str))
    over = (load.reindex(size.index).fillna(0.0) - size).clip(lower=0.0)
    over[over < 1e-6] = 0.0
    unresolved = tuple(sorted(set(deficit.index) - set(table["area_id"]), key=str))
    return Pooling(table, size, tuple(sorted(opened, key=str)), over, unresolved, unpooled,
                   tuple(notes))
