"""Every construct of the rulebook language, parsed, checked, compiled AND evaluated.

Each test writes a small rulebook, evaluates records against it and asserts the outcome
(fired / passed / undetermined), the evidence and the missing fields where they matter.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from compliance_engine.api import load_rulebooks
from compliance_engine.calendar import default_calendar
from compliance_engine.coerce import RecordValueError
from compliance_engine.testing import run_tests
from compliance_engine.values import Month

AS_OF = datetime(2026, 3, 10, 12, 0)

# A record kind with one field of every type; probes below put a `when` on it.
PROBE_KIND = """
record r "探针" {
  id: text key
  a: datetime
  b: datetime?
  d: date
  d2: date?
  n: int
  x: decimal
  y: decimal?
  m: money
  m2: money?
  p: month
  t: text?
  tags: list of text
  b1: bool?
  b2: bool?
}
"""

PROBE_BASE = dict(id="1", a="2026-01-31T10:00", d="2026-01-31", n=1, x="1", m="1.00", p="2026-01", tags=[])


def rule(rule_id: str, when: str, on: str = "r", extra: str = "") -> str:
    return f'rule {rule_id} "规则 {rule_id}" {{\n  on {on}\n  level 一级\n  owner 部 / 班 / 岗\n{extra}  when {when}\n}}\n'


@pytest.fixture
def probe(compile_rules, run):
    """probe({rule_id: condition}, **record fields) -> {rule_id: outcome} on the probe kind."""

    def probe_(conditions: dict[str, str], as_of: datetime = AS_OF, **fields) -> dict[str, str]:
        text = 'rulebook P "探针"\n' + PROBE_KIND + "".join(rule(rid, w) for rid, w in conditions.items())
        rb = compile_rules(text)
        findings = run(rb, {"r": [{**PROBE_BASE, **fields}]}, as_of)
        return {rid: f.outcome for (rid, _), f in findings.items()}

    return probe_


# ---- header, imports -------------------------------------------------------------------------
def test_header_version_and_effective_reach_program_and_findings(compile_rules, run):
    rb = compile_rules('rulebook 营销 "营销服务规则" version "2026.3" effective 2026-04-01\n'
                       + PROBE_KIND + rule("H-1", "n > 0"))
    info = rb.program.rulebooks[0]
    assert (info.name, info.title, info.version, info.effective, info.is_module) == \
        ("营销", "营销服务规则", "2026.3", date(2026, 4, 1), False)
    f = run(rb, {"r": [PROBE_BASE]}, AS_OF)[("H-1", "1")]
    assert (f.outcome, f.rulebook, f.rulebook_version, f.title) == ("fired", "营销", "2026.3", "规则 H-1")


def test_header_without_options(compile_rules):
    rb = compile_rules("rulebook 简单\n" + PROBE_KIND + rule("H-2", "n > 0"))
    info = rb.program.rulebooks[0]
    assert (info.name, info.title, info.version, info.effective) == ("简单", "", "", None)


def test_import_between_two_files(tmp_path, run):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "kinds.rules").write_text(
        'module 公共 "公共声明"\n'
        "enum 区域 { 城区, 农村 }\n"
        "record thing { id: text key\n  n: int\n  area: 区域 }\n"
        'fact 门槛 on thing = match area { 城区 => 2, 农村 => 5 }\n', encoding="utf-8")
    main = tmp_path / "main.rules"
    main.write_text('rulebook 主 "主规则" version "1"\nimport "lib/kinds.rules"\n'
                    + rule("I-1", "n > 门槛", on="thing"), encoding="utf-8")
    rb = load_rulebooks([main])  # only the main file named: the import brings the other
    assert {i.name: i.is_module for i in rb.program.rulebooks} == {"主": False, "公共": True}
    out = run(rb, {"thing": [{"id": "u", "n": 3, "area": "城区"}, {"id": "v", "n": 3, "area": "农村"}]}, AS_OF)
    assert out[("I-1", "u")].outcome == "fired"
    assert out[("I-1", "v")].outcome == "passed"
    assert out[("I-1", "u")].evidence["门槛"] == 2


def test_directory_is_searched_and_each_file_loaded_once(tmp_path, run):
    (tmp_path / "kinds.rules").write_text("module K\nrecord thing { id: text key\n  n: int }\n", encoding="utf-8")
    (tmp_path / "main.rules").write_text('rulebook M\nimport "kinds.rules"\n' + rule("I-2", "n > 1", on="thing"),
                                         encoding="utf-8")
    rb = load_rulebooks([tmp_path])  # kinds.rules is both found and imported: declared once
    assert [r.id for r in rb.program.rules] == ["I-2"]
    assert run(rb, {"thing": [{"id": "a", "n": 2}]}, AS_OF)[("I-2", "a")].outcome == "fired"


# ---- enums -----------------------------------------------------------------------------------
ENUMS = """rulebook E "枚举"
enum 渠道 { "95598电话", 网上国网, "12345热线", 营业厅 }
record ticket {
  no: text key
  channel: 渠道
  grade: enum(甲, 乙, "丙 级")
  level2: enum(高, 低)?
}
""" + rule("E-1", 'channel == "95598电话"', on="ticket") \
    + rule("E-2", "channel in (网上国网, 营业厅)", on="ticket") \
    + rule("E-3", 'grade == "丙 级"', on="ticket") \
    + rule("E-4", "grade != 甲 and channel not in (\"12345热线\")", on="ticket") \
    + rule("E-5", "(level2 ?? 低) == 高", on="ticket") \
    + rule("E-6", "level2 == 高", on="ticket", extra="  empty level2 means undetermined\n")


def test_enums_named_inline_and_quoted_members(compile_rules, run):
    rb = compile_rules(ENUMS)
    assert rb.program.enums["渠道"].members == ("95598电话", "网上国网", "12345热线", "营业厅")
    assert rb.kinds["ticket"].field("grade").type.enum.members == ("甲", "乙", "丙 级")
    rows = [
        {"no": "A", "channel": "95598电话", "grade": "丙 级", "level2": "高"},
        {"no": "B", "channel": "营业厅", "grade": "甲", "level2": None},
        {"no": "C", "channel": "12345热线", "grade": "乙", "level2": "低"},
    ]
    out = {k: f.outcome for k, f in run(rb, {"ticket": rows}, AS_OF).items()}
    assert [out[(r, "A")] for r in ("E-1", "E-2", "E-3", "E-4", "E-5", "E-6")] == \
        ["fired", "passed", "fired", "fired", "fired", "fired"]
    assert [out[(r, "B")] for r in ("E-1", "E-2", "E-3", "E-4", "E-5", "E-6")] == \
        ["passed", "fired", "passed", "passed", "passed", "undetermined"]
    assert [out[(r, "C")] for r in ("E-1", "E-2", "E-3", "E-4", "E-5", "E-6")] == \
        ["passed", "passed", "passed", "passed", "passed", "passed"]


def test_enum_declaration_with_trailing_comma(compile_rules, run):
    rb = compile_rules(ENUMS.replace("营业厅 }", "营业厅, }"))
    assert rb.program.enums["渠道"].members[-1] == "营业厅"


def test_enum_value_outside_the_enum_is_rejected_on_input(compile_rules):
    rb = compile_rules(ENUMS)
    with pytest.raises(RecordValueError):
        rb.coerce("ticket", {"no": "A", "channel": "短信", "grade": "甲"})


# ---- record kinds: every type ----------------------------------------------------------------
ALL_TYPES = """rulebook T "类型"
record item "条目" {
  no: text key "编号"
  seq: int key
  qty: int
  kwh: decimal
  amount: money
  flag: bool
  day: date
  at: datetime
  spent: duration
  period: month
  grade: enum(甲, 乙)
  tags: list of text
  note: text?
}
""" + "".join(rule(rid, w, on="item") for rid, w in {
    "TY-text": 'no == "N1"',
    "TY-int": "qty * 2 == 6",
    "TY-decimal": "kwh > 1.25",
    "TY-money": "amount >= 99.99",
    "TY-bool": "flag",
    "TY-date": "day == 2026-03-01",
    "TY-datetime": "at > 2026-03-01T09:59",
    "TY-duration": "spent > 1 h",
    "TY-month": "month(at) == period",
    "TY-enum": "grade == 乙",
    "TY-list": 'contains(tags, "紧急")',
    "TY-optional": "note is empty",
}.items())


def test_record_kind_with_every_type(compile_rules, run):
    rb = compile_rules(ALL_TYPES)
    kind = rb.kinds["item"]
    assert kind.label == "条目" and kind.field("no").label == "编号"
    assert kind.key_fields == ("no", "seq")
    assert [str(f.type) for f in kind.fields] == [
        "text", "int", "int", "decimal", "money", "bool", "date", "datetime", "duration", "month",
        "enum item.grade", "list of text", "text"]
    assert [f.name for f in kind.fields if f.optional] == ["note"]
    row = {"no": "N1", "seq": "7", "qty": "3", "kwh": "1.26", "amount": "99.99", "flag": "true",
           "day": "2026-03-01", "at": "2026-03-01T10:00", "spent": "PT1H1M", "period": "2026-03",
           "grade": "乙", "tags": ["紧急", "夜间"], "note": ""}
    typed = rb.coerce("item", row)
    assert typed["seq"] == 7 and typed["kwh"] == Decimal("1.26") and typed["amount"] == Decimal("99.99")
    assert typed["spent"] == timedelta(hours=1, minutes=1) and typed["period"] == Month.of(2026, 3)
    assert typed["tags"] == ("紧急", "夜间") and typed["note"] is None
    out = run(rb, {"item": [row]}, AS_OF)
    assert {rid: f.outcome for (rid, key), f in out.items()} == {rid: "fired" for rid in (
        "TY-text", "TY-int", "TY-decimal", "TY-money", "TY-bool", "TY-date", "TY-datetime",
        "TY-duration", "TY-month", "TY-enum", "TY-list", "TY-optional")}
    assert {key for (_, key) in out} == {"N1|7"}  # key fields joined by '|', declared order

    other = {**row, "no": "N2", "qty": 2, "kwh": "1.25", "amount": "99.98", "flag": False, "day": "2026-03-02",
             "at": "2026-03-01T09:59", "spent": "PT1H", "period": "2026-02", "grade": "甲",
             "tags": ["夜间"], "note": "有备注"}
    out = run(rb, {"item": [other]}, AS_OF)
    assert {f.outcome for f in out.values()} == {"passed"}, {k: f.outcome for k, f in out.items()}


# ---- facts -----------------------------------------------------------------------------------
FACTS = 'rulebook F "事实"\n' + PROBE_KIND + """
fact 窗口起点 = as_of - 7 days
fact 欠款 on r = m - (m2 ?? 0)
fact 大额欠款 on r = 欠款 > 100
fact 近期 on r = a >= 窗口起点
""" + rule("F-1", "大额欠款 and 近期")


def test_facts_global_per_kind_and_fact_using_fact(compile_rules, run):
    rb = compile_rules(FACTS)
    rows = [
        {**PROBE_BASE, "id": "hit", "a": "2026-03-05T00:00", "m": "300.00", "m2": "150.00"},
        {**PROBE_BASE, "id": "small", "a": "2026-03-05T00:00", "m": "300.00", "m2": "200.00"},
        {**PROBE_BASE, "id": "old", "a": "2026-03-01T00:00", "m": "300.00"},
    ]
    out = run(rb, {"r": rows}, AS_OF)
    assert out[("F-1", "hit")].outcome == "fired"
    assert out[("F-1", "small")].outcome == "passed"
    assert out[("F-1", "old")].outcome == "passed"
    ev = out[("F-1", "hit")].evidence
    assert ev["欠款"] == Decimal("150.00") and ev["大额欠款"] is True and ev["近期"] is True
    facts = rb.program.facts
    assert facts["窗口起点"].kind is None and facts["欠款"].kind == "r"
    assert [f.name for f in facts["大额欠款"].uses] == ["欠款"]
    # the rule uses every fact in the chain, in evaluation order
    used = [f.name for f in rb.program.rule("F-1").facts]
    assert set(used) == {"欠款", "大额欠款", "窗口起点", "近期"}
    assert used.index("欠款") < used.index("大额欠款") and used.index("窗口起点") < used.index("近期")
    assert {"fact:大额欠款", "fact:欠款", "kind:r"} <= rb.plan.graph.uses("rule:F-1")


def test_global_fact_moves_with_as_of(compile_rules, run):
    rb = compile_rules(FACTS)
    row = {**PROBE_BASE, "id": "x", "a": "2026-03-05T00:00", "m": "300.00"}
    assert run(rb, {"r": [row]}, datetime(2026, 3, 11, 23, 59))[("F-1", "x")].outcome == "fired"
    assert run(rb, {"r": [row]}, datetime(2026, 3, 12, 0, 1))[("F-1", "x")].outcome == "passed"


def test_global_fact_value_in_evidence(compile_rules, run):
    rb = compile_rules(FACTS)
    row = {**PROBE_BASE, "id": "x", "a": "2026-03-05T00:00", "m": "300.00"}
    ev = run(rb, {"r": [row]}, AS_OF)[("F-1", "x")].evidence
    assert ev["窗口起点"] == AS_OF - timedelta(days=7)


def test_fact_with_declared_type(compile_rules, run):
    rb = compile_rules('rulebook F2\n' + PROBE_KIND + "fact 限额 on r: money = m * 2\n" + rule("F-2", "限额 > 10"))
    assert str(rb.program.facts["限额"].type) == "money"
    assert run(rb, {"r": [{**PROBE_BASE, "m": "5.01"}]}, AS_OF)[("F-2", "1")].outcome == "fired"
    assert run(rb, {"r": [{**PROBE_BASE, "m": "5.00"}]}, AS_OF)[("F-2", "1")].outcome == "passed"


# ---- links and defaults ----------------------------------------------------------------------
def test_links_by_id_and_by_title(compile_rules, run):
    rb = compile_rules('rulebook L\n' + PROBE_KIND
                       + 'link L01 "故障抢修" { order 1 category 服务类 }\nlink L02 "电费回收" { order 2 }\nlink L03\n'
                       + rule("L-1", "n > 0", extra="  link L01\n")
                       + rule("L-2", "n > 0", extra="  link 电费回收\n")
                       + rule("L-3", "n > 0"))
    links = rb.program.links
    assert (links["L01"].title, links["L01"].order, links["L01"].category) == ("故障抢修", 1, "服务类")
    assert (links["L03"].title, links["L03"].order) == ("L03", None)
    out = run(rb, {"r": [PROBE_BASE]}, AS_OF)
    assert [out[(r, "1")].link for r in ("L-1", "L-2", "L-3")] == ["L01", "L02", None]
    assert "link:L01" in rb.plan.graph.uses("rule:L-1")


def test_defaults_fill_test_records(compile_rules):
    text = 'rulebook D\n' + PROBE_KIND + """
