"""Sliding windows as SQL window functions.

A window over the rule's own kind whose range is the subject's own field plus constants —
`window over ticket by org_no within accepted_at in [this.accepted_at - 30 days, this.accepted_at]`
— is `COUNT(*) FILTER (WHERE ...) OVER (PARTITION BY org_no ORDER BY accepted_at RANGE BETWEEN
INTERVAL 30 DAY PRECEDING AND CURRENT ROW)`: one sort per kind instead of a join that pairs every
record with every record of its partition (a million tickets in a dozen units is 10¹¹ pairs).

Applies when the range field is a datetime, date or int, both bounds are `this.F ± constant` (or
absent: unbounded), and `where` and the aggregated values read only the scanned row. Anything
else keeps the correlated subquery of compiler._window_values. The values are the same either
way: RANGE frames include every row whose value lies in the bounds (ties included; rows with an
empty range field are filtered out, as an unbounded side would otherwise reach them),
an open bound moves by the type's smallest step (1 µs, 1 day, 1), and the result is guarded like
the subquery's (NULL when a `by` field or a bound of the record under test is empty).
"""

from __future__ import annotations

from datetime import timedelta

from sqlglot import exp

from ... import ir
from ...model import Rule, Window
from ...types import Kind
from .compiler import ExprCompiler, Unsupported, _guarded, _Scope, decimal_type, exact_division

_STEP = {Kind.DATETIME: timedelta(microseconds=1), Kind.DATE: timedelta(days=1), Kind.INT: 1}


def sliding_values(comp: ExprCompiler, rule: Rule, first_column: int) -> tuple[dict[str, exp.Expression], list]:
    """(aggregate name → value, the window-function columns `__wf<n>` they read) for the rule's
    windows that slide over its own kind; the columns belong to a SELECT over the kind's table t."""
    values: dict[str, exp.Expression] = {}
    columns: list[exp.Expression] = []
    for window in rule.windows:
        frame = _frame(rule, window)
        if frame is None:
            continue
        try:
            names, new = _window(comp, rule, window, frame, first_column + len(columns))
        except Unsupported:
            continue
        values.update(names)
        columns += new
    return values, columns


def _frame(rule: Rule, window: Window) -> tuple | None:
    """(field, low offset, high offset) when the window slides over the subject's own field, else None."""
    rng = window.range
    if rule.is_group_rule or window.kind.name != rule.kind.name or rng is None:
        return None
    kind = window.kind.field(rng.field).type.kind
    if kind not in _STEP or not _row_only(window):
        return None
    low, high = _offset(rng.low, rng.field, kind), _offset(rng.high, rng.field, kind)
    if low is False or high is False:
        return None
    step = _STEP[kind]
    if low is not None and not rng.low_closed:
        low += step
    if high is not None and not rng.high_closed:
        high -= step
    return rng.field, kind, low, high


def _offset(node: ir.Node | None, field: str, kind: Kind):
    """The constant c of a bound `this.field + c` (None: no bound; False: another form)."""
    if node is None:
        return None
    if isinstance(node, ir.FieldRef) and node.scope != "row" and node.name == field:
        return timedelta(0) if kind is not Kind.INT else 0
    if (isinstance(node, ir.Binary) and node.op in ("add", "sub") and isinstance(node.left, ir.FieldRef)
            and node.left.scope != "row" and node.left.name == field and isinstance(node.right, ir.Const)):
        c = node.right.value
        if kind is Kind.INT and type(c) is int or kind is not Kind.INT and isinstance(c, timedelta):
            if kind is Kind.DATE and c % timedelta(days=1):
                return False  # a date range moved by part of a day
            return c if node.op == "add" else -c
    return False


def _row_only(window: Window) -> bool:
    """`where` and every aggregated value read only the scanned row (and constants)."""
    nodes = [window.where] if window.where is not None else []
    nodes += [a.arg for _, v in window.aggregates for a in ir.walk(v) if isinstance(a, ir.Aggregate) and a.arg is not None]
    for node in nodes:
        for n in ir.walk(node):
            if isinstance(n, ir.FieldRef) and n.scope != "row" or isinstance(n, (ir.LetRef, ir.Aggregate)):
                return False
    return True


