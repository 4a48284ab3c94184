"""The market simulator in the console: its page, a new version published, its script.

The fitting and the stored simulators are :mod:`offerlab.field._simulator`'s; the saved
scenarios have their own routes there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from offerlab.exceptions import OfferlabError
from offerlab.field._console_core import Console, Form, after_response
from offerlab.field._fit_notes import fit_notes_view
from offerlab.field._hb_view import hb_diagnostics_view, stored_hb_diagnostics
from offerlab.field._service import Fielding
from offerlab.field._simulator import (
    MAX_MARKET_TEXT,
    NOTHING_POSTED,
    MarketForm,
    market_page_context,
    page_texts,
    publish_simulator,
    published_simulators,
    run_simulator_fit,
    starter_market,
)
from offerlab.report import json_for_html
from offerlab.store import StudyRow

__all__ = ["simulator_routes"]

_SIMULATOR_JS = Path(__file__).resolve().parent.parent / "report" / "templates" / "_simulator.js"

# What json_for_html never writes (a label reading "NaN" takes the slow path, correctly).
_UNSAFE_IN_PAGE = ("<", ">", "&", "\u2028", "\u2029", "NaN", "Infinity")


def _page_json(stored: str) -> str:
    """A simulator's stored data as the page embeds it. Rows are stored encoded for the
    page (:func:`json_for_html`); a row stored before that is re-encoded when viewed."""
    if not any(text in stored for text in _UNSAFE_IN_PAGE):
        return stored
    return json_for_html(json.loads(stored))


class _Simulator:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.engine = console.engine

    async def page(
        self,
        request: Request,
        user: Any,
        fielding: Fielding,
        row: StudyRow,
        posted: MarketForm = NOTHING_POSTED,
    ) -> Response:
        c = self.console
        reader = await c.study_reader(request, user, row)
        t = reader.t
        ready, newest = await run_in_threadpool(published_simulators, self.engine, row.id)
        market_text = posted.text
        if market_text is None:
            market_text = newest.market_yaml if newest else starter_market(fielding.study)
        model = posted.model or (newest.model if newest else "mnl")
        texts, stored = None, None
        if ready is not None:  # a ready row always has its page data
            stored = await run_in_threadpool(json.loads, ready.payload)
            texts = await run_in_threadpool(
                page_texts,
                fielding.study,
                stored,
                t,
                csrf=user.csrf,
                api=f"/console/studies/{row.name}/scenarios",
            )
        return c.page(
            request,
            "console_simulator.html",
            status=422 if posted.error else 200,
            user=user,
            study=row,
            ready=ready,
            newest=newest,
            can_write=reader.access.write,
            simulator_json=await run_in_threadpool(_page_json, ready.payload) if ready else None,
            simulator_script_src="/console/assets/simulator.js",
            simulator_texts=texts,
            hb=hb_diagnostics_view(stored_hb_diagnostics(stored), t),  # the data read once
            notes=fit_notes_view(stored, ready.message, t, fielding.study) if ready else [],
            error=posted.error,
            viewers=reader.viewers,
            **market_page_context(t, fielding.study, row.name, market_text, model),
        )

    async def publish(
        self, request: Request, user: Any, form: Form, fielding: Fielding, row: StudyRow
    ) -> Response:
        uploaded = form.get("market_file", "")
        text = uploaded if uploaded.strip() else form.get("market_yaml", "")
        source = (form.get("market_file:filename") if uploaded.strip() else "") or "market file"
        model = form.get("model", "mnl")
        try:
            row_id, spec = await run_in_threadpool(
                publish_simulator, fielding, user.id, model, text, source
            )
        except OfferlabError as error:
            posted = MarketForm(str(error), text, model)
            return await self.page(request, user, fielding, row, posted)
        # The fit runs after the redirect is sent: the page says "fitting" until it is done.
        page = f"/console/studies/{row.name}/simulator"
        return after_response(page, run_simulator_fit, fielding, row_id, model, spec)


async def _script(request: Request) -> Response:
    return Response(
        _SIMULATOR_JS.read_text(encoding="utf-8"),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


def simulator_routes(console: Console) -> list[Route]:
    """The simulator's page (readers), a new version (owners, analysts), its script."""
    s = _Simulator(console)
    page = "/console/studies/{study}/simulator"
    upload = {"max_body": MAX_MARKET_TEXT + 16 * 1024, "file_fields": ("market_file",)}
    return [
        Route(page, console.study_page(s.page), methods=["GET"]),
        Route(page, console.study_post(s.publish, **upload), methods=["POST"]),
        Route("/console/assets/simulator.js", _script, methods=["GET"]),
    ]
