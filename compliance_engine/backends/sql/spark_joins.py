"""Window subqueries of a Spark query turned into joins grouped by the record under test.

A window aggregate is a correlated scalar subquery `(SELECT agg FROM records_y AS w WHERE
w.key = t.key AND w.period >= f(t.period) ...)`. Spark decorrelates a non-equality
correlation by joining the distinct outer values with the whole inner table (a cartesian
product: 10k × 10k rows per window at 10k records per kind, and quadratic beyond). Here each
becomes

    LEFT JOIN (SELECT __o.__row, agg FROM records_x AS __o JOIN records_y AS w ON <the same
               conditions, __o for t> GROUP BY __o.__row) AS __win0 ON __win0.__row = t.__row

an equi-join on the window's key fields with the other conditions as its filter. A record with
no window rows has no group: it takes the aggregate over no rows, computed by the same SELECT
over an empty input (`WHERE FALSE`), so COUNT stays 0 and SUM/MIN/MAX NULL exactly as before.
Needs keys telling the outer table's records apart: `__row`, or in run_batches (batch, `__row`).
"""

from __future__ import annotations

from sqlglot import exp

from .compiler import ROW_ID

_OUTER = "__o"


def decorrelated(select: exp.Select, field_names: dict[str, frozenset[str]],
                 keys: tuple[str, ...] = (ROW_ID,)) -> exp.Select:
    """`select` (copied) with every window subquery over a records table that reads only fields
    of the outer record turned into a grouped LEFT JOIN; `field_names`: table → its columns;
    `keys`: the columns that tell the outer table's records apart. Windows over the same rows
    (same table and conditions) share one join."""
    select = select.copy()
    groups: dict[tuple, tuple[str, exp.Select]] = {}  # (host, rows) → (join alias, its grouped SELECT)
    for sub in [s for s in select.find_all(exp.Subquery) if _window(s, field_names) is not None]:
        host, outer_alias, outer_table = _window(sub, field_names)
        rows = (id(host), outer_alias, _rows_sql(sub.this))
        if rows not in groups:
            alias = f"__win{len(groups)}"
            grouped = _grouped(sub.this, outer_alias, outer_table, keys)
            same = [exp.EQ(this=exp.column(k, table=alias, quoted=True), expression=exp.column(k, table=outer_alias, quoted=True))
                    for k in keys]
            host.join(exp.Subquery(this=grouped, alias=exp.TableAlias(this=exp.to_identifier(alias))),
                      join_type="LEFT", on=exp.and_(*same), copy=False)
            groups[rows] = alias, grouped
        alias, grouped = groups[rows]
        value = _outer_to(sub.this.expressions[0].copy(), outer_alias)
        name = next((e.alias for e in grouped.expressions if e.this == value), None)
        if name is None:
            name = f"__v{len(grouped.expressions) - len(keys)}"
            grouped.select(exp.alias_(value, name, quoted=True), copy=False)
        sub.replace(_joined_value(sub.this, alias, name, keys[0]))
    return select


def _rows_sql(window: exp.Select) -> str:
    """What decides a window's rows: its table and conditions."""
    return f"{(window.args.get('from_') or window.args.get('from')).sql()} {window.args['where'].sql()}"


def _outer_to(node: exp.Expression, outer_alias: str) -> exp.Expression:
    for col in node.find_all(exp.Column):
        if col.table == outer_alias:
            col.set("table", exp.to_identifier(_OUTER))
    return node


def _window(sub: exp.Subquery, field_names) -> tuple[exp.Select, str, str] | None:
    """(host SELECT, outer alias, outer table) of a window subquery this module rewrites, else None."""
    inner = sub.this
    if sub.alias or not isinstance(inner, exp.Select) or len(inner.expressions) != 1:
        return None
    source = inner.args.get("from_") or inner.args.get("from")
    if (source is None or not isinstance(source.this, exp.Table) or source.this.name not in field_names
            or inner.args.get("joins") or inner.args.get("group") or inner.args.get("where") is None
            or any(isinstance(n, exp.Subquery) for n in inner.walk() if n is not inner)):
        return None
    local = source.this.alias_or_name
    outer = {c.table for c in inner.find_all(exp.Column) if c.table and c.table != local}
    host = sub.parent
    while host is not None and not isinstance(host, exp.Select):
        if isinstance(host, exp.Lambda):
            return None
        host = host.parent
    reads_outer = any(c.table in outer for c in inner.expressions[0].find_all(exp.Column))
    if len(outer) != 1 or reads_outer or host is None or host.args.get("group"):
        return None
    [outer_alias] = outer
    host_from = host.args.get("from_") or host.args.get("from")
    outer_table = _records_table(host_from.this if host_from else None, outer_alias, field_names)
    if outer_table is None:
        return None
    names = field_names[outer_table]
    if any(c.table == outer_alias and c.name not in names for c in inner.find_all(exp.Column)):
        return None
    return host, outer_alias, outer_table


def _records_table(source, alias: str, field_names) -> str | None:
    """The records table behind the host's FROM `source` aliased `alias` (a table, or a SELECT
    of `alias.*` and more over one)."""
    if source is None or source.alias_or_name != alias:
        return None
    if isinstance(source, exp.Table):
        return source.name if source.name in field_names else None
    if isinstance(source, exp.Subquery) and isinstance(source.this, exp.Select):
        inner_from = source.this.args.get("from_") or source.this.args.get("from")
        return _records_table(inner_from.this if inner_from else None, alias, field_names)
    return None


def _grouped(window: exp.Select, outer_alias: str, outer_table: str, keys: tuple[str, ...]) -> exp.Select:
    """SELECT the keys of __o FROM the outer table JOIN the window's table ON its conditions
    GROUP BY them (the aggregates are added as columns by the caller)."""
    source = (window.args.get("from_") or window.args.get("from")).this
    key_columns = [exp.column(k, table=_OUTER, quoted=True) for k in keys]
    return (exp.select(*[exp.alias_(c, k, quoted=True) for c, k in zip(key_columns, keys)])
            .from_(exp.alias_(exp.to_table(outer_table), _OUTER, table=True))
            .join(source.copy(), join_type="INNER", on=_outer_to(window.args["where"].this.copy(), outer_alias))
            .group_by(*[c.copy() for c in key_columns]))


def _joined_value(window: exp.Select, alias: str, name: str, key: str) -> exp.Expression:
    """The joined group's aggregate, or the aggregate over no rows when the record has none."""
    empty = window.copy()
    empty.set("where", exp.Where(this=exp.false()))
    no_group = exp.Is(this=exp.column(key, table=alias, quoted=True), expression=exp.Null())  # a key: never NULL
    return exp.Case().when(no_group, exp.Subquery(this=empty)).else_(exp.column(name, table=alias, quoted=True))
