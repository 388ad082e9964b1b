"""Benchmark: our engine on the peers' 200-rule work-order workload (see bench/README.md).

    .venv/bin/python bench/bench_engine.py [--records 100000] [--lat-calls 3000] [--rounds 3]
                                           [--no-templates] [--out bench/data/last_run.jsonl]

Prints one JSON line per measurement, then a Markdown table. Exits 1 if our per-rule fire
counts differ from the peers' plain-Python reference with decimal arithmetic.
"""

from __future__ import annotations

import argparse
import gc
import json
from collections import Counter
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata, util
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import handwritten as HW  # noqa: E402
import translate_peers as TP  # noqa: E402
import workload as W  # noqa: E402

RESULTS: list[dict] = []
NO_CACHE_DIR = "/dev/null/no-cache"  # not creatable: the on-disk check cache (if any) always misses


def emit(d: dict) -> dict:
    RESULTS.append(d)
    print(json.dumps(d, ensure_ascii=False, default=str), flush=True)
    return d


def env_with(cache_dir: str) -> dict:
    env = dict(os.environ)
    env["COMPLIANCE_CACHE_DIR"] = cache_dir
    env["PYTHONPATH"] = str(W.REPO)
    return env


# ---- (a)(b) check + compile ----------------------------------------------------------------------
# Run with `python -c` so the child imports nothing but the engine (no pyarrow/numpy of the bench).
CHILD_LOAD = r"""
import json, sys, time
t_start = time.perf_counter()
from compliance_engine.api import load_rulebooks
t_import = time.perf_counter()
path, loads = sys.argv[1], int(sys.argv[2])
times = []
for _ in range(loads):
    t0 = time.perf_counter()
    rb = load_rulebooks([path])
    times.append(time.perf_counter() - t0)
kp = rb.plan.kind("workorder")
print(json.dumps({"import_s": t_import - t_start, "loads_s": times, "rules": len(kp.record_rules),
                  "warnings": len(rb.warnings)}))
"""

CHILD_PHASES = r"""
import json, sys, time
out = {}
def lap(name, t0):
    out[name] = time.perf_counter() - t0
    return time.perf_counter()
t = time.perf_counter()
from compliance_engine.api import load_rulebooks
from compliance_engine.diagnostics import Diagnostics
from compliance_engine.loader import load
from compliance_engine.check import check as check_modules
from compliance_engine.graph import build_graph
from compliance_engine.plan import lower
from compliance_engine.calendar import default_calendar
from compliance_engine.backends.python.evaluator import PythonBackend
from compliance_engine.backends.python.codegen import generate
from compliance_engine.syntax.parser import _lark
t = lap("import", t)
_lark(); t = lap("grammar (Lark LALR tables)", t)
diags = Diagnostics(); modules, sources = load([sys.argv[1]], diags); t = lap("parse + AST", t)
program = check_modules(modules, sources, diags); t = lap("check (names, types)", t)
graph = build_graph(program, diags); t = lap("dependency graph", t)
plan = lower(program, graph); t = lap("plan", t)
cal = default_calendar(); t = lap("calendar", t)
PythonBackend(plan, cal); t = lap("codegen + compile + exec (backend)", t)
gen = generate(plan); t = lap("  of which codegen", t)
compile(gen.source, "<x>", "exec"); t = lap("  of which compile()", t)
out["generated_lines"] = gen.source.count("\n")
print(json.dumps(out))
"""


def run_child(code: str, args: list[str], cache_dir: str) -> tuple[dict, float]:
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env_with(cache_dir),
                       cwd=W.REPO)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(p.stderr[-3000:])
    return json.loads(p.stdout.strip().splitlines()[-1]), wall


