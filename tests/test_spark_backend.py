"""The Spark engine (the SQL backend's plan rewritten by spark_dialect.py, run by PySpark) agrees
with the Python backend: on every test written beside every rule it can run, on exact division
edge cases, on files Spark reads itself, and — with DuckDB as a third — on the generated cases.

The rewrite tests need neither Java nor pyspark. The Spark runs share ONE module-scoped local[2]
session and batch their records into few queries (Spark spends ~0.2 s per query); they skip
only when Java or pyspark is missing, saying which."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from sqlglot import exp

from compliance_engine import load_rulebooks
from compliance_engine.backends.sql.compiler import Unsupported, compile_plan
from compliance_engine.backends.sql.spark_dialect import EXACT_DIV, compile_spark, to_spark
from compliance_engine.records import read_rows, write_records

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "rulebooks" / "sample.rules"
GENERATED = ROOT / "examples" / "generated"
GENERATED_AS_OF = datetime(2026, 3, 31, 18, 0)  # examples/generated/README.md


def _python_outcomes(rulebooks, records, as_of, rule_ids=None):
    """(rule, row) → (value, missing) from the Python backend (the reference)."""
    be = rulebooks.backend
    G = be.global_facts(as_of)
    out = {}
    positions = {kind: {id(r): i for i, r in enumerate(rows)} for kind, rows in records.items()}
    for o in be.evaluate(records, as_of, G):
        if o.group is not None or o.missing_key or (rule_ids is not None and o.plan.rule.id not in rule_ids):
            continue
        row = positions[o.plan.rule.kind.name][id(o.record)]
        missing = tuple(be.missing(o, be.evidence(o, as_of, G))) if o.value is None else ()
        out[(o.plan.rule.id, row)] = (o.value, missing)
    return out


# ---- the rewrite (no Spark needed) ---------------------------------------------------------------
def _spark_text(path: Path) -> str:
    plan = load_rulebooks([path]).plan
    return "\n".join(q.sql("spark") for q in compile_spark(plan))


def test_rewritten_sql_has_no_duckdb_only_constructs():
    text = _spark_text(ROOT / "rulebooks").upper()
    for duckdb_only in ("INT128", "HUGEINT", "LIST_FILTER", "LIST_CONTAINS", "TO_DAYS", "ISODOW", "EPOCH_US",
                        "MICROSECONDS"):
        assert duckdb_only not in text
    assert EXACT_DIV.upper() in text and "TIMESTAMP_NTZ" in text and "FILTER(" in text


# what DuckDB runs and Spark does not (E0601 for --engine spark; docs/sql_backend.md § Spark)
SPARK_GAPS = {"add_workdays beyond the calendar table（Spark）"}


def test_spark_runs_every_record_rule_duckdb_runs_but_known_gaps():
    for path in (SAMPLE, ROOT / "rulebooks", ROOT / "examples" / "language_tour.rules"):
        plan = load_rulebooks([path]).plan
        sql_rules = {rp.rule.id for q in compile_plan(plan) for rp in q.rules}
        spark = compile_spark(plan)
        spark_rules = {rp.rule.id for q in spark for rp in q.rules}
        gaps = {rule: what for q in spark for rule, what in q.unsupported.items() if rule in sql_rules}
        assert spark_rules | set(gaps) == sql_rules, path.name
        assert set(gaps.values()) <= SPARK_GAPS, path.name
        if path == ROOT / "rulebooks":
            assert len(spark_rules) >= 0.95 * len(sql_rules)


def test_a_construct_without_a_spark_form_is_unsupported_not_printed():
    weird = exp.select(exp.func("LIST_SORT", exp.column("x", table="t"))).from_("records_ticket")
    with pytest.raises(Unsupported):
        to_spark(weird, {})
    as_double = exp.select(exp.cast(exp.column("x", table="t"), "DOUBLE")).from_("records_ticket")
    with pytest.raises(Unsupported):  # never DOUBLE: exact decimals only
        to_spark(as_double, {})


def _correlated_windows(select: exp.Select) -> list[exp.Subquery]:
    """Scalar subqueries over a records table that read the record under test (`t`)."""
    return [s for s in select.find_all(exp.Subquery)
            if isinstance(s.this, exp.Select) and not s.alias
            and any(t.name.startswith("records_") for t in s.this.find_all(exp.Table))
            and any(c.table == "t" for c in s.this.find_all(exp.Column))]


def test_window_subqueries_run_as_grouped_joins():
    """Spark plans a window's non-equality condition (period >= f(t.period)) as a cartesian
    product of records; every window of the standard rulebooks is a grouped join instead, and
    windows over the same rows share one."""
    from compliance_engine.backends.sql.spark_runner import _joined

    plan = load_rulebooks([ROOT / "rulebooks"]).plan
    windows = joins = 0
    for query in compile_spark(plan, evidence=True):
        windows += len(_correlated_windows(query.select))
        select = _joined(plan, query.select)
        assert _correlated_windows(select) == [], query.kind
        joins += sum(1 for j in select.find_all(exp.Join) if j.alias_or_name.startswith("__win"))
    assert 0 < joins < windows


def test_weekday_is_iso_on_spark():  # sqlglot's own Spark form of ISODOW is off by one
    tree = to_spark(exp.select(exp.func("ISODOW", exp.column("d", table="t"))).from_("records_x"), {})
    assert "(WEEKDAY(t.d) + 1)" in tree.sql("spark") and "DAYOFWEEK" not in tree.sql("spark")


# ---- on Spark ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spark():
    if shutil.which("java") is None:
        pytest.skip("java is not on PATH: Spark needs Java 17+ (Debian: apt-get install -y openjdk-17-jre-headless, "
                    "or scripts/install-test-tools.sh)")
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[spark]')")
    from compliance_engine.backends.sql import spark_runner

    session = spark_runner.session("local[2]")
    yield session
    spark_runner.stop(session)


def _rule_tests(rulebooks, queries):
    """(rule, test name, records, as_of) for every embedded test of every rule Spark runs."""
    runs = {rp.rule.id for q in queries for rp in q.rules}
    for rule in rulebooks.program.rules:
        if rule.id not in runs:
            continue
        for test in rule.tests:
            records: dict[str, list[dict]] = {}
            for kind, record in test.records:
                records.setdefault(kind, []).append(dict(record))
            yield rule, test.name, records, test.as_of or datetime(2000, 1, 1)


@pytest.mark.heavy
@pytest.mark.parametrize("path", [SAMPLE, ROOT / "examples" / "rulebooks", ROOT / "examples" / "language_tour.rules",
                                  ROOT / "rulebooks"], ids=lambda p: str(p.relative_to(ROOT)))
def test_embedded_tests_agree_with_python(spark, path):
    from compliance_engine.backends.sql.spark_runner import run_batches

    rulebooks = load_rulebooks([path])
    queries = compile_spark(rulebooks.plan)
    tests = list(_rule_tests(rulebooks, queries))
    got: dict[int, dict] = {}
    batches = [(records, as_of) for _, _, records, as_of in tests]
    for b, o in run_batches(rulebooks.plan, batches, queries, rulebooks.backend.calendar, spark):
        if o.rule == tests[b][0].id:
            got.setdefault(b, {})[(o.rule, o.row)] = (o.value, o.missing)
    disagreements = []
    for b, (rule, name, records, as_of) in enumerate(tests):
        py = _python_outcomes(rulebooks, records, as_of, {rule.id})
        if py != got.get(b, {}):
            disagreements.append((rule.id, name, py, got.get(b, {})))
    assert len(tests) > (1000 if path == ROOT / "rulebooks" else 5)
    assert disagreements == []


_DIVISION_RULEBOOK = """
rulebook 除法 "除法" version "1" effective 2026-01-01
record item "除法" {
  id: text key
  a: decimal?
  b: decimal?
  m: money?
}
"""
_DIVISIONS = ["a / b > 0.5", "a / b >= 0.3333333333", "a / b < -0.3333333333", "abs(a - b) / b > 0.5",
              "m / b > 100000000.25", "a / 3 * 3 == a", "(a ?? 0) / (b ?? 1) <= 0.6666666667"]
_VALUES = [("1", "2"), ("1", "3"), ("-1", "3"), ("2", "3"), ("150.00", "100.00"), ("150.01", "100.00"),
           ("1", "0"), (None, "2"), ("1", None), ("0.0000000001", "3"), ("123456789.1234567891", "0.0000000003"),
           ("-7", "-2"), ("7", "-2"), ("2", "0.0000000003")]


@pytest.mark.heavy
def test_exact_division_agrees_with_python(spark, tmp_path):
    from compliance_engine.backends.sql.spark_runner import run_records

    text = _DIVISION_RULEBOOK + "".join(
        f'\nrule D-{i} "除法" {{\n  on item\n  level 三级\n  owner 甲 / 乙 / 丙\n  when {c}\n}}\n'
        for i, c in enumerate(_DIVISIONS))
    path = tmp_path / "div.rules"
    path.write_text(text, encoding="utf-8")
    rulebooks = load_rulebooks([path])
    def money(a):  # a as an amount when it has at most 2 places
        return a if a is not None and ("." not in a or len(a.split(".")[1]) <= 2) else None

    rows = [rulebooks.coerce("item", {"id": f"I{i}", "a": a, "b": b, "m": money(a)}) for i, (a, b) in enumerate(_VALUES)]
    records = {"item": rows}
    as_of = datetime(2026, 3, 2, 12, 0)
    from compliance_engine.backends.sql import duckdb_runner

    got = {(o.rule, o.row): (o.value, o.missing)
           for o in run_records(rulebooks.plan, records, as_of, None, rulebooks.backend.calendar, spark)}
    duck = {(o.rule, o.row): (o.value, o.missing)
            for o in duckdb_runner.run_records(rulebooks.plan, records, as_of, None, rulebooks.backend.calendar)}
    assert got == duck  # the same truncation to 10 places, everywhere
    # Python keeps 28 digits: `a / 3 * 3 == a` is outside what the engines promise to agree on
    python = _python_outcomes(rulebooks, records, as_of)
    assert {k: v for k, v in got.items() if k[0] != "D-5"} == {k: v for k, v in python.items() if k[0] != "D-5"}
    assert {v for v, _ in got.values()} == {True, False, None}


@pytest.mark.heavy
def test_files_read_by_spark_give_the_same_outcomes(spark, tmp_path):
    from compliance_engine.backends.sql.spark_runner import run_files

    rulebooks = load_rulebooks([SAMPLE])
    kind = rulebooks.kinds["billing"]
    from test_sql_backend import billing_at_the_r003_boundary

    rows = billing_at_the_r003_boundary(rulebooks)
    as_of = datetime(2026, 4, 1)
    files = []
    for suffix in ("parquet", "csv", "jsonl.gz"):  # one file per format, unioned in this order
        path = tmp_path / f"billing.{suffix}"
        write_records(path, kind, rows)
        files.append((path, kind))
    got = {(o.rule, o.row): (o.key, o.value, o.missing)
           for o in run_files(rulebooks.plan, files, as_of, rulebooks.backend.calendar, spark)}
    one = {0: (False, ()), 1: (True, ()), 2: (None, ("kwh_avg3",))}
    expected = {("R-003", 3 * f + i): (f"C{i + 1}|2026-03", *v) for f in range(3) for i, v in one.items()}
    assert got == expected


@pytest.mark.heavy
def test_generated_cases_agree_on_python_duckdb_and_spark(spark):
    """The standard rulebooks over examples/generated (Spark and DuckDB read the CSVs themselves)."""
    from compliance_engine.backends.sql import duckdb_runner, spark_runner

    rulebooks = load_rulebooks([ROOT / "rulebooks"])
    plan = rulebooks.plan
    files = [(p, rulebooks.kinds[p.stem]) for p in sorted(GENERATED.glob("*.csv")) if p.stem in rulebooks.kinds]
    records = {kind.name: [row.record for row in read_rows(p, kind)] for p, kind in files}
    both = {rp.rule.id for q in compile_spark(plan) for rp in q.rules}

    def outcomes(pairs):  # (rule, record key, value, missing) of the rules both engines run, with multiplicity
        return Counter((o.rule, o.key, o.value, o.missing) for o in pairs if o.rule in both)

    in_file_order = {kind: list(rows) for kind, rows in records.items()}
    by_row = _python_outcomes(rulebooks, records, GENERATED_AS_OF, both)
    python = Counter((rule, plan.program.rule(rule).kind.record_key(in_file_order[plan.program.rule(rule).kind.name][row]),
                      *v) for (rule, row), v in by_row.items())
    duck = outcomes(duckdb_runner.run_files(plan, files, GENERATED_AS_OF, rulebooks.backend.calendar))
    on_spark = list(spark_runner.run_files(plan, files, GENERATED_AS_OF, rulebooks.backend.calendar, spark))
    assert sum(python.values()) > 3000
    assert outcomes(on_spark) == python
    assert duck == python
    # Spark's `row` is the record's position in its file
    assert {(o.rule, o.row): (o.value, o.missing) for o in on_spark if o.rule in both} == by_row
    counts = Counter((rule, value) for (rule, _), (value, _) in by_row.items())
    spark_counts = spark_runner.count_files(plan, files, GENERATED_AS_OF, rulebooks.backend.calendar, spark)
    assert {k: n for k, n in spark_counts.items() if n and k[0] in both} == dict(counts)
    assert {v for _, v in counts} == {True, False, None}


@pytest.mark.heavy
def test_evaluate_files_gives_the_python_engines_findings(spark, tmp_path):
    from compliance_engine.backends.sql.spark_runner import evaluate_files
    from compliance_engine.runner import evaluate, read_cases

    text = _DIVISION_RULEBOOK + "".join(
        f'\nrule D-{i} "除法" {{\n  on item\n  level 三级\n  owner 甲 / 乙 / 丙\n  when {c}\n}}\n'
        for i, c in enumerate(_DIVISIONS) if i != 5)
    path = tmp_path / "div.rules"
    path.write_text(text, encoding="utf-8")
    rulebooks = load_rulebooks([path])
    cases = tmp_path / "item.csv"
    write_records(cases, rulebooks.kinds["item"], [{"id": f"I{i}", "a": a, "b": b} for i, (a, b) in enumerate(_VALUES)])
    files = [(cases, rulebooks.kinds["item"])]
    as_of = datetime(2026, 3, 2, 12, 0)
    run, findings = evaluate_files(rulebooks, files, as_of, include_passed=True)
    got = sorted((f.rule, f.record_key, f.outcome, tuple(f.missing)) for f in findings)
    python_run = read_cases(rulebooks, files)
    expected = sorted((f.rule, f.record_key, f.outcome, tuple(f.missing))
                      for f in evaluate(rulebooks, python_run, as_of, include_passed=True))
    assert got == expected and len(got) == 6 * len(_VALUES)
    assert run.summary.to_dict() == python_run.summary.to_dict()


@pytest.mark.heavy
def test_standard_rulebooks_give_the_same_findings_on_python_duckdb_and_spark(spark, tmp_path):
    """`compliance run --engine python|duckdb|spark` over examples/generated: the same findings
    (record and group rules, missing fields, evidence by value) and the same summary."""
    from click.testing import CliRunner

    from compliance_engine.cli import cli

    outputs = {}
    for engine in ("python", "duckdb", "spark"):
        out = tmp_path / engine
        result = CliRunner().invoke(cli, ["run", "--rulebook", str(ROOT / "rulebooks"), "--cases", str(GENERATED),
                                          "--as-of", "2026-03-31T18:00", "--out", str(out), "--engine", engine])
        assert result.exit_code == 0, (engine, result.output)
        lines = (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()
        outputs[engine] = (_comparable(lines), (out / "summary.json").read_text(encoding="utf-8"))
    assert len(outputs["python"][0]) > 500 and any(key[2] != "null" for key in outputs["python"][0])  # group findings too
    assert outputs["duckdb"] == outputs["python"]
    assert outputs["spark"] == outputs["python"]


def _comparable(lines: list[str]) -> dict:
    import json

    from test_batch import _number as _as_number  # decimals by value (DECIMAL(38,10) prints unpadded)

    out = {}
    for line in lines:
        f = json.loads(line)
        f["evidence"] = {k: _as_number(v) for k, v in f["evidence"].items()}
        out[(f["rule"], f["record_key"], json.dumps(f["group"], sort_keys=True))] = f
    return out
