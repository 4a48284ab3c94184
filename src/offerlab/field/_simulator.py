"""The console's market simulator: fit a model on a study's completes, publish its page.

An owner or analyst publishes a simulator: a model (MNL, latent classes or HB) fitted on
the completed respondents so far, and a market file (our offers, the competitors', the
status quo). The fit runs after the response (a background task); its row in the
``simulators`` table goes from ``fitting`` to ``ready`` with the page's data (the same
:func:`~offerlab.report._html.simulator_data` the HTML report embeds, with the
intervals' draws) or to ``failed`` with the reason. Viewers the study is shared with
open the newest ready simulator; nothing is refitted when they do.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass
from typing import Any

import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from offerlab.data import ChoiceData
from offerlab.decide import Costs, MarketSpec, parse_market, simulator_for
from offerlab.exceptions import OfferlabError, OfferlabWarning
from offerlab.field._export import choice_data
from offerlab.field._service import Fielding
from offerlab.models._by_name import DECISION_MODELS, fit_decision_model
from offerlab.report import json_for_html
from offerlab.report._html import simulator_data
from offerlab.simulate._shares import offer_warnings
from offerlab.store import SimulatorRow, StudyRow, record_event
from offerlab.study import CategoricalAttribute, Study

__all__ = [
    "MAX_MARKET_TEXT",
    "PublishedSimulator",
    "publish_simulator",
    "published_simulators",
    "run_simulator_fit",
    "starter_market",
]

MAX_MARKET_TEXT = 64 * 1024
#: A fit still "fitting" after this long died with its server (or never will finish).
STALE_AFTER = 3600.0
#: HB in a web worker: the report's defaults, chains one after the other (no fork of a
#: threaded server process).
HB_OPTIONS = {"burn_in": 2000, "iterations": 2000, "chains": 2, "n_jobs": 1}
UNCERTAINTY_DRAWS = 200

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
        record_event(
            session,
            "simulator.publish",
            user_id=user_id,
            venture_id=session.get_one(StudyRow, fielding.study_id).venture_id,
            study_id=fielding.study_id,
            detail={"model": model},
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
        options = HB_OPTIONS if model == "hb" else {}
        # The fit's and the simulator's warnings (convergence, no intervals…) go on the page.
        # catch_warnings is process-wide: another thread's warning may land here too.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", OfferlabWarning)
            results = fit_decision_model(model, data, study, seed=0, **options)  # type: ignore[arg-type]
            sim = simulator_for(results, "sop", n_draws=UNCERTAINTY_DRAWS, seed=0)
            market = spec.market(results.coding)
            language = "en" if "en" in study.languages else study.languages[0]
            costs = Costs.from_spec(spec)
            payload = simulator_data(sim, market, results.coding, language, costs=costs)
        notes = [str(w.message) for w in caught if issubclass(w.category, OfferlabWarning)]
        notes += [
            line for o in spec.file.offers for line in offer_warnings(study, o.name, o.levels())
        ]
        _finish(fielding.engine, row_id, "ready", respondents, " ".join(notes), payload)
    except Exception as exc:  # the row must not stay "fitting"; the page says why
        message = str(exc) if isinstance(exc, OfferlabError | ValueError) else repr(exc)
        _finish(fielding.engine, row_id, "failed", respondents, message, None)
        if not isinstance(exc, OfferlabError):
            log.exception("simulator fit %s of study %s failed", row_id, study.name)


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
