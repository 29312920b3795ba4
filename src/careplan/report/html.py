"""The self-contained HTML report (``report.html``).

Every value from data or profiles is written with
:func:`careplan.report.escape.html_text`; the map page goes into the ``srcdoc``
attribute of an ``iframe`` (escaped as an attribute value).
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from careplan import coverage as _coverage
from careplan._errors import CareplanWarning
from careplan.report._common import (
    AREA_TABLE_COLS,
    HTML_COLUMNS,
    HTML_LIST_ITEMS,
    PROPOSED_COLS,
    area_names,
    attribution,
    checked,
    extra_tables,
    proposed_levels,
)
from careplan.report.atomic import atomic_write_bytes
from careplan.report.escape import html_attr_single
from careplan.report.escape import html_text as esc
from careplan.report.figures import charts
from careplan.report.format import flag, fmt, fmt_percent, num
from careplan.report.labels import UI as _UI
from careplan.report.labels import (
    check_lang,
    column_label,
    is_share,
    kind_label,
    level_label,
    parameter_label,
    t,
)
from careplan.report.maps import (
    FILL_HOLES_M2,
    MAP_DECIMALS,
    MAX_MAP_AREA_POLYGONS,
    MAX_MAP_EDGES,
    MAX_MAP_SERVICE_AREAS,
    MERGED_SA_EXTENT_FRACTION,
    SIMPLIFY_M,
    folium_map,
    map_reductions,
    merged_service_area_tolerance_m,
    standalone_map_html,
)
from careplan.report.phrases import parameter_text, value_text
from careplan.report.tables import (
    rule_like_frame,
    rules_frame,
    standard_citations,
    standard_title,
    summary_frame,
    with_totals,
)

if TYPE_CHECKING:  # pragma: no cover
    from careplan.plan import LayoutPlan

__all__ = ["write_html"]

_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",Helvetica,Arial,sans-serif;
margin:0 auto;max-width:1180px;padding:12px 20px;color:#222}
h1{font-size:1.6em;border-bottom:2px solid #2166ac;padding-bottom:6px}
h2{font-size:1.25em;margin-top:1.6em;color:#2166ac}
table{border-collapse:collapse;margin:8px 0;font-size:13px;max-width:100%}
th,td{border:1px solid #ccc;padding:3px 7px;vertical-align:top;overflow-wrap:anywhere}
table.facilities{font-size:12px}table.facilities td{max-width:180px}
th{background:#f0f4f8;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap;
overflow-wrap:normal}
td.ok{color:#1a7a3c;font-weight:600}td.bad{color:#b2182b;font-weight:600}
td.na{color:#777}td.id{white-space:nowrap;overflow-wrap:normal}
table.params td.num{text-align:left}table.params td:first-child{white-space:nowrap}
table.rules td{max-width:340px}tr.total td{font-weight:600;background:#f7f7f7}
iframe.map{width:100%;height:660px;border:1px solid #999}
.charts img{max-width:100%;margin:6px 12px 6px 0;border:1px solid #eee}
.note{color:#555;font-size:12px}footer{margin-top:2em;border-top:1px solid #ccc;padding-top:6px;
font-size:12px;color:#444}
"""

_FLAG_COLS = ("passed",)
#: Id columns and short label columns kept on one line (an id broken as "D-" / "C040" is
#: misread; a level or kind of 3-6 characters set one character per line, 社/区/级, is hard to read).
_ID_COLS = ("station_id", "candidate_id", "facility_id", "level", "kind")

#: A table of the HTML report shows at most this many rows (then a note: the full table
#: is in tables.xlsx), so the page stays light at city scale (10,000 estates).
HTML_MAX_ROWS = 500
_NUMERIC_TEXT = re.compile(r"^[+-]?\d[\d.,]*(?:%|–[\d.,]+%?)?(?: pp| 个百分点)?$")


