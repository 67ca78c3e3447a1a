"""A throwaway PostgreSQL server for tests that grade into a PostgreSQL gradebook.

Interface:
    find_postgres_bin() -> Path
        The folder holding initdb, pg_ctl, postgres and createdb: the newest of
        /usr/lib/postgresql/*/bin, else the one found on PATH. Raises PostgresNotFound,
        which says how to install them, when there are none.
    running_postgres(base_dir, *, dbname="gradebook", driver="psycopg") -> ContextManager[str]
        Starts a server on a free port of 127.0.0.1 with its data in a new folder inside
        base_dir, yields a SQLAlchemy URL of an empty database, and on exit stops the server
        and removes that folder, also when the body raised.
    postgres_url
        Session-scoped pytest fixture: the URL of running_postgres in a temporary folder.

As root, initdb and the server run as the `postgres` system user (or `nobody`), since
PostgreSQL refuses to run as root. Connections are trusted from 127.0.0.1 only, there is no
unix socket, and fsync is off: the data lives as long as one test session.
"""

from __future__ import annotations

import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy

TOOLS = ("initdb", "pg_ctl", "postgres", "createdb")
SUPERUSER = "grader"
INSTALL_HINT = "bash .ci/install-postgres  (as root; or: apt-get install postgresql)"
# Durability is worthless for a database that dies with the test session.
SERVER_SETTINGS = """
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
"""
PG_HBA = "host all all 127.0.0.1/32 trust\n"
START_ATTEMPTS = 3


class PostgresNotFound(RuntimeError):
    """The PostgreSQL server binaries are not installed."""


def _has_tools(folder: Path) -> bool:
    return all(os.access(folder / tool, os.X_OK) for tool in TOOLS)


