"""The console's market simulator: fit a model on a study's completes, publish its page.

An owner or analyst publishes a simulator: a model (MNL, latent classes or HB) fitted on
the completed respondents so far, and a market file (our offers, the competitors', the
status quo). The fit runs after the response (a background task); its row in the
``simulators`` table goes from ``fitting`` to ``ready`` with the page's data (the same
:func:`~offerlab.report._html.simulator_data` the HTML report embeds, with the
intervals' draws) or to ``failed`` with the reason. Viewers the study is shared with
open the newest ready simulator; nothing is refitted when they do.

On the page, anyone who may read the study saves named scenarios (which offers are in
the market, with which levels, and the segment looked at), compares the offers on screen
with a base case, and exports the table as CSV (written here, formula-safe) or PNG.
The page's words and the study's labels come in the reader's language
(:func:`page_texts`); the script's numbers do not depend on it.
"""

from __future__ import annotations

import json
import logging
import math
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from offerlab.data import ChoiceData, write_csv
from offerlab.decide import (
    Costs,
    MarketSpec,
    filterable,
    multi_questions,
    parse_market,
    profile_filters,
    profile_questions,
    simulator_for,
)
from offerlab.exceptions import OfferlabError, OfferlabWarning
from offerlab.field._audit import record_study_event
from offerlab.field._console_core import Console
from offerlab.field._console_texts import ConsoleTexts
from offerlab.field._export import answers_table, choice_data
from offerlab.field._fit_notes import KEY as NOTES_KEY
from offerlab.field._fit_notes import fit_notes_record
from offerlab.field._hb_view import hb_diagnostics_record
from offerlab.field._service import Fielding
from offerlab.models import DECISION_MODELS, DecisionFit, fit_decision_model
from offerlab.report import (
    SIMULATOR_LOCALES,
    json_for_html,
    profile_filter_data,
    report_catalogue,
    simulator_data,
)
from offerlab.simulate import offer_cautions
from offerlab.store import ScenarioRow, SimulatorRow, StudyRow, User
from offerlab.study import CategoricalAttribute, Study

__all__ = [
    "LOCALES",
    "MAX_MARKET_TEXT",
    "NOTHING_POSTED",
    "MarketForm",
    "PublishedSimulator",
    "ScenarioError",
    "delete_scenario",
    "market_page_context",
    "model_label",
    "page_texts",
    "publish_simulator",
    "published_simulators",
    "run_simulator_fit",
    "save_scenario",
    "scenario_csv",
    "scenario_routes",
    "scenarios_of",
    "starter_market",
    "when_text",
]


@dataclass(frozen=True)
class MarketForm:
    """A market file form as a page shows it again: what was posted and why it was refused
    (all empty on a GET: the page starts from the newest market file)."""

    error: str = ""
    text: str | None = None
    model: str | None = None


NOTHING_POSTED = MarketForm()


MAX_MARKET_TEXT = 64 * 1024
#: A fit still "fitting" after this long died with its server (or never will finish).
STALE_AFTER = 3600.0
#: Fits in a web worker: the report's defaults, HB chains one after the other (no fork of a
#: threaded server process).
WEB_FIT = DecisionFit(n_jobs=1)
UNCERTAINTY_DRAWS = 200
MAX_SCENARIO_NAME = 80
MAX_SCENARIO_TEXT = 16 * 1024
MAX_SCENARIOS = 200
MAX_EXPORT_TEXT = 64 * 1024
MAX_EXPORT_ROWS = 100
#: Locale of the page's numbers per console language (Swiss conventions).
LOCALES = SIMULATOR_LOCALES

log = logging.getLogger("offerlab.console")


@dataclass(frozen=True)
class PublishedSimulator:
    """One simulator row, as a page shows it."""

    id: int
    model: str
    status: str
    created_at: float
    finished_at: float | None
    respondents: int
    message: str
    market_yaml: str
    payload: str

    @property
    def stale(self) -> bool:
        return self.status == "fitting" and time.time() - self.created_at > STALE_AFTER


