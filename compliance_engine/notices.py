"""Warning notices (风险预警通知单): findings + responsibility chains → notices, tasks, a summary.

Owns grouping the chains of a run into `WarningNotice`s (one per responsible unit + department
by default), numbering them (`YJ-<unit>-<yyyymmdd>-<seq>`), the per-owner task list, the run
summary per unit and department (counts by level, for 事后考评) and the routing gaps; the whole
is a `NoticeSet` (pydantic, JSON schema `NOTICE_SCHEMA_VERSION`, docs/notices.md). Masking of
personal data happens here (`NoticeSet.masked()`), so every rendering (compliance_engine/render/)
shows the same thing. It reads chains (responsibility.py); it does not evaluate or route.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .findings import Finding, json_value
from .masking import mask_fields, mask_text
from .model import LEVEL_COLOURS, LEVELS
from .org import Directory
from .responsibility import (FindingRef, PersonRef, ResponsibilityChain, RoutingGap, UnitRef, finding_id,
                             routing_gaps)

NOTICE_SCHEMA_VERSION = "1.0"
Grouping = Literal["unit-department", "owner", "unit"]
GROUPINGS: tuple[str, ...] = ("unit-department", "owner", "unit")
FEEDBACK_ITEMS = ("逐条核查结论（属实/不属实及依据）", "整改措施及完成时间", "责任认定及考核意见", "举一反三排查情况",
                  "“待核实”案例的补录数据及核实结论")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class NoticeCase(_Model):
    """One finding on the notice: the record, its evidence, the deadline of its chain."""

    finding: FindingRef
    evidence: dict[str, Any]  # JSON values (findings.md); personal data masked unless unmasked
    missing: list[str]  # undetermined: the empty fields that left it undecided
    owners: list[PersonRef]  # the post's holders ([] = vacant or unrouted)
    post: str | None  # 部门 / [班组 /] 岗位 where the post resolved
    due: datetime | date | None
    deadline_note: str
    root_causes: list[str]  # ids of the root-cause findings (other than itself)


class NoticeMeasure(_Model):
    rule: str
    title: str
    measure: str


class Feedback(_Model):
    """The 反馈单: what the receiving department reports back, by when, to whom."""

    form: str = "风险预警反馈单"
    due: datetime | date | None  # the rectification deadline
    to: str  # the supervising department (or the issuing unit)
    items: list[str]


class Supervision(_Model):
    unit: UnitRef
    department: str
    head: PersonRef
    role: Literal["primary", "cooperating"]


class WarningNotice(_Model):
    """One notice: everything an officer sends to one unit + department (or owner, or unit)."""

    schema_version: str = NOTICE_SCHEMA_VERSION
    number: str  # YJ-<unit code>-<yyyymmdd of as_of>-<seq, 3 digits>
    kind: Literal["warning", "routing_gap"]  # routing_gap: findings whose owner could not be resolved
    title: str
    as_of: datetime
    level: str  # the most severe level of its fired findings (of all, when none fired)
    colour: str  # 红 / 橙 / 黄 / 蓝
    issuing_unit: UnitRef  # the receiving unit's parent; the city company for the top unit and gaps
    receiving_unit: UnitRef
    department: str | None
    owners: list[PersonRef]  # holders of the posts of its findings (routing_gap: `deliver_to`)
    copy_to: list[PersonRef]  # department head and leader in charge (routing_gap: `copy_to`)
    risk: str  # the risk description
    cases: list[NoticeCase]  # fired findings
    pending: list[NoticeCase]  # undetermined findings: the 待核实 section
    measures: list[NoticeMeasure]
    deadline: datetime | date | None  # earliest due date of its chains
    feedback: Feedback
    supervisors: list[Supervision]
    gaps: list[RoutingGap]  # routing gaps of its findings

    def counts(self) -> Counter:
        return Counter((c.finding.level, c.finding.outcome) for c in self.cases + self.pending)


class OwnerTask(_Model):
    rule: str
    title: str
    record_key: str
    outcome: str
    level: str
    notice: str
    due: datetime | date | None


class OwnerTasks(_Model):
    owner: PersonRef
    unit: UnitRef
    department: str
    tasks: list[OwnerTask]


class SummaryRow(_Model):
    unit: UnitRef
    department: str | None
    counts: dict[str, dict[str, int]]  # level → {fired, undetermined}
    notices: list[str]


class NoticeSet(_Model):
    """The notices of one run, with the task list, the summary and the routing gaps."""

    schema_version: str = NOTICE_SCHEMA_VERSION
    as_of: datetime
    directory: str
    grouping: Grouping
    masked: bool
    notices: list[WarningNotice]
    tasks: list[OwnerTasks]
    summary: list[SummaryRow]
    routing_gaps: list[RoutingGap]
    run: dict[str, Any] | None = None  # runner.RunSummary.to_dict() when given

    def with_masking(self) -> NoticeSet:
        """Every person and every personal datum in record values masked (the default)."""
        data = _mask_tree(self.model_dump(mode="json"))
        data["masked"] = True
        return NoticeSet.model_validate(data)


_PERSON_KEYS = frozenset(PersonRef.model_fields)


def _mask_tree(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        if value.keys() == _PERSON_KEYS:
            return PersonRef(**value).masked().model_dump()
        if key == "evidence":
            return mask_fields(value)
        return {k: _mask_tree(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_tree(v, key) for v in value]
    if isinstance(value, str) and key in ("risk", "reason"):
        return mask_text(value)
    return value


# ---------------------------------------------------------------------------------------------
# Grouping
# ---------------------------------------------------------------------------------------------

def level_rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def _owner_ids(c: ResponsibilityChain) -> str:
    return ",".join(p.id for p in c.owner.holders) or f"空缺:{c.owner.post}"


GROUP_KEYS: dict[str, Callable[[ResponsibilityChain], tuple]] = {
    "unit-department": lambda c: (c.owner.unit.code, c.owner.department, ""),
    "unit": lambda c: (c.owner.unit.code, "", ""),
    "owner": lambda c: (c.owner.unit.code, c.owner.department, _owner_ids(c)),
}


def group_key(c: ResponsibilityChain, grouping: str) -> tuple:
    """(kind, unit code, department, owner key): chains without an owner go to their gap's
    `deliver_to` (a routing_gap notice)."""
    if c.owner is None:
        gap = c.gaps[0]
        return ("routing_gap", gap.unit.code if gap.unit else "", gap.department or "",
                ",".join(p.id for p in gap.deliver_to))
    return ("warning", *GROUP_KEYS[grouping](c))


# ---------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------

class NoticeBuilder:
    def __init__(self, directory: Directory, findings: Iterable[Finding], as_of: datetime):
        self.directory, self.as_of = directory, as_of
        self.findings = {finding_id(f): f for f in findings}

    def unit(self, code: str) -> UnitRef:
        u = self.directory.units[code]
        return UnitRef(code=u.code, name=u.name, type=u.type)

    def issuing_unit(self, code: str) -> UnitRef:
        """The receiving unit's parent; the top unit issues to itself (and for routing gaps)."""
        chain = self.directory.chain(code) if code in self.directory.units else []
        top = self.top()
        return self.unit(chain[1].code) if len(chain) > 1 else top

    def top(self) -> UnitRef:
        return self.unit(next(u.code for u in self.directory.units.values() if u.parent is None))

    def case(self, c: ResponsibilityChain) -> NoticeCase:
        f = self.findings[c.finding.id]
        post = None if c.owner is None else " / ".join(x for x in (c.owner.department, c.owner.team, c.owner.post) if x)
        return NoticeCase(finding=c.finding, evidence={k: json_value(v) for k, v in f.evidence.items()},
                          missing=list(f.missing), owners=c.owner.holders if c.owner else [], post=post,
                          due=c.deadline.due, deadline_note=c.deadline.note,
                          root_causes=[r.finding.id for r in c.root_causes if r.finding.id != c.finding.id])

    def notice(self, key: tuple, chains: list[ResponsibilityChain], number: str) -> WarningNotice:
        kind, code = key[0], key[1]
        fired = [c for c in chains if c.finding.outcome == "fired"] or chains
        level = min((c.finding.level for c in fired), key=level_rank)
        receiving = self.receiving(kind, code, chains)
        department = key[2] or None
        dues = [c.deadline.due for c in chains if c.deadline.due is not None]
        deadline = min(dues, key=_sortable) if dues else None
        supervisors = _supervisions(chains)
        return WarningNotice(
            number=number, kind=kind, title=_title(kind, receiving, department), as_of=self.as_of,
            level=level, colour=LEVEL_COLOURS.get(level, ""), issuing_unit=self.issuing_unit(receiving.code),
            receiving_unit=receiving, department=department, owners=_owners(kind, chains),
            copy_to=_copies(kind, chains), risk=_risk(chains),
            cases=[self.case(c) for c in chains if c.finding.outcome == "fired"],
            pending=[self.case(c) for c in chains if c.finding.outcome != "fired"],
            measures=_measures(chains), deadline=deadline,
            feedback=Feedback(due=deadline, to=_feedback_to(supervisors, self.issuing_unit(receiving.code)),
                              items=list(FEEDBACK_ITEMS)),
            supervisors=supervisors, gaps=[g for c in chains for g in c.gaps])

    def receiving(self, kind: str, code: str, chains: list[ResponsibilityChain]) -> UnitRef:
        if kind == "warning":
            return chains[0].owner.unit
        gap = chains[0].gaps[0]
        return gap.unit or self.top()


