"""`compliance fmt`: golden files; on every rulebook of the repository, formatting is idempotent
and keeps the checked model; comments survive wherever they are put; printed expressions read
back as the same tree (hypothesis); the command's modes and exit codes.

Golden files: tests/golden/fmt/<case>.rules is formatted and compared with
<case>.formatted.rules. After a deliberate style change, regenerate them with
`FMT_UPDATE_GOLDEN=1 pytest tests/test_fmt.py` and read the diff.
"""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance_engine import ast, formatting
from compliance_engine.check import check as check_modules
from compliance_engine.cli.fmt import fmt_command
from compliance_engine.diagnostics import Diagnostics
from compliance_engine.formatting import FormatError, format_file, format_text
from compliance_engine.source import Source
from compliance_engine.syntax.builder import UNITS
from compliance_engine.syntax.parser import grammar_text, parse
from compliance_engine.syntax.printer import format_module, width

REPO = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden" / "fmt"
CASES = sorted(p.name.removesuffix(".rules") for p in GOLDEN.glob("*.rules") if ".formatted." not in p.name)


# ---- golden files --------------------------------------------------------------------------------
def test_there_are_enough_golden_cases():
    assert len(CASES) >= 8


@pytest.mark.parametrize("case", CASES)
def test_golden(case):
    result = format_file(GOLDEN / f"{case}.rules")
    expected = GOLDEN / f"{case}.formatted.rules"
    if os.environ.get("FMT_UPDATE_GOLDEN"):
        expected.write_text(result.text, encoding="utf-8")
    assert result.text == expected.read_text(encoding="utf-8")


# ---- every rulebook of the repository ------------------------------------------------------------
def _repo_rulebooks() -> list[Path]:
    return sorted(p for p in REPO.rglob("*.rules")
                  if not any(part.startswith(".") for part in p.relative_to(REPO).parts))


@pytest.fixture(scope="module")
def formatted_repo() -> dict[Path, formatting.Formatted]:
    return {p: format_file(p) for p in _repo_rulebooks()}


@pytest.mark.heavy
def test_the_shipped_rulebooks_all_format(formatted_repo):
    shipped = [p for p in formatted_repo if p.relative_to(REPO).parts[0] in ("rulebooks", "examples")]
    shipped += [p for p in formatted_repo if "golden" in p.parts and "fmt" in p.parts]
    assert len(shipped) > 20
    assert [p for p in shipped if formatted_repo[p].text is None] == []


@pytest.mark.heavy
def test_formatting_is_idempotent_on_every_rulebook(formatted_repo):
    # `module` is the tree parsed from the formatted text: printing it is fmt(fmt(x)).
    for path, r in formatted_repo.items():
        if r.text is not None:
            assert format_module(r.module) == r.text, path


@pytest.mark.heavy
def test_formatting_keeps_the_checked_model_of_every_rulebook(formatted_repo):
    groups = [g for p in formatted_repo if (g := _with_imports(p, formatted_repo)) is not None]
    groups = [g for g in groups if not any(set(g) < set(other) for other in groups)]  # common.rules: once
    for group in groups:
        before = _checked([formatted_repo[p].original_module for p in group])
        after = _checked([formatted_repo[p].module for p in group])
        assert before == after, group[0]
    assert len(groups) > 20


@pytest.mark.heavy
def test_formatting_keeps_every_comment_of_every_rulebook(formatted_repo):
    for path, r in formatted_repo.items():
        if r.text is not None:
            assert _comments(r.module) == _comments(r.original_module), path


def _with_imports(path: Path, results: dict) -> list[Path] | None:
    """`path` and the files it imports, transitively (None if one did not parse)."""
    group, queue = [], [path]
    while queue:
        p = queue.pop(0)
        if p in group:
            continue
        if p not in results or results[p].text is None:
            return None
        group.append(p)
        queue += [(p.parent / d.path).resolve() for d in results[p].module.decls if isinstance(d, ast.Import)]
    return group


def _checked(modules: list[ast.Module]):
    diags = Diagnostics()
    program = check_modules(modules, {}, diags)
    return _comparable(program), sorted((d.code, d.message) for d in diags)


