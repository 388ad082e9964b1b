"""Generate Python expression text from typed IR nodes, with SQL's three-valued logic.

`None` is empty/unknown. Nodes whose `empty_by` is empty can never be None, so their code
skips null checks: the common case compiles to plain Python operators. User text never
becomes code: strings and ints are written with `repr`, every other constant goes through
the constants table `K`, and names become numbered locals chosen by the caller.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from decimal import Decimal
from typing import Callable

from ... import ir
from ...types import Kind

_PY_COMPARE = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_CALLS = {
    "workdays_between": "CAL.workdays_between", "add_workdays": "CAL.add_workdays", "is_workday": "CAL.is_workday",
    "date": "to_date", "month": "month_of", "period_start": "period_start", "period_end": "period_end",
    "contains": "contains", "contains_any": "contains_any", "abs": "abs", "earliest": "earliest", "latest": "latest",
    "len": "len",
}
_ATTR_CALLS = {"year": "year", "month_of_year": "month", "day": "day", "hour": "hour"}


class ExprGen:
    """Writes expressions; `names` maps (origin, name) or ('field', scope, name) to code text."""

    def __init__(self, constants: list, names: Callable[[tuple], str], shared: dict[tuple, str] | None = None):
        self.constants = constants
        self.names = names
        self.shared = shared or {}  # shape → local holding its value once computed (see `shapes`)
        self._temps = 0
        self.present: frozenset[str] = frozenset()  # fields known non-empty where code now stands

    def const(self, value) -> str:
        if value is None or isinstance(value, bool):
            return repr(value)
        if type(value) in (int, str):
            return repr(value)
        for i, existing in enumerate(self.constants):
            if type(existing) is type(value) and existing == value:
                return f"K{i}"
        self.constants.append(value)
        return f"K{len(self.constants) - 1}"  # a plain global: one dict lookup

    def temp(self) -> str:
        self._temps += 1
        return f"_t{self._temps}"

    def gen(self, node: ir.Node) -> str:
        code = getattr(self, f"_{type(node).__name__}")(node)
        if self.shared and _computed(node) and (local := self.shared.get(shape(node))):
            return f"({local} if {local} is not UNSET else ({local} := {code}))"
        return code

    def _null_guard(self, parts: list[tuple[ir.Node, str]], body: Callable[[list[str]], str]) -> str:
        """`body(values)`, or None when any nullable part is None (each part evaluated once)."""
        values, checks = [], []
        for node, code in parts:
            if node.empty_by - self.present:
                t = self.temp()
                checks.append(f"({t} := {code}) is None")
                values.append(t)
            else:
                values.append(code)
        if not checks:
            return body(values)
        return f"(None if {' or '.join(checks)} else {body(values)})"

    # ---- leaves -------------------------------------------------------------------------------
    def _Const(self, n: ir.Const) -> str:
        return self.const(n.value)

    def _FieldRef(self, n: ir.FieldRef) -> str:
        return self.names(("field", n.scope, n.name))

    def _LetRef(self, n: ir.LetRef) -> str:
        return self.names((n.origin, n.name))

    def _AsOf(self, n: ir.AsOf) -> str:
        return "as_of"

    def _Aggregate(self, n: ir.Aggregate) -> str:
        return self.names(("aggregate-node", id(n)))

    def _ListConst(self, n: ir.ListConst) -> str:
        if all(isinstance(i, ir.Const) for i in n.items):
            return self.const(tuple(i.value for i in n.items))
        return "(" + "".join(self.gen(i) + ", " for i in n.items) + ")"

    # ---- operators ----------------------------------------------------------------------------
    def _Unary(self, n: ir.Unary) -> str:
        op = "not " if n.op == "not" else "-"
        return self._null_guard([(n.operand, self.gen(n.operand))], lambda v: f"({op}{v[0]})")

    def _Binary(self, n: ir.Binary) -> str:
        if n.op in ("and", "or"):
            return self._logic(n)
        if n.op in _PY_COMPARE and (quotient := self._quotient_comparison(n)) is not None:
            return quotient
        left, right = self._promoted(n.left, n.right), self._promoted(n.right, n.left)
        if n.op in _PY_COMPARE:
            op = _PY_COMPARE[n.op]
            return self._null_guard([(n.left, left), (n.right, right)], lambda v: f"({v[0]} {op} {v[1]})")
        return self._null_guard([(n.left, left), (n.right, right)], lambda v: self._arith(n, v[0], v[1]))

    def _quotient_comparison(self, n: ir.Binary) -> str | None:
        """`x / y OP z` of numbers without dividing: `x OP z*y` when y > 0, the comparison turned
        round when y < 0, empty when y is 0 (as the division is). Decimal division costs several
        times a product — the whole cost of a ratio rule (the SQL backend does the same)."""
        if (quotient := ir.quotient_comparison(n)) is None:
            return None
        dividend, divisor, bound, op = quotient
        parts = [(dividend, self.gen(dividend)), (divisor, self.gen(divisor)), (bound, self.gen(bound))]
        y, zero = self.temp(), self._zero(divisor)
        forward, backward = _PY_COMPARE[op], _PY_COMPARE[ir.FLIPPED[op]]
        return self._null_guard(parts, lambda v: f"(None if ({y} := {v[1]}) == {zero} else ({v[0]} {forward} {v[2]} * {y}) "
                                                 f"if {y} > {zero} else ({v[0]} {backward} {v[2]} * {y}))")

    def _zero(self, node: ir.Node) -> str:
        """0 of the node's number type: a Decimal compared with the int 0 converts it every time."""
        return self.const(Decimal(0)) if node.type.kind in (Kind.DECIMAL, Kind.MONEY) else "0"

    def _promoted(self, node: ir.Node, other: ir.Node | None = None) -> str:
        code = self.gen(node)
        if other is not None and node.type.kind is Kind.DATE and other.type.kind is Kind.DATETIME:
            return f"to_datetime({code})"
        return code

    def _arith(self, n: ir.Binary, a: str, b: str) -> str:
        calendar = n.right.type.calendar or n.left.type.kind is Kind.MONTH
        if n.type.kind is Kind.DATETIME and n.left.type.kind is Kind.DATE:
            a = f"to_datetime({a})"
        if n.op == "add":
            return f"plus({a}, {b})" if calendar else f"({a} + {b})"
        if n.op == "sub":
            return f"minus({a}, {b})" if calendar else f"({a} - {b})"
        if n.op == "mul":
            durations = Kind.DURATION in (n.left.type.kind, n.right.type.kind)
            return f"times({a}, {b})" if durations else f"({a} * {b})"
        if n.left.type.kind in (Kind.DECIMAL, Kind.MONEY) and n.right.type.is_numeric:
            t = self.temp()  # exact Decimal division; x / 0 is empty
            return f"(None if ({t} := {b}) == {self._zero(n.right)} else {a} / {t})"
        return f"divide({a}, {b})"

    def _logic(self, n: ir.Binary) -> str:
        a = self.gen(n.left)
        # the right side runs only when the left did not decide: `x is not empty and …` (or
        # `x is empty or …`) has then settled that x is present, so its null checks can go
        outer, self.present = self.present, self.present | _settles(n.left, n.op)
        b = self.gen(n.right)
        self.present = outer
        left_empty, right_empty = n.left.empty_by - outer, n.right.empty_by - outer - _settles(n.left, n.op)
        if not left_empty and not right_empty:
            return f"({a} {n.op} {b})"
        if not left_empty:  # a is a real bool: Python's short circuit is already 3-valued
            return f"({a} and {b})" if n.op == "and" else f"(True if {a} else {b})"
        ta, tb = self.temp(), self.temp()
        if n.op == "and":  # SQL's AND, evaluating b only when a is not False
            return f"(False if ({ta} := {a}) is False else (False if ({tb} := {b}) is False else " \
                   f"(None if {ta} is None or {tb} is None else True)))"
        return f"(True if ({ta} := {a}) is True else (True if ({tb} := {b}) is True else " \
               f"(None if {ta} is None or {tb} is None else False)))"

    def _Coalesce(self, n: ir.Coalesce) -> str:
        t = self.temp()
        return f"({self.gen(n.right)} if ({t} := {self.gen(n.left)}) is None else {t})"

    def _IsEmpty(self, n: ir.IsEmpty) -> str:
        if isinstance(n.operand, ir.Const):  # known now; also avoids `is` with a literal
            return repr((n.operand.value is None) != n.negated)
        return f"({self.gen(n.operand)} is {'not ' if n.negated else ''}None)"

    def _InList(self, n: ir.InList) -> str:
        op = "not in" if n.negated else "in"
        if all(isinstance(i, ir.Const) for i in n.items):
            values = frozenset(i.value for i in n.items)
            return self._null_guard([(n.operand, self.gen(n.operand))], lambda v: f"({v[0]} {op} {self.const(values)})")
        items = [(i, self.gen(i)) for i in n.items]
        return self._null_guard([(n.operand, self.gen(n.operand)), *items],
                                lambda v: f"({v[0]} {op} ({', '.join(v[1:])},))")

    def _Call(self, n: ir.Call) -> str:
        args = [(a, self.gen(a)) for a in n.args]
        if n.func in ("earliest", "latest"):  # empty only when every argument is
            return f"{n.func}({', '.join(c for _, c in args)})"
        if n.func == "count":
            return self._null_guard(args, lambda v: f"len({v[0]})")
        if n.func in ("starts_with", "ends_with"):
            return self._null_guard(args, lambda v: f"{v[0]}.{n.func.replace('_', '')}({v[1]})")
        if n.func == "weekday":
            return self._null_guard(args, lambda v: f"{v[0]}.isoweekday()")
        if n.func in _ATTR_CALLS:
            return self._null_guard(args, lambda v: f"{v[0]}.{_ATTR_CALLS[n.func]}")
        return self._null_guard(args, lambda v: f"{_CALLS[n.func]}({', '.join(v)})")

    def _Case(self, n: ir.Case) -> str:
        subject = self.gen(n.subject)
        default = self.gen(n.default) if n.default is not None else "None"
        if all(isinstance(v, ir.Const) for _, v in n.arms):
            table = {p.value: v.value for pats, v in n.arms for p in pats}
            lookup = f"{self.const(_FrozenTable(table))}.get"
            return self._null_guard([(n.subject, subject)], lambda v: f"{lookup}({v[0]}, {default})")
        t = self.temp()
        code = default
        for pats, value in reversed(n.arms):
            values = self.const(frozenset(p.value for p in pats))
            code = f"({self.gen(value)} if {t} in {values} else {code})"
        return f"(None if ({t} := {subject}) is None else {code})"


