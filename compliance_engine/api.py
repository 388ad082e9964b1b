"""The embedding API: load rulebooks once, evaluate records many times.

>>> from compliance_engine import load_rulebooks
>>> rules = load_rulebooks(["examples/language_tour.rules"])      # doctest: +SKIP
>>> rules.evaluate({"ticket_no": "T1", ...}, kind="ticket")       # doctest: +SKIP
[Finding(rule='TS-021', outcome='fired', ...)]

A `Rulebooks` object is immutable after `load_rulebooks`, so one instance can serve many
threads. Records are dicts (or pydantic models, read with `model_dump()`); values may be
strings as in CSV exports or native Python values, and are checked against the record kind.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from pydantic import BaseModel

from . import cache
from .backends.python.evaluator import Outcome, PythonBackend
from .calendar import WorkdayCalendar, default_calendar, load_calendar
from .check import check as check_modules
from .diagnostics import Diagnostic, Diagnostics
from .errors import EvaluationError, RulebookError
from .findings import CONTRACT_VERSION, Finding, make_finding
from .graph import DependencyGraph, build_graph
from .loader import load
from .model import Program
from .plan import Plan, lower
from .records import coerce_record
from .schema import RecordKind
from .source import Source

OUTCOME_NAMES = {True: "fired", False: "passed", None: "undetermined"}


@dataclass
class CheckResult:
    """What `check` found: the program (None when it did not parse) and every diagnostic."""

    program: Program | None
    graph: DependencyGraph | None
    diagnostics: list[Diagnostic]
    sources: dict[str, Source] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(d.severity.value == "error" for d in self.diagnostics)


def check(paths: Iterable[str | Path], *, use_cache: bool = True) -> CheckResult:
    """Parse and check rulebook files (directories are searched for `*.rules`).

    Results are cached on disk by the content of every file read (see cache.py), so checking
    unchanged rulebooks again takes milliseconds.
    """
    paths = list(paths)
    if use_cache and (cached := cache.lookup(paths)) is not None:
        return cached
    diags = Diagnostics()
    modules, sources = load(paths, diags)
    if not modules and not diags.has_errors:
        diags.add("E0107", "没有找到规则文件 (*.rules)", None, "给出规则文件或包含规则文件的目录")
    program = check_modules(modules, sources, diags)
    graph = build_graph(program, diags)
    result = CheckResult(program, graph, list(diags), sources)
    if use_cache:
        cache.store(paths, result)
    return result


def load_rulebooks(paths: Iterable[str | Path], calendar: WorkdayCalendar | str | Path | None = None) -> Rulebooks:
    """Check and compile rulebooks; raise `RulebookError` listing every error found."""
    result = check(paths)
    if not result.ok:
        raise RulebookError([d for d in result.diagnostics if d.severity.value == "error"], result.sources)
    if calendar is None:
        calendar = default_calendar()
    elif not isinstance(calendar, WorkdayCalendar):
        calendar = load_calendar(calendar)
    plan = lower(result.program, result.graph)
    return Rulebooks(plan, PythonBackend(plan, calendar), result.diagnostics)


class Rulebooks:
    """Compiled rulebooks, ready to evaluate records."""

    def __init__(self, plan: Plan, backend: PythonBackend, diagnostics: list[Diagnostic]):
        self.plan = plan
        self.backend = backend
        self.warnings = [d for d in diagnostics if d.severity.value == "warning"]

    @property
    def program(self) -> Program:
        return self.plan.program

    @property
    def kinds(self) -> dict[str, RecordKind]:
        return self.program.kinds

    def kind(self, name: str) -> RecordKind:
        try:
            return self.kinds[name]
        except KeyError:
            raise EvaluationError(f"unknown record kind {name!r}; known: {', '.join(self.kinds)}") from None

    def coerce(self, kind: str, record: Mapping | BaseModel) -> dict:
        """A record checked and converted to its kind's types (raises RecordValueError)."""
        raw = record.model_dump() if isinstance(record, BaseModel) else record
        return coerce_record(self.kind(kind), raw)

    def evaluate(self, record: Mapping | BaseModel, kind: str, as_of: datetime | None = None, *,
                 context: Mapping[str, list] | None = None, include_passed: bool = False) -> list[Finding]:
        """Every rule on one record. Windows see `context` (kind → records) and the record itself."""
        as_of = as_of or datetime.now()
        typed = self.coerce(kind, record)
        records = {k: [self.coerce(k, r) for r in rows] for k, rows in (context or {}).items()}
        records.setdefault(kind, []).append(typed)
        G = self.backend.global_facts(as_of)
        outcomes = self.backend.evaluate_one(kind, typed, as_of, G, records, include_passed)
        return [self.finding(o, as_of, G) for o in outcomes]

    def evaluate_batch(self, records: Mapping[str, list[dict]], as_of: datetime, *,
                       include_passed: bool = False) -> Iterator[Finding]:
        """Every rule over already-typed records (kind → rows, e.g. from `records.read_rows`)."""
        G = self.backend.global_facts(as_of)
        for outcome in self.backend.evaluate(dict(records), as_of, G, include_passed=include_passed):
            yield self.finding(outcome, as_of, G)

    def outcomes(self, records: Mapping[str, list[dict]], as_of: datetime, *, include_passed: bool = True,
                 counts: Counter | None = None) -> Iterator[Outcome]:
        """The raw three-valued outcomes (no Finding objects). With `include_passed=False` and a
        `counts` Counter, only fired/undetermined outcomes are yielded and every outcome is counted
        as (rule id, True/False/None) → n: the fast path for large batches."""
        return self.backend.evaluate(dict(records), as_of, include_passed=include_passed, counts=counts)

    def finding(self, outcome: Outcome, as_of: datetime, G: tuple) -> Finding:
        rule = outcome.plan.rule
        evidence = self.backend.evidence(outcome, as_of, G)
        missing = self.backend.missing(outcome, evidence) if outcome.value is None else []
        record = outcome.record
        key = "|".join(str(v) for v in outcome.group.values()) if outcome.group is not None else rule.kind.record_key(record)
        return make_finding(dict(
            contract=CONTRACT_VERSION, rule=rule.id, title=rule.title, rulebook=rule.rulebook.name,
            rulebook_version=rule.rulebook.version, record_kind=rule.kind.name, record_key=key,
            group=outcome.group, outcome=OUTCOME_NAMES[outcome.value], missing=missing, evidence=evidence,
            level=rule.level, category=rule.category, link=rule.link.id if rule.link else None,
            owner=rule.owner.text, supervisor=rule.supervisor.text if rule.supervisor else None,
            deadline=rule.deadline.text if rule.deadline else None,
            org_no=record.get("org_no"), as_of=as_of))
