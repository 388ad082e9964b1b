"""Semantic diff of two checked programs: what a rulebook change means, formatting ignored.

`diff(old, new)` compares two `Program`s, never their text: rules are matched by id, and every
aspect of a rule (metadata, condition, lets, windows, facts used, tests) is compared by value
with source spans, file paths and derived data (`empty_by`, an enum's member list) left out, so
reformatting, comments, reordering and `2 h` written as `120 min` are no change. What differs is
reported as typed `Change`s whose texts are printed back from the IR in the rulebook language
(`IRPrinter`) and, for conditions, also said in the officer's words (describe.py).

A constant that changed in an otherwise identical expression is a **threshold** change
(`2 hours → 3 hours`), reported with the comparison around it. A rule that disappeared under one
id and reappeared identical under another is a renamed id. Declarations (rulebook headers,
record kinds, enums, facts, links) are diffed too: a changed field type or enum member shows
there, not as a change of every condition that reads the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Callable, Iterator

from . import ir
from .describe import Describer, window_words
from .model import Fact, Link, Program, Rule, RulebookInfo, TestCase, Window
from .schema import Field, RecordKind
from .types import EnumType, Kind, Type
from .values import CalendarDuration, Month

# ---- the result ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One aspect of a rule or declaration that changed; texts are None where a side has none.

    `part` says where (`when`, `let limit`, `window 1 where`, `fact 到场`, a test's name); for a
    threshold `old`/`new` are the constants and `context` the enclosing comparison before and
    after. `words` says `old`/`new` (or the context) in the officer's words when it can.
    """

    aspect: str
    old: str | None
    new: str | None
    part: str = ""
    context: tuple[str, str] | None = None
    words: tuple[str, str] | None = None


@dataclass(frozen=True)
class RuleInfo:
    """An added or removed rule, as a reviewer needs to see it."""

    id: str
    title: str
    rulebook: str
    subject: str
    level: str
    owner: str
    condition: str
    words: str
    location: str
    clauses: tuple[str, ...] = ()  # its windows and lets, as written before `when`


@dataclass(frozen=True)
class IdRename:
    """A rule whose id changed while everything else stayed identical."""

    old_id: str
    new_id: str
    title: str
    location: str


@dataclass(frozen=True)
class RuleChange:
    id: str
    title: str
    location: str
    changes: tuple[Change, ...]

    @property
    def retitled(self) -> bool:
        return any(c.aspect == "title" for c in self.changes)


@dataclass(frozen=True)
class DeclChange:
    """A rulebook header, record kind, enum, fact or link that was added, removed or changed."""

    what: str  # "rulebook", "record", "enum", "fact", "link"
    name: str
    status: str  # "added", "removed", "changed"
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class RulebookDiff:
    added: tuple[RuleInfo, ...]
    removed: tuple[RuleInfo, ...]
    renamed: tuple[IdRename, ...]
    changed: tuple[RuleChange, ...]
    declarations: tuple[DeclChange, ...]

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.removed or self.renamed or self.changed or self.declarations)

    @property
    def id_map(self) -> dict[str, str]:
        """Old rule id → new rule id, for the rules whose id was renamed."""
        return {r.old_id: r.new_id for r in self.renamed}

    def counts(self) -> dict[str, int]:
        return {"added": len(self.added), "removed": len(self.removed), "renamed": len(self.renamed),
                "changed": len(self.changed), "retitled": sum(c.retitled for c in self.changed),
                "declarations": len(self.declarations)}


# ---- comparing by meaning -------------------------------------------------------------------------

# Spans and paths are where text stood; `empty_by` is derived from the declarations (an optional
# field), which are diffed on their own. Record kinds and enums are compared by name for the same
# reason: a new enum member is one declaration change, not a change of every condition.
_IGNORED = frozenset({"span", "path", "empty_by"})


