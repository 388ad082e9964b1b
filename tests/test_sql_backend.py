"""The SQL backend (compiled with sqlglot, run on DuckDB) agrees with the Python backend: on the
golden SQL of the sample rulebook, on every test written beside every rule, and on generated
rulebooks and records (hypothesis). Rules it cannot translate yet are E0601, never skipped silently."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance_engine import load_rulebooks
from compliance_engine.backends.sql.compiler import ExprCompiler, Unsupported, check_sql, compile_plan
from compliance_engine.backends.sql.duckdb_runner import connect, run_files, run_records
from compliance_engine.records import write_records
from compliance_engine.values import Month

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "rulebooks" / "sample.rules"
GOLDEN = ROOT / "tests" / "golden" / "sql" / "sample.duckdb.sql"
# constructs not translated yet (each rule using one is reported E0601 by check_sql)
KNOWN_UNSUPPORTED = {"group rule"}


def _sample_sql() -> str:
    plan = load_rulebooks([SAMPLE]).plan
    return "\n;\n".join(q.sql("duckdb") for q in compile_plan(plan)) + "\n"


def test_golden_sql_for_the_sample_rulebook():
    if not GOLDEN.exists():  # first run writes it; read it, then commit it
        GOLDEN.write_text(_sample_sql(), encoding="utf-8")
    assert _sample_sql() == GOLDEN.read_text(encoding="utf-8")


def test_spark_dialect_prints():
    plan = load_rulebooks([SAMPLE]).plan
    text = "\n".join(q.sql("spark") for q in compile_plan(plan))
    assert "R-001" in text and "COALESCE" in text


def test_untranslatable_rule_is_a_check_time_error_naming_it(monkeypatch):
    plan = load_rulebooks([SAMPLE]).plan
    assert check_sql(plan) == []  # every sample rule translates, the group rule R-004 included

    def refuse(self, node, scope):
        raise Unsupported("match")

    monkeypatch.setattr(ExprCompiler, "_Case", refuse)  # as if `match` (R-001's let) had no translation
    diags = check_sql(plan)
    assert [(d.code, "R-001" in d.message and "match" in d.message) for d in diags] == [("E0601", True)]


def _python_outcomes(rulebooks, records, as_of, rule_id=None):
    be = rulebooks.backend
    G = be.global_facts(as_of)
    out = {}
    for o in be.evaluate(records, as_of, G):
        if o.group is not None or o.missing_key or (rule_id and o.plan.rule.id != rule_id):
            continue
        rows = records[o.plan.rule.kind.name]
        row = next(i for i, r in enumerate(rows) if r is o.record)
        missing = tuple(be.missing(o, be.evidence(o, as_of, G))) if o.value is None else ()
        out[(o.plan.rule.id, row)] = (o.value, missing)
    return out


def _sql_outcomes(rulebooks, records, as_of, queries=None, con=None, rule_id=None):
    outcomes = run_records(rulebooks.plan, records, as_of, queries, rulebooks.backend.calendar, con)
    return {(o.rule, o.row): (o.value, o.missing) for o in outcomes if rule_id is None or o.rule == rule_id}


def _embedded_tests_agree(path: Path):
    rulebooks = load_rulebooks([path])
    unsupported = {q_rule: what for q in compile_plan(rulebooks.plan) for q_rule, what in q.unsupported.items()}
    assert set(unsupported.values()) <= KNOWN_UNSUPPORTED
    con = connect(rulebooks.backend.calendar)
    compared, disagreements = 0, []
    for rule in rulebooks.program.rules:
        if rule.id in unsupported:
            continue
        queries = compile_plan(rulebooks.plan, {rule.id})
        for test in rule.tests:
            records: dict[str, list[dict]] = {}
            for kind, record in test.records:
                records.setdefault(kind, []).append(dict(record))
            as_of = test.as_of or datetime(2000, 1, 1)
            py = _python_outcomes(rulebooks, records, as_of, rule.id)
            sql = _sql_outcomes(rulebooks, records, as_of, queries, con, rule.id)
            compared += 1
            if py != sql:
                disagreements.append((rule.id, test.name, py, sql))
    return compared, disagreements


@pytest.mark.parametrize("path", [ROOT / "examples" / "rulebooks", SAMPLE, ROOT / "examples" / "language_tour.rules"],
                         ids=lambda p: p.name)
def test_embedded_tests_agree_with_python(path):
    compared, disagreements = _embedded_tests_agree(path)
    assert compared > 0
    assert disagreements == []


@pytest.mark.heavy
def test_standard_rulebooks_agree_with_python():
    compared, disagreements = _embedded_tests_agree(ROOT / "rulebooks")
    assert compared > 1000
    assert disagreements == []


def billing_at_the_r003_boundary(rulebooks) -> list[dict]:
    """Three billing records around R-003's 50 % line: on it, just past it, and undetermined."""
    return [rulebooks.coerce("billing", r) for r in (
        {"cons_no": "C1", "period": "2026-03", "org_no": "1", "kwh": "150.00", "kwh_avg3": "100.00", "amount": "1",
         "paid_amount": "1", "due_date": "2026-03-25"},
        {"cons_no": "C2", "period": "2026-03", "org_no": "1", "kwh": "150.01", "kwh_avg3": "100.00", "amount": "1",
         "paid_amount": "1", "due_date": "2026-03-25"},
        {"cons_no": "C3", "period": "2026-03", "org_no": "1", "kwh": "150.01", "amount": "1",
         "paid_amount": "1", "due_date": "2026-03-25"})]


