"""The decision report published in the console: dated versions for the study's viewers.

An owner or analyst publishes the study's report (recommendation, pricing, needs and
obstacles, simulator) from the completes so far. The build fits the model once and
writes the report — :func:`~offerlab.report._html.build_report`, the same builder
``offerlab report`` uses — in German, French, Italian and English, each as HTML and
Excel, in a worker thread after the response (``building``, with the step it is at);
the files and the key figures are stored with the version, which names the model, the
number of respondents and a fingerprint of the choice data it used. Viewers the study is
shared with open the newest version in their language, download its PDF and Excel, and
read what changed since the version before: recommendation, prices, shares, profit.

The PDF is drawn on its first download in a language, not at publishing: drawing it
cost 60% of a build (1.5–1.7 CPU s a language, against 0.9 s for the report's content
and 0.05–0.1 s for its Excel), and most versions are read in one or two languages.
Publishing stores each language's PDF document (:func:`~offerlab.report.pdf_document`,
its text, tables and figures as JSON); the first download draws it and stores the PDF
beside it, once: in a process, drawings take turns (with each other and with a build's
figures: pyplot is not thread-safe), and between workers the table's unique key keeps
the first copy stored (the other worker serves that one).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from offerlab.data import ChoiceData
from offerlab.decide import Costs, MarketSpec, parse_market, simulator_for
from offerlab.exceptions import OfferlabError, OfferlabWarning
from offerlab.field._audit import record_study_event
from offerlab.field._console_core import Console, after_response, attachment
from offerlab.field._console_texts import CONSOLE_LANGUAGES, ConsoleTexts
from offerlab.field._export import answers_table, choice_data, respondents_table
from offerlab.field._hb_view import (
    hb_diagnostics_record,
    hb_diagnostics_view,
    stored_hb_diagnostics,
)
from offerlab.field._service import Fielding
from offerlab.field._simulator import (
    MAX_MARKET_TEXT,
    NOTHING_POSTED,
    UNCERTAINTY_DRAWS,
    WEB_FIT,
    MarketForm,
    market_page_context,
    model_label,
    published_simulators,
    starter_market,
)
from offerlab.models import DECISION_MODELS, fit_decision_model
from offerlab.store import PublicationFile, PublicationRow, StudyRow, User

__all__ = [
    "FORMATS",
    "Publication",
    "Wording",
    "build_publication",
    "differences",
    "publication_file",
    "publication_routes",
    "publications_of",
    "published_pdf",
    "start_publication",
    "wording",
]

FORMATS = {
    "report.html": "text/html; charset=utf-8",
    "report.pdf": "application/pdf",
    "report.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: The stored PDF document of a language (``report.pdf`` is drawn from it when first asked).
PDF_DOCUMENT = "pdf.json"
#: A build still "building" after this long died with its server.
STALE_AFTER = 3600.0
#: Versions listed on the page (all are kept).
SHOWN_VERSIONS = 20
#: A share or price change smaller than this is not a change worth a line.
SHARE_STEP = 0.0005
MONEY_STEP = 0.005

log = logging.getLogger("offerlab.console")
#: One build at a time per process: a build fits models and draws figures, and the
#: server's cores answer respondents too. Later builds wait (their page says "building").
_ONE_BUILD = threading.Lock()
#: matplotlib's pyplot and rc settings are the process's: a build writing one language's
#: report and a download drawing a PDF take turns (a download waits for one language at
#: most, never for a fit), and a second first download of a PDF finds the first's copy.
_DRAWING = threading.Lock()


class PdfDrawingError(OfferlabError):
    """A version's PDF that could not be drawn from its stored document (why, in words)."""