defaults r { id: "D1", a: 2026-03-01T08:00, d: 2026-03-01, n: 5, x: 1.5, m: 10.00, p: "2026-03", tags: ["a"] }
rule D-1 "默认值" {
  on r
  level 一级
  owner 部
  when n > 3 and x == 1.5 and m == 10.00 and p == month(d) and contains(tags, "a")
  test "全用默认值" { given r { } expect fired }
  test "覆盖一个" { given r { n: 3 } expect passed }
}
"""
    rb = compile_rules(text)
    results = run_tests(rb)
    assert [(t.test, t.passed, t.actual) for t in results] == [("全用默认值", True, "fired"), ("覆盖一个", True, "passed")]
    given = rb.program.rule("D-1").tests[0].records[0]
    assert given[0] == "r" and given[1]["id"] == "D1" and given[1]["m"] == Decimal("10.00")
    assert given[1]["p"] == Month.of(2026, 3) and given[1]["b"] is None


# ---- rule metadata ---------------------------------------------------------------------------
METADATA = 'rulebook M\n' + PROBE_KIND + """
link L01 "故障抢修"
rule M-1 "全部元数据" {
  on r
  category 服务质量
  link L01
  level 二级
  owner 营销部(客户服务中心) / 客户服务班 / 工单处理专责
  supervisor 上级 营销部; 协同 运检部
  measure 立即整改并回访客户
  deadline 3 workdays
  source "国网公司 95598 业务管理办法 第十条"
  tags 服务, 时限 投诉
  when n > 1
}
""" + rule("M-2", "n > 1", extra="  deadline 24 hours\n  supervisor 运检部\n") \
    + rule("M-3", "n > 1", extra="  deadline before d\n") \
    + rule("M-4", "n > 1", extra="  deadline 30 min\n") \
    + rule("M-5", "n > 1", extra="  deadline 2 days\n") \
    + rule("M-6", "n > 1", extra="  deadline 当月内\n")


def test_rule_metadata_is_parsed(compile_rules, run):
    rb = compile_rules(METADATA)
    r = {x.id: x for x in rb.program.rules}
    m1 = r["M-1"]
    assert (m1.category, m1.link.id, m1.level, m1.measure, m1.source) == \
        ("服务质量", "L01", "二级", "立即整改并回访客户", "国网公司 95598 业务管理办法 第十条")
    assert m1.owner.parts == ("营销部(客户服务中心)", "客户服务班", "工单处理专责")
    assert (m1.owner.department, m1.owner.post) == ("营销部(客户服务中心)", "工单处理专责")
    assert [(e.role, e.upper, e.department) for e in m1.supervisor.entries] == \
        [("上级", True, "营销部"), ("协同", False, "运检部")]
    assert m1.tags == ("服务", "时限", "投诉")
    assert (m1.deadline.text, m1.deadline.workdays, m1.deadline.duration, m1.deadline.before_field) == \
        ("3 workdays", 3, None, None)
    assert r["M-2"].deadline.duration == timedelta(hours=24) and r["M-2"].deadline.workdays is None
    assert [e.department for e in r["M-2"].supervisor.entries] == ["运检部"]
    assert r["M-3"].deadline.before_field == "d" and r["M-3"].deadline.duration is None
    assert r["M-4"].deadline.duration == timedelta(minutes=30)
    assert r["M-5"].deadline.duration == timedelta(days=2)
    assert (r["M-6"].deadline.text, r["M-6"].deadline.duration, r["M-6"].deadline.workdays) == ("当月内", None, None)
    f = run(rb, {"r": [{**PROBE_BASE, "n": 2}]}, AS_OF)[("M-1", "1")]
    assert (f.outcome, f.level, f.category, f.link, f.deadline) == ("fired", "二级", "服务质量", "L01", "3 workdays")
    assert f.owner == "营销部(客户服务中心) / 客户服务班 / 工单处理专责"
    assert f.supervisor == "上级 营销部; 协同 运检部"


def test_depends_on_orders_rules_upstream_first(compile_rules):
    text = 'rulebook O\n' + PROBE_KIND + "".join([
        rule("Z-3", "n > 0", extra="  depends on A-2, B-1\n"),
        rule("A-2", "n > 0", extra="  depends on B-1\n"),
        rule("C-0", "n > 0"),
        rule("B-1", "n > 0"),
    ])
    rb = compile_rules(text)
    order = rb.plan.graph.order
    assert sorted(order) == ["A-2", "B-1", "C-0", "Z-3"]
    assert order.index("B-1") < order.index("A-2") < order.index("Z-3")
    assert set(rb.plan.graph.upstream_rules("Z-3")) == {"A-2", "B-1"}
    assert rb.program.rule("Z-3").depends_on == ("A-2", "B-1")
    # the plan evaluates rules of a kind in graph order
    assert [rp.rule.id for rp in rb.plan.kind("r").record_rules] == list(order)


# ---- lets, match, ??, empties, in ------------------------------------------------------------
MATCH = 'rulebook MA\n' + PROBE_KIND + """
enum 区域 { 城区, 农村, 特殊边远 }
record site { id: text key
  area: 区域
  wait: duration
  code: int }
