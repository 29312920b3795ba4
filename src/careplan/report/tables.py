"""Labelled tables for a planner, built from the plain frames computation returns.

``plan.summary`` and the rule tables carry ids (``metric``, ``rule_id``) and
numbers; here they get their labels in the report's language
(:mod:`careplan.report.labels`), shares become percentages and citations name
the document and clause.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from careplan.report.format import fmt, fmt_percent, num
from careplan.report.labels import category_label, is_share, metric_label, t, unit_label
from careplan.report.phrases import note_text

__all__ = ["TOTAL_COLUMNS", "citation_text", "rules_frame", "standard_citations",
           "standard_title", "summary_frame", "with_totals"]

_FILE_REF = re.compile(r"\s*\[[^\[\]]*\.(?:txt|pdf|docx?|html?|md)\]")


def _pp(d: float, lang: str) -> str:
    """A change of a share in percentage points."""
    s = f"{100 * d:+.1f}".replace(".0", "") if d else "0"
    return s + (" 个百分点" if lang == "zh" else " pp")


def summary_frame(summary: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The before/after summary for a planner: ``label, before, after, change``.

    Labels come from the catalogue (then the frame's ``label_<lang>``, then the
    metric id, for metrics it does not know).  Shares (metric ids ending in
    ``_share``) become percentages and their change percentage points; other
    values stay numbers (``change`` = after - before, None when not numeric).
    """
    rows = []
    for _, r in summary.iterrows():
        metric = r["metric"]
        nb, na = num(r["before"]), num(r["after"])
        change: Any = None if nb is None or na is None else na - nb
        before, after = r["before"], r["after"]
        if is_share(metric):
            before, after = fmt_percent(before), fmt_percent(after)
            change = "–" if change is None else _pp(change, lang)
        rows.append((metric_label(metric, lang, r.get(f"label_{lang}")), before, after, change))
    return pd.DataFrame(rows, columns=["label", "before", "after", "change"])


def _standard(parameters: dict | None) -> Any:
    """The plan's standard, reloaded by name (None when it cannot be)."""
    name = (parameters or {}).get("standard")
    if not isinstance(name, str) or not name:
        return None
    try:
        from careplan import standards

        return standards.load(name)
    except Exception:  # noqa: BLE001 - a profile that cannot be reloaded: use the text
        return None


def standard_citations(parameters: dict | None) -> dict[str, Any]:
    """``rule_id -> Citation`` of the plan's standard, when it can be loaded by name."""
    std = _standard(parameters)
    return {} if std is None else {r.id: r.citation for r in std.rules}


def standard_title(parameters: dict | None, lang: str) -> Any:
    """The title of the plan's standard in *lang* (the profile's ``title_zh`` / ``title``),
    else the ``standard_title`` parameter as given, else None."""
    std = _standard(parameters)
    title = None
    if std is not None:
        title = (getattr(std, "title_zh", "") or std.title) if lang == "zh" else std.title
    return title or (parameters or {}).get("standard_title")


def citation_text(citation: Any, lang: str, cit: Any = None) -> str:
    """A citation for a planner: document title and clause, then the verbatim quote.

    A value whose official text was not checked (``verified = false`` in the
    profile) says so, with the secondary source it comes from.

    Parameters
    ----------
    citation : str
        The rule table's ``citation`` text (used when *cit* is None; internal
        file names such as ``[000_3e65….txt]`` are removed).
    lang : {"zh", "en"}
    cit : careplan.standards.Citation, optional
        The structured citation (document title, clause, quote, verified,
        secondary source).

    Returns
    -------
    str
        ``《title》clause：“quote”`` (zh) or ``title, clause: “quote”`` (en), then
        ``（未核对官方原文；数值来源：…）`` / ``(not verified against the official
        text; values from: …)`` when *cit* is not verified.
    """
    if cit is not None:
        title = (cit.title_zh or cit.title) if lang == "zh" else (cit.title or cit.title_zh)
        if lang == "zh":
            text = f"《{title}》{cit.clause}" + (f"：“{cit.quote}”" if cit.quote else "")
        else:
            text = f"{title}, {cit.clause}" + (f": “{cit.quote}”" if cit.quote else "")
        if not getattr(cit, "verified", True):
            src = getattr(cit, "secondary_source", "") or ""
            if lang == "zh":
                text += "（未核对官方原文" + (f"；数值来源：{src}" if src else "") + "）"
            else:
                text += (" (not verified against the official text"
                         + (f"; values from: {src}" if src else "") + ")")
        return text
    if citation is None or (isinstance(citation, float) and np.isnan(citation)):
        return "–"
    return _FILE_REF.sub("", str(citation))


