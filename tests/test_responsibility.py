"""Responsibility chains (compliance_engine/responsibility.py, docs/responsibility.md): routing a
finding to its post, people, heads and supervisors on the as-of date; routing gaps (vacant post,
unknown or missing org_no, owner not in the directory) are reported, never dropped; escalation
deadlines through the working-day calendar; root causes across `depends on`."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from compliance_engine.calendar import default_calendar
from compliance_engine.findings import Finding
from compliance_engine.model import Deadline
from compliance_engine.org import Directory, load_directory
from compliance_engine.responsibility import (
    CHAIN_CONTRACT, ChainBuilder, RecordLookup, ResponsibilityChain, RootCauses, build_chains, measure_deadline,
    relation_fields, routing_gaps,
)

ROOT = Path(__file__).resolve().parents[1]
AS_OF = datetime(2026, 3, 31, 18, 0)

RULES = """
rulebook 责任测试 "责任链测试规则" version "1" effective 2026-01-01

enum 类型 { 投诉, 咨询 }
record ticket "工单" {
  ticket_no: text key "工单编号"
  org_no: text? "供电单位编号"
  cons_no: text? "用户编号"
  ticket_type: 类型 "工单类型"
  accepted_at: datetime "受理时间"
  replied_at: datetime? "回复时间"
  start_at: datetime? "计划开工时间"
}
link L1 "工单处理" { order 1 }

