"""Nothing lost: 200 concurrent respondents through the whole survey while the server is killed.

Runs ``offerlab serve`` on the example car-subscription study (SQLite in a temporary
working folder, then PostgreSQL in a throwaway cluster on loopback) and sends
``--respondents`` simulated respondents through every page at once, one thread each,
the way a browser does: GET the link, follow the redirects on 127.0.0.1, read the
page's form and POST it to the form's action (the consent page too), follow the
redirect, and so on until the survey sends them to the panel (a redirect elsewhere,
never followed) or shows its end page. A request that fails is sent again once the
server is back, as a browser's reload would.

During the run:

* SQLite (one process): the whole server is SIGKILLed ``--kills`` times (default 3)
  and restarted at once;
* PostgreSQL (``--workers``, default 2): one worker process (the one holding most
  client connections, never the supervisor) is SIGKILLed ``--worker-kills`` times
  (default 3) -- the server must bring up a replacement, which must then answer
  requests itself (checked by asking until a request is answered by the new
  process) -- and the whole server is SIGKILLed ``--kills`` times (default 1) and
  restarted.

Every fifth respondent also leaves halfway (closes the browser) and comes back a
few seconds later: half through the survey link with their cookie, half through
their personal link ``/r/TOKEN`` in a fresh browser. The page they come back to must
be one they have not yet had stored.

At the end it checks, in the database and against the client's record of every
page submit the server acknowledged (HTTP 303):

* each acknowledged submit is stored exactly once (lost, duplicated), with the
  answer that was sent (wrong; re-parsed by the survey's own rules);
* every respondent can resume (their link answers with their page or the end) and
  has finished (complete, screen-out or over-quota in the database).

The run fails, too, when a planned kill was not done or came after every respondent
had finished, or a killed worker was never replaced. It reports page latency
(p50/p95/p99 of every GET and POST that succeeded at the first try), throughput,
and the same figures for a bare ASGI page (a Starlette app returning a fixed page of
the same size) served by the same uvicorn and loaded by the same clients, and their
ratio. All traffic goes to 127.0.0.1; every loop is bounded; the script stops by
itself.

    .venv/bin/python bench/bench_field.py                   # both databases, 200 respondents
    .venv/bin/python bench/bench_field.py --db postgresql --workers 2 --worker-kills 3 --kills 1
    .venv/bin/python bench/bench_field.py --db sqlite --respondents 50 --kills 2
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, save_results  # noqa: E402

from offerlab.design import make_design  # noqa: E402
from offerlab.field._bot import fill_form, read_form  # noqa: E402
from offerlab.study import example_path, load_study  # noqa: E402

LINK = "/s/car_subscription"
QUALIFY = {
    "consent": {"answer": "agree"},
    "age_band": {"answer": "age_35_54"},
    "licence": {"answer": "yes"},
    "attention": {"answer": "somewhat"},
}
PAGES_EACH = 31  # about this many pages a respondent submits (the kill schedule's yardstick)
MAX_STEPS = 300  # requests a respondent makes at most, retries aside
LEAVE_EVERY = 5  # every fifth respondent leaves halfway and comes back
BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
PAGE = "<!doctype html><html><body>" + "x" * {size} + "</body></html>"
async def page(request):
    return HTMLResponse(PAGE)
async def health(request):
    return HTMLResponse("ok")
app = Starlette(routes=[Route("/", page), Route("/healthz", health)])
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- processes and sockets, read from /proc -------------------------------------------------
def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid = text[text.rindex(")") + 2 :].split()[:2]
    return state, int(ppid)


def worker_pids(master: int) -> list[int]:
    """The live worker processes of uvicorn's supervisor (its ``spawn`` children), oldest first."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat(int(entry.name))
        if stat is None or stat[1] != master or stat[0] in "ZX":
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def _server_sockets(port: int) -> dict[int, int]:
    """The server ends of the open connections to ``port``: client port -> socket inode."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            local, remote, state, inode = cols[1], cols[2], cols[3], int(cols[9])
            if state == "01" and inode and int(local.rsplit(":", 1)[1], 16) == port:
                found[int(remote.rsplit(":", 1)[1], 16)] = inode
    return found


def _socket_owners(pids: list[int]) -> dict[int, int]:
    """Socket inode -> the process of ``pids`` that holds it."""
    owners = {}
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:  # gone
            continue
        for fd in fds:
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link.startswith("socket:["):
                owners[int(link[8:-1])] = pid
    return owners


def connections_by_worker(port: int, pids: list[int]) -> dict[int, int]:
    """How many open client connections each of ``pids`` holds."""
    owners = _socket_owners(pids)
    held = Counter(owners.get(inode) for inode in _server_sockets(port).values())
    return {pid: held[pid] for pid in pids}


def answering_worker(port: int, pids: list[int]) -> int | None:
    """Which of ``pids`` answered a fresh GET /healthz (the connection is open while we look)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            if not s.recv(4096).startswith(b"HTTP/1.1 200"):
                return None
            inode = _server_sockets(port).get(s.getsockname()[1])
            return _socket_owners(pids).get(inode) if inode else None
    except OSError:
        return None