def measure_compile(rules_file: Path, runs: int, loads: int) -> None:
    has_disk_cache = util.find_spec("compliance_engine.cache") is not None
    with tempfile.TemporaryDirectory(prefix="ce-cache-") as tmp:
        variants = [("no disk cache", NO_CACHE_DIR, False)]
        if has_disk_cache:
            variants.append(("disk cache hit", tmp, True))
        for label, cache_dir, prime in variants:
            if prime:
                run_child(CHILD_LOAD, [str(rules_file), "1"], cache_dir)
            outs = [run_child(CHILD_LOAD, [str(rules_file), "1"], cache_dir) for _ in range(runs)]
            cold = [o["loads_s"][0] for o, _ in outs]
            warm = [statistics.median(run_child(CHILD_LOAD, [str(rules_file), str(loads)], cache_dir)[0]["loads_s"][1:])
                    for _ in range(3)]
            emit({"measurement": f"cold check+compile ({label})", "what": "first load_rulebooks in a fresh process",
                  "median_s": statistics.median(cold), "runs_s": cold,
                  "import_s": statistics.median(o["import_s"] for o, _ in outs),
                  "process_wall_s": statistics.median(w for _, w in outs),  # interpreter start + imports + 1 load
                  "rules": outs[0][0]["rules"], "warnings": outs[0][0]["warnings"], "target_s": 1.0})
            emit({"measurement": f"warm check+compile ({label})",
                  "what": f"load_rulebooks #2..#{loads} in the same process (median per process, 3 processes)",
                  "median_s": statistics.median(warm), "runs_s": warm, "target_s": 0.05})
    phases, _ = run_child(CHILD_PHASES, [str(rules_file)], NO_CACHE_DIR)
    emit({"measurement": "cold phases (no disk cache)", **phases})


# ---- (c)(d) single-record latency --------------------------------------------------------------
def latency_us(fn, argsets: list[tuple], calls: int, offset: int) -> float:
    """Median wall time of ONE call fn(*args) over `calls` different records (µs)."""
    n, pc, lat = len(argsets), time.perf_counter_ns, [0] * calls
    for i in range(calls):
        a = argsets[(offset + i) % n]
        t0 = pc()
        fn(*a)
        lat[i] = pc() - t0
    return statistics.median(lat) / 1000.0


def batch_once(fn, argsets: list[tuple]) -> tuple[float, list]:
    t0 = time.perf_counter()
    out = [fn(*a) for a in argsets]
    return time.perf_counter() - t0, out


def interleaved_batches(variants: dict, reps: int, keep=()) -> tuple[dict[str, list[float]], dict[str, list]]:
    """Each repetition runs every variant once (so a noisy spell hits them all alike); the last
    repetition's results are kept for the variants named in `keep`."""
    secs: dict[str, list[float]] = {k: [] for k in variants}
    outs: dict[str, list] = {}
    for rep in range(reps):
        for name, (f, args) in variants.items():
            dt, out = batch_once(f, args)
            secs[name].append(dt)
            if name in keep and rep == reps - 1:
                outs[name] = out
            del out
    return secs, outs


def counts_from_results(outs, n_rules: int) -> tuple[list[int], int]:
    """Fires per rule position and undetermined outcomes, from the kind function's results."""
    fired, undetermined = [0] * n_rules, 0
    for fired_at, undetermined_at in outs:
        for i in fired_at:
            fired[i] += 1
        undetermined += len(undetermined_at)
    return fired, undetermined


# ---- (e) batch through the API, in its own process (clean VmHWM) ---------------------------------
def child_batch(n: int) -> None:
    from compliance_engine.api import load_rulebooks

    rb = load_rulebooks([W.RULES_FILE])
    table = W.load_table(n)
    rows = W.native_rows(table)
    del table
    t0 = time.perf_counter()
    records = [rb.coerce(W.KIND, r) for r in rows]
    coerce_s = time.perf_counter() - t0
    del rows
    gc.collect()
    ids = [rp.rule.id for rp in rb.plan.kind(W.KIND).record_rules]
    counts: Counter = Counter()
    outcomes = 0
    t0 = time.perf_counter()
    # the batch path `compliance run` uses: fired/undetermined outcomes yielded (they become
    # findings), every outcome counted per rule without an object for it
    for _ in rb.outcomes({W.KIND: records}, W.AS_OF, include_passed=False, counts=counts):
        outcomes += 1
    secs = time.perf_counter() - t0
    fired = {i: counts[(i, True)] for i in ids}
    undetermined = sum(counts[(i, None)] for i in ids)
    print(json.dumps({"n": len(records), "secs": secs, "outcomes": outcomes, "coerce_s": coerce_s,
                      "fired": fired, "undetermined": undetermined, "peak_rss_mb": W.peak_rss_mb()}))


