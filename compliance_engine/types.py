"""The value types of the rulebook language and how they combine.

A `Type` is immutable and hashable. Record fields, facts, lets, aggregates and every
expression node get one from the checker; backends read them to choose representations
(money is always `decimal.Decimal`, never float).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    TEXT = "text"
    INT = "int"
    DECIMAL = "decimal"
    MONEY = "money"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"
    DURATION = "duration"
    MONTH = "month"
    ENUM = "enum"
    LIST = "list"
    NUMBER = "number"  # an untyped numeric literal: adapts to int, decimal or money
    EMPTY = "empty"  # the literal `empty`: fits any type
    ERROR = "error"  # after a reported error; silences follow-up errors


@dataclass(frozen=True, slots=True)
class EnumType:
    """A named (or inline) enumeration; members keep their declared order."""

    name: str
    members: tuple[str, ...]

    def __contains__(self, member: object) -> bool:
        return member in self.members


@dataclass(frozen=True, slots=True)
class Type:
    """A language type.

    `enum` is set for ENUM, `item` for LIST, `calendar` for DURATION values measured in
    calendar months/years (they only make sense added to a date, datetime or month).
    """

    kind: Kind
    enum: EnumType | None = None
    item: Type | None = None
    calendar: bool = False

    def __str__(self) -> str:
        if self.kind is Kind.ENUM and self.enum is not None:
            return f"enum {self.enum.name}"
        if self.kind is Kind.LIST and self.item is not None:
            return f"list of {self.item}"
        if self.kind is Kind.DURATION and self.calendar:
            return "duration (calendar months)"
        if self.kind is Kind.NUMBER:
            return "数字常量"
        return self.kind.value

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def is_temporal(self) -> bool:
        return self.kind in (Kind.DATE, Kind.DATETIME)


NUMERIC_KINDS = frozenset({Kind.INT, Kind.DECIMAL, Kind.MONEY, Kind.NUMBER})

TEXT = Type(Kind.TEXT)
INT = Type(Kind.INT)
DECIMAL = Type(Kind.DECIMAL)
MONEY = Type(Kind.MONEY)
BOOL = Type(Kind.BOOL)
DATE = Type(Kind.DATE)
DATETIME = Type(Kind.DATETIME)
DURATION = Type(Kind.DURATION)
CALENDAR_DURATION = Type(Kind.DURATION, calendar=True)
MONTH = Type(Kind.MONTH)
NUMBER = Type(Kind.NUMBER)
EMPTY = Type(Kind.EMPTY)
ERROR = Type(Kind.ERROR)

SCALARS: dict[str, Type] = {
    "text": TEXT,
    "int": INT,
    "decimal": DECIMAL,
    "money": MONEY,
    "bool": BOOL,
    "date": DATE,
    "datetime": DATETIME,
    "duration": DURATION,
    "month": MONTH,
}


def list_of(item: Type) -> Type:
    return Type(Kind.LIST, item=item)


def enum_of(enum: EnumType) -> Type:
    return Type(Kind.ENUM, enum=enum)


def numeric_join(a: Type, b: Type) -> Type | None:
    """The result type of `a + b` / `a - b` for numbers, or None when they must not mix.

    Money only mixes with money and with untyped literals: adding kWh to yuan is a mistake.
    """
    if a.kind is Kind.NUMBER:
        return b
    if b.kind is Kind.NUMBER:
        return a
    if a.kind is Kind.MONEY or b.kind is Kind.MONEY:
        return MONEY if a.kind is b.kind else None
    if a.kind is Kind.INT and b.kind is Kind.INT:
        return INT
    return DECIMAL


def comparable(a: Type, b: Type) -> bool:
    """Whether `a < b` (and `==`) is meaningful."""
    if Kind.ERROR in (a.kind, b.kind) or Kind.EMPTY in (a.kind, b.kind):
        return True
    if a.is_numeric and b.is_numeric:
        return numeric_join(a, b) is not None
    if a.is_temporal and b.is_temporal:
        return True
    if a.kind is Kind.ENUM and b.kind is Kind.ENUM:
        return a.enum == b.enum
    return a.kind is b.kind