def _sortable(d: datetime | date) -> datetime:
    return d if isinstance(d, datetime) else datetime(d.year, d.month, d.day)


def _title(kind: str, unit: UnitRef, department: str | None) -> str:
    who = unit.name + (f" {department}" if department else "")
    return f"风险预警通知单（{who}）" if kind == "warning" else f"风险预警通知单·路由缺口（{who}）"


def _unique(people: Iterable[PersonRef]) -> list[PersonRef]:
    return list({p.id: p for p in people}.values())


def _owners(kind: str, chains: list[ResponsibilityChain]) -> list[PersonRef]:
    if kind == "routing_gap":
        return _unique(p for c in chains for p in c.gaps[0].deliver_to)
    return _unique(p for c in chains for p in (c.owner.holders or [c.owner.department_head]))


def _copies(kind: str, chains: list[ResponsibilityChain]) -> list[PersonRef]:
    if kind == "routing_gap":
        return _unique(p for c in chains for p in c.gaps[0].copy_to)
    return _unique(p for c in chains for p in (c.owner.department_head, c.owner.leader_in_charge))


def _risk(chains: list[ResponsibilityChain]) -> str:
    per_rule = Counter((c.finding.rule, c.finding.title) for c in chains)
    parts = [f"{rule} {title}（{n} 件）" for (rule, title), n in per_rule.items()]
    return "经规则校验，发现以下风险：" + "；".join(parts) + "。"


