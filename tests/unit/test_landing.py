"""The landing reader against real files and a real DuckDB database."""

from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.lib.landing import LandingError, discover, ensure_raw_tables, load_source

HEADER = "deal_id,lead_id,created_at,updated_at,stage,amount,currency,closed_at,outcome,loss_reason,product,owner"
ROW = "D1,L1,2026-03-05T10:00:00Z,,qualification,100,USD,,open,,crm,alice"
LOADED_AT = datetime(2026, 11, 1, 2, 0)


@pytest.fixture()
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_raw_tables(connection)
    yield connection
    connection.close()


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def load(con, source, *paths, **kwargs):
    return load_source(con, source, list(paths), run_id="test", loaded_at=LOADED_AT, **kwargs)


def test_loads_every_column_as_text_with_lineage(con, tmp_path):
    path = write(
        tmp_path / "deals" / "d.csv", f'{HEADER}\n{ROW}\nD2,L2,2026-03-06,,proposal,"1,5",EUR,,open,,crm,bob\n'
    )
    result = load(con, "deals", path)
    assert result.rows == 2 and result.files_loaded == ["d.csv"]
    rows = con.execute(
        "select deal_id, amount, _source_file, _row_number, _loaded_at from raw.deals order by 1"
    ).fetchall()
    assert rows == [("D1", "100", "d.csv", 1, LOADED_AT), ("D2", "1,5", "d.csv", 2, LOADED_AT)]
    types = dict(con.execute("select column_name, column_type from (describe raw.deals)").fetchall())
    assert types["amount"] == "VARCHAR" and types["_row_number"] == "BIGINT"


def test_row_numbers_follow_the_file_when_it_is_read_in_parallel(con, tmp_path):
    # about 70 MB: DuckDB splits a CSV file this big between its threads; each row's number must still be its line's
    con.execute("set threads = 4")
    rows = 800_000
    body = "".join(
        f"D{n},L{n},2026-03-05T10:00:00Z,,qualification,{n % 997},USD,,open,,crm,{'x' * 20}\n"
        for n in range(1, rows + 1)
    )
    path = write(tmp_path / "deals" / "big.csv", f"{HEADER}\n{body}")
    assert load(con, "deals", path).rows == rows
    misplaced = con.execute(
        "select count(*) from raw.deals where _row_number <> cast(substr(deal_id, 2) as bigint)"
    ).fetchall()
    assert misplaced == [(0,)]
    assert con.execute("select count(*) from duckdb_tables() where table_name = '_landing_file'").fetchall() == [(0,)]


def test_bom_header_case_blank_lines_and_extra_columns(con, tmp_path):
    text = "\ufeff" + HEADER.upper().replace("OWNER", " Owner ") + ",crm_score\n\n" + ROW + ",87\n\n"
    path = write(tmp_path / "deals" / "d.csv", text)
    assert load(con, "deals", path).rows == 1
    assert con.execute("select deal_id, owner, _extra from raw.deals").fetchone() == (
        "D1",
        "alice",
        '{"crm_score":"87"}',
    )


def test_same_content_is_loaded_once_even_renamed(con, tmp_path):
    first = write(tmp_path / "deals" / "a.csv", f"{HEADER}\n{ROW}\n")
    again = write(tmp_path / "deals" / "b.csv", f"{HEADER}\n{ROW}\n")
    assert load(con, "deals", first).rows == 1
    second = load(con, "deals", first, again)
    assert second.rows == 0 and second.files_skipped == ["a.csv", "b.csv"]
    assert con.execute("select count(*) from raw.deals").fetchone()[0] == 1


def test_missing_required_column_names_file_and_likely_rename(con, tmp_path):
    path = write(tmp_path / "deals" / "d.csv", HEADER.replace("amount", "amount_usd") + "\n" + ROW + "\n")
    with pytest.raises(LandingError) as error:
        load(con, "deals", path)
    message = str(error.value)
    assert "d.csv" in message and "amount" in message and "'amount_usd'" in message and "renamed" in message
    assert con.execute("select count(*) from raw.deals").fetchone()[0] == 0