class PublicationError(OfferlabError):
    """A publication refused: the catalogue key of its message."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class Publication:
    """One published version, as the page shows it."""

    id: int
    version: int
    status: str
    step: str
    model: str
    created_at: float
    finished_at: float | None
    respondents: int
    data_hash: str
    message: str
    by: str
    summary: dict[str, Any]

    @property
    def stale(self) -> bool:
        return self.status == "building" and time.time() - self.created_at > STALE_AFTER


# -- publishing ------------------------------------------------------------------------------


def start_publication(
    fielding: Fielding, user_id: int, model: str, market_text: str
) -> tuple[int, MarketSpec]:
    """Check the request and write the ``building`` row of the next version.

    Raises
    ------
    OfferlabError
        A model that is not mnl, lc or hb, a market file that does not fit the study
        (its line and field named); :class:`PublicationError` while another version of
        the study is being built.
    """
    if model not in DECISION_MODELS:
        raise OfferlabError(f"the model is mnl, lc or hb; got {model!r}")
    if len(market_text) > MAX_MARKET_TEXT:
        raise OfferlabError(f"the market file is longer than {MAX_MARKET_TEXT // 1024} KiB")
    spec = parse_market(market_text, fielding.study, "market file")
    with Session(fielding.engine) as session, session.begin():
        study = session.get_one(StudyRow, fielding.study_id, with_for_update=True)
        running = session.execute(
            select(PublicationRow.created_at).where(
                PublicationRow.study_id == study.id, PublicationRow.status == "building"
            )
        ).scalars()
        if any(time.time() - at < STALE_AFTER for at in running):
            raise PublicationError("pub_err_running")
        last = session.execute(
            select(func.max(PublicationRow.version)).where(PublicationRow.study_id == study.id)
        ).scalar()
        row = PublicationRow(
            study_id=study.id,
            version=(last or 0) + 1,
            created_at=time.time(),
            created_by=user_id,
            model=model,
            status="building",
            step="data",
            market_yaml=market_text,
            respondents=0,
            data_hash="",
            message="",
            summary="",
        )
        session.add(row)
        session.flush()
        record_study_event(
            session, "report.publish", user_id, study, {"version": row.version, "model": model}
        )
        return row.id, spec


def build_publication(fielding: Fielding, row_id: int, model: str, spec: MarketSpec) -> None:
    """Fit, build the report in every console language and store it (or why not)."""
    with _ONE_BUILD:
        _build(fielding, row_id, model, spec)


def _build(fielding: Fielding, row_id: int, model: str, spec: MarketSpec) -> None:
    from offerlab.report import build_report

    study = fielding.study
    engine = fielding.engine
    try:
        frame = choice_data(fielding)
        respondents = int(frame["respondent"].nunique()) if len(frame) else 0
        if respondents == 0:
            raise OfferlabError("no completed respondent yet: nothing to fit")
        fingerprint = hashlib.sha256(frame.to_csv(index=False).encode("utf-8")).hexdigest()
        _update(engine, row_id, step="fit", respondents=respondents, data_hash=fingerprint)
        data = ChoiceData.from_frame(frame, study=study)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OfferlabWarning)  # the report lists its notes
            results = fit_decision_model(model, data, study, WEB_FIT)
            mnl = results if model == "mnl" else fit_decision_model("mnl", data, study)
            sim = simulator_for(results, "sop", n_draws=UNCERTAINTY_DRAWS, seed=0)
            inputs = _report_inputs(spec, results)
            answers, people = answers_table(fielding), respondents_table(fielding)
            files: dict[tuple[str, str], bytes] = {}
            summary: dict[str, Any] = {
                "recommendation": {},
                "hb_diagnostics": hb_diagnostics_record(results),
            }
            with tempfile.TemporaryDirectory(prefix="offerlab-report-") as folder:
                for language in CONSOLE_LANGUAGES:
                    _update(engine, row_id, step=f"report:{language}")
                    with _DRAWING:  # pyplot draws the figures: see _DRAWING
                        content = build_report(
                            results, data, study, model=model, sim=sim, answers=answers,
                            respondents=people, language=language, mnl=mnl, **inputs,
                        )  # fmt: skip
                        files.update(_language_files(content, Path(folder)))
                    summary["recommendation"][language] = list(content.recommendation)
                    if language == "en":
                        summary.update(key_figures(content, study))
        _store(engine, row_id, files, summary)
    except Exception as exc:  # the row must not stay "building"; the page says why
        message = str(exc) if isinstance(exc, OfferlabError | ValueError) else repr(exc)
        _update(engine, row_id, status="failed", message=message, finished_at=time.time())
        if not isinstance(exc, OfferlabError):
            log.exception("report publication %s of study %s failed", row_id, study.name)


def _language_files(content: Any, folder: Path) -> dict[tuple[str, str], bytes]:
    """One language's report as publishing stores it: HTML, Excel and the PDF's document."""
    from offerlab.report import pdf_document, write_excel, write_html

    language = content.language
    files: dict[tuple[str, str], bytes] = {}
    for name, write in (("report.html", write_html), ("report.xlsx", write_excel)):
        path = folder / f"{language}-{name}"
        write(content, path)
        files[(language, name)] = path.read_bytes()
    document = json.dumps(pdf_document(content), ensure_ascii=False)
    files[(language, PDF_DOCUMENT)] = document.encode("utf-8")
    return files


def _report_inputs(spec: MarketSpec, results: Any) -> dict[str, Any]:
    """The market, optimiser and pricing arguments of the report, as ``offerlab report``
    derives them from a market file (profit with costs, else revenue)."""
    inputs: dict[str, Any] = {
        "market": spec.market(results.coding),
        "pricing_offer": spec.pricing_offer,
        "costs": Costs.from_spec(spec),
        "pricing_prices": spec.price_grid(),
    }
    if spec.tiers:
        inputs["objective"] = "profit" if spec.has_costs else "revenue"
        inputs["optimise"] = {
            "slots": spec.tiers, "costs": spec.costs or None, "base_cost": spec.file.base_cost,
            "prices": spec.price_grid(), "fixed": dict(spec.file.optimise.fixed),
            "pessimism": spec.file.optimise.pessimism, "rng": 0,
        }  # fmt: skip
    return inputs


def key_figures(content: Any, study: Any) -> dict[str, Any]:
    """What a viewer compares between versions: each alternative's share, price, revenue
    and profit, our offers together, and the optimiser's recommended offers."""
    figures: dict[str, Any] = {"alternatives": {}, "ours": None, "recommended": None}
    money = getattr(content, "money", None)
    if money is not None:
        for row in money.table.to_dict("records"):
            figures["alternatives"][str(row["alternative"])] = {
                "ours": bool(row.get("ours")),
                "share": _number(row.get("share")),
                "price": _number(row.get("price")),
                "revenue": _number(row.get("revenue")),
                "profit": _number(row.get("profit")),
            }
        figures["ours"] = {k: _number(money.total.get(k)) for k in ("share", "revenue", "profit")}
    best = getattr(getattr(content, "optimisation", None), "best", None)
    if best:
        figures["recommended"] = [
            {str(k): (v if isinstance(v, str) else _number(v)) for k, v in offer.items()}
            for offer in best
        ]
    return figures


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _update(engine: Engine, row_id: int, **values: Any) -> None:
    with Session(engine) as session, session.begin():
        row = session.get_one(PublicationRow, row_id)
        for key, value in values.items():
            setattr(row, key, value)


