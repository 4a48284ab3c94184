"""The live field dashboard of a study in the console, for its owners and analysts.

What a field manager watches while a study is in the field: completes, respondents in
progress, screen-outs, over-quota, respondents who left (and on which page), the quota
cells, the median interview time, completes per day (a server-drawn SVG) and the
quality flags. Test respondents (click-throughs, simulated runs) are counted apart and
left out of every figure.

**Bounded cost.** Every figure but the quality flags is one aggregate query on the
respondents of the study (grouped counts, one ``ORDER BY … OFFSET`` for the median,
completes per quarter hour for the days); no row of a respondent is loaded into
Python. The counts, the median and the days read the index ``ix_respondents_figures``
alone (``is_test`` is a column for it, not only a key of the flags' JSON). The page a
respondent is on is read from their page list, so the pages where respondents dropped
out (a number that grows with the study) are counted again only when that number
changes (:class:`LeftPages`); the ones in progress are few. A quarter hour maps to
exactly one local date (time zones move by multiples of 15 minutes), so the days
follow the console's time zone across daylight-saving changes without any time-zone
arithmetic in SQL. Figures are shared by every viewer of a study for
:data:`FRESH_SECONDS`, so ten people polling cost what one does.

The quality flags need every answer and a logit fit (:func:`~offerlab.field._export.quality_flags`):
they are computed in a background thread, never on a poll, and again only when
completes came in and at least :data:`RECHECK_SECONDS` (or ten times the last check's
duration) have passed; the page says when they were checked.

**Updates without reload.** The page is complete without JavaScript (a link reloads
it). ``/console/assets/dashboard.js`` (a file: the Content-Security-Policy allows no
inline script) polls ``/console/studies/{study}/dashboard.json`` every
:data:`POLL_SECONDS` and swaps in the server-rendered figures when they changed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from markupsafe import Markup, escape
from sqlalchemy import Integer, String, case, cast, false, func, literal, select, true
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from offerlab.field._console_texts import ConsoleTexts
from offerlab.field._export import quality_flags
from offerlab.field._service import Fielding
from offerlab.store import QuotaCell, Respondent, Submission
from offerlab.study import QUALITY_FLAGS, one_line

__all__ = [
    "Dashboard",
    "FieldFigures",
    "LeftPages",
    "completes_chart",
    "completes_per_day",
    "console_zone",
    "dashboard_routes",
    "dashboard_view",
    "live_figures",
    "page_title",
]

log = logging.getLogger(__name__)

#: An active respondent who answered nothing for this long has left the survey.
IDLE_SECONDS = 30 * 60
#: How often the page's script asks for new figures.
POLL_SECONDS = 3
#: Figures computed for one viewer serve every viewer of the study for this long.
FRESH_SECONDS = 1.0
#: The shortest time between two quality checks of a study.
RECHECK_SECONDS = 60.0
#: The longest time the pages where respondents dropped out are kept unchanged.
LEFT_PAGES_SECONDS = 300.0
#: Completes are counted per quarter hour, then per local date.
QUARTER_HOUR = 900
#: The plot shows at most the last this many days.
MAX_DAYS = 92
#: The console's time zone when ``OFFERLAB_TIMEZONE`` names none.
DEFAULT_ZONE = "Europe/Zurich"
_PAGE_TITLE_CHARS = 70
_SCRIPT = Path(__file__).resolve().parent / "data" / "dashboard.js"


def console_zone() -> ZoneInfo:
    """The time zone of the console's dates: ``OFFERLAB_TIMEZONE``, else Europe/Zurich."""
    name = os.environ.get("OFFERLAB_TIMEZONE", "").strip() or DEFAULT_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        log.warning("OFFERLAB_TIMEZONE=%r is no time zone; using %s", name, DEFAULT_ZONE)
        return ZoneInfo(DEFAULT_ZONE)


# -- the figures, in SQL ---------------------------------------------------------------


@dataclass(frozen=True)
class PageStop:
    """Respondents whose current page is ``key``: still answering, or gone quiet."""

    key: str
    in_progress: int
    left: int


@dataclass(frozen=True)
class QuotaFigure:
    quota: str
    option: str
    count: int
    target: int
    tests: int


