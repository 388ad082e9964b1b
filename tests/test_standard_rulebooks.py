"""The standard rulebooks check clean, every test beside every rule passes, and the catalog
page for officers (docs/rulebooks.md) is the one generated from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance_engine import check, load_rulebooks
from compliance_engine.catalog_page import render_catalog
from compliance_engine.testing import run_tests

ROOT = Path(__file__).resolve().parents[1]
RULEBOOKS = ROOT / "rulebooks"


@pytest.fixture(scope="module")
def rulebooks():
    return load_rulebooks([RULEBOOKS])


def test_check_is_clean_without_warnings():
    result = check([RULEBOOKS], use_cache=False)
    assert [f"{d.span}: {d.code} {d.message}" for d in result.diagnostics] == []


def test_188_rules(rulebooks):
    assert len(rulebooks.program.rules) == 188


def test_every_rule_has_a_firing_and_a_passing_test(rulebooks):
    lacking = [r.id for r in rulebooks.program.rules
               if not {"fired", "passed"} <= {t.outcome for t in r.tests}]
    assert lacking == []


def test_every_embedded_test_passes(rulebooks):
    failures = [f"{r.location} {r.rule} 「{r.test}」: {r.message}" for r in run_tests(rulebooks) if not r.passed]
    assert failures == []


def test_catalog_page_is_up_to_date(rulebooks):
    notes = sorted((ROOT / "docs" / "notes").glob("*.md"))
    expected = render_catalog(rulebooks.program, notes)
    actual = (ROOT / "docs" / "rulebooks.md").read_text(encoding="utf-8")
    assert actual == expected, "run: compliance doc rulebooks/ --notes docs/notes --out docs/rulebooks.md"