def _is_share_unit(unit: Any) -> bool:
    return isinstance(unit, str) and unit.strip().lower().startswith("share")


def _bound(lo: Any, hi: Any, share: bool, lang: str) -> Any:
    f = fmt_percent if share else (lambda v: fmt(v, lang))
    if num(lo) is None:
        return lo
    if num(hi) is not None and num(hi) != num(lo):
        return f"{f(lo)}–{f(hi)}"
    return f(lo)


def _circle_unit(r: pd.Series, lang: str) -> str | None:
    """The unit of a circle rule's share row (service circle in minutes, GB 50180 life
    circle in metres, the upper bound of a range); None for any other rule."""
    if r.get("kind") == "service_circle" or r["rule_id"] == "service_circle":
        minutes = fmt(r["required"], lang)
        return (f"步行 {minutes} 分钟内的户数占比" if lang == "zh"
                else f"share of households within a {minutes}-minute walk")
    if r.get("kind") == "life_circle_m":
        hi = r.get("required_max")
        limit = fmt(hi if num(hi) is not None else r["required"], lang)
        return (f"步行 {limit} 米内的户数占比" if lang == "zh"
                else f"share of households within a {limit} m walk")
    return None


def rules_frame(rules: pd.DataFrame, lang: str, *, citations: dict | None = None) -> pd.DataFrame:
    """A rule table for a planner: ``rule_id, label, required, found, unit, passed,
    note, citation``.

    Shares (units starting with "share") are percentages.  The service-circle
    rule compares like with like: the share of households within the circle,
    required 100 %, found x %, with the circle in the unit; so do the GB 50180 life-circle
    rules (``life_circle_m``: the circle's metres, the upper bound of a range, go in the unit).  ``passed`` stays a
    flag (True/False/None) for the writer to colour.
    """
    citations = citations or {}
    out = pd.DataFrame(index=rules.index)
    out["rule_id"] = rules["rule_id"]
    lab = f"label_{lang}"
    out["label"] = (rules[lab].where(rules[lab].notna(), rules["rule_id"])
                    if lab in rules.columns else rules["rule_id"])
    req, found, unit = [], [], []
    for _, r in rules.iterrows():
        u = r.get("unit")
        kind = r.get("kind")
        circle = _circle_unit(r, lang)
        if circle is not None:  # required: every household within the circle
            req.append(fmt_percent(1.0))
            found.append(fmt_percent(r["found"]))
            unit.append(circle)
            continue
        share = _is_share_unit(u) or "share" in str(kind)
        req.append(_bound(r["required"], r.get("required_max"), share, lang))
        found.append(_bound(r["found"], r.get("found_max"), share, lang))
        unit.append(unit_label(u, lang))
    out["required"] = pd.Series(req, index=rules.index, dtype=object)
    out["found"] = pd.Series(found, index=rules.index, dtype=object)
    if "unit" in rules.columns or any(u is not None for u in unit):
        out["unit"] = pd.Series(unit, index=rules.index, dtype=object)
    out["passed"] = rules["passed"]
    if "note" in rules.columns:
        out["note"] = _in_lang(rules, "note", lang)
    out["citation"] = [citation_text(c, lang, citations.get(rid))
                       for rid, c in zip(rules["rule_id"], rules["citation"], strict=True)]
    return out


def _in_lang(df: pd.DataFrame, col: str, lang: str) -> pd.Series:
    """Column *col* in *lang*: ``<col>_<lang>`` where the table has it (e.g. ``reason_zh``),
    else *col* with its fixed phrases translated (:func:`careplan.report.phrases.note_text`)."""
    own = f"{col}_{lang}"
    base = [note_text(v, lang) for v in df[col]]
    if own in df.columns:
        vals = [v if isinstance(v, str) and v.strip() else b for v, b in zip(df[own], base,
                                                                               strict=True)]
    else:
        vals = base
    return pd.Series(vals, index=df.index, dtype=object)


