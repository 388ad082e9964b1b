"""Instructions per record, counted by valgrind (callgrind): the compiled kind function against
the peers' hand-written Python (float and decimal) on the same work orders.

Wall-clock latency on a shared 2-core machine moves by 20-50 % from run to run; the number of
machine instructions the interpreter executes for a record does not (callgrind counts them,
whatever else the machine is doing). So this is the repeatable check of the embedded target
(≤ 1.5× hand-written float Python): each variant runs in a fresh process under callgrind twice,
once evaluating no record and once N records; the difference over N is its cost per record.

    .venv/bin/python bench/instructions.py [--records 2000] [--template ratio]

Needs valgrind (Debian: `apt-get install valgrind`) and what bench_engine.py needs. About
2 minutes for the whole workload (callgrind runs ~50× slower than the CPU).
"""

from __future__ import annotations

import argparse
import os
import pickle
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workload as W  # noqa: E402

VARIANTS = ("ours", "float", "decimal")


def prepare(path: Path, n: int, template: str | None) -> None:
    """Typed records for us, the reference's rows for the peers' functions, pickled once."""
    import translate_peers as TP

    from compliance_engine.api import load_rulebooks

    rules = [r for r in W.load_rules() if template in (None, r["template"])]
    W.ensure_workload(n)
    rules_file = Path(path.parent, "rules.rules")
    rules_file.write_text(TP.translate(rules), encoding="utf-8")
    rb = load_rulebooks([rules_file])
    table = W.load_table(n)
    records = [rb.coerce(W.KIND, r) for r in W.native_rows(table)]
    path.write_bytes(pickle.dumps({"rules": rules, "rules_file": str(rules_file), "records": records,
                                   "ref": W.reference_rows(table)}))


def child(data_path: str, variant: str, n: int) -> None:
    """Evaluate the first n records with one variant (run under callgrind)."""
    data = pickle.loads(Path(data_path).read_bytes())
    if variant == "ours":
        from compliance_engine.api import load_rulebooks

        rb = load_rulebooks([data["rules_file"]])
        fn, G, as_of = rb.backend.kinds[W.KIND].evaluate, rb.backend.global_facts(W.AS_OF), W.AS_OF
        for r in data["records"][:n]:
            fn(r, as_of, None, G)
        return
    fn = W.peer_python.compile_rules(data["rules"], decimal=variant == "decimal")
    for r in data["ref"][:n]:
        fn(r)


def instructions(data_path: Path, variant: str, n: int, env: dict) -> int:
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
           "--child", str(data_path), variant, str(n)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stderr
    return int(re.search(r"Collected : (\d+)", out).group(1))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--template", help="only the rules of one template (threshold, ratio, ...)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        child(a.child[0], a.child[1], int(a.child[2]))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp, "data.pickle")
        # same hash seed and a warm check cache in every process: only the records differ
        env = {**os.environ, "PYTHONHASHSEED": "0", "COMPLIANCE_CACHE_DIR": str(Path(tmp, "cache"))}
        os.environ.update(env)
        prepare(data, a.records, a.template)
        per_record = {}
        for variant in VARIANTS:
            base = instructions(data, variant, 0, env)
            per_record[variant] = (instructions(data, variant, a.records, env) - base) / a.records
        print(f"instructions per record over {a.records} work orders"
              f" ({a.template or 'all'} rules, callgrind, Python {sys.version.split()[0]}):")
        for variant, count in per_record.items():
            print(f"  {variant:8} {count:12,.0f}  × float {count / per_record['float']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