def _store(
    engine: Engine, row_id: int, files: dict[tuple[str, str], bytes], summary: dict[str, Any]
) -> None:
    with Session(engine) as session, session.begin():
        row = session.get_one(PublicationRow, row_id)
        for (language, name), content in files.items():
            session.add(
                PublicationFile(
                    publication_id=row_id, language=language, format=name, content=content
                )
            )
        row.summary = json.dumps(summary, ensure_ascii=False)
        row.status = "ready"
        row.step = ""
        row.finished_at = time.time()


# -- reading -----------------------------------------------------------------------------------


def publications_of(
    engine: Engine, study_id: int, limit: int = SHOWN_VERSIONS
) -> list[Publication]:
    """The study's versions, newest first (at most ``limit``)."""
    with Session(engine) as session:
        rows = session.execute(
            select(PublicationRow, User.email)
            .outerjoin(User, User.id == PublicationRow.created_by)
            .where(PublicationRow.study_id == study_id)
            .order_by(PublicationRow.version.desc())
            .limit(limit)
        ).all()
        return [
            Publication(
                id=row.id,
                version=row.version,
                status=row.status,
                step=row.step,
                model=row.model,
                created_at=row.created_at,
                finished_at=row.finished_at,
                respondents=row.respondents,
                data_hash=row.data_hash,
                message=row.message,
                by=email or "",
                summary=json.loads(row.summary) if row.summary else {},
            )
            for row, email in rows
        ]


def publication_file(
    engine: Engine, study_id: int, version: int, language: str, name: str
) -> bytes | None:
    """A ready version's file, or None."""
    found = _ready_file(engine, study_id, version, language, name)
    return None if found is None else found[1]