# -- the server -------------------------------------------------------------------------------
@dataclass
class WorkerKill:
    """One worker SIGKILLed: which, its replacement, and how long until it answered."""

    killed: int
    connections: dict[int, int]  # open client connections of each worker at the kill
    replacement: int | None = None
    started_s: float | None = None  # the supervisor started the replacement process
    answered_s: float | None = None  # the replacement answered a request itself
    retries: int = 0  # requests the respondents had to send again meanwhile


class Server:
    """``offerlab serve`` as a child process: killed whole, or one worker at a time."""

    def __init__(
        self, args: list[str], cwd: Path, env: dict[str, str], port: int, workers: int = 1
    ) -> None:
        self.args, self.cwd, self.env, self.port, self.workers = args, cwd, env, port, workers
        self.base = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None
        self.restarts: list[float] = []  # seconds from each SIGKILL until it answered again
        self.worker_kills: list[WorkerKill] = []
        self.workers_seen: set[int] = set()
        self.log = cwd / "server.log"

    def start(self) -> None:
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                self.args,
                cwd=self.cwd,
                env=self.env,
                start_new_session=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited; see {self.log}")
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise RuntimeError("the server did not start")
        while self.workers > 1 and len(self.current_workers()) < self.workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"fewer than {self.workers} workers came up")
            time.sleep(0.05)

    def current_workers(self) -> list[int]:
        assert self.process is not None
        pids = worker_pids(self.process.pid)
        self.workers_seen.update(pids)
        return pids

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def kill_worker(self) -> WorkerKill:
        """SIGKILL the busiest worker (not the supervisor); wait until a new one answers."""
        before = self.current_workers()
        held = connections_by_worker(self.port, before)
        event = WorkerKill(killed=max(before, key=lambda pid: held[pid]), connections=held)
        t0 = time.monotonic()
        os.kill(event.killed, signal.SIGKILL)
        deadline = t0 + 120
        while time.monotonic() < deadline and event.replacement is None:
            new = [p for p in self.current_workers() if p not in before]
            if new:
                event.replacement, event.started_s = new[0], time.monotonic() - t0
            else:
                time.sleep(0.05)
        while time.monotonic() < deadline and event.replacement is not None:
            pids = self.current_workers()
            if answering_worker(self.port, pids) == event.replacement:
                event.answered_s = time.monotonic() - t0
                break
            time.sleep(0.1)
        self.worker_kills.append(event)
        return event

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


# -- the respondents --------------------------------------------------------------------------
@dataclass
class Record:
    latencies: list[float] = field(default_factory=list)  # first-try successes only
    acknowledged: list[tuple[str, str, list[tuple[str, str]]]] = field(default_factory=list)
    retries: int = 0
    retry_causes: Counter = field(default_factory=Counter)
    tokens: dict[int, str] = field(default_factory=dict)  # respondent number -> token
    ends: Counter = field(default_factory=Counter)  # how each respondent's survey ended
    resumed: int = 0
    resumed_to_stored_page: int = 0  # came back to a page already acknowledged: a defect
    lock: threading.Lock = field(default_factory=threading.Lock)