def test_files_read_by_duckdb_give_the_same_outcomes(tmp_path):
    rulebooks = load_rulebooks([SAMPLE])
    kind = rulebooks.kinds["billing"]
    rows = billing_at_the_r003_boundary(rulebooks)
    as_of = datetime(2026, 4, 1)
    expected = {("R-003", 0): (False, ()), ("R-003", 1): (True, ()), ("R-003", 2): (None, ("kwh_avg3",))}
    for suffix in ("parquet", "csv", "jsonl"):
        path = tmp_path / f"billing.{suffix}"
        write_records(path, kind, rows)
        got = {(o.rule, o.row): (o.value, o.missing) for o in run_files(rulebooks.plan, [(path, kind)], as_of)}
        assert got == expected, suffix


# ---- generated rulebooks and records ---------------------------------------------------------------
_RECORD = """
rulebook 生成 "生成" version "1" effective 2026-01-01
record item "生成" {
  id: text key
  a: decimal
  b: decimal?
  m: money?
  n: int?
  kind: enum(甲, 乙, 丙)?
  t0: datetime
  t1: datetime?
}
"""
_CONDITIONS = st.sampled_from([
    "a > b", "a / b > 0.5", "abs(a - b) / b >= 0.5", "not (a < b) or n > 2", "(b ?? 0) + a >= 1.50",
    "b is empty and a > 0", "kind in (甲, 乙)", "kind not in (丙)", "n * 2 > a", "m > 10.00 and kind == 乙",
    "(t1 ?? t0) - t0 > 30 min", "t1 - t0 >= 1 h and n != 0",
    "a > match kind { 甲 => 1, 乙 => 2.5, 丙 => 0 }", "(t1 ?? t0) - t0 > match kind { 甲 => 45 min, 乙 => 2 h }",
])
_DEC = st.sampled_from([Decimal("0"), Decimal("0.50"), Decimal("1.00"), Decimal("1.50"), Decimal("2"), Decimal("3"),
                        Decimal("-1.5"), Decimal("100.00"), Decimal("150.00"), Decimal("150.01")])
_T0 = datetime(2026, 3, 2, 10, 0)


def _optional(s):
    return st.one_of(st.none(), s)


