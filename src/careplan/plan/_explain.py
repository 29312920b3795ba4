"""Every rule met or explained: the "not met by this plan" table (issue 12.4).

After the plan every rule of the profile either passes or gets one row here with a
``category`` and a ``reason`` in English and in simplified Chinese (``reason_zh``, shown
by the zh report). Reasons, in this order:

1. what a plan step could not propose (``Sizing.shortfalls``: a street without a
   candidate site, areas no station or candidate reaches, districts without a candidate);
2. ``passed is None``: a planning parameter ('not a check') or missing data ('data
   missing': no ``street``/``district``/``elderly`` column, no beds, no social-worker
   count; the evaluator's note says which);
3. beds, staff and land: not a spatial rule, the gap (e.g. beds short per district) stated;
4. a budget ``p`` too small; deficits no station reaches ('no site'); else 'other' with the
   evaluator's note (a failing rule is never dropped).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from careplan.standards import KINDS

__all__ = ["CATEGORIES", "ON_SITE_MINIMUM", "levels_parameters", "on_site_minimum",
           "rules_not_met"]

#: Categories of a rule not met (their zh/en labels: ``careplan.report.labels``).
CATEGORIES = ("no site", "budget", "not a spatial rule", "data missing", "not a check",
              "not planned", "other")
#: Kinds about beds, staff and land: not spatial, not planned.
_NOT_SPATIAL = {"nursing_bed_share_min", "welfare_home_beds", "beds_per_1000_elderly",
                "building_m2_per_bed", "social_workers_per_1000_elderly",
                "social_workers_per_100_beds", "care_land_m2_per_resident"}
#: Kinds on existing sizes the plan does not change (it proposes new sites within them).
_NOT_RESIZED = {"town_centre_min_floor_area_m2", "community_centre_floor_area_range_m2",
                "site_floor_area_range_m2"}


def _num(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "–"
    return "–" if f != f else f"{f:g}"


def _gap_text(row: Any) -> tuple[str, str]:
    gap, unit = row.get("gap"), str(row.get("gap_unit") or "")
    if gap is None or _num(gap) in ("–", "0"):
        return "", ""
    zh_unit = {"beds": "张床位", "nursing beds": "张护理型床位", "m2": "平方米",
               "facilities": "处设施", "m2 of land": "平方米用地"}.get(unit, unit)
    return f"; gap: {_num(gap)} {unit}", f";缺口 {_num(gap)} {zh_unit}"


def _reason(row: Any, parameters: dict[str, Any],
            short: dict[str, tuple[str, str]]) -> tuple[str, str, str]:
    """(category, reason, reason_zh) of a rule that did not pass after the plan."""
    kind, note = row["kind"], str(row["note"])
    head_zh = _head_zh(row)
    if kind in short:
        en, zh = short[kind]
        return "no site", f"{en}; {note}", f"{zh};{head_zh}"
    if row["passed"] is None:
        if "planning parameter" in note or "not a check" in note:
            return "not a check", note, "规划参数,由规划应用,不是对现状的检查"
        return "data missing", note, f"缺少评估所需数据,未评估:{_missing_zh(note)}"
    gap_en, gap_zh = _gap_text(row)
    if kind in _NOT_SPATIAL:
        return ("not a spatial rule", f"beds, staff and land are not placed by a layout plan "
                f"(stated, not planned){gap_en}; {note}",
                f"床位、人员和用地不属于设施空间布局,本规划只说明缺口{gap_zh}"
                f"{_district_gap_zh(note)};{head_zh}")
    if kind in _NOT_RESIZED:
        return ("not planned", f"existing facilities outside the size: the plan proposes new "
                f"sites within it but does not resize existing ones; {note}",
                f"既有设施面积不符合要求:本规划新增设施符合面积要求,但不调整既有设施;{head_zh}")
    if kind == "life_circle_m":
        out = _life_circle_reason(row, parameters, note)
        if out is not None:
            return out
    if parameters.get("p") is not None:
        p = parameters["p"]
        return ("budget", f"budget p = {p} too small{gap_en}; {note}",
                f"新增站点数量上限 p = {p} 不足{gap_zh};{head_zh}")
    unresolved = parameters.get("unresolved_deficit_areas")
    if unresolved and unresolved != "none":
        return ("no site", f"no station or candidate within the walking circle of: {unresolved}",
                f"以下居住区步行服务圈内没有站点或候选站点:{unresolved};{head_zh}")
    return "other", f"{note}{gap_en}", f"未达标{gap_zh};{head_zh};说明:{note}"


def _life_circle_reason(row: Any, parameters: dict[str, Any],
                        note: str) -> tuple[str, str, str] | None:
    """A GB 50180 life circle smaller than the plan's walking circle: not planned for
    (the plan places facilities for ``parameters['cutoff_m']``); None otherwise."""
    try:
        circle = float(parameters.get("cutoff_m"))
    except (TypeError, ValueError):
        return None
    req_max = row.get("required_max")
    limit = float(req_max) if _num(req_max) != "–" else float(row["required"])
    if not limit < circle:
        return None
    m = re.search(r"beyond: (.*)$", note)
    beyond_en = f"; areas beyond {limit:g} m: {m.group(1)}" if m else ""
    beyond_zh = f";{limit:g}米以外的居住区:{m.group(1)}" if m else ""
    pct = _pct(row["found"])
    return ("not planned",
            f"the plan places facilities for a {circle:g} m walking circle; the {limit:g} m "
            f"life circle was not planned for: {pct} of households have a facility within "
            f"{limit:g} m (required 100%){beyond_en}",
            f"本规划按步行{circle:g}米服务圈布点,未针对{limit:g}米生活圈规划:{limit:g}米内"
            f"有设施的户数占 {pct}(要求 100%){beyond_zh}")


def _pct(v: Any) -> str:
    t = _num(v)
    return t if t == "–" else f"{float(v):.1%}"


def _head_zh(row: Any) -> str:
    """Required and found after the plan, in Chinese, like compared with like."""
    kind = row["kind"]
    if kind in ("service_circle", "life_circle_m"):  # found = share of households within
        what = (f"{_num(row['required'])}分钟" if kind == "service_circle"
                else f"{_num(row['required'])}米")
        return f"要求全部户数在步行{what}范围内,规划后为 {_pct(row['found'])}"
    if kind in KINDS and KINDS[kind].is_share:
        return f"要求 {_pct(row['required'])},规划后为 {_pct(row['found'])}"
    return f"要求 {_num(row['required'])},规划后为 {_num(row['found'])}"


def _district_gap_zh(note: str) -> str:
    """The evaluator's ``gap by district: A 12, B 3 (beds)`` in Chinese ('' if absent)."""
    m = re.search(r"gap by district: (.*?) \((beds|nursing beds)\)", note)
    if not m:
        return ""
    unit = "张护理型床位" if m.group(2) == "nursing beds" else "张床位"
    return f";各区县缺口:{m.group(1)}({unit})"


