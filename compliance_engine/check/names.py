"""Did-you-mean suggestions for unknown names."""

from __future__ import annotations

import difflib
from typing import Iterable


def closest(name: str, candidates: Iterable[str]) -> str | None:
    pool = sorted(set(candidates))
    matches = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    # Short CJK names: a shared character is a better signal than edit ratio.
    shared = [c for c in pool if len(name) <= 4 and set(name) & set(c) and abs(len(c) - len(name)) <= 1]
    return shared[0] if len(shared) == 1 else None


def did_you_mean(name: str, candidates: Iterable[str], fallback: str = "") -> str:
    best = closest(name, candidates)
    return f"是否要写 `{best}`？" if best else fallback