def _cell(c: str, v, lang: str) -> str:
    if is_share(c) and num(v) is not None:
        return f"<td class='num'>{esc(fmt_percent(v))}</td>"
    if c.startswith(("lon", "lat")) and num(v) is not None:  # degrees: 6 decimals ~ 0.1 m
        return f"<td class='num'>{num(v):.6f}</td>"
    if c.startswith(("gini", "palma")) and num(v) is not None and np.isfinite(num(v)):
        return f"<td class='num'>{num(v):.3f}</td>"
    if isinstance(v, bool | np.bool_) or c in _FLAG_COLS or c.startswith(
            ("compliant_", "covered_")):
        f = flag(v)
        if f is None:
            return f"<td class='na'>{esc(t('not_evaluated', lang) if c == 'passed' else '–')}</td>"
        return f"<td class='{'ok' if f else 'bad'}'>{esc(fmt(f, lang))}</td>"
    numeric = num(v) is not None or (isinstance(v, str) and _NUMERIC_TEXT.match(v) is not None)
    style = " class='num'" if numeric else " class='id'" if c in _ID_COLS else ""
    return f"<td{style}>{esc(fmt(v, lang))}</td>"


def _html_table(df: pd.DataFrame, cols: list[tuple[str, str]], lang: str, *,
                cls: str = "", total_rows: tuple[int, ...] = ()) -> str:
    """HTML table of *df*; *cols* = (column, header text); the rows at the positions
    *total_rows* are total rows (bold)."""
    head = "".join(f"<th>{esc(h)}</th>" for _, h in cols)
    body = []
    for i, (_, row) in enumerate(df.iterrows()):
        cells = [_cell(c, row[c] if c in row.index else None, lang) for c, _h in cols]
        tr = "<tr class='total'>" if i in total_rows else "<tr>"
        body.append(tr + "".join(cells) + "</tr>")
    return (f"<table class='{esc(cls)}'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _capped(df: pd.DataFrame, lang: str) -> tuple[pd.DataFrame, str]:
    """The first :data:`HTML_MAX_ROWS` rows of *df* and a note when rows were left out."""
    if len(df) <= HTML_MAX_ROWS:
        return df, ""
    note = t("rows_capped", lang).format(shown=HTML_MAX_ROWS, n=len(df))
    return df.iloc[:HTML_MAX_ROWS], f"<p class='note'>{esc(note)}</p>"


def _map_notes(plan: LayoutPlan, lang: str) -> str:
    """What the interactive map simplified or left out (see :func:`map_reductions`)."""
    limits = {"network_dropped": MAX_MAP_EDGES, "areas_as_points": MAX_MAP_AREA_POLYGONS,
              "service_areas_merged": MAX_MAP_SERVICE_AREAS,
              "service_areas_hull": _coverage.MAX_BAND_SERVICE_AREAS}
    notes = [t("map_note_simplified", lang).format(
        decimals=MAP_DECIMALS, holes=f"{FILL_HOLES_M2 / 10_000:g}",
        **{k: f"{v:g}" for k, v in SIMPLIFY_M.items()})]
    notes += [t(f"map_note_{k}", lang).format(n=n, limit=limits[k],
                                              tol=f"{merged_service_area_tolerance_m(plan):.0f}",
                                              floor=f"{SIMPLIFY_M['service_areas_merged']:g}",
                                              frac=f"{MERGED_SA_EXTENT_FRACTION:,}",
                                              buffer=f"{_coverage.DEFAULT_BUFFER_M:g}")
              for k, n in map_reductions(plan).items()]
    return "".join(f"<p class='note'>{esc(n)}</p>" for n in notes)


def _summary_table(summary: pd.DataFrame, lang: str) -> str:
    df = summary_frame(summary, lang)
    return _html_table(df, [("label", t("metric", lang)), ("before", t("before", lang)),
                            ("after", t("after", lang)), ("change", t("change", lang))],
                       lang, cls="summary")


def _rules_table(rules: pd.DataFrame, lang: str, citations: dict) -> str:
    df = rules_frame(rules, lang, citations=citations)
    cols = [(c, t(c if c != "label" else "label", lang)) for c in df.columns]
    return _html_table(df, cols, lang, cls="rules")


def _existing_by_level(existing: pd.DataFrame, lang: str) -> str:
    if not len(existing):
        return ""
    lv = existing["level"].astype(str) if "level" in existing.columns else pd.Series(
        "other", index=existing.index)
    fa = (existing["floor_area_m2"].astype(float) if "floor_area_m2" in existing.columns
          else pd.Series(np.nan, index=existing.index))
    g = pd.DataFrame({"level": lv.to_numpy(), "fa": fa.to_numpy()}).groupby("level", sort=True)
    df = pd.DataFrame({"count": g.size(), "fa": g["fa"].sum(min_count=1)}).reset_index()
    df["level"] = [level_label(x, lang) for x in df["level"]]
    return _html_table(df, [("level", t("level", lang)), ("count", t("count", lang)),
                            ("fa", t("floor_area_m2", lang))], lang)


def _display_frame(name: str, df: pd.DataFrame, plan: LayoutPlan, lang: str) -> pd.DataFrame:
    """An optional table as the HTML shows it: the columns of :data:`HTML_COLUMNS` (all for
    other tables) that have a value somewhere, levels and the plan's words in *lang*, area
    ids as area names, long lists cut to :data:`HTML_LIST_ITEMS` items."""
    frame = pd.DataFrame(df.drop(columns=df.geometry.name)) if isinstance(
        df, gpd.GeoDataFrame) else pd.DataFrame(df)
    keep = [c for c in HTML_COLUMNS.get(name, frame.columns) if c in frame.columns]
    frame = frame[[c for c in keep if frame[c].map(_has_value).any()]].copy()
    names = dict(zip(plan.areas["area_id"].astype(str), area_names(plan.areas), strict=True))
    for c in frame.columns:
        vals = list(frame[c])
        if c == "level":
            vals = [level_label(v, lang) if isinstance(v, str) else v for v in vals]
        elif c in ("estates", "areas_served"):
            vals = [[names.get(str(x), x) for x in v] if isinstance(v, list | tuple)
                    else names.get(str(v), v) if isinstance(v, str) else v for v in vals]
        else:
            vals = [value_text(v, lang, c) for v in vals]
        frame[c] = pd.Series([_joined(v, lang) for v in vals], index=frame.index, dtype=object)
    return frame


def _has_value(v) -> bool:
    if isinstance(v, list | tuple):
        return len(v) > 0
    return v is not None and not (pd.api.types.is_scalar(v) and pd.isna(v)) and v != ""


def _joined(v, lang: str):
    if not isinstance(v, list | tuple):
        return v
    head = ", ".join(map(str, v[:HTML_LIST_ITEMS]))
    more = len(v) - HTML_LIST_ITEMS
    if more > 0:
        head += f" 等 {len(v)} 个" if lang == "zh" else f" (+{more} more)"
    return head


#: Optional tables with a section of their own (not among the extra sections).
_OWN_SECTION = ("equity",)


def _equity_section(plan: LayoutPlan, lang: str) -> list[str]:
    """Equity before/after (overall, by street and district), with how it is measured."""
    eq = getattr(plan, "equity", None)
    if not isinstance(eq, pd.DataFrame) or not len(eq):
        return []
    frame = pd.DataFrame(eq).copy()
    if "level" in frame.columns:
        frame["level"] = [t(f"scope_{v}", lang) if f"scope_{v}" in _UI else v
                          for v in frame["level"]]
        frame["group"] = [t("scope_all", lang) if g == "all" else g for g in frame["group"]]
    if "weight" in frame.columns:
        frame["weight"] = [t(f"weight_{v}", lang) if f"weight_{v}" in _UI else v
                           for v in frame["weight"]]
    cols = [(c, column_label(c, lang, "equity")) for c in frame.columns]
    table = _html_table(frame, cols, lang, cls="equity")
    return [f"<h2 id='equity'>{esc(t('equity', lang))}</h2>",
            f"<p class='note'>{esc(t('equity_note', lang))}</p>",
            table if len(frame) <= 40 else
            f"<details><summary>{esc(t('equity', lang))} ({len(frame)})</summary>{table}"
            "</details>"]


def _extra_sections(plan: LayoutPlan, lang: str) -> list[str]:
    """A section per optional table of the plan (allocation, rules not met, ...)."""
    parts = []
    for name, df in extra_tables(plan, joined=False).items():
        if name in _OWN_SECTION:
            continue
        df, totals = with_totals(name, df, lang)  # cost, phases: (sub)total rows
        frame = _display_frame(name, df, plan, lang)
        if {"rule_id", "required", "found", "citation"} <= set(frame.columns):
            frame = rule_like_frame(pd.DataFrame(df), lang,
                                    citations=standard_citations(plan.parameters))
        cols = [(c, column_label(c, lang, name)) for c in frame.columns]
        full = frame
        frame, capped = _capped(frame, lang)
        if capped and totals:  # the grand total stays under a cut table
            frame = pd.concat([frame, full.iloc[[totals[-1]]]])
            totals = [t_ for t_ in totals if t_ < len(frame) - 1] + [len(frame) - 1]
        table = _html_table(frame, cols, lang, cls=name, total_rows=tuple(totals)) + capped
        parts.append(f"<h2 id='{esc(name)}'>{esc(t(name, lang))}</h2>")
        if name in HTML_COLUMNS and len(frame.columns) < df.shape[1]:
            parts.append(f"<p class='note'>{esc(t('full_table_note', lang))}</p>")
        parts.append(table if len(frame) <= 40 else
                     f"<details><summary>{esc(t(name, lang))} ({len(frame)})</summary>"
                     f"{table}</details>")
    return parts


def _head(plan: LayoutPlan, lang: str) -> list[str]:
    parts = [
        "<!DOCTYPE html>",
        f"<html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{esc(t('title', lang))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(t('title', lang))}</h1>",
    ]
    params = plan.parameters or {}
    std, std_title = params.get("standard"), standard_title(params, lang)
    if std is not None or std_title is not None:
        text = " · ".join(fmt(x) for x in (std_title, std) if x is not None)
        parts.append(f"<p class='standard'>{esc(text)}</p>")
    return parts


def _proposed_section(plan: LayoutPlan, lang: str) -> list[str]:
    parts = [f"<h2 id='proposed'>{esc(t('proposed', lang))}</h2>"]
    if len(plan.proposed):
        pr = pd.DataFrame(plan.proposed.drop(columns=plan.proposed.geometry.name))
        if "kind" in pr.columns:
            pr["kind"] = [kind_label(k, lang) for k in pr["kind"]]
        pr["level"] = [level_label(lv, lang) for lv in proposed_levels(plan)]
        if "areas_served" in pr.columns:  # comma-separated ids -> names where areas have one
            names = dict(zip(plan.areas["area_id"].astype(str), area_names(plan.areas),
                             strict=True))
            pr["areas_served"] = [", ".join(names.get(x.strip(), x.strip())
                                            for x in v.split(",") if x.strip())
                                  if isinstance(v, str) else v for v in pr["areas_served"]]
        shown = [c for c in PROPOSED_COLS if c in pr.columns]
        shown.insert(shown.index("kind") + 1 if "kind" in shown else 1, "level")
        cols = [(c, t(c, lang)) for c in shown]
        pr, capped = _capped(pr, lang)
        parts.append(_html_table(pr, cols, lang) + capped)
    else:
        parts.append(f"<p>{esc(t('no_proposed', lang))}</p>")
    return parts


def _parameters_section(plan: LayoutPlan, lang: str) -> list[str]:
    given = dict(plan.parameters or {})
    if "standard_title" in given:
        given["standard_title"] = standard_title(given, lang)
    for k, v in given.items():  # level lists and the solver's gap in the report's words
        if k.endswith("_levels") and isinstance(v, str):
            given[k] = ", ".join(level_label(x.strip(), lang) for x in v.split(","))
        elif k == "solver_gap" and num(v) is not None:
            given[k] = fmt_percent(v, decimals=2)
        elif k not in ("standard", "standard_title", "lang"):  # the plan's notes in *lang*
            given[k] = parameter_text(v, lang)
    params = [(parameter_label(k, lang), v) for k, v in given.items()]
    params.append((t("crs_note", lang), plan.crs.to_string()))
    pdf = pd.DataFrame(params, columns=["k", "v"])
    pdf["v"] = [fmt(v, lang) for v in pdf["v"]]
    return [f"<h2 id='parameters'>{esc(t('parameters', lang))}</h2>",
            _html_table(pdf, [("k", t("parameter", lang)), ("v", t("value", lang))],
                        lang, cls="params")]


def report_html(plan: LayoutPlan, lang: str) -> tuple[str, bool]:
    """The report page and whether Leaflet is inlined (*plan* already checked)."""
    map_page, inline = standalone_map_html(folium_map(plan, lang=lang))
    has_edges = (plan.network_edges is not None and len(plan.network_edges) > 0
                 and "network_dropped" not in map_reductions(plan))
    attr = attribution(plan)
    citations = standard_citations(plan.parameters)
    parts = _head(plan, lang)
    parts += [
        f"<h2 id='map'>{esc(t('map', lang))}</h2>",
        f"<iframe class='map' title='{esc(t('map', lang))}' srcdoc='{html_attr_single(map_page)}'></iframe>",
        f"<p class='note'>{esc(t('offline_note', lang)) if has_edges else ''}"
        + ("" if inline else " " + esc(t("cdn_note", lang)))
        + f" © {esc(attr.lstrip('© '))}</p>",
        _map_notes(plan, lang),
        f"<h2 id='summary'>{esc(t('summary', lang))}</h2>",
        _summary_table(plan.summary, lang),
        f"<h2 id='charts'>{esc(t('charts', lang))}</h2><div class='charts'>",
    ]
    for title, b64 in charts(plan, lang):
        parts.append(f"<img alt='{esc(title)}' title='{esc(title)}' "
                     f"src='data:image/png;base64,{b64}'>")
    parts.append("</div>")
    parts += _equity_section(plan, lang)
    parts += _proposed_section(plan, lang)
    parts += [
        f"<h2 id='rules-before'>{esc(t('rules_before', lang))}</h2>",
        _rules_table(plan.rules_before, lang, citations),
        f"<h2 id='rules-after'>{esc(t('rules_after', lang))}</h2>",
        _rules_table(plan.rules_after, lang, citations),
        *_extra_sections(plan, lang),
        f"<h2 id='existing'>{esc(t('existing', lang))}</h2>",
        _existing_by_level(plan.existing, lang),
    ]
    a = plan.areas
    cols = [(c, column_label(c, lang)) for c in AREA_TABLE_COLS if c in a.columns]
    shown, capped = _capped(pd.DataFrame(a.drop(columns=a.geometry.name)), lang)
    parts += [
        f"<h2 id='areas'>{esc(t('areas', lang))}</h2>",
        f"<details><summary>{esc(t('all_areas', lang))} ({len(a)})</summary>",
        _html_table(shown, cols, lang) + capped,
        "</details>",
    ]
    parts += _parameters_section(plan, lang)
    parts.append(f"<footer>{esc(t('attribution', lang))}: {esc(attr)}</footer>")
    parts.append("</body></html>")
    return "\n".join(parts), inline


def write_html(plan: LayoutPlan, path: str | os.PathLike, *, lang: str = "zh") -> Path:
    """Write the self-contained HTML report.

    Parameters
    ----------
    plan : LayoutPlan
    path : path-like
        File to write (e.g. ``out/report.html``); its directory must exist.
    lang : {"zh", "en"}, default "zh"
        Language of every label (the catalogue in :mod:`careplan.report.labels`;
        rule labels from the profile's ``label_zh`` / ``label_en``).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InputError, CRSError
        If *plan* is not a valid layout plan or *lang* is not supported.
    OutputError
        If the file cannot be written (one line; any earlier file is unchanged).

    Notes
    -----
    The report holds the interactive map (in an ``iframe`` ``srcdoc``), the
    before/after summary with the change (shares in percent), charts (PNG,
    base64), the proposed stations, both rule tables with citations (document
    title and clause), existing facilities by level, all areas, every parameter
    and the data attribution.  Without ``xstatic-leaflet`` Leaflet's JS/CSS are
    linked from a CDN (a :class:`CareplanWarning` says so).
    """
    lang = check_lang(lang)
    plan = checked(plan)
    page, inline = report_html(plan, lang)
    if not inline:
        warnings.warn(
            "Leaflet could not be embedded (install the 'xstatic-leaflet' package); "
            "report.html links Leaflet's JS/CSS from a CDN, so the interactive map needs "
            "internet (no tile server is used either way).",
            CareplanWarning,
            stacklevel=2,
        )
    return atomic_write_bytes(Path(path), page.encode("utf-8"))
