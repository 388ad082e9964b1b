"""Peer comparison in ONE run on one machine: the peers' runners and ours, interleaved round by
round on the same records, then one table with the issue's ratios and a fire-count check.

    .venv/bin/python bench/bench_peers.py [--rounds 2] [--reps 3] [--sizes 100000,1000000]
                                          [--only LABEL,...] [--records N] [--duckdb-batch-limit N]
                                          [--out FILE]
    .venv/bin/python bench/bench_peers.py --report FILE     # the tables again from a saved run

The peers' runners (/work/shared/bench/peers/run_*.py, used in place, unchanged) run in the peers'
own venv, bench/.venv-peers (see bench/README.md for the one-line install); ours
(bench/run_ours.py) run in this repository's .venv. Every runner is its own process and prints
one JSON line; they are written to --out (default bench/data/peers_run.jsonl, made anew each run).

Fire counts: every runner's per-rule counts are compared with the peers' plain-Python reference on
exactly the records it timed, float and decimal. Ours must equal the DECIMAL reference for every
rule (exit 1 otherwise, or when one of our runners fails); a peer may match either (report.py's
verdict).

--records N caps every runner at the first N records of the 100k file and drops the 1M file: a
quick smoke run (for example --records 5000 --rounds 1 --reps 1 takes two to four minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import workload as W  # noqa: E402

PEERS_PY = BENCH / ".venv-peers" / "bin" / "python"
OURS_PY = Path(sys.executable)
PEERS_VENV_CMD = ("python3 -m venv bench/.venv-peers && bench/.venv-peers/bin/pip install numpy pyarrow duckdb "
                  "polars zen-engine rule-engine common-expression-language panzi-json-logic clipspy")
PER_RECORD_PEERS = ("rule-engine", "cel", "zen-graph", "zen-expr", "json-logic", "clips")  # row engines, not plain Python


@dataclass(frozen=True)
class Entry:
    label: str
    ours: bool
    argv: tuple[str, ...]  # script and its options, without --data/--limit/--reps
    size: int  # which generated file: 100_000 or 1_000_000
    limit: int | None  # a prefix of that file (slow per-record peers), as the peers' PLAN


def has_batch_path() -> bool:
    from importlib import util

    sys.path.insert(0, str(BENCH.parent))
    return util.find_spec("compliance_engine.backends.sql.batch") is not None


def plan(sizes: list[int], batch_limit: int | None) -> list[Entry]:
    """The peers' own PLAN (bench.py), with ours placed next to the peer each is compared with.
    Ours over the 1M file: the compiled function and the two SQL-counting variants; the API batch
    and the `compliance run` DuckDB path (duckdb-batch) run on the 100k file (or a prefix of it)."""
    k100, m1 = 100_000, 1_000_000
    ours = lambda v, size, limit=None: Entry(f"ours-{v}", True, ("run_ours.py", "--variant", v), size, limit)  # noqa: E731
    peer = lambda label, script, size, limit=None: Entry(label, False, tuple(script.split()), size, limit)  # noqa: E731
    entries = [
        peer("python", "run_python.py", k100), ours("embedded", k100), ours("python", k100),
        peer("rule-engine", "run_rule_engine.py", k100, 1000),
        peer("cel", "run_cel.py", k100, 20000),
        peer("zen-graph", "run_zen.py", k100, 5000), peer("zen-expr", "run_zen.py --expr", k100, 5000),
        peer("duckdb", "run_duckdb.py", k100), ours("duckdb-parquet", k100), ours("duckdb-arrow", k100),
        *([ours("duckdb-batch", k100, batch_limit or None)] if has_batch_path() else []),
        peer("polars", "run_polars.py", k100),
        peer("json-logic", "run_jsonlogic.py", k100, 2000),
        peer("clips", "run_clips.py", k100, 5000),
        peer("duckdb", "run_duckdb.py", m1), ours("duckdb-parquet", m1), ours("duckdb-arrow", m1),
        peer("polars", "run_polars.py", m1),
        peer("python", "run_python.py", m1), ours("embedded", m1),
    ]
    return [e for e in entries if e.size in sizes]


# ---- running ---------------------------------------------------------------------------------------
def ensure_data(sizes: list[int]) -> None:
    """The peers' generator, run unchanged in the peers' venv (numpy), writing into bench/data."""
    missing = [s for s in sizes if not W.parquet_path(s).exists()]
    if missing:
        W.DATA.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(PEERS_PY), str(W.PEERS / "gen_workload.py"), "--out", str(W.DATA),
                        "--sizes", ",".join(map(str, missing))], cwd=W.PEERS, check=True, stdout=subprocess.DEVNULL)


def command(e: Entry, reps: int, cap: int | None) -> tuple[list[str], Path]:
    limit = min(x for x in (e.limit, cap) if x) if (e.limit or cap) else None
    script = (BENCH if e.ours else W.PEERS) / e.argv[0]
    cmd = [str(OURS_PY if e.ours else PEERS_PY), str(script), *e.argv[1:], "--data", str(W.parquet_path(e.size)),
           "--reps", str(reps)]
    return cmd + (["--limit", str(limit)] if limit else []), BENCH.parent if e.ours else W.PEERS


def run_entry(e: Entry, rnd: int, reps: int, cap: int | None) -> dict:
    cmd, cwd = command(e, reps, cap)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    base = {"label": e.label, "ours": e.ours, "data": W.parquet_path(e.size).name, "round": rnd, "wall_s": wall}
    if p.returncode != 0 or not p.stdout.strip():
        return {**base, "failed": True, "cmd": cmd, "stderr": p.stderr[-2000:]}
    return {**json.loads(p.stdout.strip().splitlines()[-1]), **base}


def run_all(entries: list[Entry], rounds: int, reps: int, cap: int | None, out) -> list[dict]:
    results = []
    for rnd in range(rounds):
        for e in entries:
            d = run_entry(e, rnd, reps, cap)
            results.append(d)
            out.write(json.dumps(d, ensure_ascii=False) + "\n")
            out.flush()
            if d.get("failed"):
                print(f"round {rnd} {e.label:<20} FAILED: {d['stderr'].strip().splitlines()[-1:]} ({' '.join(d['cmd'])})",
                      file=sys.stderr, flush=True)
                continue
            print("round %d %-20s %-16s n=%-8d %10.0f rec/s  lat %11.1f us  rss %6.0f MB  (%.0f s)" % (
                rnd, e.label, d["data"], d["n"], d["records_per_s"], d["latency_us"], d["peak_rss_mb"], d["wall_s"]),
                flush=True)
    return results


def environment() -> dict:
    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=BENCH.parent, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "?"
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    return {"label": "environment", "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "cpu": cpu, "cores": os.cpu_count(),
            "platform": platform.platform(), "python": sys.version.split()[0], "commit": git("rev-parse", "--short", "HEAD"),
            "package_has_uncommitted_changes": bool(git("status", "--porcelain", "--", "compliance_engine")),
            "loadavg": os.getloadavg()}


# ---- reference counts ------------------------------------------------------------------------------
def reference_counts(results: list[dict]) -> dict[tuple[str, int, bool], list[int]]:
    """(file, n, decimal) → per-rule fire counts of the peers' plain Python on the first n records:
    one pass per file in slices (the 1M file is never all rows at once), snapshots at every n."""
    rules = W.load_rules()
    index = {r["id"]: i for i, r in enumerate(rules)}
    evs = {dec: W.peer_python.compile_rules(rules, decimal=dec) for dec in (False, True)}
    wanted: dict[str, set[int]] = {}
    for d in results:
        if "counts" in d:
            wanted.setdefault(d["data"], set()).add(d["n"])
    out = {}
    for name, ns in wanted.items():
        table = W.peer_common.load_table(str(W.DATA / name), max(ns))
        counts = {dec: [0] * len(rules) for dec in evs}
        done, stops = 0, sorted(ns)
        for stop in stops:
            while done < stop:
                step = min(stop, done + 50_000) - done
                rows = W.reference_rows(table.slice(done, step))
                for dec, ev in evs.items():
                    c = counts[dec]
                    for row in rows:
                        for rid in ev(row):
                            c[index[rid]] += 1
                done += step
            for dec in evs:
                out[(name, stop, dec)] = list(counts[dec])
    return out


def verdict(d: dict, refs) -> str:
    flt, dec = refs[(d["data"], d["n"], False)], refs[(d["data"], d["n"], True)]
    if d["counts"] == dec:
        return "yes (decimal)"
    if d["counts"] == flt and not d["ours"]:
        return "yes (float)"
    bad = sum(1 for a, b in zip(d["counts"], dec) if a != b)
    return f"NO ({bad} rules differ from the decimal reference)"


# ---- report ----------------------------------------------------------------------------------------
def summarise(results: list[dict]) -> dict[tuple[str, str], dict]:
    groups: dict[tuple[str, str], list[dict]] = {}
    for d in results:
        if d.get("label") != "environment":
            groups.setdefault((d["label"], d["data"]), []).append(d)
    out = {}
    for key, g in groups.items():
        ok = [d for d in g if not d.get("failed")]
        if not ok:
            out[key] = {"failed": True, "runs": len(g), "ours": g[0]["ours"], "stderr": g[-1].get("stderr", "")}
            continue
        secs = [s for d in ok for s in d["secs"]]
        out[key] = {"ours": ok[0]["ours"], "version": ok[0]["version"], "n": ok[0]["n"],
                    "rps": ok[0]["n"] / statistics.median(secs), "rps_min": ok[0]["n"] / max(secs),
                    "rps_max": ok[0]["n"] / min(secs), "lat": statistics.median(d["latency_us"] for d in ok),
                    "rss": max(d["peak_rss_mb"] for d in ok), "prep": statistics.median(d["prep_s"] for d in ok),
                    "runs": len(ok), "failed_runs": len(g) - len(ok), "reps": len(ok[0]["secs"]), "docs": ok}
    return out


def fmt(x: float, digits: int = 0) -> str:
    return format(round(x, digits), ",") if digits else format(round(x), ",")


def ratio(a: float | None, b: float | None) -> str:
    return "–" if not a or not b else ("%.3g" % (a / b))


def report(results: list[dict]) -> tuple[str, bool]:
    """The Markdown tables and whether all our runs gave the decimal reference's counts."""
    s = summarise(results)
    refs = reference_counts(results)
    py = {data: g for (label, data), g in s.items() if label == "python" and not g.get("failed")}
    py100 = py.get(W.parquet_path(100_000).name)
    lines = ["| runner | version | file | records timed | records/s (median) | min–max | × plain Python | "
             "single-record µs (median) | × plain Python | peak RSS MB | prep s | runs × reps | counts identical |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    all_ok = True
    for (label, data), g in s.items():
        if g.get("failed"):
            all_ok &= not g["ours"]
            lines.append(f"| {label} | – | {data} | – | FAILED ({g['runs']} runs) | | | | | | | | |")
            continue
        base = py.get(data) or py100
        verdicts = sorted({verdict(d, refs) for d in g["docs"]})
        if g["ours"]:
            all_ok &= verdicts == ["yes (decimal)"] and not g["failed_runs"]
        lines.append("| %s | %s | %s | %s | %s | %s–%s | %s | %s | %s | %.0f | %.2f | %d × %d%s | %s |" % (
            f"**{label}**" if g["ours"] else label, g["version"], data.replace(".parquet", ""), fmt(g["n"]),
            fmt(g["rps"]), fmt(g["rps_min"]), fmt(g["rps_max"]), ratio(g["rps"], base and base["rps"]),
            fmt(g["lat"], 1), ratio(g["lat"], py100 and py100["lat"]), g["rss"], g["prep"], g["runs"], g["reps"],
            f" ({g['failed_runs']} failed)" if g["failed_runs"] else "", ", ".join(verdicts)))
    lines += ["", *targets(s)]
    und = {label: sum(d.get("undetermined", 0) for d in g["docs"]) for (label, _), g in s.items()
           if g.get("ours") and not g.get("failed")}
    lines += ["", "Our undetermined outcomes (counted as not fired): " + ", ".join(f"{k} {v}" for k, v in und.items())
              + ". Fire counts of ours must equal the decimal reference for every rule: "
              + ("**yes**" if all_ok else "**NO** (see the table)") + "."]
    return "\n".join(lines), all_ok


def targets(s: dict) -> list[str]:
    """The issue's ratios: each of ours against its baseline, with the records each was timed on."""
    def get(label, data):
        g = s.get((label, data))
        return None if not g or g.get("failed") else g

    def on(label, data, g):
        return f"{label} ({fmt(g['n'])} of {data.replace('.parquet', '').replace('wo_', '')})"

    k100 = W.parquet_path(100_000).name
    rows = ["| target | ours | baseline | ours | baseline | ratio | target | met? |",
            "|---|---|---|---:|---:|---:|---:|---|"]

    def row(what, ours, base, a, b, r, target, met):
        rows.append(f"| {what} | {ours} | {base} | {a} | {b} | {r} | {target} | {met} |")

    files = sorted({data for _, data in s}, key=lambda n: (len(n), n))
    for data in files:
        for v in ("ours-duckdb-parquet", "ours-duckdb-arrow", "ours-duckdb-batch"):
            o = get(v, data)
            if not o:
                continue
            for peer in ("duckdb", "polars"):
                p = get(peer, data)
                if p:
                    r = o["rps"] / p["rps"]
                    row("batch records/s ÷ hand-written " + peer, on(v, data, o), on(peer, data, p), fmt(o["rps"]),
                        fmt(p["rps"]), "%.3g" % r, "≥ 0.5", "yes" if r >= 0.5 else "NO")
            fast = [(get(p, k100)["rps"], p) for p in PER_RECORD_PEERS if get(p, k100)]
            if fast:
                rps, name = max(fast)
                r = o["rps"] / rps
                row("batch records/s ÷ fastest per-record peer", on(v, data, o), on(name, k100, get(name, k100)),
                    fmt(o["rps"]), fmt(rps), "%.3g" % r, "≥ 50", "yes" if r >= 50 else "NO")
    emb, py = get("ours-embedded", k100), get("python", k100)
    if emb and py:
        r = emb["lat"] / py["lat"]
        row("single-record µs ÷ hand-written float Python", "ours-embedded", "python", fmt(emb["lat"], 1),
            fmt(py["lat"], 1), "%.3g" % r, "≤ 1.5", "yes" if r <= 1.5 else "NO")
    if emb:
        for (label, data), g in s.items():
            if g.get("ours") or g.get("failed") or label == "python" or data != k100:
                continue
            r = emb["lat"] / g["lat"]
            row("single-record µs ÷ peer", "ours-embedded", label, fmt(emb["lat"], 1), fmt(g["lat"], 1), "%.3g" % r,
                "< 1", "yes" if r < 1 else "NO")
    return rows


# ---- driver ------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--sizes", default="100000,1000000", help="generated files to use (100000 and/or 1000000)")
    ap.add_argument("--only", help="comma-separated labels (e.g. duckdb,ours-duckdb-parquet,polars)")
    ap.add_argument("--records", type=int, help="cap every runner at the first N records of the 100k file (smoke run)")
    ap.add_argument("--duckdb-batch-limit", type=int, default=20_000,
                    help="records for ours-duckdb-batch (a prefix of the 100k file; 0: all of it)")
    ap.add_argument("--out", type=Path, default=W.DATA / "peers_run.jsonl")
    ap.add_argument("--report", type=Path, help="only print the tables of a saved run (a --out file)")
    a = ap.parse_args(argv)

    if a.report:
        results = [json.loads(line) for line in a.report.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        if not PEERS_PY.exists():
            print(f"the peers' venv is missing; create it (from the repository root) with:\n  {PEERS_VENV_CMD}",
                  file=sys.stderr)
            return 2
        sizes = [100_000] if a.records else sorted(int(x) for x in a.sizes.split(","))
        entries = plan(sizes, a.duckdb_batch_limit)
        if a.only:
            only = set(a.only.split(","))
            entries = [e for e in entries if e.label in only]
        import translate_peers

        translate_peers.write()
        ensure_data(sizes)
        a.out.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        with open(a.out, "w", encoding="utf-8") as out:
            env = environment()
            out.write(json.dumps(env, ensure_ascii=False) + "\n")
            print(json.dumps(env, ensure_ascii=False), flush=True)
            results = run_all(entries, a.rounds, a.reps, a.records, out)
            out.write(json.dumps({"label": "environment", "end_loadavg": os.getloadavg(),
                                  "bench_wall_s": time.perf_counter() - t0}) + "\n")
        results = [env, *results]
    text, ok = report([d for d in results if d.get("label") != "environment"])
    print()
    print(text)
    if not ok:
        print("our fire counts differ from the decimal reference, or one of our runners failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
