"""Nothing lost: 200 concurrent respondents through the whole survey while the server is killed.

Runs ``offerlab serve`` on the example car-subscription study (SQLite in a temporary
working folder, then PostgreSQL in a throwaway cluster), sends ``--respondents``
simulated respondents through every page at once (one thread each, answering the
real HTML forms like a browser), and SIGKILLs the server ``--kills`` times during
the run, restarting it at once. Respondents retry as browsers do: a request that
failed is sent again once the server is back.

At the end it checks, in the database:

* every page submit the server acknowledged (HTTP 303) is stored exactly once, with
  the answer that was sent (re-parsed by the survey's own rules);
* every respondent can resume (their link answers with their page, or the end);

and reports page latency (p50/p95/p99 of every GET and POST that succeeded at the
first try), throughput, and the same figures for a bare ASGI page (a Starlette app
returning a fixed page of the same size) served by the same uvicorn and loaded by
the same clients, and their ratio.

    .venv/bin/python bench/bench_field.py                   # both databases, 200 respondents
    .venv/bin/python bench/bench_field.py --db sqlite --respondents 50 --kills 2
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from offerlab.design import make_design  # noqa: E402
from offerlab.field._bot import fill_form, read_form  # noqa: E402
from offerlab.study import example_path, load_study  # noqa: E402

QUALIFY = {
    "consent": {"answer": "agree"},
    "age_band": {"answer": "age_35_54"},
    "licence": {"answer": "yes"},
    "attention": {"answer": "somewhat"},
}
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
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``offerlab serve`` as a child process that can be killed and restarted."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str], port: int) -> None:
        self.args, self.cwd, self.env, self.port = args, cwd, env, port
        self.base = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None
        self.restarts = 0

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.args,
            cwd=self.cwd,
            env=self.env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("the server did not start")

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Record:
    latencies: list[float] = field(default_factory=list)  # first-try successes only
    acknowledged: list[tuple[str, str, list[tuple[str, str]]]] = field(default_factory=list)
    retries: int = 0
    tokens: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _request(c: httpx.Client, method: str, url: str, rec: Record, **kw: object) -> httpx.Response:
    """Send until the server answers (as a browser's retry would), timing the first try."""
    first = True
    deadline = time.monotonic() + 180
    while True:
        start = time.perf_counter()
        try:
            r = c.request(method, url, **kw)  # type: ignore[arg-type]
            if r.status_code < 500:
                if first:
                    with rec.lock:
                        rec.latencies.append(time.perf_counter() - start)
                return r
        except httpx.TransportError:
            pass
        first = False
        with rec.lock:
            rec.retries += 1
        if time.monotonic() > deadline:
            raise RuntimeError(f"{method} {url}: no answer for 3 minutes")
        time.sleep(0.2)


def respondent(base: str, i: int, rec: Record, start: threading.Barrier) -> None:
    rng = np.random.default_rng(i)
    with httpx.Client(base_url=base, timeout=30, follow_redirects=False) as c:
        start.wait()
        # the entry form; its POST makes the respondent (a retried POST finds the same one)
        entry = read_form(_request(c, "GET", f"/s/car_subscription?psid=b{i}", rec).text)
        fields = fill_form(entry, rng, QUALIFY)
        r = _request(c, "POST", entry.action, rec, data=dict(_multi(fields)))
        url = r.headers["location"]
        with rec.lock:
            rec.tokens.append(url.rsplit("/", 1)[1])
            rec.acknowledged.append((url.rsplit("/", 1)[1], entry.key, fields))
        for _ in range(200):
            r = _request(c, "GET", url, rec)
            if r.status_code == 303:
                return
            page = read_form(r.text)
            fields = fill_form(page, rng, QUALIFY)
            r = _request(c, "POST", url, rec, data=dict(_multi(fields)))
            if r.status_code == 303:
                with rec.lock:
                    rec.acknowledged.append((url.rsplit("/", 1)[1], page.key, fields))


def _multi(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in fields:
        out.setdefault(k, []).append(v)
    return out


def run_survey(db: str, n: int, kills: int, work: Path) -> dict[str, object]:
    study_file = example_path()
    study = load_study(study_file)
    design = make_design(study, method="random", versions=20, seed=7)
    design_file = work / "design.csv"
    design.write(design_file)
    env = {k: v for k, v in os.environ.items() if k != "OFFERLAB_DATABASE_URL"}
    with ExitStack() as stack:
        if db == "postgresql":
            from offerlab.store._pgcluster import temporary_postgres

            url = stack.enter_context(temporary_postgres())
            env["OFFERLAB_DATABASE_URL"] = url
        else:
            url = f"sqlite:///{work / 'offerlab.db'}"
        port = free_port()
        args = [
            sys.executable,
            "-m",
            "offerlab",
            "serve",
            str(study_file),
            "--design",
            str(design_file),
            "--port",
            str(port),
        ]
        server = Server(args, work, env, port)
        server.start()
        rec = Record()
        barrier = threading.Barrier(n)
        expected = n * 31  # about 31 pages a respondent
        t0 = time.perf_counter()

        def killer() -> None:
            for k in range(1, kills + 1):
                while len(rec.acknowledged) < expected * k / (kills + 1):
                    time.sleep(0.05)
                server.kill()
                server.start()
                server.restarts += 1

        kill_thread = threading.Thread(target=killer, daemon=True)
        kill_thread.start()
        with ThreadPoolExecutor(n) as pool:
            list(pool.map(lambda i: respondent(server.base, i, rec, barrier), range(n)))
        elapsed = time.perf_counter() - t0
        kill_thread.join(5)
        resumable = _check_resume(server.base, rec.tokens)
        server.stop()
        lost, wrong, duplicates, stored = _verify(url, study, design, rec)
    lat = np.array(rec.latencies) * 1000
    return {
        "db": db,
        "respondents": n,
        "kills": server.restarts,
        "acknowledged": len(rec.acknowledged),
        "stored": stored,
        "lost": lost,
        "wrong": wrong,
        "duplicates": duplicates,
        "resumable": resumable,
        "retries": rec.retries,
        "requests": len(lat),
        "seconds": elapsed,
        "throughput": len(lat) / elapsed,
        "p50": float(np.percentile(lat, 50)),
        "p95": float(np.percentile(lat, 95)),
        "p99": float(np.percentile(lat, 99)),
    }


def _check_resume(base: str, tokens: list[str]) -> int:
    ok = 0
    with httpx.Client(base_url=base, timeout=30, follow_redirects=False) as c:
        for token in tokens:
            r = c.get(f"/r/{token}")
            ok += r.status_code in (200, 303)
    return ok


def _verify(url: str, study, design, rec: Record) -> tuple[int, int, int, int]:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from offerlab.field._flow import Survey
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
    stored = {(t, p): (a, lang) for t, p, a, lang in rows}
    by_token: dict[str, dict[str, dict]] = {}
    for (t, p), (a, _) in stored.items():
        by_token.setdefault(t, {})[p] = a
    lost = wrong = 0
    for token, key, fields in rec.acknowledged:
        if (token, key) not in stored:
            lost += 1
            continue
        answer, lang = stored[(token, key)]
        expected = survey.parse_answer(key, _multi(fields), lang, by_token[token])
        wrong += expected != answer
    engine.dispose()
    return lost, wrong, duplicates, len(stored)


def run_bare(n: int, requests_each: int, work: Path, size: int) -> dict[str, object]:
    (work / "bare_app.py").write_text(BARE_APP.replace("{size}", str(size)))
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "bare_app:app",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
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
    with ThreadPoolExecutor(n) as pool:
        list(pool.map(client, range(n)))
    elapsed = time.perf_counter() - t0
    server.stop()
    lat = np.array(rec.latencies) * 1000
    return {
        "requests": len(lat),
        "seconds": elapsed,
        "throughput": len(lat) / elapsed,
        "p50": float(np.percentile(lat, 50)),
        "p95": float(np.percentile(lat, 95)),
        "p99": float(np.percentile(lat, 99)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--respondents", type=int, default=200)
    parser.add_argument("--kills", type=int, default=3)
    args = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} cores")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-field-") as tmp:
        work = Path(tmp)
        for db in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
            folder = work / db
            folder.mkdir()
            results.append(run_survey(db, args.respondents, args.kills, folder))
            print(f"{db}: done in {results[-1]['seconds']:.1f} s", flush=True)
        bare_dir = work / "bare"
        bare_dir.mkdir()
        bare = run_bare(args.respondents, 40, bare_dir, size=6000)
    print()
    print(
        "| database | respondents | kills | acknowledged | lost | wrong | duplicates | "
        "resumable | retries | p50 ms | p95 ms | p99 ms | req/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['db']} | {r['respondents']} | {r['kills']} | {r['acknowledged']} | {r['lost']} "
            f"| {r['wrong']} | {r['duplicates']} | {r['resumable']}/{r['respondents']} "
            f"| {r['retries']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} "
            f"| {r['throughput']:.0f} |"
        )
    print(
        f"| bare ASGI page | {args.respondents} clients | – | – | – | – | – | – | – "
        f"| {bare['p50']:.1f} | {bare['p95']:.1f} | {bare['p99']:.1f} | {bare['throughput']:.0f} |"
    )
    for r in results:
        print(
            f"{r['db']}: offerlab / bare page: p50 ×{r['p50'] / bare['p50']:.1f}, "
            f"p95 ×{r['p95'] / bare['p95']:.1f}, p99 ×{r['p99'] / bare['p99']:.1f}, "
            f"throughput ×{r['throughput'] / bare['throughput']:.2f}"
        )
    bad = [
        r
        for r in results
        if r["lost"] or r["wrong"] or r["duplicates"] or r["resumable"] != r["respondents"]
    ]
    if bad:
        print("FAILED: answers lost, wrong, duplicated or not resumable")
        sys.exit(1)
    print("every acknowledged answer is stored exactly once; every respondent can resume")


if __name__ == "__main__":
    main()