def published_pdf(engine: Engine, study_id: int, version: int, language: str) -> bytes | None:
    """A ready version's PDF in ``language``: the stored one, or on the first download
    drawn from the version's stored PDF document and stored; None when the version has
    neither (no such version, not ready yet).

    Raises
    ------
    PdfDrawingError
        The document could not be drawn (nothing is stored then; the next download
        tries again).
    """
    stored = publication_file(engine, study_id, version, language, "report.pdf")
    if stored is not None:
        return stored
    with _DRAWING:  # another first download in this process may have drawn it meanwhile
        stored = publication_file(engine, study_id, version, language, "report.pdf")
        if stored is not None:
            return stored
        source = _ready_file(engine, study_id, version, language, PDF_DOCUMENT)
        if source is None:
            return None
        publication_id, document = source
        return _keep_pdf(engine, publication_id, language, _draw_pdf(document, publication_id))


def _ready_file(
    engine: Engine, study_id: int, version: int, language: str, name: str
) -> tuple[int, bytes] | None:
    """The id of a ready version and its stored file ``name`` in ``language``, or None."""
    with Session(engine) as session:
        found = session.execute(
            select(PublicationFile.publication_id, PublicationFile.content)
            .join(PublicationRow, PublicationRow.id == PublicationFile.publication_id)
            .where(
                PublicationRow.study_id == study_id,
                PublicationRow.version == version,
                PublicationRow.status == "ready",
                PublicationFile.language == language,
                PublicationFile.format == name,
            )
        ).first()
        return None if found is None else (found[0], found[1])


def _draw_pdf(document: bytes, publication_id: int) -> bytes:
    """The PDF of a stored document (drawn in a temporary folder, never half-stored)."""
    from offerlab.report import write_pdf_document

    try:
        with tempfile.TemporaryDirectory(prefix="offerlab-pdf-") as folder:
            path = write_pdf_document(json.loads(document), Path(folder) / "report.pdf")
            return path.read_bytes()
    except Exception as exc:
        log.exception("drawing the PDF of publication %s failed", publication_id)
        why = str(exc) if isinstance(exc, ValueError) else type(exc).__name__
        raise PdfDrawingError(why) from exc


def _keep_pdf(engine: Engine, publication_id: int, language: str, pdf: bytes) -> bytes:
    """Store a drawn PDF; when another worker stored its copy first, that copy."""
    try:
        with Session(engine) as session, session.begin():
            session.add(
                PublicationFile(
                    publication_id=publication_id, language=language, format="report.pdf",
                    content=pdf,
                )
            )  # fmt: skip
    except IntegrityError:  # uq_publication_files_file: the first copy stays
        with Session(engine) as session:
            first = session.execute(
                select(PublicationFile.content).where(
                    PublicationFile.publication_id == publication_id,
                    PublicationFile.language == language,
                    PublicationFile.format == "report.pdf",
                )
            ).scalar_one()
        return first
    return pdf


@dataclass(frozen=True)
class Wording:
    """How a difference names things: the reader's language, the alternatives' names as
    people read them (the none option's label), the currency of prices and profit."""

    t: ConsoleTexts
    names: dict[str, str]
    currency: str

    def name(self, alternative: str) -> str:
        return self.names.get(alternative, alternative)

    def money(self, x: float) -> str:
        return f"{self.currency}\u00a0{_amount(x)}".strip()  # one line: "CHF 790"


def wording(study: Any, t: ConsoleTexts) -> Wording:
    """The :class:`Wording` of a study's differences in ``t``'s language."""
    none = study.tasks.none
    names = {"none": study.text(none.label, t.language)} if none is not None else {}
    price = study.price_attribute
    return Wording(t, names, price.currency if price is not None else "")