def _missing_zh(note: str) -> str:
    """The missing input of a 'not evaluated' note, in Chinese where it is a known one."""
    for key, zh in (("'street'", "居住区缺少街道(street)列"),
                    ("'district'", "居住区缺少区县(district)列"),
                    ("'elderly'", "居住区缺少老年人口(elderly)列"),
                    ("no beds", "设施没有床位数据"), ("with beds", "设施没有床位数据"),
                    ("social_workers", "未提供社会工作者人数(social_workers)"),
                    ("population", "未提供常住人口(population)和养老用地面积"),
                    ("care_land", "未提供养老服务用地面积(care_land_m2)"),
                    ("district_types", "未提供区县类型(district_types)"),
                    ("no facility of level", "没有该级别的设施"),
                    ("coverage", "缺少步行距离")):
        if key in note:
            return zh
    return note


def rules_not_met(rules_after: pd.DataFrame, parameters: dict[str, Any],
                  shortfalls: tuple = ()) -> pd.DataFrame:
    """Rules of the profile that do not pass after the plan, each with its reason.

    Parameters
    ----------
    rules_after : DataFrame
        The rule table after the plan (:func:`careplan.compliance.check`).
    parameters : dict
        The plan's parameters (``p``, ``unresolved_deficit_areas``, ``cutoff_m``: a
        life circle smaller than it is 'not planned').
    shortfalls : tuple of (kind, reason, reason_zh)
        What the plan's steps could not propose (``Sizing.shortfalls``); the entry of
        :func:`on_site_minimum` (key :data:`ON_SITE_MINIMUM`, with the minimum, the
        smallest room and the minimum's source) states on-site rooms below the site
        minimum: in the failing site rule's row, else in a row ``on_site_minimum``.

    Returns
    -------
    DataFrame
        ``rule_id, kind, label_en, label_zh, required, found, passed, category,
        reason, reason_zh, description, citation``; ``category`` is one of
        :data:`CATEGORIES` ('no site', 'budget', 'not a spatial rule', 'data missing',
        'not a check', 'not planned', 'other'). Empty when every rule passes.
    """
    small = next((s for s in shortfalls if s[0] == ON_SITE_MINIMUM), None)
    short: dict[str, tuple[str, str]] = {}
    for kind, en, zh in (s for s in shortfalls if s[0] != ON_SITE_MINIMUM):
        old = short.get(kind)
        short[kind] = (en, zh) if old is None else (f"{old[0]}; {en}", f"{old[1]};{zh}")
    rows = []
    for _, r in rules_after.iterrows():
        if r["passed"] is True:
            continue
        cat, why, why_zh = _reason(r, parameters, short)
        rows.append({"rule_id": r["rule_id"], "kind": r["kind"], "label_en": r["label_en"],
                     "label_zh": r["label_zh"], "required": r["required"], "found": r["found"],
                     "passed": r["passed"], "category": cat,
                     "reason": why, "reason_zh": why_zh,
                     "description": KINDS[r["kind"]].description if r["kind"] in KINDS
                     else "", "citation": r["citation"]})
    cols = ["rule_id", "kind", "label_en", "label_zh", "required", "found", "passed",
            "category", "reason", "reason_zh", "description", "citation"]
    rows = _with_small_rooms(rows, small)
    out = pd.DataFrame(rows, columns=cols)
    out["passed"] = pd.Series([r["passed"] for r in rows], dtype=object, index=out.index)
    return out


