"""The impact of a rulebook change on real cases: findings that appear, disappear or change.

Both versions evaluate the same case files at the same as-of time; each reads the files with
its own record kinds (a change may add a field or a kind). Outcomes are matched by (rule id,
record kind, record key), old rule ids mapped through the diff's renamed ids. A finding is a
fired or undetermined outcome, so a record that goes from passed to fired makes a finding
*appear*, fired to passed makes one *disappear*, fired ↔ undetermined *changes* it, and a finding
that stays but goes to another owner is *reassigned*. Counted per rule, per unit (org_no) and
per owner: the plan a reviewer approves.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Mapping, Sequence

from .api import OUTCOME_NAMES, Rulebooks
from .backends.python.evaluator import Outcome
from .errors import ComplianceError
from .findings import Finding
from .records import infer_kind
from .runner import read_cases
from .schema import RecordKind

ABSENT = "absent"  # the rule (or the record's kind) does not exist in that version
_NOT_A_FINDING = ("passed", ABSENT)


class ImpactError(ComplianceError, ValueError):
    """The case files cannot be evaluated by either version (e.g. no record kind fits a file)."""


@dataclass(frozen=True)
class ImpactEntry:
    """One (rule, record) whose finding appears, disappears, changes outcome or owner."""

    change: str  # "appears", "disappears", "changes", "reassigned"
    rule: str
    title: str
    record_kind: str
    record_key: str
    org_no: str | None
    old: str  # fired, undetermined, passed or absent
    new: str
    owner_old: str | None
    owner_new: str | None
    level: str
    missing: tuple[str, ...] = ()
    evidence: dict = field(default_factory=dict, compare=False)  # the new version's values when it has the record
    evidence_before: dict = field(default_factory=dict, compare=False)  # the old version's values

    @property
    def owner(self) -> str:
        return self.owner_new or self.owner_old or ""


@dataclass
class Tally:
    appears: int = 0
    disappears: int = 0
    changes: int = 0
    reassigned_in: int = 0
    reassigned_out: int = 0

    @property
    def total(self) -> int:
        return self.appears + self.disappears + self.changes + self.reassigned_in + self.reassigned_out


@dataclass(frozen=True)
class VersionRun:
    """What one version read: records read and rejected, and its outcome counts per rule."""

    read: int
    rejected: int
    outcomes: Counter  # (rule id in the new version's ids, outcome) → n
    skipped: tuple[str, ...] = ()  # case files whose kind this version does not declare

    def count(self, outcome: str, rule: str | None = None) -> int:
        return sum(n for (r, o), n in self.outcomes.items() if o == outcome and rule in (None, r))


@dataclass(frozen=True)
class Impact:
    as_of: datetime
    files: tuple[str, ...]
    old: VersionRun
    new: VersionRun
    entries: tuple[ImpactEntry, ...]
    titles: dict[str, str] = field(default_factory=dict)  # rule id → title, for every rule counted

    @property
    def has_impact(self) -> bool:
        return bool(self.entries)

    def totals(self) -> Tally:
        return tally(self.entries, lambda e: "", lambda e: "").get("", Tally())

    def by_rule(self) -> dict[str, Tally]:
        return tally(self.entries, lambda e: e.rule, lambda e: e.rule)

    def by_unit(self) -> dict[str, Tally]:
        return tally(self.entries, lambda e: e.org_no or "-", lambda e: e.org_no or "-")

    def by_owner(self) -> dict[str, Tally]:
        """A reassigned finding leaves its old owner and reaches its new one."""
        return tally(self.entries, lambda e: e.owner_old or "", lambda e: e.owner)

    def rules(self) -> list[str]:
        """Rules whose findings differ in any record or in number, in id order."""
        counted = {r for r, _ in self.old.outcomes} | {r for r, _ in self.new.outcomes}
        moved = {e.rule for e in self.entries}
        return sorted(r for r in counted if r in moved or any(
            self.old.count(o, r) != self.new.count(o, r) for o in ("fired", "undetermined")))


def tally(entries, out_of, into) -> dict[str, Tally]:
    """Counts per name: `into(e)` names where a finding is (now), `out_of(e)` where a reassigned one was."""
    out: dict[str, Tally] = {}
    for e in entries:
        if e.change == "reassigned":
            out.setdefault(out_of(e), Tally()).reassigned_out += 1
            out.setdefault(into(e), Tally()).reassigned_in += 1
        else:
            tally = out.setdefault(into(e), Tally())
            setattr(tally, e.change, getattr(tally, e.change) + 1)
    return dict(sorted(out.items()))


# ---- evaluating one version --------------------------------------------------------------------


@dataclass
class _Evaluated:
    rulebooks: Rulebooks
    G: tuple
    outcomes: dict[tuple[str, str, str], Outcome]
    run: VersionRun

    def finding(self, outcome: Outcome, as_of: datetime) -> Finding:
        return self.rulebooks.finding(outcome, as_of, self.G)


def kinds_for(rulebooks: Rulebooks, files: Sequence[Path], kind: str | None) -> list[tuple[Path, RecordKind | None]]:
    """Each file's record kind in this version (`kind` for all when given), None when it has none."""
    if kind is not None:
        return [(p, rulebooks.kinds.get(kind)) for p in files]
    return [(p, infer_kind(p, rulebooks.kinds)) for p in files]


