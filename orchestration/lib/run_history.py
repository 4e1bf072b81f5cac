"""The run history's event log: Dagster's SQLite event log, with one database engine per file instead of one per
event.

Dagster's SQLite storage builds a new SQLAlchemy engine for every event it records (about 930 on a night, each
asset and dbt test check mirrored into the index file), and a small night spent about a fifth of its time on that,
all CPU (docs/benchmarks.md): building the engine, opening the file, and closing it again, which checkpoints its
write-ahead log every time. This class keeps the engines of the few files in use with one pooled connection each.
The files are Dagster's own, in the same place: the UI, or Dagster's default storage, reads them as before.

`closedloop run` and `closedloop ui` name it in the data dir's dagster.yaml (orchestration/lib/prepare.py).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sql import create_engine

# the busy timeout Dagster's own SQLite event log uses
SQLITE_BUSY_TIMEOUT_SECONDS = 30
# files with an engine (and an open connection) at a time: a run's own file and the index
KEEP_OPEN = 4


class RunHistoryEventLogStorage(SqliteEventLogStorage):
    @classmethod
    def config_type(cls):
        from dagster import Field, StringSource

        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> RunHistoryEventLogStorage:
        # by default where Dagster's own SQLite storage keeps them, so the history stays where it was
        base_dir = config_value.get("base_dir") or os.path.join(os.environ["DAGSTER_HOME"], "history", "runs", "")
        return cls(base_dir=base_dir, inst_data=inst_data)

    @contextmanager
    def _connect(self, shard: str) -> Iterator:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _engine(self, shard: str):
        engines = self.__dict__.setdefault("_engines", OrderedDict())
        if shard in engines:
            engines.move_to_end(shard)
            return engines[shard]
        # pooled: a connection stays open between writes (closing the last one checkpoints the file's log)
        engines[shard] = create_engine(
            self.conn_string_for_shard(shard), connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
        )
        while len(engines) > KEEP_OPEN:  # a long-lived process (the UI) reads many runs' files
            engines.popitem(last=False)[1].dispose()
        return engines[shard]

    def _close(self, shard: str | None = None) -> None:
        with self._db_lock:
            engines = self.__dict__.get("_engines", {})
            for name in [shard] if shard else list(engines):
                if name in engines:
                    engines.pop(name).dispose()

    def delete_events(self, run_id: str) -> None:
        super().delete_events(run_id)
        self._close(run_id)  # housekeeping removes the run's file next

    def wipe(self) -> None:
        self._close()
        super().wipe()

    def dispose(self) -> None:
        self._close()
        super().dispose()
