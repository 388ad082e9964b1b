"""JSON rendering: the notice set and each notice as the documented schema (docs/notices.md)."""

from __future__ import annotations

from pydantic import BaseModel


def dump(model: BaseModel) -> str:
    """Stable JSON: field order of the models, keys of evidence as in the finding, UTF-8 text."""
    return model.model_dump_json(indent=2) + "\n"
