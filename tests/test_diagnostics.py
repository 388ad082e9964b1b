"""Diagnostics as an officer reads them: one small broken rulebook per mistake, rendered as
text (code, place, source line, caret, hint) and compared with a reviewed snapshot.

Each case also asserts the codes it must report, so a snapshot update cannot hide a lost or
changed diagnostic. Files are written as `<tmp>/case.rules` and the tmp directory is
replaced by `<tmp>` before snapshotting.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from compliance_engine.api import check
from compliance_engine.diagnostics import render_all, render_json

ROOT = Path(__file__).resolve().parents[1]
HEADER = 'rulebook 测试 "诊断"\n'
KINDS = """enum 区域 { 城区, 农村 }
record ticket {
  ticket_no: text key
  org_no: text
  cons_no: text?
  area: 区域
  accepted_at: datetime
  replied_at: datetime?
  n: int
  kwh: decimal
  amount: money
  due: date
  sensitive: bool
  period: month
}
"""
PRELUDE = HEADER + KINDS


def rule(body: str, rid: str = "R-1", meta: str = "  on ticket\n  level 一级\n  owner 部 / 班 / 岗\n") -> str:
    return f'rule {rid} "规则"{{\n{meta}{body}}}\n'


def when(cond: str, rid: str = "R-1", extra: str = "") -> str:
    return PRELUDE + rule(f"{extra}  when {cond}\n", rid)


# name → (rulebook text, the codes it must report, in report order)
CASES: dict[str, tuple[str, list[str]]] = {
    # ---- syntax --------------------------------------------------------------------------
    "E0101_unterminated_string": (HEADER + 'record ticket "工单 {\n  ticket_no: text\n}\n', ["E0101"]),
    "E0101_stray_character": (PRELUDE + rule("  when n > 1 $ 2\n"), ["E0101"]),
    "E0101_fullwidth_paren": (PRELUDE + rule("  when （n > 1）\n"), ["E0101"]),
    "E0102_unexpected_token": (PRELUDE + rule("  when n > 1 )\n"), ["E0102"]),
    "E0102_missing_colon": (HEADER + "record ticket {\n  ticket_no text\n}\n", ["E0102"]),
    "E0102_keyword_twice": (PRELUDE + rule("  when when n > 1\n"), ["E0102"]),
    "E0103_unexpected_end": (PRELUDE + 'rule R-1 "规则" {\n  on ticket\n  level 一级\n  when n > 1\n', ["E0103"]),
    "E0104_bad_date": (HEADER.replace('"诊断"', '"诊断" effective 2026-02-30'), ["E0104"]),
    "E0104_bad_datetime": (when("accepted_at > 2026-03-01T25:00"), ["E0104"]),
    "E0105_missing_import": (HEADER + 'import "kinds.rules"\n', ["E0105"]),
    # ---- names ---------------------------------------------------------------------------
    "E0201_unknown_name_did_you_mean": (when("accepted > as_of"), ["E0201"]),
    "E0201_unquoted_text": (when("org_no == 城东供电所"), ["E0201"]),
    "E0202_unknown_field_this": (PRELUDE + rule(
        "  window over ticket by cons_no within accepted_at in [this.acepted_at - 30 days, this.accepted_at]"
        " compute k = count(*)\n  when k > 1\n  empty cons_no means undetermined\n"), ["E0202"]),
    "E0202_unknown_group_field": (PRELUDE + rule("  window compute k = count(*)\n  when k > 1\n",
                                                 meta="  on ticket group by org\n  level 一级\n  owner 部\n"), ["E0202"]),
    "E0204_unknown_function": (when("wrokdays_between(accepted_at, as_of) > 3"), ["E0204"]),
    "E0205_this_outside_window": (when("this.n > 1"), ["E0205"]),
    # ---- types ---------------------------------------------------------------------------
    "E0203_datetime_vs_int": (when("accepted_at > 5"), ["E0203"]),
    "E0203_money_vs_decimal_field": (when("amount > kwh"), ["E0203"]),
    "E0206_bad_arguments": (when("hour(due) > 18"), ["E0206"]),
    "E0206_wrong_arity": (when("workdays_between(accepted_at) > 1"), ["E0206"]),
    "E0208_coalesce_mismatch": (when("(replied_at ?? 5) > accepted_at"), ["E0208"]),
    "E0209_condition_not_bool": (when("n + 1"), ["E0209"]),
    "E0210_money_plus_decimal": (when("amount + kwh > 0"), ["E0210"]),
    "E0211_enum_member_not_in_enum": (when("area == 郊区"), ["E0211"]),
    "E0212_calendar_months_not_a_difference": (when("due > 3 months"), ["E0212"]),
    "E0213_workdays_misuse": (when("workdays_between(accepted_at, as_of) > 3 workdays"), ["E0213"]),
    "E0213_workdays_on_number": (when("n + 3 workdays > 1"), ["E0213"]),
    "E0215_aggregate_outside_window": (when("sum(amount) > 100"), ["E0215"]),
    "E0215_count_star_outside_window": (when("count(*) > 1"), ["E0215"]),
    "E0223_unknown_type_float": (HEADER + "record billing {\n  cons_no: text key\n  amount: float\n}\n", ["E0223"]),
    "E0223_unknown_type_typo": (HEADER + "record billing {\n  cons_no: text key\n  at: datetim\n}\n", ["E0223"]),
    # ---- declarations --------------------------------------------------------------------
    "E0220_duplicate_record": (PRELUDE + "record ticket { id: text }\n", ["E0220"]),
    "E0221_duplicate_member": (HEADER + "enum 区域 { 城区, 农村, 城区 }\n", ["E0221"]),
    "E0222_duplicate_field": (HEADER + "record ticket {\n  ticket_no: text key\n  n: int\n  n: decimal\n}\n", ["E0222"]),
    # ---- rules ---------------------------------------------------------------------------
    "E0301_unknown_kind_of_fact": (PRELUDE + "fact 晚 on tickets = accepted_at > as_of\n", ["E0301"]),
    "E0301_unknown_kind_of_rule": (PRELUDE + rule("  when n > 1\n", meta="  on tickets\n  level 一级\n  owner 部\n"),
                                   ["E0301"]),
    "E0301_unknown_window_kind": (PRELUDE + rule("  window over tickets compute k = count(*)\n  when k > 1\n"),
                                  ["E0301"]),
    "E0302_bad_level": (PRELUDE + rule("  when n > 1\n", meta="  on ticket\n  level 五级\n  owner 部\n"), ["E0302"]),
    "E0303_unknown_link": (PRELUDE + 'link L01 "故障抢修"\n'
                           + rule("  when n > 1\n", meta="  on ticket\n  link L10\n  level 一级\n  owner 部\n"), ["E0303"]),
    "E0304_duplicate_metadata": (PRELUDE + rule("  when n > 1\n", meta="  on ticket\n  level 一级\n  level 二级\n  owner 部\n"),
                                 ["E0304"]),
    "E0304_two_whens": (PRELUDE + rule("  when n > 1\n  when n > 2\n"), ["E0304"]),
    "E0305_missing_when_level_owner": (PRELUDE + rule("", meta="  on ticket\n"), ["E0305", "E0305", "E0305"]),
    "E0305_missing_subject": (PRELUDE + rule("  when n > 1\n", meta="  level 一级\n  owner 部\n"), ["E0305"]),
    "E0306_rules_without_header": (KINDS + rule("  when n > 1\n"), ["E0306"]),
    "E0307_compute_without_aggregate": (PRELUDE + rule("  window compute total = amount\n  when total > 1\n"), ["E0307"]),
    "E0308_group_condition_non_group_field": (PRELUDE + rule(
        "  window compute k = count(*)\n  when k > 1 and n > 2\n",
        meta="  on ticket group by org_no\n  level 一级\n  owner 部\n"), ["E0308"]),
    "E0309_group_window_with_over_by": (PRELUDE + rule(
        "  window over ticket by org_no compute k = count(*)\n  when k > 1\n",
        meta="  on ticket group by org_no\n  level 一级\n  owner 部\n"), ["E0309"]),
    "E0309_group_window_with_within": (PRELUDE + rule(
        "  window within accepted_at > 2026-01-01T00:00 compute k = count(*)\n  when k > 1\n",
        meta="  on ticket group by org_no\n  level 一级\n  owner 部\n"), ["E0309"]),
    "E0310_bad_owner": (PRELUDE + rule("  when n > 1\n", meta="  on ticket\n  level 一级\n  owner 部 / / 岗\n"), ["E0310"]),
    "E0312_duplicate_rule_id": (PRELUDE + rule("  when n > 1\n") + rule("  when n > 2\n"), ["E0312"]),
    "E0313_unknown_depends_on": (PRELUDE + rule("  when n > 2\n", rid="R-2") + rule("  depends on R-3\n  when n > 1\n"),
                                 ["E0313"]),
    # ---- graph ---------------------------------------------------------------------------
    "E0401_fact_cycle": (PRELUDE + "fact 甲 on ticket = 乙 + 1\nfact 乙 on ticket = 丙 + 1\nfact 丙 on ticket = 甲 + n\n"
                         + rule("  when 甲 > 1\n"), ["E0401"]),
    "E0402_rule_cycle": (PRELUDE + rule("  depends on R-2\n  when n > 1\n", rid="R-1")
                         + rule("  depends on R-3\n  when n > 1\n", rid="R-2")
                         + rule("  depends on R-1\n  when n > 1\n", rid="R-3"), ["E0402"]),
    # ---- tests ---------------------------------------------------------------------------
    "E0502_unknown_field_in_given": (PRELUDE + rule(
        '  when n > 1\n  test "t" {\n    given ticket { ticket_no: "T1", org_no: "O", area: 城区, '
        "accepted_at: 2026-03-01T10:00, n: 2, kwh: 1, amount: 1.00, due: 2026-03-01, sensitive: false, "
        'period: "2026-03", cosn_no: "C1" }\n    expect fired\n  }\n'), ["E0502"]),
    "E0505_required_field_missing": (PRELUDE + rule('  when n > 1\n  test "t" {\n    given ticket { n: 2 }\n    expect fired\n  }\n'),
                                     ["E0505"] * 9),
    "E0506_no_subject_record": (PRELUDE + "record other { id: text key }\n"
                                + rule('  when n > 1\n  test "t" {\n    given other { id: "x" }\n    expect fired\n  }\n'),
                                ["E0506"]),
    "E0507_missing_expect": (PRELUDE + 'defaults ticket { ticket_no: "T1", org_no: "O", area: 城区, '
                             "accepted_at: 2026-03-01T10:00, n: 2, kwh: 1, amount: 1.00, due: 2026-03-01, "
                             'sensitive: false, period: "2026-03" }\n'
                             + rule('  when n > 1\n  test "没写期望" {\n    given ticket { n: 3 }\n  }\n'), ["E0507"]),
    "E0508_bad_missing_name": (PRELUDE + 'defaults ticket { ticket_no: "T1", org_no: "O", area: 城区, '
                               "accepted_at: 2026-03-01T10:00, n: 2, kwh: 1, amount: 1.00, due: 2026-03-01, "
                               'sensitive: false, period: "2026-03" }\n'
                               + rule('  when replied_at > accepted_at\n  empty replied_at means undetermined\n'
                                      '  test "t" {\n    given ticket { }\n    expect undetermined missing replyed_at\n  }\n'),
                               ["E0508"]),
    "E0509_test_without_as_of": (PRELUDE + 'defaults ticket { ticket_no: "T1", org_no: "O", area: 城区, '
                                 "accepted_at: 2026-03-01T10:00, n: 2, kwh: 1, amount: 1.00, due: 2026-03-01, "
                                 'sensitive: false, period: "2026-03" }\n'
                                 + rule('  when as_of - accepted_at > 2 h\n  test "忘了 as_of" {\n    given ticket { }\n'
                                        "    expect fired\n  }\n"), ["E0509"]),
    # ---- warnings ------------------------------------------------------------------------
    "W0201_optional_without_empty_meaning": (when("replied_at - accepted_at > 2 h"), ["W0201"]),
    "W0202_coalesce_on_required": (when("(n ?? 0) > 1"), ["W0202"]),
    "W0203_is_empty_on_required": (when("accepted_at is empty"), ["W0203"]),
    "W0204_empty_declared_on_required": (when("n > 1", extra="  empty n means undetermined\n"), ["W0204"]),
}


def _check_case(tmp_path, text: str):
    path = tmp_path / "case.rules"
    path.write_text(text, encoding="utf-8")
    result = check([path])
    return result, path


def _stable(text: str, tmp_path) -> str:
    return text.replace(str(tmp_path), "<tmp>")


# case name → reason, for a case that exposes a known bug (its snapshot is taken once it is fixed)
XFAIL_CASES: dict[str, str] = {}  # cases whose message is known wrong (none open)


def _params():
    for name in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=XFAIL_CASES[name])] if name in XFAIL_CASES else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", list(_params()))
def test_diagnostic(name, tmp_path, snapshot):
    text, codes = CASES[name]
    result, path = _check_case(tmp_path, text)
    if name in XFAIL_CASES:  # no snapshot of a known-wrong message; take one once fixed
        assert [d.code for d in result.diagnostics] == codes
        return
    # the snapshot shows the expected diagnostics; the code list then rules out any extra one
    shown = [d for d in result.diagnostics if d.code in codes]
    rendered = _stable(render_all(shown, result.sources), tmp_path)
    assert rendered == snapshot
    assert [d.code for d in result.diagnostics] == codes


def test_at_least_25_distinct_codes():
    codes = {c for name, (_, cs) in CASES.items() if name not in XFAIL_CASES for c in cs}
    assert len(codes) >= 25, sorted(codes)
    assert {"W0201", "W0202", "W0203", "W0204"} <= codes


HINTED = {"E0101", "E0102", "E0103", "E0104", "E0105", "E0201", "E0202", "E0204", "E0205", "E0203", "E0206",
          "E0208", "E0209", "E0210", "E0211", "E0212", "E0213", "E0215", "E0223", "E0220", "E0301", "E0302",
          "E0303", "E0305", "E0306", "E0307", "E0308", "E0309", "E0310", "E0312", "E0313", "E0401", "E0402",
          "E0502", "E0505", "E0506", "E0507", "E0508", "W0201", "W0202", "W0203", "W0204"}


NO_HINT = {"E0213_workdays_on_number"}  # E0213 on a non-date base comes without a hint


@pytest.mark.parametrize("name", list(CASES))
def test_every_diagnostic_has_code_span_and_hint(name, tmp_path):
    text, _ = CASES[name]
    result, path = _check_case(tmp_path, text)
    assert result.diagnostics
    lines = text.splitlines()
    for d in result.diagnostics:
        assert re.fullmatch(r"[EW]0[1-5]\d\d", d.code)
        assert d.severity.value == ("warning" if d.code.startswith("W") else "error")
        assert d.span is not None, d
        assert d.span.path == str(path)
        assert 1 <= d.span.line <= len(lines) + 1 and d.span.column >= 1
        assert (d.span.end_line, d.span.end_column) >= (d.span.line, d.span.column)
        assert d.message.strip()
        if d.code in HINTED and name not in NO_HINT:
            assert d.hint.strip(), d
    assert result.ok == all(d.code.startswith("W") for d in result.diagnostics)


def test_did_you_mean_suggestions(tmp_path):
    result, _ = _check_case(tmp_path, when("accepted > as_of"))
    assert "accepted_at" in result.diagnostics[0].hint
    result, _ = _check_case(tmp_path, when("wrokdays_between(accepted_at, as_of) > 3"))
    assert "workdays_between" in result.diagnostics[0].hint
    result, _ = _check_case(tmp_path, CASES["E0223_unknown_type_float"][0])
    assert "money" in result.diagnostics[0].hint and "decimal" in result.diagnostics[0].hint


def test_cycles_name_every_member(tmp_path):
    result, _ = _check_case(tmp_path, CASES["E0401_fact_cycle"][0])
    (d,) = [d for d in result.diagnostics if d.code == "E0401"]
    assert all(name in d.message for name in ("甲", "乙", "丙"))
    result, _ = _check_case(tmp_path, RULE_CYCLE)
    (d,) = result.diagnostics
    assert all(rid in d.message for rid in ("R-1", "R-2", "R-3"))


RULE_CYCLE = (PRELUDE + rule("  depends on R-2\n  when n > 1\n", rid="R-1")
              + rule("  depends on R-3\n  when n > 1\n", rid="R-2")
              + rule("  depends on R-1\n  when n > 1\n", rid="R-3"))


def test_rule_cycle(tmp_path):
    result, _ = _check_case(tmp_path, RULE_CYCLE)
    (d,) = result.diagnostics
    assert d.code == "E0402" and d.message.startswith("规则之间循环依赖: ")
    path = d.message.removeprefix("规则之间循环依赖: ").split(" → ")
    assert len(path) == 4 and path[0] == path[-1] and sorted(path[:3]) == ["R-1", "R-2", "R-3"]
    assert [path[(i + 1) % 3] for i in range(3)] == [{"R-1": "R-2", "R-2": "R-3", "R-3": "R-1"}[r] for r in path[:3]]
    line = RULE_CYCLE.splitlines().index(f'rule {path[0]} "规则"{{') + 1
    assert (d.span.line, d.span.column) == (line, 6)  # at the rule the cycle is spelled from
    assert path[0] == "R-1"  # the first-declared rule of the cycle
    assert d.hint
    assert not result.ok


_CYCLE_SCRIPT = """
import sys
from compliance_engine.api import check
print([d.message for d in check([sys.argv[1]]).diagnostics])
"""


def test_rule_cycle_report_does_not_depend_on_hash_seed(tmp_path):
    # networkx.simple_cycles starts where set iteration (string hashing) says; the report must not
    path = tmp_path / "case.rules"
    path.write_text(RULE_CYCLE, encoding="utf-8")
    outputs = set()
    for seed in (0, 1, 3):
        env = {**os.environ, "PYTHONHASHSEED": str(seed)}
        done = subprocess.run([sys.executable, "-c", _CYCLE_SCRIPT, str(path)], env=env, cwd=ROOT,
                              capture_output=True, text=True, check=True)
        outputs.add(done.stdout)
    assert len(outputs) == 1, outputs


MANY_MISTAKES = PRELUDE + """
record ticket { id: text }
enum 级别 { 高, 低, 高 }
record billing {
  cons_no: text key
  amount: float
  amount: money
}
fact 甲 on ticket = 乙乙 + 1
rule R-1 "一" {
  on ticket
  level 五级
  owner 部
  when accepted > as_of
}
rule R-1 "二" {
  on tickets
  level 一级
  when as_of > 2026-01-01T00:00
}
rule R-3 "三" {
  on ticket
  level 一级
  owner 部
  depends on R-9
  when amount + kwh > 0 and area == 郊区 and (n ?? 0) > 1
}
"""
MANY_CODES = ["E0220", "E0221", "E0223", "E0222", "E0201", "E0302", "E0201", "E0305", "E0312", "E0301",
              "E0313", "E0210", "E0211", "W0202"]


def test_many_mistakes_are_all_reported_in_one_run(tmp_path):
    result, _ = _check_case(tmp_path, MANY_MISTAKES)
    codes = [d.code for d in result.diagnostics]
    assert codes == MANY_CODES  # sorted by place in the file
    assert len(codes) == 14
    assert not result.ok
    rendered = render_all(result.diagnostics, result.sources)
    assert rendered.endswith("13 个错误, 1 个警告 (13 error(s), 1 warning(s))")
    assert rendered.count("error[") == 13 and rendered.count("warning[") == 1


def test_syntax_errors_in_several_declarations_are_all_reported(tmp_path):
    text = (HEADER + "record a {\n  x: int\n  y int\n}\n" + "record b {\n  z: int $\n}\n"
            + "enum c { p，q }\n" + "record d { w: int }\n")
    result, _ = _check_case(tmp_path, text)
    # after a syntax error the parser restarts at the next declaration: one error per broken one
    assert [d.span.line for d in result.diagnostics] == [4, 7, 9]
    assert all(d.code in ("E0101", "E0102") for d in result.diagnostics)
    assert result.program is not None and result.program.kinds == {}  # a file with a syntax error is not checked


def test_render_json(tmp_path):
    result, path = _check_case(tmp_path, when("accepted_at > 5"))
    data = json.loads(render_json(result.diagnostics))
    assert data == [{
        "code": "E0203", "severity": "error", "message": "不能比较 datetime 与 数字常量",
        "hint": "比较两边的类型必须一致，例如日期时间与日期时间、时长与时长", "notes": [],
        "file": str(path), "line": 21, "column": 8, "end_line": 21, "end_column": 23,
    }]
    warn = json.loads(render_json(_check_case(tmp_path, when("(n ?? 0) > 1"))[0].diagnostics))
    assert [(w["code"], w["severity"]) for w in warn] == [("W0202", "warning")]
    assert json.loads(render_json([])) == []


# ---- misleading diagnostics: regressions of fixed ones, xfail for the ones still open ---------------


@pytest.mark.parametrize("text, char", [
    (HEADER + "record ticket {\n  ticket_no：text key\n}\n", "："),
    (HEADER + "enum 区域 { 城区，农村 }\n", "，"),
    (PRELUDE + rule("  when （n > 1）\n"), "（"),
    (PRELUDE + rule("  when n > 1；\n"), "；"),
], ids=["colon", "comma", "paren", "semicolon"])
def test_fullwidth_punctuation_is_E0101_with_halfwidth_hint(tmp_path, text, char):
    result, _ = _check_case(tmp_path, text)
    (d,) = result.diagnostics
    assert (d.code, d.message) == ("E0101", f"无法识别的字符 `{char}`")
    assert "半角" in d.hint


def test_stray_character_is_E0101(tmp_path):
    result, _ = _check_case(tmp_path, PRELUDE + rule("  when n > 1 $ 2\n"))
    (d,) = result.diagnostics
    assert (d.code, d.message, d.span.column, d.span.end_column) == ("E0101", "无法识别的字符 `$`", 14, 15)


@pytest.mark.parametrize("text", [PRELUDE + rule("  when when n > 1\n"), PRELUDE + rule("  when @\n"),
                                  PRELUDE + rule("  when n 1\n"), PRELUDE + rule("  when n > > 1\n")],
                         ids=["keyword-twice", "expression-start", "missing-operator", "operator-twice"])
def test_syntax_hints_name_no_internal_terminals(tmp_path, text):
    result, _ = _check_case(tmp_path, text)
    (d,) = result.diagnostics
    assert d.code in ("E0101", "E0102") and d.hint.startswith("这里需要: ")
    assert not re.search(r"`[a-z]+_[a-z]+`|`minus`|[A-Z]{3,}", d.hint), d.hint


def test_unknown_depends_on_points_at_the_name(tmp_path):
    text = PRELUDE + rule("  when n > 2\n", rid="R-2") + rule("  depends on R-9\n  when n > 1\n", rid="R-3")
    result, _ = _check_case(tmp_path, text)
    (d,) = result.diagnostics
    line = text.splitlines().index("  depends on R-9") + 1
    assert (d.code, d.span.line, d.span.column) == ("E0313", line, 14)
    assert "R-3" not in d.hint  # never suggest depending on itself


def test_group_rule_on_optional_group_field_is_not_w0201(tmp_path):
    text = (HEADER + "record bill { no: text key\n  org: text?\n  amount: money }\n"
            + rule("  window compute k = count(*), total = sum(amount)\n  when k > 1 and (total ?? 0) > 5\n",
                   meta="  on bill group by org\n  level 一级\n  owner 部\n"))
    result, _ = _check_case(tmp_path, text)
    assert [d.code for d in result.diagnostics] == []


@pytest.mark.parametrize("cond", ['(match n { "1" => true, else => false })',
                                  "(match accepted_at { 1 => true, else => false })"], ids=["text-on-int", "int-on-datetime"])
def test_match_pattern_of_the_wrong_type_is_an_error(tmp_path, cond):
    result, _ = _check_case(tmp_path, when(cond))
    assert not result.ok


@pytest.mark.parametrize("odd", ["\u2028", "\x0c", "\x85"], ids=["U+2028", "form-feed", "NEL"])
def test_quoted_source_line_is_the_reported_line(tmp_path, odd):
    text = PRELUDE.replace('"诊断"', f'"诊{odd}断"') + rule("  when nn > 1\n")
    result, _ = _check_case(tmp_path, text)
    (d,) = result.diagnostics
    assert d.code == "E0201" and text.split("\n")[d.span.line - 1] == "  when nn > 1"
    rendered = render_all(result.diagnostics, result.sources)
    assert "  when nn > 1" in rendered.splitlines()[1]