# ---- per-template breakdown ----------------------------------------------------------------------
def by_template(rules, records, ref_rows, n: int, reps: int) -> list[dict]:
    from compliance_engine.api import load_rulebooks

    out = []
    records, ref_rows = records[:n], ref_rows[:n]
    for template in dict.fromkeys(r["template"] for r in rules):
        subset = [r for r in rules if r["template"] == template]
        path = W.DATA / f"template_{template}.rules"
        path.write_text(TP.translate(subset), encoding="utf-8")
        backend = load_rulebooks([path]).backend
        fn, g = backend.kinds[W.KIND].evaluate, backend.global_facts(W.AS_OF)
        variants = {
            "engine": (fn, [(r, W.AS_OF, None, g) for r in records]),
            "ref_float": (W.peer_python.compile_rules(subset, decimal=False), [(r,) for r in ref_rows]),
            "ref_decimal": (W.peer_python.compile_rules(subset, decimal=True), [(r,) for r in ref_rows]),
            "handwritten_typed": (HW.compile_rules(subset), [(r,) for r in records]),
        }
        secs, _ = interleaved_batches(variants, reps)
        us = {k: statistics.median(v) / n * 1e6 for k, v in secs.items()}
        out.append(emit({"measurement": "per-template batch cost", "template": template, "rules": len(subset),
                         "records": n, "us_per_record": us,
                         "engine_x_ref_float": us["engine"] / us["ref_float"],
                         "engine_x_ref_decimal": us["engine"] / us["ref_decimal"],
                         "engine_x_handwritten_typed": us["engine"] / us["handwritten_typed"]}))
    return out


