"""The live field dashboard: every figure against hand-made respondents (SQLite and
PostgreSQL), its words in the study's and the console's language, its JSON and who
may read it."""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from _respondent import QUALIFY, Browser, client, tiny
from sqlalchemy import update
from sqlalchemy.orm import Session

from offerlab.field import new_token
from offerlab.field._console_texts import ConsoleTexts
from offerlab.field._dashboard import (
    IDLE_SECONDS,
    completes_chart,
    completes_per_day,
    dashboard_view,
    live_figures,
    page_title,
)
from offerlab.store import QuotaCell, Respondent, Submission

ZURICH = ZoneInfo("Europe/Zurich")
NOW = datetime(2026, 3, 30, 12, 0, tzinfo=ZURICH).timestamp()
SEQUENCE = ["consent", "band", "task.1", "how_many"]  # the tiny study's pages


def _at(text: str) -> float:
    """A local Zurich time ("2026-03-28 23:50") as seconds since the epoch."""
    return datetime.fromisoformat(text).replace(tzinfo=ZURICH).timestamp()


def _add(fielding, status: str, *, started: float, finished: float | None = None, **extra):
    """One hand-made respondent; ``test=True`` marks a test respondent."""
    test = extra.pop("test", False)
    flags = {"test": True} if test else {}
    with Session(fielding.engine) as s, s.begin():
        row = Respondent(
            study_id=fielding.study_id,
            token=new_token(),
            version=1,
            seed=0,
            language="en",
            status=status,
            sequence=extra.pop("sequence", SEQUENCE),
            position=extra.pop("position", len(SEQUENCE) if status != "active" else 0),
            nonce="n",
            panel={},
            flags=flags,
            is_test=test,
            started_at=started,
            finished_at=finished,
            shown_at=extra.pop("shown", finished or started),
        )
        s.add(row)
        s.flush()
        for page, answer in extra.pop("answers", {}).items():
            s.add(
                Submission(
                    respondent_id=row.id,
                    page=page,
                    nonce="n",
                    answer=answer,
                    seconds=1.0,
                    submitted_at=started,
                )
            )
        assert not extra, extra
        return row.id


def test_counts_by_status_leave_test_respondents_out(migrated_database_url) -> None:
    fielding = tiny(migrated_database_url)
    start = NOW - 3600
    for _ in range(3):
        _add(fielding, "complete", started=start, finished=start + 600)
    _add(fielding, "screenout", started=start, finished=start + 20)
    _add(fielding, "screenout", started=start, finished=start + 30)
    _add(fielding, "overquota", started=start, finished=start + 40)
    _add(fielding, "active", started=NOW - 300, position=2)  # answered 5 min ago
    _add(fielding, "active", started=start, position=1, shown=NOW - IDLE_SECONDS - 1)  # left
    for status in ("complete", "screenout", "overquota", "active"):  # none of these count
        _add(
            fielding, status, started=start, finished=None if status == "active" else NOW, test=True
        )
    f = live_figures(fielding, now=NOW, zone=ZURICH)
    assert (f.complete, f.screenout, f.overquota, f.active, f.left) == (3, 2, 1, 1, 1)
    assert f.started == 8 and f.tests == 4


def test_median_duration_of_real_completes_only(migrated_database_url) -> None:
    fielding = tiny(migrated_database_url)
    start = NOW - 7200
    assert live_figures(fielding, now=NOW, zone=ZURICH).median_seconds is None
    for seconds in (300, 100, 900):
        _add(fielding, "complete", started=start, finished=start + seconds)
    _add(fielding, "complete", started=start, finished=start + 5000, test=True)
    _add(fielding, "screenout", started=start, finished=start + 1)  # not a complete
    assert live_figures(fielding, now=NOW, zone=ZURICH).median_seconds == 300
    _add(fielding, "complete", started=start, finished=start + 500)  # even: mean of the middle
    assert live_figures(fielding, now=NOW, zone=ZURICH).median_seconds == 400
    view = dashboard_view(fielding, "de", max_age=0)
    assert view.median == "6:40"


