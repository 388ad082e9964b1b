"""Run rule tests: the tests written beside rules, and those of test files (test_files.py).

A test gives records and expects the outcome for the record under test (for a group rule: its
group), optionally the fields it is missing and named values of its evidence. `execute` keeps
what each run saw (the outcome, the records, as_of) so that coverage.py can replay it through
the IR interpreter; `run_tests` is the short form that only returns the results.
"""

from __future__ import annotations

import time
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Iterable, Mapping

from .api import OUTCOME_NAMES, Rulebooks
from .backends.python.evaluator import Outcome
from .backends.python.interpreter import Interpreter, trace_rule
from .coerce import Invalid, converter_for
from .findings import json_value
from .model import Program, Rule
from .types import Type

_DEFAULT_AS_OF = datetime(2000, 1, 1)  # only used by rules that do not read as_of
OUTCOMES = ("fired", "passed", "undetermined")


def show(value: object) -> str:
    """A JSON-form value as written in messages: text quoted, numbers and lists as JSON."""
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class RuleTest:
    """One test of one rule: records given (typed), the subject's index, what is expected.

    `evidence` maps names (fields, lets, facts, window results) to expected values as written;
    `case` names the row of a table-driven test; a test that could not be built carries only
    `error` (and where it is written), and is reported as an error."""

    rule: str
    name: str
    as_of: datetime | None = None
    records: tuple[tuple[str, dict], ...] = ()
    subject: int = 0
    outcome: str = ""
    missing: tuple[str, ...] = ()
    evidence: Mapping[str, object] = field(default_factory=dict)
    case: str = ""
    location: str = ""
    file: str = ""
    error: str = ""


@dataclass(frozen=True)
class Mismatch:
    """One thing expected that did not happen: `what` is outcome, missing or an evidence name;
    values are in their JSON form."""

    what: str
    expected: object
    actual: object


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
    case: str = ""
    mismatches: tuple[Mismatch, ...] = ()
    error: str = ""
    rulebook: str = ""  # the rule's rulebook ("" when the rule does not exist)
    file: str = ""  # where the test is written
    seconds: float = 0.0

    @property
    def message(self) -> str:
        if self.error:
            return self.error
        if self.passed:
            return "ok"
        parts = []
        if self.expected != self.actual or any(m.what == "missing" for m in self.mismatches):
            want = self.expected + (f" missing {', '.join(self.expected_missing)}" if self.expected_missing else "")
            got = self.actual + (f" missing {', '.join(self.actual_missing)}" if self.actual_missing else "")
            parts.append(f"expected {want}, got {got}")
        parts += [f"{m.what}: expected {show(m.expected)}, got {show(m.actual)}" for m in self.mismatches
                  if m.what not in ("outcome", "missing")]
        return "; ".join(parts)

    @property
    def diff(self) -> list[str]:
        """Expected against actual, one line per thing that differs."""
        return [f"{m.what}: expected {_shown(m.what, m.expected)}, got {_shown(m.what, m.actual)}"
                for m in self.mismatches]


def _shown(what: str, value: object) -> str:
    if what == "outcome":
        return "no outcome" if value is None else str(value)
    return show(value)


@dataclass(frozen=True)
class Execution:
    """One test run, with what coverage needs to replay it (outcome None: no outcome found)."""

    test: RuleTest
    rule: Rule | None
    result: TestResult
    outcome: Outcome | None = None
    records: dict[str, list[dict]] = field(default_factory=dict)
    as_of: datetime = _DEFAULT_AS_OF
    global_facts: tuple = ()


def embedded_tests(program: Program) -> list[RuleTest]:
    """The tests written beside the rules, in rule order."""
    return [RuleTest(rule.id, t.name, t.as_of, t.records, t.subject, t.outcome, t.missing,
                     location=str(t.span) if t.span else "", file=rule.rulebook.path)
            for rule in program.rules for t in rule.tests]


def run_tests(rulebooks: Rulebooks, extra: Iterable[RuleTest] = ()) -> list[TestResult]:
    """Run every test beside the rules, then `extra` (e.g. from test files)."""
    tests = [*embedded_tests(rulebooks.program), *extra]
    return [e.result for e in execute(rulebooks, tests)]


def execute(rulebooks: Rulebooks, tests: Iterable[RuleTest]) -> list[Execution]:
    rules = {r.id: r for r in rulebooks.program.rules}
    return [_execute(rulebooks, rules.get(t.rule), t) for t in tests]


