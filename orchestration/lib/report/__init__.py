"""The HTML report (`report/index.html`): one self-contained file with inline SVG charts, drawn from the published
marts in the serving file. It works offline: no CDN, no web fonts, no script.

Every number it shows comes from a dbt model (`marts.rpt_*`, dbt_project/models/marts/report/, or a mart); the
report only reads and draws. HTML goes through Jinja2 templates with autoescaping (`html`, `templates/`).
`write_report` renders `pages.PAGES` in order; see `sections` for how to write a page and `charts` for the builders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.lib.files import atomic_write_text
from orchestration.lib.report.charts import (
    colour_for,
    format_value,
    heatmap,
    horizontal_bar_chart,
    line_chart,
    stacked_bar_chart,
)
from orchestration.lib.report.html import safe
from orchestration.lib.report.pages import PAGES, render_page
from orchestration.lib.report.quality import refused_banner
from orchestration.lib.report.sections import Page, note, section
from orchestration.lib.report.template import render_document, render_run_summary

__all__ = [
    "PAGES",
    "Page",
    "colour_for",
    "format_value",
    "heatmap",
    "horizontal_bar_chart",
    "line_chart",
    "section",
    "stacked_bar_chart",
    "write_report",
]


class ReportError(Exception):
    pass


def write_report(
    serving_path: Path,
    out_path: Path,
    run_summary: Mapping[str, object] | None = None,
    *,
    pages: Sequence[Page] | None = None,
) -> Path:
    """Reads the published marts from serving_path (DuckDB file, schema `marts`), writes a single
    self-contained HTML file at out_path (creating parent dirs), returns out_path.

    The serving file is opened read-only and closed before the HTML is written: BI readers share it and a
    reader blocks the next publish. A missing file or table is shown in the report; a serving file that exists
    but cannot be opened raises ReportError, so the last good report is not replaced by an empty one.
    """
    serving_path, out_path = Path(serving_path), Path(out_path)
    pages = PAGES if pages is None else list(pages)
    lead = render_run_summary(run_summary)
    problem = ""
    con = None
    try:
        if serving_path.exists():
            try:
                con = duckdb.connect(str(serving_path), read_only=True)
            except duckdb.Error as exc:
                raise ReportError(
                    f"the serving file {serving_path} cannot be opened ({exc}); the report was kept"
                ) from exc
        else:
            problem = f"No serving file yet at {serving_path}."
        banner = refused_banner(con) if con is not None else ""
        body = safe(banner, *(render_page(page, con, lead if i == 0 else "") for i, page in enumerate(pages)))
    finally:
        if con is not None:
            con.close()
    if problem:
        body = safe(note(problem, warn=True), body)

    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    document = render_document(
        title="closedloop report",
        subtitle=f"Published marts from {serving_path.name} · generated {generated}",
        nav=[(page.slug, page.title) for page in pages],
        body=body,
        footer=f"closedloop · generated {generated} from {serving_path.name} (schema marts). "
        "Charts are inline SVG; each has its data table underneath.",
    )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # write then rename, so a browser never opens a half-written report
    atomic_write_text(out_path, document)
    return out_path