def test_dropoff_by_page_in_questionnaire_order_with_page_titles(migrated_database_url) -> None:
    fielding = tiny(migrated_database_url)
    quiet = NOW - IDLE_SECONDS - 60
    # sequences differ per respondent (random groups): the current page is read from each
    _add(fielding, "active", started=quiet, position=3)  # how_many, left
    _add(fielding, "active", started=quiet, position=1)  # band, left
    _add(fielding, "active", started=quiet, position=1, shown=NOW - 60)  # band, in progress
    _add(fielding, "active", started=quiet, position=2, shown=NOW - 60)  # task.1
    _add(fielding, "active", started=quiet, position=1, shown=NOW - 60)
    _add(fielding, "active", started=quiet, position=0, sequence=["band", "consent"])  # band
    _add(fielding, "active", started=quiet, position=3, test=True)  # not counted
    _add(fielding, "complete", started=quiet, finished=NOW - 10)  # not in the survey any more
    f = live_figures(fielding, now=NOW, zone=ZURICH)
    stops = [(s.key, s.in_progress, s.left) for s in f.dropoff]
    assert stops == [("band", 2, 2), ("task.1", 1, 0), ("how_many", 0, 1)]
    assert (f.active, f.left) == (3, 3)
    view = dashboard_view(fielding, "de", figures=f)
    assert [row["page"] for row in view.dropoff] == [
        "Ihr Alter?",
        "Auswahlaufgabe 1",
        "Wie viele Autos?",
    ]
    assert view.dropoff[0]["share"] == "29\u00a0%"  # 2 of the 7 started left on this page
    assert view.share(1, 413) == "0.2\u00a0%" and view.share(0, 0) == "–"
    # a language the study lacks: its default language (English), never a page id
    assert page_title(fielding, "how_many", ConsoleTexts("fr")) == "How many cars?"


def test_completes_per_day_follow_zurich_dates_across_midnight_and_dst(
    migrated_database_url,
) -> None:
    fielding = tiny(migrated_database_url)
    for local in (
        "2026-03-27 10:00",
        "2026-03-27 23:59",  # 22:59 UTC: the 27th in Zurich
        "2026-03-28 00:01",  # 23:01 UTC on the 27th, but the 28th in Zurich
        "2026-03-28 23:50",
        "2026-03-29 03:30",  # clocks went forward at 02:00 that night
        "2026-03-29 23:59",  # 21:59 UTC: summer time
    ):
        _add(fielding, "complete", started=_at(local) - 600, finished=_at(local))
    _add(
        fielding,
        "complete",
        started=_at("2026-03-26 10:00"),
        finished=_at("2026-03-26 10:05"),
        test=True,
    )
    f = live_figures(fielding, now=NOW, zone=ZURICH)
    assert f.per_day == [
        (date(2026, 3, 27), 2),
        (date(2026, 3, 28), 2),
        (date(2026, 3, 29), 2),
        (date(2026, 3, 30), 0),  # today, nothing yet
    ]
    # the same completes in UTC fall on other days: the zone decides
    utc = live_figures(fielding, now=NOW, zone=ZoneInfo("UTC"))
    assert utc.per_day[:3] == [
        (date(2026, 3, 27), 3),
        (date(2026, 3, 28), 1),
        (date(2026, 3, 29), 2),
    ]