def test_ragged_row_names_its_line_and_loads_nothing(con, tmp_path):
    good = write(tmp_path / "deals" / "a.csv", f"{HEADER}\n{ROW}\n")
    bad = write(tmp_path / "deals" / "b.csv", f"{HEADER}\n{ROW.replace('D1', 'D2')}\n{ROW.replace('D1', 'D3')},extra\n")
    with pytest.raises(LandingError) as error:
        load(con, "deals", good, bad)
    assert error.value.line == 3 and "b.csv" in str(error.value) and "expected 12 fields, found 13" in str(error.value)
    # the good file committed on its own; nothing of the bad one
    assert con.execute("select list(deal_id order by deal_id) from raw.deals").fetchone()[0] == ["D1"]
    assert con.execute("select count(*) from raw._loaded_files").fetchone()[0] == 1


def test_unterminated_quote_is_refused(con, tmp_path):
    path = write(tmp_path / "deals" / "d.csv", f'{HEADER}\n{ROW}\nD2,L2,"2026-03-06,,proposal,1,USD,,open,,crm,bob\n')
    with pytest.raises(LandingError) as error:
        load(con, "deals", path)
    assert error.value.line == 3 and "unterminated quote" in str(error.value)


def test_latin1_is_refused_with_a_hint_and_loads_with_the_setting(con, tmp_path):
    path = write(tmp_path / "deals" / "d.csv", (f"{HEADER}\n" + ROW.replace("alice", "andré") + "\n").encode("latin-1"))
    with pytest.raises(LandingError) as error:
        load(con, "deals", path)
    assert "not UTF-8" in str(error.value) and "CLOSEDLOOP_CSV_ENCODING" in str(error.value)
    assert load(con, "deals", path, encoding="latin-1").rows == 1
    assert con.execute("select owner from raw.deals").fetchone()[0] == "andré"


@pytest.mark.parametrize("text", ["", HEADER + "\n"])
def test_empty_file_or_header_only_is_refused(con, tmp_path, text):
    path = write(tmp_path / "deals" / "d.csv", text)
    with pytest.raises(LandingError, match=r"empty|no data rows"):
        load(con, "deals", path)


def test_touchpoints_need_an_identifier_column(con, tmp_path):
    path = write(
        tmp_path / "touchpoints" / "t.csv", "touchpoint_id,occurred_at,touchpoint_type\nt1,2026-01-01,page_view\n"
    )
    with pytest.raises(LandingError, match="at least one of the columns anonymous_id, email, phone"):
        load(con, "touchpoints", path)


def test_phones_normalised_once_per_distinct_value(con, tmp_path):
    text = (
        "touchpoint_id,occurred_at,phone,touchpoint_type\n"
        "t1,2026-01-01,(415) 555-0101,chat\nt2,2026-01-01,+1 415 555 0101,chat\n"
        "t3,2026-01-01,415.555.0101,chat\nt4,2026-01-01,12,chat\nt5,2026-01-01,,chat\n"
    )
    load(con, "touchpoints", write(tmp_path / "touchpoints" / "t.csv", text))
    phones = con.execute("select touchpoint_id, _phone_e164 from raw.touchpoints order by 1").fetchall()
    assert phones == [
        ("t1", "+14155550101"),
        ("t2", "+14155550101"),
        ("t3", "+14155550101"),
        ("t4", None),
        ("t5", None),
    ]


def test_jsonl_and_parquet_load_like_csv(con, tmp_path):
    jsonl = write(
        tmp_path / "deals" / "d.jsonl",
        '{"deal_id": "D1", "lead_id": "L1", "created_at": "2026-03-05", "stage": "proposal", "amount": 10.5,'
        ' "currency": "USD", "outcome": "open", "owner": "alice", "note": "x"}\n',
    )
    table = pa.table({c: [v] for c, v in zip(HEADER.split(","), ROW.replace("D1", "D2").split(","), strict=True)})
    parquet = tmp_path / "deals" / "d.parquet"
    pq.write_table(table, parquet)
    assert load(con, "deals", jsonl, parquet).rows == 2
    rows = con.execute("select deal_id, amount, _extra from raw.deals order by 1").fetchall()
    assert rows == [("D1", "10.5", '{"note":"x"}'), ("D2", "100", None)]


def test_jsonl_syntax_error_is_refused(con, tmp_path):
    path = write(tmp_path / "deals" / "d.jsonl", '{"deal_id": "D1"}\n{"deal_id": \n')
    with pytest.raises(LandingError, match=r"d\.jsonl"):
        load(con, "deals", path)


