"""A run: read case files, evaluate every rule on every record, count and hand out findings.

Every record read ends up evaluated or rejected (with its reason and line); the summary
reconciles read = evaluated + rejected and counts outcomes per rulebook, link and level.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

import networkx as nx

from .api import OUTCOME_NAMES, Rulebooks
from .findings import Finding, Rejection
from .records import read_rows
from .schema import RecordKind


@dataclass
class RunSummary:
    read: int = 0
    evaluated: int = 0
    rejected: int = 0
    outcomes: Counter = field(default_factory=Counter)
    by_rulebook: Counter = field(default_factory=Counter)  # (rulebook, outcome)
    by_link: Counter = field(default_factory=Counter)  # (link, outcome)
    by_level: Counter = field(default_factory=Counter)  # (level, outcome)

    @property
    def reconciles(self) -> bool:
        return self.read == self.evaluated + self.rejected

    def count(self, finding_rule, outcome: str, n: int = 1) -> None:
        self.outcomes[outcome] += n
        self.by_rulebook[(finding_rule.rulebook.name, outcome)] += n
        link = finding_rule.link
        name = "-" if link is None else (link.id if link.title == link.id else f"{link.id} {link.title}")
        self.by_link[(name, outcome)] += n
        self.by_level[(finding_rule.level, outcome)] += n

    def line(self) -> str:
        o = self.outcomes
        check = "✓" if self.reconciles else "✗"
        return (f"读取 {self.read} 条记录 = 评估 {self.evaluated} + 拒收 {self.rejected} {check}；"
                f"结论 fired {o['fired']}, undetermined {o['undetermined']}, passed {o['passed']} "
                f"(read {self.read} = evaluated {self.evaluated} + rejected {self.rejected})")

    def to_dict(self) -> dict:
        def table(c: Counter) -> dict:
            out: dict = {}
            for (name, outcome), n in sorted(c.items()):
                out.setdefault(name, {})[outcome] = n
            return out
        return {"read": self.read, "evaluated": self.evaluated, "rejected": self.rejected,
                "reconciles": self.reconciles, "outcomes": {k: self.outcomes[k] for k in ("fired", "undetermined", "passed") if k in self.outcomes},
                "by_rulebook": table(self.by_rulebook), "by_link": table(self.by_link), "by_level": table(self.by_level)}


@dataclass
class Run:
    summary: RunSummary
    rejections: list[Rejection]
    records: dict[str, list[dict]]
    python_read: list[str] = field(default_factory=list)  # files the DuckDB engine left to the Python reader


def read_cases(rulebooks: Rulebooks, files: list[tuple[Path, RecordKind]]) -> Run:
    run = Run(RunSummary(), [], {})
    for path, kind in files:
        _read_file(run, path, kind, run.records.setdefault(kind.name, []))
    return run


def _read_file(run: Run, path: Path, kind: RecordKind, rows: list[dict]) -> None:
    """Append the file's accepted records to `rows`; count and keep its rejections."""
    summary = run.summary
    for row in read_rows(path, kind):
        summary.read += 1
        if row.record is None:
            summary.rejected += 1
            run.rejections.append(Rejection(record_kind=kind.name, source=str(path), line=row.line,
                                            reason=row.rejection.reason))
        else:
            rows.append(row.record)
    summary.evaluated = summary.read - summary.rejected


def evaluate(rulebooks: Rulebooks, run: Run, as_of: datetime, include_passed: bool) -> Iterator[Finding]:
    """Findings of the run (fired and undetermined; passed too with `include_passed`), counted."""
    G = rulebooks.backend.global_facts(as_of)
    counts: Counter = Counter()
    for outcome in rulebooks.backend.evaluate(run.records, as_of, G, include_passed=include_passed, counts=counts):
        yield rulebooks.finding(outcome, as_of, G)
    _count(rulebooks, run, counts)


def stream_cases(rulebooks: Rulebooks, files: list[tuple[Path, RecordKind]], as_of: datetime,
                 include_passed: bool) -> tuple[Run, Iterator[Finding]]:
    """`read_cases` + `evaluate` a kind at a time, for runs that keep no records afterwards (no
    notices): a kind's records, and those its rules' windows read, are held only until the last
    kind that needs them is evaluated — memory follows the largest kind with those its windows
    read, not the whole input. Findings come a kind at a time (`turns`), in record
    order inside a kind; the run's counts are complete once they are all consumed."""
    run = Run(RunSummary(), [], {})
    return run, _stream(rulebooks, run, files_by_kind(files), as_of, include_passed)


