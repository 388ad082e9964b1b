"""records.md § Semantics, one statement at a time, through compiled rules.

Three-valued logic, `x / 0`, `??`, exact decimals and money, dates as datetimes, calendar
months with clamping, signed workday counts, aggregates and groups.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance_engine.api import load_rulebooks
from compliance_engine.values import add_months

AS_OF = datetime(2026, 3, 10, 12, 0)
OUTCOME = {True: "fired", False: "passed", None: "undetermined"}

KIND = """
record r {
  id: text key
  b1: bool?
  b2: bool?
  b3: bool?
  c: bool
  a: datetime
  d: date
  n: int?
  x: decimal
  y: decimal?
  m: money
  m2: money?
}
"""
BASE = dict(id="1", c=False, a="2026-01-31T10:00", d="2026-01-31", x="1", m="1.00")


def rulebook(conditions: dict[str, str]) -> str:
    text = 'rulebook S "语义"\n' + KIND
    for rid, when in conditions.items():
        text += f'rule {rid} "{rid}" {{\n  on r\n  level 一级\n  owner 部\n  when {when}\n}}\n'
    return text


@pytest.fixture
def outcomes(compile_rules, run):
    """outcomes(conditions, rows, as_of) -> {(rule, record_key): outcome}."""

    def outcomes_(conditions: dict[str, str], rows: list[dict], as_of: datetime = AS_OF) -> dict:
        rb = compile_rules(rulebook(conditions))
        found = run(rb, {"r": [{**BASE, **row} for row in rows]}, as_of)
        return {k: f.outcome for k, f in found.items()}

    return outcomes_


# ---- three-valued logic ----------------------------------------------------------------------
def k_and(a, b):
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def k_or(a, b):
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def k_not(a):
    return None if a is None else not a


VALUES = (True, False, None)


def test_three_valued_truth_table(outcomes):
    conds = {"AND": "b1 and b2", "OR": "b1 or b2", "NOT": "not b1", "ANDC": "c and b1", "ORC": "c or b1"}
    pairs = list(itertools.product(VALUES, VALUES))
    rows = [{"id": f"{i}", "b1": v1, "b2": v2, "c": v2 is True} for i, (v1, v2) in enumerate(pairs)]
    got = outcomes(conds, rows)
    for i, (v1, v2) in enumerate(pairs):
        c = v2 is True
        key = str(i)
        assert got[("AND", key)] == OUTCOME[k_and(v1, v2)], (v1, v2)
        assert got[("OR", key)] == OUTCOME[k_or(v1, v2)], (v1, v2)
        assert got[("NOT", key)] == OUTCOME[k_not(v1)], v1
        assert got[("ANDC", key)] == OUTCOME[k_and(c, v1)], (c, v1)
        assert got[("ORC", key)] == OUTCOME[k_or(c, v1)], (c, v1)


def test_the_three_statements_of_records_md(outcomes):
    got = outcomes({"F-AND-U": "b1 and b2", "T-OR-U": "b1 or b2", "NOT-U": "not b2"},
                   [{"id": "f", "b1": False, "b2": None}, {"id": "t", "b1": True, "b2": None}])
    assert got[("F-AND-U", "f")] == "passed"  # false and unknown = false
    assert got[("T-OR-U", "t")] == "fired"  # true or unknown = true
    assert got[("NOT-U", "t")] == "undetermined"  # not unknown = unknown
    assert got[("F-AND-U", "t")] == "undetermined"  # true and unknown = unknown
    assert got[("T-OR-U", "f")] == "undetermined"  # false or unknown = unknown


# Random boolean expressions over optional bools (b1..b3), a required bool (c) and literals,
# compiled as a rule and evaluated on all 27 assignments, against a Kleene reference.
_leaves = st.sampled_from(["b1", "b2", "b3", "c", "true", "false"])


def _extend(children):
    return st.one_of(
        st.tuples(st.just("and"), children, children),
        st.tuples(st.just("or"), children, children),
        st.tuples(st.just("not"), children),
    )


_exprs = st.recursive(_leaves, _extend, max_leaves=7)


def _text(e) -> str:
    if isinstance(e, str):
        return e
    if e[0] == "not":
        return f"not ({_text(e[1])})"
    return f"({_text(e[1])} {e[0]} {_text(e[2])})"


def _reference(e, env) -> bool | None:
    if isinstance(e, str):
        return {"true": True, "false": False}.get(e, env.get(e))
    if e[0] == "not":
        return k_not(_reference(e[1], env))
    left, right = _reference(e[1], env), _reference(e[2], env)
    return k_and(left, right) if e[0] == "and" else k_or(left, right)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expr=_exprs, c=st.booleans())
def test_three_valued_logic_property(tmp_path_factory, expr, c):
    path = tmp_path_factory.mktemp("kleene") / "k.rules"
    path.write_text(rulebook({"K-1": _text(expr)}), encoding="utf-8")
    rb = load_rulebooks([path])
    rows = []
    for i, (v1, v2, v3) in enumerate(itertools.product(VALUES, VALUES, VALUES)):
        rows.append({**BASE, "id": str(i), "b1": v1, "b2": v2, "b3": v3, "c": c})
    typed = {"r": [rb.coerce("r", row) for row in rows]}
    got = {o.record["id"]: o.value for o in rb.outcomes(typed, AS_OF)}
    for row in rows:
        expected = _reference(expr, {"b1": row["b1"], "b2": row["b2"], "b3": row["b3"], "c": c})
        assert got[row["id"]] is expected, (_text(expr), row)


# ---- empties ---------------------------------------------------------------------------------
def test_division_by_zero_is_empty(outcomes):
    conds = {"DZ-1": "x / 0 is empty", "DZ-2": "(x / (n ?? 0)) is empty", "DZ-3": "x / (n ?? 0) > 1",
             "DZ-4": "(m / (m2 ?? 0)) is empty", "DZ-5": "(x / (n ?? 0) ?? 7) == 7", "DZ-6": "x / 2 == 0.5"}
    got = outcomes(conds, [{"id": "zero", "n": 0, "m2": "0.00"}, {"id": "four", "n": 4, "m2": "0.50"}])
    assert {k: got[(k, "zero")] for k in conds} == {"DZ-1": "fired", "DZ-2": "fired", "DZ-3": "undetermined",
                                                   "DZ-4": "fired", "DZ-5": "fired", "DZ-6": "fired"}
    assert {k: got[(k, "four")] for k in conds} == {"DZ-1": "fired", "DZ-2": "passed", "DZ-3": "passed",
                                                   "DZ-4": "passed", "DZ-5": "passed", "DZ-6": "fired"}


def test_coalesce(outcomes):
    conds = {"CO-1": "(y ?? 5) == 5", "CO-2": "(y ?? x) == x", "CO-3": "(n ?? 0) + 1 == 1", "CO-4": "(b1 ?? true)",
             "CO-5": "(y ?? empty) is empty"}
    got = outcomes(conds, [{"id": "empty"}, {"id": "full", "y": "2", "n": 3, "b1": False}])
    assert {k: got[(k, "empty")] for k in conds} == {k: "fired" for k in conds}
    assert {k: got[(k, "full")] for k in conds} == {k: "passed" for k in conds}


def test_comparisons_with_an_empty_side_are_unknown(outcomes):
    conds = {"EM-1": "y > 0", "EM-2": "y == y", "EM-3": "n != 1", "EM-4": "y is empty"}
    got = outcomes(conds, [{"id": "e"}])
    assert {k: got[(k, "e")] for k in conds} == {"EM-1": "undetermined", "EM-2": "undetermined",
                                                "EM-3": "undetermined", "EM-4": "fired"}


# ---- decimals and money ----------------------------------------------------------------------
def test_exactly_fifty_percent_is_not_more_than_fifty(outcomes, compile_rules, run):
    a, b = Decimal("425.37"), Decimal("283.58")
    assert abs(a - b) / b == Decimal("0.5")  # exactly 50 %, and 2-decimal data
    assert abs(float(a) - float(b)) / float(b) != 0.5  # binary floats would get this wrong
    conds = {"FIFTY": "abs(m - m2) / m2 > 0.5", "FIFTY-DEC": "abs(x - y) / y > 0.5"}
    got = outcomes(conds, [{"id": "exact", "m": "425.37", "m2": "283.58", "x": "425.37", "y": "283.58"},
                           {"id": "above", "m": "425.38", "m2": "283.58", "x": "425.38", "y": "283.58"},
                           {"id": "below", "m": "141.79", "m2": "283.58", "x": "141.79", "y": "283.58"}])
    assert got[("FIFTY", "exact")] == "passed" and got[("FIFTY-DEC", "exact")] == "passed"
    assert got[("FIFTY", "above")] == "fired" and got[("FIFTY-DEC", "above")] == "fired"
    assert got[("FIFTY", "below")] == "passed"  # exactly -50 %


def test_money_stays_decimal(compile_rules, run):
    text = rulebook({"MY-1": "total == 0.30 and tripled == 0.30 and ratio == 0.5"}).replace(
        'when total', "let total = m + (m2 ?? 0)\n  let tripled = m * 3\n  let ratio = m / m2\n  when total")
    rb = compile_rules(text)
    f = run(rb, {"r": [{**BASE, "m": "0.10", "m2": "0.20"}]}, AS_OF)[("MY-1", "1")]
    assert f.outcome == "fired"  # 0.1 + 0.2 == 0.3 only in exact decimals
    assert all(type(f.evidence[k]) is Decimal for k in ("total", "tripled", "ratio", "m", "m2"))
    assert f.evidence["total"] == Decimal("0.30")
    assert f.model_dump(mode="json")["evidence"]["total"] == "0.30"
    typed = rb.coerce("r", {**BASE, "m": 0.1})  # a float on input is taken by its text, not its binary value
    assert typed["m"] == Decimal("0.10") and type(typed["m"]) is Decimal


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=st.integers(1, 10**7), b=st.integers(1, 10**7))
def test_ratio_threshold_is_exact(compile_rules_once, a, b):
    rb = compile_rules_once
    m, m2 = Decimal(a) / 100, Decimal(b) / 100
    typed = {"r": [rb.coerce("r", {**BASE, "m": m, "m2": m2})]}
    (outcome,) = [o.value for o in rb.outcomes(typed, AS_OF) if o.plan.rule.id == "FIFTY"]
    assert outcome is (abs(m - m2) / m2 > Decimal("0.5"))


@pytest.fixture(scope="module")
def compile_rules_once(tmp_path_factory):
    path = tmp_path_factory.mktemp("ratio") / "ratio.rules"
    path.write_text(rulebook({"FIFTY": "abs(m - m2) / m2 > 0.5"}), encoding="utf-8")
    return load_rulebooks([path])


_QUOTIENT_OPS = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}
_QUOTIENT_RULES = {**{f"Q-{name}": f"x / y {op} 0.5" for name, op in _QUOTIENT_OPS.items()},
                   **{f"QR-{name}": f"-1.5 {op} x / y" for name, op in _QUOTIENT_OPS.items()},
                   "QN-int": "n / 4 >= x"}


@pytest.fixture(scope="module")
def quotient_rules(tmp_path_factory):
    path = tmp_path_factory.mktemp("quotient") / "quotient.rules"
    path.write_text(rulebook(_QUOTIENT_RULES), encoding="utf-8")
    return load_rulebooks([path])


_two_places = st.integers(-10**6, 10**6).map(lambda i: Decimal(i) / 100)


@settings(max_examples=150, deadline=None)
@given(x=_two_places, y=st.one_of(st.none(), st.just(Decimal(0)), _two_places), n=st.one_of(st.none(), st.integers(-9, 9)))
def test_quotient_comparisons_equal_the_division(quotient_rules, x, y, n):
    """`x / y OP z` is compiled without dividing; the answer is the exact quotient's, empty when
    y is empty or 0, for a divisor of either sign and z on either side."""
    import operator

    compare = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge, "eq": operator.eq, "ne": operator.ne}
    quotient = None if y is None or y == 0 else x / y
    expected = {f"Q-{k}": None if quotient is None else f(quotient, Decimal("0.5")) for k, f in compare.items()}
    expected |= {f"QR-{k}": None if quotient is None else f(Decimal("-1.5"), quotient) for k, f in compare.items()}
    expected["QN-int"] = None if n is None else Decimal(n) / 4 >= x
    typed = {"r": [quotient_rules.coerce("r", {**BASE, "x": x, "y": y, "n": n})]}
    assert {o.plan.rule.id: o.value for o in quotient_rules.outcomes(typed, AS_OF)} == expected


_SHARING_RULES = {
    "SH-1": "y is not empty and abs(x - y) / y > 0.5",
    "SH-2": "n > 3 and abs(x - y) > 10",  # first use of abs(x - y) may sit behind a failed guard
    "SH-3": "abs(x - y) + (n ?? 0) >= 1 or (y ?? 0) * 2 == x",
    "SH-4": "(m2 ?? 0) * 2 > m and x - y < 0",
    "SH-5": "x - y > 0 and (n ?? 0) * 2 > 5",
}
_LOOKALIKE_RULES = {  # shapes that differ only in one operand or the operator: never shared
    "LK-1": "x * 2 > 3 and (y ?? 0) * 2 < 3",
    "LK-2": "x + (y ?? 0) > 100",
    "LK-3": "x - (y ?? 0) < -100 or (y ?? 0) - x > 1",
}


@pytest.fixture(scope="module")
def sharing_rulebooks(tmp_path_factory):
    path = tmp_path_factory.mktemp("sharing") / "sharing.rules"
    same_names = "".join(  # lets and window results of one name in two rules are two values
        f'rule {rid} "{rid}" {{\n  on r\n  level 一级\n  owner 部\n  let shift = {let}\n'
        f'  window over r by c compute top = max({top})\n  when shift * 2 > 5 or top * 2 > 5\n}}\n'
        for rid, let, top in (("SN-1", "x + 1", "x"), ("SN-2", "x - 1", "n")))
    path.write_text(rulebook(_SHARING_RULES | _LOOKALIKE_RULES) + same_names, encoding="utf-8")
    return load_rulebooks([path])


def test_shared_subexpressions_are_computed_once_per_record(tmp_path):
    (tmp_path / "s.rules").write_text(rulebook(_SHARING_RULES), encoding="utf-8")
    source = load_rulebooks([tmp_path / "s.rules"]).backend.source
    kind = source[source.index("def kind_0"):]
    kind = kind[:kind.index("\ndef ")]
    # x - y and abs(x - y) (each in 3 rules or more) get a local each, computed at first use
    (init,) = [line.split(" = UNSET")[0].split(" = ") for line in kind.splitlines() if line.endswith(" = UNSET")]
    assert len(init) == 2
    users = [line for line in kind.splitlines() if line.startswith("    if ") and any(f"{c} if {c} is not UNSET" in line for c in init)]
    assert len(users) == len(_SHARING_RULES)


@settings(max_examples=120, deadline=None)
@given(x=_two_places, y=st.one_of(st.none(), st.just(Decimal(0)), _two_places),
       n=st.one_of(st.none(), st.integers(-9, 9)), m2=st.one_of(st.none(), _two_places))
def test_sharing_subexpressions_changes_no_outcome(sharing_rulebooks, x, y, n, m2):
    """The generated code (subexpressions shared between rules) answers as the IR interpreter,
    which evaluates every rule on its own."""
    from compliance_engine.backends.python.interpreter import Interpreter, trace_rule

    rb = sharing_rulebooks
    record = rb.coerce("r", {**BASE, "x": x, "y": y, "n": n, "m2": m2})
    interpreter = Interpreter(rb.backend.calendar)
    for o in rb.outcomes({"r": [record]}, AS_OF):
        assert o.value is trace_rule(interpreter, o.plan.rule, record, AS_OF, {}, o.aggregates).value, o.plan.rule.id


# ---- time ------------------------------------------------------------------------------------
def test_date_used_as_datetime_means_midnight(outcomes):
    conds = {"DT-1": "d == 2026-01-31T00:00", "DT-2": "d < a", "DT-3": "a - d == 10 h",
             "DT-4": "as_of - d > 1 days", "DT-5": "earliest(d, a) == 2026-01-31T00:00"}
    got = outcomes(conds, [{"id": "1"}])
    assert {k: got[(k, "1")] for k in conds} == {k: "fired" for k in conds}
    got = outcomes(conds, [{"id": "1", "a": "2026-01-31T00:00"}], as_of=datetime(2026, 2, 1, 0, 0))
    assert got[("DT-2", "1")] == "passed" and got[("DT-4", "1")] == "passed"  # exactly one day


@pytest.mark.parametrize("start, months, expected", [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2026, 3, 31), -1, date(2026, 2, 28)),
    (date(2026, 5, 31), 1, date(2026, 6, 30)),
    (date(2024, 2, 29), 12, date(2025, 2, 28)),
    (date(2025, 12, 15), 2, date(2026, 2, 15)),
])
def test_calendar_months_are_clamped(outcomes, start, months, expected):
    assert add_months(start, months) == expected
    op, n = ("+", months) if months > 0 else ("-", -months)
    cond = f"d {op} {n} months == {expected.isoformat()}"
    got = outcomes({"CM": cond, "CMX": f"d {op} {n} months == {(expected + timedelta(days=1)).isoformat()}"},
                   [{"id": "1", "d": start.isoformat()}])
    assert got[("CM", "1")] == "fired" and got[("CMX", "1")] == "passed"


def test_month_difference_uses_calendar_months(outcomes):
    conds = {"MD-1": "as_of - d > 3 months", "MD-2": "as_of - d > 90 days"}
    # 2025-11-30 + 3 months = 2026-02-28 (clamped): at 2026-02-28T00:00 not yet more than 3 months
    got = outcomes(conds, [{"id": "1", "d": "2025-11-30"}], as_of=datetime(2026, 2, 28, 0, 0))
    assert got[("MD-1", "1")] == "passed"
    got = outcomes(conds, [{"id": "1", "d": "2025-11-30"}], as_of=datetime(2026, 2, 28, 0, 1))
    assert got[("MD-1", "1")] == "fired" and got[("MD-2", "1")] == "fired"
    got = outcomes(conds, [{"id": "1", "d": "2025-12-01"}], as_of=datetime(2026, 2, 28, 0, 1))
    assert got[("MD-1", "1")] == "passed" and got[("MD-2", "1")] == "passed"


def test_workdays_between_is_negative_when_t2_before_t1(outcomes):
    conds = {"WB-1": "workdays_between(a, as_of) == 2", "WB-2": "workdays_between(as_of, a) == -2",
             "WB-3": "workdays_between(a, a) == 0", "WB-4": "workdays_between(as_of, a) < 0"}
    # Friday 2026-02-13 → Tuesday 2026-02-24: the 调休 Saturday 02-14 and 02-24 itself
    got = outcomes(conds, [{"id": "1", "a": "2026-02-13T18:00"}], as_of=datetime(2026, 2, 24, 8, 0))
    assert {k: got[(k, "1")] for k in conds} == {k: "fired" for k in conds}


# ---- aggregates and groups -------------------------------------------------------------------
AGG = 'rulebook AG\n' + KIND + """
rule AG-1 "count(pred)" {
  on r
  level 一级
  owner 部
  window compute yes = count(b1), no = count(not b1), known = count(b1 is not empty), s = sum(n), lo = min(n), hi = max(n), av = avg(n)
  when yes == 1 and no == 1 and known == 2 and s == 6 and lo == 2 and hi == 4 and av == 3
}
"""


def test_aggregates_skip_empties_and_unknown_is_not_counted(compile_rules, run):
    rb = compile_rules(AGG)
    rows = [{**BASE, "id": "1", "b1": True, "n": 2}, {**BASE, "id": "2", "b1": False, "n": None},
            {**BASE, "id": "3", "b1": None, "n": 4}]
    out = run(rb, {"r": rows}, AS_OF)
    assert {f.outcome for f in out.values()} == {"fired"}
    assert out[("AG-1", "1")].evidence["av"] == Decimal(3)
    # over no values: sum/min/max/avg are empty, counts are zero → undetermined
    rows = [{**BASE, "id": "1", "b1": None, "n": None}]
    f = run(rb, {"r": rows}, AS_OF)[("AG-1", "1")]
    assert f.outcome == "passed"  # yes == 1 is false already: false and unknown = false
    assert (f.evidence["yes"], f.evidence["s"], f.evidence["av"]) == (0, None, None)


GROUP = 'rulebook GR\n' + KIND + """
rule GR-1 "组" {
  on r group by b1
  level 一级
  owner 部
  window where c compute k = count(*), total = sum(m)
  when k >= 1
  empty b1 means undetermined
}
"""


def test_groups_form_before_where_and_empty_key_is_undetermined(compile_rules, run):
    rb = compile_rules(GROUP)
    rows = [{**BASE, "id": "1", "b1": True, "c": True, "m": "1.50"}, {**BASE, "id": "2", "b1": True, "c": True, "m": "2.50"},
            {**BASE, "id": "3", "b1": False, "c": False}, {**BASE, "id": "4", "b1": None, "c": True}]
    out = run(rb, {"r": rows}, AS_OF)
    assert set(out) == {("GR-1", "True"), ("GR-1", "False"), ("GR-1", "4")}
    assert out[("GR-1", "True")].outcome == "fired" and out[("GR-1", "True")].evidence == {"k": 2}
    assert out[("GR-1", "True")].group == {"b1": True}
    # every record of the False group is filtered out by `where`; the group still has an outcome
    assert out[("GR-1", "False")].outcome == "passed" and out[("GR-1", "False")].evidence == {"k": 0}
    empty = out[("GR-1", "4")]
    assert (empty.outcome, empty.missing, empty.group) == ("undetermined", ["b1"], None)
    raw = [o for o in rb.outcomes({"r": [rb.coerce("r", r) for r in rows]}, AS_OF) if o.group == {"b1": True}]
    assert raw[0].aggregates == (2, Decimal("4.00"))


# ---- calendar durations at run time (regressions: found by generating well-typed rules) ----------
CAL_KIND = 'rulebook CD\nrecord bill { id: text key\n  period: month\n  at: datetime }\n'


def test_month_difference_compared_with_months(compile_rules, run):
    rb = compile_rules(CAL_KIND + 'rule CD-1 "三个月前的账单" {\n  on bill\n  level 一级\n  owner 部\n'
                       "  when month(as_of) - period >= 3 months\n}\n")
    rows = [{"id": "old", "period": "2025-12", "at": "2026-01-01T00:00"},
            {"id": "new", "period": "2026-01", "at": "2026-01-01T00:00"}]
    out = run(rb, {"bill": rows}, datetime(2026, 3, 15))
    assert (out[("CD-1", "old")].outcome, out[("CD-1", "new")].outcome) == ("fired", "passed")


def test_negated_calendar_duration(compile_rules, run):
    rb = compile_rules(CAL_KIND + 'rule CD-2 "t" {\n  on bill\n  level 一级\n  owner 部\n'
                       "  when at + (-1 months) == 2025-12-31T10:00\n}\n")
    out = run(rb, {"bill": [{"id": "x", "period": "2026-01", "at": "2026-01-31T10:00"}]}, AS_OF)
    assert out[("CD-2", "x")].outcome == "fired"
