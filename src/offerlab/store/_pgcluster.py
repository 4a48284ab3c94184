"""A throwaway PostgreSQL cluster for tests and benchmarks: initdb, pg_ctl, a free loopback port.

``with temporary_postgres() as url:`` makes a cluster in a temporary folder,
starts it on 127.0.0.1 at a free port (trust authentication, loopback only),
yields a SQLAlchemy URL and removes everything afterwards. As root (CI), the
server runs as the ``postgres`` system user, since PostgreSQL refuses root.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["find_pg_bin", "temporary_postgres"]

_SEARCH = ["/usr/local/bin", *sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)]


def find_pg_bin() -> Path | None:
    """The folder with initdb and pg_ctl, or None when PostgreSQL's server is not installed."""
    for folder in [*map(Path, _SEARCH)]:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def temporary_postgres(database: str = "offerlab") -> Iterator[str]:
    """Start a throwaway cluster; yields ``postgresql+psycopg://…`` for ``database``."""
    pg_bin = find_pg_bin()
    if pg_bin is None:
        raise FileNotFoundError("PostgreSQL's initdb and pg_ctl are not installed")
    root = Path(tempfile.mkdtemp(prefix="offerlab-pg-"))
    data = root / "data"
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(root, "postgres")
    port = _free_port()
    log = root / "server.log"

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    try:
        run(
            str(pg_bin / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} "
            "-c fsync=off -c max_connections=200 -c shared_buffers=64MB"
        )
        run(str(pg_bin / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
        import psycopg

        plain = f"postgresql://postgres@127.0.0.1:{port}"
        with psycopg.connect(f"{plain}/postgres", autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {database}")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [*prefix, str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(root, ignore_errors=True)
