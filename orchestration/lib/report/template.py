"""The page shell of the report (templates/document.html.j2 with the inline templates/report.css), and the run
summary at the top of the first page. Nothing is loaded from outside the file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from orchestration.lib.report.charts import FONT_STACK, format_value
from orchestration.lib.report.html import Markup, render


def render_run_summary(run_summary: Mapping[str, object] | None) -> Markup:
    """The last run, as the orchestrator reported it: id, finish time, rows loaded per source, marts built."""
    if not run_summary:
        return Markup("")
    facts = [
        (key.replace("_", " "), value)
        for key, value in run_summary.items()
        if key not in ("rows_loaded", "marts") and not isinstance(value, (Mapping, list, tuple, set))
    ]
    rows_loaded = run_summary.get("rows_loaded")
    loaded = [(name, _count(n)) for name, n in rows_loaded.items()] if isinstance(rows_loaded, Mapping) else []
    marts = run_summary.get("marts")
    return render(
        "run_summary.html.j2", facts=facts, rows_loaded=loaded, marts=marts if isinstance(marts, (list, tuple)) else []
    )


def _count(value: object) -> str:
    return format_value(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def render_document(*, title: str, subtitle: str, nav: Sequence[tuple[str, str]], body: str, footer: str) -> str:
    # the font stack's quotes must reach the stylesheet as they are: CSS does not read HTML entities
    return (
        render(
            "document.html.j2",
            title=title,
            subtitle=subtitle,
            nav=nav,
            body=Markup(body),
            footer=footer,
            font_stack=Markup(FONT_STACK),
        )
        + "\n"
    )
