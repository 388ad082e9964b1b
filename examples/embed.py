"""Embedding the evaluator in another application: load once, evaluate records as they come.

Run from the repository root:  .venv/bin/python examples/embed.py
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from compliance_engine import RecordValueError, load_rulebooks

AS_OF = datetime(2026, 3, 2, 12, 0)

rules = load_rulebooks(["examples/rulebooks"])  # check + compile once; share across threads

repair = {
    "ticket_no": "T20260302001", "org_no": "33401", "cons_no": "0100012345", "ticket_type": "故障报修",
    "channel": "95598电话", "area": "城区", "accepted_at": "2026-03-02 10:00", "arrived_at": "2026-03-02 10:58",
    "sensitive": False, "content": "家中停电，邻居也停电",
}

findings = rules.evaluate(repair, kind="ticket", as_of=AS_OF)
for f in findings:
    print(f.rule, f.outcome, f.title, f.missing, f.evidence)

# Many callers at once: the compiled rulebooks are immutable.
with ThreadPoolExecutor(max_workers=4) as pool:
    results = list(pool.map(lambda _: rules.evaluate(repair, kind="ticket", as_of=AS_OF), range(8)))
assert all([f.model_dump() for f in r] == [f.model_dump() for f in findings] for r in results)

try:
    rules.evaluate({**repair, "area": "火星"}, kind="ticket", as_of=AS_OF)
except RecordValueError as err:
    print("rejected:", err)