def starter_market(study: Study) -> str:
    """A market file to start from: the first holdout's concepts, else one offer per
    studied price level with every other attribute at its first level; the none option
    when the study has one."""
    if study.tasks.holdouts:
        concepts = study.tasks.holdouts[0].concepts
        offers = [
            {"name": f"Offer {chr(65 + i)}", "ours": i == 0, **dict(c)}
            for i, c in enumerate(concepts)
        ]
    else:
        base: dict[str, Any] = {}
        for name in study.attribute_names:
            attr = study.attribute(name)
            level = study.level_value(name, 0)
            if not isinstance(attr, CategoricalAttribute):
                level = _plain_number(level)
            base[name] = level
        offers = [{"name": "Our offer", "ours": True, **base}]
    text = yaml.safe_dump(
        {"offers": offers, "none": study.tasks.none is not None},
        sort_keys=False,
        allow_unicode=True,
    )
    return (
        "# Our offers (ours: true), the competitors', and status_quo alternatives such as\n"
        "# 'keep leasing'; one level per attribute, prices anywhere in the studied range.\n" + text
    )


def _plain_number(value: object) -> object:
    number = float(value)  # type: ignore[arg-type]
    return int(number) if number == int(number) else number


def publish_simulator(
    fielding: Fielding, user_id: int, model: str, market_text: str, source: str = "market file"
) -> tuple[int, MarketSpec]:
    """Check the request and write the ``fitting`` row; the fit is :func:`run_simulator_fit`.

    Raises
    ------
    OfferlabError
        A model that is not mnl, lc or hb; a market file that does not fit the study
        (the message names the line and field); no completed respondent yet.
    """
    if model not in DECISION_MODELS:
        raise OfferlabError(f"the model is mnl, lc or hb; got {model!r}")
    if len(market_text) > MAX_MARKET_TEXT:
        raise OfferlabError(f"the market file is longer than {MAX_MARKET_TEXT // 1024} KiB")
    if not market_text.strip():
        raise OfferlabError("upload or paste a market file (our offers, the competitors')")
    spec = parse_market(market_text, fielding.study, source)
    with Session(fielding.engine) as session, session.begin():
        row = SimulatorRow(
            study_id=fielding.study_id,
            created_at=time.time(),
            created_by=user_id,
            model=model,
            status="fitting",
            market_yaml=market_text,
            respondents=0,
            message="",
            payload="",
        )
        session.add(row)
        session.flush()
        record_study_event(
            session,
            "simulator.publish",
            user_id,
            session.get_one(StudyRow, fielding.study_id),
            {"model": model},
        )
        return row.id, spec


def run_simulator_fit(fielding: Fielding, row_id: int, model: str, spec: MarketSpec) -> None:
    """Fit ``model`` on the completes and store the simulator's page data (or why not)."""
    study = fielding.study
    respondents = 0
    try:
        frame = choice_data(fielding)
        respondents = int(frame["respondent"].nunique()) if len(frame) else 0
        if respondents == 0:
            raise OfferlabError("no completed respondent yet: nothing to fit")
        data = ChoiceData.from_frame(frame, study=study)
        # The fit's and the simulator's warnings (convergence, no intervals…) go on the page.
        # catch_warnings is process-wide: another thread's warning may land here too.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", OfferlabWarning)
            results = fit_decision_model(model, data, study, WEB_FIT)
            sim = simulator_for(results, "sop", n_draws=UNCERTAINTY_DRAWS, seed=0)
            market = spec.market(results.coding)
            language = "en" if "en" in study.languages else study.languages[0]
            costs = Costs.from_spec(spec)
            payload = simulator_data(sim, market, results.coding, language, costs=costs)
            payload["segments"] = segment_rows(sim, payload)
            payload["filters"] = _profile_filters(fielding, sim, results, payload, language)
            asked = profile_questions(study) or multi_questions(study)
            payload["filters_unavailable"] = bool(asked) and not filterable(results)
            payload["hb_diagnostics"] = hb_diagnostics_record(results)
        cautions = [c for o in spec.file.offers for c in offer_cautions(study, o.name, o.levels())]
        shows_convergence = payload["hb_diagnostics"] is not None
        notes = fit_notes_record(caught, cautions, shows_convergence=shows_convergence)
        payload[NOTES_KEY] = notes
        english = " ".join(note["text"] for note in notes)  # the row's message, for the log
        _finish(fielding.engine, row_id, "ready", respondents, english, payload)
    except Exception as exc:  # the row must not stay "fitting"; the page says why
        message = str(exc) if isinstance(exc, OfferlabError | ValueError) else repr(exc)
        _finish(fielding.engine, row_id, "failed", respondents, message, None)
        if not isinstance(exc, OfferlabError):
            log.exception("simulator fit %s of study %s failed", row_id, study.name)