def _measures(chains: list[ResponsibilityChain]) -> list[NoticeMeasure]:
    seen: dict[str, NoticeMeasure] = {}
    for c in chains:
        seen.setdefault(c.finding.rule, NoticeMeasure(rule=c.finding.rule, title=c.finding.title, measure=c.measure))
    return list(seen.values())


def _supervisions(chains: list[ResponsibilityChain]) -> list[Supervision]:
    seen: dict[tuple, Supervision] = {}
    for c in chains:
        for s in c.supervisors:
            seen.setdefault((s.unit.code, s.department), Supervision(unit=s.unit, department=s.department,
                                                                   head=s.head, role=s.role))
    return sorted(seen.values(), key=lambda s: (s.role != "primary", s.unit.code, s.department))


def _feedback_to(supervisors: list[Supervision], issuing: UnitRef) -> str:
    primary = [s for s in supervisors if s.role == "primary"]
    return f"{primary[0].unit.name} {primary[0].department}" if primary else issuing.name


def _sort_key(key: tuple, chains: list[ResponsibilityChain]) -> tuple:
    """Notices are numbered in this order: unit code, department, level, then the rest of the
    key (owner), routing gaps after warnings of the same unit and department."""
    level = min((level_rank(c.finding.level) for c in chains), default=len(LEVELS))
    return key[1], key[2], level, key[0] != "warning", key[3]


