"""An on-disk cache of checked rulebooks, keyed by the content of every file they were read from.

The key covers the files named (and, through the stored entry, every imported file), the
grammar and the package version, so any edit misses the cache. Entries are pickles written by
this user for this user (`$COMPLIANCE_CACHE_DIR`, default `~/.cache/compliance_engine`); a
cache that cannot be read or written is simply not used.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from .loader import expand
from .syntax.parser import grammar_text


def _directory() -> Path:
    return Path(os.environ.get("COMPLIANCE_CACHE_DIR", Path.home() / ".cache" / "compliance_engine"))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=1)
def _version() -> str:
    """The package version and a digest of its code: a changed model class must miss the cache."""
    try:
        version = metadata.version("compliance-engine")
    except metadata.PackageNotFoundError:
        version = "source"
    h = hashlib.sha256(version.encode())
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()


def _key(paths) -> str | None:
    h = hashlib.sha256(grammar_text().encode() + _version().encode())
    try:
        for p in expand(paths):
            h.update(str(p).encode() + b"\\0" + p.read_bytes())
    except OSError:
        return None
    return h.hexdigest()


def lookup(paths):
    key = _key(paths)
    if key is None:
        return None
    try:
        with open(_directory() / f"{key}.pickle", "rb") as f:
            files, result = pickle.load(f)
        if all(_digest(Path(p).read_bytes()) == digest for p, digest in files.items()):
            return result
    except Exception:  # a missing, stale or unreadable entry is a miss
        return None
    return None


def store(paths, result) -> None:
    key = _key(paths)
    if key is None:
        return
    try:
        files = {p: _digest(s.text.encode("utf-8")) for p, s in result.sources.items()}
        directory = _directory()
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f"{key}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            pickle.dump((files, result), f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(directory / f"{key}.pickle")
    except Exception:
        return
