"""Group rules (`on KIND group by f, g`) in SQL: one outcome per group of records.

Each group rule compiles to two SELECTs over `records_<kind>` (see docs/sql_backend.md § Group rules):

- the groups: an inner `GROUP BY` of the group fields over the records whose group fields are
  all non-empty, computing every window aggregate with `FILTER (WHERE <where> IS TRUE)` (a group
  rule's window is the group's own records narrowed by `where`, so every group gets an outcome,
  passed included); an outer SELECT evaluates the condition on the group fields and aggregates,
  the `missing` list and the evidence (a STRUCT of the names the condition reads);
- the records whose group key is empty: each belongs to no group and is undetermined, with the
  empty group fields missing (records.md § Semantics, groups).

The aggregates reuse the record rules' translation (`_subquery`), so both kinds of rule count,
sum and average alike; expressions go through the same `ExprCompiler`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Iterable, Iterator, Sequence

from sqlglot import exp

from ... import ir
from ...findings import CONTRACT_VERSION, Finding, make_finding
from ...model import Rule, Window
from ...plan import Plan, RulePlan
from ...types import Type
from .compiler import (AS_OF, ROW_ID, ExprCompiler, KindQuery, Unsupported, _Scope, _subquery,
                       compile_plan, evidence_column, uses_as_of, evidence_struct, missing_column, missing_list, outcome_column,
                       table_name)
from .readback import evidence_types, python_value

FIRST_ROW = "__first_row"  # the group's first record (its position in the kind's input): the groups' order
ORG_NO = "org_no"  # findings carry the record's (or group's) org_no


def _aggregate_column(i: int) -> str:
    return f"__agg_{i}"


@dataclass
class GroupQuery:
    """The two SELECTs of one group rule (see the module docstring)."""

    rule: RulePlan
    groups: exp.Select  # group fields, FIRST_ROW, outcome, missing, evidence (ordered by FIRST_ROW)
    empty_keys: exp.Select  # ROW_ID, key fields, org_no, missing (ordered by ROW_ID)
    evidence: tuple[tuple[str, Type], ...]  # the names of the evidence STRUCT (NULL if none) with their types

    def sql(self, dialect: str = "duckdb", pretty: bool = True) -> str:
        return self.groups.sql(dialect=dialect, pretty=pretty)

    def empty_keys_sql(self, dialect: str = "duckdb", pretty: bool = True) -> str:
        return self.empty_keys.sql(dialect=dialect, pretty=pretty)


@dataclass(frozen=True)
class GroupOutcome:
    """A group rule's outcome for one group, or for one record whose group key is empty."""

    rule: str
    group: dict[str, Any] | None  # group field → value; None: a record with an empty group key
    row: int  # the group's first record, or the record with the empty key (position in its kind's input)
    key: str  # the finding's record_key: the group values joined by '|', or the record's key
    value: bool | None
    missing: tuple[str, ...]
    evidence: dict[str, Any]
    org_no: str | None


# ---- compiling -----------------------------------------------------------------------------------
def compile_group(comp: ExprCompiler, rp: RulePlan) -> GroupQuery:
    """The SELECTs of one group rule; raises `Unsupported` for what cannot be translated."""
    rule = rp.rule
    stray = [f for f in (*rp.empty_fields, *rp.evidence) if f in rule.kind.field_names and f not in rule.group_by]
    if stray:  # the checker allows only group fields (E0308): keep the SQL from naming a missing column
        raise Unsupported(f"group rule reading {', '.join(stray)}")
    aggregates, inner = _grouped(comp, rule)
    scope = _Scope(rule, this="g", aggregates={name: exp.column(col, table="g", quoted=True)
                                               for name, col in aggregates.items()})
    outcome = comp.gen(rule.condition, scope)
    columns = [exp.column(f, table="g", quoted=True) for f in (*rule.group_by, FIRST_ROW)]
    columns += [exp.alias_(outcome, outcome_column(rule.id), quoted=True),
                exp.alias_(missing_list(comp, rp, scope), missing_column(rule.id), quoted=True),
                exp.alias_(evidence_struct(comp, rp, scope), evidence_column(rule.id), quoted=True)]
    groups = exp.select(*columns).from_(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("g"))))
    groups = groups.order_by(exp.column(FIRST_ROW, table="g", quoted=True))
    return GroupQuery(rp, groups, _empty_keys(comp, rp), evidence_types(comp, rp))