def build_notices(findings: Sequence[Finding], chains: Sequence[ResponsibilityChain], directory: Directory,
                  as_of: datetime, grouping: Grouping = "unit-department", run: dict | None = None,
                  unmask: bool = False) -> NoticeSet:
    """The notices of a run: every fired or undetermined finding (one chain each) in exactly one
    notice. Masked unless `unmask`."""
    if grouping not in GROUPINGS:
        raise ValueError(f"未知的分组方式 {grouping!r}（可选：{'、'.join(GROUPINGS)}）")
    builder = NoticeBuilder(directory, findings, as_of)
    groups: dict[tuple, list[ResponsibilityChain]] = defaultdict(list)
    for c in chains:
        groups[group_key(c, grouping)].append(c)
    ordered = sorted(groups.items(), key=lambda kv: _sort_key(*kv))
    seq: Counter = Counter()
    notices = []
    for key, members in ordered:
        members = sorted(members, key=lambda c: (level_rank(c.finding.level), c.finding.rule, c.finding.record_key))
        code = builder.receiving(key[0], key[1], members).code
        seq[code] += 1
        notices.append(builder.notice(key, members, f"YJ-{code}-{as_of:%Y%m%d}-{seq[code]:03d}"))
    result = NoticeSet(as_of=as_of, directory=chains[0].directory if chains else directory.title,
                       grouping=grouping, masked=False, notices=notices, tasks=owner_tasks(notices),
                       summary=summary_rows(notices), routing_gaps=routing_gaps(chains), run=run)
    return result if unmask else result.with_masking()


def owner_tasks(notices: Iterable[WarningNotice]) -> list[OwnerTasks]:
    """Per person: every case they must act on (as holder, or as the recipient of a gap)."""
    tasks: dict[str, tuple[PersonRef, UnitRef, str, list[OwnerTask]]] = {}
    for n in notices:
        for case in n.cases + n.pending:
            for person in case.owners or n.owners:
                entry = tasks.setdefault(person.id, (person, n.receiving_unit, n.department or "", []))
                entry[3].append(OwnerTask(rule=case.finding.rule, title=case.finding.title,
                                          record_key=case.finding.record_key, outcome=case.finding.outcome,
                                          level=case.finding.level, notice=n.number, due=case.due))
    return [OwnerTasks(owner=p, unit=u, department=d, tasks=t)
            for p, u, d, t in sorted(tasks.values(), key=lambda e: (e[1].code, e[2], e[0].id))]


def summary_rows(notices: Iterable[WarningNotice]) -> list[SummaryRow]:
    """Counts by level and outcome per receiving unit and department (事后考评)."""
    rows: dict[tuple, tuple[UnitRef, str | None, Counter, list[str]]] = {}
    for n in notices:
        entry = rows.setdefault((n.receiving_unit.code, n.department or ""),
                                (n.receiving_unit, n.department, Counter(), []))
        entry[2].update(n.counts())
        entry[3].append(n.number)
    out = []
    for key in sorted(rows):
        unit, dept, counts, numbers = rows[key]
        levels = sorted({lv for lv, _ in counts}, key=level_rank)
        out.append(SummaryRow(unit=unit, department=dept, notices=numbers,
                              counts={lv: {"fired": counts[(lv, "fired")], "undetermined": counts[(lv, "undetermined")]}
                                      for lv in levels}))
    return out


def notice_json_schema() -> dict:
    """The JSON Schema of `NoticeSet` (the notices' JSON, docs/notices.md)."""
    return NoticeSet.model_json_schema()


def notices_for_run(rulebooks, findings: Sequence[Finding], directory: Directory, as_of: datetime,
                    records: dict | None = None, grouping: Grouping = "unit-department", run: dict | None = None,
                    unmask: bool = False) -> NoticeSet:
    """Chains (responsibility.build_chains, with the rulebooks' calendar) and notices of a run."""
    from .responsibility import build_chains
    chains = build_chains(findings, rulebooks.program, directory, rulebooks.backend.calendar, records)
    return build_notices(findings, chains, directory, as_of, grouping, run, unmask)
