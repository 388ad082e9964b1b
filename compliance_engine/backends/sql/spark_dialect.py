"""The compiled (DuckDB-oriented) SELECT trees rewritten into Spark-correct SQL.

`compiler.py` builds one tree per record kind with DuckDB's functions and types. Printing it
with sqlglot's Spark dialect is not enough: several constructs mean something else on Spark
(or nothing). `spark_query` rewrites a `KindQuery` rule by rule; a rule holding a construct
with no Spark-correct form moves to `unsupported` (E0601 for `--engine spark`), so the engine
never gives silently different results. Every node of a rewritten column must be on the
allow-list below, which also catches constructs added to the compiler later.

What changes (docs/sql_backend.md § Spark):
- exact division: DuckDB's scaled-HUGEINT pattern → `ce_exact_div(a, b)`, a SQL function
  (`SPARK_FUNCTIONS`) dividing DECIMAL(38, 10)s exactly, truncated to 10 places;
- `TIMESTAMP` → `TIMESTAMP_NTZ` (naive local time, never shifted by a time zone);
- `TO_DAYS(d1 - d2)` → `MAKE_DT_INTERVAL(DATEDIFF(d1, d2))`;
- `ISODOW(d)` → `WEEKDAY(d) + 1` (sqlglot's own Spark form is off by one);
- `LIST_FILTER` → `FILTER`, `LIST_CONTAINS` → `ARRAY_CONTAINS`, `IF(c, x)` → `IF(c, x, NULL)`;
- the calendar lookups become `MAX(...)` (Spark wants correlated scalar subqueries aggregated;
  the day is unique, so the value is the same).
The session must run with ANSI mode (overflow is an error, never NULL) and without decimal
precision loss (products keep every place, like DuckDB): `spark_runner.SPARK_CONF`.
"""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from ...schema import RecordKind
from ...types import Kind
from ...plan import Plan
from .compiler import AS_OF, CALENDAR, DECIMAL_SCALE, KindQuery, Unsupported, compile_kind

EXACT_DIV = "ce_exact_div"
_TRUNC_DIV = "ce_trunc_div"
_DEC = f"DECIMAL(38, {DECIMAL_SCALE})"
_UNIT = f"0.{'0' * (DECIMAL_SCALE - 1)}1"
# a / b for a, b ≥ 0: Spark divides DECIMAL(38, 10)s into DECIMAL(38, 18) rounded half-up; its
# floor to 10 places is the true truncation or one unit above it, which `q * b > a` detects.
# Then the sign, truncating toward zero like DuckDB's integer division. b = 0 → NULL.
SPARK_FUNCTIONS = (
    f"CREATE OR REPLACE TEMPORARY FUNCTION {_TRUNC_DIV}(a {_DEC}, b {_DEC}) RETURNS {_DEC} RETURN "
    f"CASE WHEN FLOOR(a / b, {DECIMAL_SCALE}) * b > a THEN FLOOR(a / b, {DECIMAL_SCALE}) - {_UNIT} "
    f"ELSE FLOOR(a / b, {DECIMAL_SCALE}) END",
    f"CREATE OR REPLACE TEMPORARY FUNCTION {EXACT_DIV}(a {_DEC}, b {_DEC}) RETURNS {_DEC} RETURN "
    f"CASE WHEN (a < 0) <> (b < 0) THEN -{_TRUNC_DIV}(ABS(a), ABS(NULLIF(b, 0))) "
    f"ELSE {_TRUNC_DIV}(ABS(a), ABS(NULLIF(b, 0))) END",
)

