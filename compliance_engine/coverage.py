"""Test coverage of rules: which rules have no tests, and which ways their conditions can go
that no test ever took.

A *branch* is one way a condition can go: every boolean sub-condition of a rule's `when`, its
lets, its windows' `where` and the conditions inside `compute` can be true and can be false; a
`??` can use its left value or its default; a `match` can take each of its arms (and its
`else`). Each test run (testing.Execution) is replayed through the IR interpreter, which
records the value of every node: the record under test once, and each window's `where` and
`compute` arguments once per scanned row (the rows sharing the window's key or the group).
A node not evaluated (the right side of an `and` whose left side is false) takes no side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from . import ir
from .api import Rulebooks
from .backends.python.codegen import window_aggregates
from .backends.python.interpreter import Env, Interpreter, trace_rule
from .model import Program, Rule, Window
from .source import Span
from .testing import Execution
from .types import Kind

_NOT_RUN = object()
_MISSED = {"true": "从未为真 (never true)", "false": "从未为假 (never false)",
           "value": "左边从未有值 (left side never present)", "default": "默认值从未使用 (default never used)"}


@dataclass
class Branch:
    """A place in a rule where a condition can go several ways, and the ways the tests took."""

    node: ir.Node
    part: str  # when, let NAME, where, compute NAME
    sides: tuple[str, ...]
    span: Span | None
    taken_by: Callable[[ir.Node, dict], Iterator[str]]
    taken: set[str] = field(default_factory=set)

    def record(self, trace: dict[int, object]) -> None:
        self.taken.update(self.taken_by(self.node, trace))


@dataclass(frozen=True)
class Miss:
    rule: str
    location: str
    clause: str  # the source text of the condition (or match arm)
    part: str
    side: str
    message: str


@dataclass
class RuleCoverage:
    rule: Rule
    branches: list[Branch]
    tests: int = 0

    @property
    def total(self) -> int:
        return sum(len(b.sides) for b in self.branches)

    @property
    def covered(self) -> int:
        return sum(len(b.taken) for b in self.branches)

    @property
    def percent(self) -> float:
        return _percent(self.covered, self.total)


@dataclass
class Coverage:
    rules: list[RuleCoverage]
    misses: dict[str, list[Miss]]  # rule id → ways never taken, in source order

    @property
    def total(self) -> int:
        return sum(r.total for r in self.rules)

    @property
    def covered(self) -> int:
        return sum(r.covered for r in self.rules)

    @property
    def percent(self) -> float:
        return _percent(self.covered, self.total)

    @property
    def untested(self) -> list[str]:
        return [r.rule.id for r in self.rules if not r.tests]

    def as_dict(self) -> dict:
        return {
            "covered": self.covered, "total": self.total, "percent": round(self.percent, 2),
            "untested_rules": self.untested,
            "rules": [{"rule": r.rule.id, "title": r.rule.title, "location": str(r.rule.span or ""),
                       "tests": r.tests, "covered": r.covered, "total": r.total, "percent": round(r.percent, 2),
                       "misses": [m.__dict__ for m in self.misses[r.rule.id]]} for r in self.rules],
        }


def _percent(covered: int, total: int) -> float:
    return 100.0 * covered / total if total else 100.0


def measure(rulebooks: Rulebooks, executions: Iterable[Execution]) -> Coverage:
    """Coverage of every rule of `rulebooks` by the test runs `executions`."""
    program = rulebooks.program
    rules = {r.id: RuleCoverage(r, branches(r)) for r in program.rules}
    interpreter = Interpreter(rulebooks.backend.calendar)
    for ex in executions:
        if ex.rule is None or ex.test.error:
            continue
        rc = rules[ex.rule.id]
        rc.tests += 1
        facts = rulebooks.backend.global_facts_by_name(ex.global_facts)
        for trace in _traces(interpreter, ex, facts):
            for b in rc.branches:
                b.record(trace)
    return Coverage(list(rules.values()), {r.rule.id: _misses(program, r) for r in rules.values()})


# ---- the branches of a rule ----------------------------------------------------------------
def branches(rule: Rule) -> list[Branch]:
    seen: set[int] = set()
    out: list[Branch] = []
    for part, root in _parts(rule):
        for node, span in _walk(root, root.span):
            if id(node) not in seen:
                seen.add(id(node))
                out += [Branch(node, part, sides, span, taken_by) for sides, taken_by in _kinds(node)]
    return sorted(out, key=lambda b: (b.span.line, b.span.column) if b.span else (0, 0))


def _parts(rule: Rule) -> Iterator[tuple[str, ir.Node]]:
    for w in rule.windows:
        if w.where is not None:
            yield "where", w.where
        for name, value in w.aggregates:
            yield from ((f"compute {name}", a.arg) for a in ir.walk(value) if isinstance(a, ir.Aggregate) and a.arg)
    for name, value in rule.lets:
        yield f"let {name}", value
    yield "when", rule.condition


def _walk(node: ir.Node, span: Span | None) -> Iterator[tuple[ir.Node, Span | None]]:
    """Every node with its span (a node without one takes its parent's)."""
    span = node.span or span
    yield node, span
    for child in ir.children(node):
        yield from _walk(child, span)


def _kinds(node: ir.Node) -> list[tuple[tuple[str, ...], Callable]]:
    out = []
    if type(node) in _SPECIAL:
        out.append(_SPECIAL[type(node)](node))
    if node.type.kind is Kind.BOOL and not isinstance(node, ir.Const) and not _is_let_ref(node):
        out.append((("true", "false"), _bool_taken))
    return out


def _is_let_ref(node: ir.Node) -> bool:
    """A reference to a let repeats the let's own condition, which is counted where it is written."""
    return isinstance(node, ir.LetRef) and node.origin == "let"


def _bool_taken(node: ir.Node, trace: dict) -> Iterator[str]:
    value = trace.get(id(node), _NOT_RUN)
    if value is True or value is False:
        yield "true" if value else "false"


def _coalesce_taken(node: ir.Coalesce, trace: dict) -> Iterator[str]:
    if id(node) in trace:
        yield "default" if trace.get(id(node.left)) is None else "value"


def _case_taken(node: ir.Case, trace: dict) -> Iterator[str]:
    for i, (_, result) in enumerate(node.arms):
        if id(result) in trace:
            yield f"arm {i}"
    if node.default is not None and id(node.default) in trace:
        yield "else"


def _case_sides(node: ir.Case) -> tuple[tuple[str, ...], Callable]:
    arms = tuple(f"arm {i}" for i in range(len(node.arms)))
    return arms + (("else",) if node.default is not None else ()), _case_taken


_SPECIAL = {ir.Coalesce: lambda n: (("value", "default"), _coalesce_taken), ir.Case: _case_sides}


# ---- replaying a test run ------------------------------------------------------------------
def _traces(interpreter: Interpreter, ex: Execution, facts: dict) -> Iterator[dict[int, object]]:
    """Node values of the rule on the record under test, then of each window on each row."""
    rule, outcome = ex.rule, ex.outcome
    if outcome is None or outcome.missing_key:
        return  # a group record with an empty group field is never evaluated
    trace = trace_rule(interpreter, rule, outcome.record, ex.as_of, facts, outcome.aggregates)
    yield trace.nodes
    for window in rule.windows:
        for row in _window_rows(window, outcome.record, ex.records):
            yield _row_trace(interpreter, window, Env(outcome.record, ex.as_of, trace.names, row))


def _window_rows(window: Window, this: dict, records: dict[str, list[dict]]) -> list[dict]:
    """Rows sharing the window's key (a group rule's window: the group's key) with the subject."""
    key = [(k, this.get(k)) for k in window.by]
    if any(v is None for _, v in key):
        return []  # an empty key leaves the window unplaced: no row is scanned
    return [row for row in records.get(window.kind.name, []) if all(row.get(k) == v for k, v in key)]


def _row_trace(interpreter: Interpreter, window: Window, env: Env) -> dict[int, object]:
    nodes: dict[int, object] = {}
    if window.where is None or interpreter.evaluate(window.where, env, nodes) is True:
        for agg in window_aggregates(window):
            if agg.arg is not None:
                interpreter.evaluate(agg.arg, env, nodes)
    return nodes


# ---- reporting -----------------------------------------------------------------------------
def _misses(program: Program, rc: RuleCoverage) -> list[Miss]:
    out = []
    for b in rc.branches:
        for side in b.sides:
            if side not in b.taken:
                span, clause, message = _describe(program, b, side)
                out.append(Miss(rc.rule.id, str(span or ""), clause, b.part, side, message))
    return out


def _describe(program: Program, b: Branch, side: str) -> tuple[Span | None, str, str]:
    if isinstance(b.node, ir.Case) and side.startswith("arm "):
        patterns, result = b.node.arms[int(side[4:])]
        span = patterns[0].span or b.span
        arm = f"{' | '.join(clause_text(program, p.span) for p in patterns)} => {clause_text(program, result.span)}"
        return span, arm, "分支从未走到 (arm never taken)"
    if isinstance(b.node, ir.Case):
        return b.span, clause_text(program, b.span), "else 分支从未走到 (else arm never taken)"
    return b.span, clause_text(program, b.span), _MISSED[side]


def clause_text(program: Program, span: Span | None, limit: int = 80) -> str:
    """The source text of `span` on one line (runs of spaces and newlines as one space)."""
    source = program.sources.get(span.path) if span else None
    if source is None:
        return ""
    lines = source.text.split("\n")[span.line - 1: span.end_line]
    if not lines:
        return ""
    if len(lines) == 1:
        text = lines[0][span.column - 1: span.end_column - 1]
    else:
        text = "\n".join([lines[0][span.column - 1:], *lines[1:-1], lines[-1][: span.end_column - 1]])
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
