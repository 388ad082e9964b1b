"""Batch evaluation on DuckDB at scale: files → tables (ingest.py) → one query per record kind,
run over ranges of records, returning only the outcomes worth a finding.

Memory stays flat as input grows: the tables live in a DuckDB database file in a work folder
(DuckDB spills to it past `memory_limit`), each kind is evaluated `chunk_rows` records at a time,
and only fired and undetermined outcomes (passed too with `include_passed`) leave DuckDB, with
their missing fields and evidence computed in SQL. Passed outcomes are counted, not fetched:
passed = evaluated − fired − undetermined per rule.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlglot import exp

from ...calendar import WorkdayCalendar, default_calendar
from ...plan import Plan, RulePlan
from .compiler import (AS_OF, CALENDAR, ROW_FROM, ROW_ID, ROW_TO, ExprCompiler, KindQuery, compile_plan,
                       evidence_column, missing_column, outcome_column, uses_as_of)
from .duckdb_runner import calendar_table
from .readback import evidence_types, needs_conversion, python_value

CHUNK_ROWS = 250_000
MEMORY_LIMIT = "1GB"


@dataclass(frozen=True, slots=True)
class Hit:
    """One outcome that leaves DuckDB: a rule's fired/undetermined (or passed) outcome on a record."""

    plan: RulePlan
    row: int
    value: bool | None
    missing: tuple[str, ...]
    evidence: dict
    record_key: str
    org_no: str | None


class Database:
    """A DuckDB database file in a work folder (a temporary one unless given), with the calendar."""

    def __init__(self, calendar: WorkdayCalendar | None = None, workdir: str | Path | None = None,
                 memory_limit: str = MEMORY_LIMIT, threads: int | None = None):
        import duckdb

        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="compliance-duckdb-")
        folder = Path(workdir or self._tmp.name)
        folder.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(str(folder / "run.duckdb"))
        self.con.execute(f"SET memory_limit = '{checked_size(memory_limit)}'")
        self.con.execute(f"SET temp_directory = '{str(folder / 'spill').replace(chr(39), chr(39) * 2)}'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.con.register("__calendar", calendar_table(calendar or default_calendar()))
        self.con.execute(f"CREATE OR REPLACE TABLE {CALENDAR} AS SELECT * FROM __calendar")
        self.con.unregister("__calendar")

    def close(self) -> None:
        self.con.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def checked_size(text: str) -> str:
    import re

    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB|B)", text.strip(), re.IGNORECASE):
        raise ValueError(f"not a memory size: {text!r} (e.g. 1GB, 512MB)")
    return text.strip()


def batch_queries(plan: Plan) -> list[KindQuery]:
    return compile_plan(plan, evidence=True, row_range=True)


def evaluate_kind(con, plan: Plan, query: KindQuery, rows: int, as_of: datetime, include_passed: bool = False,
                  chunk_rows: int = CHUNK_ROWS, on_chunk: Callable[[int], None] | None = None) -> Iterator[Hit]:
    """The hits of one kind's record rules over its `rows` records, `chunk_rows` at a time;
    `on_chunk(n)` after each range of n records."""
    if not query.rules:
        if on_chunk and rows:
            on_chunk(rows)
        return
    select = hits_select(plan, query, include_passed)
    comp = ExprCompiler(plan)
    types = {rp.rule.id: {n: t for n, t in evidence_types(comp, rp) if needs_conversion(t)} for rp in query.rules}
    takes_as_of = uses_as_of(select)
    sql = select.sql("duckdb")
    kind = plan.program.kinds[query.kind]
    for start in range(0, rows, chunk_rows):
        params = {ROW_FROM: start, ROW_TO: min(start + chunk_rows, rows)}
        if takes_as_of:
            params[AS_OF] = as_of
        for batch in con.sql(sql, params=params).to_arrow_reader(_FETCH_ROWS):
            yield from batch_hits(query, kind, batch, include_passed, types)
        if on_chunk:
            on_chunk(params[ROW_TO] - start)


_FETCH_ROWS = 50_000


def hits_select(plan: Plan, query: KindQuery, include_passed: bool) -> exp.Select:
    """SELECT __row, keys, [org_no], then per rule its outcome, missing list and evidence; without
    `include_passed`, only the records where some rule did not pass."""
    q = "q"
    kind = plan.program.kinds[query.kind]
    base = query.select.copy()
    columns = [exp.column(ROW_ID, table=q, quoted=True)]
    columns += [exp.column(k, table=q, quoted=True) for k in kind.key_fields]
    if "org_no" in kind.field_names:
        base = base.select(exp.alias_(exp.column("org_no", table="t", quoted=True), _ORG_NO, quoted=True))
        columns.append(exp.column(_ORG_NO, table=q, quoted=True))
    for rp in query.rules:
        columns += [exp.column(c(rp.rule.id), table=q, quoted=True)
                    for c in (outcome_column, missing_column, evidence_column)]
    select = exp.select(*columns).from_(exp.Subquery(this=base, alias=exp.TableAlias(this=exp.to_identifier(q))))
    if include_passed:
        return select
    return select.where(exp.or_(*[exp.Not(this=exp.Is(this=exp.column(outcome_column(rp.rule.id), table=q, quoted=True),
                                                      expression=exp.false())) for rp in query.rules]))


_ORG_NO = "__org_no"


def batch_hits(query: KindQuery, kind, batch, include_passed: bool, types: dict) -> Iterator[Hit]:
    """Hits of an Arrow batch, rule by rule: only the cells of outcomes worth a finding become
    Python objects (a row holds three columns per rule)."""
    import pyarrow.compute as pc

    names = batch.schema.names
    column = {n: i for i, n in enumerate(names)}
    rows = batch.column(0)
    keys = [batch.column(column[k]) for k in kind.key_fields]
    org = batch.column(column[_ORG_NO]) if _ORG_NO in column else None
    for rp in query.rules:
        outcome = batch.column(column[outcome_column(rp.rule.id)])
        if include_passed:
            index = None
        else:
            index = pc.indices_nonzero(pc.fill_null(outcome, True))  # fired or undetermined
            if len(index) == 0:
                continue
        pick = (lambda c: c.to_pylist()) if index is None else (lambda c: pc.take(c, index).to_pylist())
        values, rows_of = pick(outcome), pick(rows)
        missing = pick(batch.column(column[missing_column(rp.rule.id)]))
        evidence = pick(batch.column(column[evidence_column(rp.rule.id)]))
        key_values = [pick(k) for k in keys]
        orgs = pick(org) if org is not None else [None] * len(values)
        typed = types[rp.rule.id]
        for j, value in enumerate(values):
            key = "|".join("" if k[j] is None else str(k[j]) for k in key_values)
            proof = evidence[j] or {}
            for name, t in typed.items():
                proof[name] = python_value(proof[name], t)
            yield Hit(rp, rows_of[j], value, tuple(missing[j] or ()) if value is None else (), proof, key, orgs[j])