def _request(
    c: httpx.Client, method: str, url: str, rec: Record, data: object = None
) -> httpx.Response:
    """Send until the server answers (as a browser's retry would), timing the first try."""
    first = True
    deadline = time.monotonic() + 180
    while True:
        start = time.perf_counter()
        try:
            r = c.request(method, url, data=data)  # type: ignore[arg-type]
            if r.status_code < 500:
                if first:
                    with rec.lock:
                        rec.latencies.append(time.perf_counter() - start)
                return r
            cause = f"HTTP {r.status_code}"
        except httpx.TransportError as error:
            cause = type(error).__name__
        first = False
        with rec.lock:
            rec.retries += 1
            rec.retry_causes[f"{method} {cause}"] += 1
        if time.monotonic() > deadline:
            raise RuntimeError(f"{method} {url}: no answer for 3 minutes")
        time.sleep(0.2)


def _token_in(url: str) -> str | None:
    parts = urlsplit(url).path.split("/")
    return parts[2] if len(parts) == 3 and parts[1] == "r" and parts[2] else None


def _multi(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in fields:
        out.setdefault(k, []).append(v)
    return out


@dataclass
class Visit:
    """One respondent's way through the survey in one browser session."""

    base: str
    number: int
    rec: Record
    rng: np.random.Generator
    token: str | None = None
    stored: set[str] = field(default_factory=set)  # page keys the server acknowledged
    submits: int = 0

    def walk(self, c: httpx.Client, url: str, leave_after: int | None = None) -> bool:
        """Browse from ``url`` to the end (True) or until ``leave_after`` submits (False)."""
        method, data, key, fields = "GET", None, "", []
        first_page = True
        for _ in range(MAX_STEPS):
            r = _request(c, method, url, self.rec, data)
            posted = method == "POST"
            method, data = "GET", None
            if r.is_redirect:
                target = urljoin(url, r.headers["location"])
                if posted:
                    self._acknowledged(url, target, key, fields)
                if urlsplit(target).netloc != urlsplit(self.base).netloc:
                    self._end(parse_qs(urlsplit(target).query).get("status", ["away"])[0])
                    return True
                url = target
                self.token = _token_in(url) or self.token
                continue
            page = read_form(r.text)  # a 409/422 answer shows the page again
            if page is None:
                self._end(f"page {r.status_code}")
                return True
            if first_page:
                first_page = False
                if page.key in self.stored:
                    with self.rec.lock:
                        self.rec.resumed_to_stored_page += 1
            if leave_after is not None and self.submits >= leave_after and self.token:
                return False
            key, fields = page.key, fill_form(page, self.rng, QUALIFY)
            url = urljoin(url, page.action) if page.action else url
            method, data = "POST", _multi(fields)
            self.submits += 1
        self._end("too many steps")
        return True

    def _acknowledged(self, posted: str, target: str, key: str, fields: list) -> None:
        token = _token_in(posted) or _token_in(target) or self.token
        if token is None:
            return
        self.token = token
        self.stored.add(key)
        with self.rec.lock:
            self.rec.tokens[self.number] = token
            self.rec.acknowledged.append((token, key, fields))

    def _end(self, how: str) -> None:
        with self.rec.lock:
            self.rec.ends[how] += 1


def respondent(base: str, i: int, rec: Record, start: threading.Barrier) -> None:
    visit = Visit(base, i, rec, np.random.default_rng(i))
    link = f"{base}{LINK}?psid=b{i}&src=bench"
    leaves = i % LEAVE_EVERY == 0
    leave_after = int(visit.rng.integers(3, 20)) if leaves else None
    with httpx.Client(timeout=30, follow_redirects=False) as c:
        start.wait()
        if visit.walk(c, link, leave_after):
            return
        cookies = httpx.Cookies(c.cookies)
    time.sleep(float(visit.rng.uniform(2, 6)))  # the browser is closed for a while
    with rec.lock:
        rec.resumed += 1
    with_cookie = (i // LEAVE_EVERY) % 2 == 0
    kept = cookies if with_cookie else None
    with httpx.Client(timeout=30, follow_redirects=False, cookies=kept) as c:
        visit.walk(c, link if with_cookie else f"{base}/r/{visit.token}")


# -- one run ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """What one run does: the database, the load, and what is killed."""

    db: str
    respondents: int
    workers: int
    kills: int  # the whole server
    worker_kills: int  # one worker process each time

    def events(self) -> list[str]:
        """The kills in order, the whole-server kills spread among the worker kills."""
        total = self.kills + self.worker_kills
        server_at = {(j + 1) * total // (self.kills + 1) for j in range(self.kills)}
        if len(server_at) < self.kills:  # only when there are no worker kills to spread
            server_at = set(range(self.kills))
        return ["server" if k in server_at else "worker" for k in range(total)]


def run_survey(plan: Plan, work: Path) -> dict[str, object]:
    study_file = example_path()
    study = load_study(study_file)
    design = make_design(study, method="random", versions=20, seed=7)
    design_file = work / "design.csv"
    design.write(design_file)
    env = {k: v for k, v in os.environ.items() if k != "OFFERLAB_DATABASE_URL"}
    with ExitStack() as stack:
        if plan.db == "postgresql":
            from offerlab.store._pgcluster import temporary_postgres

            url = stack.enter_context(temporary_postgres())
            env["OFFERLAB_DATABASE_URL"] = url
        else:
            url = f"sqlite:///{work / 'offerlab.db'}"
        port = free_port()
        args = [sys.executable, "-m", "offerlab", "serve", str(study_file)]
        args += ["--design", str(design_file), "--port", str(port)]
        args += ["--workers", str(plan.workers)]
        server = Server(args, work, env, port, plan.workers)
        server.start()
        stack.callback(server.stop)
        first_workers = set(server.current_workers())
        rec = Record()
        barrier = threading.Barrier(plan.respondents)
        done = threading.Event()
        events = plan.events()
        t0 = time.perf_counter()

        errors: list[str] = []
        restart_retries: list[int] = []
        in_survey: list[tuple[str, int]] = []  # each kill, and how many were still answering

        def killer() -> None:
            try:
                kill_all()
            except Exception as error:  # reported: a kill that failed fails the run
                errors.append(repr(error))

        def kill_all() -> None:
            for k, what in enumerate(events, start=1):
                while len(rec.acknowledged) < plan.respondents * PAGES_EACH * k / (len(events) + 1):
                    if done.wait(0.05):
                        return
                retries = rec.retries
                with rec.lock:
                    in_survey.append((what, plan.respondents - sum(rec.ends.values())))
                if what == "worker":
                    event = server.kill_worker()
                    event.retries = rec.retries - retries
                else:
                    down = time.monotonic()
                    server.kill()
                    server.start()
                    server.restarts.append(time.monotonic() - down)
                    restart_retries.append(rec.retries - retries)
                    first_workers.update(server.current_workers())

        kill_thread = threading.Thread(target=killer, daemon=True)
        kill_thread.start()
        with ThreadPoolExecutor(plan.respondents) as pool:
            people = range(plan.respondents)
            list(pool.map(lambda i: respondent(server.base, i, rec, barrier), people))
        elapsed = time.perf_counter() - t0
        done.set()
        kill_thread.join(300)
        resumable = _check_resume(server.base, list(rec.tokens.values()))
        if plan.workers > 1:
            server.current_workers()
        server.stop()
        check = _verify(url, study, design, rec)
    replaced = {k.replacement for k in server.worker_kills}
    lat = np.array(rec.latencies) * 1000
    return {
        "db": plan.db,
        "respondents": plan.respondents,
        "workers": plan.workers,
        "kills": len(server.restarts),
        "restart_seconds": server.restarts,
        "restart_retries": restart_retries,
        "worker_kills": len(server.worker_kills),
        "worker_kill_events": [vars(k) for k in server.worker_kills],
        # workers the supervisor replaced without being asked (e.g. a failed health check)
        "other_worker_replacements": len(server.workers_seen - first_workers - replaced),
        "kill_errors": errors,
        "planned_kills": events,
        "in_survey_at_kills": in_survey,
        "acknowledged": len(rec.acknowledged),
        **check,
        "resumable": resumable,
        "known": len(rec.tokens),
        "ends": dict(rec.ends),
        "left_and_resumed": rec.resumed,
        "resumed_to_stored_page": rec.resumed_to_stored_page,
        "retries": rec.retries,
        "retry_causes": dict(rec.retry_causes),
        "requests": len(lat),
        "seconds": elapsed,
        "throughput": len(lat) / elapsed,
        "p50": float(np.percentile(lat, 50)),
        "p95": float(np.percentile(lat, 95)),
        "p99": float(np.percentile(lat, 99)),
    }


def _check_resume(base: str, tokens: list[str]) -> int:
    """How many respondents' personal links answer (their page, or the end) in a new browser."""
    ok = 0
    with httpx.Client(base_url=base, timeout=30, follow_redirects=False) as c:
        for token in tokens:
            r = c.get(f"/r/{token}")
            ok += r.status_code in (200, 303)
    return ok


def _verify(url: str, study, design, rec: Record) -> dict[str, int]:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from offerlab.field import Survey
    from offerlab.store import Respondent, Submission, make_engine

    survey = Survey(study, design)
    engine = make_engine(url)
    with Session(engine) as s:
        rows = s.execute(
            select(Respondent.token, Submission.page, Submission.answer, Respondent.language).join(
                Submission, Submission.respondent_id == Respondent.id
            )
        ).all()
        duplicates = s.execute(
            select(func.count()).select_from(
                select(Submission.respondent_id, Submission.page)
                .group_by(Submission.respondent_id, Submission.page)
                .having(func.count() > 1)
                .subquery()
            )
        ).scalar_one()
        status = {t: st for t, st in s.execute(select(Respondent.token, Respondent.status))}
    engine.dispose()
    stored = {(t, p): (a, lang) for t, p, a, lang in rows}
    by_token: dict[str, dict[str, dict]] = {}
    for (t, p), (a, _) in stored.items():
        by_token.setdefault(t, {})[p] = a
    acked = Counter((token, key) for token, key, _ in rec.acknowledged)
    lost = wrong = 0
    for token, key, fields in rec.acknowledged:
        if (token, key) not in stored:
            lost += 1
            continue
        answer, lang = stored[(token, key)]
        expected = survey.parse_answer(key, _multi(fields), lang, by_token[token])
        wrong += expected != answer
    known = set(rec.tokens.values())
    return {
        "stored": len(stored),
        "lost": lost,
        "wrong": wrong,
        "duplicates": duplicates + sum(n - 1 for n in acked.values()),
        # stored, yet no browser was told: a retried submit is answered "repeat" (303), so
        # only the first page of a respondent whose retry began another one counts here
        "stored_unacknowledged": len(set(stored) - set(acked)),
        "unfinished": sum(status.get(t, "active") == "active" for t in known),
        # respondents begun by a request whose answer a kill lost (the retry began another)
        "other_respondents": len(set(status) - known),
    }


def run_bare(n: int, requests_each: int, work: Path, size: int) -> dict[str, object]:
    (work / "bare_app.py").write_text(BARE_APP.replace("{size}", str(size)))
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(port)]
    args += ["--log-level", "warning"]
    server = Server(args, work, dict(os.environ), port)
    server.start()
    rec = Record()
    barrier = threading.Barrier(n)

    def client(_: int) -> None:
        with httpx.Client(base_url=server.base, timeout=30) as c:
            barrier.wait()
            for _ in range(requests_each):
                _request(c, "GET", "/", rec)

    t0 = time.perf_counter()
    try:
        with ThreadPoolExecutor(n) as pool:
            list(pool.map(client, range(n)))
    finally:
        server.stop()
    elapsed = time.perf_counter() - t0
    lat = np.array(rec.latencies) * 1000
    return {
        "requests": len(lat),
        "seconds": elapsed,
        "throughput": len(lat) / elapsed,
        "p50": float(np.percentile(lat, 50)),
        "p95": float(np.percentile(lat, 95)),
        "p99": float(np.percentile(lat, 99)),
    }


def _plans(args: argparse.Namespace) -> list[Plan]:
    plans = []
    for db in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        workers = args.workers or (2 if db == "postgresql" else 1)
        kills = args.kills if args.kills is not None else (1 if workers > 1 else 3)
        worker_kills = args.worker_kills if workers > 1 else 0
        plans.append(Plan(db, args.respondents, workers, kills, worker_kills))
    return plans


def _print(results: list[dict], bare: dict | None) -> None:
    print()
    print(
        "| database | workers | server / worker kills | acknowledged | lost | wrong | duplicated "
        "| resumable | finished | retries | p50 ms | p95 ms | p99 ms | req/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['db']} | {r['workers']} | {r['kills']} / {r['worker_kills']} "
            f"| {r['acknowledged']} | {r['lost']} | {r['wrong']} | {r['duplicates']} "
            f"| {r['resumable']}/{r['respondents']} "
            f"| {r['known'] - r['unfinished']}/{r['respondents']} | {r['retries']} "
            f"| {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} | {r['throughput']:.0f} |"
        )
    if bare is not None:
        print(
            f"| bare ASGI page | 1 | – | – | – | – | – | – | – | – "
            f"| {bare['p50']:.0f} | {bare['p95']:.0f} | {bare['p99']:.0f} "
            f"| {bare['throughput']:.0f} |"
        )
    for r in results:
        print(
            f"{r['db']}: ends {r['ends']}; left and came back {r['left_and_resumed']} "
            f"(to a page already stored: {r['resumed_to_stored_page']}); stored but "
            f"unacknowledged {r['stored_unacknowledged']}; respondents begun by a lost "
            f"answer {r['other_respondents']}"
        )
        print(f"  requests sent again, by cause: {r['retry_causes']}")
        print(
            f"  kills (respondents still in the survey): {r['in_survey_at_kills']} "
            f"of {r['planned_kills']} planned"
        )
        for seconds, retries in zip(r["restart_seconds"], r["restart_retries"], strict=True):
            print(
                f"  server SIGKILLed: answering again (all workers up) after {seconds:.1f} s; "
                f"{retries} requests sent again meanwhile"
            )
        for k in r["worker_kill_events"]:
            started = "never" if k["started_s"] is None else f"{k['started_s']:.1f} s"
            answered = "never" if k["answered_s"] is None else f"{k['answered_s']:.1f} s"
            print(
                f"  worker {k['killed']} SIGKILLed: replacement {k['replacement']} started "
                f"after {started}, answered after {answered}; {k['retries']} requests sent again; "
                f"client connections per worker at the kill {k['connections']}"
            )
        for error in r["kill_errors"]:
            print(f"  a kill failed: {error}")
        if r["workers"] > 1:
            print(f"  workers replaced without a kill: {r['other_worker_replacements']}")
        if bare is not None:
            print(
                f"  offerlab / bare page: p50 ×{r['p50'] / bare['p50']:.1f}, "
                f"p95 ×{r['p95'] / bare['p95']:.1f}, p99 ×{r['p99'] / bare['p99']:.1f}, "
                f"throughput ×{r['throughput'] / bare['throughput']:.2f}"
            )


def _failed(r: dict) -> bool:
    unreplaced = any(k["answered_s"] is None for k in r["worker_kill_events"])
    return bool(
        r["lost"]
        or r["wrong"]
        or r["duplicates"]
        or r["resumed_to_stored_page"]
        or r["unfinished"]
        or r["known"] != r["respondents"]
        or r["resumable"] != r["respondents"]
        or unreplaced
        or r["kill_errors"]
        or len(r["in_survey_at_kills"]) != len(r["planned_kills"])
        or any(active == 0 for _, active in r["in_survey_at_kills"])
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--respondents", type=int, default=200)
    parser.add_argument(
        "--workers", type=int, default=0, help="default: 2 on PostgreSQL, 1 on SQLite"
    )
    parser.add_argument(
        "--kills", type=int, default=None, help="whole-server kills; default 1 with workers, else 3"
    )
    parser.add_argument("--worker-kills", type=int, default=3, help="with --workers > 1")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare ASGI page")
    args = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} cores", flush=True)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-field-") as tmp:
        work = Path(tmp)
        for plan in _plans(args):
            folder = work / plan.db
            folder.mkdir()
            results.append(run_survey(plan, folder))
            print(f"{plan.db}: done in {results[-1]['seconds']:.1f} s", flush=True)
        bare = None
        if not args.no_bare:
            bare_dir = work / "bare"
            bare_dir.mkdir()
            bare = run_bare(args.respondents, 40, bare_dir, size=6000)
    _print(results, bare)
    path = save_results(
        "field",
        {"started": started, "argv": sys.argv, "machine": machine(), "runs": results, "bare": bare},
    )
    print(f"results: {path}")
    if any(_failed(r) for r in results):
        print("FAILED: answers lost, wrong or duplicated, respondents stuck, or a kill failed")
        sys.exit(1)
    print("every acknowledged answer is stored exactly once; every respondent resumed and finished")


if __name__ == "__main__":
    main()
