"""Plan → SQL as sqlglot expression trees: one SELECT per record kind, one outcome column per
record rule (TRUE fired, FALSE passed, NULL undetermined) and one `missing` column listing the
plan's candidate empty fields/names that are NULL. Printed per dialect with `.sql(dialect=...)`.

Types (see docs/sql_backend.md): decimals and money stay DECIMAL (division is done on scaled
HUGEINTs, never DOUBLE), durations are INTERVALs, enums and months VARCHAR, lists LIST.
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

AS_OF = "as_of"  # the named parameter every query takes
ROW_ID = "__row"
CALENDAR = "calendar_days"  # (day DATE, is_workday BOOLEAN, workday_index BIGINT): see duckdb_runner  # position of the record in its input: how outcomes map back to records
DECIMAL_SCALE = 10  # digits kept after the point by division (DECIMAL(38, 10))
_COMPARE = {"eq": exp.EQ, "ne": exp.NEQ, "lt": exp.LT, "le": exp.LTE, "gt": exp.GT, "ge": exp.GTE}
_CALLS = {"abs": "ABS", "len": "LEN", "year": "YEAR", "month_of_year": "MONTH", "day": "DAY", "hour": "HOUR",
          "weekday": "ISODOW"}


class Unsupported(Exception):
    """A construct with no SQL translation yet; `what` says which."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


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
        a, b = self._promoted(n.left, n.right, scope), self._promoted(n.right, n.left, scope)
        if n.op in _COMPARE:
            return exp.paren(_COMPARE[n.op](this=a, expression=b))
        return exp.paren(self._arith(n, a, b))

    def _promoted(self, node: ir.Node, other: ir.Node, scope: _Scope) -> exp.Expression:
        code = self.gen(node, scope)
        if node.type.kind is Kind.DATE and other.type.kind is Kind.DATETIME:
            return exp.cast(code, "TIMESTAMP")
        return code

    def _arith(self, n: ir.Binary, a: exp.Expression, b: exp.Expression) -> exp.Expression:
        left, right = n.left.type, n.right.type
        if Kind.MONTH in (left.kind, right.kind) or (right.calendar and n.op in ("mul", "div")):
            raise Unsupported("month arithmetic")
        if n.op == "add":
            return exp.Add(this=a, expression=b)
        if n.op == "sub" and left.kind is Kind.DATE and right.kind is Kind.DATE:
            return exp.func("TO_DAYS", exp.Sub(this=a, expression=b))  # DuckDB gives days as BIGINT
        if n.op == "sub":
            return exp.Sub(this=a, expression=b)
        if n.op == "mul":
            if Kind.DURATION in (left.kind, right.kind):
                raise Unsupported("duration × number")
            return exp.Mul(this=a, expression=b)
        if left.kind is Kind.DURATION or right.kind is Kind.DURATION:
            raise Unsupported("duration division")
        return exact_division(a, b)

    def _Coalesce(self, n: ir.Coalesce, scope: _Scope) -> exp.Expression:
        a, b = self._promoted(n.left, n.right, scope), self._promoted(n.right, n.left, scope)
        return exp.Coalesce(this=a, expressions=[b])

    def _IsEmpty(self, n: ir.IsEmpty, scope: _Scope) -> exp.Expression:
        test = exp.Is(this=exp.paren(self.gen(n.operand, scope)), expression=exp.Null())
        return exp.paren(exp.Not(this=test) if n.negated else test)

    def _InList(self, n: ir.InList, scope: _Scope) -> exp.Expression:
        items = [i for i in n.items if not (isinstance(i, ir.Const) and i.value is None)]
        if len(items) != len(n.items):
            raise Unsupported("empty inside `in` list")
        test = exp.In(this=self.gen(n.operand, scope), expressions=[self.gen(i, scope) for i in items])
        return exp.paren(exp.Not(this=test) if n.negated else test)

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
        if n.func == "workdays_between":  # a subtraction of workday indexes
            return exp.Sub(this=_calendar_lookup(args[1], "workday_index"), expression=_calendar_lookup(args[0], "workday_index"))
        if n.func == "is_workday":
            return _calendar_lookup(args[0], "is_workday")
        if n.func in _CALLS:
            return exp.func(_CALLS[n.func], *args)
        raise Unsupported(f"function {n.func}")

    def _Case(self, n: ir.Case, scope: _Scope) -> exp.Expression:
        subject = self.gen(n.subject, scope)
        case = exp.Case()
        for values, result in n.arms:
            if not all(isinstance(v, ir.Const) for v in values):
                raise Unsupported("match arm with computed values")
            cond = exp.In(this=subject.copy(), expressions=[self.gen(v, scope) for v in values])
            case = case.when(cond, self.gen(result, scope))
        if n.default is not None:
            case = case.else_(self.gen(n.default, scope))
        return case