""" + rule("MA-1", "wait > limit", on="site",
           extra="  let limit = match area { 城区 => 45 min, 农村 | 特殊边远 => 2 h }\n") \
    + rule("MA-2", "band == 2", on="site", extra="  let band = match code { 1 | 2 => 1, 3 => 2, else => 3 }\n") \
    + rule("MA-3", "tier == \"高\"", on="site", extra="  let tier = match code { 1 => \"低\", 2 => \"高\" }\n") \
    + rule("MA-4", "double > 4", on="site", extra="  let half = code\n  let double = half * 2\n")


def test_let_and_match(compile_rules, run):
    rb = compile_rules(MATCH)
    rows = [{"id": "s1", "area": "城区", "wait": "PT46M", "code": 3},
            {"id": "s2", "area": "农村", "wait": "PT46M", "code": 2},
            {"id": "s3", "area": "特殊边远", "wait": "PT2H1M", "code": 9},
            {"id": "s4", "area": "城区", "wait": "PT45M", "code": 1}]
    out = run(rb, {"site": rows}, AS_OF)
    got = {(rid, key): f.outcome for (rid, key), f in out.items()}
    assert [got[("MA-1", s)] for s in ("s1", "s2", "s3", "s4")] == ["fired", "passed", "fired", "passed"]
    assert [got[("MA-2", s)] for s in ("s1", "s2", "s3", "s4")] == ["fired", "passed", "passed", "passed"]
    # a match without an arm for the value (and no else) is undetermined
    assert [got[("MA-3", s)] for s in ("s1", "s2", "s3", "s4")] == ["undetermined", "fired", "undetermined", "passed"]
    assert [got[("MA-4", s)] for s in ("s1", "s2", "s3", "s4")] == ["fired", "passed", "fired", "passed"]
    assert out[("MA-1", "s1")].evidence["limit"] == timedelta(minutes=45)
    assert out[("MA-1", "s2")].evidence["limit"] == timedelta(hours=2)
    assert out[("MA-4", "s3")].evidence == {"code": 9, "half": 9, "double": 18}
    assert out[("MA-3", "s1")].evidence["tier"] is None


def test_coalesce_is_empty_in_not_in(probe):
    conds = {
        "Q-1": '(t ?? "默认") == "默认"',
        "Q-2": "t is empty",
        "Q-3": "t is not empty",
        "Q-4": 't in ("甲", "乙")',
        "Q-5": 't not in ("甲", "乙")',
        "Q-6": "(y ?? x) == 1",
        "Q-7": "(b ?? as_of) > a",
    }
    assert probe(conds, t=None) == {"Q-1": "fired", "Q-2": "fired", "Q-3": "passed", "Q-4": "undetermined",
                                    "Q-5": "undetermined", "Q-6": "fired", "Q-7": "fired"}
    assert probe(conds, t="甲", y="2", b="2026-01-01T00:00") == {
        "Q-1": "passed", "Q-2": "passed", "Q-3": "fired", "Q-4": "fired", "Q-5": "passed", "Q-6": "passed",
        "Q-7": "passed"}
    assert probe(conds, t="丙")["Q-4"] == "passed"
    assert probe(conds, t="丙")["Q-5"] == "fired"


def test_arithmetic_with_money_and_decimals(compile_rules, run):
    conds = {
        "AR-1": "m + (m2 ?? 0) == 150.75",
        "AR-2": "m - 0.25 == 100.25",
        "AR-3": "m * x == 150.750",
        "AR-4": "m / 2 == 50.25",
        "AR-5": "m / m2 == 2",
        "AR-6": "x * 3 == 4.5",
        "AR-7": "n / 4 == 0.75",
        "AR-8": "n * 2 + 1 == 7",
        "AR-9": "-x < 0",
        "AR-10": "abs(m - 200) == 99.50",
    }
    rb = compile_rules('rulebook A\n' + PROBE_KIND + "".join(rule(k, w) for k, w in conds.items()))
    row = {**PROBE_BASE, "m": "100.50", "m2": "50.25", "x": "1.5", "n": 3}
    out = run(rb, {"r": [row]}, AS_OF)
    assert {rid: f.outcome for (rid, _), f in out.items()} == {rid: "fired" for rid in conds}
    row2 = {**row, "m": "100.51"}
    out2 = run(rb, {"r": [row2]}, AS_OF)
    assert [out2[(r, "1")].outcome for r in ("AR-1", "AR-2", "AR-3", "AR-4", "AR-5", "AR-10")] == ["passed"] * 6
    # money evidence stays Decimal
    # `??` binds loosest: (m * x - m2) ?? 0
    rb2 = compile_rules('rulebook A2\n' + PROBE_KIND + rule("AR-11", "owed > 0", extra="  let owed = m * x - m2 ?? 0\n"))
    f = run(rb2, {"r": [{**row, "m2": None}]}, AS_OF)[("AR-11", "1")]
    assert f.outcome == "passed" and f.evidence["owed"] == 0 and type(f.evidence["owed"]) is Decimal
    f = run(rb2, {"r": [row]}, AS_OF)[("AR-11", "1")]
    assert f.outcome == "fired" and type(f.evidence["owed"]) is Decimal and f.evidence["owed"] == Decimal("100.50")


# ---- time ------------------------------------------------------------------------------------
def test_duration_units(probe):
    conds = {
        "DU-1": "a + 30 min == 2026-01-31T10:30",
        "DU-2": "a + 2 h == 2026-01-31T12:00",
        "DU-3": "a + 3 days == 2026-02-03T10:00",
        "DU-4": "a + 2 weeks == 2026-02-14T10:00",
        "DU-5": "a + 1 months == 2026-02-28T10:00",
        "DU-6": "a - 1 years == 2025-01-31T10:00",
        "DU-7": "a + 1 hour + 15 minutes + 30 seconds == 2026-01-31T11:15:30",
        "DU-8": "d + 1 month == 2026-02-28",
        "DU-9": "d + 13 months == 2027-02-28",
        "DU-10": "a + 1 year == 2027-01-31T10:00",
        "DU-11": "p + 2 months == month(2026-03-15)",
        "DU-12": "(b ?? a) - a == 90 min",
        "DU-13": "1 day == 24 h and 1 week == 7 days",
    }
    assert probe(conds, b="2026-01-31T11:30") == {k: "fired" for k in conds}


def test_calendar_month_difference_with_month_end_clamping(probe):
    conds = {"CM-1": "as_of - a > 1 months", "CM-2": "as_of - a >= 1 months", "CM-3": "as_of - d > 1 months",
             "CM-4": "as_of - a < 1 months", "CM-5": "a - as_of < 1 months"}
    # 2026-01-31T10:00 + 1 month = 2026-02-28T10:00 (clamped): exactly one month, not more
    assert probe(conds, as_of=datetime(2026, 2, 28, 10, 0)) == \
        {"CM-1": "passed", "CM-2": "fired", "CM-3": "fired", "CM-4": "passed", "CM-5": "fired"}
    assert probe(conds, as_of=datetime(2026, 2, 28, 10, 0, 1))["CM-1"] == "fired"
    # the date field counts from 00:00 of its day: at exactly 2026-02-28T00:00 not more than a month
    assert probe(conds, as_of=datetime(2026, 2, 28, 0, 0))["CM-3"] == "passed"
    assert probe(conds, as_of=datetime(2026, 2, 28, 0, 0))["CM-2"] == "passed"


def test_workdays_across_spring_festival_and_tiaoxiu(probe):
    cal = default_calendar()
    assert cal.is_workday(date(2026, 2, 14))  # a Saturday worked (调休)
    assert date(2026, 2, 14).isoweekday() == 6
    assert not any(cal.is_workday(date(2026, 2, d)) for d in range(15, 24))  # Spring Festival
    assert cal.is_workday(date(2026, 2, 24))
    conds = {
        "WD-1": "a + 1 workday == 2026-02-14T10:00",   # Friday → the 调休 Saturday
        "WD-2": "a + 2 workdays == 2026-02-24T10:00",  # then over the whole holiday
        "WD-3": "workdays_between(a, b) == 2",
        "WD-4": "workdays_between(b, a) == -2",
        "WD-5": "workdays_between(a, b) > 1",
        "WD-6": "b - 1 workday == 2026-02-14T09:00",
        "WD-7": "is_workday(a) and is_workday(2026-02-14) and not is_workday(2026-02-16)",
        "WD-8": "workdays_between(d, d2) == 1",
        "WD-9": "a + 3 workdays == 2026-02-25T10:00",
        "WD-10": "d + 1 workday == 2026-02-14",      # a date stays a date
    }
    got = probe(conds, a="2026-02-13T10:00", b="2026-02-24T09:00", d="2026-02-13", d2="2026-02-14")
    assert got == {k: "fired" for k in conds}


def test_date_parts(probe):
    conds = {
        "DP-1": "hour(a) == 22",
        "DP-2": "date(a) == 2026-02-14",
        "DP-3": "month(a) == p",
        "DP-4": "period_start(p) == 2026-02-01",
        "DP-5": "period_end(p) == 2026-02-28",
        "DP-6": "weekday(a) == 6",
        "DP-7": "year(a) == 2026 and month_of_year(a) == 2 and day(a) == 14",
        "DP-8": "weekday(d) == 7",
        "DP-9": "period_end(month(d)) == 2026-03-31",
    }
    assert probe(conds, a="2026-02-14T22:30", p="2026-02", d="2026-03-01") == {k: "fired" for k in conds}
    got = probe(conds, a="2026-02-15T21:30", p="2026-03", d="2026-04-02")
    assert {k for k, v in got.items() if v == "fired"} == set()


def test_lists_text_functions_and_extremes(probe):
    conds = {
        "LS-1": 'contains(tags, "夜间")',
        "LS-2": 'contains_any(tags, ("停电", "紧急"))',
        "LS-3": "count(tags) == 2",
        "LS-4": 'contains(t ?? "", "抢修")',
        "LS-5": "earliest(b, a) == a",
        "LS-6": "latest(b, a) == b",
        "LS-7": "earliest(b, d2) == 2026-01-01T00:00",  # a date among datetimes means 00:00
        "LS-8": 'len(t ?? "") == 4 and starts_with(t ?? "", "故障") and ends_with(t ?? "", "抢修")',
    }
    got = probe(conds, tags=["夜间", "紧急"], t="故障抢修", b="2026-02-01T00:00", d2="2026-01-01")
    assert got == {k: "fired" for k in conds}
    got = probe(conds, tags=["白天"], t=None, b=None, d2=None)
    assert got == {"LS-1": "passed", "LS-2": "passed", "LS-3": "passed", "LS-4": "passed",
                   "LS-5": "fired", "LS-6": "undetermined", "LS-7": "undetermined", "LS-8": "passed"}


def test_month_literals_in_lists_and_month_arithmetic(probe):
    conds = {"MO-1": 'p in ("2026-01", "2026-02")', "MO-2": 'p not in ("2026-01")', "MO-3": "p - 1 months < p"}
    assert probe(conds) == {"MO-1": "fired", "MO-2": "passed", "MO-3": "fired"}
    assert probe(conds, p="2026-03") == {"MO-1": "passed", "MO-2": "fired", "MO-3": "fired"}


def test_month_literal_in_comparison(probe):
    assert probe({"MO-4": 'p == "2026-01"', "MO-5": 'p >= "2025-12"'}) == {"MO-4": "fired", "MO-5": "fired"}


# ---- windows ---------------------------------------------------------------------------------
WINDOWS = """rulebook W "窗口"
record ticket {
  ticket_no: text key
  cons_no: text?
  at: datetime
  cat: enum(安全, 其他)?
  amount: money?
}
record customer {
  cons_no: text key
  vip: bool
  balance: money?
  opened: date
}
""" + rule("W-1", "n >= 2", on="ticket", extra="  window over ticket by cons_no within at in [this.at - 30 days, this.at] compute n = count(*)\n  empty cons_no means undetermined\n") \
    + rule("W-2", "n >= 1", on="ticket", extra="  window over ticket by cons_no within at in (this.at - 30 days, this.at) compute n = count(*)\n  empty cons_no means undetermined\n") \
    + rule("W-3", "vips >= 1 and rows == 3", on="ticket", extra="  window over customer by cons_no compute vips = count(vip), rows = count(*), total = sum(balance), av = avg(balance), lo = min(balance), hi = max(balance), first = min(opened)\n  empty cons_no means undetermined\n") \
    + rule("W-4", "same >= 3", on="ticket", extra="  window where cat == this.cat compute same = count(*), big = count(amount > 10)\n") \
    + rule("W-5", "(total ?? 0) > 100", on="ticket", extra="  window over customer by cons_no compute total = sum(balance)\n") \
    + rule("W-6", "total > 100", on="ticket", extra="  window over customer by cons_no compute total = sum(balance)\n  empty cons_no means undetermined\n") \
    + rule("W-7", "everyone == 5 and safe == 3", on="ticket", extra="  window compute everyone = count(*), safe = count(cat == 安全)\n") \
    + rule("W-8", "later >= 1", on="ticket", extra="  window over ticket by cons_no within at > this.at compute later = count(*)\n  empty cons_no means undetermined\n") \
    + rule("W-9", "big >= 1", on="ticket", extra="  window over ticket by cons_no where amount > 10 compute big = count(*)\n  empty cons_no means undetermined\n")

TICKETS = [
    dict(ticket_no="T1", cons_no="C1", at="2026-03-31T10:00", cat="安全", amount="20"),
    dict(ticket_no="T2", cons_no="C1", at="2026-03-01T10:00", cat="安全"),
    dict(ticket_no="T3", cons_no="C1", at="2026-02-28T10:00", cat="安全", amount="5"),
    dict(ticket_no="T4", cons_no=None, at="2026-03-31T10:00", cat=None),
    dict(ticket_no="T5", cons_no="C2", at="2026-03-31T10:00", cat="其他"),
]
CUSTOMERS = [dict(cons_no="C1", vip=True, balance="100.00", opened="2020-05-01"),
             dict(cons_no="C1", vip=False, balance=None, opened="2019-05-01"),
             dict(cons_no="C1", vip=True, balance="50.50", opened="2021-05-01")]


@pytest.fixture
def windows(compile_rules, run):
    rb = compile_rules(WINDOWS)
    return run(rb, {"ticket": TICKETS, "customer": CUSTOMERS}, datetime(2026, 4, 1))


def _row(out, rule_id):
    return {key: f.outcome for (rid, key), f in out.items() if rid == rule_id}


def test_window_same_kind_closed_interval_includes_both_ends(windows):
    # T1 at 03-31 10:00 sees [03-01 10:00, 03-31 10:00]: T2 sits exactly on the lower end
    assert windows[("W-1", "T1")].evidence["n"] == 2
    assert windows[("W-1", "T2")].evidence["n"] == 2  # T2 and T3 (02-28 is within 30 days)
    assert windows[("W-1", "T3")].evidence["n"] == 1
    assert _row(windows, "W-1") == {"T1": "fired", "T2": "fired", "T3": "passed", "T4": "undetermined",
                                    "T5": "passed"}


def test_window_open_interval_excludes_both_ends(windows):
    assert windows[("W-2", "T1")].evidence["n"] == 0  # T2 on the open lower end, T1 itself on the upper
    assert windows[("W-2", "T2")].evidence["n"] == 1  # T3 only
    assert _row(windows, "W-2") == {"T1": "passed", "T2": "fired", "T3": "passed", "T4": "undetermined",
                                    "T5": "passed"}


def test_window_one_sided_bound_and_where_filter(windows):
    assert [windows[("W-8", t)].evidence["later"] for t in ("T1", "T2", "T3")] == [0, 1, 2]
    assert _row(windows, "W-9") == {"T1": "fired", "T2": "fired", "T3": "fired", "T4": "undetermined",
                                    "T5": "passed"}


def test_cross_kind_window_and_aggregates_skip_empties(compile_rules, run):
    rb = compile_rules(WINDOWS)
    out = run(rb, {"ticket": TICKETS, "customer": CUSTOMERS}, datetime(2026, 4, 1))
    assert _row(out, "W-3") == {"T1": "fired", "T2": "fired", "T3": "fired", "T4": "undetermined", "T5": "passed"}
    assert out[("W-3", "T1")].evidence == {"cons_no": "C1", "vips": 2, "rows": 3}
    assert out[("W-3", "T5")].evidence == {"cons_no": "C2", "vips": 0, "rows": 0}
    # the aggregate values themselves (sum/avg/min/max skip the empty balance)
    outcome = next(o for o in rb.outcomes({"ticket": [rb.coerce("ticket", TICKETS[0])],
                                           "customer": [rb.coerce("customer", c) for c in CUSTOMERS]},
                                          datetime(2026, 4, 1)) if o.plan.rule.id == "W-3")
    vips, rows, total, av, lo, hi, first = outcome.aggregates
    assert (vips, rows, total, lo, hi) == (2, 3, Decimal("150.50"), Decimal("50.50"), Decimal("100.00"))
    assert av == Decimal("75.25") and type(av) is Decimal and type(total) is Decimal
    assert first == date(2019, 5, 1)
    # over no rows: count is 0, the others are empty
    empty = next(o for o in rb.outcomes({"ticket": [rb.coerce("ticket", TICKETS[4])], "customer": []},
                                        datetime(2026, 4, 1)) if o.plan.rule.id == "W-3")
    assert empty.aggregates == (0, 0, None, None, None, None, None)


def test_whole_snapshot_window_with_this_in_where(windows):
    assert [windows[("W-4", t)].evidence["same"] for t in ("T1", "T2", "T3", "T4", "T5")] == [3, 3, 3, 0, 1]
    assert _row(windows, "W-4") == {"T1": "fired", "T2": "fired", "T3": "fired", "T4": "passed", "T5": "passed"}
    # no range, no key: every ticket; count(pred) counts only where pred is true (unknown not counted)
    assert _row(windows, "W-7") == {t: "fired" for t in ("T1", "T2", "T3", "T4", "T5")}


def test_empty_key_makes_aggregates_empty(windows):
    # W-6: `total > 100` with an empty key → total empty → undetermined, missing the key
    assert windows[("W-6", "T4")].outcome == "undetermined"
    assert windows[("W-6", "T4")].missing == ["cons_no", "total"]  # the key, then what it emptied
    assert windows[("W-6", "T1")].outcome == "fired"
    # no matching customers: sum over no rows is empty → undetermined, missing the aggregate
    assert windows[("W-6", "T5")].outcome == "undetermined"
    assert windows[("W-6", "T5")].missing == ["total"]
    # W-5 has `?? 0`: decided either way
    assert _row(windows, "W-5") == {"T1": "fired", "T2": "fired", "T3": "fired", "T4": "passed", "T5": "passed"}


def test_window_evaluated_one_record_with_context(compile_rules):
    rb = compile_rules(WINDOWS)
    found = rb.evaluate(TICKETS[0], "ticket", datetime(2026, 4, 1), context={"ticket": TICKETS[1:3]},
                        include_passed=True)
    by_rule = {f.rule: f for f in found}
    assert by_rule["W-1"].outcome == "fired" and by_rule["W-1"].evidence["n"] == 2
    assert by_rule["W-1"].record_key == "T1"
    assert {f.record_key for f in found} == {"T1"}  # context records are not themselves evaluated


def test_window_over_months_and_dates(compile_rules, run):
    text = """rulebook A