def _version_key(folder: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/15/bin -> (15,); "9.6" -> (9, 6)
    return tuple(int(part) for part in re.findall(r"\d+", folder.parent.name))


def find_postgres_bin() -> Path:
    """The folder of the PostgreSQL server binaries, newest version first."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        # /usr/local/bin may hold symlinks to a few tools only: look where they point too.
        candidates += [Path(on_path).parent, Path(on_path).resolve().parent]
    for folder in candidates:
        if _has_tools(folder):
            return folder
    raise PostgresNotFound(
        f"PostgreSQL server binaries ({', '.join(TOOLS)}) not found in "
        f"/usr/lib/postgresql/*/bin or on PATH. Install them with: {INSTALL_HINT}"
    )


def _server_user() -> str | None:
    """Whom to run the server as: None for the current user, unless that is root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("running as root and neither a `postgres` nor a `nobody` user exists")


def _clean_env() -> dict[str, str]:
    # PGHOST, PGPORT, PGDATA ... of the caller would point the tools at another server.
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def _run(cmd: list[str], *, user: str | None, cwd: Path) -> str:
    """Runs cmd, as user when given; raises RuntimeError with its output when it fails."""
    as_user = {}
    if user is not None:
        entry = pwd.getpwnam(user)
        as_user = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    result = subprocess.run(
        cmd,
        cwd=cwd,
        env=_clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        **as_user,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed with exit code {result.returncode}:\n"
            f"{result.stdout}{result.stderr}"
        )
    return result.stdout


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _make_workdir(base_dir: Path, user: str | None) -> Path:
    """A new folder in base_dir that the server user owns and can reach."""
    workdir = Path(tempfile.mkdtemp(prefix="postgres-", dir=base_dir))
    if user is None:
        return workdir
    entry = pwd.getpwnam(user)
    os.chown(workdir, entry.pw_uid, entry.pw_gid)
    try:
        _run(["test", "-w", str(workdir)], user=user, cwd=Path("/"))
    except RuntimeError:
        shutil.rmtree(workdir, ignore_errors=True)
        raise PermissionError(
            f"user {user} cannot reach {workdir}: every folder above it needs o+x "
            "(a folder made with tempfile.mkdtemp() and chmod 0o711 will do)"
        ) from None
    return workdir


def _init_cluster(bin_dir: Path, data_dir: Path, user: str | None) -> None:
    _run(
        [
            str(bin_dir / "initdb"),
            f"--pgdata={data_dir}",
            f"--username={SUPERUSER}",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        ],
        user=user,
        cwd=data_dir.parent,
    )
    # Later settings win over initdb's; writing in place keeps the files' owner.
    with open(data_dir / "postgresql.conf", "a") as conf:
        conf.write(SERVER_SETTINGS)
    (data_dir / "pg_hba.conf").write_text(PG_HBA)


def _start(bin_dir: Path, data_dir: Path, log: Path, user: str | None) -> int:
    """Starts the server on a free port and returns the port; retries when it was taken."""
    for attempt in range(1, START_ATTEMPTS + 1):
        port = _free_port()
        log_size = log.stat().st_size if log.exists() else 0
        try:
            _run(
                [
                    str(bin_dir / "pg_ctl"),
                    "start",
                    "--wait",
                    "--timeout=60",
                    f"--pgdata={data_dir}",
                    f"--log={log}",
                    f"--options=-p {port}",
                ],
                user=user,
                cwd=data_dir.parent,
            )
            return port
        except RuntimeError as error:
            new_log = log.read_text(errors="replace")[log_size:] if log.exists() else ""
            # Another process may have bound the port between _free_port() and the server.
            if "Address already in use" in new_log and attempt < START_ATTEMPTS:
                continue
            raise RuntimeError(f"{error}\nserver log:\n{new_log}") from None
    raise AssertionError("unreachable")


def _stop(bin_dir: Path, data_dir: Path, user: str | None) -> None:
    """Stops the server; an immediate stop when a fast one does not end in time."""
    for mode in ("fast", "immediate"):
        try:
            _run(
                [
                    str(bin_dir / "pg_ctl"),
                    "stop",
                    "--wait",
                    "--timeout=30",
                    f"--pgdata={data_dir}",
                    f"--mode={mode}",
                ],
                user=user,
                cwd=data_dir.parent,
            )
            return
        except RuntimeError:
            continue


def _create_database(bin_dir: Path, port: int, dbname: str, user: str | None) -> None:
    server = ["--host=127.0.0.1", f"--port={port}", f"--username={SUPERUSER}"]
    _run([str(bin_dir / "createdb"), *server, dbname], user=user, cwd=Path("/"))


@contextmanager
def running_postgres(
    base_dir: str | os.PathLike[str], *, dbname: str = "gradebook", driver: str = "psycopg"
) -> Iterator[str]:
    """Yields the SQLAlchemy URL of an empty database on a new server; see the module doc."""
    bin_dir = find_postgres_bin()
    user = _server_user()
    workdir = _make_workdir(Path(base_dir), user)
    data_dir = workdir / "data"
    try:
        _init_cluster(bin_dir, data_dir, user)
        port = _start(bin_dir, data_dir, workdir / "server.log", user)
        _create_database(bin_dir, port, dbname, user)
        yield f"postgresql+{driver}://{SUPERUSER}@127.0.0.1:{port}/{dbname}"
    finally:
        # A pid file means a server may run, even one whose start timed out.
        if (data_dir / "postmaster.pid").exists():
            _stop(bin_dir, data_dir, user)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of a database on a PostgreSQL server, one server per test process (xdist worker)."""
    # Not tmp_path_factory: pytest's folders are mode 0700, which the `postgres` user that
    # serves a root test run could not enter.
    base_dir = Path(tempfile.mkdtemp(prefix="pytest-postgres-"))
    base_dir.chmod(0o711)
    try:
        with running_postgres(base_dir) as url:
            yield url
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """URL of a new, empty database on the session's server: each test gets its own."""
    name = f"test_{next(_database_numbers)}"
    engine = sqlalchemy.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return postgres_server.rsplit("/", 1)[0] + f"/{name}"


_database_numbers = itertools.count(1)
