"""The parse before a night (`prepare_dbt_manifest`) starts from the parse cache of its own engine and settings, so
that another setting's parse in between (another data dir, another engine, a test worker beside this one) does not
make dbt parse the whole project again."""

from orchestration.lib.prepare import parse_cache_dir, prepare_dbt_manifest
from orchestration.settings import load_settings

FULL_PARSE = ("Starting full parse", "profile has changed", "have changed")


def parse_log(monkeypatch, logs, **settings) -> str:
    """The dbt log lines of one `prepare_dbt_manifest` with these CLOSEDLOOP_* settings."""
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    log = logs / "dbt.log"
    log.unlink(missing_ok=True)
    prepare_dbt_manifest()
    return log.read_text(errors="replace") if log.exists() else ""


def test_a_parse_after_another_settings_parse_reads_only_what_changed(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOSEDLOOP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    monkeypatch.delenv("CLOSEDLOOP_MQL_THRESHOLD", raising=False)
    parse_log(monkeypatch, tmp_path / "logs")  # the default settings' cache exists (a first parse may be whole)
    default_cache = parse_cache_dir(load_settings())

    other = parse_log(monkeypatch, tmp_path / "logs", CLOSEDLOOP_MQL_THRESHOLD="41")
    assert "Running with dbt" in other, "another setting's vars must parse again"
    assert parse_cache_dir(load_settings()) != default_cache

    monkeypatch.delenv("CLOSEDLOOP_MQL_THRESHOLD")
    again = parse_log(monkeypatch, tmp_path / "logs")
    assert "Running with dbt" in again, "the manifest was the other setting's: it must be parsed again"
    assert not [line for line in again.splitlines() if any(phrase in line for phrase in FULL_PARSE)]
    assert (default_cache / "partial_parse.msgpack").exists()