record billing { cons_no: text key
  period: month key
  kwh: decimal
  read_on: date }
""" + rule("A-1", "n3 == 3 and kwh > avg3 * 1.5", on="billing",
           extra="  window over billing by cons_no within period in [this.period - 3 months, this.period)"
                 " compute avg3 = avg(kwh), n3 = count(*)\n") \
        + rule("A-2", "k >= 2", on="billing",
               extra="  window over billing by cons_no within read_on in [this.read_on - 10 days, this.read_on]"
                     " compute k = count(*)\n")
    rb = compile_rules(text)
    rows = [dict(cons_no="C", period=p, kwh=k, read_on=d) for p, k, d in [
        ("2025-11", "1000", "2025-11-30"), ("2025-12", "100", "2025-12-25"), ("2026-01", "100", "2026-01-03"),
        ("2026-02", "100", "2026-02-01"), ("2026-03", "151", "2026-02-10")]]
    out = run(rb, {"billing": rows}, datetime(2026, 4, 1))
    # the three months before 2026-03 (the month itself excluded) average 100: 151 > 150
    assert out[("A-1", "C|2026-03")].outcome == "fired"
    assert (out[("A-1", "C|2026-03")].evidence["avg3"], out[("A-1", "C|2026-03")].evidence["n3"]) == (100, 3)
    assert out[("A-1", "C|2026-02")].evidence["avg3"] == Decimal("400")  # 2025-11 .. 2026-01
    assert out[("A-1", "C|2025-11")].evidence["avg3"] is None and out[("A-1", "C|2025-11")].outcome == "passed"
    assert {k: f.outcome for (rid, k), f in out.items() if rid == "A-2"} == {
        "C|2025-11": "passed", "C|2025-12": "passed", "C|2026-01": "fired", "C|2026-02": "passed",
        "C|2026-03": "fired"}


# ---- group rules -----------------------------------------------------------------------------
GROUPS = """rulebook G "分组"
record billing {
  cons_no: text key
  period: month key
  org_no: text?
  amount: money
  paid: money
  kwh: decimal?
}
""" + rule("G-1", "n >= 2 and (owed ?? 0) > 100.00", on="billing group by org_no",
           extra="  window where paid < amount compute n = count(*), owed = sum(amount - paid)\n"
                 "  empty org_no means undetermined\n") \
    + rule("G-2", "av > 10 and lo < hi", on="billing group by org_no",
           extra="  window compute av = avg(kwh), lo = min(kwh), hi = max(kwh)\n  empty org_no means undetermined\n") \
    + rule("G-3", "n >= 1", on="billing group by org_no, period",
           extra="  window where kwh > 20 compute n = count(*)\n  empty org_no means undetermined\n")

BILLS = [dict(cons_no="C1", period="2026-03", org_no="O1", amount="100", paid="0", kwh="10"),
         dict(cons_no="C2", period="2026-03", org_no="O1", amount="100", paid="50", kwh=None),
         dict(cons_no="C3", period="2026-04", org_no="O1", amount="100", paid="100", kwh="21"),
         dict(cons_no="C4", period="2026-03", org_no="O2", amount="100", paid="0", kwh=None),
         dict(cons_no="C5", period="2026-03", org_no="O3", amount="100", paid="100", kwh="1"),
         dict(cons_no="C6", period="2026-03", org_no=None, amount="100", paid="0", kwh="1")]


def test_group_rule_one_finding_per_group(compile_rules, run):
    rb = compile_rules(GROUPS)
    out = run(rb, {"billing": BILLS}, AS_OF)
    g1 = {key: f for (rid, key), f in out.items() if rid == "G-1"}
    assert {k: f.outcome for k, f in g1.items()} == {"O1": "fired", "O2": "passed", "O3": "passed",
                                                      "C6|2026-03": "undetermined"}
    assert g1["O1"].group == {"org_no": "O1"} and g1["O1"].evidence == {"n": 2, "owed": Decimal("150.00")}
    # O3's only record is filtered out by where, yet the group still gets its (passed) outcome
    assert g1["O3"].evidence == {"n": 0, "owed": None}
    # a record with an empty group field: undetermined, missing that field, keyed by the record
    assert g1["C6|2026-03"].missing == ["org_no"] and g1["C6|2026-03"].group is None


def test_group_rule_passed_only_with_include_passed(compile_rules):
    rb = compile_rules(GROUPS)
    typed = {"billing": [rb.coerce("billing", b) for b in BILLS]}
    shown = {(f.rule, f.record_key) for f in rb.evaluate_batch(typed, AS_OF)}
    assert ("G-1", "O1") in shown and ("G-1", "O2") not in shown and ("G-1", "C6|2026-03") in shown
    everything = {(f.rule, f.record_key) for f in rb.evaluate_batch(typed, AS_OF, include_passed=True)}
    assert {("G-1", "O2"), ("G-1", "O3")} <= everything


def test_group_aggregates_and_multi_field_groups(compile_rules, run):
    rb = compile_rules(GROUPS)
    out = run(rb, {"billing": BILLS}, AS_OF)
    assert out[("G-2", "O1")].outcome == "fired"
    assert out[("G-2", "O1")].evidence == {"av": Decimal("15.5"), "lo": Decimal("10"), "hi": Decimal("21")}
    assert out[("G-2", "O2")].outcome == "undetermined"  # only an empty kwh: avg/min/max of no values
    assert sorted(out[("G-2", "O2")].missing) == ["av", "hi", "lo"]
    g3 = {key: f for (rid, key), f in out.items() if rid == "G-3"}
    assert {k: f.outcome for k, f in g3.items()} == {
        "O1|2026-03": "passed", "O1|2026-04": "fired", "O2|2026-03": "passed", "O3|2026-03": "passed",
        "C6|2026-03": "undetermined"}
    assert g3["O1|2026-04"].group == {"org_no": "O1", "period": Month.of(2026, 4)}


# ---- tests beside rules ----------------------------------------------------------------------
def test_tests_beside_rules_pass_and_fail(compile_rules):
    text = 'rulebook TT\n' + PROBE_KIND + """
