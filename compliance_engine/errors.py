"""The exceptions of the public API. Stages report diagnostics; only API edges raise."""

from __future__ import annotations

from .diagnostics import Diagnostic, render_all
from .source import Source


class ComplianceError(Exception):
    """Base of every error this package raises on purpose."""


class RulebookError(ComplianceError):
    """A rulebook did not parse or check; carries every diagnostic found in the run."""

    def __init__(self, diagnostics: list[Diagnostic], sources: dict[str, Source] | None = None):
        self.diagnostics = diagnostics
        self.sources = sources or {}
        super().__init__(render_all(diagnostics, self.sources))


class EvaluationError(ComplianceError):
    """Evaluation was asked for something it cannot do (e.g. a record of an unknown kind)."""