# Nodes whose Spark printing means what DuckDB's does (NULL semantics included).
_ALLOWED = {
    exp.Struct, exp.PropertyEQ, exp.Group,  # evidence STRUCTs: STRUCT(value AS name, ...); group rules
    exp.Identifier, exp.Column, exp.Paren, exp.Literal, exp.Null, exp.Boolean, exp.Is, exp.Alias,
    exp.And, exp.Or, exp.Not, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In, exp.Case, exp.If,
    exp.Coalesce, exp.Add, exp.Sub, exp.Mul, exp.Neg, exp.Cast, exp.DataType, exp.DataTypeParam, exp.Array,
    exp.Lambda, exp.Select, exp.From, exp.Table, exp.TableAlias,
    exp.Where, exp.Subquery, exp.Interval, exp.Var, exp.Placeholder, exp.Count, exp.CountIf, exp.Star,
    exp.Sum, exp.Min, exp.Max, exp.Abs, exp.Year, exp.Month, exp.Day, exp.Hour, exp.Least, exp.Greatest,
    exp.StartsWith, exp.EndsWith, exp.Contains, exp.Nullif, exp.IntDiv, exp.Mod, exp.Join, exp.LastDay,
    exp.DPipe, exp.TimeToStr, exp.Length, exp.Window, exp.WindowSpec, exp.Order, exp.Ordered, exp.Filter,
}
# Anonymous functions we emit (or DuckDB's that mean the same on Spark)
_ANONYMOUS = {EXACT_DIV.upper(), "WEEKDAY", "MAKE_DT_INTERVAL", "SIZE", "TIMESTAMPDIFF", "TIMESTAMPADD", "DATEDIFF",
              "ARRAYS_OVERLAP", "FILTER", "ARRAY_CONTAINS"}
_TYPES = {exp.DataType.Type.DECIMAL, exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMPNTZ,
          exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT, exp.DataType.Type.BIGINT, exp.DataType.Type.INT,
          exp.DataType.Type.BOOLEAN, exp.DataType.Type.ARRAY}


def compile_spark(plan: Plan, only: set[str] | None = None, evidence: bool = False) -> list[KindQuery]:
    """compile_plan's queries rewritten for Spark. A rule whose SQL has no Spark-correct form
    moves to `unsupported` (found by rewriting each rule's own query); so does a group rule whose
    queries have none."""
    out = []
    for kp in plan.kinds:
        query = compile_kind(plan, kp, only, evidence)
        try:
            out.append(spark_query(query, plan.program.kinds))
            continue
        except Unsupported:
            pass
        failed = {}
        for rp in query.rules:
            try:
                spark_query(compile_kind(plan, kp, {rp.rule.id}, evidence), plan.program.kinds)
            except Unsupported as e:
                failed[rp.rule.id] = f"{e.what}（Spark）"
        kept = {rp.rule.id for rp in query.rules} - set(failed)
        rewritten = spark_query(compile_kind(plan, kp, kept, evidence), plan.program.kinds)
        rewritten.unsupported.update(query.unsupported)
        rewritten.unsupported.update(failed)
        out.append(rewritten)
    return out


def spark_query(query: KindQuery, kinds: dict[str, RecordKind]) -> KindQuery:
    """The whole query rewritten for Spark (raises Unsupported for the record rules' SELECT); a
    group rule whose SELECTs have no Spark form moves to `unsupported`."""
    select = to_spark(query.select.copy(), kinds)
    unsupported = dict(query.unsupported)
    groups = []
    for group in query.group_queries:
        try:
            groups.append(replace(group, groups=to_spark(group.groups.copy(), kinds),
                                  empty_keys=to_spark(group.empty_keys.copy(), kinds)))
        except Unsupported as e:
            unsupported[group.rule.rule.id] = f"{e.what}（Spark）"
    return replace(query, select=select, unsupported=unsupported, group_queries=tuple(groups))


def to_spark(tree: exp.Expression, kinds: dict[str, RecordKind]) -> exp.Expression:
    """A tree rewritten for Spark, bottom-up (raises Unsupported)."""
    tree = _bottom_up(tree, _exact_division)
    tree = _bottom_up(tree, lambda n: _rewrite(n, kinds, tree))
    for node in tree.walk():
        _check(node)
    return tree


def _bottom_up(node: exp.Expression, fun) -> exp.Expression:
    """`fun` applied to every node, children first (so rewritten nodes hold rewritten children)."""
    for child in list(node.iter_expressions()):
        _bottom_up(child, fun)
    new = fun(node)
    if new is not node and node.parent is not None:
        node.replace(new)
    return new