def _profile_filters(
    fielding: Fielding, sim: Any, results: Any, payload: dict[str, Any], language: str
) -> list[dict[str, Any]]:
    """The market by the respondents' own answers (age band, region…) where the fit is
    individual-level; decide finds whose coefficients enter, the page only draws."""
    questions, multi = profile_questions(fielding.study), multi_questions(fielding.study)
    if not (questions or multi) or not filterable(results):
        return []
    filters = profile_filters(sim, results, answers_table(fielding), questions, multi)
    return profile_filter_data(filters, sim, payload, fielding.study, language)


def _finish(
    engine: Engine,
    row_id: int,
    status: str,
    respondents: int,
    message: str,
    payload: dict[str, Any] | None,
) -> None:
    with Session(engine) as session, session.begin():
        row = session.get_one(SimulatorRow, row_id)
        row.status = status
        row.respondents = respondents
        row.finished_at = time.time()
        row.message = message
        if payload is not None:
            row.payload = json_for_html(payload)  # the page embeds it as it is


def published_simulators(
    engine: Engine, study_id: int
) -> tuple[PublishedSimulator | None, PublishedSimulator | None]:
    """The newest ready simulator, and the newest simulator of any status."""
    with Session(engine) as session:
        rows = session.execute(
            select(SimulatorRow)
            .where(SimulatorRow.study_id == study_id)
            .order_by(SimulatorRow.created_at.desc(), SimulatorRow.id.desc())
        ).scalars()
        newest = ready = None
        for row in rows:
            item = PublishedSimulator(
                id=row.id,
                model=row.model,
                status=row.status,
                created_at=row.created_at,
                finished_at=row.finished_at,
                respondents=row.respondents,
                message=row.message,
                market_yaml=row.market_yaml,
                payload=row.payload if row.status == "ready" else "",
            )
            newest = newest or item
            if row.status == "ready":
                ready = item
                break
        return ready, newest


def segment_rows(sim: Any, payload: dict[str, Any]) -> dict[str, Any] | None:
    """The segment of each row of the page's data (latent classes), or None.

    The page's segment filter keeps one segment's rows and renormalises their weights,
    as :meth:`~offerlab.decide.MarketSimulator.shares` does with ``by_segment``; so the
    codes are given only when the page has every population row and the draws' rows
    carry their segments too (otherwise the intervals would be the whole market's)."""
    population = sim.population
    if population.segments is None or len(payload["weights"]) != population.n_rows:
        return None
    labels = [str(label) for label in sim.segment_labels]
    code = {label: g for g, label in enumerate(labels)}
    draw_rows = None
    draws = payload.get("draws")
    if draws is not None:
        try:
            segments = population.draw_segments(int(draws["rows"]))
        except OfferlabError:
            return None
        if segments is None:
            return None
        draw_rows = [code[str(s)] for s in segments.tolist()]
    return {
        "labels": labels,
        "rows": [code[str(s)] for s in population.segments.tolist()],
        "draw_rows": draw_rows,
    }