def key(value: object, shape: bool = False) -> object:
    """`value`'s meaning as nested tuples; with `shape`, constants count only by position."""
    if isinstance(value, (EnumType, RecordKind)):
        return (type(value).__name__, value.name)
    if isinstance(value, ir.Const) and shape:
        return ("Const",)
    if is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, *(key(getattr(value, f.name), shape) for f in fields(value)
                                        if f.compare and f.name not in _IGNORED))
    if isinstance(value, (tuple, list)):
        return tuple(key(v, shape) for v in value)
    if isinstance(value, (set, frozenset)):
        return tuple(sorted(map(repr, value)))
    if isinstance(value, dict):
        return tuple(sorted((str(k), key(v, shape)) for k, v in value.items()))
    return (type(value).__name__, value) if isinstance(value, bool) else value


def same(a: object, b: object) -> bool:
    return key(a) == key(b)


# ---- IR → rulebook text -----------------------------------------------------------------------------

_PREC = {"or": 1, "and": 2, "not": 3, "compare": 4, "??": 5, "add": 6, "sub": 6, "mul": 7, "div": 7, "neg": 8}
_OPS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "add": "+", "sub": "-", "mul": "*",
        "div": "/", "and": "and", "or": "or"}
COMPARISONS = frozenset({"eq", "ne", "lt", "le", "gt", "ge"})
_ATOM = 9
_IDENT = re.compile(r"[^\W\d]\w*")
_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "empty", "true", "false", "match", "else", "as_of", "this"})
_UNITS = ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second"))


class IRPrinter:
    """Print a checked expression back as rulebook text (minimal parentheses, canonical units).

    Inside a window (`in_window`) fields of the record under test print as `this.field`.
    """

    def __init__(self, in_window: bool = False, spelled: dict[int, str] | None = None):
        self.in_window = in_window
        self.spelled = spelled or {}  # id(constant) → its text, to show a changed constant as reported

    def text(self, node: ir.Node) -> str:
        return self._print(node)[0]

    def _print(self, node: ir.Node) -> tuple[str, int]:
        return getattr(self, f"_{type(node).__name__}")(node)

    def _at(self, node: ir.Node, least: int) -> str:
        text, prec = self._print(node)
        return f"({text})" if prec < least else text

    def _Const(self, n: ir.Const) -> tuple[str, int]:
        text = self.spelled.get(id(n)) or literal(n.value, n.type.kind)
        return text, (_PREC["neg"] if text.startswith("-") else _ATOM)

    def _FieldRef(self, n: ir.FieldRef) -> tuple[str, int]:
        return ("this." + n.name if self.in_window and n.scope == "this" else n.name), _ATOM

    def _LetRef(self, n: ir.LetRef) -> tuple[str, int]:
        return n.name, _ATOM

    def _AsOf(self, n: ir.AsOf) -> tuple[str, int]:
        return "as_of", _ATOM

    def _Unary(self, n: ir.Unary) -> tuple[str, int]:
        if n.op == "not":
            return "not " + self._at(n.operand, _PREC["not"]), _PREC["not"]
        return "-" + self._at(n.operand, _PREC["neg"]), _PREC["neg"]

    def _Binary(self, n: ir.Binary) -> tuple[str, int]:
        if n.op in COMPARISONS:  # `(a ?? b) > c` keeps its parentheses: without them it reads wrong
            least = _PREC["??"] + 1
            return f"{self._at(n.left, least)} {_OPS[n.op]} {self._at(n.right, least)}", _PREC["compare"]
        prec = _PREC[n.op]
        right_least, left_least = prec + 1, prec
        return f"{self._at(n.left, left_least)} {_OPS[n.op]} {self._at(n.right, right_least)}", prec

    def _Coalesce(self, n: ir.Coalesce) -> tuple[str, int]:
        return f"{self._at(n.left, _PREC['??'])} ?? {self._at(n.right, _PREC['??'] + 1)}", _PREC["??"]

    def _IsEmpty(self, n: ir.IsEmpty) -> tuple[str, int]:
        return f"{self._at(n.operand, _PREC['??'] + 1)} is {'not ' * n.negated}empty", _PREC["compare"]

    def _InList(self, n: ir.InList) -> tuple[str, int]:
        items = ", ".join(self.text(i) for i in n.items)
        return f"{self._at(n.operand, _PREC['??'] + 1)} {'not ' * n.negated}in ({items})", _PREC["compare"]

    def _Call(self, n: ir.Call) -> tuple[str, int]:
        if n.func == "add_workdays" and isinstance(n.args[1], ir.Const) and isinstance(n.args[1].value, int):
            days = n.args[1].value  # the checker's desugaring of `t + N workdays`
            sign = "-" if days < 0 else "+"
            return f"{self._at(n.args[0], _PREC['add'])} {sign} {workdays(abs(days))}", _PREC["add"]
        return f"{n.func}({', '.join(self.text(a) for a in n.args)})", _ATOM

    def _Case(self, n: ir.Case) -> tuple[str, int]:
        arms = [" | ".join(self.text(p) for p in pats) + " => " + self.text(v) for pats, v in n.arms]
        if n.default is not None:
            arms.append("else => " + self.text(n.default))
        return f"match {self.text(n.subject)} {{ {', '.join(arms)} }}", _ATOM

    def _Aggregate(self, n: ir.Aggregate) -> tuple[str, int]:
        return f"{n.func}({'*' if n.arg is None else self.text(n.arg)})", _ATOM

    def _ListConst(self, n: ir.ListConst) -> tuple[str, int]:
        if not n.items:
            return "[]", _ATOM
        items = ", ".join(self.text(i) for i in n.items)
        return f"({items}{',' if len(n.items) == 1 else ''})", _ATOM