def _grouped(comp: ExprCompiler, rule: Rule) -> tuple[dict[str, str], exp.Select]:
    """The inner GROUP BY: group fields, first row, each aggregate (name → its column)."""
    t = "t"
    rows = _Scope(rule, this=t, row=t)  # inside a group `this.f` (a group field) equals the row's f
    columns: list[exp.Expression] = [exp.column(f, table=t, quoted=True) for f in rule.group_by]
    columns.append(exp.alias_(exp.Min(this=exp.column(ROW_ID, table=t, quoted=True)), FIRST_ROW, quoted=True))
    names: dict[str, str] = {}
    for window in rule.windows:
        for name, value in _window_values(comp, rule, window, rows):
            names[name] = _aggregate_column(len(names))
            columns.append(exp.alias_(value, names[name], quoted=True))
    keyed = exp.and_(*[exp.Not(this=exp.Is(this=exp.column(f, table=t, quoted=True), expression=exp.Null()))
                       for f in rule.group_by])
    select = exp.select(*columns).from_(exp.alias_(exp.to_table(table_name(rule.kind.name)), t, table=True))
    select = select.where(keyed).group_by(*[exp.column(f, table=t, quoted=True) for f in rule.group_by])
    return names, select


def _window_values(comp: ExprCompiler, rule: Rule, window: Window, rows: _Scope) -> list[tuple[str, exp.Expression]]:
    """Each aggregate name of a group window → its value over the group's rows passing `where`."""
    where = None
    if window.where is not None:
        where = exp.Is(this=exp.paren(comp.gen(window.where, rows)), expression=exp.true())
    out = []
    for name, value in window.aggregates:
        nodes = {id(agg): _filtered(_subquery(comp, window, agg, rows, []).this.selects[0], where)
                 for agg in ir.walk(value) if isinstance(agg, ir.Aggregate)}
        out.append((name, comp.gen(value, _Scope(rule, rows.this, None, {}, nodes))))
    return out


def _filtered(value: exp.Expression, where: exp.Expression | None) -> exp.Expression:
    """Every aggregate function in `value` restricted to the rows where `where` holds."""
    if where is None:
        return value
    value = value.copy()
    calls = [n for n in value.find_all(exp.AggFunc) if not isinstance(n.parent, exp.Filter)]
    for call in calls:
        wrapped = exp.Filter(this=call.copy(), expression=exp.Where(this=where.copy()))
        if call is value:
            return wrapped
        call.replace(wrapped)
    return value


def _empty_keys(comp: ExprCompiler, rp: RulePlan) -> exp.Select:
    """The records whose group key is empty: undetermined, missing the empty group fields."""
    rule, t = rp.rule, "t"
    kind = rule.kind
    columns = [exp.column(f, table=t, quoted=True) for f in (ROW_ID, *kind.key_fields)]
    org_no = exp.column(ORG_NO, table=t, quoted=True) if ORG_NO in kind.field_names else exp.Null()
    columns.append(exp.alias_(org_no, ORG_NO, quoted=True))
    # the group fields as the only candidates: missing_list names the NULL ones in group-by order
    keys_plan = replace(rp, empty_fields=rule.group_by, empty_names=())
    missing = missing_list(comp, keys_plan, _Scope(rule, this=t))
    columns.append(exp.alias_(missing, missing_column(rule.id), quoted=True))
    empty = exp.or_(*[exp.Is(this=exp.column(f, table=t, quoted=True), expression=exp.Null()) for f in rule.group_by])
    select = exp.select(*columns).from_(exp.alias_(exp.to_table(table_name(kind.name)), t, table=True)).where(empty)
    return select.order_by(exp.column(ROW_ID, table=t, quoted=True))


# ---- running -------------------------------------------------------------------------------------
def run_groups(con, plan: Plan, as_of: datetime, queries: list[KindQuery] | None = None,
               kinds: set[str] | None = None) -> Iterator[GroupOutcome]:
    """Every translatable group rule on a DuckDB connection whose `records_<kind>` tables (with
    `__row`) and calendar are registered as `duckdb_runner` does; `kinds`: only these kinds.

    Per rule, in the Python backend's order: the records with an empty group key (by row), then
    the groups (by first record).
    """
    for query in queries if queries is not None else compile_plan(plan):
        if kinds is not None and query.kind not in kinds:
            continue
        for gq in query.group_queries:
            empty = _execute(con, gq.empty_keys, as_of).fetchall()
            yield from group_outcomes(gq, empty, _batches(_execute(con, gq.groups, as_of)))


