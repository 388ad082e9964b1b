"""The standard rulebooks (rulebooks/, 188 items) at scale: `compliance run` over generated cases,
one subprocess per backend, wall time, records/s and peak memory of the whole process tree.

    .venv/bin/python bench/bench_standard.py [--sizes 100000,1000000] [--engines python,duckdb,spark]
                                             [--rounds 1] [--kinds k1,k2] [--max-rss-gb 12]
                                             [--timeout 3600] [--run-args "..."] [--keep]
                                             [--out bench/data/standard_run.jsonl]

Cases come from examples/generate.py (`--per-kind N --formats parquet`, fixed seed, violation
rate 0.1), cached under bench/data/standard_<N>[_<kinds>]/ and made again only when missing.
Each engine runs as

    compliance run --rulebook rulebooks --cases <dir> --as-of <as-of> --out <tmp> --engine <engine>

measured from outside: wall time; peak RSS of the process tree (the sum over the process and
all its descendants, a Spark JVM included, sampled from /proc every 0.2 s); CPU seconds of the
tree (rusage); records/s = records read (summary.json) / wall time. Its findings are compared
with the generator's ground truth (every fired/undetermined (rule, record, outcome) and nothing
else). An engine the CLI does not offer, or that refuses the rulebooks (E0601: a rule the SQL
backend cannot translate), is reported as such; a run over --max-rss-gb or --timeout is killed
and reported. One JSON line per run (stdout and --out), then a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DATA = BENCH / "data"
AS_OF = "2026-03-31T18:00"
SEED = 20260331
VIOLATION_RATE = 0.1
SAMPLE_S = 0.2


# ---- cases -----------------------------------------------------------------------------------------
def case_dir(per_kind: int, kinds: str | None) -> Path:
    return DATA / (f"standard_{per_kind}" + (f"_{kinds.replace(',', '-')}" if kinds else ""))


def ensure_cases(per_kind: int, kinds: str | None) -> tuple[Path, dict]:
    """Generated cases for `per_kind` records per kind (made once; a manifest marks completion)."""
    out = case_dir(per_kind, kinds)
    manifest = out / "manifest.json"
    if not manifest.exists():
        shutil.rmtree(out, ignore_errors=True)
        cmd = [sys.executable, str(REPO / "examples" / "generate.py"), "--seed", str(SEED), "--out", str(out),
               "--per-kind", str(per_kind), "--violation-rate", str(VIOLATION_RATE), "--formats", "parquet",
               "--as-of", AS_OF] + (["--kinds", kinds] if kinds else [])
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        # Keep the folder to case files only (`--cases DIR` would list the others as skipped).
        (out / "truth").mkdir()
        for name in ("ground_truth.jsonl", "injections.jsonl"):
            (out / name).rename(out / "truth" / name)
        emit({"measurement": "case generation", "per_kind": per_kind, "kinds": kinds, "dir": str(out),
              "wall_s": time.perf_counter() - t0})
    return out, json.loads(manifest.read_text(encoding="utf-8"))


# ---- measuring one process tree ------------------------------------------------------------------
def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(name))
    return tree


def tree_rss_kb(root: int) -> int:
    """VmRSS summed over `root` and its descendants (shared pages count once per process)."""
    tree, total, stack = _children(), 0, [root]
    while stack:
        pid = stack.pop()
        stack += tree.get(pid, [])
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except OSError:
            pass
    return total


def run_measured(cmd: list[str], max_rss_kb: int, timeout_s: float, log: Path) -> dict:
    """Wall time, peak tree RSS and rusage of `cmd`; killed (its whole session) past the limits.
    Its stdout and stderr (diagnostics, the summary line) go to `log`."""
    with open(log, "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=REPO, stdout=err, stderr=subprocess.STDOUT, start_new_session=True)
        peak, killed = 0, None
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, tree_rss_kb(p.pid))
            if peak > max_rss_kb or time.perf_counter() - t0 > timeout_s:
                killed = "memory" if peak > max_rss_kb else "timeout"
                os.killpg(p.pid, signal.SIGKILL)  # the session started for this run only
                pid, status, usage = os.wait4(p.pid, 0)
                break
            time.sleep(SAMPLE_S)
        wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return {"wall_s": wall, "exit_code": p.returncode, "killed": killed, "peak_tree_rss_mb": peak / 1024,
            "max_single_rss_mb": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime}


# ---- one engine ------------------------------------------------------------------------------------
def classify(exit_code: int, killed: str | None, stderr: str) -> str:
    if killed:
        return f"killed ({killed} limit)"
    if exit_code == 0:
        return "ok"
    if "Invalid value for '--engine'" in stderr:
        return "not available (no such --engine in this CLI)"
    refused = len(re.findall(r"error\[E0601\]", stderr))
    if refused:
        return f"refused: E0601 for {refused} rules (not translatable to SQL)"
    if "No module named" in stderr or "ModuleNotFoundError" in stderr or "not installed" in stderr:
        return "not installed: " + last_line(stderr)
    return f"failed (exit {exit_code}): " + last_line(stderr)


def last_line(text: str) -> str:
    """The line that says what went wrong: the last one naming an error, else the last one."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if re.search(r"error|错误", line, re.IGNORECASE)]
    return (errors or lines or [""])[-1][:200]