def literal(value: object, kind: Kind | None = None) -> str:
    """A value as the rulebook language writes it (`2 hours`, `"2026-03"`, `安全隐患`, `"停电"`)."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, timedelta):
        return duration(value)
    if isinstance(value, CalendarDuration):
        n, unit = (value.months // 12, "year") if value.months % 12 == 0 and value.months else (value.months, "month")
        return f"{n} {unit}{'s' * (abs(n) != 1)}"
    if isinstance(value, Month):
        return f'"{value}"'
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds" if value.second else "minutes")
    if isinstance(value, (date, Decimal, int)):
        return str(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    text = str(value)
    if kind is Kind.ENUM and _IDENT.fullmatch(text) and text not in _KEYWORDS:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def duration(d: timedelta) -> str:
    seconds = d.total_seconds()
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    for size, unit in _UNITS:
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"{sign}{n} {unit}{'s' * (n != 1)}"
    return f"{sign}{seconds:g} seconds"


def workdays(n: int) -> str:
    return f"{n} workday{'s' * (n != 1)}"


# ---- the parts of a rule that hold expressions -----------------------------------------------------


@dataclass(frozen=True)
class _Part:
    """An expression of a rule, named for the report; `line` is its whole clause as text."""

    aspect: str  # "condition", "let", "window", "fact"
    label: str
    node: ir.Node
    printer: IRPrinter
    describer: Describer
    line: str


def _expression_parts(rule: Rule) -> dict[str, _Part]:
    words = Describer(rule.kind)
    plain = IRPrinter()
    parts = {f"let {name}": _Part("let", f"let {name}", node, plain, words, f"let {name} = {plain.text(node)}")
             for name, node in rule.lets}
    parts["when"] = _Part("condition", "when", rule.condition, plain, words, "when " + plain.text(rule.condition))
    return parts


def _window_parts(rule: Rule, w: Window, number: int) -> dict[str, _Part]:
    """A window's clauses (where, within bounds, computed results), each with its clause as text."""
    printer, words = IRPrinter(in_window=True), Describer(rule.kind, w.kind)
    clauses: list[tuple[str, ir.Node, str]] = []
    if w.where is not None:
        clauses.append(("where", w.where, "where " + printer.text(w.where)))
    r = w.range
    if r is not None:
        within = "within " + _range_text(w, printer)
        bounds = [("within", r.low)] if r.low is not None and r.low is r.high else \
            [(name, b) for name, b in (("within low", r.low), ("within high", r.high)) if b is not None]
        clauses += [(name, b, within) for name, b in bounds]
    clauses += [(name, value, f"compute {name} = {printer.text(value)}") for name, value in w.aggregates]
    return {f"window {number} {name}": _Part("window", f"window {number} {name}", node, printer, words, line)
            for name, node, line in clauses}


