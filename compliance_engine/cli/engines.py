"""Which backend evaluates a `compliance run`, and running the SQL engines (docs/batch.md).

`auto` picks DuckDB when the case files total at least `AUTO_DUCKDB_BYTES` and every rule has a
SQL translation, else the Python engine, and says which and why on stderr. An explicit
`--engine duckdb|spark` never falls back: untranslatable rules stop the run (E0601).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

ENGINES = ("auto", "python", "duckdb", "spark")
AUTO_DUCKDB_BYTES = 16 * 1024 * 1024  # below this, starting DuckDB costs more than it saves


@dataclass
class EngineSettings:
    progress: bool | None = None
    memory_limit: str = "1GB"
    workdir: str | None = None
    spark_master: str = "local[2]"

    def __post_init__(self) -> None:
        from ..backends.sql.batch import checked_size

        try:
            checked_size(self.memory_limit)
        except ValueError:
            raise click.UsageError(f"--memory-limit: 不是内存大小 {self.memory_limit!r}（例如 1GB、512MB）") from None


def choose_engine(engine: str, rulebooks, files: list[tuple[Path, object]]) -> str:
    if engine != "auto":
        return engine
    from ..backends.sql import check_sql

    size = sum(Path(p).stat().st_size for p, _ in files)
    if size < AUTO_DUCKDB_BYTES:
        choice, why = "python", f"输入 {_mb(size)} < {_mb(AUTO_DUCKDB_BYTES)}"
    elif check_sql(rulebooks.plan):
        choice, why = "python", "有规则无法译为 SQL（compliance check 可见 E0601）"
    else:
        choice, why = "duckdb", f"输入 {_mb(size)} ≥ {_mb(AUTO_DUCKDB_BYTES)}"
    click.echo(f"引擎 auto → {choice}（{why}）", err=True)
    return choice


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def evaluate_with(engine: str, rulebooks, files, as_of, include_passed: bool, settings: EngineSettings):
    """(run, findings) from a SQL engine; raises RulebookError for untranslatable rules."""
    from .progress import ProgressDisplay

    display = ProgressDisplay(settings.progress)
    if engine == "spark":
        _spark_available()
        from ..backends.sql.spark_runner import evaluate_files as spark_files

        run, findings = spark_files(rulebooks, files, as_of, include_passed, master=settings.spark_master,
                                    progress=display.callbacks())
    else:
        from ..backends.sql import BatchOptions, evaluate_files

        options = BatchOptions(workdir=settings.workdir, memory_limit=settings.memory_limit)
        run, findings = evaluate_files(rulebooks, files, as_of, include_passed, options, display.callbacks())
    for path in run.python_read:
        click.echo(f"注意：DuckDB 无法按严格 CSV/JSONL 规则解析 {path}，已由 Python 读取器读取（结果相同，较慢）", err=True)
    return run, findings


def _spark_available() -> None:
    """A usage error, not a traceback, when Spark's Python package or Java is missing."""
    import importlib.util
    import os
    import shutil

    if importlib.util.find_spec("pyspark") is None:
        raise click.UsageError("--engine spark 需要 pyspark：pip install 'compliance-engine[spark]'")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise click.UsageError("--engine spark 需要 Java 17+（Debian: apt-get install -y openjdk-17-jre-headless）")
