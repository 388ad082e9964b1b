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
    summary, rejections, records = RunSummary(), [], {}
    for path, kind in files:
        rows = records.setdefault(kind.name, [])
        for row in read_rows(path, kind):
            summary.read += 1
            if row.record is None:
                summary.rejected += 1
                rejections.append(Rejection(record_kind=kind.name, source=str(path), line=row.line,
                                            reason=row.rejection.reason))
            else:
                rows.append(row.record)
    summary.evaluated = summary.read - summary.rejected
    return Run(summary, rejections, records)


def evaluate(rulebooks: Rulebooks, run: Run, as_of: datetime, include_passed: bool) -> Iterator[Finding]:
    """Findings of the run (fired and undetermined; passed too with `include_passed`), counted."""
    G = rulebooks.backend.global_facts(as_of)
    counts: Counter = Counter()
    for outcome in rulebooks.backend.evaluate(run.records, as_of, G, include_passed=include_passed, counts=counts):
        yield rulebooks.finding(outcome, as_of, G)
    rules = {r.id: r for r in rulebooks.program.rules}
    for (rule_id, value), n in counts.items():
        if n:
            run.summary.count(rules[rule_id], OUTCOME_NAMES[value], n)