def test_discover_lists_supported_files_in_order(tmp_path):
    for name in ("b.csv", "a.parquet", "c.jsonl", "notes.txt"):
        write(tmp_path / "leads" / name, "x")
    assert [p.name for p in discover(tmp_path, "leads")] == ["a.parquet", "b.csv", "c.jsonl"]
    assert discover(tmp_path, "orders") == []


def test_a_refused_row_never_travels_with_the_error(con, tmp_path):
    """DuckDB's message quotes the bad line; neither the message nor a chained cause may carry it (run history)."""
    person = "D9,L9,2026-03-05T10:00:00Z,,qualification,100,USD,,open,,crm,secret.person@example.com,extra"
    path = write(tmp_path / "deals" / "d.csv", f"{HEADER}\n{ROW}\n{person}\n")
    with pytest.raises(LandingError) as error:
        load(con, "deals", path)
    assert error.value.line == 3
    chain, exc = [], error.value
    while exc is not None:
        chain.append(str(exc))
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    assert len(chain) == 1 and "secret.person" not in chain[0]


def test_a_line_above_duckdbs_limit_is_refused_with_duckdbs_reason_and_without_its_content(con, tmp_path):
    path = write(tmp_path / "deals" / "d.csv", f"{HEADER}\n{ROW.replace('alice', 'x' * 3_000_000)}\n")
    with pytest.raises(LandingError) as error:
        load(con, "deals", path)
    message = str(error.value)
    assert error.value.line == 2 and "maximum line size of 2,000,000 bytes" in message and "3,000," in message
    assert "xxxx" not in message and len(message) < 1000 and error.value.__context__ is None


def test_the_rename_hint_looks_only_among_columns_the_contract_does_not_know(con, tmp_path):
    header = (
        "lead_id,created_at,email,phone,source_channel,source_campaign,source_detail,first_contact_at,"
        "product_interest,segment,region,lifecycle_stage"
    )  # owner dropped; phone is a contract column
    path = write(tmp_path / "leads" / "l.csv", f"{header}\nL1,2026-03-01,a@b.co,,web,c,d,2026-03-01,x,y,z,new\n")
    with pytest.raises(LandingError) as error:
        load(con, "leads", path)
    assert "owner" in str(error.value) and "renamed" not in str(error.value)
    renamed = write(
        tmp_path / "leads2" / "l.csv", f"{header},owner_name\nL1,2026-03-01,a@b.co,,web,c,d,2026-03-01,x,y,z,new,al\n"
    )
    with pytest.raises(LandingError, match="owner \\(found 'owner_name' — renamed\\?\\)"):
        load(con, "leads", renamed)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_a_nul_byte_is_refused_with_its_row_and_column(con, tmp_path, suffix):
    if suffix == "csv":
        bad = ROW.replace("D1", "D2").replace("crm", "c\x00rm")
        path = write(tmp_path / "deals" / "d.csv", f"{HEADER}\n{ROW}\n{bad}\n")
    else:
        path = tmp_path / "deals" / "d.parquet"
        path.parent.mkdir(parents=True)
        columns = HEADER.split(",")
        values = [ROW.split(","), ROW.replace("D1", "D2").replace("crm", "c\x00rm").split(",")]
        pq.write_table(pa.table({c: [v[i] for v in values] for i, c in enumerate(columns)}), path)
    with pytest.raises(LandingError) as error:
        load(con, "deals", path)
    assert "data row 2, column product" in str(error.value) and "NUL" in str(error.value)
    assert con.execute("select count(*) from raw.deals").fetchone()[0] == 0


def test_a_symbolic_link_out_of_the_landing_zone_is_refused_one_inside_is_read(tmp_path):
    outside = write(tmp_path / "elsewhere" / "secret.csv", f"{HEADER}\n{ROW}\n")
    inside = write(tmp_path / "landing" / "archive" / "d.csv", f"{HEADER}\n{ROW}\n")
    (tmp_path / "landing" / "deals").mkdir()
    (tmp_path / "landing" / "deals" / "a.csv").symlink_to(inside)
    assert [p.name for p in discover(tmp_path / "landing", "deals")] == ["a.csv"]
    (tmp_path / "landing" / "deals" / "b.csv").symlink_to(outside)
    with pytest.raises(LandingError, match=r"b\.csv: a symbolic link to .*outside the landing zone"):
        discover(tmp_path / "landing", "deals")


