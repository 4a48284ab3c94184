"""The decision report published in the console, and the simulator's saved scenarios.

Analysts publish dated versions of the report; viewers the study is shared with read the
newest in their language, download its PDF and Excel, and see what changed since the
version before. Anyone who reads the study saves named scenarios of the simulator and
exports its table as a formula-safe CSV.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading

from _respondent import QUALIFY, Browser, client
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_console import MARKET, _csrf, _login, _setup

from offerlab.field import _publications
from offerlab.report import _pdf
from offerlab.store import AuditEvent, PublicationFile


def _complete(fielding, start: int, stop: int) -> None:
    for i in range(start, stop):
        b = Browser(client(fielding), seed=i)
        b.enter(f"/s/tiny?pid=p{i}")
        b.finish({**QUALIFY, "band": {"answer": "old"}})


def _publish(c, market: str = MARKET, model: str = "mnl"):
    return c.post(
        "/console/studies/tiny/report",
        data={"model": model, "market_yaml": market, "csrf": _csrf(c)},
    )


def _stored(fielding, language: str | None = None) -> list[tuple[str, str]]:
    """(language, format) of every stored file of the study's publications."""
    with Session(fielding.engine) as s:
        rows = s.execute(select(PublicationFile.language, PublicationFile.format)).all()
    return sorted((lang, name) for lang, name in rows if language in (None, lang))


class _CountedDrawing:
    """write_pdf_document, counted; ``meet`` parties wait for each other inside it (so
    two workers both draw before either stores), then draw in turn (pyplot is one per
    process; two workers have one each)."""

    def __init__(self, monkeypatch, meet: int = 1) -> None:
        self.calls = 0
        self.barrier = threading.Barrier(meet)
        self.in_turn = threading.Lock()
        self.draw = _pdf.write_pdf_document
        monkeypatch.setattr(_pdf, "write_pdf_document", self)

    def __call__(self, document, path):
        self.calls += 1
        self.barrier.wait(timeout=60)
        with self.in_turn:
            return self.draw(document, path)


