"""Run the tests written beside rules: records given, outcome (and missing fields) expected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .api import OUTCOME_NAMES, Rulebooks
from .model import Rule, TestCase

_DEFAULT_AS_OF = datetime(2000, 1, 1)  # only used by rules that do not read as_of


@dataclass(frozen=True)
class TestResult:
    rule: str
    test: str
    passed: bool
    expected: str
    actual: str
    expected_missing: tuple[str, ...] = ()
    actual_missing: tuple[str, ...] = ()
    location: str = ""

    @property
    def message(self) -> str:
        if self.passed:
            return "ok"
        want = self.expected + (f" missing {', '.join(self.expected_missing)}" if self.expected_missing else "")
        got = self.actual + (f" missing {', '.join(self.actual_missing)}" if self.actual_missing else "")
        return f"expected {want}, got {got}"


def run_tests(rulebooks: Rulebooks) -> list[TestResult]:
    return [run_test(rulebooks, rule, test) for rule in rulebooks.program.rules for test in rule.tests]


def run_test(rulebooks: Rulebooks, rule: Rule, test: TestCase) -> TestResult:
    records: dict[str, list[dict]] = {}
    for kind, record in test.records:
        records.setdefault(kind, []).append(dict(record))
    subject = _subject(records, test)
    as_of = test.as_of or _DEFAULT_AS_OF
    G = rulebooks.backend.global_facts(as_of)
    outcome = None
    for o in rulebooks.backend.evaluate(records, as_of, G):
        if o.plan.rule.id == rule.id and _is_subject(o, subject, rule):
            outcome = o
            break
    location = str(test.span) if test.span else ""
    if outcome is None:
        return TestResult(rule.id, test.name, False, test.outcome, "no outcome", test.missing, (), location)
    actual = OUTCOME_NAMES[outcome.value]
    missing: tuple[str, ...] = ()
    if outcome.value is None:
        missing = tuple(rulebooks.backend.missing(outcome, rulebooks.backend.evidence(outcome, as_of, G)))
    ok = actual == test.outcome and (not test.missing or set(test.missing) == set(missing))
    return TestResult(rule.id, test.name, ok, test.outcome, actual, test.missing, missing, location)


def _subject(records: dict[str, list[dict]], test: TestCase) -> dict:
    kind, _ = test.records[test.subject]
    position = sum(1 for k, _ in test.records[: test.subject] if k == kind)
    return records[kind][position]


def _is_subject(outcome, subject: dict, rule: Rule) -> bool:
    if outcome.group is None:
        return outcome.record is subject
    return all(subject.get(f) == v for f, v in outcome.group.items())
