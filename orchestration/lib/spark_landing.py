"""On the spark target, Spark reads the landing files itself into its `raw` tables (docs/engines.md).

The loader's checks run first, as on every engine, with DuckDB on the machine that runs the job (`landing.py`): the
header against the contract, a strict parse of every line (field counts, quotes, encoding), NUL bytes, the phone
cache and the suppression filter. One set of refusals, with the file, line and rule. DuckDB keeps none of the rows:
then Spark reads the same file with an explicit schema (every column as text, under the file's own header),
numbers its rows in file order, joins the phone cache, leaves out erased people and appends to `raw.<source>`. The
file is recorded in the job's `raw._loaded_files` only when Spark wrote as many rows as the check counted.

The bookkeeping stays with the job, in the local DuckDB file, and is copied to Spark whole each night (it is
small): `raw._loaded_files`, `raw._phone_numbers`, `raw._suppressed`, and `raw.erasure_requests`, which must be
applied before anything reads raw (`LOCAL_TABLES`).
"""

from __future__ import annotations

import codecs

from orchestration.lib.contract import CONTRACTS
from orchestration.lib.landing import CheckedFile, LandingError, first_line, phone_column
from orchestration.lib.sql import quote_ident, sql_literal
from orchestration.lib.suppression import FILE_FILTER
from orchestration.lib.warehouse import spark_sql

# raw tables of the job's DuckDB file, copied to Spark; every other raw table is written by Spark only
LOCAL_TABLES = ("_loaded_files", "_phone_numbers", "_suppressed", "erasure_requests")

METADATA_DDL = (
    "_extra string, _phone_e164 string, _row_number bigint, _source_file string, _file_hash string,"
    " _loaded_at timestamp, _run_id string"
)

# Python's names of the encodings users set (CLOSEDLOOP_CSV_ENCODING) -> Java's
JAVA_ENCODINGS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "iso8859-1": "ISO-8859-1", "cp1252": "windows-1252"}


def spark_loaded(source: str) -> bool:
    return source not in LOCAL_TABLES


def ensure_spark_raw_tables(session) -> None:
    """Every raw table Spark writes exists, even for a source never delivered, so staging always compiles."""
    session.sql("create database if not exists raw")
    for contract in CONTRACTS.values():
        if spark_loaded(contract.name):
            columns = ", ".join(f"{c} string" for c in contract.columns)  # the contract's names are plain
            session.sql(f"create table if not exists raw.{contract.name} ({columns}, {METADATA_DDL}) using parquet")


class SparkSink:
    """The loader's sink on the spark target (see the module's doc)."""

    def __init__(self, session):
        self.session = session
        # `_extra` keeps a column's null as DuckDB's to_json does (Spark leaves the field out by default)
        session.conf.set("spark.sql.jsonGenerator.ignoreNullFields", "false")

    def write(self, con, checked: CheckedFile) -> int:
        table = f"raw.{checked.contract.name}"
        this_file = f"_file_hash = {sql_literal(checked.load.digest)}"
        # rows of an earlier attempt that died before the loader could undo it
        self.undo(checked.contract.name, checked.load.digest)
        expected = _checked_rows(con, checked)
        self._views(con, checked)
        try:
            numbered = "(select *, row_number() over (order by _scan_order) as _file_row from _landing_file)"
            self.session.sql(f"insert into {table} {spark_sql(checked.rows_sql(numbered, '_file_phones'))}")
        except Exception as exc:  # Spark's message may quote a row: only its first line is kept
            raise LandingError(checked.path, f"Spark could not read the file ({first_line(exc)[:300]})") from None
        finally:
            for view in ("_landing_file", "_file_phones", FILE_FILTER):
                self.session.catalog.dropTempView(view)
        written = self.session.sql(f"select count(*) from {table} where {this_file}").first()[0]
        if written != expected:  # the loader undoes the write
            raise LandingError(
                checked.path,
                f"Spark read {written:,} rows where the loader's check read {expected:,}: the file is left out"
                " (deliver it again as plain UTF-8 CSV, or report the file)",
            )
        return written

    def undo(self, source: str, digest: str) -> None:
        from orchestration.lib.spark import delete_rows

        delete_rows(self.session, f"raw.{source}", f"_file_hash = {sql_literal(digest)}")

    def _views(self, con, checked: CheckedFile) -> None:
        from pyspark.sql import functions as F

        frame = _read(self.session, checked).withColumn("_scan_order", F.monotonically_increasing_id())
        frame.createOrReplaceTempView("_landing_file")
        phones = con.sql(_file_phones_sql(checked)).to_arrow_table()
        self.session.createDataFrame(
            phones.to_pandas(), "phone string, region string, phone_e164 string"
        ).createOrReplaceTempView("_file_phones")
        if checked.keep != "true":
            values = con.sql(f"select column_name, value from {FILE_FILTER}").to_arrow_table()
            self.session.createDataFrame(
                values.to_pandas(), "column_name string, value string"
            ).createOrReplaceTempView(FILE_FILTER)


def _checked_rows(con, checked: CheckedFile) -> int:
    """The rows DuckDB reads from the file and keeps, every column parsed (a bad line is refused here)."""
    every_column = ", ".join(f"count(f.{quote_ident(h)})" for h in checked.header)
    sql = f"select count(*){', ' + every_column if every_column else ''} from _landing_file as f"
    if checked.keep != "true":
        sql += f" where {checked.keep}"
    return con.execute(sql).fetchall()[0][0]


def _file_phones_sql(checked: CheckedFile) -> str:
    """The phone cache's rows for the file's phones (a few per distinct value, never per row)."""
    column = phone_column(checked.contract, checked.header)
    if column is None:
        return "select phone, region, phone_e164 from raw._phone_numbers where false"
    return (
        "select phone, region, phone_e164 from raw._phone_numbers"
        f" where region = {sql_literal(checked.phone_region)}"
        f" and phone in (select distinct cast({quote_ident(column)} as varchar) from _landing_file)"
    )


def _read(session, checked: CheckedFile):
    """The file as Spark reads it: every column as text, named as in the file."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    path, header = str(checked.path.resolve()), checked.header
    name = checked.path.name.lower()
    if name.endswith(".parquet"):
        frame = session.read.parquet(path)
        return frame.select(*(F.col(f"`{h}`").cast("string").alias(h) for h in frame.columns))
    schema = StructType([StructField(h, StringType()) for h in header])
    if name.endswith((".jsonl", ".ndjson")):
        return session.read.schema(schema).option("mode", "FAILFAST").json(path)
    frame = (
        session.read.schema(schema)
        .option("header", True)
        .option("enforceSchema", True)  # the file's header names the columns; the check has read it
        .option("multiLine", True)  # a quoted value may hold a line break; one file is then one task
        .option("quote", '"')
        .option("escape", '"')
        .option("mode", "FAILFAST")
        .option("encoding", _java_encoding(checked.encoding))
        .csv(path)
    )
    # an empty field, quoted or not, is null, as DuckDB reads it
    return frame.select(*(F.when(F.col(f"`{h}`") != "", F.col(f"`{h}`")).alias(h) for h in header))


def _java_encoding(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return encoding
    return JAVA_ENCODINGS.get(name, name)