rule A-001 "答复超时" {
  on ticket
  link L1
  level 三级
  owner 营销部 / 抄表班 / 抄表专责
  supervisor 上级 营销部; 协同 纪委办公室
  measure 当日答复
  deadline 1 workday
  when (replied_at ?? as_of) - accepted_at > 24 hours
}
rule A-002 "投诉答复严重超时" {
  on ticket
  link L1
  level 二级
  owner 营销部 / 抄表班 / 空岗
  supervisor 上级 营销部
  deadline 2 hours
  depends on A-001
  when ticket_type == 投诉 and (replied_at ?? as_of) - accepted_at > 48 hours
}
rule A-003 "同一客户多次投诉" {
  on ticket
  link L1
  level 一级
  owner 营销部 / 抄表班 / 抄表专责
  supervisor 上级 营销部
  deadline before start_at
  depends on A-002
  window over ticket by cons_no
    where ticket_type == 投诉
    compute n = count(*)
  when ticket_type == 投诉 and n >= 2
}
rule A-004 "单位投诉汇总" {
  on ticket group by org_no
  link L1
  level 四级
  owner 营销部 / 客服班 / 工单专责
  supervisor 上级 营销部
  deadline next reading
  depends on A-001
  window where ticket_type == 投诉 compute n = count(*)
  when n >= 2
}
rule A-005 "责任写错" {
  on ticket
  link L1
  level 四级
  owner 营销部 / 不存在班 / 某岗
  when ticket_type == 投诉
}
rule A-006 "督导写错" {
  on ticket
  link L1
  level 四级
  owner 营销部 / 抄表班 / 抄表专责
  supervisor 协同 纪委办公室
  when ticket_type == 投诉
}
rule A-007 "督导部门不存在" {
  on ticket
  link L1
  level 四级
  owner 营销部 / 抄表班 / 抄表专责
  supervisor 上级 安全监察部
  when ticket_type == 投诉
}
"""

TICKETS = [  # T1, T2: same customer at the station; T3, T5: unknown unit; T4: no unit
    {"ticket_no": "T1", "org_no": "90101", "cons_no": "C1", "ticket_type": "投诉", "accepted_at": "2026-03-01T10:00",
     "start_at": "2026-04-03T09:00"},
    {"ticket_no": "T2", "org_no": "90101", "cons_no": "C1", "ticket_type": "投诉", "accepted_at": "2026-03-30T10:00",
     "replied_at": "2026-03-30T12:00"},
    {"ticket_no": "T3", "org_no": "99999", "ticket_type": "投诉", "accepted_at": "2026-03-01T10:00"},
    {"ticket_no": "T4", "ticket_type": "咨询", "accepted_at": "2026-03-01T10:00"},
    {"ticket_no": "T5", "org_no": "99999", "ticket_type": "投诉", "accepted_at": "2026-03-30T10:00",
     "replied_at": "2026-03-30T11:00"},
]

NAMES = {"A": "甲市长", "B": "乙营销", "C": "丙抄表", "D": "丁抄表", "E": "戊客服", "F": "己纪检", "G": "庚县长",
         "H": "辛县营", "K": "壬所长", "L": "癸所营"}


def org_data() -> dict:
    def post(name, *holders):
        return {"name": name, "holders": [{"person": p, "from": f, "to": t} for p, f, t in holders]}

    return {
        "directory": {"name": "测试目录", "version": "1", "effective": "2026-01-01"},
        "units": [
            {"code": "9", "name": "市公司", "type": "市公司", "parent": None, "leader_in_charge": "A",
             "departments": [
                 {"name": "营销部", "head": "B", "supervises": ["客户服务"],
                  "teams": [{"name": "客服班", "posts": [post("工单专责", ("E", "2020-01-01", None))]}]},
                 {"name": "纪委办公室", "head": "F", "supervises": ["廉洁"], "teams": []}]},
            {"code": "901", "name": "县公司", "type": "县公司", "parent": "9", "leader_in_charge": "G",
             "departments": [
                 {"name": "营销部", "head": "H", "supervises": ["客户服务"],
                  "teams": [{"name": "抄表班", "posts": [
                      post("抄表专责", ("C", "2020-01-01", "2026-03-14"), ("D", "2026-03-15", None)),
                      post("空岗")]}]}]},
            {"code": "90101", "name": "供电所", "type": "供电所", "parent": "901", "leader_in_charge": "K",
             "departments": [{"name": "营销部", "head": "L", "supervises": [], "teams": []}]},
        ],
        "people": [{"id": pid, "name": name, "phone": f"1390000{i:04d}", "employee_no": f"E{i}"}
                   for i, (pid, name) in enumerate(NAMES.items())],
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """(rulebooks, typed records, findings as of AS_OF, directory)."""
    from compliance_engine import load_rulebooks

    path = tmp_path_factory.mktemp("rules") / "resp.rules"
    path.write_text(RULES, encoding="utf-8")
    rulebooks = load_rulebooks([path])
    records = {"ticket": [rulebooks.coerce("ticket", t) for t in TICKETS]}
    findings = list(rulebooks.evaluate_batch(records, AS_OF))
    return rulebooks, records, findings, Directory.from_data(org_data())


def chains_of(world, findings=None, directory=None) -> dict[str, ResponsibilityChain]:
    rulebooks, records, all_findings, default_directory = world
    chains = build_chains(findings or all_findings, rulebooks.program, directory or default_directory,
                          rulebooks.backend.calendar, records)
    return {c.finding.id: c for c in chains}


def ids(people) -> list[str]:
    return [p.id for p in people]


def test_every_fired_or_undetermined_finding_gets_exactly_one_chain(world):
    findings = world[2]
    chains = chains_of(world)
    assert sorted(chains) == sorted(f"{f.rule}:{f.record_key}" for f in findings if f.outcome != "passed")
    assert chains["A-004:T4"].finding.outcome == "undetermined"  # T4: empty group key, keyed by its record


def test_chain_names_units_post_people_heads_and_supervisors(world):
    c = chains_of(world)["A-001:T1"]
    assert [u.code for u in c.units] == ["90101", "901", "9"]
    o = c.owner
    assert (o.unit.code, o.department, o.team, o.post, o.steps_up) == ("901", "营销部", "抄表班", "抄表专责", 1)
    assert ids(o.holders) == ["D"] and o.holders[0].name == "丁抄表"
    assert (o.department_head.id, o.leader_in_charge.id) == ("H", "G")
    # 上级 from the owner's unit (901) one level up; 协同 at 901, which lacks it, so further up
    assert [(s.role, s.unit.code, s.department, s.head.id) for s in c.supervisors] == [
        ("primary", "9", "营销部", "B"), ("cooperating", "9", "纪委办公室", "F")]
    assert c.supervisors[0].supervises == ["客户服务"]
    assert c.routed and c.gaps == [] and c.measure == "当日答复"


def test_a_post_change_on_2026_03_15_changes_the_chain(world):
    rulebooks, records, _, directory = world
    before = list(rulebooks.evaluate_batch(records, datetime(2026, 3, 14, 18)))
    after = list(rulebooks.evaluate_batch(records, datetime(2026, 3, 15, 9)))
    c1 = chains_of(world, before)["A-001:T1"]
    c2 = chains_of(world, after)["A-001:T1"]
    assert ids(c1.owner.holders) == ["C"] and ids(c2.owner.holders) == ["D"]
    assert ids(c1.escalation[0].recipients) == ["C"] and ids(c2.escalation[0].recipients) == ["D"]
    assert c1.owner.unit == c2.owner.unit and c1.owner.department_head == c2.owner.department_head


def test_example_directory_post_change_reaches_the_new_holder(world):
    """docs/org.md: a 3340101 line-loss record reaches P0114 as of 2026-03-14, P0223 from 2026-03-15."""
    rulebooks = world[0]
    builder = ChainBuilder(rulebooks.program, load_directory(ROOT / "examples" / "org.yaml"), rulebooks.backend.calendar)
    owner = "营销部(客户服务中心) / 台区经理 / 线损专责"
    assert ids(builder.owner("3340101", owner, date(2026, 3, 14)).holders) == ["P0114"]
    assert ids(builder.owner("3340101", owner, date(2026, 3, 15)).holders) == ["P0223"]


def test_vacant_post_is_a_routing_gap_delivered_to_the_department_head(world):
    c = chains_of(world)["A-002:T1"]
    assert c.owner.holders == [] and c.owner.vacant
    (gap,) = c.gaps
    assert (gap.code, gap.unit.code, gap.team, gap.post) == ("vacant_post", "901", "抄表班", "空岗")
    assert ids(gap.deliver_to) == ["H"] and ids(gap.copy_to) == ["G"]
    assert "无人在岗" in gap.reason and gap.finding.id == "A-002:T1"
    assert ids(c.escalation[0].recipients) == ["H"] and "岗位空缺" in c.escalation[0].note


def test_unknown_org_no_goes_to_the_top_unit(world):
    chains = chains_of(world)
    (gap,) = chains["A-004:99999"].gaps  # the owner exists at the top unit: its department head
    assert (gap.code, gap.unit.code, gap.department) == ("unknown_org_no", "9", "营销部")
    assert ids(gap.deliver_to) == ["B"] and ids(gap.copy_to) == ["A"] and "99999" in gap.reason
    (gap,) = chains["A-001:T3"].gaps  # the owner's team exists only lower down: the top leader
    assert gap.code == "unknown_org_no" and ids(gap.deliver_to) == ["A"]
    assert chains["A-001:T3"].owner is None and chains["A-001:T3"].escalation == []


def test_missing_org_no_and_unknown_owner_are_gaps_too(world):
    chains = chains_of(world)
    assert [g.code for g in chains["A-001:T4"].gaps] == ["missing_org_no"]
    assert [g.code for g in chains["A-004:T4"].gaps] == ["missing_org_no"]
    (gap,) = chains["A-005:T1"].gaps
    assert (gap.code, gap.unit.code) == ("owner_not_found", "90101") and ids(gap.deliver_to) == ["K"]
    assert "营销部 / 不存在班 / 某岗" in gap.reason
    gaps = routing_gaps(chains.values())
    unknown = {g.finding.id for g in gaps if g.code == "unknown_org_no"}
    assert unknown == {c.finding.id for c in chains.values() if c.finding.org_no == "99999"} and "A-004:99999" in unknown
    assert [g.finding.id for g in gaps if g.code == "vacant_post"] == ["A-002:T1"]


def test_unresolvable_supervisor_is_a_gap_but_the_owner_still_gets_it(world):
    chains = chains_of(world)
    for rule, code in (("A-006", "supervisor_invalid"), ("A-007", "supervisor_not_found")):
        c = chains[f"{rule}:T1"]
        assert [g.code for g in c.gaps] == [code] and ids(c.gaps[0].deliver_to) == ["G"]
        assert ids(c.owner.holders) == ["D"] and [s.role for s in c.escalation] == [
            "owner", "department_head", "leader_in_charge"]


def test_escalation_deadlines_cross_a_tiaoxiu_weekend():
    """2026-02-28 (Saturday) is a 调休 working day: one workday after Friday 02-27 is that Saturday."""
    deadline = Deadline("1 workday", workdays=1)
    info, steps = measure_deadline(deadline, datetime(2026, 2, 27, 10), default_calendar())
    assert (info.basis, info.due) == ("workdays", datetime(2026, 2, 28, 10))
    assert [due for _, due in steps] == [datetime(2026, 2, 28, 10), datetime(2026, 3, 2, 10),
                                         datetime(2026, 3, 3, 10), datetime(2026, 3, 4, 10)]
    assert [start for start, _ in steps][:2] == [datetime(2026, 2, 27, 10), datetime(2026, 2, 28, 10)]
    # an ordinary weekend is skipped: Friday 03-06 + 1 workday = Monday 03-09
    _, steps = measure_deadline(deadline, datetime(2026, 3, 6, 10), default_calendar())
    assert steps[0][1] == datetime(2026, 3, 9, 10)


def test_deadline_kinds():
    cal, t = default_calendar(), datetime(2026, 3, 2, 9)
    info, steps = measure_deadline(Deadline("2 hours", duration=timedelta(hours=2)), t, cal)
    assert info.basis == "duration" and [d for _, d in steps] == [t + timedelta(hours=2 * k) for k in (1, 2, 3, 4)]
    hard = datetime(2026, 3, 5, 8)
    info, steps = measure_deadline(Deadline("before start_at", before_field="start_at"), t, cal, hard)
    assert info.basis == "before_field" and [d for _, d in steps] == [hard] * 4 and "start_at" in info.note
    info, steps = measure_deadline(Deadline("before start_at", before_field="start_at"), t, cal, None)
    assert info.basis == "unmeasured" and info.due is None and "为空" in info.note
    info, _ = measure_deadline(Deadline("next reading"), t, cal)
    assert info.basis == "unmeasured" and "next reading" in info.note
    info, _ = measure_deadline(None, t, cal)
    assert info.note == "规则未规定整改期限"


def test_chain_ladder_steps_and_before_field_deadline(world):
    chains = chains_of(world)
    ladder = chains["A-001:T1"].escalation
    assert [(s.step, s.role, ids(s.recipients)) for s in ladder] == [
        (1, "owner", ["D"]), (2, "department_head", ["H"]), (3, "leader_in_charge", ["G"]), (4, "supervisor", ["B"])]
    assert ids(ladder[3].copy_to) == ["F"]  # the cooperating supervisor is copied
    assert ladder[0].due == datetime(2026, 4, 1, 18) and ladder[3].due == datetime(2026, 4, 7, 18)  # 清明 04-04..06
    c = chains["A-003:T1"]  # `deadline before start_at`, read from the record
    assert c.deadline.due == datetime(2026, 4, 3, 9) and {s.due for s in c.escalation} == {datetime(2026, 4, 3, 9)}
    assert chains["A-004:90101"].deadline.basis == "unmeasured"  # next reading


def test_root_cause_through_depends_on(world):
    chains = chains_of(world)
    # same record, two hops: A-003 → A-002 → A-001 on T1
    (rc,) = chains["A-003:T1"].root_causes
    assert (rc.finding.id, rc.relation, [v.id for v in rc.via]) == ("A-001:T1", "same_record", ["A-002:T1"])
    assert ids(rc.owner.holders) == ["D"] and rc.owner_text == "营销部 / 抄表班 / 抄表专责"
    # T2's upstream findings passed; the same customer's T1 did not (window by cons_no)
    (rc,) = chains["A-003:T2"].root_causes
    assert (rc.finding.id, rc.relation, rc.keys) == ("A-001:T1", "related_record", {"cons_no": "C1"})
    # a group rule relates by its group key
    (rc,) = chains["A-004:90101"].root_causes
    assert (rc.finding.id, rc.keys) == ("A-001:T1", {"org_no": "90101"})
    # the most upstream finding is its own root cause
    assert chains["A-001:T1"].root_causes == [] and chains["A-001:T1"].root_causes_total == 0


def test_root_causes_include_undetermined_upstream_and_ignore_passed(world):
    rulebooks, records, findings, _ = world
    a3 = next(f for f in findings if f.rule == "A-003" and f.record_key == "T1")

    def a2(outcome: str) -> Finding:
        return Finding(**{**a3.model_dump(), "rule": "A-002", "outcome": outcome})

    def causes(upstream: Finding):
        return RootCauses([a3, upstream], rulebooks.program, RecordLookup(rulebooks.program, records)).of(a3)

    assert [c.root.outcome for c in causes(a2("undetermined"))] == ["undetermined"]
    assert causes(a2("passed")) == []


def test_relation_fields(world):
    program = world[0].program
    rule = program.rule
    assert relation_fields(rule("A-003"), rule("A-002")) == ("cons_no",)  # the window's `by`
    assert relation_fields(rule("A-004"), rule("A-001")) == ("org_no",)  # the group key
    assert relation_fields(rule("A-002"), rule("A-001")) == ()  # same kind, no window: same record only


def test_chains_are_json_round_trippable_and_maskable(world):
    for chain in chains_of(world).values():
        text = chain.model_dump_json()
        assert ResponsibilityChain.model_validate_json(text) == chain
        assert chain.contract == CHAIN_CONTRACT
        masked = chain.masked().model_dump_json()
        assert not any(name in masked for name in NAMES.values())
        assert "13900000" not in masked
    c = chains_of(world)["A-001:T1"].masked()
    assert (c.owner.holders[0].id, c.owner.holders[0].name, c.owner.holders[0].phone) == ("D", "丁**", "139****0003")