defaults r { id: "X", a: 2026-03-01T08:00, d: 2026-03-01, n: 1, x: 1, m: 1.00, p: "2026-03", tags: [] }
rule TT-1 "超时" {
  on r
  level 一级
  owner 部
  when (b ?? as_of) - a > 2 h
  test "回复及时" { as_of 2026-03-01T12:00 given r { b: 2026-03-01T09:00 } expect passed }
  test "未回复超时" { as_of 2026-03-01T12:00 given r { } expect fired }
  test "写错的期望" { as_of 2026-03-01T12:00 given r { b: 2026-03-01T09:00 } expect fired }
}
rule TT-2 "空" {
  on r
  level 一级
  owner 部
  when y > 1
  empty y means undetermined
  test "缺 y" { given r { } expect undetermined missing y }
  test "缺 y 但写错了 missing" { given r { } expect undetermined missing b }
}
"""
    rb = compile_rules(text)
    results = {(t.rule, t.test): t for t in run_tests(rb)}
    assert results[("TT-1", "回复及时")].passed and results[("TT-1", "回复及时")].message == "ok"
    assert results[("TT-1", "未回复超时")].passed
    bad = results[("TT-1", "写错的期望")]
    assert not bad.passed and (bad.expected, bad.actual) == ("fired", "passed")
    assert bad.message == "expected fired, got passed"
    assert results[("TT-2", "缺 y")].passed and results[("TT-2", "缺 y")].actual_missing == ("y",)
    wrong = results[("TT-2", "缺 y 但写错了 missing")]
    assert not wrong.passed and wrong.message == "expected undetermined missing b, got undetermined missing y"
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "写错的期望" in l)
    assert bad.location.endswith(f".rules:{line}:3")


def test_sample_rulebook_tests_all_pass(sample_path):
    rb = load_rulebooks([sample_path])
    results = run_tests(rb)
    assert len(results) == 8
    assert all(t.passed for t in results), [t for t in results if not t.passed]


def test_test_with_window_and_group_subjects(compile_rules):
    text = GROUPS + """