def _window(comp: ExprCompiler, rule: Rule, window: Window, frame: tuple, first: int):
    field, kind, low, high = frame
    row_scope = _Scope(rule, "t", "t")  # the scanned rows are the table's own rows
    present = exp.Not(this=exp.Is(this=exp.column(field, table="t", quoted=True), expression=exp.Null()))
    where = present if window.where is None else exp.and_(
        present, exp.Is(this=exp.paren(comp.gen(window.where, row_scope)), expression=exp.true()))
    spec = exp.WindowSpec(kind="RANGE", **_side("start", low, kind), **_side("end", high, kind))
    partition = [exp.column(k, table="t", quoted=True) for k in window.by]
    order = exp.Order(expressions=[exp.Ordered(this=exp.column(field, table="t", quoted=True), nulls_first=False)])
    columns, values = [], {}
    this_scope = _Scope(rule, "t", None)
    guards = [exp.column(k, table="t", quoted=True) for k in window.by]
    for node in (window.range.low, window.range.high):
        if node is not None:
            guards.append(comp.gen(node, this_scope))
    for name, value in window.aggregates:
        nodes = {}
        for agg in (n for n in ir.walk(value) if isinstance(n, ir.Aggregate)):
            refs = []
            for part in _parts(comp, agg, row_scope, where):
                alias = f"__wf{first + len(columns)}"
                columns.append(exp.alias_(exp.Window(this=part, partition_by=[p.copy() for p in partition],
                                                     order=order.copy(), spec=spec.copy(), over="OVER"),
                                          alias, quoted=True))
                refs.append(exp.column(alias, table="t", quoted=True))
            nodes[id(agg)] = _combine(agg, refs)
        values[name] = _guarded(comp.gen(value, _Scope(rule, "t", None, {}, nodes)), [g.copy() for g in guards])
    return values, columns


def _parts(comp: ExprCompiler, agg: ir.Aggregate, scope: _Scope, where) -> list[exp.Expression]:
    """The window aggregates an aggregate needs (avg: its SUM and COUNT), each FILTERed."""
    def filtered(value: exp.Expression, extra: exp.Expression | None = None) -> exp.Expression:
        conditions = [c.copy() for c in (where, extra) if c is not None]
        return exp.Filter(this=value, expression=exp.Where(this=exp.and_(*conditions))) if conditions else value

    if agg.arg is None:
        return [filtered(exp.Count(this=exp.Star()))]
    arg = comp.gen(agg.arg, scope)
    if agg.func == "count":  # unknown is not counted
        return [filtered(exp.Count(this=exp.Star()), exp.Is(this=exp.paren(arg), expression=exp.true()))]
    if agg.arg.type.kind is Kind.DURATION and agg.func in ("sum", "avg"):
        raise Unsupported("sum of durations in a sliding window")
    if agg.func == "avg":
        return [filtered(exp.Sum(this=arg)), filtered(exp.Count(this=arg.copy()))]
    return [filtered({"sum": exp.Sum, "min": exp.Min, "max": exp.Max}[agg.func](this=arg))]


def _combine(agg: ir.Aggregate, refs: list[exp.Expression]) -> exp.Expression:
    if agg.func == "avg" and agg.arg is not None:  # SUM / COUNT, exactly; no rows: NULL
        return exact_division(exp.cast(refs[0], decimal_type()), refs[1])
    return refs[0]


def _side(which: str, offset, kind: Kind) -> dict:
    """The frame bound for `F + offset`: UNBOUNDED, CURRENT ROW, n PRECEDING or n FOLLOWING."""
    if offset is None:
        return {which: "UNBOUNDED", f"{which}_side": "PRECEDING" if which == "start" else "FOLLOWING"}
    zero = timedelta(0) if kind is not Kind.INT else 0
    if offset == zero:
        return {which: "CURRENT ROW"}
    side = "PRECEDING" if offset < zero else "FOLLOWING"
    size = -offset if offset < zero else offset
    if kind is Kind.INT:
        return {which: exp.Literal.number(size), f"{which}_side": side}
    micros = size // timedelta(microseconds=1)
    return {which: exp.Interval(this=exp.Literal.string(str(micros)), unit=exp.var("MICROSECOND")), f"{which}_side": side}
