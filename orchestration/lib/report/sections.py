"""What a page is made of: `Page`, the `@section` decorator, reading the serving file, and the small HTML pieces
sections share. Page modules import this; `pages` imports the page modules (so nothing imports back).

A section is a function `(con) -> html` decorated with `@section("Heading")`. It reads one `marts.rpt_*` model (or a
mart) through `con` after `require_tables`, and only draws: every number comes from a dbt model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

from orchestration.lib.report.charts import NOT_SET, colour_for
from orchestration.lib.report.html import Markup, part
from orchestration.lib.sql import table_names

SCHEMA = "marts"

SectionFn = Callable[[duckdb.DuckDBPyConnection], str]


@dataclass(frozen=True)
class Page:
    slug: str  # the in-page anchor: `#<slug>`
    title: str
    sections: tuple[SectionFn, ...]
    intro: str = ""


class MissingTable(Exception):
    """A section needs a table the serving file does not have (yet)."""

    def __init__(self, tables: Sequence[str]):
        super().__init__(", ".join(tables))
        self.tables = tuple(tables)


def section(title: str, slug: str | None = None) -> Callable[[SectionFn], SectionFn]:
    """Give a section function its card heading (and anchor); the function itself stays `(con) -> html`."""

    def decorate(fn: SectionFn) -> SectionFn:
        fn.section_title = title  # type: ignore[attr-defined]
        fn.section_slug = slug or fn.__name__.replace("_", "-")  # type: ignore[attr-defined]
        return fn

    return decorate


def mart_tables(con: duckdb.DuckDBPyConnection, schema: str = SCHEMA) -> list[str]:
    return table_names(con, schema)


def require_tables(con: duckdb.DuckDBPyConnection, *tables: str, schema: str = SCHEMA) -> None:
    """Raise MissingTable (shown as a note on the card) unless every `<schema>.<table>` exists."""
    present = set(mart_tables(con, schema))
    missing = [f"{schema}.{t}" for t in tables if t not in present]
    if missing:
        raise MissingTable(missing)


def month_label(month: date | str) -> str:
    """ "YYYY-MM" of a month's first day (the rpt models carry months as dates)."""
    return month.strftime("%Y-%m") if isinstance(month, date) else str(month)[:7]


def month_span(months: Sequence[str]) -> list[str]:
    """Every month "YYYY-MM" from the first to the last given, so months without data show as gaps."""
    if not months:
        return []
    first, last = min(months), max(months)
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def table_html(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[bool], foot: Sequence[Any] = ()
) -> Markup:
    """An HTML table: a cell is text (escaped) or Markup (e.g. `channel_cell`, kept as it is)."""
    return part("table", headers, rows, numeric, foot)


def channel_cell(name: str | None) -> Markup:
    label = NOT_SET if name is None or not str(name).strip() else str(name)
    return part("channel_cell", label, colour_for(label))


def note(text: str, warn: bool = False) -> Markup:
    return part("note", text, warn)


def empty(text: str) -> Markup:
    return part("empty", text)


def text_or_dash(value: object) -> object:
    return value if value not in (None, "") else part("dash")
