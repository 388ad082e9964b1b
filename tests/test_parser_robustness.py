"""Whatever an officer types, `check` answers with diagnostics; it never raises.

Properties over arbitrary text, over soups of grammar tokens, and over mutations of the
sample rulebook. A mutant that checks clean must also compile, evaluate and run its tests.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from compliance_engine.api import CheckResult, check, load_rulebooks
from compliance_engine.diagnostics import render_all, render_json
from compliance_engine.testing import run_tests

SAMPLE = (Path(__file__).parent / "rulebooks" / "sample.rules").read_text(encoding="utf-8")
_HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=_HEALTH)
# properties that parse the whole sample (and may compile it) per example: fewer, to stay fast
SLOW_SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=_HEALTH)


@pytest.fixture(scope="module")
def rules_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("robust") / "case.rules"


def check_text(path: Path, text: str) -> CheckResult:
    path.write_text(text, encoding="utf-8")
    result = check([path])
    assert isinstance(result, CheckResult)
    # every report renders, as text and as JSON, and names a code
    render_all(result.diagnostics, result.sources)
    render_json(result.diagnostics)
    for d in result.diagnostics:
        assert d.code[:1] in "EW" and d.message
    if not result.ok:
        assert any(d.severity.value == "error" for d in result.diagnostics)
    return result


# Any text that can be written as UTF-8 (no lone surrogates), backslashes and NULs included.
_any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=400)


@SETTINGS
@given(text=_any_text)
@example(text="")
@example(text="rulebook")
@example(text='rulebook X\nrule R-1 "t" {')
@example(text="\x00\ufeff\u2028\r\n\t")
@example(text="rulebook X\nrecord r { a: int }\nfact f on r = f\n")
def test_arbitrary_text_never_raises(rules_file, text):
    check_text(rules_file, text)


TOKENS = ["rulebook", "module", "rule", "record", "enum", "fact", "link", "defaults", "import", "test", "given",
          "expect", "fired", "passed", "undetermined", "missing", "on", "group", "by", "window", "over", "where",
          "within", "compute", "when", "let", "empty", "means", "level", "owner", "depends", "match", "else",
          "this", "as_of", "not", "and", "or", "is", "in", "??", "=>", "|", "{", "}", "(", ")", "[", "]", ",", ":",
          "=", "==", "!=", "<", ">=", "+", "-", "*", "/", ".", "?", "a", "b", "R-1", "ticket", "1", "2.5",
          '"x"', "'y'", '"', "2026-03-01", "2026-13-45", "2026-03-01T10:00", "3 months", "45 min", "2 workdays",
          "count(*)", "sum", "key", "text", "int", "money", "list of", "一级", "部 / 班", "工单", "区域", "，",
          "：", "（", "#", "\n", " ", "\t"]


@SETTINGS
@given(tokens=st.lists(st.sampled_from(TOKENS), max_size=60))
def test_token_soup_never_raises(rules_file, tokens):
    check_text(rules_file, " ".join(tokens))


@SLOW_SETTINGS
@given(body=st.lists(st.sampled_from(TOKENS), max_size=30))
def test_token_soup_inside_a_valid_rule_never_raises(rules_file, body):
    text = SAMPLE + '\nrule Z-9 "汤" {\n  on ticket\n  level 一级\n  owner 部\n  when ' + " ".join(body) + "\n}\n"
    result = check_text(rules_file, text)
    if result.ok:
        compile_and_run(rules_file)


def compile_and_run(path: Path) -> None:
    """A rulebook that checks clean compiles, evaluates records and runs its tests."""
    rb = load_rulebooks([path])
    run_tests(rb)
    for kind in rb.kinds:
        list(rb.evaluate_batch({kind: []}, datetime(2026, 3, 1)))


@st.composite
def mutated_sample(draw):
    text = SAMPLE
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 80)))
        how = draw(st.sampled_from(["delete", "duplicate", "move"]))
        if how == "delete":
            text = text[:i] + text[j:]
        elif how == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            piece, rest = text[i:j], text[:i] + text[j:]
            k = draw(st.integers(0, len(rest)))
            text = rest[:k] + piece + rest[k:]
    return text


@settings(SLOW_SETTINGS, max_examples=120)
@given(text=mutated_sample())
def test_mutated_sample_never_raises(rules_file, text):
    result = check_text(rules_file, text)
    if result.ok:
        compile_and_run(rules_file)


@SLOW_SETTINGS
@given(lines=st.lists(st.integers(0, SAMPLE.count("\n")), min_size=1, max_size=6))
def test_sample_with_lines_removed_never_raises(rules_file, lines):
    kept = [line for n, line in enumerate(SAMPLE.split("\n")) if n not in set(lines)]
    result = check_text(rules_file, "\n".join(kept))
    if result.ok:
        compile_and_run(rules_file)


def test_sample_itself_is_clean(rules_file):
    result = check_text(rules_file, SAMPLE)
    assert result.ok and result.diagnostics == []


@pytest.mark.parametrize("data", [b"\xff\xfe\x00r\x00u", b"rulebook X \xe4\xb8", b"\x80" * 10])
def test_undecodable_file_is_a_diagnostic(tmp_path, data):
    path = tmp_path / "bad.rules"
    path.write_bytes(data)
    result = check([path])
    assert [d.code for d in result.diagnostics] == ["E0105"]
    assert "UTF-8" in result.diagnostics[0].hint


def test_missing_file_and_empty_directory(tmp_path):
    result = check([tmp_path / "nope.rules"])
    assert [d.code for d in result.diagnostics] == ["E0105"]
    result = check([tmp_path])
    assert [d.code for d in result.diagnostics] == ["E0107"]


def test_deeply_nested_expression(rules_file):
    depth = 200
    cond = "(" * depth + "1 > 0" + ")" * depth
    text = 'rulebook X\nrecord r { id: text key }\nrule R-1 "t" {\n  on r\n  level 一级\n  owner 部\n  when ' + cond + "\n}\n"
    result = check_text(rules_file, text)
    assert result.ok
    rb = load_rulebooks([rules_file])
    assert [f.outcome for f in rb.evaluate({"id": "a"}, "r", datetime(2026, 3, 1))] == ["fired"]


@pytest.mark.parametrize("text", [
    'rulebook X "\\x4"\n',
    'rulebook X "\\N"\n',
    "rulebook X '\\u12'\n",
    'rulebook X\nrecord r { id: text key }\nrule R-1 "t" {\n  on r\n  level 一级\n  owner 部\n'
    '  source "C:\\Users\\张三\\规则.docx"\n  when id == "x"\n}\n',
    'rulebook X "a\x00b"\n',
], ids=["x-escape", "N-escape", "u-escape", "windows-path", "nul-in-string"])
def test_bad_escape_in_string_is_a_diagnostic(rules_file, text):
    result = check_text(rules_file, text)
    assert not result.ok and result.diagnostics[0].code.startswith("E01")


def test_huge_duration_literal_is_a_diagnostic(rules_file):
    text = ('rulebook X\nrecord r { id: text key\n  a: datetime }\nrule R-1 "t" {\n  on r\n  level 一级\n'
            "  owner 部\n  when a + 99999999999 days > a\n}\n")
    result = check_text(rules_file, text)
    assert not result.ok