def spark_sql(query: KindQuery, pretty: bool = False) -> str:
    return query.select.sql(dialect="spark", pretty=pretty)


# ---- rewrites ------------------------------------------------------------------------------------
def _exact_division(node: exp.Expression) -> exp.Expression:
    """compiler.exact_division's tree → ce_exact_div(a, b)."""
    if not isinstance(node, exp.Mul) or not isinstance(node.this, exp.Cast):
        return node
    quotient = node.this.this
    if not isinstance(quotient, exp.IntDiv):
        return node
    a = _scaled_operand(quotient.this.this if isinstance(quotient.this, exp.Mul) else None)
    den = quotient.expression
    b = _scaled_operand(den.this if isinstance(den, exp.Nullif) else None)
    if a is None or b is None:
        raise Unsupported("integer division")
    return exp.Anonymous(this=EXACT_DIV, expressions=[a, b])


def _scaled_operand(node) -> exp.Expression | None:
    """x from CAST(CAST(x AS DECIMAL(38, 10)) * 10^10 AS HUGEINT)."""
    if not (isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.INT128)):
        return None
    mul = node.this
    if not (isinstance(mul, exp.Mul) and isinstance(mul.this, exp.Cast)):
        return None
    return mul.this.this


def _rewrite(node: exp.Expression, kinds, root) -> exp.Expression:
    if isinstance(node, exp.DataType):
        return _spark_type(node)
    if isinstance(node, exp.DayOfWeekIso) or (isinstance(node, exp.Anonymous) and node.name.upper() == "ISODOW"):
        day = node.this if isinstance(node, exp.DayOfWeekIso) else node.expressions[0]
        return exp.paren(exp.Add(this=_fn("WEEKDAY", day), expression=exp.Literal.number(1)))
    if isinstance(node, exp.ToDays):
        return _days_interval(node.this)
    if isinstance(node, exp.Anonymous) and node.name.upper() in _RENAMED:
        return _fn(_RENAMED[node.name.upper()], *node.expressions)
    if isinstance(node, exp.Anonymous) and node.name.upper() == "EPOCH_US":  # an interval's microseconds
        base = exp.cast(exp.Literal.string("2000-01-01 00:00:00"), _NTZ.copy())
        return _fn("TIMESTAMPDIFF", exp.var("MICROSECOND"), base, exp.Add(this=base.copy(), expression=node.expressions[0]))
    if isinstance(node, exp.If) and node.args.get("false") is None:
        node.set("false", exp.Null())
        return node
    if isinstance(node, exp.Interval) and isinstance(node.parent, exp.WindowSpec):
        return _frame_bound(node, node.parent.parent, kinds, root)
    if isinstance(node, exp.Interval):
        return _interval(node)
    if isinstance(node, exp.Length):
        return _length(node, kinds, root)
    if isinstance(node, exp.ArraySize):
        return _fn("SIZE", node.this)
    if isinstance(node, exp.ArrayOverlaps):
        return _fn("ARRAYS_OVERLAP", node.this, node.expression)
    if isinstance(node, exp.Sign):  # Spark's SIGN is a DOUBLE
        return exp.cast(node, "BIGINT")
    if isinstance(node, exp.DateAdd):
        return _date_add(node)
    if isinstance(node, exp.DateDiff):
        return _date_diff(node.this, node.expression, node.text("unit") or "DAY")
    if isinstance(node, exp.TimeToStr) and node.args.get("format") and node.args["format"].name != "%Y-%m":
        raise Unsupported(f"time format {node.args['format'].name}")
    if isinstance(node, exp.DPipe) and node.args.get("safe"):
        raise Unsupported("NULL-safe concatenation")
    if isinstance(node, exp.Subquery) and _reads(node, CALENDAR):
        return _aggregated_lookup(node)
    if isinstance(node, exp.Subquery) and isinstance(node.this, exp.Select) and _outer_refs(node.this):
        return _local_aggregate(node)
    if isinstance(node, exp.Placeholder) and node.name != AS_OF:
        raise Unsupported(f"parameter {node.name}")
    return node