def _computed(node: ir.Node) -> bool:
    """Worth computing once per record when several rules use it: arithmetic and calls."""
    return isinstance(node, ir.Call) or (isinstance(node, ir.Binary) and node.op in ("add", "sub", "mul", "div"))


def shapes(roots) -> Counter:
    """How often each computed subexpression occurs under `roots`, by shape (spans ignored)."""
    return Counter(shape(n) for root in roots for n in ir.walk(root) if _computed(n))


def shape(node) -> tuple | str:
    """A node's structure without its source spans: equal shapes compute equal values. A let or
    a window result is the rule's own (two rules may each have a `limit`): never equal."""
    if isinstance(node, tuple):
        return tuple(shape(n) for n in node)
    if isinstance(node, ir.LetRef) and node.origin != "fact":
        return ("LetRef", id(node))
    if not dataclasses.is_dataclass(node):
        return repr(node)
    return (type(node).__name__, *(shape(getattr(node, f.name)) for f in dataclasses.fields(node)
                                   if f.name not in ("span", "empty_by")))


def _settles(node: ir.Node, op: str) -> frozenset[str]:
    """Fields that are present whenever `node` did not decide an `op` chain on its own."""
    if isinstance(node, ir.Binary) and node.op == op:
        return _settles(node.left, op) | _settles(node.right, op)
    if isinstance(node, ir.IsEmpty) and node.negated == (op == "and") and isinstance(node.operand, ir.FieldRef):
        return node.operand.empty_by
    return frozenset()


class _FrozenTable(dict):
    """A constant lookup table for `match` (hashable identity so it can sit in `K`)."""

    def __hash__(self) -> int:  # pragma: no cover - identity only
        return id(self)

    def __eq__(self, other) -> bool:
        return self is other
