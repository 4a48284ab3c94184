"""Shared plumbing of the bench scripts: run one side in a child process, measure it, report.

Stdlib only: this module is imported both by the driver (bench/.venv) and by the
workers, which run under each peer's own interpreter (bench/.venv-biogeme, …).

Peak memory is the worker's own high-water resident set, ``VmHWM`` in
/proc/self/status, read by the worker as it finishes: the interpreter, imports, the
data it loaded and the fit. Not ``ru_maxrss``: for a child (``RUSAGE_CHILDREN`` or
:func:`os.wait4`) and for ``RUSAGE_SELF`` alike, Linux keeps in it the high-water mark
of the memory image the child had between fork and exec, i.e. the driver's, so every
side read the same 937 MiB once the driver held the 366 MiB simulated study. VmHWM
belongs to the address space made at exec. Workers also report their resident set
just before the timed section, so "fit extra" = peak − RSS before fit (a lower bound
of what the fit itself added when loading peaked higher).
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"

VENVS = {
    "driver": BENCH / ".venv",
    "biogeme": BENCH / ".venv-biogeme",
    "choicedesign": BENCH / ".venv-choicedesign",
    "py312": BENCH / ".venv-py312",
}

BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def venv_python(name: str) -> Path | None:
    """The interpreter of a bench venv, or None when setup.sh did not build it."""
    python = VENVS[name] / "bin" / "python"
    return python if python.exists() else None


def machine() -> dict[str, Any]:
    """CPU model, core count, memory and the BLAS-related environment of this run."""
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    mem_gib = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    mem_gib = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    git = {}
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "src"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        git = {"head": head, "src_uncommitted_changes": bool(dirty)}
    except OSError:
        pass
    return {
        "git": git,
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "python": platform.python_version(),
        "env": {k: os.environ.get(k) for k in BLAS_VARS},
        "load_average_start": os.getloadavg(),
    }


def blas_warning() -> str | None:
    """The note to print when OPENBLAS_CORETYPE/L2_SIZE are set (they slow current numpy)."""
    set_vars = [k for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if os.environ.get(k)]
    if not set_vars:
        return None
    return (
        f"note: {', '.join(f'{k}={os.environ[k]}' for k in set_vars)} is set; every side of this "
        "run inherits it (same setting for both). For figures on the native OpenBLAS kernel run "
        "`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE bench/.venv/bin/python …`."
    )


def peak_rss_kib() -> int:
    """High-water resident set of this process's address space since exec, KiB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def cpu_seconds_with_children() -> float:
    """User + system CPU seconds of this process and of its waited-for children (the HB
    chain processes), from ``getrusage``."""
    import resource

    usages = map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return sum(u.ru_utime + u.ru_stime for u in usages)


def rss_now_kib() -> int:
    """Current resident set of this process, KiB (Linux /proc)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def blas_info() -> list[dict[str, Any]]:
    """threadpoolctl's view of the BLAS/OpenMP pools loaded in this process (if available)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("internal_api", "version", "architecture", "num_threads", "threading_layer")
    return [{k: info.get(k) for k in keep} for info in threadpool_info()]


def run_worker(
    python: Path, script: Path, args: list[str], *, timeout: float, log: Path
) -> dict[str, Any]:
    """Run ``python script --worker …`` in a child, wait with a timeout, measure it.

    The worker writes its JSON result to the file named by ``--out``. Returns that
    result (with the worker's own ``peak_rss_mib``, VmHWM) plus ``cpu_s`` (user + system
    time of the child, from wait4), ``wall_s`` and ``status`` ("ok", "timeout", "failed").
    """
    out = log.with_suffix(".json")
    out.unlink(missing_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as fh:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [str(python), str(script), "--worker", *args, "--out", str(out)],
            stdout=fh,
            stderr=subprocess.STDOUT,
            cwd=str(log.parent),
            start_new_session=True,
        )
        deadline = t0 + timeout
        status = "ok"
        try:
            while True:
                pid, wstatus, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() > deadline:
                    os.killpg(proc.pid, signal.SIGKILL)
                    pid, wstatus, usage = os.wait4(proc.pid, 0)
                    status = "timeout"
                    break
                time.sleep(0.05)
        except BaseException:  # interrupted (Ctrl-C, SIGTERM): take the child down too
            os.killpg(proc.pid, signal.SIGKILL)
            os.wait4(proc.pid, 0)
            raise
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(wstatus)
    result: dict[str, Any] = {}
    if status == "ok":
        if proc.returncode != 0 or not out.exists():
            status = "failed"
        else:
            result = json.loads(out.read_text())
    result.update(
        status=status,
        exit_code=proc.returncode,
        ru_maxrss_mib=usage.ru_maxrss / 1024,  # includes the driver's image: see module doc
        cpu_s=usage.ru_utime + usage.ru_stime,
        wall_s=wall,
        log=str(log),
    )
    if status != "ok":
        tail = log.read_text(errors="replace").splitlines()[-15:]
        result["error"] = "\n".join(tail)
    return result


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so a killed driver also kills its running worker."""

    def _raise(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _raise)


def write_worker_result(path: str, result: dict[str, Any]) -> None:
    result = dict(result)
    result["peak_rss_mib"] = peak_rss_kib() / 1024
    result.setdefault("python", platform.python_version())
    result.setdefault("blas", blas_info())
    Path(path).write_text(json.dumps(result, indent=1, default=float))


def table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> str:
    """A plain-text table: ``columns`` is (key, header); values are preformatted strings."""
    cells = [[str(r.get(k, "")) for k, _ in columns] for r in rows]
    widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, (_, h) in enumerate(columns)]
    line = "  ".join(h.ljust(w) for (_, h), w in zip(columns, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(out)


def fmt(value: Any, spec: str = ".3g") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return format(value, spec)
    return str(value)


_STAMP = time.strftime("%Y%m%d-%H%M%S")


def run_dir(name: str) -> Path:
    """This run's own folder for worker logs and data (runs may overlap on a shared machine)."""
    path = RESULTS / "runs" / f"{name}-{_STAMP}-{os.getpid()}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_note() -> str | None:
    """A warning when other work loads the machine (timings then are noisy)."""
    load1 = os.getloadavg()[0]
    if load1 < 0.5:
        return None
    return (
        f"warning: load average {load1:.2f} at start: other processes compete for the "
        f"{os.cpu_count()} cores, so timings are noisy (ratios within one run less so)."
    )


def save_results(name: str, payload: dict[str, Any]) -> Path:
    """Write bench/results/<name>-<timestamp>-<pid>.json and <name>-latest.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {**payload, "load_average_end": os.getloadavg()}
    text = json.dumps(payload, indent=1, default=float)
    path = RESULTS / f"{name}-{_STAMP}-{os.getpid()}.json"
    path.write_text(text)
    (RESULTS / f"{name}-latest.json").write_text(text)
    return path


def die(msg: str) -> None:
    print(msg, file=sys.stderr)
    raise SystemExit(2)