# -- the page in the reader's language ------------------------------------------------------

#: Dates as people in each language write them, in the team's time zone.
_DATE_SHAPES = {
    "de": "%d.%m.%Y, %H:%M",
    "fr": "%d/%m/%Y %H:%M",
    "it": "%d/%m/%Y, %H:%M",
    "en": "%d %b %Y, %H:%M",
}
_ZONE = "Europe/Zurich"


def when_text(at: float | None, language: str) -> str:
    """A moment as a local date and time (Swiss time), "–" for none."""
    if at is None:
        return "–"
    from datetime import datetime
    from zoneinfo import ZoneInfo

    moment = datetime.fromtimestamp(at, ZoneInfo(_ZONE))
    return moment.strftime(_DATE_SHAPES.get(language, _DATE_SHAPES["en"]))


def model_label(t: ConsoleTexts, model: str) -> str:
    """The model in words a business unit reads."""
    return t(f"sim_model_{model}") if model in DECISION_MODELS else model


def market_page_context(
    t: ConsoleTexts, study: Study, row_name: str, market_text: str, model: str
) -> dict[str, Any]:
    """What the simulator and the report page show alike: the study's title, the market
    form (its text, the model and the models offered) and how models and moments read."""
    return {
        "study_title": study.text(study.title, t.language) or row_name,
        "market_text": market_text,
        "model": model,
        "models": [(m, model_label(t, m)) for m in DECISION_MODELS],
        "model_of": lambda m: model_label(t, m),
        "when": lambda at: when_text(at, t.language),
    }


def page_texts(study: Study, data: dict[str, Any], t: ConsoleTexts, **extra: str) -> str:
    """The script's words and the study's labels in ``t``'s language, as page JSON.

    The labels follow the order of the stored page data ``data``, as read from its JSON
    (numeric levels sorted by value); ``extra`` adds the console's endpoints and the
    form token."""
    language = t.language
    attributes = {}
    for entry in data["attributes"]:
        attr = study.attribute(entry["name"])
        values = [study.level_value(attr.name, i) for i in range(len(attr.level_names))]
        order = (
            list(range(len(values)))
            if isinstance(attr, CategoricalAttribute)
            else [int(i) for i in np.argsort(np.asarray(values, dtype=float))]
        )
        attributes[attr.name] = {
            "label": study.text(attr.label, language),
            "labels": [study.level_label(attr.name, i, language) for i in order],
        }
    fixed = {}
    none = study.tasks.none
    for entry in data["fixed"]:
        if none is not None and entry["name"] == "none":  # a market's name of "none of these"
            fixed[entry["name"]] = study.text(none.label, language)
    # every word of the script (the report's catalogue is their one source)
    words = {
        key[len("sim_js_") :]: t(key) for key in report_catalogue() if key.startswith("sim_js_")
    }
    filters = {}
    for entry in data.get("filters") or []:
        question = study.questionnaire.page(entry["question"])
        labels = {o.name: study.text(o.label, language) for o in question.options}
        filters[entry["question"]] = {
            "label": study.text(question.text, language),
            "labels": [labels.get(name, name) for name in entry["options"]],
        }
    return json_for_html(
        {
            **words,
            "locale": LOCALES.get(language, "en-GB"),
            "no_comparison": t("sim_no_comparison"),
            "published_market": t("sim_published_market"),
            "title": f"{t('sim_title')}: {study.text(study.title, language) or study.name}",
            "attributes": attributes,
            "fixed": fixed,
            "filters": filters,
            **extra,
        }
    )


# -- named scenarios ------------------------------------------------------------------------