_ROWS = st.lists(st.fixed_dictionaries({
    "a": _DEC, "b": _optional(_DEC), "m": _optional(st.sampled_from([Decimal("10.00"), Decimal("10.01"), Decimal("0.00")])),
    "n": _optional(st.integers(-2, 4)), "kind": _optional(st.sampled_from(["甲", "乙", "丙"])),
    "t1": _optional(st.sampled_from([_T0, _T0 + timedelta(minutes=30), _T0 + timedelta(minutes=45, seconds=1),
                                     _T0 + timedelta(hours=1), _T0 + timedelta(hours=2)])),
}), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditions=st.lists(_CONDITIONS, min_size=1, max_size=4, unique=True), rows=_ROWS)
def test_generated_rulebooks_agree(tmp_path_factory, conditions, rows):
    text = _RECORD + "".join(
        f'\nrule G-{i} "生成" {{\n  on item\n  level 三级\n  owner 甲 / 乙 / 丙\n  when {c}\n}}\n'
        for i, c in enumerate(conditions))
    path = tmp_path_factory.mktemp("gen") / "gen.rules"
    path.write_text(text, encoding="utf-8")
    rulebooks = load_rulebooks([path])
    records = {"item": [{"id": f"I{i}", "t0": _T0, **r} for i, r in enumerate(rows)]}
    as_of = datetime(2026, 3, 2, 12, 0)
    assert _sql_outcomes(rulebooks, records, as_of) == _python_outcomes(rulebooks, records, as_of)


# ---- generated: months, calendar months, working days, duration arithmetic, lists ----------------
_TIME_RECORD = """
rulebook 生成 "生成" version "1" effective 2026-01-01
record span "生成" {
  id: text key
  grp: text?
  p: month?
  d: date?
  t0: datetime
  t1: datetime?
  dur: duration?
  n: int?
  w: int?
  x: decimal?
  kind: enum(甲, 乙, 丙)?
  tags: list of text?
}
"""
_TIME_CONDITIONS = st.sampled_from([
    # months and calendar months (month-end clamping, month - month, the `a - b > 3 months` rewrite)
    'p == month(t0)', 'p < month(t0) - 2 months', 'p + 1 month >= month(t0)', 'month(t0) - p > 2 months',
    '(month(t0) - p ?? 0 months) >= 1 year', 'p in ("2026-01", "2026-03", empty)', 'month(as_of) - 1 month == p',
    'p + match kind { 甲 => 1 month, 乙 => 2 months, else => 0 months } <= month(t0)',
    'period_start(p) <= d', 'd > period_end(p) - 3 days', 'month(d + 1 month) == p', 'd + 1 month > date(t0)',
    't1 - 1 month < t0', 'as_of - d > 3 months', 'd - 13 months < period_start(p)',
    # working days: holidays, 调休 weekends, rest days going back, days outside the calendar table
    'd + 3 workdays < date(t0)', 't1 - 2 workdays > t0', 'add_workdays(d, n) >= date(t0)',
    'add_workdays(t1, n ?? 0) > t0 + 1 h', 'is_workday(d)', 'workdays_between(d, t0) > n',
    'add_workdays(d, w) <= d + 7 days', 'add_workdays(t0, w) - t0 > 3 days',
    # exact durations (truncation toward zero, ÷ 0 is empty)
    'dur * 2 > 1 h', 'dur * 1.5 >= 90 min', 'dur / 2 > 30 min', 'dur / n > 10 min',
    'dur / ((t1 ?? t0) - t0 + 1 h) > 1.5', '(t1 ?? t0) - t0 > dur * n', 'abs(dur) > 1 h', 'dur * x > 1 h', '-dur < 1 h',
    'dur / x < 1 h',
    # lists, `empty` in `in` lists, match with a default
    'count(tags) > 1', 'contains_any(tags, ("a", "b"))', 'count(tags) == 0 or contains(tags, "c")',
    'n in (1, empty)', 'n not in (2, empty)', 'n in (1, w)', 'n not in (w, 3)', 'kind in (甲, empty)',
    'n > match kind { 甲 => 1, else => w }',
])
_TIME_WINDOWS = st.sampled_from([  # (window, condition): sums and averages of durations (half-even µs)
    ("window by grp compute s = sum(dur), v = avg(dur)", c)
    for c in ("s > 2 h", "v >= 45 min", "v * 2 > s", "v != 0 min and s / v > 1.5", "v * 1000000 == 2 s", "v * 1000000 == 3 s")
] + [
    ("window by grp within p in [this.p - 2 months, this.p] compute k = count(*), m = max(p)", "k >= 2 or m == p"),
    ("window by grp within d in [this.d - 1 month, this.d + 1 month] compute s = sum(dur * 2), k = count(is_workday(d))",
     "s > 1 h or k > 1"),
])
_T0S = [datetime(2026, 3, 2, 10, 0), datetime(2026, 2, 14, 9, 30), datetime(2026, 1, 31, 23, 0)]
_DAYS = [date(2026, 2, 13), date(2026, 2, 14), date(2026, 2, 15), date(2026, 2, 22), date(2026, 2, 28),
         date(2026, 3, 31), date(2024, 2, 29), date(2026, 1, 31), date(2025, 12, 31),
         date(1850, 6, 1), date(2300, 6, 15)]  # the last two lie outside the SQL calendar table