def differences(new: Publication, old: Publication | None, words: Wording) -> list[str]:
    """What changed from ``old`` to ``new``, one short sentence each, in the reader's
    language: model, data, recommendation (its headline), our share and profit, each
    alternative's price and share."""
    if old is None:
        return []
    t = words.t
    out: list[str] = []
    percent = _percent_format(t.language)
    if new.model != old.model:
        out.append(
            t("pub_diff_model", old=model_label(t, old.model), new=model_label(t, new.model))
        )
    if new.respondents != old.respondents:
        out.append(t("pub_diff_respondents", old=old.respondents, new=new.respondents))
    elif new.data_hash != old.data_hash:
        out.append(t("pub_diff_data"))
    before = old.summary.get("recommendation", {}).get(t.language)
    after = new.summary.get("recommendation", {}).get(t.language)
    if before is not None and after is not None and before != after:
        out.append(t("pub_diff_recommendation", text=after[0] if after else "–"))
    if old.summary.get("recommended") != new.summary.get("recommended") and new.summary.get(
        "recommended"
    ):
        out.append(t("pub_diff_recommended"))
    ours_old, ours_new = old.summary.get("ours") or {}, new.summary.get("ours") or {}
    for key in ("share", "profit"):
        a, b = ours_old.get(key), ours_new.get(key)
        if a is None or b is None:
            continue
        if key == "share" and abs(b - a) >= SHARE_STEP:
            out.append(t("pub_diff_our_share", old=percent(a), new=percent(b)))
        if key == "profit" and abs(b - a) >= MONEY_STEP:
            out.append(t("pub_diff_our_profit", old=words.money(a), new=words.money(b)))
    alts_old = old.summary.get("alternatives", {})
    for name, now in new.summary.get("alternatives", {}).items():
        was, shown = alts_old.get(name), words.name(name)
        if was is None:
            out.append(t("pub_diff_new_alternative", name=shown))
            continue
        if _moved(was.get("price"), now.get("price"), MONEY_STEP):
            before, after = words.money(was["price"]), words.money(now["price"])
            out.append(t("pub_diff_price", name=shown, old=before, new=after))
        if _moved(was.get("share"), now.get("share"), SHARE_STEP):
            before, after = percent(was["share"]), percent(now["share"])
            out.append(t("pub_diff_share", name=shown, old=before, new=after))
    for name in alts_old:
        if name not in new.summary.get("alternatives", {}):
            out.append(t("pub_diff_gone_alternative", name=words.name(name)))
    return out or [t("pub_diff_none")]


def _moved(a: float | None, b: float | None, step: float) -> bool:
    return a is not None and b is not None and abs(b - a) >= step


def _percent_format(language: str) -> Any:
    space = "\u00a0" if language in ("de", "fr") else ""
    comma = language in ("fr", "it")

    def percent(x: float) -> str:
        text = f"{100 * x:.1f}"
        return (text.replace(".", ",") if comma else text) + space + "%"

    return percent


def _amount(x: float) -> str:
    return f"{x:,.2f}".replace(",", "\u2019")


# -- the pages (the console registers them) --------------------------------------------------

_INLINE_SCRIPT = re.compile(rb"<script(?:\s[^>]*)?>(.*?)</script>", re.S | re.I)