class ScenarioError(OfferlabError):
    """A scenario refused: ``key`` and ``values`` of its message in the console catalogue."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values

    def text(self, t: ConsoleTexts) -> str:
        return t(self.key, **self.values)


def scenarios_of(engine: Engine, study_id: int) -> list[dict[str, Any]]:
    """The study's saved scenarios, oldest first: id, name, state, who saved it and when."""
    with Session(engine) as session:
        rows = session.execute(
            select(ScenarioRow, User.email)
            .outerjoin(User, User.id == ScenarioRow.created_by)
            .where(ScenarioRow.study_id == study_id)
            .order_by(ScenarioRow.created_at, ScenarioRow.id)
        ).all()
        return [
            {
                "id": row.id,
                "name": row.name,
                "state": json.loads(row.state),
                "by": email or "",
                "at": row.created_at,
            }
            for row, email in rows
        ]


def _json_within(text: str, limit: int, refuse: Callable[[str], Exception]) -> Any:
    """JSON text from the page of at most ``limit`` characters, parsed; else ``refuse``'s
    error ("longer than … KiB", "not JSON")."""
    if len(text) > limit:
        raise refuse(f"longer than {limit // 1024} KiB")
    try:
        return json.loads(text)
    except ValueError:
        raise refuse("not JSON") from None


def checked_state(text: str, payload: str) -> dict[str, Any]:
    """A scenario's state from the page, checked against the published simulator's data.

    Raises
    ------
    ScenarioError
        Not JSON, too long, or an offer, attribute, level or segment the simulator
        does not have (the message names it).
    """

    def refuse(problem: str) -> ScenarioError:
        return ScenarioError("sim_err_state", problem=problem[:200])

    state = _json_within(text, MAX_SCENARIO_TEXT, refuse)
    if not isinstance(state, dict):
        raise refuse("not an object")
    data = json.loads(payload)
    attributes = {a["name"]: a for a in data["attributes"]}
    offers = {o["name"] for o in data["offers"]}
    fixed = {f["name"] for f in data["fixed"]}
    segments = list((data.get("segments") or {}).get("labels") or [])
    segments += [f"{f['question']}={o}" for f in data.get("filters") or [] for o in f["options"]]
    out: dict[str, Any] = {"offers": {}, "fixed": {}, "segment": None}
    given = state.get("offers", {})
    if not isinstance(given, dict):
        raise refuse("offers is not an object")
    for name, offer in given.items():
        if name not in offers or not isinstance(offer, dict):
            raise refuse(f"no offer named {name!r}")
        levels = offer.get("levels", {})
        if not isinstance(levels, dict):
            raise refuse(f"{name}: levels is not an object")
        out["offers"][name] = {"on": offer.get("on") is not False, "levels": {}}
        for attribute, value in levels.items():
            entry = attributes.get(attribute)
            if entry is None:
                raise refuse(f"{name}: no attribute named {attribute!r}")
            out["offers"][name]["levels"][attribute] = _level(name, entry, value, refuse)
    given_fixed = state.get("fixed", {})
    if not isinstance(given_fixed, dict) or not set(given_fixed) <= fixed:
        raise refuse("fixed names an alternative the simulator does not have")
    out["fixed"] = {name: on is not False for name, on in given_fixed.items()}
    segment = state.get("segment")
    if segment is not None and segment not in segments:
        raise refuse(f"no segment {str(segment)[:40]!r}")
    out["segment"] = segment
    return out


def _level(offer: str, entry: dict[str, Any], value: object, refuse: Any) -> object:
    if entry["kind"] == "categorical":
        if value not in entry["levels"]:
            raise refuse(f"{offer}: {entry['name']} has no level {str(value)[:40]!r}")
        return value
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    low, high = min(entry["levels"]), max(entry["levels"])
    if number is None or not math.isfinite(number) or not low <= number <= high:
        raise refuse(f"{offer}: {entry['name']} must be a number from {low:g} to {high:g}")
    return number