defaults billing { cons_no: "C", period: "2026-03", org_no: "O1", amount: 100.00, paid: 0.00 }
rule G-9 "组测试" {
  on billing group by org_no
  level 一级
  owner 部
  window where paid < amount compute n = count(*)
  when n >= 2
  test "同组两户" { given billing { cons_no: "A" } given billing { cons_no: "B" } expect fired }
  test "两组各一户" { given billing { cons_no: "A" } given billing { cons_no: "B", org_no: "O2" } expect passed }
  test "无单位" { given billing { org_no: empty } expect undetermined missing org_no }
}
"""
    rb = compile_rules(text)
    assert [(t.test, t.passed, t.actual) for t in run_tests(rb)] == [
        ("同组两户", True, "fired"), ("两组各一户", True, "passed"), ("无单位", True, "undetermined")]


# ---- findings: evidence, missing, keys ---------------------------------------------------------
def test_evidence_and_missing_on_findings(compile_rules, run):
    rb = compile_rules('rulebook EV\n' + PROBE_KIND + rule(
        "EV-1", "late and y > 0", extra="  let late = (b ?? as_of) - a > 1 h\n  empty y means undetermined\n"))
    out = run(rb, {"r": [{**PROBE_BASE, "y": None}, {**PROBE_BASE, "id": "2", "y": "1"}]}, datetime(2026, 2, 1))
    u = out[("EV-1", "1")]
    assert (u.outcome, u.missing) == ("undetermined", ["y"])
    # evidence: what the condition reads, and (through the let) the fields behind it
    assert u.evidence == {"a": datetime(2026, 1, 31, 10, 0), "b": None, "late": True, "y": None}
    f = out[("EV-1", "2")]
    assert (f.outcome, f.missing) == ("fired", [])
    assert f.evidence == {"a": datetime(2026, 1, 31, 10, 0), "b": None, "late": True, "y": Decimal("1")}
    dumped = f.model_dump(mode="json")
    assert dumped["evidence"] == {"a": "2026-01-31T10:00:00", "b": None, "late": True, "y": "1"}
    assert dumped["record_key"] == "2"
    # a false conjunct decides the outcome even with y empty
    passed = run(rb, {"r": [{**PROBE_BASE, "b": "2026-01-31T10:30", "y": None}]}, datetime(2026, 2, 1))
    assert passed[("EV-1", "1")].outcome == "passed" and passed[("EV-1", "1")].missing == []


def test_record_key_without_key_fields_uses_all_fields(compile_rules, run):
    rb = compile_rules("rulebook K\nrecord pair { a: text\n  b: int? }\n" + rule("K-1", "a == \"x\"", on="pair"))
    out = run(rb, {"pair": [{"a": "x", "b": 3}, {"a": "y", "b": None}]}, AS_OF)
    assert set(out) == {("K-1", "x|3"), ("K-1", "y|")}


def test_comments_and_single_quoted_strings(compile_rules, run):
    text = ("# 注释\nrulebook C 'single'  # trailing comment\n" + PROBE_KIND
            + "rule C-1 '单引号' {\n  on r  # here too\n  level 一级\n  owner 部\n"
            + "  when t == 'q\"' or t == \"a\\\"b\"\n  empty t means undetermined\n}\n")
    rb = compile_rules(text)
    assert rb.program.rulebooks[0].title == "single" and rb.program.rule("C-1").title == "单引号"
    rows = [{**PROBE_BASE, "t": 'q"'}, {**PROBE_BASE, "id": "2", "t": 'a"b'}, {**PROBE_BASE, "id": "3", "t": "z"}]
    out = run(rb, {"r": rows}, AS_OF)
    assert [out[("C-1", k)].outcome for k in ("1", "2", "3")] == ["fired", "fired", "passed"]