def ground_truth(cases: Path) -> set[tuple]:
    with open(cases / "truth" / "ground_truth.jsonl", encoding="utf-8") as f:
        return {hash((d["rule"], d["record_kind"], d["record_key"], d["outcome"])) for d in map(json.loads, f)}


def findings(out: Path) -> set[tuple]:
    with open(out / "findings.jsonl", encoding="utf-8") as f:
        return {hash((d["rule"], d["record_kind"], d["record_key"], d["outcome"])) for d in map(json.loads, f)}


def run_engine(engine: str, cases: Path, manifest: dict, a, rnd: int) -> dict:
    exe = Path(sys.executable).with_name("compliance")
    with tempfile.TemporaryDirectory(prefix=f"bench-std-{engine}-") as tmp:
        out, log = Path(tmp) / "out", Path(tmp) / "output.txt"
        cmd = [str(exe), "run", "--rulebook", str(REPO / "rulebooks"), "--cases", str(cases), "--as-of", AS_OF,
               "--out", str(out), "--engine", engine, *shlex.split(a.run_args)]
        m = run_measured(cmd, int(a.max_rss_gb * 1024 * 1024), a.timeout, log)
        stderr = log.read_text(encoding="utf-8", errors="replace")
        d = {"measurement": "compliance run", "engine": engine, "round": rnd, "per_kind": manifest["per_kind"],
             "kinds": a.kinds, "records_generated": sum(manifest["counts"].values()),
             "status": classify(m["exit_code"], m["killed"], stderr), **m}
        if d["status"] == "ok":
            summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
            d.update(records_read=summary["read"], rejected=summary["rejected"],
                     records_per_s=summary["read"] / m["wall_s"], **{k: summary["outcomes"].get(k, 0) for k in
                                                                      ("fired", "undetermined", "passed")})
            truth, got = ground_truth(cases), findings(out)
            d.update(ground_truth_lines=len(truth), findings_equal_ground_truth=truth == got,
                     missing_from_findings=len(truth - got), extra_in_findings=len(got - truth))
            if a.keep:
                kept = DATA / "standard_runs" / f"{cases.name}-{engine}-r{rnd}"
                shutil.rmtree(kept, ignore_errors=True)
                shutil.copytree(out, kept)
        else:
            d["stderr_tail"] = stderr[-1500:]
    return emit(d)


# ---- output ----------------------------------------------------------------------------------------
RESULTS: list[dict] = []
OUT = None


def emit(d: dict) -> dict:
    RESULTS.append(d)
    line = json.dumps(d, ensure_ascii=False, default=str)
    print(line, flush=True)
    if OUT:
        OUT.write(line + "\n")
        OUT.flush()
    return d


def markdown(results: list[dict]) -> str:
    rows = ["| records per kind | records read | engine | status | wall s | records/s | peak RSS MB (tree) | "
            "CPU s | fired | undetermined | findings = ground truth |",
            "|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for d in results:
        if d.get("measurement") != "compliance run":
            continue
        ok = d["status"] == "ok"
        cells = [format(d["per_kind"], ","), format(d["records_read"], ",") if ok else "–", d["engine"], d["status"],
                 "%.1f" % d["wall_s"], format(round(d["records_per_s"]), ",") if ok else "–",
                 "%.0f" % d["peak_tree_rss_mb"], "%.1f" % d["cpu_s"],
                 format(d["fired"], ",") if ok else "–", format(d["undetermined"], ",") if ok else "–",
                 ("yes" if d["findings_equal_ground_truth"] else
                  f"NO ({d['missing_from_findings']} missing, {d['extra_in_findings']} extra)") if ok else "–"]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv=None) -> int:
    global OUT
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100000,1000000", help="records per kind, comma-separated")
    ap.add_argument("--engines", default="python,duckdb,spark")
    ap.add_argument("--rounds", type=int, default=1, help="each round runs every engine once per size")
    ap.add_argument("--kinds", help="generate and run only these record kinds (examples/generate.py --kinds)")
    ap.add_argument("--max-rss-gb", type=float, default=12.0, help="kill a run whose process tree exceeds this")
    ap.add_argument("--timeout", type=float, default=3600.0, help="kill a run after this many seconds")
    ap.add_argument("--run-args", default="", help="more `compliance run` options for every engine, e.g. "
                                                      "\"--memory-limit 4GB\"")
    ap.add_argument("--keep", action="store_true", help="keep each run's findings under bench/data/standard_runs/")
    ap.add_argument("--out", type=Path, default=DATA / "standard_run.jsonl")
    a = ap.parse_args(argv)
    engines = [e.strip() for e in a.engines.split(",") if e.strip()]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    OUT = open(a.out, "w", encoding="utf-8")
    emit({"measurement": "environment", "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "cores": os.cpu_count(),
          "python": sys.version.split()[0], "loadavg": os.getloadavg(), "as_of": AS_OF, "seed": SEED,
          "violation_rate": VIOLATION_RATE, "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                                                      capture_output=True, text=True).stdout.strip()})
    for per_kind in (int(x) for x in a.sizes.split(",")):
        cases, manifest = ensure_cases(per_kind, a.kinds)
        for rnd in range(a.rounds):
            for engine in engines:
                run_engine(engine, cases, manifest, a, rnd)
    OUT.close()
    print()
    print(markdown(RESULTS))
    wrong = [d for d in RESULTS if d.get("status") == "ok" and not d["findings_equal_ground_truth"]]
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