def _window_frame(w: Window) -> object:
    """What must match for two windows to be compared clause by clause."""
    r = w.range
    frame = (w.kind.name, w.by, w.where is None, tuple(name for name, _ in w.aggregates))
    if r is None:
        return frame
    return (*frame, r.field, r.low is None, r.high is None, r.low is r.high, r.low_closed, r.high_closed)


def window_text(rule: Rule, w: Window) -> str:
    p = IRPrinter(in_window=True)
    out = ["window"]
    if not rule.is_group_rule:
        out += [f"over {w.kind.name}"] + ([f"by {', '.join(w.by)}"] if w.by else [])
    if w.where is not None:
        out.append("where " + p.text(w.where))
    if w.range is not None:
        out.append("within " + _range_text(w, p))
    out.append("compute " + ", ".join(f"{name} = {p.text(v)}" for name, v in w.aggregates))
    return " ".join(out)


def _range_text(w: Window, p: IRPrinter) -> str:
    r = w.range
    if r.low is not None and r.low is r.high:
        return f"{r.field} == {p.text(r.low)}"
    if r.low is not None and r.high is not None:
        return f"{r.field} in {'[' if r.low_closed else '('}{p.text(r.low)}, {p.text(r.high)}{']' if r.high_closed else ')'}"
    if r.low is not None:
        return f"{r.field} {'>=' if r.low_closed else '>'} {p.text(r.low)}"
    return f"{r.field} {'<=' if r.high_closed else '<'} {p.text(r.high)}"


def _fact_part(fact: Fact, describer: Describer) -> _Part:
    p = IRPrinter()
    head = f"fact {fact.name}" + (f" on {fact.kind}" if fact.kind else "")
    return _Part("fact", f"fact {fact.name}", fact.value, p, describer, f"{head} = {p.text(fact.value)}")


# ---- comparing expressions --------------------------------------------------------------------------


def compare_parts(old: _Part, new: _Part) -> list[Change]:
    """Nothing when equal; thresholds when only constants moved; else the whole clause."""
    if same(old.node, new.node):
        return []
    if key(old.node, shape=True) == key(new.node, shape=True):
        return list(_thresholds(old, new))
    words = (old.describer.say(old.node), new.describer.say(new.node))
    return [Change(old.aspect, old.printer.text(old.node), new.printer.text(new.node), old.label, words=words)]


def _thresholds(old: _Part, new: _Part) -> Iterator[Change]:
    for a, b, around_a, around_b, parent in _const_pairs(old.node, new.node, None, None, None):
        if same(a, b):
            continue
        aspect = "threshold" if a.type.kind in _MEASURES else "constant"
        text_a, text_b = _const_texts(a, b, parent)
        if around_a is None:
            context, words = (old.line, new.line), None
        else:
            context = (_clause_text(_spelling(old.printer, a, text_a), around_a),
                       _clause_text(_spelling(new.printer, b, text_b), around_b))
            words = (_clause_words(old.describer, around_a), _clause_words(new.describer, around_b))
        if context == (text_a, text_b):
            context = None
        yield Change(aspect, text_a, text_b, old.label, context, words)


def _spelling(printer: IRPrinter, const: ir.Const, text: str) -> IRPrinter:
    return IRPrinter(printer.in_window, {id(const): text})


