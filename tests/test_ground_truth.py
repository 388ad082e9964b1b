"""The engine against an independent ground truth: examples/generate.py makes realistic records of
every kind with planted violations, and computes from the catalog's own conditions (not by running
the engine) which (rule, record) pairs must come out fired or undetermined. The engine must find
exactly those — no false positive, no miss — and nothing in the clean baseline.
See docs/generator.md."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from compliance_engine import load_rulebooks
from compliance_engine.runner import evaluate, read_cases

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-03-31T18:00"
SEED = 20260331


def _generator():
    spec = importlib.util.spec_from_file_location("examples_generate", ROOT / "examples" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("examples_generate", module)
    spec.loader.exec_module(module)
    return module


generate = _generator().generate
from gen.common import load_orgs  # noqa: E402 - examples/ is on the path once the generator is loaded


@pytest.fixture(scope="module")
def rules():
    return load_rulebooks([ROOT / "rulebooks"])


def _catalog_ids() -> set[str]:
    ids = set()
    for path in (ROOT / "rulebooks" / "catalog").glob("*.yaml"):
        ids |= {item["id"] for item in YAML(typ="safe").load(path.read_text(encoding="utf-8"))["items"]}
    return ids


def _ground_truth(out: Path) -> dict[str, set[tuple[str, str]]]:
    by_rule: dict[str, set] = defaultdict(set)
    with (out / "ground_truth.jsonl").open(encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            by_rule[d["rule"]].add((d["record_kind"], d["record_key"], d["outcome"]))
    return by_rule


def _engine(rules, out: Path, fmt: str) -> dict[str, set[tuple[str, str]]]:
    files = [(out / f"{kind}.{fmt}", rules.kinds[kind]) for kind in sorted(rules.kinds)
             if (out / f"{kind}.{fmt}").exists()]
    run = read_cases(rules, files)
    assert run.summary.rejected == 0, run.rejections[:5]
    by_rule: dict[str, set] = defaultdict(set)
    for f in evaluate(rules, run, datetime.fromisoformat(AS_OF), include_passed=False):
        by_rule[f.rule].add((f.record_kind, f.record_key, f.outcome))
    return by_rule


def _compare(truth, found) -> None:
    problems = []
    for rule in sorted(set(truth) | set(found)):
        want, got = truth.get(rule, set()), found.get(rule, set())
        if want != got:
            missing = sorted(want - got)
            extra = sorted(got - want)
            lines = [f"{rule}: ground truth {len(want)}, engine {len(got)}"]
            lines += [f"    missed by the engine: {k} {key} {o}" for k, key, o in missing[:8]]
            lines += [f"    not in the ground truth: {k} {key} {o}" for k, key, o in extra[:8]]
            if len(missing) > 8 or len(extra) > 8:
                lines.append(f"    … {len(missing)} missed, {len(extra)} extra in all")
            problems.append("\n".join(lines))
    assert not problems, "engine and ground truth differ:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("generated")
    report = generate(SEED, out, per_kind=300, rate=0.1, formats=("csv", "jsonl", "parquet"), as_of=AS_OF)
    return out, report


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_engine_matches_ground_truth(rules, small, fmt):
    out, _ = small
    _compare(_ground_truth(out), _engine(rules, out, fmt))


def test_every_catalog_item_is_planted_and_fires(small):
    out, report = small
    ids = _catalog_ids()
    assert len(ids) == 188
    with (out / "injections.jsonl").open(encoding="utf-8") as f:
        planted = {d["rule"] for d in map(json.loads, f) if d["mode"] == "fired"}
    fired = {rule for rule, rows in _ground_truth(out).items() if any(o == "fired" for _, _, o in rows)}
    assert sorted(ids - planted) == [], "catalog items never planted"
    assert sorted(ids - fired) == [], "catalog items with no fired case in the ground truth"
    assert report.failed == [] and report.skipped == []


def test_some_items_are_planted_undetermined(small):
    out, _ = small
    undetermined = {rule for rule, rows in _ground_truth(out).items() if any(o == "undetermined" for _, _, o in rows)}
    assert len(undetermined) >= 30


def test_generation_is_deterministic(small, tmp_path):
    """Same arguments, another process with another string-hash seed: the same bytes."""
    out, _ = small
    again = tmp_path / "again"
    subprocess.run([sys.executable, str(ROOT / "examples" / "generate.py"), "--seed", str(SEED), "--out", str(again),
                    "--per-kind", "300", "--formats", "csv,jsonl,parquet", "--as-of", AS_OF],
                   check=True, cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "12345"}, capture_output=True)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    for name in names:
        assert (out / name).read_bytes() == (again / name).read_bytes(), name


def test_bundled_sample_is_what_the_generator_makes(small):
    """examples/generated/ holds the default run at 300 per kind (csv); regenerate it with
    `.venv/bin/python examples/generate.py --out examples/generated --per-kind 300`."""
    out, _ = small
    bundled = ROOT / "examples" / "generated"
    for path in sorted(bundled.glob("*.csv")) + [bundled / "ground_truth.jsonl", bundled / "injections.jsonl"]:
        assert path.read_bytes() == (out / path.name).read_bytes(), path.name


def test_another_seed_gives_other_records(small, tmp_path):
    out, _ = small
    other = tmp_path / "other"
    generate(SEED + 1, other, per_kind=50, rate=0.1, formats=("csv",), as_of=AS_OF)
    assert (other / "ticket.csv").read_bytes()[:4000] != (out / "ticket.csv").read_bytes()[:4000]


def test_clean_baseline_has_no_findings(rules, tmp_path):
    """Without injections nothing fires and nothing is undetermined (at this size every org-wide
    window still has quiet time slots; see docs/generator.md for the limits)."""
    generate(SEED, tmp_path, per_kind=300, rate=0.0, formats=("csv",), as_of=AS_OF)
    assert _ground_truth(tmp_path) == {}
    found = _engine(rules, tmp_path, "csv")
    assert {r: sorted(v)[:5] for r, v in found.items()} == {}


def test_records_reference_each_other(small):
    """Tickets and bills name customers in `customer`, meters belong to them, exports name accounts."""
    import csv

    out, _ = small

    def column(kind, field):
        with (out / f"{kind}.csv").open(encoding="utf-8") as f:
            return [row[field] for row in csv.DictReader(f)]

    customers = set(column("customer", "cons_no"))
    accounts = set(column("account", "account_id"))
    orgs = set(load_orgs().all)
    # a few planted records lose their customer on purpose (BP-034/035 empty cases, empty cons_no)
    for kind in ("ticket", "billing", "meter", "connection_app"):
        refs = [c for c in column(kind, "cons_no") if c]
        assert sum(c in customers for c in refs) >= 0.97 * len(refs), kind
    assert set(column("data_export", "account_id")) <= accounts
    for kind in ("ticket", "account", "system", "station_daily", "opinion_event", "outage", "field_job"):
        assert set(column(kind, "org_no")) <= orgs, kind


@pytest.mark.heavy
def test_engine_matches_ground_truth_at_scale(rules, tmp_path):
    generate(SEED + 7, tmp_path, per_kind=20_000, rate=0.1, formats=("parquet",), as_of=AS_OF)
    _compare(_ground_truth(tmp_path), _engine(rules, tmp_path, "parquet"))
