"""Spark as the build warehouse (`CLOSEDLOOP_DBT_TARGET=spark`, docs/engines.md).

A run opens one Spark session for its whole length. dbt reaches it through Spark's Thrift server (the dbt-spark
`thrift` method), the Python steps through the DataFrame API, and both see the same catalog and tables.

- **Local (default):** the session runs in this process (`local[*]`), tables are Parquet under
  `<data dir>/spark/warehouse`, the catalog an embedded Derby metastore under `<data dir>/spark/metastore_db`.
  The run starts a Thrift server on 127.0.0.1 in the same JVM for dbt, on a free port it exports as
  CLOSEDLOOP_SPARK_PORT before dbt runs. Only Java and the Python packages are needed.
- **Cluster:** with CLOSEDLOOP_SPARK_CONNECT_URL (`sc://host:15002`), the Python steps use Spark Connect, and
  dbt the Thrift server named by CLOSEDLOOP_SPARK_HOST / CLOSEDLOOP_SPARK_PORT (see the profile).

Derby allows one JVM at a time on a metastore, which is why everything goes through the run's one session.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

# small nights: Spark's default of 200 shuffle partitions makes every join 200 tiny tasks
DEFAULT_SHUFFLE_PARTITIONS = "8"


def session_config(data_dir: Path, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The configuration of a local session whose tables and catalog live under `data_dir`/spark."""
    env = os.environ if environ is None else environ
    root = (Path(data_dir) / "spark").resolve()
    return {
        "spark.master": env.get("CLOSEDLOOP_SPARK_MASTER", "local[*]"),
        "spark.app.name": "closedloop",
        "spark.driver.memory": env.get("CLOSEDLOOP_SPARK_DRIVER_MEMORY", "4g"),
        "spark.sql.warehouse.dir": str(root / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={root / 'metastore_db'};create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={root}",
        "spark.sql.shuffle.partitions": env.get("CLOSEDLOOP_SPARK_SHUFFLE_PARTITIONS", DEFAULT_SHUFFLE_PARTITIONS),
        "spark.sql.session.timeZone": "UTC",
        # `timestamp` is a UTC wall-clock time without zone, as on DuckDB and PostgreSQL
        "spark.sql.timestampType": "TIMESTAMP_NTZ",
        # '\1' in a string literal is a backslash and a 1, as in standard SQL (the regex macros rely on it)
        "spark.sql.sources.default": "parquet",
        # a build that died mid-write leaves the table's folder behind; the next build writes over it
        "spark.sql.legacy.allowNonEmptyLocationInCTAS": "true",
        "spark.sql.legacy.createHiveTableByDefault": "false",
        "spark.ui.enabled": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # the Thrift server for dbt: loopback only, no authentication (nothing else can reach it)
        "spark.hadoop.hive.server2.thrift.bind.host": "127.0.0.1",
        "spark.hadoop.hive.server2.thrift.port": env.get("CLOSEDLOOP_SPARK_PORT") or str(free_port()),
        "spark.hadoop.hive.server2.authentication": "NOSASL",
        "spark.hadoop.hive.server2.transport.mode": "binary",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_local(data_dir: Path):
    """A local session with the Thrift server running; returns (session, port)."""
    from pyspark.sql import SparkSession

    config = session_config(data_dir)
    (Path(data_dir) / "spark").mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in config.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    jvm = session._jvm
    jvm.org.apache.spark.sql.hive.thriftserver.HiveThriftServer2.startWithContext(session._jsparkSession.sqlContext())
    return session, int(config["spark.hadoop.hive.server2.thrift.port"])