@dataclass(frozen=True)
class FieldFigures:
    """The study's figures at ``at`` (seconds since the epoch); test respondents apart."""

    started: int
    complete: int
    screenout: int
    overquota: int
    active: int  # in progress: answered within IDLE_SECONDS
    left: int  # active but quiet for longer: dropped out (for now)
    tests: int
    median_seconds: float | None
    dropoff: list[PageStop]
    per_day: list[tuple[date, int]]
    quotas: list[QuotaFigure]
    at: float
    zone: str = DEFAULT_ZONE

    @property
    def median_minutes(self) -> float | None:
        return None if self.median_seconds is None else round(self.median_seconds / 60, 1)

    def stamp(self) -> str:
        """What the page shows, as a short text: equal stamps, equal figures."""
        counts = (self.started, self.complete, self.screenout, self.overquota)
        parts = [*counts, self.active, self.left, self.tests, self.median_seconds]
        parts += [(s.key, s.in_progress, s.left) for s in self.dropoff]
        parts += [(d.isoformat(), n) for d, n in self.per_day]
        parts += [(q.quota, q.option, q.count, q.target, q.tests) for q in self.quotas]
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _current_page(dialect: str) -> Any:
    """The key of the respondent's current page: ``sequence[position]`` in the JSON list."""
    if dialect == "postgresql":
        return Respondent.sequence.op("->>", return_type=String)(Respondent.position)
    path = literal("$[") + cast(Respondent.position, String) + literal("]")
    return func.json_extract(Respondent.sequence, path)


def _quarter_hour(dialect: str) -> Any:
    """The quarter hour a respondent finished in (whole quarters since the epoch)."""
    if dialect == "sqlite":  # times are positive: truncation is the floor
        return cast(Respondent.finished_at / QUARTER_HOUR, Integer)
    return cast(func.floor(Respondent.finished_at / QUARTER_HOUR), Integer)


def _grouped(session: Session, where: list[Any], **columns: Any) -> list[Any]:
    """Counts per distinct value of ``columns`` (each computed once, in a subquery, so that
    PostgreSQL sees the same expression in the select list and the GROUP BY)."""
    inner = select(*(expr.label(name) for name, expr in columns.items())).where(*where)
    values = inner.subquery()
    return session.execute(select(*values.c, func.count()).group_by(*values.c)).all()


def live_figures(
    fielding: Fielding,
    now: float | None = None,
    zone: ZoneInfo | None = None,
    left_pages: LeftPages | None = None,
) -> FieldFigures:
    """The study's figures, each an aggregate query (see the module's docstring).

    ``left_pages`` keeps the pages where respondents dropped out between calls (reading
    every dropped-out respondent's page list is the one cost that grows with the study).
    """
    now = time.time() if now is None else now
    zone = zone or console_zone()
    dialect = fielding.engine.dialect.name
    ours = Respondent.study_id == fielding.study_id
    real = Respondent.is_test == false()
    last_seen = func.coalesce(Respondent.shown_at, Respondent.started_at)
    quiet = case((last_seen < now - IDLE_SECONDS, 1), else_=0)
    with fielding.readers() as session:  # no write lock: submits go on meanwhile
        status: Counter[tuple[str, bool, int]] = Counter()
        active_quiet = case((Respondent.status == "active", quiet), else_=0)
        for name, test, idle, n in _grouped(
            session, [ours], status=Respondent.status, test=Respondent.is_test, idle=active_quiet
        ):
            status[(name, bool(test), int(idle))] += int(n)
        active = [ours, Respondent.status == "active", real]
        page = _current_page(dialect)
        here = _grouped(session, [*active, last_seen >= now - IDLE_SECONDS], page=page)
        left_count = sum(n for (s, t, q), n in status.items() if s == "active" and not t and q)
        left = (left_pages or LeftPages()).get(
            fielding,
            left_count,
            now,
            lambda: _grouped(session, [*active, last_seen < now - IDLE_SECONDS], page=page),
        )
        stops: dict[str, list[int]] = {}
        for rows, idle in ((here, 0), (left, 1)):
            for key, n in rows:
                if key is not None:
                    stops.setdefault(str(key), [0, 0])[idle] += int(n)
        complete = sum(n for (s, test, _), n in status.items() if s == "complete" and not test)
        median = _median_duration(session, ours, real, complete)
        quarters = _grouped(
            session, [ours, Respondent.status == "complete", real], quarter=_quarter_hour(dialect)
        )
        quotas = _quota_figures(session, fielding)

    def count(name: str, idle: int | None = None) -> int:
        return sum(
            n
            for (s, test, q), n in status.items()
            if s == name and not test and (idle is None or q == idle)
        )

    return FieldFigures(
        started=sum(n for (_, test, _), n in status.items() if not test),
        complete=complete,
        screenout=count("screenout"),
        overquota=count("overquota"),
        active=count("active", 0),
        left=count("active", 1),
        tests=sum(n for (_, test, _), n in status.items() if test),
        median_seconds=median,
        dropoff=_in_questionnaire_order(fielding, stops),
        per_day=completes_per_day(quarters, zone, now),
        quotas=quotas,
        at=now,
        zone=zone.key,
    )


