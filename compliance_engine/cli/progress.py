"""The progress bar of long batch runs (rich, on stderr): one line per case file read, one bar per
record kind evaluated. Shown when stderr is a terminal, or when asked with `--progress`."""

from __future__ import annotations

import sys
from pathlib import Path

from ..backends.sql import Progress


class ProgressDisplay:
    def __init__(self, enabled: bool | None = None):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bars, TextColumn, TimeElapsedColumn

        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.bars = Bars(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                         console=Console(stderr=True), disable=not self.enabled, transient=False)
        self.tasks: dict[str, int] = {}

    def callbacks(self) -> Progress:
        if not self.enabled:
            return Progress()
        self.bars.start()
        return Progress(file_read=self._file_read, kind_started=self._kind_started, rows_done=self._rows_done,
                        finished=self.bars.stop)

    def _file_read(self, path: Path, rows: int) -> None:
        self.bars.add_task(f"读取 {path.name}", total=rows, completed=rows)

    def _kind_started(self, kind: str, rows: int) -> None:
        self.tasks[kind] = self.bars.add_task(f"评估 {kind}", total=rows)

    def _rows_done(self, kind: str, rows: int) -> None:
        self.bars.advance(self.tasks[kind], rows)
