"""Run the compiled SQL on Apache Spark (PySpark): over typed records in memory or directly over
CSV / JSONL / Parquet files read by Spark with the kind's schema.

The trees of compiler.py are rewritten by spark_dialect.py; rules with no Spark-correct form
are E0601 (`check_spark`), never run differently. Outcomes are `SqlOutcome`s, as on DuckDB.

Time: records hold naive local times, so every datetime is TIMESTAMP_NTZ (never shifted) and
the session time zone is UTC only so that nothing else depends on the machine's zone. `as_of`
is bound as text (`CAST(:as_of AS TIMESTAMP_NTZ)`), so the Python side never converts it either.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from sqlglot import exp

from ...calendar import WorkdayCalendar, default_calendar
from ...diagnostics import Diagnostic
from ...plan import Plan
from ...records import _format_of
from ...schema import RecordKind
from ...types import Kind, Type
from .compiler import (
    AS_OF,
    ROW_ID,
    KindQuery,
    evidence_column,
    missing_column,
    outcome_column,
    table_name,
    uses_as_of,
)
from .dates import CALENDAR, CALENDAR_RANGE
from .duckdb_runner import SqlOutcome
from .spark_dialect import SPARK_FUNCTIONS, compile_spark
from .spark_joins import decorrelated

DEFAULT_MASTER = "local[2]"
BATCH = "__batch"  # run_batches: which evaluation a row belongs to
BATCH_AS_OF = "__as_of"  # run_batches: that evaluation's as_of
SPARK_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",  # TIMESTAMP means naive local time, like ours
    "spark.sql.ansi.enabled": "true",  # overflow and bad casts are errors, never NULL
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",  # products keep every place
    "spark.sql.legacy.sizeOfNull": "false",  # SIZE(NULL) is NULL, not -1
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    # local mode: the driver holds the records sent from Python and the results (1 GB by default
    # loses task results past ~1M records); a cluster sets its own with spark-submit
    "spark.driver.memory": "4g",
    # nothing is stored as a table: keep Spark's warehouse out of the user's working folder
    "spark.sql.warehouse.dir": str(Path(tempfile.gettempdir()) / "compliance-spark-warehouse"),
}
_READY: dict[int, str | None] = {}  # id(session) → calendar version registered in it


def session(master: str | None = None):
    """The SparkSession (created once per process; `master` default local[2]), quiet, with the
    settings the rewritten SQL relies on and its helper functions defined."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master or DEFAULT_MASTER).appName("compliance_engine")
    for key, value in SPARK_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    if id(spark) not in _READY:
        spark.sparkContext.setLogLevel("FATAL")
        for key, value in SPARK_CONF.items():  # an existing session got only the runtime ones
            if not key.startswith(("spark.ui", "spark.sql.warehouse", "spark.driver")):
                spark.conf.set(key, value)
        for statement in SPARK_FUNCTIONS:
            spark.sql(statement)
        _READY[id(spark)] = None
    return spark


def stop(spark) -> None:
    """Stop a session made by `session` (the next `session` call starts a new one)."""
    _READY.pop(id(spark), None)
    spark.stop()


def spark_type(t: Type):
    """The Spark type a field of type `t` is held as (the Arrow types of records.arrow_type)."""
    from pyspark.sql import types as T

    if t.kind is Kind.LIST:
        return T.ArrayType(spark_type(t.item))
    if t.kind is Kind.DURATION and t.calendar:
        return T.StringType()  # months have no fixed length: kept as 'P3M'
    return {
        Kind.TEXT: T.StringType(), Kind.ENUM: T.StringType(), Kind.MONTH: T.StringType(),
        Kind.INT: T.LongType(), Kind.DECIMAL: T.DecimalType(38, 10), Kind.MONEY: T.DecimalType(18, 2),
        Kind.BOOL: T.BooleanType(), Kind.DATE: T.DateType(), Kind.DATETIME: T.TimestampNTZType(),
        Kind.DURATION: T.DayTimeIntervalType(0, 3),
    }[t.kind]