class LeftPages:
    """Where dropped-out respondents stopped, per study, counted again only when their
    number changed or after :data:`LEFT_PAGES_SECONDS` (one who returns and one who
    leaves in the same minute would otherwise go unseen)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: weakref.WeakKeyDictionary[Fielding, tuple[int, float, list[Any]]] = (
            weakref.WeakKeyDictionary()
        )

    def get(
        self, fielding: Fielding, count: int, now: float, compute: Callable[[], list[Any]]
    ) -> list[Any]:
        with self._lock:
            kept = self._kept.get(fielding)
        if kept is not None and kept[0] == count and now - kept[1] < LEFT_PAGES_SECONDS:
            return kept[2]
        rows = compute()
        with self._lock:
            self._kept[fielding] = (count, now, rows)
        return rows


def _median_duration(session: Session, ours: Any, real: Any, n: int) -> float | None:
    """The median time of the ``n`` real completes: the middle one or two, sorted in SQL."""
    if n == 0:
        return None
    seconds = Respondent.finished_at - Respondent.started_at
    middle = session.execute(
        select(seconds)
        .where(ours, real, Respondent.status == "complete")
        .order_by(seconds)
        .offset((n - 1) // 2)
        .limit(2 - n % 2)
    ).scalars()
    values = [float(v) for v in middle]
    return sum(values) / len(values)


def completes_per_day(quarters: list[Any], zone: ZoneInfo, now: float) -> list[tuple[date, int]]:
    """Completes per local date, every day from the first complete to today (zeros
    included), at most the last :data:`MAX_DAYS`; ``quarters``: (quarter hour, count)."""
    days: Counter[date] = Counter()
    for quarter, n in quarters:
        days[datetime.fromtimestamp(int(quarter) * QUARTER_HOUR, zone).date()] += int(n)
    if not days:
        return []
    last = max(max(days), datetime.fromtimestamp(now, zone).date())
    first = max(min(days), last - timedelta(days=MAX_DAYS - 1))
    return [
        (first + timedelta(d), days[first + timedelta(d)]) for d in range((last - first).days + 1)
    ]


def _in_questionnaire_order(fielding: Fielding, stops: dict[str, list[int]]) -> list[PageStop]:
    """The pages in the questionnaire's order (tasks by number, prices from the highest)."""
    order = {page.id: i for i, page in enumerate(fielding.survey.questionnaire.pages)}

    def position(key: str) -> tuple[int, int, str]:
        base, _, rest = key.partition(".")
        number = int(rest) if rest.isdigit() else 0
        if getattr(_page_or_none(fielding, base), "type", "") == "gabor_granger":
            number = -number
        return order.get(base, len(order)), number, rest

    return [PageStop(k, *stops[k]) for k in sorted(stops, key=position)]


def _page_or_none(fielding: Fielding, page_id: str) -> Any:
    try:
        return fielding.survey.questionnaire.page(page_id)
    except KeyError:
        return None


def _quota_figures(session: Session, fielding: Fielding) -> list[QuotaFigure]:
    cells = session.execute(
        select(QuotaCell.quota, QuotaCell.option, QuotaCell.count, QuotaCell.target)
        .where(QuotaCell.study_id == fielding.study_id)
        .order_by(QuotaCell.id)
    ).all()
    if not cells:
        return []
    tested = session.execute(
        select(Respondent.id).where(
            Respondent.study_id == fielding.study_id,
            Respondent.status == "complete",
            Respondent.is_test == true(),
        )
    ).scalars()
    tests = _test_quota_cells(session, fielding, [int(r) for r in tested])
    return [QuotaFigure(q, o, int(c), int(t), tests.get((q, o), 0)) for q, o, c, t in cells]