def test_completes_per_day_fill_gaps_and_keep_the_last_days() -> None:
    day = datetime(2026, 5, 1, 12, tzinfo=ZURICH).timestamp()
    quarters = [(int(day // 900), 4), (int((day + 3 * 86400) // 900), 1)]
    days = completes_per_day(quarters, ZURICH, day + 3 * 86400)
    assert days == [
        (date(2026, 5, 1), 4),
        (date(2026, 5, 2), 0),
        (date(2026, 5, 3), 0),
        (date(2026, 5, 4), 1),
    ]
    long_ago = completes_per_day([(int((day - 400 * 86400) // 900), 1)], ZURICH, day)
    assert len(long_ago) == 92 and long_ago[-1] == (date(2026, 5, 1), 0)


def test_the_plot_has_labelled_axes_and_local_dates() -> None:
    days = [(date(2026, 12, 5) + timedelta(d), n) for d, n in enumerate([3, 0, 12])]
    svg = str(completes_chart(days, ConsoleTexts("de"), "Europe/Zurich"))
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert ">Abschlüsse</text>" in svg and ">Datum</text>" in svg  # the axes' titles
    assert ">5.12.</text>" in svg and "7.12.2026: 12" in svg  # local dates
    assert "15 Abschlüsse in 3 Tagen" in svg
    assert svg.count('class="bar"') == 3
    ticks = re.findall(r'text-anchor="end">([^<]+)</text>', svg)
    assert ticks == ["0", "5", "10", "15"]  # whole completes, a round step, above the top
    french = str(completes_chart(days, ConsoleTexts("fr"), "Europe/Zurich"))
    assert ">05.12</text>" in french and ">Complets</text>" in french


def test_quota_cells_with_the_study_labels_and_test_completes_apart(migrated_database_url) -> None:
    fielding = tiny(migrated_database_url)
    with Session(fielding.engine) as s, s.begin():
        s.execute(
            update(QuotaCell)
            .where(QuotaCell.study_id == fielding.study_id, QuotaCell.option == "young")
            .values(count=5)
        )
    _add(
        fielding,
        "complete",
        started=NOW - 99,
        finished=NOW,
        test=True,
        answers={"band": {"choice": "old"}},
    )
    f = live_figures(fielding, now=NOW, zone=ZURICH)
    assert [(q.option, q.count, q.target, q.tests) for q in f.quotas] == [
        ("young", 5, 5, 0),
        ("old", 0, 1000, 1),
    ]
    view = dashboard_view(fielding, "de", max_age=0)
    (band,) = view.quotas
    assert band["question"] == "Ihr Alter?"
    assert [(c["option"], c["percent"], c["full"]) for c in band["cells"]] == [
        ("Unter 40", 100, True),
        ("40\u00a0oder mehr", 0, False),
    ]
    assert view.target == 1005


def test_quality_flags_are_counted_in_the_background(tmp_path) -> None:
    fielding = tiny(f"sqlite:///{tmp_path / 'flags.db'}")
    for i in range(2):
        browser = Browser(client(fielding), seed=i)
        browser.enter("/s/tiny?pid=same")  # the same panel id twice: a duplicate
        browser.finish(QUALIFY)
    view = dashboard_view(fielding, "en", max_age=0, wait_for_flags=30)
    assert view.flags is not None
    counts = {name: n for name, _, n in view.flags}
    assert counts["duplicate"] == 1 and counts["speeding"] == 0
    assert ("duplicate", "Possible duplicate", 1) in view.flags
    # a new complete is checked again only after the pause between checks
    browser = Browser(client(fielding), seed=9)
    browser.enter("/s/tiny?pid=third")
    browser.finish(QUALIFY)
    again = dashboard_view(fielding, "en", max_age=0)
    assert again.flags == view.flags and again.flags_at == view.flags_at


def test_a_new_complete_appears_in_the_json_with_its_stamp(tmp_path) -> None:
    from test_console import _login, _setup

    fielding, _ = _setup(f"sqlite:///{tmp_path / 'json.db'}")
    c = client(fielding)
    _login(c, "analyst@a.ch")
    page = c.get("/console/studies/tiny", headers={"accept-language": "fr-CH"}).text
    stamp = re.search(r'data-stamp="([^"]+)"', page).group(1)
    assert 'src="/console/assets/dashboard.js"' in page and "Terrain en direct" in page
    url = "/console/studies/tiny/dashboard.json"
    same = c.get(url, params={"stamp": stamp}, headers={"accept-language": "fr-CH"}).json()
    assert same["stamp"] == stamp and "html" not in same
    browser = Browser(client(fielding))
    browser.enter("/s/tiny?pid=new")
    browser.finish(QUALIFY)
    time.sleep(1.1)  # figures are shared between viewers for a second
    changed = c.get(url, params={"stamp": stamp}, headers={"accept-language": "fr-CH"}).json()
    assert changed["stamp"] != stamp and changed["figures"]["complete"] == 1
    assert 'id="completes">1<' in changed["html"] and "Complets" in changed["html"]
    assert changed["announce"] == "1 complets"
    script = c.get("/console/assets/dashboard.js")
    assert script.headers["content-type"].startswith("text/javascript") and "fetch" in script.text


@pytest.mark.parametrize(
    ("email", "status"),
    [
        (None, 401),
        ("viewer@a.ch", 403),
        ("unshared@a.ch", 404),
        ("owner@b.ch", 404),
        ("owner@a.ch", 200),
        ("analyst@a.ch", 200),
    ],
)
def test_only_owners_and_analysts_read_the_figures(tmp_path, email, status) -> None:
    from test_console import _login, _setup

    fielding, _ = _setup(f"sqlite:///{tmp_path / 'roles.db'}")
    c = client(fielding)
    if email:
        _login(c, email)
    assert c.get("/console/studies/tiny/dashboard.json").status_code == status
    if email == "viewer@a.ch":  # the viewer's study page has no dashboard either
        page = c.get("/console/studies/tiny").text
        assert 'id="dashboard"' not in page and "dashboard.js" not in page


def test_the_dashboard_migration_marks_earlier_test_respondents(database_url) -> None:
    """0009_dashboard copies ``flags.test`` of the respondents so far into ``is_test``."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import select, text

    from offerlab.store import make_engine, migrate
    from offerlab.store._engine import _MIGRATIONS

    engine = make_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO studies (id, name, study_yaml, design_csv, n_versions, status, "
                "entries, created_at) VALUES (1, 's', 'x', 'y', 1, 'live', 2, 0)"
            )
        )
        for rid, flags in ((1, '{"test": true}'), (2, "{}"), (3, '{"duplicate_of": 2}')):
            c.execute(
                text(
                    "INSERT INTO respondents (id, study_id, token, version, seed, language, "
                    "status, sequence, position, nonce, panel, panel_id, fingerprint, flags, "
                    "started_at) VALUES (:id, 1, :token, 1, 0, 'en', 'complete', '[]', 0, 'n', "
                    "'{}', '', '', :flags, 0)"
                ),
                {"id": rid, "token": f"t{rid}", "flags": flags},
            )
    migrate(engine)
    with Session(engine) as s:
        marked = dict(s.execute(select(Respondent.id, Respondent.is_test)).all())
    assert marked == {1: True, 2: False, 3: False}


def test_pages_of_dropped_out_respondents_are_counted_again_when_their_number_changes(
    tmp_path,
) -> None:
    from offerlab.field._dashboard import LEFT_PAGES_SECONDS, LeftPages

    fielding = tiny(f"sqlite:///{tmp_path / 'left.db'}")
    kept = LeftPages()
    quiet = NOW - IDLE_SECONDS - 60

    def left() -> list[tuple[str, int]]:
        figures = live_figures(fielding, now=NOW, zone=ZURICH, left_pages=kept)
        return [(s.key, s.left) for s in figures.dropoff if s.left]

    first = _add(fielding, "active", started=quiet, position=1)
    assert left() == [("band", 1)]
    _add(fielding, "active", started=quiet, position=3)  # one more left: counted again
    assert left() == [("band", 1), ("how_many", 1)]
    with Session(fielding.engine) as s, s.begin():  # one moves on, unseen: the same number
        s.execute(update(Respondent).where(Respondent.id == first).values(position=2))
    assert left() == [("band", 1), ("how_many", 1)]
    later = live_figures(fielding, now=NOW + LEFT_PAGES_SECONDS, zone=ZURICH, left_pages=kept)
    assert [(s.key, s.left) for s in later.dropoff] == [("task.1", 1), ("how_many", 1)]


def test_the_console_time_zone_comes_from_the_environment_and_a_bad_one_is_ignored(
    monkeypatch,
) -> None:
    from offerlab.field._dashboard import console_zone

    monkeypatch.delenv("OFFERLAB_TIMEZONE", raising=False)
    assert console_zone().key == "Europe/Zurich"
    monkeypatch.setenv("OFFERLAB_TIMEZONE", "America/New_York")
    assert console_zone().key == "America/New_York"
    for bad in ("Mars/Olympus", "../../etc/passwd", "Europe", "UTC; DROP"):
        monkeypatch.setenv("OFFERLAB_TIMEZONE", bad)
        assert console_zone().key == "Europe/Zurich"


def test_the_figures_and_the_quality_check_take_no_write_lock(tmp_path) -> None:
    """On SQLite a session of the engine begins IMMEDIATE (the write lock): the dashboard
    and the quality check only read, and must not hold up respondents' submits."""
    from sqlalchemy import event

    from offerlab.field._export import quality_flags

    fielding = tiny(f"sqlite:///{tmp_path / 'locks.db'}")
    browser = Browser(client(fielding))
    browser.enter("/s/tiny?pid=one")
    browser.finish(QUALIFY)
    begun: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        begun.append(statement)

    event.listen(fielding.engine, "before_cursor_execute", seen)
    try:
        live_figures(fielding)
        quality_flags(fielding)
    finally:
        event.remove(fielding.engine, "before_cursor_execute", seen)
    assert begun and not any("IMMEDIATE" in s for s in begun), begun


def test_a_page_of_several_screens_is_titled_by_its_screen(
    tmp_path, study, study_text, design
) -> None:
    """A Kano screen names its feature (it showed the raw "Imaginez : {feature}"), MaxDiff
    tasks and concepts shown in turn say which of them they are (twelve rows read alike)."""
    from _respondent import open_fielding

    fielding = open_fielding(f"sqlite:///{tmp_path / 'screens.db'}", study, study_text, design)
    french = ConsoleTexts("fr")
    perks = study.questionnaire.page("perks")
    for n, feature in enumerate(perks.features, start=1):
        expected = f"Imaginez\u00a0: {study.text(feature.label, 'fr')}"
        assert len(expected) <= 70 and page_title(fielding, f"perks.{n}", french) == expected
    tasks = study.questionnaire.page("trade_offs").tasks
    titles = [page_title(fielding, f"trade_offs.{t}", french) for t in range(1, tasks + 1)]
    assert len(set(titles)) == tasks and titles[0].endswith(f"(1 sur {tasks})")
    assert page_title(fielding, "new_offers.2", ConsoleTexts("de")).endswith("(2 von 2)")
    assert all(len(title) <= 70 for title in titles)
