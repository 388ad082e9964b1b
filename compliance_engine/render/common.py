"""Words shared by the notice renderings: times, people, units, counts (Chinese, officer-facing)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from ..model import LEVELS
from ..notices import NoticeCase, WarningNotice
from ..responsibility import PersonRef, UnitRef

LEVEL_HEX = {"一级": "#c00000", "二级": "#e46c0a", "三级": "#d4a017", "四级": "#1f5fbf"}
OUTCOME_WORDS = {"fired": "预警", "undetermined": "待核实"}


def when(value: datetime | date | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    return f"{value:%Y-%m-%d}"


def person(p: PersonRef) -> str:
    return f"{p.name or p.id}（{p.phone or '无电话'}）"


def people(ps: list[PersonRef]) -> str:
    return "、".join(person(p) for p in ps) or "—"


def unit(u: UnitRef | None) -> str:
    return "—" if u is None else f"{u.name}（{u.code}）"


def level(n: WarningNotice) -> str:
    return f"{n.level}（{n.colour}）"


def value(v: Any) -> str:
    if v is None:
        return "空"
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False)


def evidence(case: NoticeCase) -> str:
    return "；".join(f"{k}={value(v)}" for k, v in case.evidence.items()) or "—"


def metadata(n: WarningNotice) -> list[tuple[str, str]]:
    """The notice's header fields, in the order every format shows them."""
    sup = "；".join(f"{s.unit.name} {s.department}（{'主督导' if s.role == 'primary' else '协同'}，{person(s.head)}）"
                   for s in n.supervisors) or "—"
    return [("编号", n.number), ("预警级别", level(n)), ("签发单位", unit(n.issuing_unit)),
            ("接收单位", unit(n.receiving_unit)), ("责任部门", n.department or "—"),
            ("责任人" if n.kind == "warning" else "送达（路由缺口）", people(n.owners)), ("抄送", people(n.copy_to)), ("督导部门", sup),
            ("评估时点", when(n.as_of)), ("整改期限", when(n.deadline))]


def feedback_lines(n: WarningNotice) -> list[str]:
    f = n.feedback
    return [f"请于 {when(f.due)} 前向 {f.to} 报送《{f.form}》，内容包括："] + [f"{i}. {x}" for i, x in enumerate(f.items, 1)]


def level_counts(counts: dict[str, dict[str, int]]) -> list[tuple[str, int, int]]:
    return [(lv, counts.get(lv, {}).get("fired", 0), counts.get(lv, {}).get("undetermined", 0)) for lv in LEVELS]


def case_row(c: NoticeCase) -> list[str]:
    """记录 / 规则 / 级别 / 证据 / 整改期限 (undetermined: the missing fields too)."""
    ev = evidence(c) + (f"；缺少：{'、'.join(c.missing)}" if c.missing else "")
    return [c.finding.record_key, f"{c.finding.rule} {c.finding.title}", c.finding.level, ev, when(c.due)]


CASE_HEADERS = ["记录", "规则", "级别", "证据", "整改期限"]