def _test_quota_cells(
    session: Session, fielding: Fielding, respondent_ids: list[int]
) -> Counter[tuple[str, str]]:
    """The quota cells test completes would count in: shown apart, never counted."""
    questions = [q.question for q in fielding.survey.questionnaire.quotas]
    if not respondent_ids or not questions:
        return Counter()
    answers: dict[int, dict[str, Any]] = {}
    for start in range(0, len(respondent_ids), 500):  # bounded IN lists
        for rid, page, answer in session.execute(
            select(Submission.respondent_id, Submission.page, Submission.answer).where(
                Submission.respondent_id.in_(respondent_ids[start : start + 500]),
                Submission.page.in_(questions),
            )
        ):
            answers.setdefault(rid, {})[page] = answer
    return Counter(cell for a in answers.values() for cell in fielding.survey.quota_cells(a))


# -- quality flags, off the request path -------------------------------------------------


@dataclass
class _Check:
    counts: dict[str, int] | None = None
    key: tuple[int, int] | None = None
    finished: float = 0.0
    took: float = 0.0
    thread: threading.Thread | None = None


class QualityChecks:
    """The quality flags of each study, counted in a background thread (a logit fit on
    every answer is far too slow for a poll); one check at a time per study."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checks: weakref.WeakKeyDictionary[Fielding, _Check] = weakref.WeakKeyDictionary()

    def counts(
        self, fielding: Fielding, key: tuple[int, int], wait: float = 0.0
    ) -> tuple[dict[str, int] | None, float]:
        """The newest counts (None: not checked yet) and when they were made; starts a
        check when ``key`` (completes, started) changed and the last one is old enough."""
        with self._lock:
            check = self._checks.setdefault(fielding, _Check())
            running = check.thread is not None and check.thread.is_alive()
            due = time.time() - check.finished >= max(RECHECK_SECONDS, 10 * check.took)
            if not running and check.key != key and (check.counts is None or due):
                check.thread = threading.Thread(
                    target=self._run, args=(fielding, check, key), daemon=True
                )
                check.thread.start()
            thread = check.thread
        if wait > 0 and check.counts is None and thread is not None:
            thread.join(wait)
        return check.counts, check.finished

    def _run(self, fielding: Fielding, check: _Check, key: tuple[int, int]) -> None:
        began = time.time()
        try:
            flags = quality_flags(fielding)
            counts = {name: int(flags[name].sum()) for name in QUALITY_FLAGS}
        except Exception:  # a failed check leaves the old counts; the page says when
            log.exception("quality check of study %s failed", fielding.study.name)
            counts = check.counts
        with self._lock:
            check.counts, check.key = counts, key
            check.finished, check.took = time.time(), time.time() - began


class _FreshFigures:
    """Figures of each study kept for :data:`FRESH_SECONDS` (or twice the time they took,
    on a study so big that they take longer), for every viewer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: weakref.WeakKeyDictionary[Fielding, tuple[FieldFigures, float]] = (
            weakref.WeakKeyDictionary()
        )
        self._left = LeftPages()

    def get(self, fielding: Fielding, max_age: float = FRESH_SECONDS) -> FieldFigures:
        with self._lock:
            kept = self._kept.get(fielding)
        if kept is not None and time.time() - kept[0].at < max(max_age, 2 * kept[1]) * (
            max_age > 0
        ):
            return kept[0]
        began = time.perf_counter()
        figures = live_figures(fielding, left_pages=self._left)
        with self._lock:
            self._kept[fielding] = (figures, time.perf_counter() - began)
        return figures


# -- the page's words ----------------------------------------------------------------------

_SHORT_DATE = {"de": "{d}.{m}.", "fr": "{d:02}.{m:02}", "it": "{d}.{m}.", "en": "{d} {mon}"}
_LONG_DATE = {
    "de": "{d}.{m}.{y}",
    "fr": "{d:02}.{m:02}.{y}",
    "it": "{d}.{m}.{y}",
    "en": "{d} {mon} {y}",
}
_MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_THOUSANDS = {"de": "’", "fr": "\u202f", "it": "’", "en": ","}


