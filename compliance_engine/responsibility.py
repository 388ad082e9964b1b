"""Responsibility chains: who must act on a finding, who supervises, by when, and its root cause.

Owns turning fired and undetermined findings into `ResponsibilityChain`s (pydantic, JSON; the
contract is docs/responsibility.md): the record's unit and its parents, the owning post and the
person(s) holding it on the as-of date, the department head, the owning unit's leader in charge,
the supervising departments with their heads, an escalation ladder with a deadline per step,
routing gaps (a vacant post, an unknown org_no … — reported, never dropped) and root causes (an
upstream rule, named by `depends on`, that also fired or was undetermined for the same record or
a related one).

It reads findings, the checked `Program`, the org directory and the working-day calendar; it
does not evaluate rules. Notices, renderings and explain build on it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_serializer

from .calendar import WorkdayCalendar
from .describe import duration_words
from .findings import Finding, json_value
from .model import Deadline, Program, Rule
from .org import Directory, OwnerRef, OwnerResolution, Person, SupervisorResolution, Unit, Unresolved

CHAIN_CONTRACT = "1.0"
MAX_ROOT_CAUSES = 20  # per chain; `root_causes_total` gives the full count

GapCode = Literal["missing_org_no", "unknown_org_no", "owner_invalid", "owner_not_found", "vacant_post",
                  "supervisor_invalid", "supervisor_not_found"]
StepRole = Literal["owner", "department_head", "leader_in_charge", "supervisor"]
STEP_TITLES: dict[str, str] = {"owner": "责任人", "department_head": "部门负责人", "leader_in_charge": "分管领导",
                               "supervisor": "上级督导部门"}


# ---------------------------------------------------------------------------------------------
# The data model (the contract of docs/responsibility.md)
# ---------------------------------------------------------------------------------------------

class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class PersonRef(_Model):
    """A person of the directory. Name, phone and employee number are personal data: renderers
    mask them unless told otherwise. `name` etc. are None only for an id the directory lacks."""

    id: str
    name: str | None = None
    phone: str | None = None
    employee_no: str | None = None

    def masked(self) -> PersonRef:
        """Name to its first character (王**), phone to 139****0083, employee number to its
        first two characters; the directory id stays (it is not personal data)."""
        return PersonRef(id=self.id, name=_mask(self.name, 1, 0), phone=_mask(self.phone, 3, 4),
                         employee_no=_mask(self.employee_no, 2, 0))


def _mask(text: str | None, keep_start: int, keep_end: int) -> str | None:
    if text is None or len(text) <= keep_start + keep_end:
        return text if text is None else "*" * len(text)
    hidden = len(text) - keep_start - keep_end
    return text[:keep_start] + "*" * hidden + (text[len(text) - keep_end:] if keep_end else "")


class UnitRef(_Model):
    code: str
    name: str
    type: str


class FindingRef(_Model):
    """Which finding: `id` is `RULE:RECORD_KEY`, unique in a run (one finding per rule and record
    or group)."""

    id: str
    rule: str
    title: str
    record_kind: str
    record_key: str
    outcome: str
    level: str
    org_no: str | None = None

    @classmethod
    def of(cls, f: Finding) -> FindingRef:
        return cls(id=finding_id(f), rule=f.rule, title=f.title, record_kind=f.record_kind, record_key=f.record_key,
                   outcome=f.outcome, level=f.level, org_no=f.org_no)


class OwnerAssignment(_Model):
    """The owning post, where it resolved, and who holds it on the as-of date."""

    text: str  # the rule's owner as written
    unit: UnitRef  # the unit whose department carries the post
    department: str
    team: str | None  # None: a department-level post
    post: str
    holders: list[PersonRef]  # on the as-of date; [] = vacant (the chain has a vacant_post gap)
    department_head: PersonRef
    leader_in_charge: PersonRef  # of the owning unit
    steps_up: int  # levels above the record's unit where the post was found (0: the record's own unit)

    @property
    def vacant(self) -> bool:
        return not self.holders


class SupervisorAssignment(_Model):
    """A supervising department (`上级 X`: primary; `协同 [上级] Y`: cooperating) and its head."""

    role: Literal["primary", "cooperating"]
    upper: bool  # resolved from the level above the owner's unit (上级)
    unit: UnitRef
    department: str
    head: PersonRef
    supervises: list[str]  # the categories the department supervises (org.yaml)


class DeadlineInfo(_Model):
    """The rule's rectification deadline as written and as measured from the as-of time."""

    text: str | None  # as written in the rule; None: the rule gives none
    basis: Literal["workdays", "duration", "before_field", "unmeasured"]
    workdays: int | None = None
    duration: timedelta | None = None
    before_field: str | None = None
    due: datetime | date | None = None  # the owner's deadline (step 1); None: cannot be computed
    note: str  # the basis in words (Chinese)


