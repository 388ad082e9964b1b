"""Masking personal data in what notices show: names, phone numbers, ID numbers, addresses.

Owns the patterns (one table, `PATTERNS`, tried in order) and the masking of free text and of
record fields. Persons of the org directory are masked by `responsibility.PersonRef.masked`
(same style: 王**, 139****0083); this module masks what records carry (caller names, phone
numbers and addresses in complaint text …). Renderers mask by default; `--unmask` skips it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_CJK = "[\u4e00-\u9fff]"


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***; a title such as 黄先生 keeps its title (黄先生 is not a name)."""
    if len(name) <= 1:
        return name
    if name.endswith(("先生", "女士", "小姐", "师傅")):
        return name
    return name[0] + "*" * (len(name) - 1)


def _phone(m: re.Match) -> str:
    return m.group(1) + "****" + m.group(3)


def _id_number(m: re.Match) -> str:
    s = m.group(0)
    return s[:6] + "*" * (len(s) - 10) + s[-4:]


def _landline(m: re.Match) -> str:
    return m.group(1) + "****" + m.group(2)[-2:]


def _address(m: re.Match) -> str:
    return m.group(1) + "***"


def _labelled_name(m: re.Match) -> str:
    return m.group(1) + mask_name(m.group(2))


# (name, pattern, replacement), tried in this order: ID numbers before phone numbers (an ID
# number contains 11-digit runs), addresses before labelled names.
PATTERNS: list[tuple[str, re.Pattern, Callable[[re.Match], str]]] = [
    ("id_number", re.compile(r"(?<!\d)[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?!\d)"),
     _id_number),
    ("mobile", re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)"), _phone),
    ("landline", re.compile(r"(?<!\d)(0\d{2,3}-?)(\d{7,8})(?!\d)"), _landline),
    # 省/市/区/县 … 街道/镇/乡/路/街 kept; the door number, building, unit, room hidden.
    ("address", re.compile(rf"((?:{_CJK}{{1,8}}(?:省|自治区))?(?:{_CJK}{{1,8}}市)?(?:{_CJK}{{1,8}}(?:区|县))?"
                           rf"{_CJK}{{1,12}}(?:街道|镇|乡|路|街|大道|巷|村))"
                           rf"(?:{_CJK}{{0,12}}?)(?:\d+|[一二三四五六七八九十百]+)(?:号|弄|栋|幢|单元|室|组|楼)"
                           rf"(?:[\d一二三四五六七八九十A-Za-z\-]+(?:号|弄|栋|幢|单元|室|楼|层))*"), _address),
    # a name after a label and a colon: 联系人：张三 → 联系人：张*
    ("labelled_name", re.compile(rf"((?:客户|用户|户主|联系人|姓名|来电人|报修人|投诉人|申请人)[:：]\s*)({_CJK}{{2,4}})(?!{_CJK})"),
     _labelled_name),
]

NAME_FIELDS = ("name", "姓名", "联系人")  # a record field whose name contains one of these holds a name


def mask_text(text: str) -> str:
    """Free text with every personal-data pattern masked."""
    for _, pattern, replace in PATTERNS:
        text = pattern.sub(replace, text)
    return text


def mask_value(field: str, value: Any) -> Any:
    """A record field's JSON value masked: name fields by `mask_name`, other text by `mask_text`."""
    if isinstance(value, list):
        return [mask_value(field, v) for v in value]
    if not isinstance(value, str):
        return value
    if any(n in field.lower() for n in NAME_FIELDS):
        return mask_name(value)
    return mask_text(value)


def mask_fields(values: dict[str, Any]) -> dict[str, Any]:
    return {k: mask_value(k, v) for k, v in values.items()}
