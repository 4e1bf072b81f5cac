"""A stand-in Spark cluster for tests: a JVM of its own, with its own catalog and Parquet tables, that a run reaches
only as it would reach a cluster, through a Thrift server (dbt, the quality gate) and a Spark Connect server (the
Python steps). `python -m tests.spark_cluster DIR THRIFT_PORT CONNECT_PORT` serves until its stdin closes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib.spark import free_port

READY = "spark cluster ready"


@dataclass
class SparkCluster:
    process: subprocess.Popen
    thrift_port: int
    connect_port: int

    def run_env(self) -> dict[str, str]:
        """The settings of a run that uses this cluster (docs/engines.md#on-a-cluster)."""
        return {
            "CLOSEDLOOP_DBT_TARGET": "spark",
            "CLOSEDLOOP_SPARK_HOST": "127.0.0.1",
            "CLOSEDLOOP_SPARK_PORT": str(self.thrift_port),
            "CLOSEDLOOP_SPARK_CONNECT_URL": f"sc://127.0.0.1:{self.connect_port}",
        }

    @classmethod
    def start(cls, root: Path) -> SparkCluster:
        """Starts the cluster and waits for it to serve; a cluster that dies first closes its stdout."""
        thrift_port, connect_port = free_port(), free_port()
        log = root / "spark_cluster.log"
        with log.open("w") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.spark_cluster", str(root), str(thrift_port), str(connect_port)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                cwd=Path(__file__).parents[1],
            )
        if any(line.strip() == READY for line in process.stdout):
            return cls(process, thrift_port, connect_port)
        process.kill()
        raise RuntimeError(f"the stand-in Spark cluster did not start; see {log}")

    def stop(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def serve(root: Path, thrift_port: int, connect_port: int) -> None:
    """The cluster's session: the local session of the spark target (its Thrift server on `thrift_port`) with the
    Spark Connect plugin on `connect_port`, tables under `root`."""
    os.environ["PYSPARK_SUBMIT_ARGS"] = (
        "--conf spark.plugins=org.apache.spark.sql.connect.SparkConnectPlugin"
        " --conf spark.connect.grpc.binding.address=127.0.0.1"
        f" --conf spark.connect.grpc.binding.port={connect_port} pyspark-shell"
    )
    from orchestration.lib.spark import start_local
    from orchestration.settings import load_settings

    environ = {"CLOSEDLOOP_SPARK_MASTER": "local[2]", "CLOSEDLOOP_SPARK_PORT": str(thrift_port)}
    settings = load_settings(root / "landing", root, environ)
    session, _ = start_local(settings)
    print(READY, flush=True)
    sys.stdin.read()  # until the test closes it
    session.stop()


if __name__ == "__main__":
    serve(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