def _calendar_lookup(day: exp.Expression, column: str) -> exp.Expression:
    """The calendar table's `column` for the (date of the) value `day`."""
    c = "cal"
    select = exp.select(exp.column(column, table=c)).from_(exp.alias_(exp.to_table(CALENDAR), c, table=True)).where(
        exp.EQ(this=exp.column("day", table=c), expression=exp.cast(day, "DATE")))
    return exp.Subquery(this=select)


def literal(value, t: Type) -> exp.Expression:
    """A constant of type `t` as SQL (typed literals, never DOUBLE)."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int) and t.kind not in (Kind.MONTH,):
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
    if isinstance(value, str) or t.kind is Kind.MONTH:
        return exp.Literal.string(str(value))
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
        if agg.func == "avg":
            if agg.arg.type.kind is Kind.DURATION:
                raise Unsupported("avg of durations")
            total = exp.cast(exp.Sum(this=arg), decimal_type())
            value = exact_division(total, exp.Count(this=arg.copy()))
        else:
            if agg.func == "sum" and agg.arg.type.kind is Kind.DURATION:
                raise Unsupported("sum of durations")
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


def missing_list(comp: ExprCompiler, rp: RulePlan, scope: _Scope) -> exp.Expression:
    """The candidate fields/names that are NULL, as a LIST of names (in the plan's order)."""
    items = []
    lets = dict(rp.rule.lets)
    for name in (*rp.empty_fields, *rp.empty_names):
        if name in rp.rule.kind.field_names:
            value = exp.column(name, table=scope.this, quoted=True)
        elif name in lets:
            value = comp.gen(ir.LetRef(name, "let", lets[name].type), scope)
        elif name in scope.aggregates:
            value = scope.aggregates[name]
        else:
            value = comp.gen(ir.LetRef(name, "fact", comp.fact_type(name, rp.rule)), scope)
        items.append(exp.If(this=exp.Is(this=exp.paren(value), expression=exp.Null()),
                            true=exp.Literal.string(name)))
    array = exp.Array(expressions=items)
    return exp.func("LIST_FILTER", array, exp.Lambda(this=exp.Not(this=exp.Is(this=exp.column("x"), expression=exp.Null())),
                                                    expressions=[exp.to_identifier("x")]))


@dataclass
class KindQuery:
    kind: str
    select: exp.Select
    rules: tuple[RulePlan, ...]  # in the order of their columns
    unsupported: dict[str, str]  # rule id → what could not be translated

    def sql(self, dialect: str = "duckdb", pretty: bool = True) -> str:
        return self.select.sql(dialect=dialect, pretty=pretty)


def compile_kind(plan: Plan, kp: KindPlan, only: set[str] | None = None) -> KindQuery:
    """The SELECT of one record kind (`only`: just these rule ids)."""
    comp = ExprCompiler(plan)
    t = "t"
    columns: list[exp.Expression] = [exp.column(ROW_ID, table=t, quoted=True)]
    columns += [exp.column(k, table=t, quoted=True) for k in _kind(plan, kp.kind).key_fields]
    rules, unsupported = [], {}
    for rp in kp.record_rules:
        if only is not None and rp.rule.id not in only:
            continue
        try:
            scope = rule_scope(comp, rp.rule)
            outcome = comp.gen(rp.rule.condition, scope)
            missing = missing_list(comp, rp, scope)
        except Unsupported as e:
            unsupported[rp.rule.id] = e.what
            continue
        columns.append(exp.alias_(outcome, outcome_column(rp.rule.id), quoted=True))
        columns.append(exp.alias_(missing, missing_column(rp.rule.id), quoted=True))
        rules.append(rp)
    for rp in kp.group_rules:
        unsupported[rp.rule.id] = "group rule"
    select = exp.select(*columns).from_(exp.alias_(exp.to_table(table_name(kp.kind)), t, table=True))
    return KindQuery(kp.kind, select, tuple(rules), unsupported)


def _kind(plan: Plan, name: str):
    return plan.program.kinds[name]


def compile_plan(plan: Plan, only: set[str] | None = None) -> list[KindQuery]:
    return [compile_kind(plan, kp, only) for kp in plan.kinds]


def check_sql(plan: Plan) -> list[Diagnostic]:
    """E0601 for every rule the SQL backend cannot translate (the check-time error)."""
    out = []
    for query in compile_plan(plan):
        for rule_id, what in query.unsupported.items():
            rule = plan.program.rule(rule_id)
            out.append(Diagnostic("E0601", f"规则 {rule_id} 含 SQL 后端尚不支持的写法：{what}", rule.span,
                                  "改用 --engine python 运行，或改写该条件"))
    return out