# ---- compiling -----------------------------------------------------------------------------------
def check_spark(plan: Plan) -> list[Diagnostic]:
    """E0601 for every rule the Spark engine cannot run exactly (the check-time error)."""
    out = []
    for query in compile_spark(plan):
        for rule_id, what in query.unsupported.items():
            rule = plan.program.rule(rule_id)
            out.append(Diagnostic("E0601", f"规则 {rule_id} 含 Spark 引擎尚不支持的写法：{what}", rule.span,
                                  "改用 --engine python 运行，或改写该条件"))
    return out


# ---- tables --------------------------------------------------------------------------------------
def register_calendar(spark, calendar: WorkdayCalendar | None) -> None:
    """The calendar as the temp view calendar_days (re-registered only when its version changes).

    Shipped as one row of two arrays (40,000 days as rows would cross from Python one by one)."""
    from pyspark.sql import functions as F

    calendar = calendar or default_calendar()
    if _READY.get(id(spark)) == calendar.version:
        return
    days = calendar.table(*CALENDAR_RANGE)
    arrays = spark.createDataFrame([([w for _, w, _ in days], [i for _, _, i in days])],
                                   "work ARRAY<BOOLEAN>, idx ARRAY<BIGINT>")
    start = F.lit(CALENDAR_RANGE[0])
    frame = arrays.select(F.posexplode(F.arrays_zip("work", "idx")).alias("pos", "d")).select(
        F.date_add(start, F.col("pos")).alias("day"), F.col("d.work").alias("is_workday"),
        F.col("d.idx").alias("workday_index"))
    # stored now, so Spark knows its size (~2 MB) and broadcasts it: each hoisted lookup is then a
    # hash join on the records' side, not a shuffle of them
    frame.cache().count()
    frame.createOrReplaceTempView(CALENDAR)
    _READY[id(spark)] = calendar.version


def records_frame(spark, kind: RecordKind, rows: Sequence[dict], extra: Sequence[tuple] = (),
                  row_ids: Sequence[int] | None = None):
    """Typed records as a DataFrame: `__row` (their positions, or `row_ids`), `extra` columns
    ((name, Spark type, value per row)), the kind's fields. Sent as one Arrow table with the
    exact types (`records.arrow_type`), not as pickled rows."""
    import pyarrow as pa
    from pyspark.sql import types as T

    from ...records import arrow_type

    schema = T.StructType([T.StructField(ROW_ID, T.LongType())]
                          + [T.StructField(name, dtype) for name, dtype, _ in extra]
                          + [T.StructField(f.name, spark_type(f.type)) for f in kind.fields])
    ids = range(len(rows)) if row_ids is None else row_ids
    columns = [pa.array(ids, pa.int64())]
    extra_types = {T.LongType: pa.int64(), T.TimestampNTZType: pa.timestamp("us")}
    columns += [pa.array(values, extra_types[type(dtype)]) for _, dtype, values in extra]
    for f in kind.fields:
        conv = _python_value(f.type)
        values = [None if (v := r.get(f.name)) is None else conv(v) if conv else v for r in rows]
        columns.append(pa.array(values, arrow_type(f.type)))
    return spark.createDataFrame(pa.Table.from_arrays(columns, names=schema.names), schema)


def _python_value(t: Type):
    """How a typed value becomes what Arrow takes for `spark_type(t)`; None: as it is."""
    from ...coerce import iso_duration

    if t.kind is Kind.MONTH:
        return str
    if t.kind is Kind.DURATION and t.calendar:
        return iso_duration
    if t.kind is Kind.LIST:
        item = _python_value(t.item)
        return None if item is None else (lambda v: [item(x) for x in v])
    return None


