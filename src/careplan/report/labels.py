"""The one zh/en label catalogue for everything a planner sees.

Every table header, map layer, legend entry, chart title/axis and message the
report, the map, the figures and the CLI show comes from :data:`UI` (keys are
stable identifiers, values ``{"zh": ..., "en": ...}``).  Computation modules
(``compliance``, ``plan``) return plain frames keyed by column names and metric
ids; the labels are attached here, at presentation time.

Input synonyms (the words a *reader* accepts, e.g. ``社区`` for ``community``)
are not labels: they live in :mod:`careplan._schema`.  Rule labels are data of
each standard profile (``label_zh`` / ``label_en`` of a rule) and are shown as
the profile gives them.

Chinese labels are simplified Chinese (简体中文).
"""

from __future__ import annotations

from careplan._errors import InputError

#: Languages every label exists in.
LANGS = ("zh", "en")

UI: dict[str, dict[str, str]] = {
    # report structure
    "title": {"zh": "养老服务设施布局规划报告", "en": "Elderly-care facility layout plan"},
    "map": {"zh": "规划地图", "en": "Map"},
    "map_title": {"zh": "养老服务设施布局规划", "en": "Elderly-care facility layout plan"},
    "summary": {"zh": "规划前后对比", "en": "Before and after"},
    "metric": {"zh": "指标", "en": "Metric"},
    "before": {"zh": "规划前", "en": "Before"},
    "after": {"zh": "规划后", "en": "After"},
    "change": {"zh": "变化", "en": "Change"},
    "charts": {"zh": "图表", "en": "Charts"},
    "rules_before": {"zh": "规范核查（规划前）", "en": "Rule check (before)"},
    "rules_after": {"zh": "规范核查（规划后）", "en": "Rule check (after)"},
    "rule_id": {"zh": "条目", "en": "Rule"},
    "label": {"zh": "内容", "en": "Description"},
    "required": {"zh": "要求", "en": "Required"},
    "found": {"zh": "现状", "en": "Found"},
    "passed": {"zh": "是否达标", "en": "Passed"},
    "citation": {"zh": "依据", "en": "Citation"},
    "clause": {"zh": "条款", "en": "clause"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
    "not_evaluated": {"zh": "未评估", "en": "not evaluated"},
    "proposed": {"zh": "新增设施", "en": "Proposed stations"},
    "no_proposed": {"zh": "无需新增设施。", "en": "No new station is proposed."},
    "station_id": {"zh": "设施编号", "en": "Station"},
    "candidate_id": {"zh": "候选点", "en": "Candidate"},
    "floor_area_m2": {"zh": "建筑面积 (m²)", "en": "Floor area (m²)"},
    "households_served": {"zh": "服务户数", "en": "Households served"},
    "elderly_served": {"zh": "服务老年人数", "en": "Elderly served"},
    "areas_served": {"zh": "服务小区", "en": "Areas served"},
    "n_areas_served": {"zh": "服务小区数", "en": "Number of areas served"},
    "kind": {"zh": "类型", "en": "Kind"},
    "kind_new": {"zh": "新建", "en": "new"},
    "kind_expansion": {"zh": "扩建", "en": "expansion"},
    "kind_on_site": {"zh": "小区内配建", "en": "on-site rooms"},
    "kind_centre": {"zh": "综合服务中心", "en": "centre"},
    "kind_canteen": {"zh": "增设助餐功能", "en": "canteen function"},
    "category": {"zh": "类别", "en": "Category"},
    "cat_data missing": {"zh": "缺少数据", "en": "data missing"},
    "cat_not a spatial rule": {"zh": "非空间布局指标", "en": "not a spatial rule"},
    "cat_not planned": {"zh": "本规划未安排", "en": "not planned"},
    "cat_budget": {"zh": "新增设施数量（预算）不足", "en": "budget"},
    "cat_no site": {"zh": "步行圈内无可选址点", "en": "no site"},
    "facility_id": {"zh": "现状设施编号", "en": "Existing facility"},
    "unit": {"zh": "单位", "en": "Unit"},
    "note": {"zh": "说明", "en": "Note"},
    "lg_expansion": {"zh": "现状设施扩建（按面积大小）",
                     "en": "Expansion of an existing facility (sized by m²)"},
    "lg_na": {"zh": "无需配置（无住户）", "en": "Not applicable (no households)"},
    "existing": {"zh": "现状设施", "en": "Existing facilities"},
    "level": {"zh": "等级", "en": "Level"},
    "count": {"zh": "数量", "en": "Count"},
    "parameters": {"zh": "假设与参数", "en": "Assumptions and parameters"},
    "parameter": {"zh": "参数", "en": "Parameter"},
    "value": {"zh": "取值", "en": "Value"},
    "attribution": {"zh": "数据来源", "en": "Data attribution"},
    "areas": {"zh": "居住小区", "en": "Residential areas"},
    "area_id": {"zh": "小区编号", "en": "Area"},
    "name": {"zh": "名称", "en": "Name"},
    "households": {"zh": "户数", "en": "Households"},
    "elderly": {"zh": "老年人数", "en": "Elderly"},
    "required_m2": {"zh": "应配面积 (m²)", "en": "Required (m²)"},
    "provided_before_m2": {"zh": "规划前面积 (m²)", "en": "Provided before (m²)"},
    "provided_after_m2": {"zh": "规划后面积 (m²)", "en": "Provided after (m²)"},
    "deficit_before_m2": {"zh": "规划前缺口 (m²)", "en": "Deficit before (m²)"},
    "deficit_after_m2": {"zh": "规划后缺口 (m²)", "en": "Deficit after (m²)"},
    "compliant_before": {"zh": "规划前达标", "en": "Compliant before"},
    "compliant_after": {"zh": "规划后达标", "en": "Compliant after"},
    "covered_before": {"zh": "规划前步行覆盖", "en": "Walk-covered before"},
    "covered_after": {"zh": "规划后步行覆盖", "en": "Walk-covered after"},
    "nearest_distance_before_m": {"zh": "规划前最近距离 (m)", "en": "Nearest before (m)"},
    "nearest_distance_after_m": {"zh": "规划后最近距离 (m)", "en": "Nearest after (m)"},
    "access": {"zh": "到达路网方式", "en": "Access to the network"},
    "served_by": {"zh": "新增服务设施", "en": "Served by (new)"},
    "cutoff_m": {"zh": "服务半径 (m)", "en": "Walking cutoff (m)"},
    # further tables of a plan (shown when the plan has them)
    "allocation": {"zh": "设施面积分配（设施 → 小区）",
                   "en": "Floor-area allocation (facility -> area)"},
    "facilities": {"zh": "各级设施一览", "en": "Facilities by level"},
    "floor_area_allocation": {"zh": "规划后各设施建筑面积分配（步行圈内，设施 → 小区）",
                              "en": "Floor area after the plan, allocated within the walking "
                                    "circle (facility -> area)"},
    "rules_not_met": {"zh": "本规划未满足的规范条目及原因", "en": "Rules not met by this plan"},
    "equity": {"zh": "公平性（规划前后）", "en": "Equity before and after"},
    "equity_note": {
        "zh": "指标：各居住区分得的养老服务用房面积（按步行圈内分配）除以老年人数（无老年人数时按户数），"
              "以老年人数加权；基尼系数 0 为完全均等，越接近 1 越集中；帕尔玛比值为最高 10% 人口所得份额与"
              "最低 40% 人口所得份额之比（最低 40% 无面积时为 ∞）；步行圈外占比为步行服务圈外老年人占比。",
        "en": "Measure: the floor area allocated to each residential area (within the walking "
              "circle) per older person (per household without elderly counts), weighted by "
              "its older people; Gini 0 = equal, towards 1 = concentrated; Palma = share held "
              "by the top 10 % over the share held by the bottom 40 % (∞ when the bottom 40 % "
              "have none); outside = share of older people outside the walking circle."},
    "equity.level": {"zh": "统计范围", "en": "Scope"},
    "equity.group": {"zh": "名称", "en": "Group"},
    "equity.weight": {"zh": "人口口径", "en": "People counted"},
    "equity.units": {"zh": "小区数", "en": "Areas"},
    "equity.people": {"zh": "人数", "en": "People"},
    "equity.outside_share_before": {"zh": "规划前步行圈外占比", "en": "Outside the circle, before"},
    "equity.outside_share_after": {"zh": "规划后步行圈外占比", "en": "Outside the circle, after"},
    "equity.gini_before": {"zh": "规划前基尼系数", "en": "Gini before"},
    "equity.gini_after": {"zh": "规划后基尼系数", "en": "Gini after"},
    "equity.palma_before": {"zh": "规划前帕尔玛比值", "en": "Palma before"},
    "equity.palma_after": {"zh": "规划后帕尔玛比值", "en": "Palma after"},
    "scope_all": {"zh": "全部", "en": "all"},
    "scope_street": {"zh": "街道", "en": "street"},
    "scope_district": {"zh": "区县", "en": "district"},
    "weight_elderly": {"zh": "老年人", "en": "older people"},
    "weight_households": {"zh": "户", "en": "households"},
    "chart_lorenz": {"zh": "洛伦兹曲线：人均养老服务用房面积", "en": "Lorenz curve: floor area per person"},
    "lorenz_x_elderly": {"zh": "老年人累计占比", "en": "Cumulative share of older people"},
    "lorenz_x_households": {"zh": "户数累计占比", "en": "Cumulative share of households"},
    "lorenz_y": {"zh": "养老服务用房面积累计占比", "en": "Cumulative share of floor area"},
    "lorenz_equal": {"zh": "完全均等", "en": "Equal shares"},
    "gini": {"zh": "基尼系数", "en": "Gini"},
    "cost": {"zh": "投资估算", "en": "Cost"},
    "phases": {"zh": "分期建设", "en": "Phases"},
    "total": {"zh": "合计", "en": "Total"},
    "phase_subtotal": {"zh": "第 {k} 期小计", "en": "Phase {k} subtotal"},
    "unphased_subtotal": {"zh": "未能安排分期小计", "en": "Not phased, subtotal"},
    "allocation.facility_id": {"zh": "设施编号", "en": "Facility"},
    "facilities.facility_id": {"zh": "设施编号", "en": "Facility"},
    "facilities.status": {"zh": "状态（既有/规划）", "en": "Status"},
    "facilities.kind": {"zh": "类型", "en": "Kind"},
    "facilities.station_id": {"zh": "规划编号", "en": "Station"},
    "facilities.candidate_id": {"zh": "候选点编号", "en": "Candidate"},
    "facilities.name": {"zh": "名称", "en": "Name"},
    "facilities.address": {"zh": "地址", "en": "Address"},
    "facilities.functions": {"zh": "功能", "en": "Functions"},
    "facilities.estates": {"zh": "服务小区", "en": "Estates served"},
    "facilities.n_estates": {"zh": "服务小区数", "en": "Number of estates"},
    "facilities.households_served": {"zh": "服务户数", "en": "Households served"},
    "facilities.elderly_served": {"zh": "服务老年人数", "en": "Elderly served"},
    "facilities.lon_wgs84": {"zh": "经度 (WGS84)", "en": "Longitude (WGS84)"},
    "facilities.lat_wgs84": {"zh": "纬度 (WGS84)", "en": "Latitude (WGS84)"},
    "facilities.lon_gcj02": {"zh": "经度 (GCJ-02，高德)", "en": "Longitude (GCJ-02, Amap)"},
    "facilities.lat_gcj02": {"zh": "纬度 (GCJ-02，高德)", "en": "Latitude (GCJ-02, Amap)"},
    "facilities.x_m": {"zh": "投影坐标 x (m)", "en": "x (m, projected)"},
    "facilities.y_m": {"zh": "投影坐标 y (m)", "en": "y (m, projected)"},
    "reason": {"zh": "原因", "en": "Reason"},
    "phase": {"zh": "期次", "en": "Phase"},
    "address": {"zh": "地址", "en": "Address"},
    "functions": {"zh": "功能", "en": "Functions"},
    "lon": {"zh": "经度 (WGS84)", "en": "Longitude (WGS84)"},
    "lat": {"zh": "纬度 (WGS84)", "en": "Latitude (WGS84)"},
    "lon_gcj02": {"zh": "经度 (GCJ-02)", "en": "Longitude (GCJ-02)"},
    "lat_gcj02": {"zh": "纬度 (GCJ-02)", "en": "Latitude (GCJ-02)"},
    "status": {"zh": "状态", "en": "Status"},
    "cost_cny": {"zh": "费用（元）", "en": "Cost (CNY)"},
    "milestone": {"zh": "目标年份", "en": "Milestone"},
    "construction_cost": {"zh": "建设投资（元）", "en": "Construction cost (CNY)"},
    "rent_per_year": {"zh": "年租金（元）", "en": "Rent per year (CNY)"},
    "elderly_served_new": {"zh": "本期新增服务老年人数", "en": "Elderly newly served"},
    "elderly_served_total": {"zh": "累计服务老年人数", "en": "Elderly served, cumulative"},
    "households_served_new": {"zh": "本期新增服务户数", "en": "Households newly served"},
    "households_served_total": {"zh": "累计服务户数", "en": "Households served, cumulative"},
    "year": {"zh": "年份", "en": "Year"},
    # map layers and legend
    "lyr_areas_after": {"zh": "小区达标情况（规划后）", "en": "Areas: compliance after"},
    "lyr_areas_before": {"zh": "小区达标情况（规划前）", "en": "Areas: compliance before"},
    "lyr_existing": {"zh": "现状设施", "en": "Existing facilities"},
    "lyr_proposed": {"zh": "新增设施", "en": "Proposed stations"},
    "lyr_sa_existing": {"zh": "现状服务范围", "en": "Service areas: existing"},
    "lyr_sa_proposed": {"zh": "新增服务范围", "en": "Service areas: proposed"},
    "lyr_network": {"zh": "步行路网", "en": "Street network"},
    "lyr_streets": {"zh": "街道边界", "en": "Street boundaries"},
    "lyr_districts": {"zh": "区县边界", "en": "District boundaries"},
    "lg_streets": {"zh": "街道边界", "en": "Street boundary"},
    "lg_districts": {"zh": "区县边界", "en": "District boundary"},
    "lg_proposed_level": {"zh": "新增{level}设施（按面积大小）",
                          "en": "Proposed, {level} (sized by m²)"},
    "lg_expansion_level": {"zh": "现状{level}设施扩建", "en": "Expansion, {level}"},
    "lg_canteen_function": {"zh": "现状设施增设助餐功能", "en": "Canteen function added"},
    "lg_compliant": {"zh": "面积达标", "en": "Meets floor-area rule"},
    "lg_deficit": {"zh": "面积不足", "en": "Floor-area deficit"},
    "lg_proposed": {"zh": "新增设施（按面积大小）", "en": "Proposed station (sized by m²)"},
    "lg_sa_existing": {"zh": "现状设施步行服务范围", "en": "Walking service area, existing"},
    "lg_sa_proposed": {"zh": "新增设施步行服务范围", "en": "Walking service area, proposed"},
    "lg_network": {"zh": "路网", "en": "Streets"},
    "legend": {"zh": "图例", "en": "Legend"},
    "north": {"zh": "北", "en": "N"},
    "colon": {"zh": "：", "en": ": "},
    # charts and static maps
    "chart_households": {"zh": "步行覆盖户数", "en": "Households within walking reach"},
    "chart_deficit": {"zh": "各小区面积缺口", "en": "Floor-area deficit by area"},
    "hh_total": {"zh": "总户数", "en": "All households"},
    "hh_covered": {"zh": "覆盖户数", "en": "Covered households"},
    "deficit_m2": {"zh": "缺口 (m²)", "en": "Deficit (m²)"},
    "deficit_top": {"zh": "（缺口最大的 {n} 个小区）",
                    "en": " (the {n} areas with the largest deficit)"},
    "map_before": {"zh": "规划前", "en": "Before the plan"},
    "map_after": {"zh": "规划后", "en": "After the plan"},
    "easting": {"zh": "距左下角东向距离 (m)", "en": "Easting from lower-left (m)"},
    "northing": {"zh": "距左下角北向距离 (m)", "en": "Northing from lower-left (m)"},
    "crs_note": {"zh": "坐标系", "en": "CRS"},
    "png_labels_omitted": {"zh": "新增站点 {n} 个：编号见 tables.xlsx",
                           "en": "{n} stations: ids in tables.xlsx"},
    "offline_note": {
        "zh": "地图不使用在线底图；底图为规划所用路网。",
        "en": "The map uses no online base map; streets are the plan's own network.",
    },
    "cdn_note": {
        "zh": "注意：交互地图需联网加载 Leaflet 脚本（安装 xstatic-leaflet 后可离线）。",
        "en": "Note: the interactive map loads Leaflet from a CDN "
              "(install xstatic-leaflet to embed it).",
    },
    "all_areas": {"zh": "全部小区明细", "en": "All areas"},
    "rows_capped": {"zh": "仅列出前 {shown} 行（共 {n} 行）；完整表格见 tables.xlsx。",
                    "en": "The first {shown} of {n} rows; the full table is in tables.xlsx."},
    "map_note_simplified": {
        "zh": "交互地图中的图形已简化（容差：居住区 {areas} m，路网 {network} m，服务范围 "
              "{service_areas} m；服务范围内小于 {holes} 公顷的空洞（街坊内部）已填充），坐标保留 "
              "{decimals} 位小数（约 1 m）；plan.gpkg 保留原始图形。",
        "en": "Shapes on the interactive map are simplified (tolerance: areas {areas} m, "
              "streets {network} m, service areas {service_areas} m; holes under {holes} ha "
              "in a service area, block interiors, filled) and coordinates kept to "
              "{decimals} decimals (about 1 m); plan.gpkg keeps the full shapes."},
    "map_note_network_dropped": {
        "zh": "路网共 {n} 条路段，超过 {limit} 条，未在交互地图中显示（plan.gpkg 与 PNG 地图中保留）。",
        "en": "The street layer ({n} edges, more than {limit}) is left out of the interactive "
              "map; it is in plan.gpkg and on the PNG maps."},
    "map_note_areas_as_points": {
        "zh": "居住区共 {n} 个，超过 {limit} 个，交互地图中以圆点表示（每个小区一个点，按规划前、后的"
              "达标状态着色；完整范围见 plan.gpkg）。",
        "en": "The {n} areas (more than {limit}) are drawn as points on the interactive map "
              "(one point per area, coloured by its status before or after); their outlines "
              "are in plan.gpkg."},
    "map_note_service_areas_merged": {
        "zh": "服务范围共 {n} 个，超过 {limit} 个，交互地图中按现状、新增各合并为一个范围显示"
              "（合并后简化容差 {tol} m，即地图范围的 1/{frac}、不小于 {floor} m；"
              "逐个设施的范围见 plan.gpkg）。",
        "en": "The {n} service areas (more than {limit}) are merged into one shape for existing "
              "and one for proposed facilities on the interactive map (simplified to {tol} m: "
              "1/{frac} of the map's extent, at least {floor} m); "
              "each facility's is in plan.gpkg."},
    "map_note_service_areas_hull": {
        "zh": "服务范围共 {n} 个，超过 {limit} 个，每个以步行可达路网点的凹包外扩 {buffer} m 表示"
              "（包含全部可达路段，街坊内部计为范围内；覆盖率按步行距离计算，不受此影响）。",
        "en": "The {n} service areas (more than {limit}) are drawn as envelopes: the concave "
              "hull of the street points each facility reaches, buffered by {buffer} m (every "
              "reached street inside, block interiors counted in); coverage is computed from "
              "the walking distances, not from these shapes."},
    "full_table_note": {"zh": "此处列出主要字段；完整表格（含 WGS84 与投影坐标、数据来源等全部字段）"
                              "见 tables.xlsx 与 plan.gpkg。",
                        "en": "Main columns shown; the full table (WGS84 and projected "
                              "coordinates, sources and every other column) is in tables.xlsx "
                              "and plan.gpkg."},
    # workbook sheets of `careplan check --out`
    "sheet_summary": {"zh": "汇总", "en": "summary"},
    # CLI headings
    "cli_summary": {"zh": "规划前后对比：", "en": "Summary (before -> after):"},
    "cli_proposed": {"zh": "新增设施：", "en": "Proposed stations:"},
    "cli_rules_after": {"zh": "规划后规范核查：", "en": "Rules after the plan:"},
    "cli_rules_before": {"zh": "规范核查（未新增设施）：",
                         "en": "Compliance (before any new station):"},
    "cli_wrote": {"zh": "已写出 {n} 个文件至 {dir}/：", "en": "wrote {n} outputs to {dir}/:"},
}

#: Facility levels (values of ``level``) as shown to a planner.
LEVELS: dict[str, dict[str, str]] = {
    "district": {"zh": "区级", "en": "district"},
    "street": {"zh": "街道级", "en": "street"},
    "community": {"zh": "社区级", "en": "community"},
    "institution": {"zh": "养老机构", "en": "institution"},
    "canteen": {"zh": "助餐点", "en": "canteen"},
    "other": {"zh": "其他", "en": "other"},
}

#: Metric ids of the plan's and the compliance summaries, as shown to a planner.
#: ``share`` marks a fraction in [0, 1] that is shown as a percentage.
METRICS: dict[str, dict[str, str]] = {
    # plan summary (careplan.plan)
    "households": {"zh": "户数", "en": "Households"},
    "households_covered": {"zh": "步行服务圈覆盖户数", "en": "Households within the walking circle"},
    "households_covered_share": {"zh": "户数覆盖率", "en": "Share of households covered"},
    "elderly_covered": {"zh": "步行服务圈覆盖老年人数", "en": "Elderly within the walking circle"},
    "elderly_covered_share": {"zh": "老年人覆盖率", "en": "Share of elderly covered"},
    "areas": {"zh": "居住区数", "en": "Residential areas"},
    "areas_compliant": {"zh": "达标居住区数", "en": "Areas meeting the floor-area rule"},
    "required_m2": {"zh": "应配建筑面积 (m²)", "en": "Required floor area (m²)"},
    "provided_m2": {"zh": "已配建筑面积 (m²)", "en": "Provided floor area (m²)"},
    "deficit_m2": {"zh": "缺口面积 (m²)", "en": "Floor-area deficit (m²)"},
    "new_stations": {"zh": "新增站点数", "en": "New stations"},
    "expansions": {"zh": "扩建既有设施数", "en": "Expanded existing facilities"},
    "new_floor_area_m2": {"zh": "新增建筑面积 (m²)", "en": "Added floor area (m²)"},
    "gini_m2_per_elderly": {"zh": "老年人人均用房面积基尼系数",
                            "en": "Gini of floor area per older person"},
    "gini_m2_per_household": {"zh": "户均用房面积基尼系数", "en": "Gini of floor area per household"},

    # compliance summary (careplan.compliance)
    "n_areas": {"zh": "居住区数量", "en": "Residential areas"},
    "n_compliant": {"zh": "达标居住区数量", "en": "Areas meeting the floor-area rule"},
    "n_not_evaluated": {"zh": "标准未规定面积指标的居住区数量",
                        "en": "Areas without a floor-area rate in the standard"},
    "n_areas_without_street": {"zh": "未标注街道的居住区数量",
                               "en": "Areas without a street (left out of the street roll-up)"},
    "n_areas_without_district": {"zh": "未标注区县的居住区数量",
                                 "en": "Areas without a district (left out of the district "
                                       "roll-up)"},
    "n_facilities": {"zh": "设施数量", "en": "Facilities"},
    "n_facilities_unassigned": {"zh": "未归属任何居住区的设施数量",
                                "en": "Facilities assigned to no area"},
    "n_overlaps": {"zh": "位于重叠居住区内的设施数量", "en": "Facilities inside overlapping areas"},
    "n_rules": {"zh": "规则数量", "en": "Rules"},
    "n_rules_passed": {"zh": "达标规则数量", "en": "Rules passed"},
    "n_rules_failed": {"zh": "未达标规则数量", "en": "Rules failed"},
    "n_rules_not_evaluated": {"zh": "未评估规则数量", "en": "Rules not evaluated (inputs missing)"},
}


#: Units of the profiles' rules as shown to a planner (unknown units shown as given).
UNITS: dict[str, dict[str, str]] = {
    "beds": {"zh": "张床位", "en": "beds"},
    "centres per district": {"zh": "个/区", "en": "centres per district"},
    "centres per street": {"zh": "个/街道", "en": "centres per street"},
    "centres per town": {"zh": "个/镇（街道）", "en": "centres per town"},
    "m2 per 100 households": {"zh": "m²/百户", "en": "m² per 100 households"},
    "m2 per resident": {"zh": "m²/人", "en": "m² per resident"},
    "m2": {"zh": "m²", "en": "m²"},
    "minutes": {"zh": "分钟", "en": "minutes"},
    "share of communities": {"zh": "社区覆盖率", "en": "share of communities"},
    "share of complete communities": {"zh": "完整社区覆盖率",
                                      "en": "share of complete communities"},
    "share of institution beds": {"zh": "占机构床位比例", "en": "share of institution beds"},
    "share of streets (towns)": {"zh": "街道（镇）覆盖率", "en": "share of streets (towns)"},
    "share of the required floor area": {"zh": "占应配面积比例",
                                         "en": "share of the required floor area"},
    "social workers per 1,000 older people": {"zh": "名社工/千名老年人",
                                              "en": "social workers per 1,000 older people"},
    "social workers per 100 institution beds": {"zh": "名社工/百张机构床位",
                                                "en": "social workers per 100 institution beds"},
}


def unit_label(unit: object, lang: str) -> object:
    """A rule's unit in *lang* (units the catalogue does not know are returned as given)."""
    entry = UNITS.get(unit) if isinstance(unit, str) else None
    return entry[lang] if entry else unit


#: Plan parameters (keys of ``LayoutPlan.parameters``) as shown to a planner.
PARAMETERS: dict[str, dict[str, str]] = {
    "standard": {"zh": "规范标准", "en": "Standard"},
    "standard_title": {"zh": "标准名称", "en": "Standard title"},
    "minutes": {"zh": "步行服务圈（分钟）", "en": "Walking circle (minutes)"},
    "speed_m_per_min": {"zh": "老年人步行速度（米/分钟）", "en": "Walking speed (m/min)"},
    "cutoff_m": {"zh": "步行距离上限（米）", "en": "Walking cutoff (m)"},
    "p": {"zh": "新增设施数量上限", "en": "Budget of new stations (p)"},
    "budget_p": {"zh": "新增设施数量上限", "en": "Budget of new stations (p)"},
    "model": {"zh": "选址模型", "en": "Location model"},
    "circle_levels": {"zh": "计入服务圈的设施等级", "en": "Levels counted for the circle"},
    "floor_area_levels": {"zh": "计入面积的设施等级", "en": "Levels counted for floor area"},
    "min_station_floor_area_m2": {"zh": "新增站点最小面积设定 (m²;0 = 采用标准规定,实际采用值见下)",
                                  "en": "Minimum new station floor area option (m²; 0 = the "
                                        "profile's; the value applied is listed below)"},
    "candidates": {"zh": "候选点", "en": "Candidate sites"},
    "n_candidates": {"zh": "候选点数量", "en": "Number of candidate sites"},
    "boundaries": {"zh": "街道与区的划分（空间叠加）", "en": "Streets and districts (spatial join)"},
    "sizing": {"zh": "规模测算方法", "en": "Sizing"},
    "weights": {"zh": "需求权重", "en": "Demand weights"},
    "solver_status": {"zh": "求解状态", "en": "Solver status"},
    "solver_gap": {"zh": "最优性间隙", "en": "Optimality gap"},
    "time_limit_s": {"zh": "求解时限（秒）", "en": "Solver time limit (s)"},
    "walk_speed_source": {"zh": "步行速度依据", "en": "Source of the walking speed"},
    "runtime_s": {"zh": "运行时间（秒）", "en": "Run time (s)"},
    "lang": {"zh": "报告语言", "en": "Report language"},
    "unreachable_areas": {"zh": "无法到达的小区", "en": "Unreachable areas"},
    "unresolved_deficit_areas": {"zh": "仍有缺口的小区", "en": "Areas left with a deficit"},
    "fallback_candidate_areas": {"zh": "补充候选点的小区", "en": "Areas given a fallback site"},
    "fallback_candidates": {"zh": "无候选点时在小区内补点", "en": "Fallback candidate sites"},
    "max_snap_m": {"zh": "最大吸附距离（米）", "en": "Maximum snapping distance (m)"},
    # sizing, pooling, cost and phases (issue 12.2, 12.6)
    "pooling_minutes": {"zh": "小规模缺口集中配置范围（分钟）",
                        "en": "Pooling circle (minutes)"},
    "pooling_cutoff_m": {"zh": "集中配置步行距离（米）", "en": "Pooling circle (m)"},
    "pooling_source": {"zh": "集中配置范围依据", "en": "Source of the pooling circle"},
    "station_min_floor_area_m2": {"zh": "实际采用的新增站点最小面积 (m²;需求较小的站点也按此建设)",
                                  "en": "Smallest new station applied (m²; a station with a "
                                        "smaller need is built at this size)"},
    "station_max_floor_area_m2": {"zh": "单处站点最大面积 (m²)",
                                  "en": "Largest new station (m²)"},
    "station_size_source": {"zh": "站点面积上下限依据", "en": "Source of the station bounds"},
    "candidates_too_small": {"zh": "面积不足而未采用的候选点",
                             "en": "Candidate sites too small for a station"},
    "candidates_unsuitable": {"zh": "建筑类型不适宜而未采用的候选点（商业、办公、工业等）",
                              "en": "Candidate sites left out: unsuitable building type"},
    "stations_resized_to_allocation": {
        "zh": "按最终分配面积缩减的站点（街道、区级中心承担了部分缺口）",
        "en": "Stations re-sized to their final allocation (centres took part of the deficits)"},
    "on_site_below_minimum": {"zh": "低于单处最小面积的小区内配建用房（已在未达标表中说明）",
                              "en": "On-site rooms below the site minimum (see rules not met)"},
    "unit_costs": {"zh": "单位造价与租金", "en": "Unit costs"},
    "milestones": {"zh": "分期目标年份与预算", "en": "Milestones and budgets"},
    "construction_cost_total": {"zh": "建设投资合计（元）",
                                "en": "Construction cost, total (CNY)"},
    "rent_per_year_total": {"zh": "年租金合计（元）", "en": "Rent per year, total (CNY)"},
    "unphased_facilities": {"zh": "预算内无法安排的设施", "en": "Facilities no budget fits"},
    "equity": {"zh": "公平性指标的计算方法", "en": "How equity is measured"},
    "service_areas": {"zh": "服务范围的绘制方法", "en": "How service areas are drawn"},
    "zones": {"zh": "街道划分", "en": "Streets (zones)"},
    "street_centre_size": {"zh": "街道中心规模", "en": "Street centre size"},
    "district_centre_size": {"zh": "区级中心规模", "en": "District centre size"},
}


def parameter_label(key: object, lang: str) -> str:
    """A plan parameter's name in *lang* (the key itself when the catalogue lacks it)."""
    entry = PARAMETERS.get(str(key))
    return entry[lang] if entry else str(key)


def category_label(category: object, lang: str) -> object:
    """Why a rule is not met (``rules_not_met.category``) in *lang*."""
    entry = UI.get(f"cat_{category}")
    return entry[lang] if entry else category


def check_lang(lang: object) -> str:
    """Return *lang* if it is a supported language.

    Raises
    ------
    InputError
        If *lang* is not one of :data:`LANGS`.
    """
    if lang not in LANGS:
        raise InputError(f"lang={lang!r} is not supported; use one of {LANGS}.")
    return str(lang)


def t(key: str, lang: str) -> str:
    """The label *key* of :data:`UI` in *lang* (``KeyError`` for an unknown key)."""
    return UI[key][lang]


def column_label(column: str, lang: str, table: str | None = None) -> str:
    """Header for a table column: the :data:`UI` label ``<table>.<column>`` or
    ``<column>``, else the column name itself."""
    entry = (UI.get(f"{table}.{column}") if table else None) or UI.get(column)
    return entry[lang] if entry else str(column)


def level_label(level: object, lang: str) -> str:
    """A facility level as shown to a planner (unknown levels shown as given)."""
    return LEVELS.get(str(level), {}).get(lang, str(level))


def kind_label(kind: object, lang: str) -> str:
    """Kind of a proposed station (``new`` / ``expansion``) in *lang*."""
    entry = UI.get(f"kind_{kind}")
    return entry[lang] if entry else str(kind)


def metric_label(metric: object, lang: str, fallback: object = None) -> str:
    """A summary metric's label: the catalogue's, else *fallback*, else the id."""
    entry = METRICS.get(str(metric))
    if entry:
        return entry[lang]
    if isinstance(fallback, str) and fallback:
        return fallback
    return str(metric)


def is_share(metric: object) -> bool:
    """True for metrics and columns that are fractions in [0, 1] (shown as percentages):
    their name has the word ``share`` (``households_covered_share``,
    ``outside_share_before``)."""
    return "share" in str(metric).split("_")
