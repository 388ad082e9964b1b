"""The syntax tree of a rulebook file: frozen nodes that carry their source span.

Spans are left out of equality (`compare=False`) so two parses of differently formatted
text compare equal when they say the same thing. No behaviour beyond structure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterator, Union

from .source import Span

_span = field(default=None, compare=False, repr=False)


# ---- expressions ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Literal:
    """A constant: `tag` is number, string, date, datetime, bool or empty."""

    value: object
    tag: str
    span: Span | None = _span


@dataclass(frozen=True)
class DurationLit:
    """`45 min`, `3 workdays`, `2 months`: `unit` is normalised (minutes, hours, days, ...)."""

    amount: Decimal
    unit: str
    span: Span | None = _span


@dataclass(frozen=True)
class Name:
    name: str
    span: Span | None = _span


@dataclass(frozen=True)
class Attr:
    """`obj.name`: a field of `this` (the record under test) or of a record."""

    obj: Expr
    name: str
    span: Span | None = _span


@dataclass(frozen=True)
class Call:
    """`func(args)`; `star` for `count(*)`."""

    func: str
    args: tuple[Expr, ...]
    star: bool = False
    span: Span | None = _span


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "not"
    operand: Expr
    span: Span | None = _span


@dataclass(frozen=True)
class Binary:
    """Arithmetic (+ - * /), comparison (== != < <= > >=), `and`, `or` and `??`."""

    op: str
    left: Expr
    right: Expr
    span: Span | None = _span


@dataclass(frozen=True)
class IsEmpty:
    operand: Expr
    negated: bool = False
    span: Span | None = _span


@dataclass(frozen=True)
class InList:
    operand: Expr
    items: tuple[Expr, ...]
    negated: bool = False
    span: Span | None = _span


@dataclass(frozen=True)
class ListLit:
    items: tuple[Expr, ...]
    span: Span | None = _span


@dataclass(frozen=True)
class MatchArm:
    """`A | B => value`; an empty `patterns` tuple is the `else` arm."""

    patterns: tuple[Expr, ...]
    value: Expr
    span: Span | None = _span


@dataclass(frozen=True)
class Match:
    subject: Expr
    arms: tuple[MatchArm, ...]
    span: Span | None = _span


Expr = Union[Literal, DurationLit, Name, Attr, Call, Unary, Binary, IsEmpty, InList, ListLit, Match]


# ---- declarations ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RulebookHeader:
    name: str
    title: str = ""
    version: str = ""
    effective: object = None  # datetime.date
    is_module: bool = False
    span: Span | None = _span


@dataclass(frozen=True)
class Import:
    path: str
    span: Span | None = _span


@dataclass(frozen=True)
class Member:
    name: str
    span: Span | None = _span


@dataclass(frozen=True)
class EnumDecl:
    name: str
    members: tuple[Member, ...]
    span: Span | None = _span


@dataclass(frozen=True)
class NamedType:
    name: str
    span: Span | None = _span


@dataclass(frozen=True)
class InlineEnum:
    members: tuple[Member, ...]
    span: Span | None = _span


@dataclass(frozen=True)
class ListType:
    item: TypeRef
    span: Span | None = _span


TypeRef = Union[NamedType, InlineEnum, ListType]


@dataclass(frozen=True)
class FieldDecl:
    name: str
    type: TypeRef
    optional: bool = False
    key: bool = False
    label: str = ""
    span: Span | None = _span


@dataclass(frozen=True)
class RecordDecl:
    name: str
    label: str
    fields: tuple[FieldDecl, ...]
    span: Span | None = _span


@dataclass(frozen=True)
class FactDecl:
    """`fact name [on kind] [: type] = expr`: a named value reusable across rules."""

    name: str
    kind: str | None
    type: TypeRef | None
    value: Expr
    span: Span | None = _span


@dataclass(frozen=True)
class LinkDecl:
    """A risk link (风险环节) of the business process."""

    id: str
    title: str = ""
    order: int | None = None
    category: str = ""
    span: Span | None = _span


@dataclass(frozen=True)
class FieldValue:
    name: str
    value: Expr
    span: Span | None = _span


@dataclass(frozen=True)
class DefaultsDecl:
    """`defaults ticket { ... }`: values every test record of that kind starts from."""

    kind: str
    values: tuple[FieldValue, ...]
    span: Span | None = _span


# ---- rules ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Subject:
    kind: str
    group_by: tuple[Name, ...] = ()
    span: Span | None = _span


@dataclass(frozen=True)
class Meta:
    """A metadata line: `owner 营销部 / 客户服务班 / 工单处理专责`."""

    key: str
    value: str
    quoted: bool = False
    span: Span | None = _span


@dataclass(frozen=True)
class RuleRef:
    id: str
    span: Span | None = _span


@dataclass(frozen=True)
class DependsOn:
    rules: tuple[RuleRef, ...]
    span: Span | None = _span


@dataclass(frozen=True)
class Interval:
    """`field in [lo, hi]` (brackets say whether each end is included)."""

    field: Name
    low: Expr
    high: Expr
    low_closed: bool = True
    high_closed: bool = True
    span: Span | None = _span


@dataclass(frozen=True)
class Bound:
    """`field <op> value`, e.g. `period == this.period - 1 month`."""

    field: Name
    op: str
    value: Expr
    span: Span | None = _span


Range = Union[Interval, Bound]


@dataclass(frozen=True)
class Let:
    name: str
    value: Expr
    span: Span | None = _span


@dataclass(frozen=True)
class Window:
    """Aggregates over records of a kind sharing key fields with the record under test."""

    over: Name | None
    by: tuple[Name, ...]
    where: Expr | None
    within: Range | None
    aggregates: tuple[Let, ...]
    span: Span | None = _span


@dataclass(frozen=True)
class When:
    condition: Expr
    span: Span | None = _span


@dataclass(frozen=True)
class EmptyMeans:
    """`empty category, cons_no means undetermined`: the rule says what an empty field means."""

    names: tuple[Name, ...]
    span: Span | None = _span


@dataclass(frozen=True)
class Given:
    kind: str
    values: tuple[FieldValue, ...]
    span: Span | None = _span


@dataclass(frozen=True)
class Expect:
    outcome: str
    missing: tuple[Name, ...] = ()
    span: Span | None = _span


@dataclass(frozen=True)
class TestAsOf:
    value: Expr
    span: Span | None = _span


@dataclass(frozen=True)
class TestDecl:
    name: str
    items: tuple[TestAsOf | Given | Expect, ...]
    span: Span | None = _span


RuleItem = Union[Subject, Meta, DependsOn, Window, Let, When, EmptyMeans, TestDecl]


@dataclass(frozen=True)
class RuleDecl:
    id: str
    title: str
    items: tuple[RuleItem, ...]
    span: Span | None = _span

    def of_type(self, cls: type) -> Iterator:
        return (item for item in self.items if isinstance(item, cls))


Decl = Union[Import, EnumDecl, RecordDecl, FactDecl, LinkDecl, DefaultsDecl, RuleDecl]


@dataclass(frozen=True)
class Comment:
    """A `# ...` comment, kept for the formatter (syntax/printer.py); never part of meaning.

    `anchor` is the node it annotates (None: the file itself) and `place` where it belongs:
    "before" (own lines above the anchor), "after" (end of the anchor's last line), "head"
    (end of the anchor's first line, e.g. after `rule R-1 "..." {`) or "end" (own lines before
    the anchor's closing `}`, or at the end of the file). Set by syntax/builder.py.
    """

    text: str
    span: Span
    own_line: bool  # nothing but spaces before it on its line
    anchor: object = field(default=None, compare=False, repr=False)
    place: str = "before"


@dataclass(frozen=True)
class Module:
    """One parsed rulebook file. `comments` (in source order) and `blank_lines` (line numbers)
    are layout, like spans: left out of equality."""

    path: str
    header: RulebookHeader | None
    decls: tuple[Decl, ...]
    span: Span | None = _span
    comments: tuple[Comment, ...] = field(default=(), compare=False, repr=False)
    blank_lines: frozenset[int] = field(default=frozenset(), compare=False, repr=False)


def walk(expr: Expr) -> Iterator[Expr]:
    """Every expression node below and including `expr`, parents first."""
    yield expr
    for child in children(expr):
        yield from walk(child)


def children(expr: Expr) -> tuple[Expr, ...]:
    match expr:
        case Attr(obj=obj):
            return (obj,)
        case Call(args=args) | ListLit(items=args):
            return args
        case Unary(operand=operand) | IsEmpty(operand=operand):
            return (operand,)
        case Binary(left=left, right=right):
            return (left, right)
        case InList(operand=operand, items=items):
            return (operand, *items)
        case Match(subject=subject, arms=arms):
            return (subject, *(p for arm in arms for p in arm.patterns), *(arm.value for arm in arms))
    return ()