_NTZ = exp.DataType.build("TIMESTAMP_NTZ", dialect="spark")
_RENAMED = {"LIST_FILTER": "FILTER", "LIST_CONTAINS": "ARRAY_CONTAINS"}


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _spark_type(node: exp.DataType) -> exp.DataType:
    if node.is_type(exp.DataType.Type.TIMESTAMP):  # naive local time, never shifted
        return _NTZ.copy()
    if node.is_type(exp.DataType.Type.INT128):  # integers of up to 38 digits
        return exp.DataType.build("DECIMAL(38, 0)")
    return node


def _date_add(node: exp.DateAdd) -> exp.Expression:
    """value + n days / months as TIMESTAMP_NTZ (DuckDB's DATE + INTERVAL is a TIMESTAMP too);
    months clamp to the month's last day on both."""
    unit = (node.text("unit") or "DAY").upper()
    if unit not in ("DAY", "MONTH"):
        raise Unsupported(f"date arithmetic in {unit}")
    return _fn("TIMESTAMPADD", exp.var(unit), node.expression, exp.cast(node.this, _NTZ.copy()))


def _date_diff(end: exp.Expression, start: exp.Expression, unit: str) -> exp.Expression:
    """Day or month boundaries between two dates (DuckDB's date_diff)."""
    unit = unit.upper()
    if unit == "DAY":
        return _fn("DATEDIFF", exp.cast(end, "DATE"), exp.cast(start, "DATE"))
    if unit != "MONTH":
        raise Unsupported(f"date difference in {unit}")

    def months(d):
        return exp.Add(this=exp.Mul(this=exp.Year(this=d), expression=exp.Literal.number(12)), expression=exp.Month(this=d.copy()))
    return exp.paren(exp.Sub(this=exp.paren(months(end)), expression=exp.paren(months(start))))


def _days_interval(arg: exp.Expression) -> exp.Expression:
    """DuckDB's TO_DAYS(n) as a Spark day-time interval (date − date is DATEDIFF's whole days)."""
    inner = arg.unnest() if isinstance(arg, exp.Paren) else arg
    if isinstance(inner, exp.Sub):
        arg = _fn("DATEDIFF", inner.this, inner.expression)
    return _fn("MAKE_DT_INTERVAL", arg)


def _interval(node: exp.Interval) -> exp.Expression:
    """INTERVAL 'n' MICROSECONDS → a DAY TO SECOND literal; of a computed count → MAKE_DT_INTERVAL
    of exact seconds (DECIMAL with 6 places)."""
    unit = node.args.get("unit")
    if unit is None or unit.name.upper() not in ("MICROSECOND", "MICROSECONDS"):
        raise Unsupported(f"interval {node.sql()}")
    if not node.this.is_string:
        micro = exp.DataType.build("DECIMAL(7, 6)")
        seconds = exp.Mul(this=exp.cast(node.this, "DECIMAL(38, 0)"), expression=exp.cast(exp.Literal.string("0.000001"), micro))
        return _fn("MAKE_DT_INTERVAL", *(exp.Literal.number(0) for _ in range(3)), seconds)
    micros = int(node.this.name)
    sign, micros = ("-", -micros) if micros < 0 else ("", micros)
    seconds, frac = divmod(micros, 1_000_000)
    days, seconds = divmod(seconds, 86_400)
    text = f"{sign}{days} {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{frac:06d}"
    return exp.Interval(this=exp.Literal.string(text), unit=exp.var("DAY TO SECOND"))


