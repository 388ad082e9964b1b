"""Run the compiled SQL on DuckDB: over typed records in memory (registered as Arrow tables
typed by `records.arrow_type`) or directly over CSV / JSONL / Parquet files.

Outcomes come back as `SqlOutcome(rule id, row position, record key, value, missing)`: the same
three-valued outcome as the Python backend's, with the missing fields computed in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator, Mapping

from ...calendar import WorkdayCalendar, default_calendar
from ...plan import Plan
from ...records import _arrow_value, arrow_type
from ...schema import RecordKind
from .compiler import AS_OF, CALENDAR, ROW_ID, KindQuery, compile_plan, missing_column, outcome_column, table_name, uses_as_of
from .dates import CALENDAR_RANGE  # the days calendar_days holds; dates.py extends past them exactly
from .ingest import ingest


@dataclass(frozen=True)
class SqlOutcome:
    rule: str
    row: int  # position of the record in its kind's input
    key: str
    value: bool | None
    missing: tuple[str, ...]
    evidence: dict | None = None  # the finding's values, when the query computes them


def arrow_table(kind: RecordKind, rows: list[dict]):
    import pyarrow as pa

    columns = {ROW_ID: pa.array(range(len(rows)), type=pa.int64())}
    for f in kind.fields:
        convert = _arrow_value(f.type)
        values = [r.get(f.name) for r in rows]
        if convert is not None:
            values = [None if v is None else convert(v) for v in values]
        columns[f.name] = pa.array(values, type=arrow_type(f.type))
    return pa.table(columns)


_CALENDARS: dict[str, object] = {}


def calendar_table(calendar: WorkdayCalendar):
    """The calendar as an Arrow table (day, is_workday, workday_index), built once per version."""
    import pyarrow as pa

    if calendar.version not in _CALENDARS:
        days, work, index = zip(*calendar.table(*CALENDAR_RANGE))
        _CALENDARS[calendar.version] = pa.table({"day": pa.array(days, pa.date32()), "is_workday": pa.array(work),
                                                 "workday_index": pa.array(index, pa.int64())})
    return _CALENDARS[calendar.version]


def connect(calendar: WorkdayCalendar | None):
    import duckdb

    con = duckdb.connect()
    con.register(CALENDAR, calendar_table(calendar or default_calendar()))
    return con


def run_records(plan: Plan, records: Mapping[str, list[dict]], as_of: datetime,
                queries: list[KindQuery] | None = None, calendar: WorkdayCalendar | None = None,
                con=None) -> Iterator[SqlOutcome]:
    """Every translatable record rule over typed records (kind → rows); `queries` (compiled for
    once by `compile_plan`) may be given to skip compiling again, `con` (from `connect`) reused."""
    con = con or connect(calendar)
    for name, kind in plan.program.kinds.items():
        con.register(table_name(name), arrow_table(kind, list(records.get(name, []))))
    yield from _run(con, plan, as_of, queries, set(records))


def run_files(plan: Plan, files: list[tuple[Path, RecordKind]], as_of: datetime,
              calendar: WorkdayCalendar | None = None) -> Iterator[SqlOutcome]:
    """Every translatable record rule over files read by DuckDB itself (ingest.py: no Python row
    loop for canonical rows; rejected rows are left out). `row` is the position among the kind's
    accepted records, in file order."""
    con = connect(calendar)
    ingest(con, plan.program.kinds, files)
    yield from _run(con, plan, as_of)


def _run(con, plan: Plan, as_of: datetime, queries: list[KindQuery] | None = None,
         kinds: set[str] | None = None) -> Iterator[SqlOutcome]:
    for query in queries if queries is not None else compile_plan(plan):
        if not query.rules or (kinds is not None and query.kind not in kinds):
            continue
        yield from _fetch(con, plan.program.kinds[query.kind], query, as_of)


def _fetch(con, kind: RecordKind, query: KindQuery, as_of: datetime) -> Iterator[SqlOutcome]:
    result = con.execute(query.sql("duckdb", pretty=False), {AS_OF: as_of} if _uses_as_of(query) else None)
    names = [d[0] for d in result.description]
    keys = [names.index(k) for k in kind.key_fields]
    slots = [(rp.rule.id, names.index(outcome_column(rp.rule.id)), names.index(missing_column(rp.rule.id)))
             for rp in query.rules]
    while batch := result.fetchmany(10000):
        for row in batch:
            key = "|".join("" if row[i] is None else str(row[i]) for i in keys)
            for rule_id, o, m in slots:
                value = row[o]
                yield SqlOutcome(rule_id, row[0], key, value, tuple(row[m] or ()) if value is None else ())


def _uses_as_of(query: KindQuery) -> bool:
    return uses_as_of(query.select)


def count_files(plan: Plan, files: list[tuple[Path, RecordKind]], as_of: datetime,
                calendar: WorkdayCalendar | None = None) -> dict[tuple[str, bool | None], int]:
    """(rule id, outcome) → number, aggregated inside DuckDB (no row reaches Python)."""
    from sqlglot import exp

    con = connect(calendar)
    ingest(con, plan.program.kinds, files)
    out: dict = {}
    for query in compile_plan(plan):
        if not query.rules:
            continue
        inner = exp.Subquery(this=query.select, alias=exp.TableAlias(this=exp.to_identifier("o")))
        cols = [exp.func("COUNT_IF", exp.Is(this=exp.column(outcome_column(rp.rule.id), table="o", quoted=True),
                                               expression=e))
                for rp in query.rules for e in (exp.true(), exp.false(), exp.Null())]
        sql = exp.select(*cols).from_(inner).sql("duckdb")
        row = con.execute(sql, {AS_OF: as_of} if _uses_as_of(query) else None).fetchone()
        for i, rp in enumerate(query.rules):
            for j, value in enumerate((True, False, None)):
                out[(rp.rule.id, value)] = row[3 * i + j]
    return out
