"""YAML bombs uploaded in the console: a 422 naming the line, in < 1 s and < 50 MB.

A 331-byte study uploaded to ``POST /console/ventures/{id}/studies`` used to cost the
server 2.7 s and +200 MB that it kept; the market publish behaved the same. Both go
through the one bounded YAML reader now.
"""

from __future__ import annotations

import html
import time
import tracemalloc
from pathlib import Path

import pytest
from _respondent import client
from test_console import _csrf, _login, _setup

ROOT = Path(__file__).resolve().parents[2]
LAUGHS = (ROOT / "tests" / "study" / "bombs" / "nested_aliases.yaml").read_text(encoding="utf-8")
BOMBS = {
    # name: (text, what the page says, line)
    "billion laughs": (LAUGHS, "the alias *d repeats 7,381 values", 7),
    "deep nesting": ("offers: " + "[" * 500 + "]" * 500 + "\n", "nest more than 32 levels", 1),
    "long key": ("offers:\n  - " + "k" * 1000 + ": 1\n", "a key of 1,000 characters", 2),
}


def _measured_post(c, url: str, **kwargs):
    tracemalloc.start()
    # CPU seconds of this process (the app's thread included): the work done, which a
    # busy machine does not inflate as it does the wall clock
    started = time.process_time()
    response = c.post(url, **kwargs)
    seconds = time.process_time() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return response, seconds, peak


@pytest.mark.parametrize("how", ["file", "pasted"])
@pytest.mark.parametrize("bomb", list(BOMBS))
def test_a_study_upload_that_is_a_yaml_bomb_is_refused_at_once(
    bomb: str, how: str, tmp_path: Path
) -> None:
    text, says, line = BOMBS[bomb]
    fielding, venture = _setup(f"sqlite:///{tmp_path / 'bomb.db'}")
    c = client(fielding)
    _login(c, "analyst@a.ch")
    csrf = _csrf(c)
    url = f"/console/ventures/{venture}/studies"
    if how == "file":
        sent = {"data": {"csrf": csrf}, "files": {"study_file": ("bomb.yaml", text.encode())}}
        where = f"bomb.yaml:{line}:"
    else:
        sent = {"data": {"csrf": csrf, "study_yaml": text}}
        where = f"study file:{line}:"
    r, seconds, peak = _measured_post(c, url, **sent)
    assert r.status_code == 422
    assert where in r.text and says in r.text
    assert "Traceback" not in r.text
    assert seconds < 1.0, f"{seconds:.2f} s"
    assert peak < 50, f"{peak:.1f} MB"
    assert c.get("/console/studies/bomb").status_code == 404  # nothing was stored


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_a_market_file_that_is_a_yaml_bomb_is_refused_at_once(bomb: str, tmp_path: Path) -> None:
    text, says, line = BOMBS[bomb]
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'market.db'}")
    c = client(fielding)
    _login(c, "analyst@a.ch")
    sent = {"data": {"model": "mnl", "market_yaml": text, "csrf": _csrf(c)}}
    r, seconds, peak = _measured_post(c, "/console/studies/tiny/simulator", **sent)
    assert r.status_code == 422
    page = html.unescape(r.text)
    assert f"market file:{line}:" in page and says in page
    assert seconds < 1.0, f"{seconds:.2f} s"
    assert peak < 50, f"{peak:.1f} MB"
    files = {"market_file": ("market.yaml", text.encode())}
    r, seconds, peak = _measured_post(
        c, "/console/studies/tiny/simulator", data={"model": "mnl", "csrf": _csrf(c)}, files=files
    )
    assert r.status_code == 422 and f"market.yaml:{line}:" in html.unescape(r.text)
    assert seconds < 1.0 and peak < 50, (seconds, peak)
