"""Plan → SQL as sqlglot expression trees: one SELECT per record kind, one outcome column per
record rule (TRUE fired, FALSE passed, NULL undetermined) and one `missing` column listing the
plan's candidate empty fields/names that are NULL. Printed per dialect with `.sql(dialect=...)`.

Types (see docs/sql_backend.md): decimals and money stay DECIMAL (division is done on scaled
HUGEINTs, never DOUBLE), durations are INTERVALs (arithmetic on their microseconds), calendar
durations BIGINT months, enums and months VARCHAR ('YYYY-MM'), lists LIST. Months and working
days: dates.py.
SQL's NULL is our empty: and/or/not already follow the same three-valued logic.
Windows are correlated scalar subqueries over the kind's table (DuckDB decorrelates them into
joins). A construct this module does not translate raises `Unsupported`, which `check_sql`
turns into an E0601 diagnostic naming the rule: never a silent fallback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlglot import exp

from ... import ir
from ...diagnostics import Diagnostic
from ...model import Rule, Window
from ...plan import KindPlan, Plan, RulePlan
from ...types import Kind, Type
from ...values import CalendarDuration, Month
from . import dates

AS_OF = "as_of"  # the named parameter every query takes
ROW_ID = "__row"  # position of the record in its input: how outcomes map back to records
CALENDAR = dates.CALENDAR  # (day DATE, is_workday BOOLEAN, workday_index BIGINT): see dates.py
DECIMAL_SCALE = 10  # digits kept after the point by division (DECIMAL(38, 10))
_COMPARE = {"eq": exp.EQ, "ne": exp.NEQ, "lt": exp.LT, "le": exp.LTE, "gt": exp.GT, "ge": exp.GTE}
_CALLS = {"abs": "ABS", "len": "LEN", "year": "YEAR", "month_of_year": "MONTH", "day": "DAY", "hour": "HOUR",
          "weekday": "ISODOW"}


class Unsupported(Exception):
    """A construct with no SQL translation yet; `what` says which."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


def uses_as_of(tree: exp.Expression) -> bool:
    """Whether a compiled query takes the `$as_of` parameter (engines refuse unused parameters)."""
    return any(p.name == AS_OF for p in tree.find_all(exp.Placeholder))


def table_name(kind: str) -> str:
    return f"records_{kind}"


def outcome_column(rule_id: str) -> str:
    return rule_id


def missing_column(rule_id: str) -> str:
    return f"{rule_id}__missing"


@dataclass
class _Scope:
    """What names mean where an expression stands: this/row table aliases, lets, aggregates."""

    rule: Rule
    this: str = "t"
    row: str | None = None
    aggregates: dict = field(default_factory=dict)  # aggregate name → SQL expression
    nodes: dict = field(default_factory=dict)  # id(ir.Aggregate) → SQL expression (inside a window value)