def _comparable(value):
    """Dataclasses as plain tuples without spans (the model's record kinds keep theirs in equality)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, *((f.name, _comparable(getattr(value, f.name)))
                                        for f in dataclasses.fields(value) if f.compare and f.name != "span"))
    if isinstance(value, dict):
        return tuple(sorted((k, _comparable(v)) for k, v in value.items()))
    if isinstance(value, (tuple, list)):
        return tuple(_comparable(v) for v in value)
    return value


def _comments(module: ast.Module) -> list[str]:
    return " ".join(c.text for c in module.comments).split()


@pytest.mark.heavy
def test_printing_the_standard_rulebooks_is_fast(formatted_repo):
    import time

    module = formatted_repo[REPO / "rulebooks" / "complaint_prevention.rules"].module
    started = time.process_time()
    format_module(module)
    assert time.process_time() - started < 0.5  # ~4000 lines; the parse takes longer than this


# ---- comments anywhere ---------------------------------------------------------------------------
_HOST = (GOLDEN / "constructs.rules").read_text(encoding="utf-8")
_VALUE_LINE = re.compile(r"\s*(category|link|level|owner|supervisor|measure|deadline|source|tags)\b|.*\bcategory\b")


def _places(text: str) -> list[tuple[int, str]]:
    """Where a comment can go without changing the code: at the start of any line (a comment on
    its own line), or between two tokens (the code goes on after the comment's line) — outside
    strings and comments, and not in a metadata line, whose value runs up to a `#`."""
    places, offset = [], 0
    for line in text.splitlines(keepends=True):
        places.append((offset, "own"))
        if not _VALUE_LINE.match(line) and "#" not in line:
            quote = None
            for i, ch in enumerate(line):
                if quote:
                    quote = None if ch == quote and line[i - 1] != "\\" else quote
                elif ch in "\"'":
                    quote = ch
                elif ch in " \n" and i and line[i - 1] not in " \n":
                    places.append((offset + i, "gap"))
        offset += len(line)
    return places


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_places(_HOST)), min_size=1, max_size=8, unique=True))
def test_comments_put_anywhere_are_kept_in_order(places):
    """A comment on its own line, or between any two tokens, survives formatting in order; the
    result is stable (format_text checks meaning and idempotence, or raises FormatError)."""
    text = _HOST
    for n, (at, kind) in enumerate(sorted(places, reverse=True)):
        marker = f"# c{len(places) - n}\n"
        text = text[:at] + (marker if kind == "own" else "  " + marker) + text[at:]
    result = format_text(text, "host.rules")
    assert re.findall(r"# c(\d+)", result.text) == [str(n) for n in range(1, len(places) + 1)]


def test_a_comment_inside_an_expression_ends_its_line():
    text = ('fact f = g(a,  # first\n  b) and h(c)  # second\n'
            'fact g = match x {  # head\n  1 => 2  # arm\n}\n')
    out = format_text(text, "x.rules").text
    assert out == ('fact f = g(a, b)  # first\n'
                   '         and h(c)  # second\n'
                   'fact g = match x {  # head\n'
                   '  1 => 2,  # arm\n'
                   '}\n')


# ---- expressions: print → parse → the same tree --------------------------------------------------
_KEYWORDS = set(re.findall(r'"([a-z_]+)"', grammar_text())) | {"fired", "passed", "undetermined"}
_names = (st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True).filter(lambda n: n not in _KEYWORDS)
          | st.sampled_from(["受理时间", "区域", "this", "as_of", "x1"]))
_decimals = st.builds(lambda i, f: Decimal(f"{i}.{f}" if f else str(i)), st.integers(0, 10**6),
                      st.sampled_from(["", "0", "5", "50", "125"]))
_leaves = st.one_of(
    st.builds(lambda v: ast.Literal(v, "number"), _decimals),
    st.builds(lambda v: ast.Literal(v, "string"), st.text(st.characters(blacklist_characters="\0",
                                                                        blacklist_categories=("Cs",)), max_size=6)),
    st.builds(lambda v: ast.Literal(v, "date"), st.dates(date(1000, 1, 1))),
    st.builds(lambda v: ast.Literal(v.replace(microsecond=0), "datetime"), st.datetimes(datetime(1000, 1, 1))),
    st.builds(lambda v: ast.Literal(v, "bool"), st.booleans()),
    st.just(ast.Literal(None, "empty")),
    st.builds(ast.DurationLit, _decimals, st.sampled_from(sorted(set(UNITS.values())))),
    st.builds(ast.Name, _names),
)
_OPS = ["or", "and", "==", "!=", "<", "<=", ">", ">=", "??", "+", "-", "*", "/"]


def _composites(sub):
    items = st.lists(sub, min_size=1, max_size=3).map(tuple)
    arm = st.builds(ast.MatchArm, st.lists(sub, max_size=2).map(tuple), sub)
    return st.one_of(
        st.builds(ast.Attr, sub, _names),
        st.builds(ast.Call, _names, st.lists(sub, max_size=3).map(tuple)),
        st.builds(lambda f: ast.Call(f, (), True), _names),
        st.builds(ast.Unary, st.sampled_from(["not", "-"]), sub),
        st.builds(ast.Binary, st.sampled_from(_OPS), sub, sub),
        st.builds(ast.IsEmpty, sub, st.booleans()),
        st.builds(ast.InList, sub, items, st.booleans()),
        st.builds(ast.ListLit, st.lists(sub, max_size=3).map(tuple)),
        st.builds(ast.Match, sub, st.lists(arm, min_size=1, max_size=3).map(tuple)),
    )


_expressions = st.recursive(_leaves, _composites, max_leaves=24)


@settings(max_examples=200, deadline=None)
@given(_expressions, st.sampled_from([0, 60]))
def test_printed_expressions_read_back_as_the_same_tree(expr, indent):
    fact = ast.FactDecl("f" + "_" * indent, None, None, expr)  # a longer name starts it further right
    text = format_module(ast.Module("x.rules", None, (fact,)))
    diags = Diagnostics()
    module = parse(Source(text, "x.rules"), diags)
    assert module is not None, (text, list(diags))
    assert module.decls[0].value == expr, text
    assert format_module(module) == text


def test_long_lines_are_measured_in_display_columns():
    assert width("abc") == 3 and width("受理时间") == 8 and width("a受b") == 4


# ---- the command ---------------------------------------------------------------------------------
def _copy(tmp_path: Path, case: str, name: str | None = None) -> Path:
    path = tmp_path / (name or f"{case}.rules")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text((GOLDEN / f"{case}.rules").read_text(encoding="utf-8"), encoding="utf-8")
    return path


def _golden(case: str) -> str:
    return (GOLDEN / f"{case}.formatted.rules").read_text(encoding="utf-8")


def test_fmt_rewrites_files_in_place(tmp_path):
    path = _copy(tmp_path, "messy_spacing")
    result = CliRunner().invoke(fmt_command, [str(path)])
    assert result.exit_code == 0, result.output
    assert path.read_text(encoding="utf-8") == _golden("messy_spacing")
    again = CliRunner().invoke(fmt_command, [str(path)])
    assert again.exit_code == 0 and "0 of 1 files reformatted" in again.output


def test_fmt_check_lists_the_files_that_would_change_and_changes_nothing(tmp_path):
    messy = _copy(tmp_path, "messy_spacing")
    tidy = tmp_path / "tidy.rules"
    tidy.write_text(_golden("comments"), encoding="utf-8")
    result = CliRunner().invoke(fmt_command, ["--check", str(tmp_path)])
    assert result.exit_code == 1
    assert f"would reformat): {messy}" in result.output and str(tidy) not in result.output
    assert messy.read_text(encoding="utf-8") == (GOLDEN / "messy_spacing.rules").read_text(encoding="utf-8")
    assert CliRunner().invoke(fmt_command, ["--check", str(tidy)]).exit_code == 0


def test_fmt_diff_prints_a_unified_diff(tmp_path):
    path = _copy(tmp_path, "literals")
    result = CliRunner().invoke(fmt_command, ["--diff", str(path)])
    assert result.exit_code == 1
    assert f"--- {path}\n+++ {path} (formatted)\n" in result.output
    assert "\n-  let b = at + 1 workday + 3 workday\n" in result.output
    assert "\n+  let b = at + 1 workday + 3 workdays\n" in result.output
    assert path.read_text(encoding="utf-8") == (GOLDEN / "literals.rules").read_text(encoding="utf-8")


def test_fmt_searches_directories_for_rules_files(tmp_path):
    nested = _copy(tmp_path, "blank_lines", "a/b/nested.rules")
    (tmp_path / "a" / "notes.txt").write_text("not a rulebook  \n", encoding="utf-8")
    result = CliRunner().invoke(fmt_command, [str(tmp_path)])
    assert result.exit_code == 0
    assert nested.read_text(encoding="utf-8") == _golden("blank_lines")
    assert (tmp_path / "a" / "notes.txt").read_text(encoding="utf-8") == "not a rulebook  \n"


def test_fmt_refuses_a_file_with_syntax_errors_and_formats_the_others(tmp_path):
    broken = tmp_path / "broken.rules"
    broken.write_text('rule R-1 "x" {\n  when a ==\n}\n', encoding="utf-8")
    messy = _copy(tmp_path, "messy_spacing")
    result = CliRunner().invoke(fmt_command, [str(tmp_path)])
    assert result.exit_code == 1
    assert "E0102" in result.output and f"not formatted): {broken}" in result.output
    assert broken.read_text(encoding="utf-8") == 'rule R-1 "x" {\n  when a ==\n}\n'
    assert messy.read_text(encoding="utf-8") == _golden("messy_spacing")


def test_format_text_returns_the_diagnostics_of_a_broken_file():
    result = format_text("rule R-1 { }\n", "x.rules")
    assert result.text is None and not result.changed
    assert [d.code for d in result.diagnostics] == ["E0102"]


def test_fmt_exits_3_and_writes_nothing_when_the_result_would_change_the_meaning(tmp_path, monkeypatch):
    path = _copy(tmp_path, "literals")
    monkeypatch.setattr(formatting, "format_module", lambda module: 'rulebook 别的 "不同"\n')
    result = CliRunner().invoke(fmt_command, [str(path)])
    assert result.exit_code == 3
    assert "internal error" in result.output
    assert path.read_text(encoding="utf-8") == (GOLDEN / "literals.rules").read_text(encoding="utf-8")
    with pytest.raises(FormatError):
        format_text(path.read_text(encoding="utf-8"), str(path))


def test_fmt_with_no_rules_files_is_a_usage_error(tmp_path):
    assert CliRunner().invoke(fmt_command, [str(tmp_path)]).exit_code == 2
