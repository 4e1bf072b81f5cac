"""End to end: what BI users and analysts get from `closedloop run`, with their own tools and real processes.

an older DuckDB client opens the serving file and reads every table, comments and keys → a read-write BI session
holds the file: the publish is refused, naming the process → the session dies leaving its log: the next publish
still gives an openable file → a refused night keeps the marts but reaches the quality tables, exports and
report → a second writer, from the CLI or from Dagster itself, is turned away naming the holder.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from browser import CHROMIUM, chromium
from commands import CLOSEDLOOP, closedloop

from orchestration.lib.generate import generate_landing
from orchestration.lib.lock import exclusive_lock

OLD_DUCKDB = "1.1.0"  # BI drivers lag the Python client: the oldest DuckDB the serving file promises to open in

pytestmark = pytest.mark.slow


def marts(path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        return {name: con.execute(f"select * from marts.{name} order by all").fetchall() for name in names}


@pytest.fixture(scope="module")
def old_duckdb_python() -> Path:
    """A throwaway environment with an older DuckDB client, kept between test sessions."""
    env = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "closedloop-tests" / f"duckdb-{OLD_DUCKDB}"
    python = env / "bin" / "python"
    probe = [str(python), "-c", f"import duckdb; assert duckdb.__version__ == '{OLD_DUCKDB}'"]
    if not python.exists() or subprocess.run(probe, capture_output=True).returncode != 0:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(env)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"duckdb=={OLD_DUCKDB}"], check=True)
    return python


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("serving")
    landing, data = root / "landing", root / "data"
    generate_landing(landing, leads=300, days=90, seed=5)
    result = closedloop("run", "--landing", str(landing), "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    return {
        "landing": landing,
        "data": data,
        "serving": data / "serving.duckdb",
        "args": ["--landing", str(landing), "--data-dir", str(data)],
    }


def test_an_older_duckdb_client_reads_every_table_with_its_comments_and_keys(workspace, old_duckdb_python):
    script = textwrap.dedent(f"""
        import duckdb, json
        con = duckdb.connect({str(workspace["serving"])!r}, read_only=True)
        tables = con.execute("select schema_name, table_name, comment from duckdb_tables() union all"
                             " select schema_name, view_name, comment from duckdb_views() where not internal"
                             ).fetchall()
        out = {{"version": duckdb.__version__, "tables": {{}}}}
        for schema, table, comment in tables:
            rows = con.execute(f"select count(*) from (select * from {{schema}}.{{table}})").fetchone()[0]
            columns = con.execute("select count(*), count(comment) from duckdb_columns()"
                                  " where schema_name = ? and table_name = ?", [schema, table]).fetchone()
            out["tables"][f"{{schema}}.{{table}}"] = {{"rows": rows, "comment": comment, "columns": columns}}
        out["keys"] = con.execute("select table_name, constraint_type, constraint_column_names"
                                  " from duckdb_constraints()"
                                  " where constraint_type in ('PRIMARY KEY', 'UNIQUE')").fetchall()
        print(json.dumps(out))
    """)
    read = subprocess.run([str(old_duckdb_python), "-c", script], capture_output=True, text=True, timeout=120)
    assert read.returncode == 0, read.stderr
    seen = json.loads(read.stdout)
    assert seen["version"] == OLD_DUCKDB
    with duckdb.connect(str(workspace["serving"]), read_only=True) as con:
        expected = {
            f"{s}.{t}": con.execute(f"select count(*) from {s}.{t}").fetchone()[0]
            for s, t in con.execute(
                "select schema_name, table_name from duckdb_tables() union all"
                " select schema_name, view_name from duckdb_views() where not internal"
            ).fetchall()
        }
    # fct_attribution is a view over fct_attribution_wide, itself a view joining the rule-based rows with the
    # night's weights, and the older client reads both
    assert expected["marts.fct_attribution"] > expected["marts.fct_attribution_wide"] > 0
    assert expected["marts.fct_attribution_wide"] == expected["marts.fct_attribution_rule_based"]
    assert expected["marts.mart_attribution_channel_weights"] > 0
    assert {name: t["rows"] for name, t in seen["tables"].items()} == expected
    assert len([n for n in expected if n.startswith("marts.")]) >= 17
    for name, table in seen["tables"].items():
        assert table["comment"] and table["comment"].startswith("One row per"), name
        columns, commented = table["columns"]
        assert commented == columns, f"{name}: {commented} of {columns} columns have a comment"
    keys = {table: (kind, columns) for table, kind, columns in seen["keys"]}
    assert keys["dim_people"] == ("PRIMARY KEY", ["person_id"])
    assert keys["mart_ltv_segments"] == ("PRIMARY KEY", ["segment_type", "segment_value"])
    assert "fct_attribution" not in keys  # its key is described, not indexed (meta serving_key: false)


def test_parquet_exports_carry_the_column_descriptions(workspace):
    schema = pq.read_schema(workspace["data"] / "exports" / "dim_people.parquet")
    assert schema.metadata[b"description"].startswith(b"One row per person")
    assert schema.field("person_id").metadata[b"description"]


@pytest.mark.parametrize("mart", ["fct_attribution", "fct_attribution_rule_based", "fct_touchpoints"])
def test_the_folder_exports_read_as_the_served_mart_in_every_client(workspace, old_duckdb_python, mart):
    """The largest facts are folders: pandas, pyarrow and DuckDB read them by name, DuckDB 1.1 with a glob."""
    import pandas as pd

    folder = workspace["data"] / "exports" / f"{mart}.parquet"
    assert folder.is_dir() and len(list(folder.glob("*.parquet"))) > 1
    with duckdb.connect(str(workspace["serving"]), read_only=True) as con:
        served = con.execute(f"select count(*) from marts.{mart}").fetchone()[0]
        missing = con.execute(
            f"select count(*) from (select * from marts.{mart} except all select * from '{folder}')"
        ).fetchone()[0]
        extra = con.execute(
            f"select count(*) from (select * from '{folder}' except all select * from marts.{mart})"
        ).fetchone()[0]
    assert served > 0 and missing == extra == 0
    assert len(pd.read_parquet(folder)) == pq.read_table(folder).num_rows == served
    script = f"import duckdb; print(duckdb.sql(\"select count(*) from '{folder}/*.parquet'\").fetchone()[0])"
    read = subprocess.run([str(old_duckdb_python), "-c", script], capture_output=True, text=True, timeout=120)
    assert read.returncode == 0, read.stderr
    assert int(read.stdout) == served


@pytest.mark.browser
def test_the_dbt_docs_site_opens_offline_in_a_browser(workspace, tmp_path):
    site = workspace["data"] / "docs" / "dbt" / "index.html"
    assert site.exists()
    assert CHROMIUM.exists(), "install chromium (make system-deps)"
    shot = tmp_path / "docs.png"
    url = site.resolve().as_uri() + "#!/model/model.closedloop.dim_people"
    budget = "--virtual-time-budget=15000"  # the docs site is an app: let its script draw the page
    taken = chromium([budget, "--window-size=1280,900", f"--screenshot={shot}", url], tmp_path / "profile")
    assert taken.returncode == 0, taken.stderr[-2000:]
    dom = chromium([budget, "--dump-dom", url], tmp_path / "profile2").stdout
    # the app rendered the model page (not only the embedded JSON): its heading and the column table
    assert '<span class="break">dim_people</span>' in dom or ">dim_people</span>" in dom
    assert "One row per person" in dom
    assert shot.stat().st_size > 30_000


def test_a_read_write_bi_session_stops_the_publish_and_is_named(workspace):
    serving = workspace["serving"]
    before = marts(serving)
    session = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({str(serving)!r})  # read-write, as DBeaver and the DuckDB CLI open files
            con.execute("create view marts.my_view as select 1 as x")
            print("ready", flush=True)
            sys.stdin.readline()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert session.stdout.readline().strip() == "ready"
        inode = serving.stat().st_ino
        result = closedloop("run", *workspace["args"])
        assert result.returncode == 2, result.stdout + result.stderr
        assert f"open for writing by process {session.pid}" in result.stderr
        assert serving.stat().st_ino == inode, "the serving file was replaced under a writer"
    finally:
        session.send_signal(signal.SIGKILL)  # dies without a checkpoint: its log stays beside the file
        session.wait()
    assert Path(f"{serving}.wal").exists()

    result = closedloop("run", *workspace["args"])
    assert result.returncode == 0, result.stderr
    assert not Path(f"{serving}.wal").exists()
    assert marts(serving) == before  # opens, and the same night's marts (the session's view is gone)
    assert "Attribution and ROI" in (workspace["data"] / "report" / "index.html").read_text()


def test_a_refused_night_keeps_the_marts_and_tells_analysts(workspace):
    serving, data = workspace["serving"], workspace["data"]
    before = marts(serving)
    reader = duckdb.connect(str(serving), read_only=True)  # a BI session open across the refused night
    bad = workspace["landing"] / "deals" / "deals_broken.csv"
    header = next((workspace["landing"] / "deals").glob("*.csv")).read_text().splitlines()[0]
    bad.write_text(f"{header}\nD-BROKEN{',' * (header.count(',') + 1)}stray\n")  # one field too many
    try:
        result = closedloop("run", *workspace["args"])
        assert result.returncode == 1, result.stdout + result.stderr
        assert "deals_broken.csv, line 2" in " ".join(result.stderr.split())
        assert "the marts were not refreshed" in result.stderr
        assert reader.execute("select count(*) from quality.runs where status = 'refused'").fetchone()[0] == 0
    finally:
        reader.close()
        bad.unlink()
    assert marts(serving) == before
    with duckdb.connect(str(serving), read_only=True) as con:
        # docs/quality-gate.md's "what failed last night" now answers about last night
        run_id, status, reason = con.execute(
            "select run_id, status, blocking_reason from quality.runs order by started_at desc limit 1"
        ).fetchone()
    assert status == "refused" and "deals_broken.csv, line 2" in reason
    assert run_id in result.stderr
    runs = pq.read_table(data / "exports" / "quality_runs.parquet").to_pylist()
    assert any(r["run_id"] == run_id and r["status"] == "refused" for r in runs)
    report = (data / "report" / "index.html").read_text()
    assert 'id="refused-run"' in report and run_id in report and "deals_broken.csv" in report


def test_a_second_writer_is_turned_away_naming_the_holder(workspace):
    lock = workspace["data"] / ".closedloop.lock"
    with exclusive_lock(lock, holder="run holder-123"):
        result = closedloop("run", *workspace["args"])
    assert result.returncode == 2
    assert "run holder-123" in result.stderr and f"pid {os.getpid()}" in result.stderr
    assert "started 20" in result.stderr


def test_a_run_launched_by_dagster_fails_fast_while_the_lock_is_held(workspace, monkeypatch):
    import dagster as dg

    from orchestration.definitions import defs

    monkeypatch.setenv("CLOSEDLOOP_DATA_DIR", str(workspace["data"]))
    monkeypatch.setenv("CLOSEDLOOP_LANDING_DIR", str(workspace["landing"]))
    with exclusive_lock(workspace["data"] / ".closedloop.lock", holder="run holder-456"):
        result = defs.resolve_job_def("nightly").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
        )
    assert not result.success
    refused = [e.event_specific_data.error for e in result.all_events if e.event_type_value == "RESOURCE_INIT_FAILURE"]
    assert refused and "LockBusy" in refused[0].message and "run holder-456" in refused[0].message
    steps = {e.step_key for e in result.all_events if e.is_step_success}
    assert not steps, f"steps ran without the lock: {steps}"


def children_of(parent: int) -> list[int]:
    """Processes started by `parent` (read from /proc, as ps would)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            stat = (proc / "stat").read_text()
        except (OSError, ValueError):
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.append(int(proc.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_killed_run_takes_its_dbt_with_it_and_the_next_run_clears_up(workspace):
    import time

    import dagster as dg

    data = workspace["data"]
    run = subprocess.Popen(
        [CLOSEDLOOP, "run", *workspace["args"]], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    # killed while dbt writes the warehouse: dbt runs inside the run's process, so nothing goes on writing
    for line in run.stderr:
        if "dbt staging: built" in line:
            break
    else:
        raise AssertionError("the run ended before dbt built anything")
    children = children_of(run.pid)
    run.send_signal(signal.SIGKILL)
    run.wait()
    time.sleep(2)
    assert not [pid for pid in children if alive(pid)], "a process outlived the run that started it"

    # nothing writes any more, so the lock is free and an erasure is not turned away
    erase = closedloop("erase", "--email", "nobody@example.org", "--data-dir", str(data))
    assert erase.returncode == 0, erase.stderr

    leftover = data / ".serving.duckdb.crashed-run.tmp"
    leftover.write_bytes(b"half a file")
    Path(f"{leftover}.wal").write_bytes(b"its log")
    result = closedloop("run", *workspace["args"], env={**os.environ, "CLOSEDLOOP_KEEP_RUNS": "2"}, timeout=600)
    assert result.returncode == 0, result.stderr
    assert not leftover.exists() and not Path(f"{leftover}.wal").exists()
    os.environ["DAGSTER_HOME"], previous = str(data / "dagster"), os.environ.get("DAGSTER_HOME")
    try:
        with dg.DagsterInstance.get() as instance:
            runs = instance.get_runs()
            statuses = [r.status for r in runs]
    finally:
        os.environ.pop("DAGSTER_HOME") if previous is None else os.environ.update(DAGSTER_HOME=previous)
    assert dg.DagsterRunStatus.STARTED not in statuses
    assert len(runs) <= 2, "the run history keeps the last CLOSEDLOOP_KEEP_RUNS runs"
    # dbt's working folders live in the data dir, pruned to the last runs
    folders = list((data / "dbt" / "target").iterdir())
    assert folders and len({f.name.rsplit("-", 2)[1] for f in folders if f.name.count("-") >= 2}) <= 2