def test_a_file_is_taken_only_once_it_stopped_changing(tmp_path):
    from orchestration.lib.landing import complete_files

    settled = write(tmp_path / "deals" / "a.csv", f"{HEADER}\n{ROW}\n")
    growing = write(tmp_path / "deals" / "b.csv", f"{HEADER}\n")
    old = 1_000_000_000
    import os

    os.utime(settled, (old, old))
    waited = []

    def writer_keeps_writing(seconds):  # the second look finds b.csv longer
        waited.append(seconds)
        with growing.open("a") as handle:
            handle.write(ROW + "\n")

    ready, deferred = complete_files([settled, growing], 5, sleep=writer_keeps_writing)
    assert ready == [settled] and [p for p, _ in deferred] == [growing] and 0 < waited[0] <= 5
    assert "still being written" in deferred[0][1]
    # unchanged between the looks: taken
    ready, deferred = complete_files([growing], 5, sleep=lambda s: None)
    assert ready == [growing] and deferred == []


def test_with_a_ready_marker_only_files_written_before_it_are_taken(tmp_path):
    import os

    from orchestration.lib.landing import complete_files

    first = write(tmp_path / "deals" / "a.csv", f"{HEADER}\n{ROW}\n")
    ready, deferred = complete_files([first], 0, marker="_SUCCESS")
    assert ready == [] and "no _SUCCESS marker" in deferred[0][1]
    marker = write(tmp_path / "deals" / "_SUCCESS", "")
    later = write(tmp_path / "deals" / "b.csv", f"{HEADER}\n{ROW}\n")
    os.utime(first, (1000, 1000))
    os.utime(marker, (2000, 2000))
    os.utime(later, (3000, 3000))
    ready, deferred = complete_files([first, later], 0, marker="_SUCCESS")
    assert ready == [first] and "after the _SUCCESS marker" in deferred[0][1]


def test_a_file_that_changes_while_it_is_loaded_is_left_for_the_next_run(con, tmp_path, monkeypatch):
    import orchestration.lib.landing as landing

    path = write(tmp_path / "deals" / "d.csv", f"{HEADER}\n{ROW}\n")
    real_insert = landing._insert

    def insert_then_the_writer_appends(*args, **kwargs):
        result = real_insert(*args, **kwargs)
        with path.open("a") as handle:
            handle.write(ROW.replace("D1", "D2") + "\n")
        return result

    monkeypatch.setattr(landing, "_insert", insert_then_the_writer_appends)
    loaded = load(con, "deals", path)
    assert loaded.rows == 0 and loaded.files_deferred == [("d.csv", "it changed while it was being loaded")]
    assert con.execute("select count(*) from raw.deals").fetchone()[0] == 0
    monkeypatch.setattr(landing, "_insert", real_insert)
    assert load(con, "deals", path).rows == 2


def test_a_name_loaded_before_with_other_content_is_reported(con, tmp_path):
    path = write(tmp_path / "deals" / "d.csv", f"{HEADER}\n{ROW}\n")
    assert load(con, "deals", path).files_changed == []
    write(path, f"{HEADER}\n{ROW}\n{ROW.replace('D1', 'D2')}\n")
    assert load(con, "deals", path).files_changed == ["d.csv"]


def test_a_line_break_in_a_quoted_value_is_kept_as_lf_whatever_the_line_ends(con, tmp_path):
    """Spark's CSV reader stores a quoted line break as \\n; the loader does the same, so the engines agree."""
    crlf = f'{HEADER}\r\nD1,L1,2026-03-05T10:00:00Z,,qualification,100,USD,,lost,"too\r\nexpensive",crm,alice\r\n'
    lf = crlf.replace("\r\n", "\n").replace("D1,L1", "D2,L2")
    load(con, "deals", write(tmp_path / "deals" / "crlf.csv", crlf), write(tmp_path / "deals" / "lf.csv", lf))
    reasons = con.execute("select loss_reason from raw.deals order by deal_id").fetchall()
    assert reasons == [("too\nexpensive",), ("too\nexpensive",)]