def _at_once(work, n: int = 2) -> list:
    results: list = [None] * n
    start = threading.Barrier(n)

    def run(i: int) -> None:
        start.wait(timeout=60)
        results[i] = work()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_an_analyst_publishes_versions_a_shared_viewer_reads_in_german(
    migrated_database_url, monkeypatch
) -> None:
    fielding, _ = _setup(migrated_database_url)  # SQLite and PostgreSQL (the files are bytea there)
    _complete(fielding, 0, 30)
    analyst = client(fielding)
    _login(analyst, "analyst@a.ch")
    assert _publish(analyst).status_code == 303  # the build runs after the response
    # HTML, Excel and each language's PDF document are stored; a PDF when first asked for
    assert _stored(fielding, "de") == [("de", "pdf.json"), ("de", "report.html"),
                                       ("de", "report.xlsx")]  # fmt: skip
    page = analyst.get("/console/studies/tiny/report").text
    assert 'data-version="1"' in page and "report-failed" not in page, page
    viewer = client(fielding)
    viewer.headers["Accept-Language"] = "de-CH,de;q=0.9"
    _login(viewer, "viewer@a.ch")
    page = viewer.get("/console/studies/tiny/report").text
    assert '<html lang="de">' in page and "Entscheidungsbericht" in page
    assert "Dies ist die erste veröffentlichte Version." in page
    assert "Multinomiales Logit-Modell, 30 abgeschlossene Befragte" in page
    assert "Bericht veröffentlichen" not in page  # viewers read, they do not publish
    drawing = _CountedDrawing(monkeypatch)
    pdf = viewer.get("/console/studies/tiny/report/1/de/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert drawing.calls == 1 and ("de", "report.pdf") in _stored(fielding, "de")
    assert ("fr", "report.pdf") not in _stored(fielding, "fr")  # only what is read
    assert "tiny_report_v1_de.pdf" in pdf.headers["content-disposition"]
    xlsx = viewer.get("/console/studies/tiny/report/1/de/report.xlsx")
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    html = viewer.get("/console/studies/tiny/report/1/de/report.html")
    policy = html.headers["content-security-policy"]
    assert "'sha256-" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    # a second version on more answers and a dearer offer: the viewer sees what changed
    _complete(fielding, 30, 40)
    assert _publish(analyst, MARKET.replace("price: 15", "price: 25")).status_code == 303
    page = viewer.get("/console/studies/tiny/report").text
    assert 'data-version="2"' in page
    changes = re.search(r'<ul class="changes" id="report-changes">(.*?)</ul>', page, re.S)[1]
    assert "Befragte: 30 → 40" in changes
    assert "Preis von Ours: CHF\u00a015.00 → CHF\u00a025.00" in changes
    assert "Anteil von Keines:" in changes and "none" not in changes  # the label, not the code
    assert "Anteil von Ours:" in changes
    # every version is kept; the first one still downloads, its stored PDF as it was
    again = viewer.get("/console/studies/tiny/report/1/de/report.pdf")
    assert again.status_code == 200 and again.content == pdf.content and drawing.calls == 1
    with Session(fielding.engine) as s:
        events = s.execute(
            select(AuditEvent.detail).where(AuditEvent.action == "report.publish")
        ).scalars()
        assert [e["version"] for e in events] == [1, 2]


#: A small PDF document (a heading, a paragraph, a table): what publishing stores per language.
DOCUMENT = {
    "format": 1,
    "title": "Bericht",
    "steps": [
        ["heading", "Empfehlung", 14],
        ["paragraph", "Ours zu CHF 15", 10, False, "#1a202c", 0.08],
        ["table", "", ["Angebot", "Anteil"], [["Ours", "41 %"], ["Theirs", "59 %"]], ["Anteil"]],
    ],
    "figures": [],
}


def _ready_version(fielding, documents: dict[str, dict]) -> None:
    """Version 1 of the study's report, ready, with these PDF documents (no PDF yet)."""
    from offerlab.store import PublicationRow

    with Session(fielding.engine) as s, s.begin():
        row = PublicationRow(
            study_id=fielding.study_id, version=1, created_at=0.0, created_by=None,
            model="mnl", status="ready", step="", market_yaml=MARKET, respondents=20,
            data_hash="0" * 64, finished_at=1.0, message="", summary="",
        )  # fmt: skip
        s.add(row)
        s.flush()
        for language, document in documents.items():
            content = json.dumps(document).encode("utf-8")
            s.add(PublicationFile(publication_id=row.id, language=language, format="pdf.json",
                                  content=content))  # fmt: skip


def test_first_downloads_at_once_draw_a_pdf_once_and_store_one_copy(
    migrated_database_url, monkeypatch
) -> None:
    fielding, _ = _setup(migrated_database_url)
    _ready_version(fielding, {"de": DOCUMENT, "fr": DOCUMENT})
    engine, study = fielding.engine, fielding.study_id
    # two first downloads at once in one process: one drawing, one stored copy
    drawing = _CountedDrawing(monkeypatch)
    both = _at_once(lambda: _publications.published_pdf(engine, study, 1, "de"))
    assert drawing.calls == 1 and both[0] == both[1] and both[0].startswith(b"%PDF-")
    assert _stored(fielding, "de") == [("de", "pdf.json"), ("de", "report.pdf")]
    # two workers (no lock shared) draw at once: the first stored copy is kept and served
    monkeypatch.setattr(_publications, "_DRAWING", contextlib.nullcontext())
    racing = _CountedDrawing(monkeypatch, meet=2)
    both = _at_once(lambda: _publications.published_pdf(engine, study, 1, "fr"))
    assert racing.calls == 2 and both[0] == both[1]
    assert _stored(fielding, "fr") == [("fr", "pdf.json"), ("fr", "report.pdf")]
    assert _publications.publication_file(engine, study, 1, "fr", "report.pdf") == both[0]
    assert _publications.published_pdf(engine, study, 1, "it") is None  # nothing to draw


def test_a_pdf_that_cannot_be_drawn_says_so_and_stores_nothing(tmp_path) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'broken.db'}")
    _ready_version(fielding, {"fr": {**DOCUMENT, "format": 0}, "de": DOCUMENT})
    viewer = client(fielding)
    viewer.headers["Accept-Language"] = "fr-CH"
    _login(viewer, "viewer@a.ch")
    r = viewer.get("/console/studies/tiny/report/1/fr/report.pdf")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    notice = re.search(r'id="report-pdf-failed">(.*?)</p>', r.text)[1]
    assert notice.startswith("Le PDF de la version 1 n’a pas pu être créé. Le HTML et")
    assert _stored(fielding, "fr") == [("fr", "pdf.json")]
    assert viewer.get("/console/studies/tiny/report/1/de/report.pdf").content[:5] == b"%PDF-"


def test_only_owners_and_analysts_publish_and_only_shared_viewers_read(tmp_path) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'roles.db'}")
    viewer = client(fielding)
    _login(viewer, "viewer@a.ch")
    assert _publish(viewer).status_code == 403
    unshared = client(fielding)
    _login(unshared, "unshared@a.ch")
    assert unshared.get("/console/studies/tiny/report").status_code == 404
    assert unshared.get("/console/studies/tiny/report/1/en/report.pdf").status_code == 404
    assert viewer.get("/console/studies/tiny/report/1/en/report.pdf").status_code == 404
    assert viewer.get("/console/studies/tiny/report/1/xx/report.pdf").status_code == 404
    assert viewer.get("/console/studies/tiny/report/1/en/secret.txt").status_code == 404


