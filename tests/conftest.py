"""Shared fixtures for the language, semantics, diagnostics and safety tests.

`compile_rules(text)` writes one rulebook to a fresh tmp file and returns the compiled
`Rulebooks`; `check_text(text)` returns the `CheckResult` (diagnostics, no compilation);
`run(rulebooks, {kind: [records]}, as_of)` evaluates a batch and returns the findings by
(rule, record_key), passed included.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path

import pytest

from compliance_engine.api import CheckResult, Rulebooks, check, load_rulebooks

SAMPLE = Path(__file__).parent / "rulebooks" / "sample.rules"

_counter = itertools.count()


@pytest.fixture
def sample_path() -> Path:
    """The working sample rulebook shipped with the tests."""
    return SAMPLE


@pytest.fixture
def write_rules(tmp_path):
    """write_rules(text, name=None) -> Path of a new `.rules` file in the test's tmp dir."""

    def write(text: str, name: str | None = None) -> Path:
        path = tmp_path / (name or f"rb{next(_counter)}.rules")
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def compile_rules(write_rules):
    """compile_rules(text) -> Rulebooks (raises RulebookError when the text has errors)."""

    def compile_(text: str, name: str | None = None) -> Rulebooks:
        return load_rulebooks([write_rules(text, name)])

    return compile_


@pytest.fixture
def check_text(write_rules):
    """check_text(text, name=None) -> CheckResult (never raises for bad rulebooks)."""

    def check_(text: str, name: str | None = None) -> CheckResult:
        return check([write_rules(text, name)])

    return check_


def evaluate(rulebooks: Rulebooks, records: dict[str, list[dict]], as_of: datetime) -> dict:
    """Findings of a batch (passed included), keyed by (rule id, record_key)."""
    typed = {kind: [rulebooks.coerce(kind, r) for r in rows] for kind, rows in records.items()}
    out = {}
    for f in rulebooks.evaluate_batch(typed, as_of, include_passed=True):
        key = (f.rule, f.record_key)
        assert key not in out, f"two findings for {key}"
        out[key] = f
    return out


@pytest.fixture
def run():
    return evaluate