class ExprCompiler:
    """Translates typed IR nodes to sqlglot expressions; dispatch by `_<NodeClass>`."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.facts = plan.program.facts

    def fact(self, name: str, rule: Rule):
        return next((f for f in rule.facts if f.name == name), None) or self.facts[name]

    def fact_type(self, name: str, rule: Rule) -> Type:
        return self.fact(name, rule).type

    def gen(self, node: ir.Node, scope: _Scope) -> exp.Expression:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise Unsupported(type(node).__name__)
        return method(node, scope)

    # ---- leaves --------------------------------------------------------------------------------
    def _Const(self, n: ir.Const, scope: _Scope) -> exp.Expression:
        return literal(n.value, n.type)

    def _FieldRef(self, n: ir.FieldRef, scope: _Scope) -> exp.Expression:
        alias = scope.row if n.scope == "row" else scope.this
        if alias is None:
            raise Unsupported(f"field {n.name} outside a window")
        return exp.column(n.name, table=alias, quoted=True)

    def _LetRef(self, n: ir.LetRef, scope: _Scope) -> exp.Expression:
        if n.origin == "let":
            return exp.paren(self.gen(dict(scope.rule.lets)[n.name], scope))
        if n.origin == "fact":
            return exp.paren(self.gen(self.fact(n.name, scope.rule).value, scope))
        if n.name in scope.aggregates:
            return scope.aggregates[n.name]
        raise Unsupported(f"aggregate {n.name}")

    def _AsOf(self, n: ir.AsOf, scope: _Scope) -> exp.Expression:
        return exp.cast(exp.Placeholder(this=AS_OF), "TIMESTAMP")  # bound at run time

    def _Aggregate(self, n: ir.Aggregate, scope: _Scope) -> exp.Expression:
        if id(n) not in scope.nodes:
            raise Unsupported("aggregate outside a window")
        return scope.nodes[id(n)]

    def _ListConst(self, n: ir.ListConst, scope: _Scope) -> exp.Expression:
        return exp.Array(expressions=[self.gen(i, scope) for i in n.items])

    # ---- operators -----------------------------------------------------------------------------
    def _Unary(self, n: ir.Unary, scope: _Scope) -> exp.Expression:
        operand = exp.paren(self.gen(n.operand, scope))
        return exp.Not(this=operand) if n.op == "not" else exp.Neg(this=operand)

    def _Binary(self, n: ir.Binary, scope: _Scope) -> exp.Expression:
        if n.op in ("and", "or"):
            cls = exp.And if n.op == "and" else exp.Or
            return exp.paren(cls(this=self.gen(n.left, scope), expression=self.gen(n.right, scope)))
        if n.op in _COMPARE and (quotient := self._quotient_comparison(n, scope)) is not None:
            return quotient
        a, b = self._promoted(n.left, n.right, scope), self._promoted(n.right, n.left, scope)
        if n.op in _COMPARE:
            return exp.paren(_COMPARE[n.op](this=a, expression=b))
        return exp.paren(self._arith(n, a, b))

    def _quotient_comparison(self, n: ir.Binary, scope: _Scope) -> exp.Expression | None:
        """`x / y OP z` of numbers without dividing: `x OP z*y` when y > 0, the comparison turned
        round when y < 0, empty when y is 0 or empty (as the division would be). Exact (decimal
        products are exact), where the division keeps 10 places — and no 128-bit integer division
        per record, the cost of every ratio rule."""
        if (parts := ir.quotient_comparison(n)) is None:
            return None
        dividend, divisor, bound, op = parts
        x, y, z = self.gen(dividend, scope), self.gen(divisor, scope), self.gen(bound, scope)
        product = exp.Mul(this=exp.paren(z), expression=exp.paren(y))
        zero = exp.Literal.number(0)
        return exp.paren(exp.Case()
                         .when(exp.GT(this=y.copy(), expression=zero), _COMPARE[op](this=x, expression=product))
                         .when(exp.LT(this=y.copy(), expression=zero.copy()),
                               _COMPARE[ir.FLIPPED[op]](this=x.copy(), expression=product.copy())))

    def _promoted(self, node: ir.Node, other: ir.Node, scope: _Scope) -> exp.Expression:
        code = self.gen(node, scope)
        if node.type.kind is Kind.DATE and other.type.kind is Kind.DATETIME:
            return exp.cast(code, "TIMESTAMP")
        return code

    def _arith(self, n: ir.Binary, a: exp.Expression, b: exp.Expression) -> exp.Expression:
        left, right = n.left.type, n.right.type
        if right.calendar:  # date, datetime or month ± calendar months (the checker allows no other)
            months = b if n.op == "add" else exp.Neg(this=exp.paren(b))
            return dates.add_months(a, months, _TIME_RESULT[n.type.kind])
        if left.kind is Kind.MONTH:  # month - month: calendar months
            return dates.months_between(a, b)
        if n.op == "add":
            return exp.Add(this=a, expression=b)
        if n.op == "sub" and left.kind is Kind.DATE and right.kind is Kind.DATE:
            return exp.func("TO_DAYS", exp.Sub(this=a, expression=b))  # DuckDB gives days as BIGINT
        if n.op == "sub":
            return exp.Sub(this=a, expression=b)
        if n.op == "mul":
            return duration_times(a, b, right) if left.kind is Kind.DURATION else exp.Mul(this=a, expression=b)
        if left.kind is Kind.DURATION and right.kind is Kind.DURATION:  # a decimal ratio
            return exact_division(micros(a), micros(b))
        if left.kind is Kind.DURATION:
            return duration_divided(a, b)
        return exact_division(a, b)

    def _Coalesce(self, n: ir.Coalesce, scope: _Scope) -> exp.Expression:
        a, b = self._promoted(n.left, n.right, scope), self._promoted(n.right, n.left, scope)
        return exp.Coalesce(this=a, expressions=[b])

    def _IsEmpty(self, n: ir.IsEmpty, scope: _Scope) -> exp.Expression:
        test = exp.Is(this=exp.paren(self.gen(n.operand, scope)), expression=exp.Null())
        return exp.paren(exp.Not(this=test) if n.negated else test)

    def _InList(self, n: ir.InList, scope: _Scope) -> exp.Expression:
        """As the Python backend: a list of constants is a set, where `empty` matches nothing; a
        list with computed values is empty when any of them is (or the operand)."""
        operand = self.gen(n.operand, scope)
        if all(isinstance(i, ir.Const) for i in n.items):
            items = [self.gen(i, scope) for i in n.items if i.value is not None]
            test = exp.In(this=operand, expressions=items) if items else \
                exp.Case().when(exp.Not(this=exp.Is(this=operand, expression=exp.Null())), exp.false())
            return exp.paren(exp.Not(this=test) if n.negated else test)
        test = exp.In(this=operand, expressions=[self.gen(i, scope) for i in n.items])
        test = exp.Not(this=test) if n.negated else test
        empties = [exp.Is(this=exp.paren(self.gen(i, scope)), expression=exp.Null()) for i in n.items if i.empty_by]
        return exp.Case().when(exp.or_(*empties), exp.Null()).else_(test) if empties else exp.paren(test)

    def _Call(self, n: ir.Call, scope: _Scope) -> exp.Expression:
        args = [self.gen(a, scope) for a in n.args]
        if n.func in ("earliest", "latest"):  # DuckDB's LEAST/GREATEST skip NULLs, like ours
            if len({a.type.kind for a in n.args}) > 1:
                args = [exp.cast(x, "TIMESTAMP") for x in args]
            return exp.func("LEAST" if n.func == "earliest" else "GREATEST", *args)
        if n.func == "date":
            return exp.cast(args[0], "DATE")
        if n.func in ("starts_with", "ends_with"):
            return exp.func("STARTS_WITH" if n.func == "starts_with" else "ENDS_WITH", *args)
        if n.func == "contains" and n.args[0].type.kind is Kind.LIST:
            return exp.func("LIST_CONTAINS", *args)
        if n.func == "contains":
            return exp.func("CONTAINS", *args)
        if n.func == "contains_any":  # NULL items are never matched; the lists' items never are NULL
            return exp.ArrayOverlaps(this=args[0], expression=args[1])
        if n.func == "count":  # of a list
            return exp.ArraySize(this=args[0])
        if n.func == "abs" and n.type.kind is Kind.DURATION:  # DuckDB has no ABS(INTERVAL)
            return interval_of(exp.Abs(this=micros(args[0])))
        if n.func == "workdays_between":  # a subtraction of workday indexes
            return exp.Sub(this=dates.workday_index(args[1]), expression=dates.workday_index(args[0]))
        if n.func == "is_workday":
            return dates.is_workday(args[0])
        if n.func == "add_workdays":
            return dates.add_workdays(args[0], args[1], is_date=n.args[0].type.kind is Kind.DATE)
        if n.func == "month":
            return dates.month_of(args[0])
        if n.func in ("period_start", "period_end"):
            return (dates.first_day if n.func == "period_start" else dates.last_day)(args[0])
        if n.func in _CALLS:
            return exp.func(_CALLS[n.func], *args)
        raise Unsupported(f"function {n.func}")

    def _Case(self, n: ir.Case, scope: _Scope) -> exp.Expression:
        subject = self.gen(n.subject, scope)
        case = exp.Case()
        if n.default is not None and n.subject.empty_by:  # an empty subject is empty, not the default
            case = case.when(exp.Is(this=subject.copy(), expression=exp.Null()), exp.Null())
        for values, result in n.arms:
            if not all(isinstance(v, ir.Const) for v in values):
                raise Unsupported("match arm with computed values")
            cond = exp.In(this=subject.copy(), expressions=[self.gen(v, scope) for v in values])
            case = case.when(cond, self.gen(result, scope))
        if n.default is not None:
            case = case.else_(self.gen(n.default, scope))
        return case


_TIME_RESULT = {Kind.DATE: "DATE", Kind.DATETIME: "TIMESTAMP", Kind.MONTH: "MONTH"}


def literal(value, t: Type) -> exp.Expression:
    """A constant of type `t` as SQL (typed literals, never DOUBLE)."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, Month):
        return exp.Literal.string(str(value))  # 'YYYY-MM'
    if isinstance(value, CalendarDuration):
        return exp.Literal.number(value.months)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, Decimal):
        return exp.cast(exp.Literal.string(str(value)), decimal_type())
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, timedelta):
        micros = value // timedelta(microseconds=1)
        return exp.Interval(this=exp.Literal.string(str(micros)), unit=exp.var("MICROSECONDS"))
    if isinstance(value, str):
        return exp.Literal.string(value)
    raise Unsupported(f"constant {type(value).__name__}")