def _execute(con, select: exp.Select, as_of: datetime):
    return con.execute(select.sql("duckdb", pretty=False), {AS_OF: as_of} if uses_as_of(select) else None)


def group_outcomes(gq: GroupQuery, empty_key_rows: Iterable[Sequence], group_rows: Iterable[Sequence]) -> Iterator[GroupOutcome]:
    """The outcomes of one group rule from the rows of its two SELECTs, run by any engine (an
    evidence STRUCT may come as a dict or as a Spark Row)."""
    rule = gq.rule.rule
    n_keys = len(rule.kind.key_fields)
    for row in empty_key_rows:  # ROW_ID, key fields, org_no, missing
        key = "|".join("" if v is None else str(v) for v in row[1:1 + n_keys])
        org_no, missing = row[1 + n_keys], tuple(row[2 + n_keys] or ())
        yield GroupOutcome(rule.id, None, row[0], key, None, missing, {f: None for f in missing}, org_no)
    fields = rule.group_by
    types = [rule.kind.field(f).type for f in fields]
    for row in group_rows:
        group = {f: python_value(v, t) for f, v, t in zip(fields, row, types)}
        first, value, missing = row[len(fields)], row[len(fields) + 1], row[len(fields) + 2]
        named = row[len(fields) + 3] or {}
        named = named.asDict() if hasattr(named, "asDict") else named
        evidence = {name: python_value(named.get(name), t) for name, t in gq.evidence}
        yield GroupOutcome(rule.id, group, first, "|".join(str(v) for v in group.values()), value,
                           tuple(missing or ()) if value is None else (), evidence, group.get(ORG_NO))


def _batches(result) -> Iterator[tuple]:
    while batch := result.fetchmany(10000):
        yield from batch


def count_groups(con, plan: Plan, as_of: datetime,
                 queries: list[KindQuery] | None = None) -> dict[tuple[str, bool | None], int]:
    """(rule id, outcome) → number for every group rule, counted inside DuckDB (no row reaches
    Python); records with an empty group key count as undetermined."""
    out: dict = {}
    for query in queries if queries is not None else compile_plan(plan):
        for gq in query.group_queries:
            rule_id = gq.rule.rule.id
            column = exp.column(outcome_column(rule_id), table="o", quoted=True)
            groups = exp.Subquery(this=gq.groups, alias=exp.TableAlias(this=exp.to_identifier("o")))
            empty = exp.Subquery(this=gq.empty_keys, alias=exp.TableAlias(this=exp.to_identifier("e")))
            counts = exp.select(*[exp.func("COUNT_IF", exp.Is(this=column.copy(), expression=e))
                                  for e in (exp.true(), exp.false(), exp.Null())]).from_(groups)
            fired, passed, unknown = _execute(con, counts, as_of).fetchone()
            (no_group,) = _execute(con, exp.select(exp.Count(this=exp.Star())).from_(empty), as_of).fetchone()
            out[(rule_id, True)], out[(rule_id, False)], out[(rule_id, None)] = fired, passed, unknown + no_group
    return out


def group_finding(rule: Rule, o: GroupOutcome, as_of: datetime) -> Finding:
    """The Finding of a group outcome, as `Rulebooks.finding` makes it for the Python backend."""
    return make_finding(dict(
        contract=CONTRACT_VERSION, rule=rule.id, title=rule.title, rulebook=rule.rulebook.name,
        rulebook_version=rule.rulebook.version, record_kind=rule.kind.name, record_key=o.key, group=o.group,
        outcome={True: "fired", False: "passed", None: "undetermined"}[o.value], missing=list(o.missing),
        evidence=o.evidence, level=rule.level, category=rule.category, link=rule.link.id if rule.link else None,
        owner=rule.owner.text, supervisor=rule.supervisor.text if rule.supervisor else None,
        deadline=rule.deadline.text if rule.deadline else None, org_no=o.org_no, as_of=as_of))