def _evaluate(rulebooks: Rulebooks, files: list[tuple[Path, RecordKind | None]], as_of: datetime,
              ids: Mapping[str, str]) -> _Evaluated:
    readable = [(p, k) for p, k in files if k is not None]
    cases = read_cases(rulebooks, readable)
    G = rulebooks.backend.global_facts(as_of)
    outcomes: dict[tuple[str, str, str], Outcome] = {}
    counts: Counter = Counter()
    for o in rulebooks.outcomes(cases.records, as_of, include_passed=True):
        rule = ids.get(o.plan.rule.id, o.plan.rule.id)
        k = _unique(outcomes, (rule, o.plan.rule.kind.name, _record_key(o)))
        outcomes[k] = o
        counts[(rule, OUTCOME_NAMES[o.value])] += 1
    skipped = tuple(str(p) for p, k in files if k is None)
    run = VersionRun(cases.summary.read, cases.summary.rejected, counts, skipped)
    return _Evaluated(rulebooks, G, outcomes, run)


def _record_key(o: Outcome) -> str:
    if o.group is not None:
        return "|".join(str(v) for v in o.group.values())
    return o.plan.rule.kind.record_key(o.record)


def _unique(seen: dict, k: tuple[str, str, str]) -> tuple[str, str, str]:
    """Records sharing a key (a duplicate in the case file) are told apart by their order."""
    n, candidate = 1, k
    while candidate in seen:
        n += 1
        candidate = (k[0], k[1], f"{k[2]}#{n}")
    return candidate


# ---- comparing the two ----------------------------------------------------------------------------


def impact(old: Rulebooks, new: Rulebooks, files: Sequence[str | Path], as_of: datetime, *,
           kind: str | None = None, renamed: Mapping[str, str] | None = None) -> Impact:
    """Evaluate both versions over `files` at `as_of` and list every finding that differs.

    `renamed` maps old rule ids to new ones (`RulebookDiff.id_map`). Raises `ImpactError` when a
    file fits no record kind in either version, `RecordFileError` when a file cannot be read.
    """
    paths = [Path(p) for p in files]
    old_files, new_files = kinds_for(old, paths, kind), kinds_for(new, paths, kind)
    unknown = [str(p) for (p, a), (_, b) in zip(old_files, new_files) if a is None and b is None]
    if unknown:
        raise ImpactError(_unknown_message(unknown, kind, old, new))
    before = _evaluate(old, old_files, as_of, renamed or {})
    after = _evaluate(new, new_files, as_of, {})
    entries = [e for k in before.outcomes.keys() | after.outcomes.keys()
               if (e := _entry(k, before, after, as_of)) is not None]
    entries.sort(key=lambda e: (e.rule, _ORDER[e.change], e.record_key))
    titles = {r.id: r.title for r in old.program.rules} | {r.id: r.title for r in new.program.rules}
    return Impact(as_of, tuple(map(str, paths)), before.run, after.run, tuple(entries), titles)


_ORDER = {"appears": 0, "disappears": 1, "changes": 2, "reassigned": 3}


def _unknown_message(files: list[str], kind: str | None, old: Rulebooks, new: Rulebooks) -> str:
    known = ", ".join(sorted(old.kinds.keys() | new.kinds.keys()))
    if kind is not None:
        return f"两个版本都没有记录类型 {kind}；可选: {known}"
    return f"无法从文件名 {', '.join(files)} 判断记录类型；请用 --kind 指定（可选: {known}）"


def _entry(k: tuple[str, str, str], before: _Evaluated, after: _Evaluated, as_of: datetime) -> ImpactEntry | None:
    a, b = before.outcomes.get(k), after.outcomes.get(k)
    old, new = _outcome_name(a), _outcome_name(b)
    fa = before.finding(a, as_of) if old not in _NOT_A_FINDING else None
    fb = after.finding(b, as_of) if new not in _NOT_A_FINDING else None
    change = _change(old, new, fa, fb)
    if change is None:
        return None
    now = fb or (after.finding(b, as_of) if b is not None else None)
    before_ = fa or (before.finding(a, as_of) if a is not None else None)
    shown = now or before_
    return ImpactEntry(change, k[0], shown.title, k[1], k[2], shown.org_no, old, new,
                       fa.owner if fa else None, fb.owner if fb else None, shown.level, tuple((fb or fa).missing),
                       dict(shown.evidence), dict(before_.evidence) if before_ and now else {})


def _outcome_name(o: Outcome | None) -> str:
    return ABSENT if o is None else OUTCOME_NAMES[o.value]


def _change(old: str, new: str, fa: Finding | None, fb: Finding | None) -> str | None:
    if fa is None and fb is None:
        return None
    if fa is None:
        return "appears"
    if fb is None:
        return "disappears"
    if old != new:
        return "changes"
    return "reassigned" if fa.owner != fb.owner else None
