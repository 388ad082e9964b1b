"""The checked model: what a set of rulebook files means, resolved and typed, immutable.

The checker builds it from AST modules; the graph, the planner and every backend read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from . import ir
from .schema import RecordKind
from .source import Source, Span
from .types import EnumType, Type

LEVELS = ("一级", "二级", "三级", "四级")
LEVEL_COLOURS = {"一级": "红", "二级": "橙", "三级": "黄", "四级": "蓝"}


@dataclass(frozen=True)
class RulebookInfo:
    name: str
    title: str
    version: str
    effective: date | None
    path: str
    is_module: bool = False


@dataclass(frozen=True)
class Fact:
    """A named value; `kind` None means it does not depend on a record (it may use as_of)."""

    name: str
    kind: str | None
    value: ir.Node
    span: Span | None = field(default=None, compare=False)
    uses: tuple[Fact, ...] = field(default=(), compare=False)  # facts it needs, in evaluation order

    @property
    def type(self) -> Type:
        return self.value.type


@dataclass(frozen=True)
class Link:
    """A risk link (风险环节); `order` is its place in the business process."""

    id: str
    title: str
    order: int | None
    category: str
    rulebook: str
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Owner:
    """`营销部(客户服务中心) / 客户服务班 / 工单处理专责`: department, then team and post."""

    text: str
    parts: tuple[str, ...]

    @property
    def department(self) -> str:
        return self.parts[0]

    @property
    def post(self) -> str:
        return self.parts[-1]


@dataclass(frozen=True)
class SupervisorEntry:
    role: str  # "上级" (supervises) or "协同" (co-supervises)
    upper: bool  # supervised from the level above (上级)
    department: str


@dataclass(frozen=True)
class Supervisor:
    text: str
    entries: tuple[SupervisorEntry, ...]


@dataclass(frozen=True)
class Deadline:
    """The rectification deadline as written, with its measurable part when it has one."""

    text: str
    duration: timedelta | None = None
    workdays: int | None = None
    before_field: str | None = None


@dataclass(frozen=True)
class WindowRange:
    """`field` of the scanned rows must lie between `low` and `high` (None: unbounded)."""

    field: str
    low: ir.Node | None
    high: ir.Node | None
    low_closed: bool = True
    high_closed: bool = True


@dataclass(frozen=True)
class Window:
    """Rows of `kind` whose `by` fields equal the subject's, filtered by `where` and `range`."""

    index: int
    kind: RecordKind
    by: tuple[str, ...]
    where: ir.Node | None
    range: WindowRange | None
    aggregates: tuple[tuple[str, ir.Node], ...]
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True)
class TestCase:
    """A test beside a rule: records given, the outcome (and missing fields) expected."""

    name: str
    as_of: datetime | None
    records: tuple[tuple[str, dict], ...]
    subject: int  # index into records of the record (or group) under test
    outcome: str
    missing: tuple[str, ...]
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    rulebook: RulebookInfo
    kind: RecordKind
    group_by: tuple[str, ...]
    category: str
    link: Link | None
    level: str
    owner: Owner
    supervisor: Supervisor | None
    measure: str
    deadline: Deadline | None
    source: str
    tags: tuple[str, ...]
    depends_on: tuple[str, ...]
    windows: tuple[Window, ...]
    facts: tuple[Fact, ...]  # facts the rule uses, in evaluation order
    lets: tuple[tuple[str, ir.Node], ...]
    condition: ir.Node
    empty_means_undetermined: tuple[str, ...]
    tests: tuple[TestCase, ...]
    span: Span | None = field(default=None, compare=False)

    @property
    def is_group_rule(self) -> bool:
        return bool(self.group_by)

    @property
    def uses_as_of(self) -> bool:
        nodes = [self.condition, *(v for _, v in self.lets), *(f.value for f in self.facts)]
        for w in self.windows:
            nodes += [v for _, v in w.aggregates]
            nodes += [n for n in (w.where, w.range and w.range.low, w.range and w.range.high) if n is not None]
        return any(isinstance(n, ir.AsOf) for root in nodes for n in ir.walk(root))


@dataclass(frozen=True)
class Program:
    """Everything loaded in one run: every file, its declarations and its rules."""

    rulebooks: tuple[RulebookInfo, ...]
    kinds: dict[str, RecordKind]
    enums: dict[str, EnumType]
    facts: dict[str, Fact]
    links: dict[str, Link]
    rules: tuple[Rule, ...]
    sources: dict[str, Source] = field(default_factory=dict, compare=False)

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)