_MEASURES = frozenset({Kind.INT, Kind.DECIMAL, Kind.MONEY, Kind.NUMBER, Kind.DURATION, Kind.DATE, Kind.DATETIME, Kind.MONTH})
_CLAUSES = (ir.InList, ir.IsEmpty)


@dataclass(frozen=True)
class _Arm:
    """One arm of a `match` (no patterns: the `else` arm): the context of a constant inside it."""

    patterns: tuple[ir.Node, ...]
    value: ir.Node


def _const_pairs(a: ir.Node, b: ir.Node, around_a, around_b, parent) -> Iterator[tuple]:
    """Constants at the same place of two same-shaped trees, with the clause each stands in."""
    if isinstance(a, ir.Const):
        yield a, b, around_a, around_b, parent
        return
    if isinstance(a, ir.Case):
        yield from _const_pairs(a.subject, b.subject, around_a, around_b, a)
        for arm_a, arm_b in zip(_arms(a), _arms(b)):
            for x, y in zip((*arm_a.patterns, arm_a.value), (*arm_b.patterns, arm_b.value)):
                yield from _const_pairs(x, y, arm_a, arm_b, a)
        return
    if isinstance(a, _CLAUSES) or (isinstance(a, ir.Binary) and a.op in COMPARISONS):
        around_a, around_b = a, b
    for x, y in zip(ir.children(a), ir.children(b)):
        yield from _const_pairs(x, y, around_a, around_b, a)


def _arms(case: ir.Case) -> list[_Arm]:
    return [_Arm(p, v) for p, v in case.arms] + ([_Arm((), case.default)] if case.default is not None else [])


def _clause_text(printer: IRPrinter, around: ir.Node | _Arm) -> str:
    if isinstance(around, _Arm):
        patterns = " | ".join(printer.text(p) for p in around.patterns) or "else"
        return f"{patterns} => {printer.text(around.value)}"
    return printer.text(around)


def _clause_words(describer: Describer, around: ir.Node | _Arm) -> str:
    if isinstance(around, _Arm):
        patterns = "、".join(describer.say(p) for p in around.patterns)
        return f"{patterns}时为{describer.say(around.value)}" if patterns else f"其他为{describer.say(around.value)}"
    return describer.say(around)


def _const_texts(a: ir.Const, b: ir.Const, parent: ir.Node | None) -> tuple[str, str]:
    """Two constants as text; durations in one unit (`45 minutes → 60 minutes`, not `→ 1 hour`)."""
    if isinstance(parent, ir.Call) and parent.func == "add_workdays" and isinstance(a.value, int):
        return workdays(a.value), workdays(b.value)
    if isinstance(a.value, timedelta) and isinstance(b.value, timedelta):
        common = [(s, u) for s, u in _UNITS if a.value.total_seconds() % s == 0 == b.value.total_seconds() % s]
        if common:
            return _in_unit(a.value, *common[0]), _in_unit(b.value, *common[0])
    return literal(a.value, a.type.kind), literal(b.value, b.type.kind)