def report_policy(html: bytes) -> str:
    """The Content-Security-Policy of a stored report: its own inline scripts (by their
    hashes) and styles, images from data: URIs, nothing else (no requests at all)."""
    hashes = " ".join(
        "'sha256-" + _b64(hashlib.sha256(body).digest()) + "'"
        for body in _INLINE_SCRIPT.findall(html)
    )
    scripts = hashes or "'none'"
    return (
        f"default-src 'none'; script-src {scripts}; style-src 'unsafe-inline'; "
        "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def _b64(digest: bytes) -> str:
    import base64

    return base64.b64encode(digest).decode("ascii")


def publication_routes(console: Console) -> list[Route]:
    """``/console/studies/{study}/report``: GET the page (anyone who may read the study),
    POST a new version (owners, analysts); ``…/report/{version}/{language}/{file}`` GET
    the version's report.html, report.pdf or report.xlsx."""
    base = "/console/studies/{study}/report"
    reports = _Reports(console)
    publish = console.study_post(reports.publish, max_body=MAX_MARKET_TEXT + 16 * 1024)
    return [
        Route(base, console.study_page(reports.page), methods=["GET"]),
        Route(base, publish, methods=["POST"]),
        Route(
            base + "/{version:id}/{language}/{file}",
            console.study_page(reports.download),
            methods=["GET"],
        ),
    ]


@dataclass(frozen=True)
class _Versions:
    """The versions of a study's report as its page shows them."""

    ready: list[Publication]
    building: Publication | None
    failed: Publication | None

    @classmethod
    def of(cls, versions: list[Publication]) -> _Versions:
        newest = versions[0] if versions else None
        return cls(
            ready=[v for v in versions if v.status == "ready"],
            building=newest if newest and newest.status == "building" else None,
            failed=newest if newest and newest.status == "failed" else None,
        )

    @property
    def current(self) -> Publication | None:
        return self.ready[0] if self.ready else None

    @property
    def previous(self) -> Publication | None:
        return self.ready[1] if len(self.ready) > 1 else None


class _Reports:
    """The report's page, a new version, a version's files."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.engine = console.engine

    async def _market(
        self, fielding: Fielding, row: StudyRow, model: str | None
    ) -> tuple[str, str | None]:
        """The market file and model a new version starts from: the simulator's."""
        simulator, newest = await run_in_threadpool(published_simulators, self.engine, row.id)
        source = simulator or newest
        market_text = source.market_yaml if source else starter_market(fielding.study)
        return market_text, model or (source.model if source else "mnl")

    async def page(
        self,
        request: Request,
        user: Any,
        fielding: Fielding,
        row: StudyRow,
        posted: MarketForm = NOTHING_POSTED,
        pdf_failed: int | None = None,
    ) -> Response:
        c = self.console
        reader = await c.study_reader(request, user, row)
        t, access, viewers = reader.t, reader.access, reader.viewers
        versions = _Versions.of(await run_in_threadpool(publications_of, self.engine, row.id))
        current, previous, building = versions.current, versions.previous, versions.building
        market_text, model = posted.text, posted.model
        if access.write and market_text is None:
            market_text, model = await self._market(fielding, row, model)
        return c.page(
            request,
            "console_report.html",
            status=422 if posted.error else 200,
            user=user,
            study=row,
            current=current,
            previous=previous,
            changes=differences(current, previous, wording(fielding.study, t)) if current else [],
            hb=hb_diagnostics_view(stored_hb_diagnostics(current.summary if current else None), t),
            versions=versions.ready,
            building=building if building and not building.stale else None,
            stale=building if building and building.stale else None,
            failed=versions.failed,
            step=_step_text(building, t) if building else "",
            can_write=access.write,
            viewers=viewers,
            error=posted.error,
            pdf_failed=pdf_failed,
            **market_page_context(t, fielding.study, row.name, market_text or "", model or "mnl"),
        )

    async def publish(
        self, request: Request, user: Any, form: dict[str, str], fielding: Fielding, row: StudyRow
    ) -> Response:
        model = form.get("model", "mnl")
        text = form.get("market_yaml", "")
        t = ConsoleTexts(self.console.language(request, user))
        try:
            row_id, spec = await run_in_threadpool(
                start_publication, fielding, user.id, model, text
            )
        except OfferlabError as error:
            problem = t(error.key) if isinstance(error, PublicationError) else str(error)
            return await self.page(request, user, fielding, row, MarketForm(problem, text, model))
        # The build runs in a worker thread after the redirect; the page says how far it is.
        page = f"/console/studies/{row.name}/report"
        return after_response(page, build_publication, fielding, row_id, model, spec)

    async def download(
        self, request: Request, user: Any, fielding: Fielding, row: StudyRow
    ) -> Response:
        language, name = request.path_params["language"], request.path_params["file"]
        if language not in CONSOLE_LANGUAGES or name not in FORMATS:
            return PlainTextResponse("no such file", status_code=404)
        version = request.path_params["version"]
        try:
            if name == "report.pdf":
                content = await run_in_threadpool(
                    published_pdf, self.engine, row.id, version, language
                )
            else:
                content = await run_in_threadpool(
                    publication_file, self.engine, row.id, version, language, name
                )
        except PdfDrawingError:  # the page says so (the log says why); nothing is kept
            return await self.page(request, user, fielding, row, pdf_failed=version)
        if content is None:
            return PlainTextResponse("no such version", status_code=404)
        if name == "report.html":
            return Response(
                content,
                media_type=FORMATS[name],
                headers={"Content-Security-Policy": report_policy(content)},
            )
        detail = {"what": f"report v{version} {language} {name}"}
        await run_in_threadpool(self.console._record, "study.download", user.id, row, detail)
        suffix = name.rsplit(".", 1)[1]
        filename = f"{row.name}_report_v{version}_{language}.{suffix}"
        return attachment(content, FORMATS[name], filename)


def _step_text(building: Publication, t: ConsoleTexts) -> str:
    """How far a build is, in words: the data, the fit, then the report per language."""
    steps = ["data", "fit", *(f"report:{code}" for code in CONSOLE_LANGUAGES)]
    at = steps.index(building.step) + 1 if building.step in steps else 1
    return t("pub_step", at=at, of=len(steps))