def _register_records(spark, plan: Plan, records: Mapping[str, list[dict]]) -> list:
    """Each kind's records as its view, cached (every window and join reads them again)."""
    cached = []
    for name, kind in plan.program.kinds.items():
        frame = records_frame(spark, kind, list(records.get(name, []))).cache()
        frame.createOrReplaceTempView(table_name(name))
        cached.append(frame)
    return cached


def file_frame(spark, path: Path, kind: RecordKind):
    """One records file read by Spark, columns cast to the kind's types (text formats as written
    by records.write_records: CSV cells and JSON values read as text, then cast)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    fmt, _ = _format_of(path)
    if fmt == "parquet":
        raw = spark.read.parquet(str(path))
    elif fmt == "jsonl":
        text = T.StructType([T.StructField(f.name, T.StringType()) for f in kind.fields])
        raw = spark.read.schema(text).option("mode", "FAILFAST").json(str(path))
    else:
        raw = spark.read.option("header", True).option("inferSchema", False).option("mode", "FAILFAST") \
            .option("multiLine", True).option("escape", '"').csv(str(path))
    present = {c.lower(): c for c in raw.columns}
    columns = []
    for f in kind.fields:
        source = present.get(f.name.lower())
        value = F.lit(None).cast(spark_type(f.type)) if source is None else _typed(F.col(f"`{source}`"), f.type,
                                                                                     dict(raw.dtypes)[source])
        columns.append(value.alias(f.name))
    return raw.select(*columns)


def _typed(col, t: Type, source_type: str):
    """A column read as `source_type` (text, or Parquet's own type) as the Spark type of `t`."""
    from pyspark.sql import functions as F

    target = spark_type(t)
    if t.kind is Kind.LIST and source_type == "string":
        return F.transform(F.from_json(col, "array<string>"), lambda x: _typed(x, t.item, "string"))
    if t.kind is Kind.DURATION and not t.calendar:
        return _iso_duration(col) if source_type == "string" else _micros_duration(col)
    if t.kind is Kind.BOOL and source_type == "string":
        return F.when(F.lower(col) == "true", True).when(F.lower(col) == "false", False).when(col.isNull(), None) \
            .otherwise(col.cast("boolean"))
    return col.cast(target)


def _iso_duration(col):
    """'-P1DT2H30M4.5S' → a day-time interval (what records.write_records writes)."""
    from pyspark.sql import functions as F

    pattern = r"^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"

    def part(i):
        return F.coalesce(F.nullif(F.regexp_extract(col, pattern, i), F.lit("")), F.lit("0"))

    seconds = part(5).cast("decimal(18,6)")
    value = F.make_dt_interval(part(2).cast("int"), part(3).cast("int"), part(4).cast("int"), seconds)
    negative = F.regexp_extract(col, pattern, 1) == "-"
    matched = col.rlike(pattern)
    return F.when(col.isNull(), None).when(~matched, F.lit("bad").cast("int")).when(negative, -value).otherwise(value)


def _micros_duration(col):
    from pyspark.sql import functions as F

    seconds = (col.cast("decimal(38,0)") / F.lit(1_000_000).cast("decimal(38,0)")).cast("decimal(18,6)")
    return F.make_dt_interval(F.lit(0), F.lit(0), F.lit(0), seconds)


def _with_row_ids(spark, frame):
    """`__row` = the position in the frame's (file) order, computed in Spark: the offset of each
    partition plus the position inside it (monotonically_increasing_id encodes both)."""
    from pyspark.sql import functions as F

    frame = frame.withColumn("__id", F.monotonically_increasing_id())
    part = F.shiftright(F.col("__id"), 33)
    counts = sorted((p, n) for p, n in frame.groupBy(part.alias("p")).count().collect())
    offsets, total = [], 0
    for p, n in counts:
        offsets += [F.lit(p), F.lit(total)]
        total += n
    offset = F.element_at(F.create_map(*offsets), part) if offsets else F.lit(0)
    row = (F.col("__id").bitwiseAND(F.lit((1 << 33) - 1)) + offset).cast("bigint")
    return frame.select(row.alias(ROW_ID), *[c for c in frame.columns if c != "__id"])


def _register_files(spark, plan: Plan, files: list[tuple[Path, RecordKind]]) -> list:
    """Each kind's files (unioned in the given order) as its records view, `__row` the position
    in that union (unique: window joins group by it); returns the stored frames."""
    by_kind: dict[str, list] = {}
    for path, kind in files:
        by_kind.setdefault(kind.name, []).append(file_frame(spark, Path(path), kind))
    cached = []
    for name, kind in plan.program.kinds.items():
        frames = by_kind.get(name)
        if not frames:
            records_frame(spark, kind, []).createOrReplaceTempView(table_name(name))
            continue
        frame = frames[0]
        for other in frames[1:]:
            frame = frame.unionByName(other)
        # stored once (monotonically_increasing_id is not deterministic when recomputed)
        frame = _with_row_ids(spark, frame).localCheckpoint(eager=True)
        frame.createOrReplaceTempView(table_name(name))
        cached.append(frame)
    return cached


# ---- running -------------------------------------------------------------------------------------
def _args(select: exp.Expression, as_of: datetime | None) -> dict | None:
    """`as_of` bound as naive local text (never converted through a time zone)."""
    if as_of is None or not uses_as_of(select):
        return None
    return {AS_OF: as_of.replace(tzinfo=None).isoformat(sep=" ")}


def _joined(plan: Plan, select: exp.Select, batches: bool = False) -> exp.Select:
    """The query with its window subqueries as grouped joins (spark_joins.py); `batches`: of
    run_batches, whose records are told apart by (batch, `__row`)."""
    extra = (BATCH, BATCH_AS_OF) if batches else ()
    fields = {table_name(name): frozenset((ROW_ID, *extra, *kind.field_names)) for name, kind in plan.program.kinds.items()}
    return decorrelated(select, fields, (ROW_ID, BATCH) if batches else (ROW_ID,))


def run_records(plan: Plan, records: Mapping[str, list[dict]], as_of: datetime,
                queries: list[KindQuery] | None = None, calendar: WorkdayCalendar | None = None,
                spark=None, master: str | None = None) -> Iterator[SqlOutcome]:
    """Every Spark-translatable record rule over typed records (kind → rows); `queries` from
    `compile_spark` may be given to skip compiling again."""
    spark = spark or session(master)
    register_calendar(spark, calendar)
    cached = _register_records(spark, plan, records)
    try:
        for query in queries if queries is not None else compile_spark(plan):
            if query.rules and query.kind in records:
                yield from _fetch(spark, plan, query, as_of)
    finally:
        for frame in cached:
            frame.unpersist()


def run_files(plan: Plan, files: list[tuple[Path, RecordKind]], as_of: datetime,
              calendar: WorkdayCalendar | None = None, spark=None, master: str | None = None) -> Iterator[SqlOutcome]:
    """Every Spark-translatable record rule over files read by Spark itself (no Python row loop).

    Several files of a kind are unioned in the given order; `row` is the position in that union.
    """
    spark = spark or session(master)
    register_calendar(spark, calendar)
    cached = _register_files(spark, plan, files)
    read = {kind.name for _, kind in files}
    try:
        for query in compile_spark(plan):
            if query.rules and query.kind in read:  # a kind without files has no outcomes
                yield from _fetch(spark, plan, query, as_of)
    finally:
        for frame in cached:
            frame.unpersist()


def _fetch(spark, plan: Plan, query: KindQuery, as_of: datetime | None) -> Iterator[SqlOutcome]:
    """Every outcome of the query's rules on every record (for the tests and small inputs)."""
    kind = plan.program.kinds[query.kind]
    frame = spark.sql(_joined(plan, query.select).sql(dialect="spark"), args=_args(query.select, as_of))
    names = frame.columns
    keys = [names.index(k) for k in kind.key_fields]
    slots = [(rp.rule.id, names.index(outcome_column(rp.rule.id)), names.index(missing_column(rp.rule.id)),
              names.index(evidence_column(rp.rule.id)) if evidence_column(rp.rule.id) in names else None)
             for rp in query.rules]
    for row in frame.toLocalIterator(prefetchPartitions=True):
        key = "|".join("" if row[i] is None else str(row[i]) for i in keys)
        for rule_id, o, m, e in slots:
            value = row[o]
            proof = None if e is None else (row[e].asDict() if row[e] is not None else {})
            yield SqlOutcome(rule_id, row[0], key, value, tuple(row[m] or ()) if value is None else (), proof)


def count_files(plan: Plan, files: list[tuple[Path, RecordKind]], as_of: datetime,
                calendar: WorkdayCalendar | None = None, spark=None,
                master: str | None = None) -> dict[tuple[str, bool | None], int]:
    """(rule id, outcome) → number, aggregated inside Spark (no row reaches Python)."""
    spark = spark or session(master)
    register_calendar(spark, calendar)
    cached = _register_files(spark, plan, files)
    out: dict = {}
    read = {kind.name for _, kind in files}
    try:
        for query in compile_spark(plan):
            if not query.rules or query.kind not in read:
                continue
            inner = exp.Subquery(this=_joined(plan, query.select), alias=exp.TableAlias(this=exp.to_identifier("o")))
            cols = [exp.func("COUNT_IF", exp.Is(this=exp.column(outcome_column(rp.rule.id), table="o", quoted=True),
                                                   expression=e))
                    for rp in query.rules for e in (exp.true(), exp.false(), exp.Null())]
            row = spark.sql(exp.select(*cols).from_(inner).sql(dialect="spark"), args=_args(query.select, as_of)).first()
            for i, rp in enumerate(query.rules):
                for j, value in enumerate((True, False, None)):
                    out[(rp.rule.id, value)] = row[3 * i + j]
    finally:
        for frame in cached:
            frame.unpersist()
    return out


def evaluate_files(rulebooks, files: list[tuple[Path, RecordKind]], as_of: datetime, include_passed: bool = False,
                   master: str | None = None, progress=None):
    """(the run, its findings) evaluated by Spark — for `compliance run --engine spark
    --spark-master URL`. Rules Spark cannot run exactly stop the run with their E0601
    diagnostics (`RulebookError`): never a silent fallback. The files are read by the Python
    reader (the same rejections as the Python engine), a kind at a time in the Python engine's
    turns (`runner.turns`), and sent to Spark as typed records, which Spark holds until the last
    kind that reads them; a finding's evidence holds the record's fields the rule reads.
    `progress`: a `backends.sql.Progress` (kinds started and done; files are not reported)."""
    from ...errors import RulebookError
    from ...runner import Run, RunSummary, files_by_kind

    errors = check_spark(rulebooks.plan)
    if errors:
        raise RulebookError(errors, rulebooks.program.sources)
    run = Run(RunSummary(), [], {})
    return run, _findings(rulebooks, run, files_by_kind(files), as_of, include_passed, master, progress)


def _findings(rulebooks, run, by_kind: dict, as_of: datetime, include_passed: bool, master: str | None, progress=None):
    """Record rules, then group rules, kind by kind. As on DuckDB (batch.py), only fired and
    undetermined outcomes leave Spark (passed too with `include_passed`), with their missing
    fields and evidence, through Arrow; passed = records − fired − undetermined per rule."""
    from collections import Counter

    from ...api import OUTCOME_NAMES
    from ...runner import read_kind, turns

    plan = rulebooks.plan
    plans = {rp.rule.id: rp for rp in plan.rule_plans}
    queries = {q.kind: q for q in compile_spark(plan, evidence=True)}
    counts: Counter = Counter()
    spark = session(master)
    register_calendar(spark, rulebooks.backend.calendar)
    held: dict[str, object] = {}  # kind → its stored frame
    sizes: dict[str, int] = {}
    try:
        for turn in turns(rulebooks, list(by_kind)):
            for name in turn.read:  # the Python rows go once Spark has stored its copy
                rows = read_kind(run, by_kind.get(name, []))
                sizes[name] = len(rows)
                held[name] = _registered(spark, plan.program.kinds[name], rows)
            if turn.kind in queries:
                yield from _kind_findings(spark, plan, queries[turn.kind], sizes[turn.kind], as_of, include_passed,
                                          counts, progress)
            for name in turn.release:  # no later kind reads it: a query that did would fail, not see nothing
                held.pop(name).unpersist()
                spark.catalog.dropTempView(table_name(name))
    finally:
        for frame in held.values():
            frame.unpersist()
        if progress is not None and progress.finished:
            progress.finished()
    for (rule_id, value), n in counts.items():
        if n:
            run.summary.count(plans[rule_id].rule, OUTCOME_NAMES[value], n)


def _registered(spark, kind: RecordKind, rows: list[dict]):
    """A kind's records as its view, stored in Spark now (windows and joins read them again)."""
    frame = records_frame(spark, kind, rows).cache()
    if rows:
        frame.count()
    frame.createOrReplaceTempView(table_name(kind.name))
    return frame


def _kind_findings(spark, plan: Plan, query: KindQuery, n: int, as_of: datetime, include_passed: bool,
                   counts, progress) -> Iterator:
    from . import finding
    from .groups import group_finding, group_outcomes

    plans = {rp.rule.id: rp for rp in plan.rule_plans}
    if progress is not None and progress.kind_started:
        progress.kind_started(query.kind, n)
    if query.rules and n:
        for hit in _hits(spark, plan, query, as_of, include_passed):
            counts[(hit.plan.rule.id, hit.value)] += 1
            yield finding(hit, as_of)
        if not include_passed:
            for rp in query.rules:
                counts[(rp.rule.id, False)] += n - counts[(rp.rule.id, True)] - counts[(rp.rule.id, None)]
    for gq in query.group_queries:
        empty = spark.sql(gq.empty_keys.sql(dialect="spark"), args=_args(gq.empty_keys, as_of)).collect()
        rows = spark.sql(gq.groups.sql(dialect="spark"), args=_args(gq.groups, as_of)).toLocalIterator()
        for o in group_outcomes(gq, empty, rows):
            counts[(o.rule, o.value)] += 1
            if include_passed or o.value is not False:
                yield group_finding(plans[o.rule].rule, o, as_of)
    if progress is not None and progress.rows_done and n:
        progress.rows_done(query.kind, n)


def _hits(spark, plan: Plan, query: KindQuery, as_of: datetime, include_passed: bool):
    """The kind's `batch.Hit`s: the DuckDB engine's hit query (records where some rule did not
    pass, their outcome, missing and evidence columns) on Spark, read back batch by batch."""
    from .batch import batch_hits, hits_select
    from .compiler import ExprCompiler
    from .readback import evidence_types, needs_conversion

    select = hits_select(plan, replace(query, select=_joined(plan, query.select)), include_passed)
    for column in select.expressions:  # a rule without candidates lists ARRAY<VOID>, which Arrow refuses
        if column.name.endswith(missing_column("")):
            column.replace(exp.alias_(exp.cast(column.copy(), "ARRAY<STRING>"), column.name, quoted=True))
    spark.sparkContext.setJobDescription(f"compliance: {query.kind}")
    table = spark.sql(select.sql(dialect="spark"), args=_args(query.select, as_of)).toArrow()
    comp = ExprCompiler(plan)
    types = {rp.rule.id: {n: t for n, t in evidence_types(comp, rp) if needs_conversion(t)} for rp in query.rules}
    kind = plan.program.kinds[query.kind]
    for batch in table.to_batches(_FETCH_ROWS):
        yield from batch_hits(query, kind, batch, include_passed, types)


_FETCH_ROWS = 50_000


# ---- many small evaluations in one query per kind ------------------------------------------------
def run_batches(plan: Plan, batches: Sequence[tuple[Mapping[str, list[dict]], datetime]],
                queries: list[KindQuery] | None = None, calendar: WorkdayCalendar | None = None,
                spark=None, master: str | None = None) -> Iterator[tuple[int, SqlOutcome]]:
    """(batch index, outcome) for many independent evaluations — each batch its own records and
    as_of — in one Spark query per kind: every row carries its batch and as_of, windows only see
    rows of the same batch. (Spark spends ~0.2 s per query, so thousands of rule tests would
    take minutes one by one.)"""
    from pyspark.sql import types as T

    spark = spark or session(master)
    register_calendar(spark, calendar)
    for name, kind in plan.program.kinds.items():
        rows, batch_ids, as_ofs = [], [], []
        for i, (records, as_of) in enumerate(batches):
            for record in records.get(name, []):
                rows.append(record)
                batch_ids.append(i)
                as_ofs.append(as_of.replace(tzinfo=None))
        extra = [(BATCH, T.LongType(), batch_ids), (BATCH_AS_OF, T.TimestampNTZType(), as_ofs)]
        frame = records_frame(spark, kind, rows, extra, _positions_in_batch(batch_ids))
        frame.createOrReplaceTempView(table_name(name))
    for query in queries if queries is not None else compile_spark(plan):
        if not query.rules:
            continue
        select = _joined(plan, _isolated(query.select), batches=True)
        frame = spark.sql(select.sql(dialect="spark"))
        kind = plan.program.kinds[query.kind]
        names = frame.columns
        keys = [names.index(k) for k in kind.key_fields]
        b = names.index(BATCH)
        slots = [(rp.rule.id, names.index(outcome_column(rp.rule.id)), names.index(missing_column(rp.rule.id)))
                 for rp in query.rules]
        for row in frame.collect():
            key = "|".join("" if row[i] is None else str(row[i]) for i in keys)
            for rule_id, o, m in slots:
                value = row[o]
                yield row[b], SqlOutcome(rule_id, row[0], key, value, tuple(row[m] or ()) if value is None else ())


def _positions_in_batch(batch_ids: list[int]) -> list[int]:
    out, seen = [], {}
    for b in batch_ids:
        out.append(seen.get(b, 0))
        seen[b] = out[-1] + 1
    return out


def _isolated(select: exp.Select) -> exp.Select:
    """The query with windows confined to the subject's batch and as_of read from its row."""
    select = select.copy()
    outer = (select.args.get("from_") or select.args["from"]).this.alias_or_name
    for sub in list(select.find_all(exp.Subquery)):
        source = (sub.this.args.get("from_") or sub.this.args.get("from")) if isinstance(sub.this, exp.Select) else None
        if source is None or not isinstance(source.this, exp.Table) or not source.this.name.startswith("records_"):
            continue
        alias = source.this.alias_or_name
        same = exp.EQ(this=exp.column(BATCH, table=alias, quoted=True), expression=exp.column(BATCH, table=outer, quoted=True))
        sub.this.where(same, copy=False)
    for window in list(select.find_all(exp.Window)):  # window functions: partitioned by batch first
        window.set("partition_by", [exp.column(BATCH, table=outer, quoted=True), *window.args.get("partition_by", [])])
    for p in list(select.find_all(exp.Placeholder)):
        p.replace(exp.column(BATCH_AS_OF, table=outer, quoted=True))
    select.set("expressions", [*select.expressions, exp.column(BATCH, table=outer, quoted=True)])
    return select