def _in_unit(d: timedelta, size: int, unit: str) -> str:
    n = int(d.total_seconds() // size)
    return f"{n} {unit}{'s' * (abs(n) != 1)}"


# ---- metadata ------------------------------------------------------------------------------------


def _link_text(link: Link | None) -> str:
    return "" if link is None else (link.id if link.title in ("", link.id) else f"{link.id} {link.title}")


def subject_text(rule: Rule) -> str:
    return rule.kind.name + (f" group by {', '.join(rule.group_by)}" if rule.group_by else "")


# aspect → (what is compared, how it is shown); an empty text means "not written"
_META: dict[str, tuple[Callable[[Rule], object], Callable[[Rule], str]]] = {
    "title": (lambda r: r.title, lambda r: r.title),
    "rulebook": (lambda r: r.rulebook.name, lambda r: r.rulebook.name),
    "subject": (lambda r: (r.kind.name, r.group_by), subject_text),
    "category": (lambda r: r.category, lambda r: r.category),
    "link": (lambda r: r.link and r.link.id, lambda r: _link_text(r.link)),
    "level": (lambda r: r.level, lambda r: r.level),
    "owner": (lambda r: r.owner.parts, lambda r: r.owner.text),
    "supervisor": (lambda r: r.supervisor and r.supervisor.entries, lambda r: r.supervisor.text if r.supervisor else ""),
    "deadline": (lambda r: key(r.deadline), lambda r: r.deadline.text if r.deadline else ""),
    "measure": (lambda r: r.measure, lambda r: r.measure),
    "source": (lambda r: r.source, lambda r: r.source),
    "tags": (lambda r: sorted(r.tags), lambda r: ", ".join(r.tags)),
    "depends_on": (lambda r: sorted(r.depends_on), lambda r: ", ".join(r.depends_on)),
    "empty": (lambda r: sorted(r.empty_means_undetermined), lambda r: ", ".join(r.empty_means_undetermined)),
}


def _meta_changes(old: Rule, new: Rule) -> list[Change]:
    return [Change(aspect, show(old) or None, show(new) or None)
            for aspect, (value, show) in _META.items() if value(old) != value(new)]


# ---- rules ---------------------------------------------------------------------------------------


def rule_changes(old: Rule, new: Rule) -> list[Change]:
    """Every aspect of a rule that changed, in the order a reviewer reads a rule."""
    changes = _meta_changes(old, new)
    changes += _windows_changes(old, new)
    changes += _parts_changes(_expression_parts(old), _expression_parts(new))
    changes += _facts_changes(old, new)
    changes += _tests_changes(old.tests, new.tests)
    return changes


def _parts_changes(old: dict[str, _Part], new: dict[str, _Part]) -> list[Change]:
    out: list[Change] = []
    for label in [*old, *(n for n in new if n not in old)]:
        a, b = old.get(label), new.get(label)
        if a is not None and b is not None:
            out += compare_parts(a, b)
        else:
            p = a or b
            text = p.printer.text(p.node)
            out.append(Change(p.aspect, text if a else None, text if b else None, label))
    return out


def _windows_changes(old: Rule, new: Rule) -> list[Change]:
    out: list[Change] = []
    for number in range(1, max(len(old.windows), len(new.windows)) + 1):
        a = old.windows[number - 1] if number <= len(old.windows) else None
        b = new.windows[number - 1] if number <= len(new.windows) else None
        if a is not None and b is not None and _window_frame(a) == _window_frame(b):
            out += _parts_changes(_window_parts(old, a, number), _window_parts(new, b, number))
        else:
            words = (window_words(old, a) if a else "", window_words(new, b) if b else "")
            out.append(Change("window", a and window_text(old, a), b and window_text(new, b), f"window {number}", words=words))
    return out


def _facts_changes(old: Rule, new: Rule) -> list[Change]:
    a = (_fact_part(f, Describer(old.kind)) for f in old.facts)
    b = (_fact_part(f, Describer(new.kind)) for f in new.facts)
    return _parts_changes({p.label: p for p in a}, {p.label: p for p in b})


def _tests_changes(old: tuple[TestCase, ...], new: tuple[TestCase, ...]) -> list[Change]:
    a, b = {t.name: t for t in old}, {t.name: t for t in new}
    out = []
    for name in [*a, *(n for n in b if n not in a)]:
        x, y = a.get(name), b.get(name)
        if x is None or y is None:
            out.append(Change("tests", x and _test_summary(x), y and _test_summary(y), name))
        elif not same(x, y):
            out.append(Change("tests", *_test_difference(x, y), name))
    return out


def _test_summary(test: TestCase) -> str:
    as_of = f"as_of {literal(test.as_of)}; " if test.as_of else ""
    return f"{as_of}{_expect(test)}（{len(test.records)} 条记录）"


def _expect(test: TestCase) -> str:
    return f"expect {test.outcome}" + (f" missing {', '.join(test.missing)}" if test.missing else "")


def _test_difference(old: TestCase, new: TestCase) -> tuple[str, str]:
    """Only what differs between two versions of a test: as_of, the records' fields, the expectation."""
    a: list[str] = []
    b: list[str] = []
    if old.as_of != new.as_of:
        a.append(f"as_of {literal(old.as_of)}")
        b.append(f"as_of {literal(new.as_of)}")
    if [k for k, _ in old.records] != [k for k, _ in new.records] or old.subject != new.subject:
        a.append(_given(old.records))
        b.append(_given(new.records))
    else:
        for (kind, x), (_, y) in zip(old.records, new.records):
            names = [n for n in dict.fromkeys([*x, *y]) if not same(x.get(n), y.get(n))]
            if names:
                a.append(f"given {kind} {{ " + ", ".join(f"{n}: {literal(x.get(n))}" for n in names) + " }")
                b.append(f"given {kind} {{ " + ", ".join(f"{n}: {literal(y.get(n))}" for n in names) + " }")
    if _expect(old) != _expect(new):
        a.append(_expect(old))
        b.append(_expect(new))
    return "; ".join(a), "; ".join(b)


def _given(records: tuple[tuple[str, dict], ...]) -> str:
    return "; ".join(f"given {kind} {{ " + ", ".join(f"{n}: {literal(v)}" for n, v in r.items()) + " }"
                     for kind, r in records)


def _rule_key(rule: Rule) -> object:
    """A rule's meaning apart from its id (and its rulebook's version: bumped with any change)."""
    return key((replace(rule, id="", rulebook=None), rule.rulebook.name))


def _location(rule: Rule) -> str:
    return f"{rule.span.path}:{rule.span.line}" if rule.span else ""


def rule_info(rule: Rule) -> RuleInfo:
    p = IRPrinter()
    clauses = (*(window_text(rule, w) for w in rule.windows), *(f"let {n} = {p.text(v)}" for n, v in rule.lets))
    return RuleInfo(rule.id, rule.title, rule.rulebook.name, subject_text(rule), rule.level, rule.owner.text,
                    p.text(rule.condition), Describer(rule.kind).say(rule.condition), _location(rule), clauses)


# ---- declarations ------------------------------------------------------------------------------------


def _decl_diff(what: str, old: dict, new: dict, compare: Callable[[object, object], list[Change]]) -> list[DeclChange]:
    out = [DeclChange(what, name, "removed") for name in old if name not in new]
    out += [DeclChange(what, name, "added") for name in new if name not in old]
    for name in (n for n in old if n in new):
        changes = compare(old[name], new[name])
        if changes:
            out.append(DeclChange(what, name, "changed", tuple(changes)))
    return out


def _attr_changes(old: object, new: object, attrs: tuple[str, ...]) -> list[Change]:
    return [Change(a, _show(getattr(old, a)), _show(getattr(new, a))) for a in attrs if getattr(old, a) != getattr(new, a)]


def _show(value: object) -> str | None:
    return None if value in (None, "") else str(value)


def _rulebook_changes(old: RulebookInfo, new: RulebookInfo) -> list[Change]:
    return _attr_changes(old, new, ("title", "version", "effective", "is_module"))


def _field_text(f: Field) -> str:
    return f"{f.name}: {_type_text(f.type)}{'?' * f.optional}{' key' * f.key}" + (f' "{f.label}"' if f.label else "")


def _type_text(t: Type) -> str:
    if t.kind is Kind.LIST and t.item is not None:
        return "list of " + _type_text(t.item)
    if t.enum is not None and _is_inline(t.enum):
        return "enum(" + ", ".join(literal(m, Kind.ENUM) for m in t.enum.members) + ")"
    return t.enum.name if t.enum is not None else str(t)


def _is_inline(enum: EnumType) -> bool:
    return "." in enum.name  # the checker names an inline enum after its field: `ticket.ticket_type`


def _record_changes(old: RecordKind, new: RecordKind) -> list[Change]:
    out = _attr_changes(old, new, ("label",))
    a, b = {f.name: f for f in old.fields}, {f.name: f for f in new.fields}
    for name in [*a, *(n for n in b if n not in a)]:
        x, y = a.get(name), b.get(name)
        if x is None or y is None or not same(x, y) or _members(x.type) != _members(y.type):
            out.append(Change("field", x and _field_text(x), y and _field_text(y), name))
    return out


def _members(t: Type) -> tuple[str, ...]:
    """An inline enum's members (a named enum's are diffed as that enum)."""
    if t.item is not None:
        return _members(t.item)
    return t.enum.members if t.enum is not None and _is_inline(t.enum) else ()


def _enum_changes(old: EnumType, new: EnumType) -> list[Change]:
    gone = [m for m in old.members if m not in new.members]
    came = [m for m in new.members if m not in old.members]
    return [Change("members", "、".join(gone) or None, "、".join(came) or None)] if gone or came else []


def _fact_changes(old: Program, new: Program) -> Callable[[Fact, Fact], list[Change]]:
    def compare(a: Fact, b: Fact) -> list[Change]:
        if a.kind != b.kind:
            return [Change("on", a.kind, b.kind)]
        return compare_parts(_fact_part(a, Describer(old.kinds.get(a.kind or ""))),
                             _fact_part(b, Describer(new.kinds.get(b.kind or ""))))
    return compare


def _link_changes(old: Link, new: Link) -> list[Change]:
    return _attr_changes(old, new, ("title", "order", "category"))


def declaration_changes(old: Program, new: Program) -> list[DeclChange]:
    named = lambda infos: {i.name: i for i in infos}  # noqa: E731
    return [*_decl_diff("rulebook", named(old.rulebooks), named(new.rulebooks), _rulebook_changes),
            *_decl_diff("record", old.kinds, new.kinds, _record_changes),
            *_decl_diff("enum", old.enums, new.enums, _enum_changes),
            *_decl_diff("fact", old.facts, new.facts, _fact_changes(old, new)),
            *_decl_diff("link", old.links, new.links, _link_changes)]


# ---- the diff ------------------------------------------------------------------------------------


def diff(old: Program, new: Program) -> RulebookDiff:
    """What changed in meaning from `old` to `new` (both checked without errors)."""
    old_rules, new_rules = {r.id: r for r in old.rules}, {r.id: r for r in new.rules}
    removed = [r for r in old.rules if r.id not in new_rules]
    added = [r for r in new.rules if r.id not in old_rules]
    renamed = _renamed_ids(removed, added)
    gone = {r.old_id for r in renamed} | {r.new_id for r in renamed}
    changed = []
    for rule in new.rules:
        if rule.id in old_rules and (changes := rule_changes(old_rules[rule.id], rule)):
            changed.append(RuleChange(rule.id, rule.title, _location(rule), tuple(changes)))
    return RulebookDiff(
        added=tuple(rule_info(r) for r in added if r.id not in gone),
        removed=tuple(rule_info(r) for r in removed if r.id not in gone),
        renamed=tuple(renamed), changed=tuple(changed),
        declarations=tuple(declaration_changes(old, new)))


def _renamed_ids(removed: list[Rule], added: list[Rule]) -> list[IdRename]:
    """Pair each removed rule with the first unpaired added rule identical to it but for the id."""
    out, taken = [], set()
    added_keys = [(r, _rule_key(r)) for r in added]
    for old in removed:
        old_key = _rule_key(old)
        match = next((r for r, k in added_keys if r.id not in taken and k == old_key), None)
        if match is not None:
            taken.add(match.id)
            out.append(IdRename(old.id, match.id, match.title, _location(match)))
    return out