class EscalationStep(_Model):
    """One rung: who has the warning from `starts_at` and must have it rectified by `due`."""

    step: int  # 1 … 4
    role: StepRole
    title: str  # 责任人 / 部门负责人 / 分管领导 / 上级督导部门
    unit: UnitRef
    department: str
    recipients: list[PersonRef]
    copy_to: list[PersonRef] = []
    starts_at: datetime | date | None
    due: datetime | date | None
    note: str | None = None


class RoutingGap(_Model):
    """A finding that cannot be routed as the rule says: its own finding-like object, delivered
    to `deliver_to` (with `copy_to`) so that it is never dropped."""

    contract: str = CHAIN_CONTRACT
    kind: Literal["routing_gap"] = "routing_gap"
    code: GapCode
    reason: str  # in Chinese, for the officer
    finding: FindingRef
    as_of: datetime | None
    org_no: str | None
    owner: str  # the rule's owner as written
    unit: UnitRef | None = None  # where the gap is (the owning unit for a vacant post)
    department: str | None = None
    team: str | None = None
    post: str | None = None
    deliver_to: list[PersonRef]
    copy_to: list[PersonRef] = []


class RootCause(_Model):
    """An upstream finding (through `depends on`) with no further upstream finding of its own."""

    finding: FindingRef
    relation: Literal["same_record", "related_record"]  # same_record only if every hop is
    keys: dict[str, Any]  # same_record: the record key; related_record: the fields of the first hop to another record
    via: list[FindingRef]  # findings between this chain's finding and the root, nearest first
    owner_text: str  # the upstream rule's owner as written
    owner: OwnerAssignment | None  # resolved for the upstream finding's org_no; None if it cannot be

    @field_serializer("keys")
    def _keys(self, keys: dict[str, Any]) -> dict[str, Any]:
        return {k: json_value(v) for k, v in keys.items()}


class ResponsibilityChain(_Model):
    """Everything needed to route one fired or undetermined finding."""

    contract: str = CHAIN_CONTRACT
    finding: FindingRef
    as_of: datetime | None
    directory: str  # the directory's name and version
    measure: str  # the rule's pre-control measure (预控措施)
    record_unit: UnitRef | None  # None: org_no missing or unknown (see gaps)
    units: list[UnitRef]  # the record's unit and its parents, nearest first
    owner: OwnerAssignment | None
    supervisors: list[SupervisorAssignment]  # primary first
    deadline: DeadlineInfo
    escalation: list[EscalationStep]  # [] when the owner cannot be resolved (see gaps)
    gaps: list[RoutingGap]
    root_causes: list[RootCause]  # at most MAX_ROOT_CAUSES, nearest and first-declared first
    root_causes_total: int

    @property
    def routed(self) -> bool:
        """True when the chain reaches a person at every step the rule asks for."""
        return not self.gaps

    def masked(self) -> ResponsibilityChain:
        """The same chain with every person's personal data masked (`PersonRef.masked`)."""
        return type(self).model_validate(_mask_people(self.model_dump()))


_PERSON_KEYS = frozenset(PersonRef.model_fields)


