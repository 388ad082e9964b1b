"""Findings written as Parquet, streamed in row groups (JSONL is written line by line by the CLI).

One row per finding with the contract's fields (docs/findings.md): scalars as columns,
`missing` as a list of strings, `group` and `evidence` as JSON text (their values have no one
column type), `as_of` as an ISO-8601 string. Memory stays bounded by `ROW_GROUP` findings.
"""

from __future__ import annotations

import json
from pathlib import Path

from .findings import Finding

FINDINGS_FORMATS = ("jsonl", "parquet")
ROW_GROUP = 50_000
_SCALARS = ("contract", "rule", "title", "rulebook", "rulebook_version", "record_kind", "record_key", "outcome",
            "level", "category", "link", "owner", "supervisor", "deadline", "org_no")


def _schema():
    import pyarrow as pa

    fields = [pa.field(name, pa.string()) for name in _SCALARS]
    fields += [pa.field("missing", pa.list_(pa.string())), pa.field("group", pa.string()),
               pa.field("evidence", pa.string()), pa.field("as_of", pa.string())]
    return pa.schema(fields)


class ParquetFindingsWriter:
    def __init__(self, path: str | Path):
        import pyarrow.parquet as pq

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.schema = _schema()
        self.writer = pq.ParquetWriter(str(path), self.schema, compression="zstd")
        self.rows: list[dict] = []
        self.count = 0

    def write(self, finding: Finding) -> None:
        data = finding.model_dump(mode="json")
        row = {name: data[name] for name in _SCALARS}
        row["missing"] = data["missing"]
        row["group"] = None if data["group"] is None else json.dumps(data["group"], ensure_ascii=False)
        row["evidence"] = json.dumps(data["evidence"], ensure_ascii=False)
        row["as_of"] = data["as_of"]
        self.rows.append(row)
        if len(self.rows) >= ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self.rows:
            self.writer.write_table(pa.Table.from_pylist(self.rows, schema=self.schema))
            self.count += len(self.rows)
            self.rows = []

    def close(self) -> None:
        self._flush()
        self.writer.close()
