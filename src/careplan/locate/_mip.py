"""Thin wrapper around HiGHS (highspy): pass a sparse model, solve, read back.

Models are built by the callers as scipy.sparse matrices and handed to HiGHS in
one ``passModel`` call (no per-variable Python objects), so building is cheap.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from careplan._errors import InfeasibleError, SolverError

__all__ = ["MipResult", "solve_mip", "CoverLP", "cover_lp"]


@dataclass(frozen=True)
class MipResult:
    x: np.ndarray | None
    objective: float
    bound: float
    gap: float
    status: str  # 'optimal' | 'time_limit' | 'infeasible'
    solve_time_s: float


class NoSolutionInTime(SolverError):
    """HiGHS reached the time limit before any feasible solution.

    The model that called the solver re-raises it as a :class:`SolverError` with
    advice that works for that model (see ``LocationModel.time_limit_advice``).
    """


def solve_mip(c: np.ndarray, A: sp.sparray, row_lo: np.ndarray, row_hi: np.ndarray,
              col_lo: np.ndarray, col_hi: np.ndarray, integer: np.ndarray, *,
              maximize: bool = False, time_limit_s: float | None = None, mip_gap: float = 1e-6,
              start: np.ndarray | None = None, verbose: bool = False,
              offset: float = 0.0, options: dict | None = None) -> MipResult:
    """Solve ``min/max c.x + offset`` s.t. ``row_lo <= A x <= row_hi``, bounds, integrality.

    Returns a :class:`MipResult`; ``status`` is ``'infeasible'`` (x None) when HiGHS
    proves infeasibility. Raises SolverError when HiGHS stops without a solution.
    ``options`` are extra HiGHS options; the environment variable
    ``CAREPLAN_HIGHS_OPTS="name=value,..."`` overrides them (for tuning experiments).
    """
    t0 = time.perf_counter()
    A = sp.csc_array(A)
    A.sort_indices()
    n_col = A.shape[1]
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = A.shape[0]
    lp.col_cost_ = np.asarray(c, dtype=np.float64)
    lp.col_lower_ = np.asarray(col_lo, dtype=np.float64)
    lp.col_upper_ = np.asarray(col_hi, dtype=np.float64)
    lp.row_lower_ = np.where(np.isinf(row_lo), -inf, row_lo).astype(np.float64)
    lp.row_upper_ = np.where(np.isinf(row_hi), inf, row_hi).astype(np.float64)
    lp.offset_ = float(offset)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(np.float64)
    integ = np.where(np.asarray(integer, dtype=bool), 1, 0).astype(np.uint8)
    lp.integrality_ = [highspy.HighsVarType.kInteger if v else highspy.HighsVarType.kContinuous for v in integ]
    if maximize:
        lp.sense_ = highspy.ObjSense.kMaximize
    h = _new_highs(verbose)
    h.setOptionValue("output_flag", bool(verbose))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    h.setOptionValue("mip_abs_gap", 1e-9)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(max(time_limit_s, 0.01)))
    import os
    extra = dict(options or {})
    if os.environ.get("CAREPLAN_HIGHS_OPTS"):
        for kv in os.environ["CAREPLAN_HIGHS_OPTS"].split(","):
            k, v = kv.split("=")
            extra[k] = _parse(v)
    if start is not None:
        # HiGHS 1.16 can misjudge a start mapped into the presolved model (seen on a
        # set covering: start of 96 sites taken as 93 "in the reduced space" and declared
        # optimal, true optimum 95), so a start goes with presolve off; careplan reduces
        # its models itself. An explicit option still wins.
        extra.setdefault("presolve", "off")
    for k, v in extra.items():
        h.setOptionValue(k, v)
    st = h.passModel(lp)
    if st == highspy.HighsStatus.kError:
        raise SolverError("HiGHS rejected the model (internal error building it); please report this.")
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, dtype=np.float64)
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    ms = h.getModelStatus()
    info = h.getInfo()
    t = time.perf_counter() - t0
    if ms == highspy.HighsModelStatus.kInfeasible:
        return MipResult(None, np.nan, np.nan, np.nan, "infeasible", t)
    if info.primal_solution_status < 2:  # no feasible solution
        if ms == highspy.HighsModelStatus.kTimeLimit:
            raise NoSolutionInTime("HiGHS reached the time limit before finding any feasible solution.")
        if ms == highspy.HighsModelStatus.kUnboundedOrInfeasible:
            raise InfeasibleError("the model is infeasible (HiGHS: unbounded or infeasible).")
        raise SolverError(f"HiGHS stopped without a solution (status: {h.modelStatusToString(ms)}).")
    x = np.asarray(h.getSolution().col_value, dtype=float)
    obj = float(info.objective_function_value)
    recomputed = float(np.dot(lp.col_cost_, x)) + float(offset)
    if abs(recomputed - obj) > 1e-6 * max(1.0, abs(obj)):
        raise SolverError(f"HiGHS reported objective {obj!r} but its solution gives {recomputed!r}; "
                          "this is a solver fault, please report it with the input.")
    bound = float(info.mip_dual_bound) if integ.any() else obj
    if ms == highspy.HighsModelStatus.kOptimal:
        status = "optimal"
    elif ms == highspy.HighsModelStatus.kTimeLimit:
        status = "time_limit"
    else:
        status = h.modelStatusToString(ms).lower().replace(" ", "_")
    gap = _gap(obj, bound)
    return MipResult(x, obj, bound, gap, status, t)


@dataclass(frozen=True)
class CoverLP:
    objective: float  # LP value over the active rows: a lower bound for the full cover
    x: np.ndarray
    active: np.ndarray  # boolean row mask: the rows in the final LP
    complete: bool  # x covers every row (objective is the full LP optimum)
    rounds: int
    dual: np.ndarray | None = None  # row duals of the last finished LP, shape (n_rows,) (0 on inactive rows)


def cover_lp(A: sp.csr_array, *, batch: int = 200, n_seed: int = 100,
             time_limit_s: float | None = None) -> CoverLP:
    """LP relaxation of the unicost set cover ``min 1.x, A x >= 1, 0 <= x <= 1`` by row generation.

    Starts from a packing of rows with disjoint column sets plus the ``n_seed`` rows
    with the fewest columns, then repeatedly adds the ``batch`` rows the LP solution
    covers least, re-solving warm (dual simplex) until every row is covered. On
    dense instances (large radii) the final LP keeps about a quarter of the rows
    and is several times faster than the full LP. The value over any subset of
    rows is a valid lower bound, also when the time limit stops the loop early
    (``complete`` False; if it stops inside the first LP, the bound is 0).
    """
    t0 = time.perf_counter()
    n, m = A.shape
    deg = np.diff(A.indptr)
    order = np.argsort(deg, kind="stable")
    active = np.zeros(n, dtype=bool)
    used = np.zeros(m, dtype=bool)
    for i in order:
        c = A.indices[A.indptr[i]:A.indptr[i + 1]]
        if not used[c].any():
            used[c] = True
            active[i] = True
    active[order[:n_seed]] = True
    h = _new_highs(False)
    h.setOptionValue("output_flag", False)
    h.addVars(m, np.zeros(m), np.ones(m))
    h.changeColsCost(m, np.arange(m, dtype=np.int32), np.ones(m))

    added: list[np.ndarray] = []  # LP row order -> rows of A

    def add(mask: np.ndarray) -> None:
        idx = np.flatnonzero(mask)
        added.append(idx)
        S = sp.csr_array(A[idx])
        k = S.shape[0]
        h.addRows(k, np.ones(k), np.full(k, highspy.kHighsInf), S.nnz, S.indptr[:-1].astype(np.int32),
                  S.indices.astype(np.int32), S.data.astype(np.float64))

    add(active)
    rounds = 0
    obj, x, dual = 0.0, np.zeros(m), None  # x >= 0 with unit costs: 0 bounds any cover from below
    while True:
        if time_limit_s is not None:
            h.setOptionValue("time_limit", float(max(time_limit_s - (time.perf_counter() - t0), 0.01)))
        h.run()
        rounds += 1
        ms = h.getModelStatus()
        if ms == highspy.HighsModelStatus.kTimeLimit:  # the last finished LP's value still holds
            return CoverLP(obj, x, active, False, rounds, dual)
        if ms != highspy.HighsModelStatus.kOptimal:
            raise SolverError(f"HiGHS did not finish the set-covering LP (status: {h.modelStatusToString(ms)}).")
        x = np.asarray(h.getSolution().col_value, dtype=float)
        obj = float(h.getInfo().objective_function_value)
        dual = np.zeros(n)
        dual[np.concatenate(added)] = np.abs(np.asarray(h.getSolution().row_dual, dtype=float))
        cov = A @ x
        viol = np.flatnonzero(cov < 1.0 - 1e-7)
        if not len(viol):
            return CoverLP(obj, x, active, True, rounds, dual)
        if time_limit_s is not None and time.perf_counter() - t0 >= time_limit_s:
            return CoverLP(obj, x, active, False, rounds, dual)
        new = np.zeros(n, dtype=bool)
        new[viol[np.argsort(cov[viol], kind="stable")[:batch]]] = True
        active |= new
        add(new)


def _new_highs(verbose: bool) -> highspy.Highs:
    """A Highs instance; unless verbose, without the copyright banner HiGHS prints to
    the C-level stdout on construction (before output_flag can be set)."""
    if verbose:
        return highspy.Highs()
    import os
    import sys

    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # no real stdout (e.g. captured)
        return highspy.Highs()
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
            return highspy.Highs()
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def _gap(obj: float, bound: float) -> float:
    if not np.isfinite(bound) or not np.isfinite(obj):
        return np.inf
    diff = abs(obj - bound)
    if diff <= 1e-12 * max(1.0, abs(obj)):
        return 0.0
    return diff / max(abs(obj), 1e-12)


def _parse(v: str):
    for f in (int, float):
        try:
            return f(v)
        except ValueError:
            pass
    return v
