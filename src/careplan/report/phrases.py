"""The zh catalogue of the fixed phrases in rule notes, reasons and generated names.

The rule evaluators (:mod:`careplan.standards.kinds`) and the plan
(:mod:`careplan.plan`) write their notes in English, clause by clause, joined by
``"; "`` (``"6 of 41 existing areas compliant; deficit 3946.9 m2; failing: blk-01,
..."``).  A Chinese report shows each clause through :data:`NOTE_PHRASES`: one
regular expression per fixed phrase, whose named groups (numbers, ids, levels)
are put into a Chinese template.  This was chosen over a ``note_zh`` per rule in
the profiles because the notes are built at run time from the data (counts, ids,
deficits); a profile can only carry fixed text.

A clause the catalogue does not know is shown as it is (English) rather than
dropped; :func:`untranslated` lists such clauses (the tests run it over the notes
of real plans so a new phrase without its translation is caught).

Group names with a meaning: ``lv`` (facility levels, ``a/b``), ``built``
(``new``/``existing``), ``col`` (``street``/``district``), ``ids`` (a list of ids
with an optional ``(+k more)`` tail); every other group is copied as it is.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["NAME_PHRASES", "NOTE_PHRASES", "PARAMETER_PHRASES", "PARAMETER_WORDS", "VALUE_WORDS",
           "note_text", "parameter_text", "untranslated", "untranslated_parameter", "value_text"]

#: Words inside the phrases (levels, estate classes, roll-up columns).
_WORDS: dict[str, str] = {
    "district": "区级", "street": "街道级", "community": "社区级", "institution": "养老机构",
    "canteen": "助餐点", "other": "其他",
    "new": "新建", "existing": "既有", "all": "全部",
}
_ZONES = {"street": "街道", "district": "区县", "town": "镇（街道）", "streets": "街道",
          "districts": "区县"}

_UNITS = {"beds": "张床位", "nursing beds": "张护理型床位", "m2": "m²", "m2 of land": "m² 用地",
          "facilities": "处设施"}

#: Fixed pieces inside a list of values (``rest`` groups): counts per district.
_REST = [(re.compile(r"\((\d+) of (\d+)\)"), r"（\2 张中 \1 张）"),
         (re.compile(r"\((\d+) beds, (\d+) older people\)"), r"（\1 张床位，\2 名老年人）")]

_N = r"[-+]?\d[\d,]*(?:\.\d+)?"
_IDS = r".+?"

#: (pattern, zh template) per fixed phrase of a note clause; patterns are matched whole.
NOTE_PHRASES: list[tuple[str, str]] = [
    # not evaluated
    (r"not evaluated: areas have no '(?P<c>\w+)' column",
     "未评估：居住区数据缺少“{c}”列（{c_zh}）"),
    (r"add it to roll areas up by (?P<col>\w+)", "补充该列后可按{col}汇总"),
    (r"not evaluated: no beds in (?P<lv>[\w/ ]+) facilities", "未评估：{lv}设施无床位数据"),
    (r"not evaluated: no (?P<lv>[\w/ ]+) facility with beds", "未评估：无有床位的{lv}设施"),
    (r"not evaluated: no facility of level (?P<lv>[\w/ ]+)", "未评估：无{lv}设施"),
    (r"not evaluated: no '(?P<built>\w+)' areas with households",
     "未评估：无有住户的{built}居住区"),
    (r"not evaluated: no '(?P<built>\w+)' areas", "未评估：无{built}居住区"),
    (r"not evaluated: no area has a (?P<col>\w+)", "未评估：居住区均无{col}信息"),
    (r"not evaluated: the standard sets no floor-area rate for '(?P<built>\w+)' areas",
     "未评估：标准未规定{built}居住区的面积指标"),
    (r"not evaluated: no district of type '(?P<x>[^']+)'(?P<rest>.*)",
     "未评估：无“{x}”类区县{rest}"),
    (r"not evaluated: needs walking distances(?P<rest>.*)",
     "未评估：需要步行距离（请先计算步行覆盖）"),
    (r"pass coverage=.*", "请传入步行覆盖结果 coverage=…"),
    (r"not evaluated: pass district_types=.*",
     "未评估：需说明各区县为市辖区或县（district_types=）"),
    (r"not evaluated: pass population= \(residents\) and care_land_m2=.*",
     "未评估：需提供常住人口（population=）和养老服务用地面积（care_land_m2=）"),
    (r"not evaluated: pass social_workers= \(count\)", "未评估：需提供社会工作者人数（social_workers=）"),
    (r"not a check on existing facilities: a planning parameter the plan applies "
     r"\(small deficits pooled within (?P<m>" + _N + r") minutes, (?P<x>" + _N + r") m\)",
     "非现状核查项：规划时采用的参数（小额缺口在 {m} 分钟（{x} m）步行范围内合并设置）"),
    # floor area
    (r"(?P<a>\d+) of (?P<b>\d+) (?P<built>new|existing|all) areas compliant",
     "{b} 个{built}居住区中 {a} 个达标"),
    (r"deficit (?P<x>" + _N + r") m2", "面积缺口 {x} m²"),
    (r"found = lowest provided m2 per 100 households \(counting levels (?P<lv>[\w/ ]+)\)",
     "现状值为各居住区每百户已配面积的最小值（计入{lv}设施）"),
    (r"failing: (?P<ids>" + _IDS + ")", "未达标：{ids}"),
    (r"(?P<n>\d+) (?P<lv>[\w/ ]+?) centre\(s\)", "{lv}中心 {n} 个"),
    (r"found = smallest floor area", "现状值为最小建筑面积"),
    (r"below (?P<x>" + _N + r") m2 per bed: (?P<ids>" + _IDS + ")",
     "每床建筑面积低于 {x} m²：{ids}"),
    (r"below (?P<x>" + _N + r") m2: (?P<ids>" + _IDS + ")", "面积低于 {x} m²：{ids}"),
    (r"(?P<a>\d+) of (?P<b>\d+) (?P<lv>[\w/ ]+?) facilities within range",
     "{b} 个{lv}设施中 {a} 个在规定面积范围内"),
    (r"outside: (?P<ids>" + _IDS + ")", "超出范围：{ids}"),
    (r"(?P<a>\d+) of (?P<b>\d+) (?P<built>new|existing|all) areas have (?P<p>\d+)% of their "
     r"required floor area inside the estate",
     "{b} 个{built}居住区中 {a} 个在小区内配建了 {p}% 的应配面积"),
    (r"short on site: (?P<ids>" + _IDS + ")", "小区内配建不足：{ids}"),
    # network, coverage
    (r"(?P<a>\d+) of (?P<b>\d+) (?P<col>\w+?)s within the rule", "{b} 个{col}中 {a} 个符合规定"),
    (r"found = fewest (?P<lv>[\w/ ]+?) facilities in a (?P<col>\w+)",
     "现状值为各{col}{lv}设施数量的最小值"),
    (r"too few in: (?P<ids>" + _IDS + ")", "数量不足：{ids}"),
    (r"more than (?P<x>" + _N + r") in: (?P<ids>" + _IDS + ")", "超过 {x} 个：{ids}"),
    (r"(?P<col>\w+) unknown for \(not counted\): (?P<ids>" + _IDS + ")",
     "{col}未知（未计入）：{ids}"),
    (r"(?P<col>\w+) not among the areas' \(not counted\): (?P<ids>" + _IDS + ")",
     "{col}不在居住区范围内（未计入）：{ids}"),
    (r"(?P<a>\d+) of (?P<b>\d+) areas with households served by an? (?P<lv>[\w/ ]+?) "
     r"facility \(assigned by allocation, area_id or location\)",
     "{b} 个有住户的居住区中 {a} 个有{lv}设施服务（按面积分配、所属小区或位置判定）"),
    (r"(?P<a>\d+) of (?P<b>\d+) areas with households served by a canteen \(level or "
     r"function\)(?P<how> \((?:assigned by allocation, area_id or location|within the "
     r"walking circle or assigned)\))?",
     "{b} 个有住户的居住区中 {a} 个有长者饭堂服务（助餐点或设施的助餐功能）{how}"),
    (r"(?P<a>\d+) of (?P<b>\d+) areas with households served by an? (?P<lv>[\w/ ]+?) "
     r"facility \(within the walking circle or assigned\)",
     "{b} 个有住户的居住区中 {a} 个有{lv}设施服务（在步行服务圈内或已分配）"),
    (r"not evaluated: no area with households", "未评估：无有住户的居住区"),
    (r"(?P<n>\d+) area\(s\) with 0 households left out", "{n} 个无住户的居住区不计入"),
    (r"without: (?P<ids>" + _IDS + ")", "未覆盖：{ids}"),
    (r"(?P<a>\d+) of (?P<b>\d+) streets have an? (?P<lv>[\w/ ]+?) facility",
     "{b} 个街道中 {a} 个有{lv}设施"),
    (r"share of households within the (?P<m>" + _N + r")-minute walk: (?P<a>\d+) of "
     r"(?P<b>\d+) areas covered",
     "步行 {m} 分钟内的户数占比：{b} 个居住区中 {a} 个被覆盖"),
    (r"coverage cutoff (?P<x>" + _N + r") m \(standard: (?P<y>" + _N + r") m\)",
     "覆盖计算距离上限 {x} m（标准：{y} m）"),
    (r"uncovered: (?P<ids>" + _IDS + ")", "未覆盖：{ids}"),
    (r"share of households with a facility within (?P<x>" + _N + r") m: (?P<a>\d+) of "
     r"(?P<b>\d+) areas", "{x} m 内有设施的户数占比：{b} 个居住区中 {a} 个"),
    (r"beyond: (?P<ids>" + _IDS + ")", "超出距离：{ids}"),
    # beds, staff, land
    (r"(?P<n>" + _N + r") nursing beds of (?P<m>" + _N + r") beds in (?P<k>\d+) "
     r"(?P<lv>[\w/ ]+?) facilities", "{k} 个{lv}设施共 {m} 张床位，其中护理型床位 {n} 张"),
    (r"(?P<g>" + _N + r") more nursing beds needed", "尚需护理型床位 {g} 张"),
    (r"(?P<x>" + _N + r") m2 of care land for (?P<p>" + _N + r") residents \((?P<src>.*)\)",
     "养老服务用地 {x} m²，常住人口 {p} 人（{src}）"),
    (r"no facility of level (?P<lv>[\w/ ]+) in the input", "输入数据中无{lv}设施"),
    (r"largest (?P<lv>[\w/ ]+?): (?P<id>.+) with (?P<n>\d+) beds", "床位最多的{lv}：{id}，{n} 张"),
    (r"largest (?P<lv>[\w/ ]+?) per (?P<col>\w+): (?P<rest>.*)",
     "各{col}床位最多的{lv}：{rest}"),
    (r"below (?P<x>" + _N + r") beds: (?P<ids>" + _IDS + ")", "低于 {x} 张床位：{ids}"),
    (r"(?P<lv>[\w/ ]+?) beds per 1,000 older people by (?P<col>\w+): (?P<rest>.*)",
     "按{col}统计的每千名老年人{lv}床位数：{rest}"),
    (r"bed gap: (?P<rest>.*)", "床位缺口：{rest}"),
    (r"nursing beds / (?P<lv>[\w/ ]+?) beds by (?P<col>\w+): (?P<rest>.*)",
     "按{col}统计的护理型床位占{lv}床位比例：{rest}"),
    (r"gap by (?P<col>\w+): (?P<rest>.*) \((?P<unit>beds|nursing beds|m2 of land|m2|"
     r"facilities)\)", "各{col}缺口：{rest}（{unit}）"),
    (r"no (?P<lv>[\w/ ]+?) beds in: (?P<ids>" + _IDS + ")", "无{lv}床位：{ids}"),
    (r"(?P<lv>[\w/ ]+?) facilities outside every district \(not counted\): "
     r"(?P<ids>" + _IDS + ")", "不在任何区县内的{lv}设施（未计入）：{ids}"),
    (r"(?P<a>\d+) of (?P<b>\d+) (?P<lv>[\w/ ]+?) facilities with beds meet it",
     "{b} 个有床位的{lv}设施中 {a} 个达标"),
    (r"(?P<s>" + _N + r") social workers for (?P<n>" + _N + r") older people",
     "社会工作者 {s} 名，老年人 {n} 名"),
    (r"(?P<s>" + _N + r") social workers for (?P<n>" + _N + r") beds",
     "社会工作者 {s} 名，床位 {n} 张"),
    # reasons of the "not met by this plan" table (careplan.plan._explain)
    (r"street/town comprehensive centres are not proposed by this plan "
     r"\(community stations only\)", "本规划不新增街道（镇）综合服务中心（仅布局社区站点）"),
    (r"street comprehensive centres are not proposed by this plan "
     r"\(community stations only\)", "本规划不新增街道综合服务中心（仅布局社区站点）"),
    (r"street comprehensive centres are not proposed by this plan",
     "本规划不新增街道综合服务中心"),
    (r"existing street centres below the size: the plan does not resize them",
     "现状街道中心面积不足：本规划不调整其规模"),
    (r"existing centres outside the range: the plan does not resize them",
     "现状中心面积超出规定范围：本规划不调整其规模"),
    (r"district centres are not proposed by this plan", "本规划不新增区级中心"),
    (r"elderly canteens are not proposed by this plan \(a canteen is a separate facility "
     r"level\)", "本规划不新增长者饭堂（助餐点为单独的设施等级）"),
    (r"beds, staff and land are not planned by a layout plan",
     "床位、人员和用地不属于设施布局规划的内容"),
    (r"beds, staff and land are not placed by a layout plan \(stated, not planned\)",
     "床位、人员和用地不属于设施空间布局（仅说明，不作规划）"),
    (r"elderly canteens are not proposed by this plan", "本规划未配置长者饭堂"),
    (r"existing facilities outside the size: the plan proposes new sites within it but does "
     r"not resize existing ones", "现状设施规模不在规定范围内：本规划新增设施符合规定，但不调整现状设施规模"),
    (r"gap: (?P<x>" + _N + r") (?P<unit>beds|nursing beds|m2 of land|m2|facilities)",
     "缺口 {x} {unit}"),
    (r"areas whose floor area comes from a larger centre or an on-site room get no "
     r"separate station", "面积由较大中心或小区内配建用房提供的居住区不再单设站点"),
    (r"budget p = (?P<p>\d+) too small", "新增设施数量上限 p = {p} 不足"),
    (r"no station or candidate within the walking circle of: (?P<ids>" + _IDS + ")",
     "以下居住区步行圈内无站点或候选点：{ids}"),
]

#: Names the plan generates for proposed facilities (``facilities.name``).
NAME_PHRASES: list[tuple[str, str]] = [
    (r"proposed station (?P<id>.+)", "规划站点 {id}"),
    (r"expansion of (?P<id>.+)", "{id}（扩建）"),
    (r"on-site room of (?P<id>.+?)(?: \(配建\))?", "{id} 小区内配建用房"),
    (r"proposed district centre (?P<id>\S+) \((?P<z>.+)\)", "规划区级中心 {id}（{z}）"),
    (r"proposed street centre (?P<id>\S+) \((?P<z>.+)\)", "规划街道综合服务中心 {id}（{z}）"),
    (r"proposed (?P<what>.+?) (?P<id>\S+) \((?P<z>.+)\)", "规划{what} {id}（{z}）"),
    (r"canteen function added to (?P<id>.+)", "{id} 增设助餐功能"),
]

#: Values of the facilities table's vocabulary columns (``status``, ``kind``, ``functions``).
VALUE_WORDS: dict[str, str] = {
    "station": "养老服务站", "centre": "综合服务中心", "district centre": "区级养老服务指导中心",
    "canteen": "长者饭堂", "on-site room": "小区内配建用房", "institution": "养老机构",
    "existing": "现状", "proposed": "规划", "new": "新建", "expansion": "扩建",
    "on_site": "小区内配建", "other": "其他",
}

#: Columns whose values are words of :data:`VALUE_WORDS`.
WORD_COLUMNS = ("status", "kind", "functions")

_COMPILED = [(re.compile(p, re.S), z) for p, z in NOTE_PHRASES]
_COMPILED_NAMES = [(re.compile(p, re.S), z) for p, z in NAME_PHRASES]
_MORE = re.compile(r"\s*\(\+(\d+) more\)$")


def _word(group: str, value: str) -> str:
    if group == "lv":
        return "/".join(_WORDS.get(w.strip(), w.strip()) for w in value.split("/"))
    if group == "built":
        return _WORDS.get(value, value)
    if group == "col":
        return _ZONES.get(value, value)
    if group == "unit":
        return _UNITS.get(value, value)
    if group == "how":
        if not value:
            return ""
        return ("（在步行服务圈内或已分配）" if "walking circle" in value
                else "（按面积分配、所属小区或位置判定）")
    if group == "rest":
        for rx, zh in _REST:
            value = rx.sub(zh, value)
        return value
    if group == "ids":
        return _MORE.sub(lambda m: f"（另 {m.group(1)} 个）", value)
    return value


def _translate(text: str, table) -> str | None:
    for rx, zh in table:
        m = rx.fullmatch(text.strip())
        if m:
            groups = {k: v or "" for k, v in m.groupdict().items()}
            words = {k: _word(k, v) for k, v in groups.items()}
            words |= {f"{k}_zh": _ZONES.get(v, _WORDS.get(v, v)) for k, v in groups.items()}
            return zh.format(**words)
    return None


def note_text(note: Any, lang: str) -> Any:
    """A rule note or reason in *lang*: each ``"; "`` clause through :data:`NOTE_PHRASES`.

    Parameters
    ----------
    note : str or None
        The note as the evaluator wrote it (English).
    lang : {"zh", "en"}

    Returns
    -------
    str or None
        In English the note unchanged; in Chinese every known clause translated,
        joined by ``"；"`` (unknown clauses kept as written).  Non-text values are
        returned unchanged.
    """
    if lang != "zh" or not isinstance(note, str) or not note.strip():
        return note
    parts = [p for p in note.split("; ") if p.strip()]
    return "；".join(_translate(p, _COMPILED) or p for p in parts)


def untranslated(note: Any) -> list[str]:
    """The clauses of *note* that :data:`NOTE_PHRASES` does not know (for tests)."""
    if not isinstance(note, str):
        return []
    return [p for p in note.split("; ") if p.strip() and _translate(p, _COMPILED) is None]


def value_text(value: Any, lang: str, column: str) -> Any:
    """A value of a plan table's *column* in *lang*.

    ``status``, ``kind`` and ``functions`` (lists item by item) through
    :data:`VALUE_WORDS`; ``name`` through :data:`NAME_PHRASES` (names the plan
    generates, e.g. ``"expansion of X"``).  Anything else, and text the catalogue
    does not know (names from the data), is returned unchanged.
    """
    if lang != "zh":
        return value
    if isinstance(value, list | tuple):
        return [value_text(v, lang, column) for v in value]
    if not isinstance(value, str):
        return value
    if column in WORD_COLUMNS:
        return VALUE_WORDS.get(value, value)
    if column == "name":
        return _translate(value, _COMPILED_NAMES) or value
    return value


# ---------------------------------------------------------------------------------------
# the plan's parameter table (LayoutPlan.parameters): values written by the plan in English
# ---------------------------------------------------------------------------------------
#: Words a parameter value may be whole (model names, solver states, weights, "none").
PARAMETER_WORDS: dict[str, str] = {
    "none": "无", "set_covering": "集合覆盖模型（以最少站点覆盖全部住户）",
    "maximal_covering": "最大覆盖模型（在站点数量上限内覆盖最多老年人）",
    "p_median": "P 中位模型（步行距离加权最短）", "auto": "自动选择",
    "households": "户数", "elderly": "老年人数", "optimal": "最优解",
    "time_limit": "达到求解时限（非最优）", "feasible": "可行解（非最优）",
    "infeasible": "无可行解",
}

_SRC = r"(?P<src>.+)"

#: (pattern, zh template) of the fixed phrases of parameter values (whole value first,
#: then each ``"; "`` clause, as :func:`note_text`).  Groups are copied, except ``lv``
#: (levels), ``col`` (street/district), ``src`` (a source: itself through this catalogue).
PARAMETER_PHRASES: list[tuple[str, str]] = [
    # plan/_assemble.SIZING_NOTE
    (r"existing floor area is allocated to the areas within its walking circle \(exact "
     r"transportation LP\); each remaining deficit goes to one station within the circle "
     r"\(a new station, or an expansion of an existing counted facility\), small deficits "
     r"pooled into shared stations \(exact MIP: fewest new stations, then least floor area, "
     r"then least walking; a deficit below the site minimum joins a station opened for "
     r"deficits only within the pooling circle\), or to a room inside the estate where the "
     r"profile requires on-site rooms \(配建\); a new station's size is the sum of the "
     r"deficits allocated to it, within the profile's single-site bounds \(else "
     r"min_station_floor_area_m2, else careplan's default of (?P<m>" + _N + r") m2\) and the "
     r"candidate's max_floor_area_m2",
     "现状设施面积按步行服务圈分配给圈内居住区（精确求解运输问题线性规划）；其余缺口由服务圈内"
     "的一处站点承担（新建站点，或扩建计入面积的现状设施），小额缺口合并设置共享站点（精确混合"
     "整数规划：新增站点最少，其次面积最小，再次步行距离最短；低于单处最小面积的缺口并入集中配置"
     "范围内专为补缺口而设的站点），标准要求配建的新建小区则在小区内配建用房；新建站点面积为分配"
     "给它的缺口之和，限定在标准规定的单处面积上下限内（无规定时取 min_station_floor_area_m2，"
     "再无则取 careplan 默认值 {m} m²），且不超过候选点的 max_floor_area_m2"),
    # plan/_assemble.EQUITY_NOTE
    (r"equity of access \(careplan\.equity\.before_after\): per area, the floor area "
     r"allocated to it \(provided_before_m2 / provided_after_m2\) per older person \(per "
     r"household when the areas have no elderly column\), weighted by its older people; "
     r"Gini \(0 equal, 1 concentrated\) and Palma \(share held by the top 10 % over the "
     r"bottom 40 %\) of that value, and the share of older people outside the walking "
     r"circle; overall and by street and district where the areas have those columns",
     "服务可达公平性（careplan.equity.before_after）：各居住区分得的养老服务用房面积"
     "（provided_before_m2 / provided_after_m2）除以老年人数（无老年人数时按户数），以老年人数"
     "加权；计算该值的基尼系数（0 为完全均等，1 为高度集中）和帕尔玛比值（最高 10% 人口所得份额"
     "与最低 40% 人口所得份额之比），以及步行服务圈外老年人占比；按全部、街道和区县（居住区有"
     "该列时）分别统计"),
    # the profiles' walking-speed source (speed_source of every shipped profile)
    (r"Assumption \(not in the policy text\): older pedestrians walk about (?P<v>" + _N +
     r") m/s = (?P<s>" + _N + r") m/min; (?P<ref>.+?), report a 15th-percentile walking "
     r"speed of about (?P<p>" + _N + r") m/s for pedestrians aged 65\+\. (?P<m>" + _N +
     r") min x (?P<s2>" + _N + r") m/min = (?P<d>" + _N + r") m\.",
     "假设（非政策原文）：老年人步行速度约 {v} m/s，即 {s} 米/分钟；{ref} 报告 65 岁及以上行人"
     "步行速度的第 15 百分位约为 {p} m/s。{m} 分钟 × {s2} 米/分钟 = {d} 米。"),
    # candidates (plan/_steps.prepare, plan/_assemble.parameters)
    (r"(?P<n>\d+) user-supplied candidate sites", "用户提供的候选点 {n} 个"),
    (r"plus a fallback site inside each of (?P<n>\d+) area\(s\) that no site reached "
     r"within (?P<x>" + _N + r") m: (?P<ids>" + _IDS + ")",
     "另在步行 {x} m 内无候选点的 {n} 个居住区内各补充一个候选点：{ids}"),
    (r"default: one candidate site inside every residential area \(its representative "
     r"point\)", "默认：每个居住区内取一个候选点（其代表点）"),
    (r"pass candidates= to use your own sites", "可通过 candidates= 提供自有候选点"),
    # zones (plan/_zones)
    (r"areas have no district: the plan is one district named '(?P<x>[^']*)'",
     "居住区无区县信息：全部作为一个区县（名为“{x}”）规划"),
    (r"areas have no street: each district is taken as one street \(town\)",
     "居住区无街道信息：每个区县按一个街道（镇）处理"),
    (r"give areas a street column or street polygons \(streets=\) for centres per street",
     "如需按街道布局综合服务中心，请为居住区提供 street 列或街道边界（streets=）"),
    # boundaries (plan/_steps.Inputs.boundaries_note)
    (r"(?P<col>street|district): no polygons and no '(?:street|district)' of the areas' "
     r"own \(see zones\)", "{col}：无边界且居住区无该列（见“街道划分”）"),
    (r"(?P<col>street|district): no polygons", "{col}：无边界"),
    (r"(?P<n>\d+) area\(s\) with their own '(?:street|district)'", "{n} 个居住区自带该列"),
    (r"(?P<col>street|district): (?P<n>\d+) polygon\(s\)", "{col}：边界 {n} 个"),
    (r"areas by polygon (?P<a>\d+), own value (?P<b>\d+) \(wins\), in none (?P<c>\d+)"
     r"(?: \((?P<ids>.+)\))?",
     "按边界归属的居住区 {a} 个，自带值的 {b} 个（以自带值为准），不在任何边界内的 {c} 个{ids_paren}"),
    (r"(?P<n>\d+) polygon\(s\) hold no area and are not planned: (?P<ids>" + _IDS + ")",
     "{n} 个边界内无居住区，不作规划：{ids}"),
    # centre sizes (plan/_levels.centre_size, plan/_explain.levels_parameters)
    (r"(?P<m>" + _N + r") m2: " + _SRC, "{m} m²：{src}"),
    (r"no (?P<lv>street|district)-level size in (?P<std>\S+): its street-centre minimum, "
     r"(?P<src>.+) \(a (?:street|district) centre is not smaller than the street centres it "
     r"guides; assumption\)",
     "{std} 未规定{lv}设施规模：取其街道中心最小面积，{src}（假设：区级中心不小于其指导的街道中心）"),
    (r"no (?P<lv>street|district)-level size in (?P<std>\S+): the street-centre minimum of "
     r"(?P<ref>\S+), (?P<src>.+) \(default, stated\)",
     "{std} 未规定{lv}设施规模：取 {ref} 的街道中心最小面积，{src}（默认值）"),
    # pooling circle and site bounds (plan/_sizes, standards/_sizes)
    (r"(?P<id>[a-z][a-z0-9_]*) \((?P<title>.+), (?P<clause>[^,]+)\)", "{id}（《{title}》{clause}）"),
    (r"default: the plan's walking circle \(the profile sets no pooling circle\)",
     "默认：采用规划的步行服务圈（标准未规定集中配置范围）"),
    (r"(?P<m>" + _N + r") min x (?P<s>" + _N + r") m/min", "{m} 分钟 × {s} 米/分钟"),
    (r"pooling_minutes option", "规划参数 pooling_minutes"),
    (r"min_station_floor_area_m2 option", "规划参数 min_station_floor_area_m2"),
    (r"assumption \(not policy text\): careplan's default smallest new station, "
     r"(?P<m>" + _N + r") m2", "假设（非政策原文）：careplan 默认的新建站点最小面积 {m} m²"),
    (r"set min_station_floor_area_m2 or a site_floor_area_range_m2 rule",
     "可设置 min_station_floor_area_m2 或在标准中加入 site_floor_area_range_m2 规则"),
    # service areas (plan/_assemble.service_areas_note)
    (r"(?P<n>\d+) service areas \(more than (?P<lim>\d+)\) drawn as envelopes: the concave "
     r"hull of the street points each facility reaches within the circle, buffered by "
     r"(?P<b>" + _N + r") m \(covers every street point reached, the exact street band costs "
     r"~40 ms each\), coverage is computed from the walking distances, not from these shapes",
     "{n} 个服务范围（超过 {lim} 个）以外包范围绘制：各设施步行服务圈内可达路网点的凹包外扩 "
     "{b} m（包含全部可达路段；逐个精确绘制路段缓冲区每个约需 40 ms）；覆盖率按步行距离计算，"
     "不依据这些图形"),
    (r"(?P<n>\d+) service areas drawn as the streets each facility reaches within the "
     r"circle, buffered by (?P<b>" + _N + r") m \(exact, envelopes above (?P<lim>\d+)\)",
     "{n} 个服务范围按各设施步行服务圈内可达的路段外扩 {b} m 绘制（精确；超过 {lim} 个时改为"
     "外包范围）"),
    # cost and phases (plan/_pipeline)
    (r"(?P<lv>[\w/ ]+?): construction (?P<c>" + _N + r") yuan/m2, rent (?P<r>" + _N +
     r") yuan/m2/year", "{lv}：建设 {c} 元/m²，租金 {r} 元/m²/年"),
    (r"(?P<y>\d{4}): budget (?P<b>" + _N + r") yuan", "{y} 年：预算 {b} 元"),
]

_COMPILED_PARAMS = [(re.compile(p, re.S), z) for p, z in PARAMETER_PHRASES]


def _param_clause(text: str) -> str | None:
    """One parameter value (or clause) in zh through :data:`PARAMETER_PHRASES`."""
    s = text.strip()
    if s in PARAMETER_WORDS:
        return PARAMETER_WORDS[s]
    for rx, zh in _COMPILED_PARAMS:
        m = rx.fullmatch(s)
        if m:
            groups = {k: v or "" for k, v in m.groupdict().items()}
            words = {k: _word(k, v) for k, v in groups.items()}
            if "src" in groups:  # a source is itself a phrase (rule id (title, clause), ...)
                words["src"] = parameter_text(groups["src"], "zh")
            if "col" in groups:
                words["col"] = _ZONES.get(groups["col"], groups["col"])
            words["ids_paren"] = f"（{words['ids']}）" if groups.get("ids") else ""
            return zh.format(**words)
    return None


def parameter_text(value: Any, lang: str) -> Any:
    """A value of the plan's parameter table in *lang*.

    Parameters
    ----------
    value : object
        The value as the plan wrote it (:attr:`careplan.plan.LayoutPlan.parameters`):
        English text for notes and sources, numbers, lists of ids.
    lang : {"zh", "en"}

    Returns
    -------
    object
        In English *value* unchanged.  In Chinese a text through
        :data:`PARAMETER_WORDS` and :data:`PARAMETER_PHRASES`: the whole value, else each
        ``"; "`` clause (a clause neither catalogue knows is kept as written, never
        dropped; :func:`untranslated_parameter` lists them); other values unchanged.
    """
    if lang != "zh" or not isinstance(value, str) or not value.strip():
        return value
    whole = _param_clause(value)
    if whole is not None:
        return whole
    parts = [p for p in value.split("; ") if p.strip()]
    if len(parts) == 1:
        return value
    return "；".join(_param_clause(p) or p for p in parts)


def untranslated_parameter(value: Any) -> list[str]:
    """The clauses of a parameter value that :func:`parameter_text` keeps in English
    (for tests)."""
    if not isinstance(value, str) or not value.strip() or _param_clause(value) is not None:
        return []
    return [p for p in value.split("; ") if p.strip() and _param_clause(p) is None]
