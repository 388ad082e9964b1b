"""The SQL backend: the plan compiled to SQL (compiler.py) and run on DuckDB.

`evaluate_files` is `compliance run --engine duckdb`: DuckDB reads the case files itself
(ingest.py), evaluates every kind in ranges of records (batch.py) and hands back findings; the
run's summary is counted like `runner.evaluate`'s. Rules the compiler cannot translate stop the
run with their E0601 diagnostics (`RulebookError`): never a silent fallback to Python.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ...api import OUTCOME_NAMES, Rulebooks
from ...errors import RulebookError
from ...findings import CONTRACT_VERSION, Finding, Rejection, make_finding
from ...runner import Run, RunSummary
from ...schema import RecordKind
from .batch import CHUNK_ROWS, MEMORY_LIMIT, Database, Hit, batch_queries, evaluate_kind
from .compiler import check_sql, compile_plan
from .groups import group_finding, run_groups
from .ingest import ingest

__all__ = ["check_sql", "compile_plan", "evaluate_files", "BatchOptions", "Progress"]


@dataclass
class BatchOptions:
    workdir: str | Path | None = None  # where DuckDB keeps its database file (default: a temp folder)
    memory_limit: str = MEMORY_LIMIT
    chunk_rows: int = CHUNK_ROWS
    threads: int | None = None


@dataclass
class Progress:
    """Callbacks a progress display hangs on (all optional)."""

    file_read: Callable[[Path, int], None] | None = None  # after each case file: rows read
    kind_started: Callable[[str, int], None] | None = None  # kind, records to evaluate
    rows_done: Callable[[str, int], None] | None = None  # kind, records just evaluated
    finished: Callable[[], None] | None = None


def evaluate_files(rulebooks: Rulebooks, files: list[tuple[Path, RecordKind]], as_of: datetime,
                   include_passed: bool = False, options: BatchOptions | None = None,
                   progress: Progress | None = None) -> tuple[Run, Iterator[Finding]]:
    """(the run, its findings) with the files read and evaluated by DuckDB. The run's rejections
    and read/evaluated counts are known at once; its outcome counts once the findings are consumed."""
    queries = batch_queries(rulebooks.plan)
    errors = check_sql(rulebooks.plan, queries)
    if errors:
        raise RulebookError(errors, rulebooks.program.sources)
    options, progress = options or BatchOptions(), progress or Progress()
    db = Database(rulebooks.backend.calendar, options.workdir, options.memory_limit, options.threads)
    try:
        ingested = ingest(db.con, rulebooks.program.kinds, files, progress.file_read)
    except BaseException:
        db.close()
        raise
    summary = RunSummary(read=ingested.read, rejected=ingested.rejected)
    summary.evaluated = summary.read - summary.rejected
    rejections = [Rejection(record_kind=r.kind, source=r.path, line=r.line, reason=r.reason)
                  for r in ingested.rejections]
    run = Run(summary, rejections, {}, ingested.python_read)
    return run, _findings(rulebooks, queries, db, ingested.rows, run, as_of, include_passed, options, progress)


def _findings(rulebooks: Rulebooks, queries, db: Database, rows: dict[str, int], run: Run, as_of: datetime,
              include_passed: bool, options: BatchOptions, progress: Progress) -> Iterator[Finding]:
    counts: Counter = Counter()
    rules = {r.id: r for r in rulebooks.program.rules}
    try:
        for query in queries:
            n = rows.get(query.kind, 0)
            if progress.kind_started:
                progress.kind_started(query.kind, n)
            done = (lambda k: (lambda m: progress.rows_done(k, m)))(query.kind) if progress.rows_done else None
            for hit in evaluate_kind(db.con, rulebooks.plan, query, n, as_of, include_passed, options.chunk_rows, done):
                counts[(hit.plan.rule.id, hit.value)] += 1
                yield finding(hit, as_of)
            if not include_passed:
                for rp in query.rules:
                    counts[(rp.rule.id, False)] += n - counts[(rp.rule.id, True)] - counts[(rp.rule.id, None)]
            for outcome in run_groups(db.con, rulebooks.plan, as_of, [query]):  # a few rows per group rule
                counts[(outcome.rule, outcome.value)] += 1
                if include_passed or outcome.value is not False:
                    yield group_finding(rules[outcome.rule], outcome, as_of)
    finally:
        db.close()
        if progress.finished:
            progress.finished()
    for (rule_id, value), n in counts.items():
        if n:
            run.summary.count(rules[rule_id], OUTCOME_NAMES[value], n)


def finding(hit: Hit, as_of: datetime) -> Finding:
    rule = hit.plan.rule
    return make_finding(dict(
        contract=CONTRACT_VERSION, rule=rule.id, title=rule.title, rulebook=rule.rulebook.name,
        rulebook_version=rule.rulebook.version, record_kind=rule.kind.name, record_key=hit.record_key, group=None,
        outcome=OUTCOME_NAMES[hit.value], missing=list(hit.missing), evidence=hit.evidence, level=rule.level,
        category=rule.category, link=rule.link.id if rule.link else None, owner=rule.owner.text,
        supervisor=rule.supervisor.text if rule.supervisor else None,
        deadline=rule.deadline.text if rule.deadline else None, org_no=hit.org_no, as_of=as_of))
