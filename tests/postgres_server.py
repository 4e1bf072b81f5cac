"""A real, throwaway PostgreSQL cluster for tests: initdb into a temp dir, start on a free localhost port, stop and
delete at the end. The server binaries come from the `postgresql` apt package (`apt-get install -y postgresql`);
nothing is mocked, so the postgres dbt target is tested against the engine it will meet in production.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

INSTALL_HINT = "apt-get install -y postgresql"
# initdb refuses to run as root; as root the cluster is owned and run by this OS user instead
SERVICE_USER = "postgres"
ROLE = "closedloop"


class PostgresNotInstalled(RuntimeError):
    pass


def find_bin_dir() -> Path:
    """The directory holding initdb, pg_ctl and postgres: PATH first, then the Debian/Ubuntu layout."""
    on_path = shutil.which("initdb")
    candidates = [Path(os.path.realpath(on_path)).parent] if on_path else []
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted((Path(p) for p in versions), key=lambda p: _version(p.parent.name), reverse=True)
    for directory in candidates:
        if all((directory / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return directory
    raise PostgresNotInstalled(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH or in"
        f" /usr/lib/postgresql/*/bin; install them with `{INSTALL_HINT}`"
    )


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    bin_dir: Path
    base_dir: Path
    port: int
    password: str
    run_as: str | None = None
    _databases: set[str] = field(default_factory=set)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "server.log"

    def settings(self, database: str = ROLE) -> dict[str, str | int]:
        """psycopg2 keyword arguments (and what postgres_settings_from_env returns) for one database."""
        return {"host": "127.0.0.1", "port": self.port, "user": ROLE, "password": self.password, "dbname": database}

    def dbt_env(self, database: str = ROLE) -> dict[str, str]:
        """The CLOSEDLOOP_PG_* variables the dbt profile reads."""
        return {
            "CLOSEDLOOP_PG_HOST": "127.0.0.1",
            "CLOSEDLOOP_PG_PORT": str(self.port),
            "CLOSEDLOOP_PG_USER": ROLE,
            "CLOSEDLOOP_PG_PASSWORD": self.password,
            "CLOSEDLOOP_PG_DATABASE": database,
        }

    def create_database(self, name: str, icu_locale: str | None = None) -> dict[str, str | int]:
        """A new empty database owned by the test role (tests keep out of each other's way); with `icu_locale`
        (e.g. `en-US`) its text sorts by that language's rules, as on most production servers, not by bytes."""
        con = psycopg2.connect(**self.settings("postgres"))
        try:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute(f'drop database if exists "{name}"')
                locale = f" template template0 locale_provider icu icu_locale '{icu_locale}'" if icu_locale else ""
                cur.execute(f'create database "{name}" owner {ROLE}{locale}')
        finally:
            con.close()
        self._databases.add(name)
        return self.settings(name)

    @classmethod
    def start(cls) -> PostgresServer:
        bin_dir = find_bin_dir()
        run_as = SERVICE_USER if os.geteuid() == 0 else None
        if run_as:
            _ensure_os_user(run_as)
        base_dir = Path(tempfile.mkdtemp(prefix="closedloop-pg-"))
        server = cls(bin_dir, base_dir, free_port(), secrets.token_hex(12), run_as)
        try:
            server._init_and_start()
        except BaseException:
            server.stop()
            raise
        return server

    def _init_and_start(self) -> None:
        password_file = self.base_dir / "password"
        password_file.write_text(self.password + "\n")
        if self.run_as:
            shutil.chown(self.base_dir, self.run_as)
            shutil.chown(password_file, self.run_as)
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            ROLE,
            f"--pwfile={password_file}",
            "-E",
            "UTF8",
            "--locale=C",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--no-sync",
        )
        password_file.unlink()
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.base_dir}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c timezone=UTC"
        )
        self._run(
            "pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60", "-o", options, "start"
        )
        self.create_database(ROLE)

    def stop(self) -> None:
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin_dir / tool), *args]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        # cwd: the service user may not be allowed into the caller's working directory
        result = subprocess.run(command, cwd=self.base_dir, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            raise RuntimeError(
                f"{tool} failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}\n{log}".rstrip()
            )


def _ensure_os_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