def date_text(day: date, lang: str, short: bool = False) -> str:
    """A date as Swiss German, French and Italian write it (6.12.2026), or 6 Dec 2026."""
    shape = (_SHORT_DATE if short else _LONG_DATE).get(lang, _LONG_DATE["en"])
    return shape.format(d=day.day, m=day.month, y=day.year, mon=_MONTHS_EN[day.month - 1])


def count_text(n: int, lang: str) -> str:
    """A count with the language's thousands separator (1’234; 1 234 in French)."""
    return f"{n:,}".replace(",", _THOUSANDS.get(lang, ","))


def _clock(at: float, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(at, zone).strftime("%H:%M:%S")


def page_title(fielding: Fielding, key: str, texts: ConsoleTexts) -> str:
    """A page as the respondents saw it: its text (shortened), the task's number."""
    study = fielding.study
    lang = _study_language(fielding, texts.language)
    base, _, rest = key.partition(".")
    page = _page_or_none(fielding, base)
    if page is None:
        return key
    if page.type == "choice_tasks":
        return texts("dash_choice_task", n=rest or "?")
    text = one_line(study.text(page.text, lang))
    if page.type == "gabor_granger" and rest.isdigit():
        price = study.price_attribute
        currency = price.currency if price is not None else ""
        amount = f"{currency}\u00a0{int(rest):,}".replace(",", "’").strip()
        text = text.replace("{price}", amount)
    if page.type == "van_westendorp" and rest == "nms":
        text = texts("dash_purchase_likelihood")
    if page.type in ("maxdiff", "kano", "concept_test"):
        return _screen_title(study, page, rest, text, lang, texts)
    return _shortened(text)


def _shortened(text: str, room: int = _PAGE_TITLE_CHARS) -> str:
    return text if len(text) <= room else text[: room - 1].rstrip() + "…"


def _screen_title(
    study: Any, page: Any, screen: str, text: str, lang: str, texts: ConsoleTexts
) -> str:
    """A MaxDiff task, a Kano feature or a concept shown in turn: the page's question
    with the feature it asks about, or which of the screens it is."""
    if not screen.isdigit():  # the MaxDiff's own anchor screen
        anchor = getattr(page, "anchor", None)
        return _shortened(one_line(study.text(anchor.question, lang)) if anchor else text)
    n = int(screen)
    if page.type == "kano":
        feature = page.features[n - 1]
        return _shortened(text.replace("{feature}", one_line(study.text(feature.label, lang))))
    if page.type == "concept_test" and page.mode == "monadic":  # one screen
        return _shortened(text)
    total = page.tasks if page.type == "maxdiff" else len(page.concepts)
    short = _shortened(text, _PAGE_TITLE_CHARS - 12)  # room for " (12 sur 12)"
    return texts("dash_screen_of", text=short, n=n, total=total)


def _study_language(fielding: Fielding, lang: str) -> str:
    study = fielding.study
    return lang if lang in study.languages else study.default_language


def _quota_labels(fielding: Fielding, quota: str, option: str, lang: str) -> tuple[str, str]:
    """The quota's question and the option as the respondents read them."""
    study = fielding.study
    lang = _study_language(fielding, lang)
    found = [q for q in fielding.survey.questionnaire.quotas if q.name == quota]
    page = _page_or_none(fielding, found[0].question) if found else None
    if getattr(page, "type", "") != "single":
        return quota, option
    labels = {o.name: study.text(o.label, lang) for o in page.options}
    return one_line(study.text(page.text, lang)), labels.get(option, option)


# -- the plot --------------------------------------------------------------------------------

_W, _H = 640, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 62, 12, 34, 56


def _ticks(most: int) -> list[int]:
    """Whole-number ticks of the y axis, 0 up to at least ``most``, a round step apart,
    at most five of them."""
    step = 1
    while True:
        for nice in (step, 2 * step, 5 * step):
            if -(-max(most, 1) // nice) <= 4:
                return list(range(0, nice * -(-max(most, 1) // nice) + 1, nice))
        step *= 10


def completes_chart(days: list[tuple[date, int]], texts: ConsoleTexts, zone: str) -> Markup:
    """Completes per day as an inline SVG bar chart with labelled axes (local dates).

    Drawn in a 640 × 240 box that scales with the page; the labels grow on narrow
    screens (a media query in the SVG) so they stay readable on a phone.
    """
    lang = texts.language
    ticks = _ticks(max(n for _, n in days))
    top = ticks[-1]
    width = _W - _LEFT - _RIGHT
    height = _H - _TOP - _BOTTOM
    slot = width / len(days)
    bar = max(1.0, slot * 0.7)
    title = texts("dash_per_day")
    total = count_text(sum(n for _, n in days), lang)
    summary = texts("dash_chart_summary", days=len(days), total=total, zone=zone)
    parts = [
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" '
        'aria-labelledby="chart-title chart-desc" focusable="false">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(summary)}</desc>',
        "<style>.chart text{font:12px system-ui,sans-serif;fill:#333}"
        ".chart .bar{fill:#0b57d0}.chart .grid{stroke:#ddd}.chart .axis{stroke:#777}"
        "@media (max-width:40rem){.chart text{font-size:20px}}</style>",
    ]
    for tick in ticks:
        y = _TOP + height - tick / top * height
        parts.append(
            f'<line class="grid" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{count_text(tick, lang)}</text>"
        )
    for i, (day, n) in enumerate(days):
        h = n / top * height
        x = _LEFT + i * slot + (slot - bar) / 2
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{_TOP + height - h:.1f}" width="{bar:.1f}" '
            f'height="{h:.1f}"><title>{escape(date_text(day, lang))}: {n}</title></rect>'
        )
    every = max(1, -(-len(days) // 6))  # at most six dates fit a phone's width
    for i in range(0, len(days), every):
        x = _LEFT + (i + 0.5) * slot
        parts.append(
            f'<text x="{x:.1f}" y="{_H - _BOTTOM + 24}" text-anchor="middle">'
            f"{escape(date_text(days[i][0], lang, short=True))}</text>"
        )
    parts.append(
        f'<line class="axis" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{_TOP + height}" '
        f'y2="{_TOP + height}"/>'
        f'<text class="axis-title" x="4" y="18">{escape(texts("dash_axis_count"))}</text>'
        f'<text class="axis-title" x="{_LEFT + width / 2:.1f}" y="{_H - 6}" '
        f'text-anchor="middle">{escape(texts("dash_axis_date"))}</text></svg>'
    )
    return Markup("".join(parts))


# -- the view: figures with the page's words --------------------------------------------------


@dataclass
class Dashboard:
    """What console_dashboard.html shows, in one language."""

    study: str
    figures: FieldFigures
    texts: ConsoleTexts
    flags: list[tuple[str, str, int]] | None
    flags_at: str
    updated: str
    dropoff: list[dict[str, Any]] = field(default_factory=list)
    quotas: list[dict[str, Any]] = field(default_factory=list)
    chart: Markup | None = None
    days: list[tuple[str, int]] = field(default_factory=list)
    target: int = 0
    median: str = "–"
    chart_caption: str = ""
    poll_seconds: int = POLL_SECONDS

    @property
    def stamp(self) -> str:
        """Changes when anything the page shows changes (but the time of the update)."""
        return self.figures.stamp() + ("" if self.flags is None else "-" + self.flags_at)

    def n(self, value: int) -> str:
        return count_text(value, self.texts.language)

    def share(self, part: int, whole: int) -> str:
        """A percentage; one decimal below 10 % (one in 400 is not 0 %)."""
        if whole == 0:
            return "–"
        percent = 100 * part / whole
        text = f"{percent:.1f}" if 0 < percent < 9.95 else f"{percent:.0f}"
        return (text.replace(".", ",") if self.texts.language == "fr" else text) + "\u00a0%"

    @property
    def colon(self) -> str:
        """A label's colon: French sets a space before it."""
        return "\u00a0: " if self.texts.language == "fr" else ": "


def dashboard_view(
    fielding: Fielding,
    lang: str,
    max_age: float = FRESH_SECONDS,
    wait_for_flags: float = 0.0,
    figures: FieldFigures | None = None,
) -> Dashboard:
    """The dashboard of ``fielding`` in ``lang``: labels from the study, local dates.

    Figures up to ``max_age`` seconds old are shared between viewers (a page load asks
    for 0: it shows what was just done); the quality flags' first check is waited for
    up to ``wait_for_flags`` seconds, after that the page says it is running.
    ``figures``: these instead (a test's, at its own time).
    """
    texts = ConsoleTexts(lang)
    figures = figures or FRESH.get(fielding, max_age)
    zone = ZoneInfo(figures.zone)
    counts, checked = QUALITY.counts(fielding, (figures.complete, figures.started), wait_for_flags)
    flags = None
    if counts is not None:
        flags = [(name, texts(f"dash_flag_{name}"), counts.get(name, 0)) for name in QUALITY_FLAGS]
    view = Dashboard(
        study=fielding.study.name,
        figures=figures,
        texts=texts,
        flags=flags,
        flags_at=_clock(checked, zone)[:5] if counts is not None else "",
        updated=texts("dash_updated", time=_clock(figures.at, zone)),
    )
    most_left = max([1] + [stop.left for stop in figures.dropoff])
    for stop in figures.dropoff:
        view.dropoff.append(
            {
                "page": page_title(fielding, stop.key, texts),
                "in_progress": stop.in_progress,
                "left": stop.left,
                "share": view.share(stop.left, figures.started),
                "bar": round(100 * stop.left / most_left),
            }
        )
    for q in figures.quotas:
        question, option = _quota_labels(fielding, q.quota, q.option, lang)
        if not view.quotas or view.quotas[-1]["quota"] != q.quota:
            view.quotas.append({"quota": q.quota, "question": question, "cells": []})
        view.quotas[-1]["cells"].append(
            {
                "option": option,
                "count": q.count,
                "target": q.target,
                "tests": q.tests,
                "full": q.count >= q.target,
                "percent": min(100, round(100 * q.count / q.target)) if q.target else 0,
            }
        )
    view.target = _completes_target(fielding, figures)
    if figures.per_day:
        view.chart = completes_chart(figures.per_day, texts, figures.zone)
        view.chart_caption = texts(
            "dash_chart_summary",
            days=len(figures.per_day),
            total=count_text(sum(n for _, n in figures.per_day), lang),
            zone=figures.zone,
        )
        view.days = [(date_text(d, lang), n) for d, n in figures.per_day]
    if figures.median_seconds is not None:
        minutes, seconds = divmod(round(figures.median_seconds), 60)
        view.median = f"{minutes}:{seconds:02}"
    return view


def _completes_target(fielding: Fielding, figures: FieldFigures) -> int:
    """Completes the quotas ask for: the largest quota's total (0 without quotas)."""
    totals = Counter[str]()
    for q in figures.quotas:
        totals[q.quota] += q.target
    return max(totals.values(), default=0)


QUALITY = QualityChecks()
FRESH = _FreshFigures()


# -- the routes --------------------------------------------------------------------------------


def dashboard_routes(console: Any) -> list[Route]:
    """The dashboard's JSON (owners, analysts) and its script (anyone), on the console."""

    async def figures_json(request: Request, user: Any, fielding: Fielding, row: Any) -> Response:
        lang = console.language(request)
        view = await run_in_threadpool(dashboard_view, fielding, lang)
        body: dict[str, Any] = {"stamp": view.stamp, "updated": view.updated}
        if request.query_params.get("stamp") != view.stamp:
            template = console.templates.get_template("console_dashboard_live.html")
            body["html"] = template.render(dashboard=view, t=view.texts, lang=lang)
            body["announce"] = view.texts("dash_announce", n=view.n(view.figures.complete))
        body["figures"] = _figures_json(view.figures)
        return JSONResponse(body)

    async def script(request: Request) -> Response:
        return PlainTextResponse(
            _SCRIPT.read_text(encoding="utf-8"),
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    return [
        Route(
            "/console/studies/{study}/dashboard.json",
            console.study_json(figures_json, write=True),  # signed out: 401, the script stops
            methods=["GET"],
        ),
        Route("/console/assets/dashboard.js", script, methods=["GET"]),
    ]


def _figures_json(f: FieldFigures) -> dict[str, Any]:
    return {
        "started": f.started,
        "complete": f.complete,
        "screenout": f.screenout,
        "overquota": f.overquota,
        "in_progress": f.active,
        "left": f.left,
        "tests": f.tests,
        "median_seconds": f.median_seconds,
        "per_day": [[d.isoformat(), n] for d, n in f.per_day],
        "zone": f.zone,
    }