def save_scenario(
    engine: Engine, study_id: int, user_id: int, name: str, state: dict[str, Any]
) -> int:
    """Store a checked scenario under ``name`` (a new name, or one the user saved: then it
    is replaced); its id."""
    name = " ".join(name.split())
    if not 0 < len(name) <= MAX_SCENARIO_NAME:
        raise ScenarioError("sim_err_name")
    with Session(engine) as session, session.begin():
        row = session.execute(
            select(ScenarioRow).where(ScenarioRow.study_id == study_id, ScenarioRow.name == name)
        ).scalar()
        if row is not None and row.created_by != user_id:
            raise ScenarioError("sim_err_taken", name=name)
        if row is None:
            count = session.execute(
                select(func.count()).where(ScenarioRow.study_id == study_id)
            ).scalar_one()
            if count >= MAX_SCENARIOS:
                raise ScenarioError("sim_err_too_many", n=count)
            row = ScenarioRow(study_id=study_id, name=name, created_by=user_id)
            session.add(row)
        row.created_at = time.time()
        row.state = json.dumps(state, ensure_ascii=False, sort_keys=True)
        session.flush()
        record_study_event(
            session, "scenario.save", user_id, session.get_one(StudyRow, study_id), {"name": name}
        )
        return row.id


def delete_scenario(
    engine: Engine, study_id: int, scenario_id: int, user_id: int, may_write: bool
) -> bool:
    """Delete a scenario (its author, or an owner or analyst of the study); False if the
    study has no such scenario."""
    with Session(engine) as session, session.begin():
        row = session.get(ScenarioRow, scenario_id)
        if row is None or row.study_id != study_id:
            return False
        if row.created_by != user_id and not may_write:
            raise ScenarioError("sim_err_not_yours")
        record_study_event(
            session,
            "scenario.delete",
            user_id,
            session.get_one(StudyRow, study_id),
            {"name": row.name},
        )
        session.delete(row)
        return True


#: The page's row fields an export carries, and the catalogue key of each column.
_EXPORT_COLUMNS = (
    ("share", "sim_js_share", None),
    ("lower", "sim_js_share", "sim_csv_lower"),
    ("upper", "sim_js_share", "sim_csv_upper"),
    ("revenue", "sim_js_revenue", None),
    ("revenue_lower", "sim_js_revenue", "sim_csv_lower"),
    ("revenue_upper", "sim_js_revenue", "sim_csv_upper"),
    ("margin", "sim_js_margin", None),
    ("profit", "sim_js_profit", None),
    ("profit_lower", "sim_js_profit", "sim_csv_lower"),
    ("profit_upper", "sim_js_profit", "sim_csv_upper"),
    ("delta_share", "sim_js_delta_share", None),
    ("delta_profit", "sim_js_delta_money", None),
    ("delta_revenue", "sim_js_delta_revenue", None),
)


def scenario_csv(rows_text: str, scenario: str, t: ConsoleTexts) -> str:
    """The simulator's table as the page shows it, as a CSV for people (column names in
    ``t``'s language, every text cell formula-safe, empty columns left out).

    Raises
    ------
    OfferlabError
        Rows that are not a list of at most 100 objects with a name and numbers.
    """
    rows = _json_within(
        rows_text, MAX_EXPORT_TEXT, lambda problem: OfferlabError(f"the table is {problem}")
    )
    if not isinstance(rows, list) or not 0 < len(rows) <= MAX_EXPORT_ROWS:
        raise OfferlabError(f"the table has 1 to {MAX_EXPORT_ROWS} rows")
    records = []
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("alternative"), str):
            raise OfferlabError("every row names its alternative")
        record: dict[str, Any] = {"alternative": row["alternative"][:200]}
        for field, _, _ in _EXPORT_COLUMNS:
            value = row.get(field)
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if value is not None and not (ok and math.isfinite(value)):
                raise OfferlabError(f"{field} is not a number")
            record[field] = value
        records.append(record)
    frame = pd.DataFrame.from_records(records).dropna(axis=1, how="all")
    frame["alternative"] = frame["alternative"].replace("(our offers)", t("sim_js_together"))
    names = {"alternative": t("sim_csv_alternative")}
    for field, key, bound in _EXPORT_COLUMNS:
        names[field] = t(bound, what=t(key)) if bound else t(key)
    frame = frame.rename(columns=names)
    frame.insert(0, t("sim_csv_scenario"), scenario[:MAX_SCENARIO_NAME])
    return write_csv(frame) or ""


