"""A SQLAlchemy dialect for Great Expectations on the DuckDB warehouse: duckdb_engine's, in autocommit.

GX fetches a query's rows after returning its connection to the pool, which rolls back the implicit
transaction; on DuckDB a rollback drops the pending result, so GX would see no rows. The gate only reads through
GX and writes single statements, so no transaction is needed: begin, commit and rollback do nothing.
Every connection it opens is remembered, so `close_connections()` frees the warehouse file for dbt (another
process) as soon as the gate is done, whatever GX still holds.
"""

from __future__ import annotations

import weakref

from duckdb_engine import Dialect
from sqlalchemy.dialects import registry

NAME = "duckdb.closedloop"
_OPEN: weakref.WeakSet = weakref.WeakSet()


class AutocommitDuckDBDialect(Dialect):
    supports_statement_cache = True  # nothing here changes how statements compile

    def connect(self, *args, **kwargs):
        connection = super().connect(*args, **kwargs)
        _OPEN.add(connection)
        return connection

    def do_begin(self, dbapi_connection) -> None:
        pass

    def do_commit(self, dbapi_connection) -> None:
        pass

    def do_rollback(self, dbapi_connection) -> None:
        pass


def register() -> str:
    """Registers the dialect; returns the URL scheme (`duckdb+closedloop`)."""
    registry.register(NAME, __name__, AutocommitDuckDBDialect.__name__)
    return NAME.replace(".", "+")


def close_connections() -> None:
    for connection in list(_OPEN):
        if not getattr(connection, "closed", False):
            connection.close()
    _OPEN.clear()