# ---- driver ------------------------------------------------------------------------------------
def versions() -> dict:
    def v(p):
        try:
            return metadata.version(p)
        except metadata.PackageNotFoundError:
            return None
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=W.REPO, capture_output=True,
                                text=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "compliance_engine"], cwd=W.REPO,
                                    capture_output=True, text=True).stdout.strip())
    except OSError:
        commit, dirty = "?", None
    return {"python": sys.version.split()[0], "compliance-engine": v("compliance-engine"), "lark": v("lark"),
            "pydantic": v("pydantic"), "pyarrow": v("pyarrow"), "numpy": v("numpy"), "cpu": cpu,
            "cores": os.cpu_count(), "platform": platform.platform(), "commit": commit,
            "package_has_uncommitted_changes": dirty,
            "disk_check_cache_present": util.find_spec("compliance_engine.cache") is not None}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--lat-calls", type=int, default=3000, help="single calls per variant per round (min 2000)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved latency rounds")
    ap.add_argument("--reps", type=int, default=3, help="timed repetitions of each in-process batch")
    ap.add_argument("--compile-runs", type=int, default=5, help="fresh processes per compile variant")
    ap.add_argument("--template-records", type=int, default=20_000)
    ap.add_argument("--no-templates", action="store_true")
    ap.add_argument("--out", type=Path, default=W.DATA / "last_run.jsonl")
    ap.add_argument("--child-batch", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    calls = max(a.lat_calls, 2000)

    # Loads in this process must not read or fill the user's check cache.
    os.environ["COMPLIANCE_CACHE_DIR"] = NO_CACHE_DIR
    if a.child_batch:
        child_batch(a.child_batch)
        return 0

    t_start = time.perf_counter()
    emit({"measurement": "environment", "date": time.strftime("%Y-%m-%d"), **versions()})
    rules = W.load_rules()
    rules_file = TP.write()
    W.ensure_workload(a.records)

    # (a)(b)
    measure_compile(rules_file, a.compile_runs, loads=6)

    # data: typed records for us, epoch/float rows for the peers' reference (outside all timing)
    from compliance_engine.api import load_rulebooks

    rb = load_rulebooks([rules_file])
    kp = rb.plan.kind(W.KIND)
    fn = rb.backend.kinds[W.KIND].evaluate
    G = rb.backend.global_facts(W.AS_OF)
    assert not any(rp.rule.windows for rp in kp.record_rules)  # A=None is right
    table = W.load_table(a.records)
    raw = W.native_rows(table)
    t0 = time.perf_counter()
    records = [rb.coerce(W.KIND, r) for r in raw]
    coerce_s = time.perf_counter() - t0
    ref_rows = W.reference_rows(table)
    del table
    n = len(records)
    emit({"measurement": "record coercion (rulebooks.coerce, outside timed regions)", "n": n,
          "records_per_s": n / coerce_s, "us_per_record": coerce_s / n * 1e6})

    ev_float = W.peer_python.compile_rules(rules, decimal=False)
    ev_dec = W.peer_python.compile_rules(rules, decimal=True)
    ev_hw = HW.compile_rules(rules)
    variants = {  # name → (function, argument tuples), all over the same n records
        "engine kind function": (fn, [(r, W.AS_OF, None, G) for r in records]),
        "engine rulebooks.evaluate() API": (rb.evaluate, [(r, W.KIND, W.AS_OF) for r in raw]),
        "hand-written float (peers' run_python)": (ev_float, [(r,) for r in ref_rows]),
        "hand-written decimal (peers' run_python decimal=True)": (ev_dec, [(r,) for r in ref_rows]),
        "hand-written exact on our typed records (bench/handwritten.py)": (ev_hw, [(r,) for r in records]),
    }

    # (c)(d) single-record latency, variants interleaved in each round
    lat: dict[str, list[float]] = {k: [] for k in variants}
    for rnd in range(a.rounds):
        for name, (f, args) in variants.items():
            lat[name].append(latency_us(f, args, calls, offset=rnd * calls))
    lat_med = {k: statistics.median(v) for k, v in lat.items()}
    base_f = lat_med["hand-written float (peers' run_python)"]
    base_d = lat_med["hand-written decimal (peers' run_python decimal=True)"]
    base_t = lat_med["hand-written exact on our typed records (bench/handwritten.py)"]
    for name, v in lat.items():
        emit({"measurement": "single-record latency", "variant": name, "median_us": lat_med[name], "rounds_us": v,
              "calls_per_round": calls, "x_float": lat_med[name] / base_f, "x_decimal": lat_med[name] / base_d,
              "x_typed_exact": lat_med[name] / base_t})

    # in-process batches of the bare functions (the API's own batch path is (e) below)
    batch: dict[str, dict] = {}
    counts: dict[str, list[int]] = {}
    bvariants = {k: v for k, v in variants.items() if "API" not in k}
    bsecs, bouts = interleaved_batches(bvariants, a.reps, keep=set(bvariants))
    for name in bvariants:
        secs, out = bsecs[name], bouts.pop(name)
        if name == "engine kind function":
            fired, und = counts_from_results(out, len(kp.record_rules))
            by_id = dict(zip((rp.rule.id for rp in kp.record_rules), fired))
            counts[name] = [by_id[r["id"]] for r in rules]
            batch_undetermined = und
        else:
            counts[name] = W.peer_common.counts_from_lists(out, {r["id"]: i for i, r in enumerate(rules)})
        del out
        batch[name] = {"median_s": statistics.median(secs), "secs": secs}
    bf = n / batch["hand-written float (peers' run_python)"]["median_s"]
    bd = n / batch["hand-written decimal (peers' run_python decimal=True)"]["median_s"]
    bt = n / batch["hand-written exact on our typed records (bench/handwritten.py)"]["median_s"]
    for name, b in batch.items():
        rps = n / b["median_s"]
        emit({"measurement": "in-process batch (list of per-record results)", "variant": name, "n": n,
              "records_per_s": rps, "secs": b["secs"], "x_float": rps / bf, "x_decimal": rps / bd,
              "x_typed_exact": rps / bt})

    ref_dec = counts["hand-written decimal (peers' run_python decimal=True)"]
    ref_flt = counts["hand-written float (peers' run_python)"]
    ours = counts["engine kind function"]
    differ = [rules[i]["id"] for i in range(len(rules)) if ours[i] != ref_dec[i]]
    hw_differ = [rules[i]["id"] for i in range(len(rules))
                 if counts["hand-written exact on our typed records (bench/handwritten.py)"][i] != ref_dec[i]]
    emit({"measurement": "fire counts", "n": n, "fires": sum(ours), "undetermined_outcomes": batch_undetermined,
          "identical_to_decimal_reference": not differ, "rules_differing": differ,
          "rules_differing_from_float_reference": [rules[i]["id"] for i in range(len(rules)) if ours[i] != ref_flt[i]],
          "handwritten_typed_identical_to_decimal_reference": not hw_differ})

    # (e) batch through rulebooks.outcomes(), fresh process
    p = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child-batch", str(n)], capture_output=True,
                       text=True, env=env_with(NO_CACHE_DIR), cwd=W.REPO)
    if p.returncode != 0:
        raise RuntimeError(p.stderr[-3000:])
    e = json.loads(p.stdout.strip().splitlines()[-1])
    e_counts = [e["fired"][r["id"]] for r in rules]
    rps = e["n"] / e["secs"]
    emit({"measurement": "batch via rulebooks.outcomes() (fresh process, fired/undetermined yielded, all counted)", "n": e["n"],
          "outcomes": e["outcomes"], "secs": e["secs"], "records_per_s": rps, "x_float": rps / bf,
          "x_decimal": rps / bd, "x_typed_exact": rps / bt, "undetermined_outcomes": e["undetermined"],
          "counts_identical_to_decimal_reference": e_counts == ref_dec,
          "coerce_records_per_s": e["n"] / e["coerce_s"], "peak_rss_mb": e["peak_rss_mb"]})
    if e_counts != ref_dec:
        differ = differ or ["(outcomes path)"]

    templates = [] if a.no_templates else by_template(rules, records, ref_rows, min(a.template_records, n), a.reps)

    emit({"measurement": "peak memory (this process: 3 copies of the records, all variants)",
          "peak_rss_mb": W.peak_rss_mb()})
    emit({"measurement": "bench wall time", "secs": time.perf_counter() - t_start})

    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("".join(json.dumps(d, ensure_ascii=False, default=str) + "\n" for d in RESULTS), encoding="utf-8")
    print()
    print(markdown(templates))
    if differ:
        print(f"FIRE COUNTS DIFFER from the decimal reference: {differ}", file=sys.stderr)
        return 1
    return 0


