"""Record kinds: the typed schemas of case records (records.md), as the checker hands them on."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field

from .source import Span
from .types import Type


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a record kind. `optional` fields may be empty (null) in real exports."""

    name: str
    type: Type
    optional: bool = False
    key: bool = False
    label: str = ""
    span: Span | None = dc_field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class RecordKind:
    """A record schema: `record ticket "95598 工单" { ... }`."""

    name: str
    fields: tuple[Field, ...]
    label: str = ""
    span: Span | None = dc_field(default=None, compare=False)
    _keys: tuple[str, ...] = dc_field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        keys = tuple(f.name for f in self.fields if f.key)
        object.__setattr__(self, "_keys", keys or tuple(f.name for f in self.fields))

    def field(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def key_fields(self) -> tuple[str, ...]:
        """The fields that identify one record; all fields when none is marked `key`."""
        return self._keys

    def record_key(self, record: dict) -> str:
        """A record's key as text: key values joined by '|' in declared order."""
        return "|".join("" if (v := record.get(k)) is None else str(v) for k in self._keys)
