"""Streaming output: one writer thread per (kind, format) file, fed in chunks through a bounded
queue, each running `compliance_engine.records.write_records` over its queue; so records are
written as they are made and never collected (memory stays flat for any number of records)."""

from __future__ import annotations

import queue
import threading
from pathlib import Path

from compliance_engine.records import write_records

CHUNK = 4096


class _FileSink:
    def __init__(self, path: Path, kind):
        self.path, self.kind = path, kind
        self.q: queue.Queue = queue.Queue(maxsize=4)
        self.buffer: list[dict] = []
        self.error: BaseException | None = None
        self.count = 0
        self.thread = threading.Thread(target=self._run, name=f"write {path.name}", daemon=True)
        self.thread.start()

    def _rows(self):
        while True:
            chunk = self.q.get()
            if chunk is None:
                return
            yield from chunk

    def _run(self) -> None:
        try:
            self.count = write_records(self.path, self.kind, self._rows())
        except BaseException as e:  # noqa: BLE001 - handed to the producer in close()
            self.error = e
            while self.q.get() is not None:  # keep draining so the producer never blocks
                pass

    def put(self, record: dict) -> None:
        self.buffer.append(record)
        if len(self.buffer) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.q.put(self.buffer)
            self.buffer = []

    def close(self) -> int:
        self.flush()
        self.q.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.count


class Sinks:
    """All output files: `<out>/<kind>.<format>` for every wanted kind and format."""

    def __init__(self, out: Path, formats: list[str], kinds: dict, wanted: set[str]):
        self.files: dict[str, list[_FileSink]] = {}
        for name in sorted(wanted):
            self.files[name] = [_FileSink(out / f"{name}.{fmt}", kinds[name]) for fmt in formats]
        self.counts: dict[str, int] = {name: 0 for name in sorted(wanted)}

    def put(self, kind: str, record: dict) -> None:
        files = self.files.get(kind)
        if files is None:
            return
        self.counts[kind] += 1
        for f in files:
            f.put(record)

    def close(self) -> dict[str, int]:
        error = None
        for files in self.files.values():
            for f in files:
                try:
                    f.close()
                except BaseException as e:  # noqa: BLE001
                    error = error or e
        if error is not None:
            raise error
        return self.counts