def files_by_kind(files: list[tuple[Path, RecordKind]]) -> dict[str, list[tuple[Path, RecordKind]]]:
    by_kind: dict[str, list] = {}
    for path, kind in files:
        by_kind.setdefault(kind.name, []).append((path, kind))
    return by_kind


def read_kind(run: Run, files: list[tuple[Path, RecordKind]]) -> list[dict]:
    """The accepted records of one kind's files, in file order; rejections counted in `run`."""
    rows: list[dict] = []
    for path, kind in files:
        _read_file(run, path, kind, rows)
    return rows


@dataclass(frozen=True)
class Turn:
    """One step of a run a kind at a time: read `read` (the kind and the kinds its windows read,
    unless held from an earlier turn), evaluate `kind`, then let go of `release`."""

    kind: str
    read: tuple[str, ...]
    release: tuple[str, ...]


def turns(rulebooks: Rulebooks, kinds: list[str]) -> list[Turn]:
    """The turns that evaluate `kinds` (in file order) holding as few records at once as the
    windows allow (`_evaluation_order`); every kind is read once."""
    needs = {name: [name, *_window_kinds(rulebooks, name)] for name in kinds}
    order = _evaluation_order(needs)
    last_use = {need: i for i, name in enumerate(order) for need in needs[name]}
    held: dict[str, None] = {}  # in reading order
    out = []
    for i, name in enumerate(order):
        read = tuple(n for n in needs[name] if n not in held)
        held.update(dict.fromkeys(read))
        release = tuple(k for k in held if last_use[k] <= i)
        for k in release:
            del held[k]
        out.append(Turn(name, read, release))
    return out


def _stream(rulebooks: Rulebooks, run: Run, by_kind: dict, as_of: datetime, include_passed: bool) -> Iterator[Finding]:
    G = rulebooks.backend.global_facts(as_of)
    counts: Counter = Counter()
    held: dict[str, list[dict]] = {}
    for turn in turns(rulebooks, list(by_kind)):
        for name in turn.read:
            held[name] = read_kind(run, by_kind.get(name, []))
        for outcome in rulebooks.backend.evaluate(held, as_of, G, include_passed=include_passed, counts=counts,
                                                  kinds=(turn.kind,)):
            yield rulebooks.finding(outcome, as_of, G)
        for name in turn.release:
            del held[name]
    _count(rulebooks, run, counts)


def _evaluation_order(needs: dict[str, list[str]]) -> list[str]:
    """The kinds to evaluate (`needs`' keys, in file order) so that kinds sharing records come
    one after another, each after the kinds its windows read: a kind is then held from its
    first use to its last without the unrelated kinds in between."""
    graph = nx.DiGraph()
    graph.add_nodes_from(needs)
    graph.add_edges_from((need, name) for name, wanted in needs.items() for need in wanted[1:] if need in needs)
    position = {name: i for i, name in enumerate(needs)}
    order = []
    for component in sorted(nx.weakly_connected_components(graph), key=lambda c: min(map(position.get, c))):
        part = graph.subgraph(component)
        if nx.is_directed_acyclic_graph(part):
            order += nx.lexicographical_topological_sort(part, key=position.get)
        else:  # windows reading each other: file order
            order += sorted(component, key=position.get)
    return order


def _window_kinds(rulebooks: Rulebooks, name: str) -> list[str]:
    """Other record kinds that the windows of `name`'s rules read."""
    plan = rulebooks.plan.kind(name)
    rules = () if plan is None else (*plan.record_rules, *plan.group_rules)
    return list(dict.fromkeys(w.kind.name for rp in rules for w in rp.rule.windows if w.kind.name != name))


def _count(rulebooks: Rulebooks, run: Run, counts: Counter) -> None:
    rules = {r.id: r for r in rulebooks.program.rules}
    for (rule_id, value), n in counts.items():
        if n:
            run.summary.count(rules[rule_id], OUTCOME_NAMES[value], n)