def decimal_type() -> exp.DataType:
    return exp.DataType.build(f"DECIMAL(38, {DECIMAL_SCALE})")


def exact_division(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """a / b truncated to DECIMAL_SCALE places, computed on integers; b = 0 gives NULL.

    DuckDB divides DECIMALs as DOUBLE, which breaks exact ties (0.5 vs 0.5000000001): scale both
    sides to HUGEINT, integer-divide, scale back.
    """
    scale = exp.Literal.number(10 ** DECIMAL_SCALE)
    num = exp.cast(exp.Mul(this=exp.cast(a, decimal_type()), expression=scale.copy()), "HUGEINT")
    den = exp.cast(exp.Mul(this=exp.cast(b, decimal_type()), expression=scale.copy()), "HUGEINT")
    quotient = exp.IntDiv(this=exp.Mul(this=num, expression=scale.copy()),
                          expression=exp.Nullif(this=den, expression=exp.Literal.number(0)))
    unit = exp.cast(exp.Literal.string(f"{Decimal(1).scaleb(-DECIMAL_SCALE):f}"),
                    exp.DataType.build(f"DECIMAL({DECIMAL_SCALE + 1}, {DECIMAL_SCALE})"))
    return exp.Mul(this=exp.cast(quotient, exp.DataType.build("DECIMAL(38, 0)")), expression=unit)


# ---- exact durations: arithmetic on whole microseconds, as values.py / runtime.py do ------------
def micros(duration: exp.Expression) -> exp.Expression:
    return exp.func("EPOCH_US", duration)


def interval_of(micros_: exp.Expression) -> exp.Expression:
    return exp.Interval(this=exp.cast(micros_, "BIGINT"), unit=exp.var("MICROSECONDS"))


def _scaled(number: exp.Expression) -> exp.Expression:
    """number × 10^DECIMAL_SCALE as an exact HUGEINT."""
    scale = exp.Literal.number(10 ** DECIMAL_SCALE)
    return exp.cast(exp.Mul(this=exp.cast(number, decimal_type()), expression=scale), "HUGEINT")


def duration_times(duration: exp.Expression, factor: exp.Expression, factor_type: Type) -> exp.Expression:
    """runtime.times: int(µs × factor) µs, truncated toward zero (so is SQL's integer division)."""
    if factor_type.kind is Kind.INT:
        return interval_of(exp.Mul(this=micros(duration), expression=factor))
    product = exp.Mul(this=exp.cast(micros(duration), "HUGEINT"), expression=_scaled(factor))
    return interval_of(exp.IntDiv(this=product, expression=exp.Literal.number(10 ** DECIMAL_SCALE)))


def duration_divided(duration: exp.Expression, divisor: exp.Expression) -> exp.Expression:
    """runtime.divide: int(µs / divisor) µs, truncated toward zero; ÷ 0 is NULL."""
    scaled_micros = exp.Mul(this=exp.cast(micros(duration), "HUGEINT"), expression=exp.Literal.number(10 ** DECIMAL_SCALE))
    return interval_of(exp.IntDiv(this=scaled_micros, expression=exp.Nullif(this=_scaled(divisor),
                                                                             expression=exp.Literal.number(0))))


def _half_even_quotient(total: exp.Expression, count: exp.Expression) -> exp.Expression:
    """total / count (count > 0) rounded half to even, on integers: how `timedelta / int` rounds."""
    n = exp.Nullif(this=count, expression=exp.Literal.number(0))
    q, r = exp.paren(exp.IntDiv(this=total, expression=n)), exp.paren(exp.Mod(this=total.copy(), expression=n.copy()))
    twice_r = exp.Mul(this=exp.Literal.number(2), expression=exp.Abs(this=r))
    away = exp.or_(exp.GT(this=twice_r, expression=n.copy()),
                   exp.and_(exp.EQ(this=twice_r.copy(), expression=n.copy()),
                            exp.NEQ(this=exp.Mod(this=q.copy(), expression=exp.Literal.number(2)), expression=exp.Literal.number(0))))
    step = exp.Case().when(away, exp.Sign(this=total.copy())).else_(exp.Literal.number(0))
    return exp.Add(this=q.copy(), expression=step)


def _duration_aggregate(func: str, arg: exp.Expression) -> exp.Expression:
    """sum / avg of durations: of their microseconds (DuckDB has no SUM(INTERVAL))."""
    total = exp.Sum(this=micros(arg))
    if func == "sum":
        return interval_of(total)
    return interval_of(_half_even_quotient(total, exp.Count(this=arg.copy())))


# ---- windows -------------------------------------------------------------------------------------
def _window_values(comp: ExprCompiler, window: Window, scope: _Scope) -> dict[str, exp.Expression]:
    """Each aggregate name of `window` → a correlated scalar subquery over the window's rows."""
    row = f"w{window.index}"
    inner = _Scope(scope.rule, scope.this, row)
    conditions = [exp.EQ(this=exp.column(k, table=row, quoted=True), expression=exp.column(k, table=scope.this, quoted=True))
                  for k in window.by]
    guards = [exp.column(k, table=scope.this, quoted=True) for k in window.by]
    if window.where is not None:
        conditions.append(exp.Is(this=exp.paren(comp.gen(window.where, inner)), expression=exp.true()))
    if window.range is not None:
        conditions += _range_conditions(comp, window, inner, guards)
    out = {}
    for name, value in window.aggregates:
        nodes = {}
        for agg in (n for n in ir.walk(value) if isinstance(n, ir.Aggregate)):
            nodes[id(agg)] = _subquery(comp, window, agg, inner, conditions)
        expr = comp.gen(value, _Scope(scope.rule, scope.this, None, {}, nodes))
        out[name] = _guarded(expr, guards)
    return out


def _range_conditions(comp, window: Window, inner: _Scope, guards: list) -> list[exp.Expression]:
    rng = window.range
    column = exp.column(rng.field, table=inner.row, quoted=True)
    field_type = window.kind.field(rng.field).type
    out = []
    for node, closed, low in ((rng.low, rng.low_closed, True), (rng.high, rng.high_closed, False)):
        if node is None:
            continue
        bound = comp.gen(node, inner)
        guards.append(bound)  # an empty bound: the window cannot be placed, aggregates empty
        col = column.copy()
        if field_type.kind is Kind.DATE and node.type.kind is Kind.DATETIME:
            col = exp.cast(col, "TIMESTAMP")
        if field_type.kind is Kind.DATETIME and node.type.kind is Kind.DATE:
            bound = exp.cast(bound, "TIMESTAMP")
        cls = (exp.GTE if closed else exp.GT) if low else (exp.LTE if closed else exp.LT)
        out.append(cls(this=col, expression=bound))
    return out


def _subquery(comp: ExprCompiler, window: Window, agg: ir.Aggregate, inner: _Scope, conditions) -> exp.Expression:
    if agg.arg is None:
        value = exp.Count(this=exp.Star())
    elif agg.func == "count":  # unknown is not counted
        pred = exp.Is(this=exp.paren(comp.gen(agg.arg, inner)), expression=exp.true())
        value = exp.Coalesce(this=exp.func("COUNT_IF", pred), expressions=[exp.Literal.number(0)])
    else:
        arg = comp.gen(agg.arg, inner)
        if agg.func in ("sum", "avg") and agg.arg.type.kind is Kind.DURATION:
            value = _duration_aggregate(agg.func, arg)
        elif agg.func == "avg":
            total = exp.cast(exp.Sum(this=arg), decimal_type())
            value = exact_division(total, exp.Count(this=arg.copy()))
        else:
            value = {"sum": exp.Sum, "min": exp.Min, "max": exp.Max}[agg.func](this=arg)
    select = exp.select(value).from_(exp.alias_(exp.to_table(table_name(window.kind.name)), inner.row, table=True))
    if conditions:
        select = select.where(exp.and_(*[c.copy() for c in conditions]))
    return exp.Subquery(this=select)


def _guarded(expr: exp.Expression, guards: list) -> exp.Expression:
    """NULL when a key field of the record under test (or a range bound) is empty."""
    if not guards:
        return expr
    empty = exp.or_(*[exp.Is(this=g.copy(), expression=exp.Null()) for g in guards])
    return exp.Case().when(empty, exp.Null()).else_(expr)


# ---- rules and kinds -----------------------------------------------------------------------------
def rule_scope(comp: ExprCompiler, rule: Rule) -> _Scope:
    scope = _Scope(rule)
    for window in rule.windows:
        scope.aggregates.update(_window_values(comp, window, scope))
    return scope


def name_value(comp: ExprCompiler, rp: RulePlan, scope: _Scope, name: str) -> exp.Expression:
    """The value of a name the rule reads: a field, let, aggregate or fact."""
    lets = dict(rp.rule.lets)
    if name in rp.rule.kind.field_names:
        return exp.column(name, table=scope.this, quoted=True)
    if name in lets:
        return comp.gen(ir.LetRef(name, "let", lets[name].type), scope)
    if name in scope.aggregates:
        return scope.aggregates[name].copy()
    return comp.gen(ir.LetRef(name, "fact", comp.fact_type(name, rp.rule)), scope)


def missing_list(comp: ExprCompiler, rp: RulePlan, scope: _Scope) -> exp.Expression:
    """The candidate fields/names that are NULL, as a LIST of names (in the plan's order)."""
    items = [exp.If(this=exp.Is(this=exp.paren(name_value(comp, rp, scope, name)), expression=exp.Null()),
                    true=exp.Literal.string(name))
             for name in (*rp.empty_fields, *rp.empty_names)]
    array = exp.Array(expressions=items)
    return exp.func("LIST_FILTER", array, exp.Lambda(this=exp.Not(this=exp.Is(this=exp.column("x"), expression=exp.Null())),
                                                    expressions=[exp.to_identifier("x")]))


def evidence_struct(comp: ExprCompiler, rp: RulePlan, scope: _Scope) -> exp.Expression:
    """The values the finding reports (`RulePlan.evidence`: fields, lets, facts, aggregates) as a
    STRUCT, or NULL when the rule has none."""
    if not rp.evidence:
        return exp.Null()
    return exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(n, quoted=True),
                                                  expression=name_value(comp, rp, scope, n)) for n in rp.evidence])