_TIME_ROWS = st.lists(st.fixed_dictionaries({
    "grp": _optional(st.sampled_from(["g1", "g2"])),
    "p": _optional(st.sampled_from([Month.parse(m) for m in ("2025-12", "2026-01", "2026-02", "2026-03")])),
    "d": _optional(st.sampled_from(_DAYS)), "t0": st.sampled_from(_T0S),
    "t1": _optional(st.sampled_from([timedelta(0), timedelta(hours=30), timedelta(days=-40), timedelta(days=33)])),
    "dur": _optional(st.sampled_from([timedelta(minutes=30), timedelta(minutes=45, seconds=1), timedelta(hours=1),
                                      timedelta(hours=-2), timedelta(0), timedelta(microseconds=3),
                                      timedelta(microseconds=5)])),
    "n": _optional(st.integers(-12, 12)), "w": _optional(st.sampled_from([0, 1, -1, 5, -5, 9, 250, -250])),
    "x": _optional(st.sampled_from([Decimal("0"), Decimal("1.5"), Decimal("-0.3333333333"), Decimal("2.0000000001")])),
    "kind": _optional(st.sampled_from(["甲", "乙", "丙"])),
    "tags": _optional(st.sampled_from([(), ("a",), ("a", "b"), ("c",), ("b", "c", "d")])),
}), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditions=st.lists(_TIME_CONDITIONS, min_size=1, max_size=4, unique=True),
       windows=st.lists(_TIME_WINDOWS, max_size=2, unique=True), rows=_TIME_ROWS)
def test_generated_time_and_list_rules_agree(tmp_path_factory, conditions, windows, rows):
    rules = [("", c) for c in conditions] + [(f"  {w}\n", c) for w, c in windows]
    text = _TIME_RECORD + "".join(
        f'\nrule G-{i} "生成" {{\n  on span\n  level 三级\n  owner 甲 / 乙 / 丙\n{w}  when {c}\n}}\n'
        for i, (w, c) in enumerate(rules))
    path = tmp_path_factory.mktemp("gen") / "gen.rules"
    path.write_text(text, encoding="utf-8")
    rulebooks = load_rulebooks([path])
    assert check_sql(rulebooks.plan) == []
    records = {"span": [{"id": f"S{i}", **r, "t1": None if r["t1"] is None else r["t0"] + r["t1"]}
                        for i, r in enumerate(rows)]}
    as_of = datetime(2026, 3, 2, 12, 0)
    assert _sql_outcomes(rulebooks, records, as_of) == _python_outcomes(rulebooks, records, as_of)


# ---- the SQL building blocks against the Python runtime, value by value ----------------------------
def _sql_values(columns: dict, expressions: list) -> list[tuple]:
    """Each row of `columns` (name → pyarrow array, as table v) → the values of `expressions`."""
    import pyarrow as pa
    from sqlglot import exp

    con = connect(None)
    con.register("v", pa.table(columns))
    return con.execute(exp.select(*expressions).from_("v").sql("duckdb")).fetchall()


