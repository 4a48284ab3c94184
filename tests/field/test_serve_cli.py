"""``offerlab serve`` as a real process: SQLite in the working folder; two workers on PostgreSQL."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from _respondent import QUALIFY, TINY, start
from _server import answering_pid, free_port, worker_pids

from offerlab.field._bot import fill_form, read_form

OFFERLAB = [sys.executable, "-m", "offerlab"]


def _start(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [*OFFERLAB, "serve", str(TINY), "--port", str(port), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
        if process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"offerlab serve did not start: {process.stdout.read()}")


def _stop(process: subprocess.Popen) -> str:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        out, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
    return out


def _complete(base: str, pid: str) -> str:
    import numpy as np

    with httpx.Client(base_url=base, timeout=90) as c:
        url = start(c, f"/s/tiny?pid={pid}")
        rng = np.random.default_rng(0)
        while True:
            r = c.get(url)
            if r.status_code == 303:
                return r.headers["location"]
            r = c.post(url, data=dict(fill_form(read_form(r.text), rng, QUALIFY)))
            assert r.status_code == 303


OWNER_PASSWORD = "a long enough owner secret"


def test_serve_keeps_answers_in_sqlite_in_the_working_folder(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OFFERLAB_DATABASE_URL"}
    env["OFFERLAB_OWNER_PASSWORD"] = OWNER_PASSWORD
    args = ["--invitations", "2", "--venture", "Auto-Abo", "--owner", "lead@example.ch"]
    process, base = _start(args, tmp_path, env)
    try:
        assert _complete(base, "cli-1") == "https://panel.test/done?pid=cli-1&s=complete"
        with httpx.Client(base_url=base, timeout=90) as c:  # the owner sees it in the console
            token = re.search(r'login_csrf" value="([^"]+)', c.get("/console/login").text)[1]
            form = {"login_csrf": token, "email": "lead@example.ch", "password": OWNER_PASSWORD}
            assert c.post("/console/login", data=form).status_code == 303
            page = c.get("/console/studies/tiny").text
            assert 'id="completes">1<' in page
    finally:
        out = _stop(process)
    assert (tmp_path / "offerlab.db").exists()
    assert "anonymous link: http://127.0.0.1" in out and out.count("/i/") == 2
    # a restart continues on the same database and design
    process, base = _start([], tmp_path, env)
    try:
        assert _complete(base, "cli-2").endswith("pid=cli-2&s=complete")
    finally:
        _stop(process)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_share_one_postgresql(tmp_path, database_url) -> None:
    url = database_url
    env = {**os.environ, "OFFERLAB_DATABASE_URL": url.replace("+psycopg", "")}
    process, base = _start(["--workers", "2"], tmp_path, env)
    try:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(6) as pool:
            ends = list(pool.map(lambda i: _complete(base, f"w{i}"), range(12)))
    finally:
        _stop(process)
    # 'young' has a target of 5: the two workers share the count
    assert sum(e.endswith("s=complete") for e in ends) == 5
    assert sum(e.endswith("s=overquota") for e in ends) == 7
    assert not (tmp_path / "offerlab.db").exists()


def _workers(master: int, n: int, gone: int | None = None) -> list[int]:
    """The ``n`` live workers of ``master``, once ``gone`` is no longer among them."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        pids = worker_pids(master)
        if len(pids) == n and gone not in pids:
            return pids
        time.sleep(0.1)
    raise AssertionError(f"{master} has workers {worker_pids(master)}, not {n} without {gone}")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_killed_worker_is_replaced_and_answers(tmp_path, database_url) -> None:
    env = {**os.environ, "OFFERLAB_DATABASE_URL": database_url}
    process, base = _start(["--workers", "2"], tmp_path, env)
    port = int(base.rsplit(":", 1)[1])
    try:
        first = _workers(process.pid, 2)
        os.kill(first[0], signal.SIGKILL)
        # the other worker answers while the supervisor brings up a replacement
        assert httpx.get(base + "/healthz", timeout=30).status_code == 200
        now = _workers(process.pid, 2, gone=first[0])
        (replacement,) = set(now) - set(first)
        deadline = time.monotonic() + 120
        while answering_pid(port, now) != replacement:
            assert time.monotonic() < deadline, "the replacement worker never answered"
            time.sleep(0.2)
        assert process.poll() is None  # the supervisor lives on
        assert _complete(base, "after-kill").endswith("pid=after-kill&s=complete")
    finally:
        _stop(process)
