"""Our engine as one more runner of the peers' 200-rule work-order workload.

    .venv/bin/python bench/run_ours.py --variant {embedded,python,duckdb-parquet,duckdb-arrow,duckdb-batch}
                                       [--data bench/data/wo_100k.parquet] [--limit N] [--reps 3]
                                       [--lat-calls 300]

Prints ONE JSON line in the peers' format (their `common.emit`: peer, version, n, secs, median_s,
records_per_s, latency_us, prep_s, peak_rss_mb, counts in rules.json order) plus our extras.
`counts` are FIRED outcomes only; undetermined ones are counted apart (`undetermined`).
The rulebook is bench/data/workorders.rules (bench/translate_peers.py).

Variants (the timed region is the batch; loading, coercion and Arrow conversion are outside it,
as in the peers' runners; `prep_s` is check + compile of the rulebook, plus the SQL compile):

  embedded        the compiled kind function `backend.kinds[kind].evaluate(record, as_of, None, G)`
                  over typed records, `[fn(...) for r in records]` as the peers' plain Python does;
                  latency: one call on one typed record (>= 2000 calls, as their plain Python)
  python          the API batch path `rulebooks.outcomes(..., include_passed=False, counts=...)`
                  (what `compliance run` uses); latency: `rulebooks.evaluate(raw_row, kind, as_of)`,
                  the full single-record API (coercion, 200 outcomes, a Finding per fired rule)
  duckdb-parquet  the DuckDB backend reading the Parquet file itself, inside the timing:
                  `duckdb_runner.count_files` (per-rule fire counts aggregated in SQL)
  duckdb-arrow    the same compiled SELECT over typed records registered as an Arrow table
                  (`duckdb_runner.arrow_table`), fire counts aggregated in SQL
  duckdb-batch    what `compliance run --engine duckdb` does (backends/sql/batch.py): the file
                  ingested into a DuckDB database (outside the timing), then the query in row
                  ranges, every fired/undetermined outcome fetched into Python (`Hit`) and counted
  For the DuckDB variants latency is `run_records` on one typed record (a new query per call).
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import time
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import workload as W  # noqa: E402  (puts the peers' folder on sys.path)

C = W.peer_common
VARIANTS = ("embedded", "python", "duckdb-parquet", "duckdb-arrow", "duckdb-batch")
DUCKDB_LAT_CALLS = 20  # each single-record DuckDB call is a full query (~0.1-0.5 s): a few suffice


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variant", choices=VARIANTS, required=True)
    ap.add_argument("--data", type=Path, default=W.parquet_path(100_000))
    ap.add_argument("--limit", type=int, help="evaluate only the first LIMIT records")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--lat-calls", type=int, default=300)
    return ap.parse_args(argv)


def load_engine():
    """Check + compile of the 200-rule rulebook, cold (the on-disk check cache is kept out)."""
    os.environ["COMPLIANCE_CACHE_DIR"] = "/dev/null/no-cache"
    from compliance_engine.api import load_rulebooks

    if not W.RULES_FILE.exists():
        import translate_peers

        translate_peers.write()
    t0 = time.perf_counter()
    rb = load_rulebooks([W.RULES_FILE])
    return rb, time.perf_counter() - t0


def rule_ids() -> list[str]:
    return [r["id"] for r in W.load_rules()]


def typed_records(rb, table, keep_raw: bool = False) -> tuple[list[dict] | None, list[dict], float]:
    """Typed records (rulebooks.coerce of the rows an embedding caller would pass), the raw rows
    only when asked (at 1M records every copy is a GB or two)."""
    raw = W.native_rows(table)
    t0 = time.perf_counter()
    records = [rb.coerce(W.KIND, r) for r in raw]
    return (raw if keep_raw else None), records, time.perf_counter() - t0


def time_batch(fn, reps):
    """The peers' `common.time_batch`, except that the previous repetition's result is dropped
    before the next starts (a million results would be held twice otherwise)."""
    secs, out = [], None
    for _ in range(reps):
        out = None
        t0 = time.perf_counter()
        out = fn()
        secs.append(time.perf_counter() - t0)
    return secs, out


# ---- Python backend ------------------------------------------------------------------------------
def run_embedded(a, rb, table) -> dict:
    _, records, coerce_s = typed_records(rb, table)
    fn, G = rb.backend.kinds[W.KIND].evaluate, rb.backend.global_facts(W.AS_OF)
    as_of = W.AS_OF
    secs, out = time_batch(lambda: [fn(r, as_of, None, G) for r in records], a.reps)
    order = [rp.rule.id for rp in rb.plan.kind(W.KIND).record_rules]
    fired, undetermined = Counter(), 0
    for fired_at, undetermined_at in out:  # positions of the fired / undetermined rules
        fired.update(order[i] for i in fired_at)
        undetermined += len(undetermined_at)
    del out
    lat = C.time_latency(lambda r: fn(r, as_of, None, G), records, max(a.lat_calls, 2000))
    return {"n": len(records), "secs": secs, "fired": fired, "undetermined": undetermined, "latency_us": lat,
            "extra": {"coerce_records_per_s": len(records) / coerce_s,
                      "what": "compiled kind function over typed records (in-process list)"}}


def run_api(a, rb, table) -> dict:
    raw, records, coerce_s = typed_records(rb, table, keep_raw=True)
    counts: Counter = Counter()

    def batch():
        counts.clear()
        for _ in rb.outcomes({W.KIND: records}, W.AS_OF, include_passed=False, counts=counts):
            pass
        return counts

    secs, _ = C.time_batch(batch, a.reps)
    fired = Counter({rule: n for (rule, value), n in counts.items() if value is True})
    undetermined = sum(n for (rule, value), n in counts.items() if value is None)
    lat = C.time_latency(lambda r: rb.evaluate(r, W.KIND, W.AS_OF), raw, a.lat_calls)
    return {"n": len(records), "secs": secs, "fired": fired, "undetermined": undetermined, "latency_us": lat,
            "extra": {"coerce_records_per_s": len(records) / coerce_s,
                      "what": "rulebooks.outcomes() batch (fired/undetermined yielded, all counted); "
                              "latency: rulebooks.evaluate(raw row)"}}


# ---- DuckDB backend ------------------------------------------------------------------------------
def sql_modules():
    from compliance_engine.backends.sql import compiler, duckdb_runner

    return compiler, duckdb_runner


def count_sql(query):
    """SELECT COUNT_IF(outcome IS TRUE/FALSE/NULL) per rule over the kind's query (sqlglot tree),
    so no row reaches Python: the same aggregation as `duckdb_runner.count_files`."""
    from sqlglot import exp

    compiler, _ = sql_modules()
    inner = exp.Subquery(this=query.select, alias=exp.TableAlias(this=exp.to_identifier("o")))
    cols = [exp.func("COUNT_IF", exp.Is(this=exp.column(compiler.outcome_column(rp.rule.id), table="o", quoted=True),
                                        expression=e))
            for rp in query.rules for e in (exp.true(), exp.false(), exp.Null())]
    return exp.select(*cols).from_(inner).sql("duckdb")


def uses_as_of(query) -> bool:
    """Whether the SELECT has the $as_of placeholder (DuckDB refuses unused parameters)."""
    from sqlglot import exp

    compiler, _ = sql_modules()
    return any(p.name == compiler.AS_OF for p in query.select.find_all(exp.Placeholder))


def from_triples(query, row) -> tuple[Counter, int]:
    fired, undetermined = Counter(), 0
    for i, rp in enumerate(query.rules):
        fired[rp.rule.id] = row[3 * i]
        undetermined += row[3 * i + 2]
    return fired, undetermined


def from_count_map(out: dict) -> tuple[Counter, int]:
    fired = Counter({rule: n for (rule, value), n in out.items() if value is True})
    return fired, sum(n for (rule, value), n in out.items() if value is None)


def kind_query(rb):
    compiler, _ = sql_modules()
    t0 = time.perf_counter()
    queries = compiler.compile_plan(rb.plan)
    return queries, next(q for q in queries if q.kind == W.KIND and q.rules), time.perf_counter() - t0


def prefix_file(path: Path, table) -> Path:
    """The Parquet file holding exactly the records timed (a cached prefix copy under --limit)."""
    import pyarrow.parquet as pq

    if pq.ParquetFile(path).metadata.num_rows == table.num_rows:
        return path
    out = W.DATA / f"{path.stem}.first{table.num_rows}.parquet"
    if not out.exists():
        pq.write_table(table, out)
    return out


def duckdb_latency(rb, records, queries, calls: int) -> float:
    _, dr = sql_modules()
    con = dr.connect(rb.backend.calendar)
    return C.time_latency(lambda r: sum(1 for _ in dr.run_records(rb.plan, {W.KIND: [r]}, W.AS_OF, queries, con=con)),
                          records, min(calls, DUCKDB_LAT_CALLS))


def run_duckdb_parquet(a, rb, table) -> dict:
    _, dr = sql_modules()
    queries, query, sql_compile_s = kind_query(rb)
    path = prefix_file(a.data, table)
    kind = rb.program.kinds[W.KIND]
    # Pass the compiled queries when the runner accepts them (else it compiles inside the timing).
    takes_queries = "queries" in inspect.signature(dr.count_files).parameters
    kwargs = {"queries": queries} if takes_queries else {}
    kwargs["calendar"] = rb.backend.calendar
    secs, out = C.time_batch(lambda: dr.count_files(rb.plan, [(path, kind)], W.AS_OF, **kwargs), a.reps)
    fired, undetermined = from_count_map(out)
    _, records, _ = typed_records(rb, table.slice(0, 500))
    lat = duckdb_latency(rb, records, queries, a.lat_calls)
    return {"n": table.num_rows, "secs": secs, "fired": fired, "undetermined": undetermined, "latency_us": lat,
            "sql_compile_s": sql_compile_s,
            "extra": {"what": "duckdb_runner.count_files over the Parquet file (read by DuckDB inside the timing)",
                      "path": str(path),
                      "sql_compile_in_timing": not takes_queries, "threads": duckdb_threads()}}


def run_duckdb_arrow(a, rb, table) -> dict:
    compiler, dr = sql_modules()
    queries, query, sql_compile_s = kind_query(rb)
    _, records, coerce_s = typed_records(rb, table)
    t0 = time.perf_counter()
    arrow = dr.arrow_table(rb.program.kinds[W.KIND], records)
    arrow_s = time.perf_counter() - t0
    del records
    con = dr.connect(rb.backend.calendar)
    con.register(compiler.table_name(W.KIND), arrow)
    sql = count_sql(query)
    params = {compiler.AS_OF: W.AS_OF} if uses_as_of(query) else None
    secs, row = C.time_batch(lambda: con.execute(sql, params).fetchone(), a.reps)
    fired, undetermined = from_triples(query, row)
    _, few, _ = typed_records(rb, table.slice(0, 500))
    lat = duckdb_latency(rb, few, queries, a.lat_calls)
    return {"n": table.num_rows, "secs": secs, "fired": fired, "undetermined": undetermined, "latency_us": lat,
            "sql_compile_s": sql_compile_s,
            "extra": {"what": "compiled SELECT over typed records registered as Arrow; counts aggregated in SQL",
                      "coerce_records_per_s": table.num_rows / coerce_s, "arrow_table_s": arrow_s,
                      "threads": duckdb_threads()}}


def run_duckdb_batch(a, rb, table) -> dict:
    """`compliance run --engine duckdb`'s path (backends/sql/batch.py): the Parquet file ingested
    into a DuckDB database (outside the timing, as the peers' CREATE TABLE), then the kind's query
    over it in row ranges, every fired/undetermined outcome fetched into Python as a `Hit`."""
    from importlib import import_module

    # modules by full name: the package re-exports functions with the same names
    batch = import_module("compliance_engine.backends.sql.batch")
    ingest = import_module("compliance_engine.backends.sql.ingest")
    t0 = time.perf_counter()
    queries = batch.batch_queries(rb.plan)
    sql_compile_s = time.perf_counter() - t0
    query = next(q for q in queries if q.kind == W.KIND and q.rules)
    kind = rb.program.kinds[W.KIND]
    path = prefix_file(a.data, table)
    with batch.Database(rb.backend.calendar) as db:
        t0 = time.perf_counter()
        got = ingest.ingest(db.con, rb.program.kinds, [(path, kind)])
        ingest_s = time.perf_counter() - t0
        rows = got.rows[W.KIND]

        def once():
            fired, undetermined = Counter(), 0
            for hit in batch.evaluate_kind(db.con, rb.plan, query, rows, W.AS_OF):
                if hit.value is True:
                    fired[hit.plan.rule.id] += 1
                elif hit.value is None:
                    undetermined += 1
            return fired, undetermined

        secs, (fired, undetermined) = C.time_batch(once, a.reps)
    queries_plain, _, _ = kind_query(rb)
    _, few, _ = typed_records(rb, table.slice(0, 500))
    lat = duckdb_latency(rb, few, queries_plain, a.lat_calls)
    return {"n": rows, "secs": secs, "fired": fired, "undetermined": undetermined, "latency_us": lat,
            "sql_compile_s": sql_compile_s,
            "extra": {"what": "batch.py: Parquet ingested (outside timing), evaluate_kind hits fetched to Python",
                      "ingest_s": ingest_s, "ingest_records_per_s": rows / ingest_s, "rejected": got.rejected,
                      "threads": duckdb_threads()}}


def duckdb_threads():
    import duckdb

    return duckdb.connect().execute("SELECT current_setting('threads')").fetchone()[0]


RUNNERS = {"embedded": run_embedded, "python": run_api, "duckdb-parquet": run_duckdb_parquet,
           "duckdb-arrow": run_duckdb_arrow, "duckdb-batch": run_duckdb_batch}


def version(variant: str) -> str:
    from importlib import metadata

    v = metadata.version("compliance-engine")
    if variant.startswith("duckdb"):
        import duckdb

        v += f" (duckdb {duckdb.__version__})"
    return v


def main(argv=None) -> int:
    a = parse_args(argv)
    rb, load_s = load_engine()
    table = C.load_table(str(a.data), a.limit)
    r = RUNNERS[a.variant](a, rb, table)
    ids = rule_ids()
    counts = [r["fired"].get(i, 0) for i in ids]
    prep = load_s + r.get("sql_compile_s", 0.0)
    extra = {"variant": a.variant, "load_rulebooks_s": load_s, "undetermined": r["undetermined"],
             "fires": sum(counts), **r["extra"]}
    if "sql_compile_s" in r:
        extra["sql_compile_s"] = r["sql_compile_s"]
    C.emit(f"ours ({a.variant})", version(a.variant), r["n"], r["secs"], counts, r["latency_us"], prep, extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