# -- the scenario endpoints (the console registers them) -------------------------------------


def scenario_routes(console: Console) -> list[Route]:
    """``/console/studies/{study}/scenarios``: GET the list (JSON), POST a new one (name,
    state; JSON answer), ``…/{id}/delete`` POST, ``…/export.csv`` POST (the table on
    screen). Anyone who may read the study; every POST carries the session's CSRF token."""
    base = "/console/studies/{study}/scenarios"
    scenarios = _Scenarios(console)
    return [
        Route(base, console.study_json(scenarios.listing), methods=["GET"]),
        Route(base, scenarios.posted(scenarios.save), methods=["POST"]),
        Route(base + "/export.csv", scenarios.posted(scenarios.export), methods=["POST"]),
        Route(base + "/{scenario:id}/delete", scenarios.posted(scenarios.delete), methods=["POST"]),
    ]


_Posted = Callable[[Request, Any, dict[str, str], StudyRow, ConsoleTexts], Awaitable[Response]]


class _Scenarios:
    """The scenario endpoints, on the console's checks."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.engine = console.engine

    def posted(self, handler: _Posted) -> Callable[[Request], Awaitable[Response]]:
        """A POST of someone who may read the study (CSRF checked): ``handler`` gets the
        user, the form, the study's row and the texts in the page's language."""

        async def endpoint(request: Request) -> Response:
            checked = await self.console._post_for_study(
                request, write=False, max_body=MAX_EXPORT_TEXT + 8 * 1024
            )
            if isinstance(checked, Response):
                return checked
            user, form, (_, row) = checked
            t = ConsoleTexts(self.console.language(request))
            return await handler(request, user, form, row, t)

        return endpoint

    async def listing(
        self, request: Request, user: Any, fielding: Fielding, row: StudyRow
    ) -> Response:
        items = await run_in_threadpool(scenarios_of, self.engine, row.id)
        return JSONResponse({"scenarios": items})

    async def save(
        self, request: Request, user: Any, form: dict[str, str], row: StudyRow, t: ConsoleTexts
    ) -> Response:
        ready, _ = await run_in_threadpool(published_simulators, self.engine, row.id)
        if ready is None:
            return JSONResponse({"error": t("sim_none")}, status_code=409)

        def store() -> int:
            state = checked_state(form.get("state", ""), ready.payload)
            return save_scenario(self.engine, row.id, user.id, form.get("name", ""), state)

        try:
            scenario_id = await run_in_threadpool(store)
        except ScenarioError as error:
            return JSONResponse({"error": error.text(t)}, status_code=422)
        return JSONResponse({"id": scenario_id})

    async def delete(
        self, request: Request, user: Any, form: dict[str, str], row: StudyRow, t: ConsoleTexts
    ) -> Response:
        access = (await run_in_threadpool(self.console._access, user.id, row.name))[1]
        scenario = request.path_params["scenario"]
        try:
            done = await run_in_threadpool(
                delete_scenario, self.engine, row.id, scenario, user.id, access.write
            )
        except ScenarioError as error:
            return JSONResponse({"error": error.text(t)}, status_code=403)
        if not done:
            return JSONResponse({"error": "no such scenario"}, status_code=404)
        return JSONResponse({"deleted": True})

    async def export(
        self, request: Request, user: Any, form: dict[str, str], row: StudyRow, t: ConsoleTexts
    ) -> Response:
        try:
            text = scenario_csv(form.get("rows", ""), form.get("name", ""), t)
        except OfferlabError as error:
            return PlainTextResponse(str(error), status_code=422)
        await run_in_threadpool(
            self.console._record, "study.download", user.id, row, {"what": "scenario.csv"}
        )
        name = f"{row.name}_scenario.csv"
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
