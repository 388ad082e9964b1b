"""Generate realistic case records of every kind, with planted violations and their ground truth.

Run from the repository root (the output is deterministic: the same arguments give byte-identical
files):

    .venv/bin/python examples/generate.py --seed 7 --out /tmp/cases --per-kind 1000
    .venv/bin/compliance run --rulebook rulebooks --cases /tmp/cases/*.csv --as-of 2026-03-31T18:00 --out /tmp/run

Options: --seed N, --out DIR, --per-kind N (records per kind, about: clusters planted for
cross-record rules add a few), --violation-rate R (default 0.1: the share of records of each kind
that carry a planted violation; every catalog item is planted at least once when R > 0 and
--per-kind is large enough, see docs/generator.md), --formats csv,jsonl,parquet (default csv),
--as-of T (default 2026-03-31T18:00), --kinds k1,k2 (write only these kinds; for timing — the
ground truth then covers only their rules, and rules that read other kinds need those files too).

Writes `<out>/<kind>.<format>` for the 12 record kinds of rulebooks/common.rules (records.md),
`<out>/ground_truth.jsonl` — one line per (rule, record or group) that must be `fired` or
`undetermined` at the as-of time: {"rule", "record_kind", "record_key", "outcome"} — and
`<out>/injections.jsonl` (what was planted where: rule, mode, record_kind, record_key) and
`<out>/manifest.json` (arguments, counts).

What is generated and why (docs/generator.md has the details):
- Records are made in *units* that keep every record-keyed window of the catalog local: a
  customer with its archive, meter, bill, 业扩 application, 95598 ticket and maybe a past 欠费停电;
  a member of staff with their account and exports; a 台区 with its days; a standalone system,
  field job, opinion event or outage. Org units come from examples/org.yaml.
- Baseline records comply: each is checked against the catalog (see below) as it is made and
  remade until no rule fires or is undetermined for it. Windows keyed by org_no are kept quiet by
  placing the records they count in per-org time slots; NS-16 by a per-(org, system) quota.
- Injections then break one rule on one record (or add related records for window and group
  rules), at the chosen rate per kind; each catalog item is planted first, in turn.
- The ground truth comes from examples/gen/oracle.py, which reads the catalog's conditions,
  windows and empty-value sentences and evaluates them with three-valued logic (records.md
  § Semantics) — independently of the engine — over every injected unit (a clean unit has
  none); org-wide windows and org-wide groups are evaluated at the end from kept records.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from gen.accounts import AccountFamily  # noqa: E402
from gen.common import load_orgs  # noqa: E402
from gen.core import Family, InjectionError, Injection, Oracle  # noqa: E402
from gen.customers import CustomerFamily  # noqa: E402
from gen.oracle import Catalog  # noqa: E402
from gen.sink import Sinks  # noqa: E402
from gen.standalone import FieldJobFamily, OpinionFamily, OutageFamily, StationFamily, SystemFamily  # noqa: E402

DEFAULT_AS_OF = "2026-03-31T18:00"
CATALOG_DIR = ROOT / "rulebooks" / "catalog"
COMMON = ROOT / "rulebooks" / "common.rules"
UNDETERMINED_WEIGHT = 0.3  # how often a random injection picks an "empty → undetermined" variant


@dataclass
class Ctx:
    seed: int
    per_kind: int
    rate: float
    as_of: datetime
    cal: object
    orgs: object
    oracle: Oracle
    needed: set


@dataclass
class Report:
    counts: dict = field(default_factory=dict)
    ground_truth: int = 0
    injected: dict = field(default_factory=dict)  # "rule/mode" → number planted
    skipped: list = field(default_factory=list)  # injections that found no room (e.g. slots used up)
    failed: list = field(default_factory=list)  # injections whose target did not come out as intended
    retries: dict = field(default_factory=dict)
    seconds: float = 0.0


def load_kinds():
    from compliance_engine import load_rulebooks

    return load_rulebooks([COMMON]).kinds


class Plan:
    """Which injections a family's unit i gets: first every variant of every kind in turn (each
    on its own unit), then, per kind, a random variant with probability `rate`."""

    def __init__(self, family: Family, rate: float, seed: int, wanted: set[str]):
        self.rng = random.Random(f"{seed}:plan:{family.name}")
        self.rate = rate
        by_kind: dict[str, list[Injection]] = {}
        for (rule, mode), inj in sorted(family.injections.items()):
            if inj.kind in wanted:
                by_kind.setdefault(inj.kind, []).append(inj)
        self.by_kind = by_kind
        self.cover: list[Injection] = []
        if rate > 0:
            for kind in family.kinds:
                self.cover.extend(by_kind.get(kind, ()))

    def at(self, i: int) -> list[Injection]:
        if i < len(self.cover):
            return [self.cover[i]]
        if self.rate <= 0:
            return []
        chosen, needs = [], {}
        for kind, variants in self.by_kind.items():
            if self.rng.random() >= self.rate:
                continue
            fired = [v for v in variants if v.mode == "fired"]
            undet = [v for v in variants if v.mode != "fired"]
            pool = undet if undet and self.rng.random() < UNDETERMINED_WEIGHT else fired
            inj = self.rng.choice(pool)
            if any(k in needs and needs[k] != v for k, v in inj.needs.items()):
                continue  # conflicts with an injection already chosen for this unit
            needs.update(inj.needs)
            chosen.append(inj)
        return chosen


def generate(seed: int, out: Path, per_kind: int, rate: float = 0.1, formats=("csv",), as_of: str = DEFAULT_AS_OF,
             kinds: set[str] | None = None, strict: bool = True, rules: set[str] | None = None) -> Report:
    from compliance_engine.calendar import default_calendar

    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    schema = load_kinds()
    as_of_dt = datetime.fromisoformat(as_of)
    cal = default_calendar()
    catalog = Catalog(CATALOG_DIR, schema, cal)
    wanted = set(schema) if kinds is None else set(kinds)
    oracle = Oracle(catalog, schema, as_of_dt, wanted, rules)
    # the kinds to make: those wanted, and those their rules' windows read
    needed = set(wanted) | {r.window.kind for r in catalog.rules.values() if r.kind in wanted and r.window}
    ctx = Ctx(seed, per_kind, rate, as_of_dt, cal, load_orgs(), oracle, needed)
    report = Report()
    sinks = Sinks(out, list(formats), schema, wanted)
    pending: list[tuple] = []  # targets decided only at the end (org-wide windows and groups)
    gt_path = out / "ground_truth.jsonl"

    at_end = ({r.id for rs in oracle.deferred.values() for r in rs}
              | {a.rule.id for accs in oracle.global_groups.values() for a in accs})

    def check(lines, targets):
        have = {(r, k, key): o for r, k, key, o in lines}
        for inj, key in targets:
            rule = oracle.rules_by_id[inj.rule]
            if (rules is not None and inj.rule not in rules) or rule.kind not in wanted:
                continue
            want = "fired" if inj.mode == "fired" else "undetermined"
            if inj.rule in at_end:
                pending.append((inj, key, want))
            elif have.get((inj.rule, inj.kind, key)) != want:
                fail(inj, key, want, have.get((inj.rule, inj.kind, key)))

    def fail(inj, key, want, got):
        msg = f"{inj.rule} ({inj.mode}) planted on {inj.kind} {key}: the oracle says {got or 'passed'}, not {want}"
        if strict:
            raise InjectionError(msg)
        report.failed.append(msg)

    with gt_path.open("w", encoding="utf-8", newline="\n") as gt, \
            (out / "injections.jsonl").open("w", encoding="utf-8", newline="\n") as planted:
        def emit(lines):
            for rule, kind, key, outcome in lines:
                gt.write(json.dumps({"rule": rule, "record_kind": kind, "record_key": key, "outcome": outcome},
                                    ensure_ascii=False) + "\n")
            report.ground_truth += len(lines)

        customers = None
        families: list = []
        for cls in (CustomerFamily, AccountFamily, SystemFamily, FieldJobFamily, OpinionFamily, "outage", StationFamily):
            if cls == "outage":
                arrears = customers.arrears_outages if customers else 0
                fam = OutageFamily(ctx, max(0, per_kind - arrears))
            else:
                fam = cls(ctx)
            if not (set(fam.kinds) & wanted) and not (fam.name == "customer" and "outage" in wanted):
                continue
            if fam.name == "customer":
                customers = fam
            families.append(fam)
            plan = Plan(fam, rate, seed, wanted)
            for i in range(fam.n_units()):
                variants = plan.at(i)
                needs: dict = {}
                for v in variants:
                    needs.update(v.needs)
                unit = fam.build(i, needs)
                targets = []
                if variants:
                    fam.injecting = True
                    for inj in variants:
                        target = inj.fn(fam, unit)
                        if target is None:
                            report.skipped.append(f"{inj.rule}/{inj.mode} at {fam.name} unit {i}")
                            continue
                        key = target if isinstance(target, str) else oracle.key(inj.kind, target)
                        targets.append((inj, key))
                        unit.injected.append((inj.rule, inj.mode))
                        name = f"{inj.rule}/{inj.mode}"
                        report.injected[name] = report.injected.get(name, 0) + 1
                        planted.write(json.dumps({"rule": inj.rule, "mode": inj.mode, "record_kind": inj.kind,
                                                  "record_key": key, "family": fam.name, "unit": i},
                                                 ensure_ascii=False) + "\n")
                    fam.injecting = False
                lines = oracle.evaluate_unit(unit) if unit.injected else []
                lines += oracle.observe(unit)
                lines = [ln for ln in lines if ln[1] in wanted]
                check(lines, targets)
                emit(lines)
                for kind, rows in unit.records.items():
                    for r in rows:
                        sinks.put(kind, r)
            report.retries[fam.name] = fam.retries
        final = [ln for ln in oracle.finish() if ln[1] in wanted]
        emit(final)
        have = {(r, k, key): o for r, k, key, o in final}
        for inj, key, want in pending:
            if have.get((inj.rule, inj.kind, key)) != want:
                fail(inj, key, want, have.get((inj.rule, inj.kind, key)))
    report.counts = sinks.close()
    report.seconds = round(time.perf_counter() - started, 2)
    manifest = {"seed": seed, "per_kind": per_kind, "violation_rate": rate, "as_of": as_of, "formats": list(formats),
                "counts": report.counts, "ground_truth_lines": report.ground_truth,
                "injected": dict(sorted(report.injected.items())), "skipped": report.skipped,
                "baseline_retries": report.retries}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return report


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=20260331)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--per-kind", type=int, default=1000)
    p.add_argument("--violation-rate", type=float, default=0.1)
    p.add_argument("--formats", default="csv", help="comma-separated: csv, jsonl, parquet (also csv.gz, jsonl.gz)")
    p.add_argument("--as-of", default=DEFAULT_AS_OF)
    p.add_argument("--kinds", default=None, help="comma-separated record kinds to write (default: all)")
    p.add_argument("--lenient", action="store_true", help="report injections that missed instead of stopping")
    args = p.parse_args(argv)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    kinds = {k.strip() for k in args.kinds.split(",")} if args.kinds else None
    report = generate(args.seed, args.out, args.per_kind, args.violation_rate, formats, args.as_of, kinds,
                      strict=not args.lenient)
    total = sum(report.counts.values())
    print(f"{total} records ({', '.join(f'{k} {n}' for k, n in sorted(report.counts.items()))}); "
          f"ground truth {report.ground_truth} lines; {sum(report.injected.values())} injections, "
          f"{len(report.skipped)} skipped, {len(report.failed)} missed; {report.seconds} s", file=sys.stderr)
    for line in report.failed:
        print("missed:", line, file=sys.stderr)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