def rule_like_frame(df: pd.DataFrame, lang: str, *, citations: dict | None = None
                    ) -> pd.DataFrame:
    """A table of rules with more columns (e.g. ``rules_not_met``: category, reason)
    formatted as :func:`rules_frame`, its own columns kept after ``passed`` (the
    ``kind``, label and ``description`` columns left out; categories in *lang*)."""
    base = rules_frame(df, lang, citations=citations)
    skip = {"kind", "label_en", "label_zh", "description", "required_max", "found_max",
            *base.columns}
    extra = [c for c in df.columns if c not in skip]
    out = base.drop(columns=["citation"])
    for c in extra:
        vals = df[c]
        if c == "category":
            vals = [category_label(v, lang) for v in vals]
        elif c in ("reason", "note"):
            vals = _in_lang(df, c, lang)
        elif c.endswith(("_zh", "_en")) and c[:-3] in df.columns:
            continue  # the language variant of a column shown above
        out[c] = pd.Series(list(vals), index=df.index, dtype=object)
    out["citation"] = base["citation"]
    return out


#: Columns summed in the total rows of the plan's cost and phase tables (additive
#: quantities only: a cumulative column such as ``elderly_served_total`` is not summed).
TOTAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "cost": ("floor_area_m2", "construction_cost", "rent_per_year"),
    "phases": ("construction_cost", "elderly_served_new"),
}


def _sum_row(df: pd.DataFrame, cols: tuple[str, ...], label: str, **fixed: Any) -> dict:
    row: dict[str, Any] = {c: None for c in df.columns}
    for c in cols:
        if c in df.columns:
            row[c] = float(pd.to_numeric(df[c], errors="coerce").sum(min_count=1))
    return row | fixed | {"station_id": label}


def with_totals(name: str, df: pd.DataFrame, lang: str) -> tuple[pd.DataFrame, list[int]]:
    """The plan's cost or phase table with its total rows, for a planner.

    Parameters
    ----------
    name : {"cost", "phases"}
        Which table (:attr:`LayoutPlan.cost` / :attr:`LayoutPlan.phases`); other names
        are returned unchanged.
    df : DataFrame, shape (n_facilities, ...)
        The table as :func:`careplan.phasing.phase_layout` returns it.
    lang : {"zh", "en"}
        Language of the total rows' labels (in the ``station_id`` column).

    Returns
    -------
    tuple of (DataFrame, list of int)
        A new frame (positional index) and the positions of the added rows.  ``cost``
        gains one total row; ``phases`` a subtotal after each phase's rows (its
        ``phase`` and ``milestone`` kept; the facilities no budget fits form their own
        group) and a total row.  Summed: :data:`TOTAL_COLUMNS` (yuan, m2, elderly);
        every other column of an added row is empty.
    """
    cols = TOTAL_COLUMNS.get(name)
    if cols is None or "station_id" not in df.columns or not len(df):
        return df, []
    body = pd.DataFrame(df).reset_index(drop=True)
    rows: list[dict] = []
    added: list[int] = []
    if name == "phases" and "phase" in body.columns:
        phase = pd.to_numeric(body["phase"], errors="coerce")
        for key in [*sorted(phase.dropna().unique()), None]:
            part = body[phase.isna()] if key is None else body[phase == key]
            if not len(part):
                continue
            rows += part.to_dict("records")
            if key is None:
                label = t("unphased_subtotal", lang)
                fixed = {}
            else:
                label = t("phase_subtotal", lang).format(k=f"{key:g}")
                fixed = {"phase": key, "milestone": part["milestone"].iloc[0]
                         if "milestone" in part.columns else None}
            added.append(len(rows))
            rows.append(_sum_row(part, cols, label, **fixed))
    else:
        rows = body.to_dict("records")
    added.append(len(rows))
    rows.append(_sum_row(body, cols, t("total", lang)))
    return pd.DataFrame(rows, columns=body.columns), added