#: Shortfall key of on-site rooms (配建) below the single-site minimum
#: (:func:`on_site_minimum`); its row in ``rules_not_met`` has this ``rule_id`` unless the
#: profile's own site rule (kind ``site_floor_area_range_m2``) fails and carries it.
ON_SITE_MINIMUM = "on_site_minimum"


def on_site_minimum(inp: Any, proposed: pd.DataFrame) -> tuple[str, tuple]:
    """On-site rooms (配建) smaller than the single-site minimum of a new station: flagged,
    not pooled (issue 12 leftover 6).

    On-site rooms exist only where the profile requires new estates to build their
    floor area inside the estate (``floor_area_on_site``); pooling such a room with a
    neighbour's would break that rule, so a room below the minimum keeps the size the
    estate owes and is listed: a :class:`~careplan.CareplanWarning`, the parameter row
    ``on_site_below_minimum`` and a row of ``rules_not_met`` (the bureau decides: build
    it at the minimum, or agree a shared room with a neighbouring estate).

    Parameters
    ----------
    inp : Inputs
        The plan's inputs (standard, ``min_station_floor_area_m2``).
    proposed : DataFrame, shape (n_proposed, ...)
        The proposed facilities (``station_id, kind, floor_area_m2, areas_served``).

    Returns
    -------
    tuple of (str, tuple)
        The parameter text (``"R-a: 9 m2 (a)"``, ...; ``"none"``) and the shortfalls
        (``((ON_SITE_MINIMUM, reason, reason_zh, minimum m2, smallest m2, source),)`` or
        ``()``) for :func:`rules_not_met`.
    """
    import warnings

    from careplan._errors import CareplanWarning
    from careplan.plan._steps import NEW_STATION_LEVEL
    from careplan.standards import site_limits

    rooms = proposed[proposed["kind"].astype(str) == "on_site"] if len(proposed) else proposed
    lim = site_limits(inp.standard, NEW_STATION_LEVEL, min_m2=inp.config.min_station_floor_area_m2)
    small = rooms[rooms["floor_area_m2"].astype(float) < lim.min_m2 - 1e-9] if len(rooms) \
        else rooms
    if not len(small):
        return "none", ()
    listed = [f"{sid}: {float(m2):g} m2 ({a})" for sid, m2, a in
              zip(small["station_id"], small["floor_area_m2"], small["areas_served"],
                  strict=True)]
    text = ", ".join(listed)
    en = (f"on-site rooms (配建) below the single-site minimum of {lim.min_m2:g} m2 "
          f"({lim.source}): {text}; the profile requires them inside their estates, so they "
          "are not pooled with a neighbour: build them at the minimum or agree a shared room "
          "with a neighbouring estate")
    zh = (f"小区内配建用房低于单处最小面积 {lim.min_m2:g} m²："
          + "，".join(f"{sid} {float(m2):g} m²（{a}）" for sid, m2, a in
                     zip(small["station_id"], small["floor_area_m2"], small["areas_served"],
                         strict=True))
          + "；标准要求配建用房设在本小区内，故不与相邻小区合并设置：可按最小面积建设，"
            "或与相邻小区协商共建")
    warnings.warn(f"{len(small)} {en}", CareplanWarning, stacklevel=3)
    smallest = float(small["floor_area_m2"].astype(float).min())
    return text, ((ON_SITE_MINIMUM, en, zh, lim.min_m2, smallest, lim.source),)