@dataclass
class KindQuery:
    kind: str
    select: exp.Select
    rules: tuple[RulePlan, ...]  # in the order of their columns
    unsupported: dict[str, str]  # rule id → what could not be translated
    group_queries: tuple = ()  # groups.GroupQuery per translatable group rule (run by groups.run_groups)

    def sql(self, dialect: str = "duckdb", pretty: bool = True) -> str:
        return self.select.sql(dialect=dialect, pretty=pretty)


ROW_FROM, ROW_TO = "row_from", "row_to"  # the optional row range parameters of a batch query


def evidence_column(rule_id: str) -> str:
    return f"{rule_id}__evidence"


def compile_kind(plan: Plan, kp: KindPlan, only: set[str] | None = None, evidence: bool = False,
                 row_range: bool = False) -> KindQuery:
    """The SELECT of one record kind (`only`: just these rule ids). `evidence` adds a STRUCT column
    per rule with the values its finding reports; `row_range` limits the records under test to
    `$row_from <= __row < $row_to` (windows still see every record).

    Window aggregates are computed once, as columns of an inner SELECT over the kind's table (also
    aliased `t`), and read by the outcome, missing and evidence columns."""
    from .sliding import sliding_values  # sliding.py builds on this module: imported here, not at the top

    comp = ExprCompiler(plan)
    t = "t"
    columns: list[exp.Expression] = [exp.column(ROW_ID, table=t, quoted=True)]
    columns += [exp.column(k, table=t, quoted=True) for k in _kind(plan, kp.kind).key_fields]
    aggregates: list[exp.Expression] = []
    sliding: list[exp.Expression] = []  # window-function columns (sliding.py), over the whole table
    rules, unsupported = [], {}
    for rp in kp.record_rules:
        if only is not None and rp.rule.id not in only:
            continue
        try:
            scope = rule_scope(comp, rp.rule)
            slides, slide_columns = sliding_values(comp, rp.rule, len(sliding))
            scope.aggregates.update(slides)
            computed = []
            for name, value in scope.aggregates.items():
                alias = f"__agg{len(aggregates) + len(computed)}"
                computed.append(exp.alias_(value, alias, quoted=True))
                scope.aggregates[name] = exp.column(alias, table=t, quoted=True)
            outcome = comp.gen(rp.rule.condition, scope)
            missing = missing_list(comp, rp, scope)
            proof = evidence_struct(comp, rp, scope) if evidence else None
        except Unsupported as e:
            unsupported[rp.rule.id] = e.what
            continue
        aggregates += computed
        sliding += slide_columns
        columns.append(exp.alias_(outcome, outcome_column(rp.rule.id), quoted=True))
        columns.append(exp.alias_(missing, missing_column(rp.rule.id), quoted=True))
        if proof is not None:
            columns.append(exp.alias_(proof, evidence_column(rp.rule.id), quoted=True))
        rules.append(rp)
    table = exp.alias_(exp.to_table(table_name(kp.kind)), t, table=True)
    if sliding:  # computed before the row range narrows the records under test
        table = exp.Subquery(this=exp.select(exp.column(exp.Star(), table=t), *sliding).from_(table),
                             alias=exp.TableAlias(this=exp.to_identifier(t)))
    source = exp.select(exp.Star()).from_(table)
    if aggregates:
        source = exp.select(exp.column(exp.Star(), table=t), *aggregates).from_(table.copy())
    if row_range:
        row = exp.column(ROW_ID, table=t, quoted=True)
        source = source.where(exp.and_(exp.GTE(this=row, expression=exp.Placeholder(this=ROW_FROM)),
                                       exp.LT(this=row.copy(), expression=exp.Placeholder(this=ROW_TO))), copy=False)
    from_ = (table if source.args.get("where") is None and not aggregates
             else exp.Subquery(this=source, alias=exp.TableAlias(this=exp.to_identifier(t))))
    from .groups import compile_group  # groups.py builds on this module: imported here, not at the top

    group_queries = []
    for rp in kp.group_rules:
        if only is not None and rp.rule.id not in only:
            continue
        try:
            group_queries.append(compile_group(comp, rp))
        except Unsupported as e:
            unsupported[rp.rule.id] = e.what
    joins: dict[str, tuple[str, exp.Expression]] = {}
    columns = [_hoist_lookups(c, joins) for c in columns]
    select = exp.select(*columns).from_(from_, copy=False)
    for alias, day in joins.values():  # each distinct day looked up once, by a hash join
        select = select.join(exp.alias_(exp.to_table(CALENDAR), alias, table=True), join_type="LEFT",
                             on=exp.EQ(this=exp.column("day", table=alias), expression=day), copy=False)
    return KindQuery(kp.kind, select, tuple(rules), unsupported, tuple(group_queries))


