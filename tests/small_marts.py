"""A small build warehouse of published marts, and their docs, for the publishing and export tests."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.lib.serving_docs import TableDoc

DOCS = {
    "marts.dim_things": TableDoc(
        "One row per thing (key `thing_id`).", {"thing_id": "The thing.", "size": "Its size."}, ("thing_id",), True
    ),
    "marts.fct_events": TableDoc("One row per event × kind.", {"kind": "Kind of event."}, ("event_id", "kind"), False),
    "marts.fct_attribution": TableDoc("One row per conversion × path touch × model.", {"share": "The touch's share."}),
}


def write_warehouse(path: Path) -> Path:
    """Two marts, a quality table that is published and one that is not."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema quality")
        con.execute("create table marts.dim_things as select 't' || i as thing_id, i as size from range(5) r(i)")
        con.execute(
            "create table marts.fct_events as select i as event_id, case when i % 2 = 0 then 'a' end as kind"
            " from range(4) r(i)"
        )
        con.execute("create table quality.runs (run_id varchar, status varchar)")
        con.execute("create table quality.quarantined_keys (dataset varchar)")  # working state: not published
    return path
