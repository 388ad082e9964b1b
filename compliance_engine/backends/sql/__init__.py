"""The SQL backend: the plan compiled to SQL (compiler.py) and run on DuckDB (duckdb_runner.py).

`evaluate_duckdb` has the shape of `runner.evaluate`, so `compliance run --engine duckdb` only
chooses which of the two to call. Rules the compiler cannot translate stop the run with their
E0601 diagnostics (`RulebookError`): never a silent fallback to Python.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Iterator

from ...api import OUTCOME_NAMES, Rulebooks
from ...errors import RulebookError
from ...findings import CONTRACT_VERSION, Finding, make_finding
from .compiler import check_sql, compile_plan
from .duckdb_runner import SqlOutcome, run_records


def evaluate_duckdb(rulebooks: Rulebooks, run, as_of: datetime, include_passed: bool) -> Iterator[Finding]:
    """Findings of a `runner.Run` computed by DuckDB (fired and undetermined; passed with
    `include_passed`), counted into `run.summary` like `runner.evaluate`."""
    errors = check_sql(rulebooks.plan)
    if errors:
        raise RulebookError(errors, rulebooks.program.sources)
    rules = {r.id: r for r in rulebooks.program.rules}
    counts: Counter = Counter()
    queries = compile_plan(rulebooks.plan)
    for o in run_records(rulebooks.plan, run.records, as_of, queries, rulebooks.backend.calendar):
        counts[(o.rule, o.value)] += 1
        if include_passed or o.value is not False:
            rule = rules[o.rule]
            yield finding(rulebooks, rule, o, run.records[rule.kind.name][o.row], as_of)
    for (rule_id, value), n in counts.items():
        run.summary.count(rules[rule_id], OUTCOME_NAMES[value], n)


def finding(rulebooks: Rulebooks, rule, o: SqlOutcome, record: dict, as_of: datetime) -> Finding:
    """The Finding of a SQL outcome; evidence holds the record's fields the rule reads."""
    rp = next(p for p in rulebooks.plan.rule_plans if p.rule is rule)
    evidence = {n: record[n] for n in rp.evidence if n in record}
    return make_finding(dict(
        contract=CONTRACT_VERSION, rule=rule.id, title=rule.title, rulebook=rule.rulebook.name,
        rulebook_version=rule.rulebook.version, record_kind=rule.kind.name, record_key=o.key, group=None,
        outcome=OUTCOME_NAMES[o.value], missing=list(o.missing), evidence=evidence, level=rule.level,
        category=rule.category, link=rule.link.id if rule.link else None, owner=rule.owner.text,
        supervisor=rule.supervisor.text if rule.supervisor else None,
        deadline=rule.deadline.text if rule.deadline else None, org_no=record.get("org_no"), as_of=as_of))