def _kind(plan: Plan, name: str):
    return plan.program.kinds[name]


def compile_plan(plan: Plan, only: set[str] | None = None, evidence: bool = False,
                 row_range: bool = False) -> list[KindQuery]:
    return [compile_kind(plan, kp, only, evidence, row_range) for kp in plan.kinds]


def check_sql(plan: Plan, queries: list[KindQuery] | None = None) -> list[Diagnostic]:
    """E0601 for every rule the SQL backend cannot translate (the check-time error); `queries`:
    the plan's compiled queries when already at hand."""
    out = []
    for query in queries if queries is not None else compile_plan(plan):
        for rule_id, what in query.unsupported.items():
            rule = plan.program.rule(rule_id)
            out.append(Diagnostic("E0601", f"规则 {rule_id} 含 SQL 后端尚不支持的写法：{what}", rule.span,
                                  "改用 --engine python 运行，或改写该条件"))
    return out


# ---- calendar lookups as joins -------------------------------------------------------------------
def _lookup_parts(node: exp.Expression) -> tuple[str, exp.Expression] | None:
    """(column, day) of a calendar lookup `(SELECT cal.column FROM calendar_days AS cal WHERE
    cal.day = day)`, else None."""
    if not isinstance(node, exp.Subquery) or not isinstance(node.this, exp.Select):
        return None
    select = node.this
    source, where = select.args.get("from_") or select.args.get("from"), select.args.get("where")
    if (source is None or where is None or len(select.expressions) != 1 or select.args.get("joins")
            or not isinstance(source.this, exp.Table) or source.this.name != CALENDAR
            or not isinstance(where.this, exp.EQ)):
        return None
    alias, column, day = source.this.alias_or_name, select.expressions[0], where.this
    if not (isinstance(column, exp.Column) and column.table == alias and isinstance(day.this, exp.Column)
            and day.this.table == alias and day.this.name == "day"):
        return None
    return column.name, day.expression