def _mask_people(value: Any) -> Any:
    if isinstance(value, dict):
        if value.keys() == _PERSON_KEYS:
            return PersonRef(**value).masked().model_dump()
        return {k: _mask_people(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_people(v) for v in value]
    return value


def finding_id(f: Finding) -> str:
    return f"{f.rule}:{f.record_key}"


# ---------------------------------------------------------------------------------------------
# Field values of findings (for `before FIELD` deadlines and relating records)
# ---------------------------------------------------------------------------------------------

class RecordLookup:
    """The record behind a finding: looked up by (kind, record key) in the run's records,
    falling back to the finding's group key and evidence when the records are not given."""

    def __init__(self, program: Program, records: Mapping[str, list[dict]] | None = None):
        self.program = program
        self.records = records or {}
        self._index: dict[str, dict[str, dict]] = {}

    def record(self, f: Finding) -> dict | None:
        kind = f.record_kind
        if kind not in self._index:
            schema = self.program.kinds.get(kind)
            rows = self.records.get(kind, []) if schema is not None else []
            index: dict[str, dict] = {}
            for r in rows:
                index.setdefault(schema.record_key(r), r)
            self._index[kind] = index
        return self._index[kind].get(f.record_key)

    def value(self, f: Finding, name: str) -> Any:
        if f.group is not None and name in f.group:
            return f.group[name]
        record = self.record(f) if f.group is None else None
        if record is not None and name in record:
            return record[name]
        if name in f.evidence:
            return f.evidence[name]
        return f.org_no if name == "org_no" else None


# ---------------------------------------------------------------------------------------------
# Root causes through `depends on`
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CauseLink:
    """A root cause of a finding as found in the batch (before owners are resolved)."""

    root: Finding
    via: tuple[Finding, ...]
    relation: str
    keys: dict


def relation_fields(rule: Rule, upstream: Rule) -> tuple[str, ...]:
    """The fields that relate a finding of `rule` to findings of `upstream` on other records
    (docs/responsibility.md § Root cause), in order; () when only the same record relates."""
    def shared(names: Iterable[str]) -> tuple[str, ...]:
        return tuple(n for n in dict.fromkeys(names) if rule.kind.field(n) and upstream.kind.field(n))

    if rule.is_group_rule:
        return shared(rule.group_by)
    if upstream.is_group_rule:
        return shared(upstream.group_by)
    by = [k for w in rule.windows if w.kind.name == upstream.kind.name for k in w.by]
    if by:
        return shared(by)
    if rule.kind.name != upstream.kind.name and any(f.key for f in upstream.kind.fields):
        return shared(upstream.kind.key_fields)
    return ()


def same_record_possible(rule: Rule, upstream: Rule) -> bool:
    return rule.kind.name == upstream.kind.name and not rule.is_group_rule and not upstream.is_group_rule


class RootCauses:
    """Root causes of every finding of a batch: index upstream findings by (rule, key fields)."""

    def __init__(self, findings: Sequence[Finding], program: Program, lookup: RecordLookup):
        self.program, self.lookup = program, lookup
        self.by_rule: dict[str, list[Finding]] = defaultdict(list)
        for f in findings:
            if f.outcome != "passed":
                self.by_rule[f.rule].append(f)
        self._indexes: dict[tuple[str, tuple[str, ...]], dict[tuple, list[Finding]]] = {}
        self._roots: dict[str, list[CauseLink]] = {}
        self._order = {r.id: i for i, r in enumerate(program.rules)}

    def of(self, f: Finding) -> list[CauseLink]:
        """The root causes of `f`, deduplicated by root, shortest path first."""
        fid = finding_id(f)
        if fid not in self._roots:
            best: dict[str, CauseLink] = {}
            for link in self._walk(f):
                rid = finding_id(link.root)
                if rid not in best or len(link.via) < len(best[rid].via):
                    best[rid] = link
            self._roots[fid] = sorted(best.values(), key=self._sort_key)
        return self._roots[fid]

    def _sort_key(self, link: CauseLink):
        return len(link.via), link.relation != "same_record", self._order.get(link.root.rule, 0), link.root.record_key

    def _walk(self, f: Finding) -> Iterable[CauseLink]:
        for upstream, relation, keys in self.direct(f):
            further = self.of(upstream)
            if not further:
                yield CauseLink(upstream, (), relation, keys)
            for link in further:
                combined = "same_record" if relation == link.relation == "same_record" else "related_record"
                # the keys of the first hop that crosses to another record (else the record key)
                yield CauseLink(link.root, (upstream, *link.via), combined, keys if relation == "related_record" else link.keys)

    def direct(self, f: Finding) -> list[tuple[Finding, str, dict]]:
        """Findings of the rules `f`'s rule depends on, on the same or a related record."""
        rule = self.program.rule(f.rule)
        out: list[tuple[Finding, str, dict]] = []
        for upstream_id in rule.depends_on if rule is not None else ():
            upstream = self.program.rule(upstream_id)
            if upstream is None or not self.by_rule.get(upstream_id):
                continue
            same = self._same_record(f, rule, upstream)
            out += same
            out += [x for x in self._related(f, rule, upstream) if all(x[0] is not s[0] for s in same)]
        return out

    def _same_record(self, f: Finding, rule: Rule, upstream: Rule) -> list[tuple[Finding, str, dict]]:
        if not same_record_possible(rule, upstream):
            return []
        keys = {k: self.lookup.value(f, k) for k in rule.kind.key_fields}
        matches = self._index(upstream.id, ()).get((f.record_key,), [])
        return [(u, "same_record", keys) for u in matches]

    def _related(self, f: Finding, rule: Rule, upstream: Rule) -> list[tuple[Finding, str, dict]]:
        fields = relation_fields(rule, upstream)
        values = tuple(self.lookup.value(f, n) for n in fields)
        if not fields or None in values:
            return []
        matches = self._index(upstream.id, fields).get(values, [])
        return [(u, "related_record", dict(zip(fields, values))) for u in matches if u is not f]

    def _index(self, rule_id: str, fields: tuple[str, ...]) -> dict[tuple, list[Finding]]:
        """Findings of a rule by the values of `fields`; by record key when `fields` is ()."""
        key = (rule_id, fields)
        if key not in self._indexes:
            index: dict[tuple, list[Finding]] = defaultdict(list)
            for u in self.by_rule[rule_id]:
                values = tuple(self.lookup.value(u, n) for n in fields) if fields else (u.record_key,)
                if None not in values:
                    index[values].append(u)
            self._indexes[key] = index
        return self._indexes[key]


# ---------------------------------------------------------------------------------------------
# Deadlines and the escalation ladder
# ---------------------------------------------------------------------------------------------

def measure_deadline(deadline: Deadline | None, as_of: datetime | None, calendar: WorkdayCalendar,
                     field_value: Any = None, steps: int = 4) -> tuple[DeadlineInfo, list[tuple[Any, Any]]]:
    """The deadline measured from `as_of`, and (starts_at, due) for each escalation step.

    Step k of a measurable deadline is due k periods after `as_of` (workdays through the
    calendar, 调休 included); each step starts when the one before is due. `before FIELD` is a
    hard deadline shared by every step. Unmeasurable deadlines give None."""
    text = deadline.text if deadline else None
    if deadline is None or as_of is None or not _measurable(deadline, field_value):
        info = DeadlineInfo(text=text, basis="unmeasured", before_field=deadline.before_field if deadline else None,
                            note=_unmeasured_note(deadline, as_of))
        return info, [(as_of, None)] + [(None, None)] * (steps - 1)
    if deadline.workdays is not None:
        dues = [calendar.add_workdays(as_of, deadline.workdays * k) for k in range(1, steps + 1)]
        info = DeadlineInfo(text=text, basis="workdays", workdays=deadline.workdays, due=dues[0],
                            note=f"每级 {deadline.workdays} 个工作日（按工作日历，含调休），自评估时点起算")
    elif deadline.duration is not None:
        dues = [as_of + deadline.duration * k for k in range(1, steps + 1)]
        info = DeadlineInfo(text=text, basis="duration", duration=deadline.duration, due=dues[0],
                            note=f"每级 {_duration_words(deadline.duration)}，自评估时点起算")
    else:
        dues = [field_value] * steps
        info = DeadlineInfo(text=text, basis="before_field", before_field=deadline.before_field, due=field_value,
                            note=f"硬性期限：{deadline.before_field}（{field_value}）之前；逾期即逐级上报")
    return info, list(zip([as_of, *dues[:-1]], dues))


def _measurable(deadline: Deadline, field_value: Any) -> bool:
    if deadline.before_field is not None:
        return isinstance(field_value, (date, datetime))
    return deadline.workdays is not None or deadline.duration is not None


def _unmeasured_note(deadline: Deadline | None, as_of: datetime | None) -> str:
    if deadline is None:
        return "规则未规定整改期限"
    if as_of is None:
        return "缺少评估时点，无法计算期限"
    if deadline.before_field is not None:
        return f"记录的 {deadline.before_field} 为空，无法计算期限"
    return f"期限「{deadline.text}」无法换算为具体时间，请人工确定"


def _duration_words(d: timedelta) -> str:
    return duration_words(d) if d else "立即（0 分钟）"


# ---------------------------------------------------------------------------------------------
# Building chains
# ---------------------------------------------------------------------------------------------

class ChainBuilder:
    """Chains for findings of one program against one directory and calendar.

    Owner and supervisor resolutions are cached by (org_no, owner, date): a batch of a million
    findings resolves each distinct combination once."""

    def __init__(self, program: Program, directory: Directory, calendar: WorkdayCalendar,
                 records: Mapping[str, list[dict]] | None = None):
        self.program, self.directory, self.calendar = program, directory, calendar
        self.lookup = RecordLookup(program, records)
        self._owners: dict[tuple, OwnerAssignment | Unresolved] = {}

    # ---- people and units ----------------------------------------------------------------------
    def person(self, pid: str) -> PersonRef:
        p: Person | None = self.directory.person(pid)
        if p is None:
            return PersonRef(id=pid)
        return PersonRef(id=p.id, name=p.name, phone=p.phone, employee_no=p.employee_no)

    def unit(self, code: str) -> UnitRef:
        u: Unit = self.directory.units[code]
        return UnitRef(code=u.code, name=u.name, type=u.type)

    # ---- owner and supervisors -----------------------------------------------------------------
    def owner(self, org_no: str, owner_text: str, as_of: datetime | date) -> OwnerAssignment:
        """The owner resolved for a record of `org_no` (raises `Unresolved`)."""
        day = as_of.date() if isinstance(as_of, datetime) else as_of
        key = (org_no, owner_text, day)
        if key not in self._owners:
            try:
                self._owners[key] = self._assign(self.directory.resolve_owner(org_no, owner_text, day), owner_text)
            except Unresolved as err:
                self._owners[key] = err
        result = self._owners[key]
        if isinstance(result, Unresolved):
            raise result
        return result

    def _assign(self, res: OwnerResolution, text: str) -> OwnerAssignment:
        unit = self.directory.units[res.unit]
        dept = unit.department(res.department)
        return OwnerAssignment(
            text=text, unit=self.unit(res.unit), department=res.department, team=res.team, post=res.post,
            holders=[self.person(res.holder)] if res.holder else [], department_head=self.person(dept.head),
            leader_in_charge=self.person(unit.leader_in_charge), steps_up=res.steps_up)

    def supervisors(self, owner: OwnerAssignment, rule: Rule) -> list[SupervisorAssignment]:
        """The rule's supervisors resolved from the owner's unit (raises `Unresolved`)."""
        if rule.supervisor is None:
            return []
        res = OwnerResolution(owner.unit.code, owner.department, owner.team, owner.post, None)
        return [self._supervisor(s) for s in self.directory.resolve_supervisors(res, rule.supervisor.text)]

    def _supervisor(self, s: SupervisorResolution) -> SupervisorAssignment:
        dept = self.directory.units[s.unit].department(s.department)
        return SupervisorAssignment(role="cooperating" if s.cooperating else "primary", upper=s.upper,
                                    unit=self.unit(s.unit), department=s.department, head=self.person(s.head),
                                    supervises=list(dept.supervises))

    # ---- the chain -----------------------------------------------------------------------------
    def chain(self, f: Finding, causes: Sequence[CauseLink] = ()) -> ResponsibilityChain:
        rule = self.program.rule(f.rule)
        gaps: list[RoutingGap] = []
        units = self._units(f, gaps)
        owner = self._owner_or_gap(f, rule, units, gaps)
        supervisors = self._supervisors_or_gap(f, rule, owner, gaps)
        field_value = self.lookup.value(f, rule.deadline.before_field) if rule.deadline and rule.deadline.before_field else None
        deadline, times = measure_deadline(rule.deadline, f.as_of, self.calendar, field_value)
        return ResponsibilityChain(
            finding=FindingRef.of(f), as_of=f.as_of, directory=self.directory.title, measure=rule.measure,
            record_unit=units[0] if units else None, units=units, owner=owner, supervisors=supervisors,
            deadline=deadline, escalation=self._ladder(owner, supervisors, times), gaps=gaps,
            root_causes=[self.root_cause(link) for link in causes[:MAX_ROOT_CAUSES]], root_causes_total=len(causes))

    def _units(self, f: Finding, gaps: list[RoutingGap]) -> list[UnitRef]:
        if f.org_no is None:
            gaps.append(self._org_gap(f, "missing_org_no", "记录没有供电单位编号 (org_no)，无法确定责任单位"))
            return []
        if f.org_no not in self.directory.units:
            gaps.append(self._org_gap(f, "unknown_org_no", f"供电单位编号 {f.org_no} 不在组织目录中"))
            return []
        return [self.unit(u.code) for u in self.directory.chain(f.org_no)]

    def _org_gap(self, f: Finding, code: str, reason: str) -> RoutingGap:
        """A record that cannot be placed goes to the top unit's owning department head (who
        owns the function for the whole company), copied to the top unit's leader in charge."""
        rule = self.program.rule(f.rule)
        root = self.directory.root
        leader = self.person(root.leader_in_charge)
        try:
            at_root = self.owner(root.code, rule.owner.text, f.as_of or datetime.min)
        except Unresolved:
            return self._gap(f, code, reason + "；已转市公司分管领导", self.unit(root.code), deliver=[leader])
        return self._gap(f, code, reason + f"；已转{root.name}{at_root.department}负责人",
                         self.unit(root.code), department=at_root.department,
                         deliver=[at_root.department_head], copy=[leader])

    def _owner_or_gap(self, f: Finding, rule: Rule, units: list[UnitRef], gaps: list[RoutingGap]) -> OwnerAssignment | None:
        if not units:
            return None
        try:
            owner = self.owner(f.org_no, rule.owner.text, f.as_of or datetime.min)
        except Unresolved as err:
            leader = self.person(self.directory.units[f.org_no].leader_in_charge)
            gaps.append(self._gap(f, err.reason, f"{err}；已转本单位分管领导", units[0], deliver=[leader]))
            return None
        if owner.vacant:
            day = f.as_of.date() if f.as_of else "评估日"
            reason = (f"{owner.unit.name}「{OwnerRef(owner.department, owner.team, owner.post)}」岗位在 {day} 无人在岗；"
                      f"由部门负责人代收，抄送分管领导，请尽快补员或指定代理人")
            gaps.append(self._gap(f, "vacant_post", reason, owner.unit, owner.department, owner.team, owner.post,
                                  deliver=[owner.department_head], copy=[owner.leader_in_charge]))
        return owner

    def _supervisors_or_gap(self, f: Finding, rule: Rule, owner: OwnerAssignment | None,
                            gaps: list[RoutingGap]) -> list[SupervisorAssignment]:
        if owner is None:
            return []
        try:
            return self.supervisors(owner, rule)
        except Unresolved as err:
            gaps.append(self._gap(f, err.reason, f"{err}；督导环节缺失，已转责任单位分管领导", owner.unit,
                                  deliver=[owner.leader_in_charge]))
            return []

    def _gap(self, f: Finding, code: str, reason: str, unit: UnitRef | None, department: str | None = None,
             team: str | None = None, post: str | None = None, *, deliver: list[PersonRef],
             copy: list[PersonRef] = ()) -> RoutingGap:
        return RoutingGap(code=code, reason=reason, finding=FindingRef.of(f), as_of=f.as_of, org_no=f.org_no,
                          owner=f.owner, unit=unit, department=department, team=team, post=post,
                          deliver_to=deliver, copy_to=list(copy))

    def _ladder(self, owner: OwnerAssignment | None, supervisors: list[SupervisorAssignment],
                times: list[tuple[Any, Any]]) -> list[EscalationStep]:
        if owner is None:
            return []
        primary = [s for s in supervisors if s.role == "primary"]
        rungs: list[tuple[StepRole, UnitRef, str, list[PersonRef], list[PersonRef], str | None]] = [
            ("owner", owner.unit, owner.department, owner.holders or [owner.department_head], [],
             "岗位空缺，由部门负责人代收" if owner.vacant else None),
            ("department_head", owner.unit, owner.department, [owner.department_head], [], None),
            ("leader_in_charge", owner.unit, owner.department, [owner.leader_in_charge], [], None),
        ]
        if primary:
            cc = [s.head for s in supervisors if s.role == "cooperating"]
            rungs.append(("supervisor", primary[0].unit, primary[0].department, [primary[0].head], cc, None))
        return [EscalationStep(step=i + 1, role=role, title=STEP_TITLES[role], unit=unit, department=dept,
                               recipients=who, copy_to=cc, starts_at=times[i][0], due=times[i][1], note=note)
                for i, (role, unit, dept, who, cc, note) in enumerate(rungs)]

    def root_cause(self, link: CauseLink) -> RootCause:
        owner = None
        if link.root.org_no is not None:
            try:
                owner = self.owner(link.root.org_no, link.root.owner, link.root.as_of or datetime.min)
            except Unresolved:
                owner = None  # the upstream finding's own chain reports the gap
        return root_cause(link, owner)


def root_cause(link: CauseLink, owner: OwnerAssignment | None = None) -> RootCause:
    """A batch's cause link as the contract's `RootCause` (owner resolved by the caller, if any)."""
    return RootCause(finding=FindingRef.of(link.root), relation=link.relation, keys=link.keys,
                     via=[FindingRef.of(v) for v in link.via], owner_text=link.root.owner, owner=owner)


def build_chains(findings: Iterable[Finding], program: Program, directory: Directory, calendar: WorkdayCalendar,
                 records: Mapping[str, list[dict]] | None = None) -> list[ResponsibilityChain]:
    """One chain per fired or undetermined finding of a run, in the order given.

    `records` (kind → typed records, e.g. `runner.Run.records`) lets root causes relate records
    by fields a finding's evidence does not show, and `before FIELD` deadlines read the field;
    without it, group keys and evidence are used."""
    wanted = [f for f in findings if f.outcome != "passed"]
    builder = ChainBuilder(program, directory, calendar, records)
    causes = RootCauses(wanted, program, builder.lookup)
    return [builder.chain(f, causes.of(f)) for f in wanted]


def routing_gaps(chains: Iterable[ResponsibilityChain]) -> list[RoutingGap]:
    """Every routing gap of the chains, in order."""
    return [g for c in chains for g in c.gaps]
