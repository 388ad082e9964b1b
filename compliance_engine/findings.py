"""The findings contract: one JSON object per (rule, record or group). Stable and versioned.

Bump `CONTRACT_VERSION` on any change that could break a consumer (see docs/findings.md).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_serializer

from .values import CalendarDuration, Month

CONTRACT_VERSION = "1.0"
Outcome = Literal["fired", "passed", "undetermined"]


def json_value(value: Any) -> Any:
    """A value as JSON: exact decimals as strings, times as ISO-8601, durations as ISO-8601."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Month):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return iso_duration(value)
    if isinstance(value, CalendarDuration):
        return f"P{value.months}M"
    if isinstance(value, (tuple, list, frozenset, set)):
        return [json_value(v) for v in value]
    return str(value)


def iso_duration(d: timedelta) -> str:
    seconds = int(d.total_seconds())
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    return f"{sign}P{days}D" * bool(days) + (f"T{time}" if time else "") if days else f"{sign}PT{time or '0S'}"


class Finding(BaseModel):
    """One rule's outcome for one record (or one group of records)."""

    model_config = ConfigDict(frozen=True)

    contract: str = CONTRACT_VERSION
    rule: str
    title: str
    rulebook: str
    rulebook_version: str
    record_kind: str
    record_key: str
    group: dict[str, Any] | None = None
    outcome: Outcome
    missing: list[str] = []
    evidence: dict[str, Any] = {}
    level: str
    category: str = ""
    link: str | None = None
    owner: str = ""
    supervisor: str | None = None
    deadline: str | None = None
    org_no: str | None = None
    as_of: datetime | None = None

    @field_serializer("evidence", "group")
    def _values(self, values: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if values is None else {k: json_value(v) for k, v in values.items()}


_FINDING_FIELDS = frozenset(Finding.model_fields)


def make_finding(values: dict) -> Finding:
    """A Finding from values the engine built itself (already of the right types).

    What `Finding.model_construct` does, without its per-field bookkeeping: findings are made
    by the million in batch runs. `values` must name every field.
    """
    finding = object.__new__(Finding)
    object.__setattr__(finding, "__dict__", values)
    object.__setattr__(finding, "__pydantic_fields_set__", set(_FINDING_FIELDS))  # model_copy adds to it
    object.__setattr__(finding, "__pydantic_extra__", None)
    object.__setattr__(finding, "__pydantic_private__", None)
    return finding


class Rejection(BaseModel):
    """An input record that was not evaluated, with the reason and where it came from."""

    model_config = ConfigDict(frozen=True)

    record_kind: str
    source: str
    line: int
    reason: str
