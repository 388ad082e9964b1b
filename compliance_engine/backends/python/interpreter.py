"""Evaluate typed IR directly, recording the value of every node: the slow, transparent twin
of the generated code. `explain` reads its trace clause by clause, test coverage reads which
conditions took which side, and the test suite checks it agrees with the generated code.

Semantics are exactly those of backends/python/expressions.py (records.md § Semantics).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ... import ir
from ...calendar import WorkdayCalendar
from ...model import Rule
from ...types import Kind
from . import runtime as rt
from .codegen import window_aggregates

_COMPARE = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "lt": lambda a, b: a < b,
            "le": lambda a, b: a <= b, "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b}


@dataclass
class Env:
    """What names mean while evaluating: the record under test, a window row, named values."""

    this: dict
    as_of: datetime
    names: dict[tuple[str, str], object] = field(default_factory=dict)  # (origin, name) → value
    row: dict | None = None
    aggregates: dict[int, object] = field(default_factory=dict)  # id(Aggregate node) → value


class Interpreter:
    def __init__(self, calendar: WorkdayCalendar):
        self.calendar = calendar
        self.calls = {
            "workdays_between": calendar.workdays_between, "add_workdays": calendar.add_workdays,
            "is_workday": calendar.is_workday, "date": rt.to_date, "month": rt.month_of,
            "period_start": rt.period_start, "period_end": rt.period_end, "contains": rt.contains,
            "contains_any": rt.contains_any, "abs": abs, "len": len, "count": len,
            "year": lambda t: t.year, "month_of_year": lambda t: t.month, "day": lambda t: t.day,
            "hour": lambda t: t.hour, "weekday": lambda t: t.isoweekday(),
            "starts_with": lambda a, b: a.startswith(b), "ends_with": lambda a, b: a.endswith(b),
        }

    def evaluate(self, node: ir.Node, env: Env, trace: dict[int, object] | None = None):
        value = getattr(self, f"_{type(node).__name__}")(node, env, trace)
        if trace is not None:
            trace[id(node)] = value
        return value

    def _Const(self, n: ir.Const, env: Env, trace):
        return n.value

    def _FieldRef(self, n: ir.FieldRef, env: Env, trace):
        return (env.row if n.scope == "row" else env.this).get(n.name)

    def _LetRef(self, n: ir.LetRef, env: Env, trace):
        return env.names.get((n.origin, n.name))

    def _AsOf(self, n: ir.AsOf, env: Env, trace):
        return env.as_of

    def _Aggregate(self, n: ir.Aggregate, env: Env, trace):
        return env.aggregates.get(id(n))

    def _ListConst(self, n: ir.ListConst, env: Env, trace):
        return tuple(self.evaluate(i, env, trace) for i in n.items)

    def _Unary(self, n: ir.Unary, env: Env, trace):
        v = self.evaluate(n.operand, env, trace)
        if v is None:
            return None
        return (not v) if n.op == "not" else -v

    def _Binary(self, n: ir.Binary, env: Env, trace):
        if n.op in ("and", "or"):
            return self._logic(n, env, trace)
        a, b = self.evaluate(n.left, env, trace), self.evaluate(n.right, env, trace)
        if a is None or b is None:
            return None
        if n.op in _COMPARE:
            if n.left.type.kind is Kind.DATE and n.right.type.kind is Kind.DATETIME:
                a = rt.to_datetime(a)
            if n.right.type.kind is Kind.DATE and n.left.type.kind is Kind.DATETIME:
                b = rt.to_datetime(b)
            return _COMPARE[n.op](a, b)
        if n.type.kind is Kind.DATETIME and n.left.type.kind is Kind.DATE:
            a = rt.to_datetime(a)
        if n.op == "sub" and n.left.type.kind is Kind.DATETIME and n.right.type.kind is Kind.DATE:
            b = rt.to_datetime(b)
        if n.op == "sub" and n.left.type.kind is Kind.DATE and n.right.type.kind is Kind.DATETIME:
            a = rt.to_datetime(a)
        return {"add": rt.plus, "sub": rt.minus, "mul": rt.times, "div": rt.divide}[n.op](a, b)

    def _logic(self, n: ir.Binary, env: Env, trace):
        a = self.evaluate(n.left, env, trace)
        decided = False if n.op == "and" else True
        if a is decided:
            return decided  # the right side is not evaluated, as in the generated code
        b = self.evaluate(n.right, env, trace)
        if b is decided:
            return decided
        return None if a is None or b is None else (not decided)

    def _Coalesce(self, n: ir.Coalesce, env: Env, trace):
        a = self.evaluate(n.left, env, trace)
        return self.evaluate(n.right, env, trace) if a is None else a

    def _IsEmpty(self, n: ir.IsEmpty, env: Env, trace):
        return (self.evaluate(n.operand, env, trace) is None) != n.negated

    def _InList(self, n: ir.InList, env: Env, trace):
        v = self.evaluate(n.operand, env, trace)
        items = [self.evaluate(i, env, trace) for i in n.items]
        if v is None or any(i is None for i in items):
            return None
        return (v in items) != n.negated

    def _Call(self, n: ir.Call, env: Env, trace):
        args = [self.evaluate(a, env, trace) for a in n.args]
        if n.func in ("earliest", "latest"):
            return getattr(rt, n.func)(*args)
        if any(a is None for a in args):
            return None
        return self.calls[n.func](*args)

    def _Case(self, n: ir.Case, env: Env, trace):
        subject = self.evaluate(n.subject, env, trace)
        if subject is None:
            return None
        for patterns, value in n.arms:
            if any(self.evaluate(p, env, trace) == subject for p in patterns):
                return self.evaluate(value, env, trace)
        return self.evaluate(n.default, env, trace) if n.default is not None else None


@dataclass
class RuleTrace:
    """One rule evaluated on one record: the outcome and the value of every node on the way."""

    rule: Rule
    value: bool | None
    names: dict[tuple[str, str], object]
    nodes: dict[int, object]


def trace_rule(interpreter: Interpreter, rule: Rule, record: dict, as_of: datetime, global_facts: dict[str, object],
               aggregates: tuple | None) -> RuleTrace:
    """Evaluate `rule` on `record` (a group-key dict for group rules) given its window results."""
    env = Env(record, as_of)
    nodes: dict[int, object] = {}
    for fact in rule.facts:
        if fact.kind is None:
            env.names[("fact", fact.name)] = global_facts.get(fact.name)
        else:
            env.names[("fact", fact.name)] = interpreter.evaluate(fact.value, env, nodes)
    names = [name for w in rule.windows for name, _ in w.aggregates]
    for name, value in zip(names, aggregates or (None,) * len(names)):
        env.names[("aggregate", name)] = value
    for name, value in rule.lets:
        env.names[("let", name)] = interpreter.evaluate(value, env, nodes)
    outcome = interpreter.evaluate(rule.condition, env, nodes)
    return RuleTrace(rule, outcome, env.names, nodes)


def aggregate_nodes(rule: Rule) -> list[ir.Aggregate]:
    return [a for w in rule.windows for a in window_aggregates(w)]