def test_a_market_file_that_does_not_fit_is_refused_with_its_line(tmp_path) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'bad.db'}")
    analyst = client(fielding)
    _login(analyst, "analyst@a.ch")
    r = _publish(analyst, MARKET.replace("colour: red", "colour: green"))
    assert r.status_code == 422 and 'id="report-error"' in r.text
    assert "line" in r.text and "green" in r.text
    r = _publish(analyst, model="probit")
    assert r.status_code == 422 and "mnl, lc or hb" in r.text
    # no completes yet: the version fails with the reason, the page says so
    assert _publish(analyst).status_code == 303
    page = analyst.get("/console/studies/tiny/report").text
    assert "report-failed" in page and "no completed respondent yet" in page


def _simulator_published(fielding, c) -> None:
    r = c.post(
        "/console/studies/tiny/simulator",
        data={"model": "mnl", "market_yaml": MARKET, "csrf": _csrf(c)},
    )
    assert r.status_code == 303


def test_scenarios_are_saved_per_study_checked_and_exported_formula_safe(
    migrated_database_url,
) -> None:
    fielding, _ = _setup(migrated_database_url)
    _complete(fielding, 0, 20)
    analyst = client(fielding)
    _login(analyst, "analyst@a.ch")
    _simulator_published(fielding, analyst)
    viewer = client(fielding)
    _login(viewer, "viewer@a.ch")
    token = _csrf(viewer)
    state = {"offers": {"Ours": {"on": True, "levels": {"price": 25, "colour": "blue"}}}}
    r = viewer.post(
        "/console/studies/tiny/scenarios",
        data={"csrf": token, "name": "Dearer blue", "state": json.dumps(state)},
    )
    assert r.status_code == 200, r.text
    listed = viewer.get("/console/studies/tiny/scenarios").json()["scenarios"]
    assert [(s["name"], s["state"]["offers"]["Ours"]["levels"]) for s in listed] == [
        ("Dearer blue", {"price": 25, "colour": "blue"})
    ]
    # what the simulator does not have is refused, naming it
    for bad, why in [
        ({"offers": {"Nobody": {"levels": {}}}}, "Nobody"),
        ({"offers": {"Ours": {"levels": {"price": 99}}}}, "from 10 to 30"),
        ({"offers": {"Ours": {"levels": {"colour": "green"}}}}, "green"),
        ({"segment": "class 9"}, "class 9"),
    ]:
        r = viewer.post(
            "/console/studies/tiny/scenarios",
            data={"csrf": token, "name": "Bad", "state": json.dumps(bad)},
        )
        assert r.status_code == 422 and why in r.json()["error"], (bad, r.text)
    r = viewer.post(
        "/console/studies/tiny/scenarios", data={"csrf": "wrong", "name": "x", "state": "{}"}
    )
    assert r.status_code == 403
    # someone else's name is not overwritten; the author or an analyst deletes
    r = analyst.post(
        "/console/studies/tiny/scenarios",
        data={"csrf": _csrf(analyst), "name": "Dearer blue", "state": "{}"},
    )
    assert r.status_code == 422
    scenario = listed[0]["id"]
    r = analyst.post(
        f"/console/studies/tiny/scenarios/{scenario}/delete", data={"csrf": _csrf(analyst)}
    )
    assert r.status_code == 200 and viewer.get("/console/studies/tiny/scenarios").json() == {
        "scenarios": []
    }
    # the export: the table on screen, column names in the reader's language, no formulas
    rows = [
        {"alternative": '=HYPERLINK("http://x")', "share": 0.4, "profit": 2.5},
        {"alternative": "(our offers)", "share": 0.4, "profit": 2.5},
    ]
    viewer.headers["Accept-Language"] = "fr-CH"
    r = viewer.post(
        "/console/studies/tiny/scenarios/export.csv",
        data={"csrf": token, "rows": json.dumps(rows), "name": "Base"},
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.splitlines()
    assert lines[0] == "Scénario,Offre,Part,Bénéfice par personne"
    assert lines[1].startswith("Base,\"'=HYPERLINK")  # quoted, and not a formula
    assert lines[2] == "Base,Nos offres ensemble,0.4,2.5"
    r = viewer.post(
        "/console/studies/tiny/scenarios/export.csv",
        data={"csrf": token, "rows": json.dumps([{"alternative": "x", "share": "1e999"}])},
    )
    assert r.status_code == 422
