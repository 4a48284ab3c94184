"""A real uvicorn server in a thread, for tests that need concurrent HTTP requests.

Also: which worker processes ``offerlab serve --workers N`` runs, and which of them
answered a request (read from /proc).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from starlette.applications import Starlette


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(app: Starlette) -> Iterator[str]:
    """Serve ``app`` on a free loopback port; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def worker_pids(master: int) -> list[int]:
    """The live worker processes of uvicorn's multiprocess supervisor (its ``spawn`` children)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # not a process, or gone
            continue
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        if int(ppid) == master and state not in "ZX" and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def answering_pid(port: int, pids: list[int]) -> int | None:
    """Which of ``pids`` answers a GET /healthz on a new connection (looked up while it is open)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        if not s.recv(4096).startswith(b"HTTP/1.1 200"):
            return None
        client_port = s.getsockname()[1]
        inode = None
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            cols = line.split()
            ports = int(cols[1].rsplit(":", 1)[1], 16), int(cols[2].rsplit(":", 1)[1], 16)
            if ports == (port, client_port):
                inode = f"socket:[{cols[9]}]"
        for pid in pids:
            with contextlib.suppress(OSError):  # the process is gone
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    with contextlib.suppress(OSError):
                        if os.readlink(fd) == inode:
                            return pid
    return None