def markdown(templates: list[dict]) -> str:
    def find(m, variant=None):
        return next(d for d in RESULTS if d["measurement"] == m and (variant is None or d.get("variant") == variant))

    rows = ["| measurement | figure | target | met? |", "|---|---:|---:|---|"]
    for d in RESULTS:
        m = d["measurement"]
        if m.startswith("cold check+compile"):
            rows.append(f"| {m}: load_rulebooks | {d['median_s'] * 1000:.0f} ms (imports +{d['import_s'] * 1000:.0f} ms,"
                        f" whole process {d['process_wall_s'] * 1000:.0f} ms) | < 1 s |"
                        f" {'yes' if d['median_s'] < 1 else 'NO'} (whole process: {'yes' if d['process_wall_s'] < 1 else 'NO'}) |")
        elif m.startswith("warm check+compile"):
            rows.append(f"| {m} | {d['median_s'] * 1000:.1f} ms | < 50 ms | {'yes' if d['median_s'] < 0.05 else 'NO'} |")
    ph = find("cold phases (no disk cache)")
    rows.append("")
    rows.append("Cold phases (fresh process, no disk cache): " + ", ".join(
        f"{k.strip()} {v * 1000:.0f} ms" for k, v in ph.items() if isinstance(v, float)) + ".")
    rows.append("")
    rows.append("| variant | single-record µs (median) | × float | × decimal | × typed exact | batch records/s | × float | × decimal | × typed exact |")
    rows.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    batches = {d["variant"]: d for d in RESULTS if d["measurement"].startswith("in-process batch")}
    for d in RESULTS:
        if d["measurement"] != "single-record latency":
            continue
        b = batches.get(d["variant"])
        bcols = (f"{b['records_per_s']:,.0f} | {b['x_float']:.2f} | {b['x_decimal']:.2f} | {b['x_typed_exact']:.2f}"
                 if b else "– | – | – | –")
        rows.append(f"| {d['variant']} | {d['median_us']:.1f} | {d['x_float']:.2f} | {d['x_decimal']:.2f} | "
                    f"{d['x_typed_exact']:.2f} | {bcols} |")
    e = find("batch via rulebooks.outcomes() (fresh process, fired/undetermined yielded, all counted)")
    rows.append(f"| engine rulebooks.outcomes() over {e['n']:,} records (fresh process) | – | – | – | – | "
                f"{e['records_per_s']:,.0f} | {e['x_float']:.3f} | {e['x_decimal']:.3f} | {e['x_typed_exact']:.3f} |")
    fc = find("fire counts")
    rows.append("")
    rows.append(f"Fire counts ({fc['n']:,} records, {fc['fires']:,} fires): identical to the decimal reference: "
                f"**{'yes' if fc['identical_to_decimal_reference'] and e['counts_identical_to_decimal_reference'] else 'NO'}**"
                f"; undetermined outcomes: {fc['undetermined_outcomes']}; rules differing from the float reference "
                f"(binary-float ties): {', '.join(fc['rules_differing_from_float_reference']) or 'none'}.")
    rows.append(f"Peak memory (VmHWM): outcomes() process {e['peak_rss_mb']:.0f} MB; bench process "
                f"{find('peak memory (this process: 3 copies of the records, all variants)')['peak_rss_mb']:.0f} MB.")
    if templates:
        rows += ["", "| template | rules | engine µs/rec | float µs/rec | decimal µs/rec | typed exact µs/rec | × float | × decimal | × typed exact |",
                 "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for t in templates:
            u = t["us_per_record"]
            rows.append(f"| {t['template']} | {t['rules']} | {u['engine']:.2f} | {u['ref_float']:.2f} | {u['ref_decimal']:.2f} | "
                        f"{u['handwritten_typed']:.2f} | {t['engine_x_ref_float']:.2f} | {t['engine_x_ref_decimal']:.2f} | "
                        f"{t['engine_x_handwritten_typed']:.2f} |")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