def test_workday_functions_match_the_python_calendar():
    import pyarrow as pa
    from sqlglot import exp

    from compliance_engine.backends.sql import dates as D
    from compliance_engine.calendar import default_calendar

    cal = default_calendar()
    first, last = D.CALENDAR_RANGE
    days = [date(2026, 2, 1) + timedelta(days=i) for i in range(40)]  # Spring Festival, 调休 Saturdays
    days += [edge + timedelta(days=i) for edge in (first, last) for i in range(-9, 10)]  # the table's edges
    days += [date(1, 1, 8), date(1850, 6, 1), date(2300, 6, 15), date(9999, 12, 1)]  # beyond the table
    steps = [0, 1, -1, 2, -3, 5, -5, 6, -13, 250, -250]
    pairs = [(d, n) for d in days for n in steps  # results stay within Python's dates
             if 40 < d.toordinal() + 2 * n < date(9999, 12, 1).toordinal()]
    stamps = [datetime.combine(d, datetime.min.time()) + timedelta(hours=9, minutes=30) for d, _ in pairs]
    d, t, n = (exp.column(c, table="v") for c in ("d", "t", "n"))
    got = _sql_values({"d": pa.array([p[0] for p in pairs], pa.date32()), "t": pa.array(stamps, pa.timestamp("us")),
                       "n": pa.array([p[1] for p in pairs], pa.int64())},
                      [D.workday_index(d), D.is_workday(d), D.add_workdays(d, n, True), D.add_workdays(t, n, False)])
    expected = [(cal.workday_index(x), cal.is_workday(x), cal.add_workdays(x, k), cal.add_workdays(s, k))
                for (x, k), s in zip(pairs, stamps)]
    assert [g for g, e in zip(got, expected) if g != e] == []


def test_month_arithmetic_matches_values_add_months():
    import pyarrow as pa
    from sqlglot import exp

    from compliance_engine.backends.sql import dates as D
    from compliance_engine.values import add_months

    days = [date(2024, 1, 31), date(2024, 2, 29), date(2025, 3, 31), date(2026, 12, 31), date(2026, 5, 15)]
    shifts = [0, 1, -1, 2, 11, -12, 13, -25, 96]
    pairs = [(x, m) for x in days for m in shifts]
    months = [Month.of_date(x) for x, _ in pairs]
    d, t, m, n = (exp.column(c, table="v") for c in ("d", "t", "m", "n"))
    got = _sql_values({"d": pa.array([p[0] for p in pairs], pa.date32()),
                       "t": pa.array([datetime.combine(p[0], datetime.min.time()).replace(hour=23) for p in pairs],
                                     pa.timestamp("us")),
                       "m": pa.array([str(x) for x in months]), "n": pa.array([p[1] for p in pairs], pa.int64())},
                      [D.add_months(d, n, "DATE"), D.add_months(t, n, "TIMESTAMP"), D.add_months(m, n, "MONTH"),
                       D.months_between(D.add_months(m, n, "MONTH"), m), D.month_of(t), D.first_day(m), D.last_day(m)])
    expected = [(add_months(x, k), add_months(datetime.combine(x, datetime.min.time()).replace(hour=23), k),
                 str(add_months(mo, k)), k, str(mo), mo.first_day(), mo.last_day())
                for (x, k), mo in zip(pairs, months)]
    assert [g for g, e in zip(got, expected) if g != e] == []


def test_duration_arithmetic_matches_the_python_runtime():
    import pyarrow as pa
    from sqlglot import exp

    from compliance_engine.backends.python.runtime import divide, times
    from compliance_engine.backends.sql.compiler import _duration_aggregate, duration_divided, duration_times
    from compliance_engine.types import DECIMAL, INT

    durations = [timedelta(microseconds=7), timedelta(microseconds=-7), timedelta(hours=1, microseconds=1),
                 timedelta(days=-3, seconds=5)]
    factors = [Decimal("1.5"), Decimal("-0.3333333333"), Decimal("0"), Decimal("2")]
    pairs = [(x, f) for x in durations for f in factors]
    x, f, k = (exp.column(c, table="v") for c in ("x", "f", "k"))
    got = _sql_values({"x": pa.array([p[0] for p in pairs], pa.duration("us")),
                       "f": pa.array([p[1] for p in pairs], pa.decimal128(38, 10)),
                       "k": pa.array([int(p[1]) for p in pairs], pa.int64())},
                      [duration_times(x, f, DECIMAL), duration_times(x, k, INT), duration_divided(x, f)])
    assert got == [(times(a, b), times(a, int(b)), divide(a, b)) for a, b in pairs]
    for micros in ([5, 0], [7, 0], [-5, 0], [-7, 0], [3, 0], [2, 0, 0], [9, 1, 1, 1]):  # avg rounds half to even
        column = pa.array([timedelta(microseconds=m) for m in micros], pa.duration("us"))
        average = exp.select(_duration_aggregate("avg", x)).from_("v").subquery()
        assert _sql_values({"x": column}, [average])[0][0] == sum(column.to_pylist(), timedelta()) / len(micros)
