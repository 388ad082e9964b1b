"""The IR interpreter (used by explain and coverage) agrees with the generated code on every
test written beside every rule of every rulebook in the repository: two independent
implementations of the same semantics."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance_engine import load_rulebooks
from compliance_engine.backends.python.interpreter import Interpreter, trace_rule

ROOT = Path(__file__).resolve().parents[1]
RULEBOOK_SETS = [ROOT / "rulebooks", ROOT / "examples" / "rulebooks", ROOT / "tests" / "rulebooks",
                 ROOT / "examples" / "language_tour.rules"]


def _outcomes(rulebooks):
    """(rule, backend outcome) for every record or group of every rule test."""
    backend = rulebooks.backend
    for rule in rulebooks.program.rules:
        for test in rule.tests:
            records: dict[str, list[dict]] = {}
            for kind, record in test.records:
                records.setdefault(kind, []).append(dict(record))
            as_of = test.as_of or __import__("datetime").datetime(2000, 1, 1)
            G = backend.global_facts(as_of)
            for outcome in backend.evaluate(records, as_of, G):
                if outcome.plan.rule is rule and not outcome.missing_key:
                    yield rule, outcome, as_of, backend.global_facts_by_name(G)


@pytest.mark.parametrize("path", RULEBOOK_SETS, ids=lambda p: p.name)
def test_interpreter_agrees_with_generated_code(path):
    rulebooks = load_rulebooks([path])
    interpreter = Interpreter(rulebooks.backend.calendar)
    compared, disagreements = 0, []
    for rule, outcome, as_of, facts in _outcomes(rulebooks):
        trace = trace_rule(interpreter, rule, outcome.record, as_of, facts, outcome.aggregates)
        compared += 1
        if trace.value is not outcome.value:
            disagreements.append((rule.id, rulebooks.program.kinds[rule.kind.name].record_key(outcome.record),
                                  outcome.value, trace.value))
    assert compared > 0
    assert disagreements == []


def test_trace_records_every_clause():
    rulebooks = load_rulebooks([ROOT / "tests" / "rulebooks" / "sample.rules"])
    rule = rulebooks.program.rule("R-001")
    test = rule.tests[0]
    record = dict(test.records[0][1])
    trace = trace_rule(Interpreter(rulebooks.backend.calendar), rule, record, test.as_of, {}, None)
    assert trace.value is True
    clauses = [rule.condition.left, rule.condition.right]
    assert [trace.nodes[id(c)] for c in clauses] == [True, True]
    assert str(trace.names[("let", "limit")]) == "0:45:00"