def _with_small_rooms(rows: list[dict], small: tuple | None) -> list[dict]:
    """*rows* with the on-site rooms below the minimum stated (the shortfall of
    :func:`on_site_minimum`): in the row of the profile's failing site rule when there is
    one, else in a row of their own."""
    if small is None:
        return rows
    _key, en, zh, minimum, smallest, source = small
    for r in rows:
        if r["kind"] == "site_floor_area_range_m2":
            r.update(category="not planned", reason=f"{en}; {r['reason']}",
                     reason_zh=f"{zh};{r['reason_zh']}")
            return rows
    rows.append({"rule_id": ON_SITE_MINIMUM, "kind": "site_floor_area_range_m2",
                 "label_en": "On-site rooms (配建) at least the single-site minimum",
                 "label_zh": "小区内配建用房不小于单处最小面积", "required": minimum,
                 "found": smallest, "passed": False, "category": "not planned",
                 "reason": en, "reason_zh": zh,
                 "description": KINDS["site_floor_area_range_m2"].description
                 if "site_floor_area_range_m2" in KINDS else "", "citation": source})
    return rows


def levels_parameters(inp: Any) -> dict[str, str]:
    """Rows of the plan's parameter table stating how the three levels were planned.

    Parameters
    ----------
    inp : Inputs

    Returns
    -------
    dict
        ``zones`` (what was assumed for areas without street/district, when anything
        was), ``street_centre_size`` and ``district_centre_size`` (m2 and source), when
        the profile asks for such centres.
    """
    from careplan.plan._levels import centre_size
    from careplan.plan._zones import zones_note

    out: dict[str, str] = {}
    note = zones_note(inp)
    if note:
        out["zones"] = note
    std = inp.standard
    asks = {"street": ("centre_per_town", "centres_per_street", "street_centre_share"),
            "district": ("district_centre_count",)}
    for level, kinds in asks.items():
        if any(std.get(k) for k in kinds):
            m2, src = centre_size(std, level)
            out[f"{level}_centre_size"] = f"{m2:g} m2: {src}"
    return out