def _execute(rulebooks: Rulebooks, rule: Rule | None, test: RuleTest) -> Execution:
    start = time.perf_counter()
    if test.error or rule is None:
        error = test.error or f"规则 {test.rule} 不存在"
        return Execution(test, rule, _result(test, rule, False, "error", error=error))
    backend = rulebooks.backend
    records: dict[str, list[dict]] = {}
    for kind, record in test.records:
        records.setdefault(kind, []).append(dict(record))
    subject = _subject(records, test)
    as_of = test.as_of or _DEFAULT_AS_OF
    G = backend.global_facts(as_of)
    outcome = next((o for o in backend.evaluate(records, as_of, G)
                    if o.plan.rule.id == rule.id and _is_subject(o, subject)), None)
    if outcome is None:
        result = _result(test, rule, False, "no outcome", (Mismatch("outcome", test.outcome, None),))
    else:
        result = _judge(rulebooks, rule, test, outcome, as_of, G)
    result = replace(result, seconds=time.perf_counter() - start)
    return Execution(test, rule, result, outcome, records, as_of, G)


def _judge(rulebooks: Rulebooks, rule: Rule, test: RuleTest, outcome: Outcome, as_of, G) -> TestResult:
    backend = rulebooks.backend
    actual = OUTCOME_NAMES[outcome.value]
    evidence = backend.evidence(outcome, as_of, G) if outcome.value is None or test.evidence else {}
    missing = tuple(backend.missing(outcome, evidence)) if outcome.value is None else ()
    mismatches = []
    if actual != test.outcome:
        mismatches.append(Mismatch("outcome", test.outcome, actual))
    if test.missing and set(test.missing) != set(missing):
        mismatches.append(Mismatch("missing", list(test.missing), list(missing)))
    if test.evidence:
        values = _named_values(rulebooks, rule, outcome, as_of, G, evidence)
        mismatches += _evidence_mismatches(test.evidence, values, value_types(rule))
    return _result(test, rule, not mismatches, actual, tuple(mismatches), missing)


def _result(test: RuleTest, rule: Rule | None, passed: bool, actual: str, mismatches: tuple = (),
            missing: tuple[str, ...] = (), error: str = "") -> TestResult:
    return TestResult(test.rule, test.name, passed, test.outcome, actual, test.missing, missing, test.location,
                      test.case, mismatches, error, rule.rulebook.name if rule else "", test.file)


def _subject(records: dict[str, list[dict]], test: RuleTest) -> dict:
    kind, _ = test.records[test.subject]
    position = sum(1 for k, _ in test.records[: test.subject] if k == kind)
    return records[kind][position]


def _is_subject(outcome: Outcome, subject: dict) -> bool:
    if outcome.group is None:
        return outcome.record is subject
    return all(subject.get(f) == v for f, v in outcome.group.items())


# ---- evidence ------------------------------------------------------------------------------
def value_types(rule: Rule) -> dict[str, Type]:
    """Every name a test may state evidence for: fields, facts, window results and lets."""
    types = {f.name: f.type for f in rule.kind.fields}
    types.update({f.name: f.type for f in rule.facts})
    types.update({name: node.type for w in rule.windows for name, node in w.aggregates})
    types.update({name: node.type for name, node in rule.lets})
    return types


def _named_values(rulebooks: Rulebooks, rule: Rule, outcome: Outcome, as_of, G, evidence: dict) -> dict:
    """The finding's evidence, completed with the record's fields and (for lets the condition
    does not read, so not in the evidence) the interpreter's values."""
    facts = rulebooks.backend.global_facts_by_name(G)
    trace = trace_rule(Interpreter(rulebooks.backend.calendar), rule, outcome.record, as_of, facts, outcome.aggregates)
    return {**outcome.record, **{name: v for (_, name), v in trace.names.items()}, **evidence}


def _evidence_mismatches(expected: Mapping[str, object], values: dict, types: dict[str, Type]) -> list[Mismatch]:
    out = []
    for name, written in expected.items():
        want, got = _typed(written, types.get(name)), values.get(name)
        if not (want == got and type(want) is type(got)) and json_value(want) != json_value(got):
            out.append(Mismatch(name, json_value(want), json_value(got)))
    return out


def _typed(written: object, typ: Type | None) -> object:
    """A value written in a test file, read as the name's type (as a CSV cell would be);
    left as written when it is not a value of that type (it then compares unequal)."""
    if written is None or written == "" or typ is None:
        return None if written == "" else written
    try:
        return converter_for(typ)(written)
    except (Invalid, ValueError, TypeError):
        return written
