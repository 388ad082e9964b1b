"""Renderings of a `NoticeSet` (compliance_engine/notices.py): one module per format.

`write_notices(notice_set, out_dir, formats)` writes `<number>.<ext>` per notice and format,
`summary.{md,html,json}`, `tasks.md` and `routing_gaps.md` (docs/notices.md § Files).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from ..notices import NoticeSet, WarningNotice

FORMATS: tuple[str, ...] = ("md", "html", "docx", "json")


def _md(n: WarningNotice) -> bytes:
    from . import markdown
    return markdown.notice(n).encode("utf-8")


def _html(n: WarningNotice) -> bytes:
    from . import html
    return html.notice(n).encode("utf-8")


def _docx(n: WarningNotice) -> bytes:
    from . import word  # python-docx is imported only when Word files are asked for
    return word.render(n)


def _json(n: WarningNotice) -> bytes:
    from .jsonfile import dump
    return dump(n).encode("utf-8")


NOTICE_RENDERERS: dict[str, Callable[[WarningNotice], bytes]] = {"md": _md, "html": _html, "docx": _docx, "json": _json}


def run_files(s: NoticeSet) -> dict[str, str]:
    """The files about the whole run: summary in three formats, tasks, routing gaps."""
    from . import html, markdown
    from .jsonfile import dump
    return {"summary.md": markdown.summary(s), "summary.html": html.summary(s), "summary.json": dump(s),
            "tasks.md": markdown.tasks(s), "routing_gaps.md": markdown.routing_gaps(s)}


def write_notices(s: NoticeSet, out_dir: str | Path, formats: Iterable[str] = FORMATS) -> list[Path]:
    """Write every file; returns their paths in the order written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for n in s.notices:
        for fmt in formats:
            written.append(out / f"{n.number}.{fmt}")
            written[-1].write_bytes(NOTICE_RENDERERS[fmt](n))
    for name, text in run_files(s).items():
        written.append(out / name)
        written[-1].write_bytes(text.encode("utf-8"))
    return written
