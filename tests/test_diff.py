"""`compliance diff`: the semantic diff of two rulebook versions and its impact on cases.

Golden files: each folder of tests/golden/diff/ holds `old/` and `new/` rulebooks, optional
`cases/*.csv`, and the expected output in three formats (`<case>.txt`, `.md`, `.json`).
Regenerate them with `UPDATE_GOLDEN=1 pytest tests/test_diff.py`, then READ the diff.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance_engine import ir
from compliance_engine.api import check, load_rulebooks
from compliance_engine.cli.diff import diff_command
from compliance_engine.diff import IRPrinter, diff, key, literal
from compliance_engine.impact import impact
from compliance_engine.model import Program
from compliance_engine.source import Span

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden" / "diff"
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())
FORMATS = {"txt": "text", "md": "markdown", "json": "json"}
AS_OF = "2026-03-03T00:00"


def invoke(*args: str):
    return CliRunner().invoke(diff_command, list(args), catch_exceptions=False)


def program(path: Path) -> Program:
    result = check([path])
    assert result.ok, result.diagnostics
    return result.program


# ---- golden files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, suffix: str, monkeypatch):
    folder = GOLDEN / case
    monkeypatch.chdir(folder)  # paths in the output stay relative: old, new, cases/ticket.csv
    args = ["old", "new", "--format", FORMATS[suffix]]
    for csv in sorted(Path("cases").glob("*.csv")):
        args += ["--cases", csv.as_posix()]
    result = invoke(*args, "--as-of", AS_OF)
    expected = folder / f"{case}.{suffix}"
    if os.environ.get("UPDATE_GOLDEN"):
        expected.write_text(result.output, encoding="utf-8")
    assert result.output == expected.read_text(encoding="utf-8")
    assert result.exit_code == (0 if case == "formatting_only" else 1)


def test_at_least_the_required_cases():
    assert {"threshold", "added_removed", "id_renamed", "metadata_only", "formatting_only", "window_change"} <= set(CASES)


# ---- the threshold change: exactly which cases and owners ----------------------------------------------


def test_threshold_impact_names_cases_units_and_owners():
    old, new = GOLDEN / "threshold" / "old", GOLDEN / "threshold" / "new"
    result = diff(program(old), program(new))
    found = impact(load_rulebooks([old]), load_rulebooks([new]), [GOLDEN / "threshold" / "cases" / "ticket.csv"],
                   datetime(2026, 3, 3), renamed=result.id_map)
    moved = {(e.rule, e.record_key, e.old, e.new) for e in found.entries}
    assert moved == {("TS-001", "T01", "fired", "passed"), ("TS-001", "T03", "fired", "passed"),
                     ("TS-001", "T05", "undetermined", "passed"), ("TS-001", "T06", "fired", "passed"),
                     ("TS-013", "T07", "fired", "passed"), ("TS-013", "T09", "passed", "fired")}
    assert found.by_owner()["供电服务指挥中心 / 工单调度班 / 派单专责"].disappears == 4
    assert {unit: (t.appears, t.disappears) for unit, t in found.by_unit().items()} == \
        {"33401": (0, 2), "33402": (1, 2), "33403": (0, 1)}
    t7 = next(e for e in found.entries if e.record_key == "T07")
    assert (t7.evidence_before["limit"], t7.evidence["limit"]) == (timedelta(minutes=45), timedelta(minutes=60))


def test_markdown_puts_the_summary_table_before_the_details():
    md = (GOLDEN / "threshold" / "threshold.md").read_text(encoding="utf-8")
    assert md.index("| **TS-001** 安全隐患诉求派单超时 | 阈值 · when | `2 hours` | `3 hours` | −4 |") < md.index("<details>")
    assert "| TS-001 | 安全隐患诉求派单超时 | 4 → 1 | 1 → 0 | 0 | 4 | 0 | 供电服务指挥中心 / 工单调度班 / 派单专责 | " \
           "33401 −1 · 33402 −2 · 33403 −1 |" in md
    assert md.count("<details>") == md.count("</details>") == 3  # the findings of each rule, then the changes


# ---- what counts as a change ---------------------------------------------------------------------------

RULEBOOK = """rulebook 测试 version "1"
record ticket {{
  ticket_no: text key
  org_no: text
  kind: enum(投诉, 故障报修)
  accepted_at: datetime
  replied_at: datetime?
  amount: money
}}
rule R-1 "回复超时" {{
  on ticket
  level 二级
  owner 营销部 / 客户服务班 / 专责
  {body}
}}
"""


def changes_of(write_rules, old_body: str, new_body: str):
    a = program(write_rules(RULEBOOK.format(body=old_body)))
    b = program(write_rules(RULEBOOK.format(body=new_body)))
    result = diff(a, b)
    return [(c.aspect, c.part, c.old, c.new) for rc in result.changed for c in rc.changes]


@pytest.mark.parametrize("old_body, new_body, expected", [
    ("when (replied_at ?? as_of) - accepted_at > 2 hours", "when (replied_at ?? as_of) - accepted_at > 3 h",
     ("threshold", "when", "2 hours", "3 hours")),
    ("when (replied_at ?? as_of) - accepted_at > 45 min", "when (replied_at ?? as_of) - accepted_at > 1 hour",
     ("threshold", "when", "45 minutes", "60 minutes")),
    ("when (replied_at ?? as_of) > accepted_at + 5 workdays", "when (replied_at ?? as_of) > accepted_at + 3 workdays",
     ("threshold", "when", "5 workdays", "3 workdays")),
    ("when amount > 100.00", "when amount > 150.50", ("threshold", "when", "100.00", "150.50")),
    ("when kind == 投诉", "when kind == 故障报修", ("constant", "when", "投诉", "故障报修")),
    ("when kind == 投诉", "when kind != 投诉", ("condition", "when", "kind == 投诉", "kind != 投诉")),
])
def test_one_change(write_rules, old_body, new_body, expected):
    assert changes_of(write_rules, old_body, new_body) == [expected]


def test_same_meaning_written_differently_is_no_change(write_rules):
    assert changes_of(write_rules, "when amount > 100 and kind == 投诉  # a comment",
                      "when (amount > 100.00)\n   and kind == \"投诉\"") == []
    assert changes_of(write_rules, "when (replied_at ?? as_of) - accepted_at > 2 hours",
                      "when ((replied_at ?? as_of) - accepted_at) > 120 min") == []


_UNIT_SECONDS = {"min": 60, "hours": 3600, "days": 86400}


@settings(max_examples=25, deadline=None)
@given(a=st.integers(1, 500), b=st.integers(1, 500), unit=st.sampled_from(sorted(_UNIT_SECONDS)))
def test_a_moved_duration_is_one_threshold_in_one_unit(tmp_path_factory, a, b, unit):
    folder = tmp_path_factory.mktemp("rb")

    def rulebook(n: int) -> Program:
        path = folder / f"r{n}.rules"
        path.write_text(RULEBOOK.format(body=f"when (replied_at ?? as_of) - accepted_at > {n} {unit}"), encoding="utf-8")
        return program(path)

    changes = [(c.aspect, c.old, c.new) for rc in diff(rulebook(a), rulebook(b)).changed for c in rc.changes]
    if a == b:
        assert changes == []
        return
    ((aspect, old, new),) = changes
    assert aspect == "threshold" and old.split()[1].rstrip("s") == new.split()[1].rstrip("s")  # one unit
    size = {"day": 86400, "days": 86400, "hour": 3600, "hours": 3600, "minute": 60, "minutes": 60}[old.split()[1]]
    assert (int(old.split()[0]) * size, int(new.split()[0]) * size) == (a * _UNIT_SECONDS[unit], b * _UNIT_SECONDS[unit])


def test_standard_rulebooks_do_not_differ_from_themselves():
    p = program(ROOT / "rulebooks")
    assert not diff(p, p).has_changes


# ---- the IR printer: its text means what the IR means ------------------------------------------------------


def _expression_spans(p: Program) -> list[tuple[Span, str]]:
    """Every rule expression with its source span and its text as the printer writes it."""
    out = []
    for rule in p.rules:
        nodes = [(rule.condition, False), *((v, False) for _, v in rule.lets)]
        for w in rule.windows:
            nodes += [(n, True) for n in (w.where, *(v for _, v in w.aggregates)) if n is not None]
            if w.range is not None:
                nodes += [(n, True) for n in {id(b): b for b in (w.range.low, w.range.high) if b is not None}.values()]
        out += [(n.span, IRPrinter(in_window).text(n)) for n, in_window in nodes if n.span is not None]
    return out


def _replace(text: str, edits: list[tuple[Span, str]]) -> str:
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    for span, new in sorted(edits, key=lambda e: (e[0].line, e[0].column), reverse=True):
        start = offsets[span.line - 1] + span.column - 1
        end = offsets[span.end_line - 1] + span.end_column - 1
        text = text[:start] + new + text[end:]
    return text


def test_printed_expressions_check_back_to_the_same_model(tmp_path):
    """Every condition, let and window of the 188 standard rules, printed back and re-checked."""
    original = check([ROOT / "rulebooks"])
    by_file: dict[str, list] = {}
    for span, text in _expression_spans(original.program):
        by_file.setdefault(span.path, []).append((span, text))
    for path, source in original.sources.items():
        target = tmp_path / Path(path).relative_to(ROOT / "rulebooks")
        target.write_text(_replace(source.text, by_file.get(path, [])), encoding="utf-8")
    reprinted = check([tmp_path], use_cache=False)
    assert reprinted.ok, [str(d.message) for d in reprinted.diagnostics][:5]
    assert not diff(original.program, reprinted.program).has_changes


@pytest.mark.parametrize("value, text", [
    (None, "empty"), (True, "true"), (timedelta(minutes=90), "90 minutes"), (timedelta(minutes=120), "2 hours"),
    (timedelta(days=3), "3 days"), (timedelta(minutes=1), "1 minute"),
])
def test_literals(value, text):
    assert literal(value) == text


def test_key_ignores_spans_but_not_values():
    a = ir.Const(2, None, span=Span("a.rules", 1, 1, 1, 2))
    b = ir.Const(2, None, span=Span("b.rules", 9, 9, 9, 10))
    assert key(a) == key(b) and key(a) != key(ir.Const(3, None))
    assert key(ir.Const(True, None)) != key(ir.Const(1, None))


# ---- the command ----------------------------------------------------------------------------------------


def test_exit_codes(tmp_path):
    threshold = GOLDEN / "threshold"
    assert invoke(str(threshold / "old"), str(threshold / "old")).exit_code == 0
    assert invoke(str(threshold / "old"), str(threshold / "new")).exit_code == 1
    assert invoke(str(threshold / "old")).exit_code == 2
    assert invoke(str(threshold / "old"), "no/such/dir").exit_code == 2
    assert invoke(str(threshold / "old"), str(threshold / "new"), "--format", "yaml").exit_code == 2
    broken = tmp_path / "broken.rules"
    broken.write_text((threshold / "new" / "service.rules").read_text(encoding="utf-8").replace(
        "when category ==", "when categroy =="), encoding="utf-8")
    result = invoke(str(threshold / "old"), str(broken))
    assert result.exit_code == 1 and "E0201" in result.output and "新版本" in result.output


def test_case_file_without_a_kind_is_a_usage_error(tmp_path):
    threshold = GOLDEN / "threshold"
    odd = tmp_path / "export.csv"
    odd.write_text((threshold / "cases" / "ticket.csv").read_text(encoding="utf-8"), encoding="utf-8")
    result = invoke(str(threshold / "old"), str(threshold / "new"), "--cases", str(odd), "--as-of", AS_OF)
    assert result.exit_code == 2 and "--kind" in result.output
    ok = invoke(str(threshold / "old"), str(threshold / "new"), "--cases", str(odd), "--kind", "ticket",
                "--as-of", AS_OF, "--format", "json")
    assert json.loads(ok.output)["impact"]["totals"]["disappears"] == 5


def test_renamed_rule_keeps_its_findings_matched():
    folder = GOLDEN / "id_renamed"
    result = diff(program(folder / "old"), program(folder / "new"))
    assert [(r.old_id, r.new_id) for r in result.renamed] == [("TS-001", "TS-101")]
    found = impact(load_rulebooks([folder / "old"]), load_rulebooks([folder / "new"]),
                   [GOLDEN / "threshold" / "cases" / "ticket.csv"], datetime(2026, 3, 3), renamed=result.id_map)
    assert not found.entries  # same findings under the new id: nothing appears or disappears