def _frame_bound(node: exp.Interval, window, kinds, root) -> exp.Expression:
    """A RANGE frame's offset: over a DATE Spark wants whole days, over a timestamp an interval."""
    order = window.args.get("order") if isinstance(window, exp.Window) else None
    key = order.expressions[0].this if order is not None and order.expressions else None
    if _column_kind(key, kinds, root) is not Kind.DATE:
        return _interval(node)
    unit = node.args.get("unit")
    micros = int(node.this.name) if node.this.is_string and unit is not None and \
        unit.name.upper() in ("MICROSECOND", "MICROSECONDS") else None
    if micros is None or micros % 86_400_000_000:
        raise Unsupported(f"date window frame {node.sql()}")
    return exp.Literal.number(micros // 86_400_000_000)


def _length(node: exp.Length, kinds, root) -> exp.Expression:
    """LEN of text is LENGTH; of a list SIZE (Spark has no function for both)."""
    arg = node.this
    if isinstance(arg, exp.Array):
        return exp.Anonymous(this="SIZE", expressions=[arg])
    kind = _column_kind(arg, kinds, root)
    if kind is Kind.LIST:
        return exp.Anonymous(this="SIZE", expressions=[arg])
    if kind in (Kind.TEXT, Kind.ENUM):
        return node
    raise Unsupported("len of a computed value")


def _column_kind(col: exp.Expression, kinds, root) -> Kind | None:
    """The field type's kind of a column `alias.field`, from the record kind its table holds."""
    if not isinstance(col, exp.Column):
        return None
    for table in root.find_all(exp.Table):
        if table.alias_or_name == col.table and table.name.startswith("records_"):
            kind = kinds.get(table.name.removeprefix("records_"))
            field = kind and next((f for f in kind.fields if f.name == col.name), None)
            return field.type.kind if field else None
    return None


def _reads(subquery: exp.Subquery, table: str) -> bool:
    source = _source(subquery.this)
    return source is not None and source.name == table


def _source(select) -> exp.Table | None:
    """The table a SELECT reads (FROM), if it reads one."""
    source = select.args.get("from_") or select.args.get("from") if isinstance(select, exp.Select) else None
    return source.this if source is not None and isinstance(source.this, exp.Table) else None


def _aggregated_lookup(subquery: exp.Subquery) -> exp.Expression:
    """A calendar lookup as Spark accepts it: correlated scalar subqueries must be aggregated (the
    looked-up day is unique, so MAX of a column is the column). An aggregate may not mix the
    subquery's columns with the outer query's (add_workdays past the table's edge does): such a
    rule is unsupported on Spark — spelled out per column it grows too large for Spark to plan."""
    select = subquery.this
    [value] = select.expressions
    if isinstance(value, exp.AggFunc):
        return subquery
    if not isinstance(value, exp.Column) and _outer_refs(select):
        raise Unsupported("add_workdays beyond the calendar table")
    select.set("expressions", [exp.Max(this=value)])
    return subquery


def _local_aggregate(subquery: exp.Subquery) -> exp.Expression:
    """Spark's aggregates in a correlated subquery may not read the outer row: count(pred) of a
    window whose pred does is COUNT(*) of the rows where pred holds; other aggregates of such
    values are unsupported."""
    select = subquery.this
    [value] = select.expressions
    inner = value.this if isinstance(value, exp.Coalesce) else value
    if not isinstance(inner, exp.CountIf):
        raise Unsupported("window aggregate of a value reading the record under test")
    select.set("expressions", [exp.Coalesce(this=exp.Count(this=exp.Star()), expressions=[exp.Literal.number(0)])])
    select.where(inner.this.copy(), copy=False)
    return subquery


def _outer_refs(select: exp.Select) -> bool:
    """Whether the SELECT's value reads a column of another (outer) table."""
    local = {t.alias_or_name for t in select.find_all(exp.Table)}
    return any(c.table and c.table not in local for c in select.expressions[0].find_all(exp.Column))


def _check(node: exp.Expression) -> None:
    if type(node) not in _ALLOWED and not (isinstance(node, exp.Anonymous) and node.name.upper() in _ANONYMOUS):
        name = node.name if isinstance(node, exp.Anonymous) else type(node).__name__
        raise Unsupported(f"{name}")
    if isinstance(node, exp.DataType) and not node.is_type(*_TYPES):
        raise Unsupported(f"type {node.sql()}")
    if isinstance(node, exp.DataType) and node.is_type(exp.DataType.Type.DECIMAL):
        params = node.expressions
        if params and int(params[0].name) > 38:
            raise Unsupported(f"type {node.sql()}")
