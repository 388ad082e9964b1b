"""compliance_engine: rules-as-data compliance checking for power-supply marketing and service.

The public API (see docs/api.md):

- `load_rulebooks(paths)` → `Rulebooks`: check and compile once; `.evaluate(record, kind, as_of)`
  → list of `Finding`; `.evaluate_batch(records_by_kind, as_of)` → iterator of `Finding`.
- `check(paths)` → `CheckResult` with every diagnostic (errors and warnings).
- `Finding`, `Diagnostic`, `RulebookError`, `RecordValueError`.
"""

from .api import CheckResult, Rulebooks, check, load_rulebooks
from .coerce import RecordValueError
from .diagnostics import Diagnostic
from .errors import ComplianceError, EvaluationError, RulebookError
from .findings import CONTRACT_VERSION, Finding

__all__ = [
    "CONTRACT_VERSION", "CheckResult", "ComplianceError", "Diagnostic", "EvaluationError", "Finding",
    "RecordValueError", "RulebookError", "Rulebooks", "check", "load_rulebooks",
]