def _hoist_lookups(node: exp.Expression, joins: dict) -> exp.Expression:
    """`node` with every calendar lookup on the record under test (alias t) replaced by a column
    of a LEFT JOIN with the calendar (collected in `joins`: day SQL → (alias, day)). DuckDB runs
    correlated lookups as one delimited join each, and a kind's rules make dozens of them on a
    handful of distinct days; as joins, each distinct day costs one hash join."""
    parts = _lookup_parts(node)
    if parts is not None:
        column, day = parts
        day = _hoist_lookups(day.copy(), joins)
        if all(c.table == "t" or c.table.startswith("__cal") for c in day.find_all(exp.Column)):
            alias = joins.setdefault(day.sql(), (f"__cal{len(joins)}", day))[0]
            value = exp.column(column, table=alias)
            # an output column that is a lookup carries its name on the subquery itself
            return exp.alias_(value, node.alias, quoted=True) if node.alias else value
        return node
    if isinstance(node, (exp.Subquery, exp.Select, exp.Lambda)):
        return node  # other scopes (windows, lambdas) keep their lookups
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expression):
            node.set(key, _hoist_lookups(value, joins))
        elif isinstance(value, list):
            node.set(key, [_hoist_lookups(v, joins) if isinstance(v, exp.Expression) else v for v in value])
    return node
