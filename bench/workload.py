"""The peers' work-order workload, used in place: their generator, rule spec and reference.

Nothing of /work/shared/bench/peers is copied into this repository. Its modules (`rules`,
`common`, `run_python`) are imported from there, and its generator is run as it is, with its
output directory pointed at bench/data/ (gitignored). Set PEERS_DIR to use another checkout.

Needs numpy (the peers' generator) and pyarrow in the environment that runs the bench:
`.venv/bin/pip install numpy` (a bench-only dependency, not in pyproject.toml).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DATA = BENCH / "data"
PEERS = Path(os.environ.get("PEERS_DIR", "/work/shared/bench/peers")).resolve()
RULES_FILE = DATA / "workorders.rules"
KIND = "workorder"

if str(PEERS) not in sys.path:
    sys.path.insert(0, str(PEERS))

import common as peer_common  # noqa: E402  (the peers' harness: loading, row conversion, VmHWM)
import rules as peer_rules  # noqa: E402  (the 200-rule spec, AS_OF, field lists)
import run_python as peer_python  # noqa: E402  (the hand-written-style reference)

AS_OF: datetime = peer_rules.AS_OF


def file_size(n: int) -> int:
    """The generated file that holds `n` records: the 100k file (sliced) up to 100k, else n."""
    return max(n, 100_000)


def parquet_path(size: int) -> Path:
    label = "1m" if size == 1_000_000 else "%dk" % (size // 1000)  # as gen_workload.label
    return DATA / f"wo_{label}.parquet"


def ensure_workload(n: int = 100_000) -> Path:
    """The parquet file holding the first `n` records, made by the peers' own generator on first
    use (seeded: the 100k file holds exactly the records the peers' RESULTS.md measured)."""
    size = file_size(n)
    assert size == 100_000 or size % 1000 == 0, "--records above 100k must be a multiple of 1000"
    path = parquet_path(size)
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(PEERS / "gen_workload.py"), "--out", str(DATA), "--sizes", str(size)],
                       cwd=PEERS, check=True, stdout=subprocess.DEVNULL)
    return path


def load_rules() -> list[dict]:
    return peer_rules.load_rules()


def load_table(n: int = 100_000):
    return peer_common.load_table(str(ensure_workload(n)), n)


def reference_rows(table) -> list[dict]:
    """Rows as the peers' row engines get them: timestamps as int epoch seconds, floats."""
    return peer_common.to_rows(table)


def native_rows(table) -> list[dict]:
    """Rows as an embedding caller would hand them to us: naive datetimes, floats, None."""
    return table.to_pylist()


def reference_counts(rules: list[dict], rows: list[dict], decimal: bool = True) -> list[int]:
    ev = peer_python.compile_rules(rules, decimal=decimal)
    index = {r["id"]: i for i, r in enumerate(rules)}
    return peer_common.counts_from_lists((ev(r) for r in rows), index)


def peak_rss_mb() -> float:
    return peer_common.peak_rss_mb()
