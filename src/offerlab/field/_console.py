"""The team's console: log in, studies by venture, create/test/launch/pause/close, figures, data.

Routes (all under ``/console``; one explicit table, :func:`console_routes`):

=================================================  ======  ===========================
route                                              method  who
=================================================  ======  ===========================
``/console/login``                                 GET     anyone
``/console/login``                                 POST    anyone (throttled)
``/console/logout``                                POST    logged in
``/console/``                                      GET     logged in: visible studies
``/console/account``                               GET     logged in: change password
``/console/account/password``                      POST    logged in (current password)
``/console/ventures/{venture}/studies``            POST    owner, analyst: create
``/console/ventures/{venture}/members``            GET     owner: the member list
``/console/ventures/{venture}/members``            POST    owner: add a member
``/console/ventures/{venture}/members/{id}/remove``  POST  owner (not the last owner)
``/console/ventures/{venture}/members/{id}/role``  POST    owner (not the last owner's)
``/console/ventures/{venture}/invitations``        POST    owner: a single-use link to join
``/console/ventures/{venture}/invitations/{id}/revoke``  POST  owner: withdraw an open one
``/console/join/{token}``                          GET     anyone with the link: set a
                                                           password (404/410 if unknown,
                                                           used or expired)
``/console/join/{token}``                          POST    anyone with the link (once)
``/console/ventures/{venture}/audit``              GET     owner: the audit log
``/console/studies/{study}``                       GET     owner, analyst, viewer
                                                           (shared): live figures
``/console/studies/{study}/status``                POST    owner, analyst: a move of the
                                                           life cycle (reopen: owner);
                                                           launch, close, reopen ask to
                                                           confirm first
``/console/studies/{study}/simulate``              POST    owner, analyst
``/console/studies/{study}/share``                 POST    owner, analyst
``/console/studies/{study}/invitations``           POST    owner, analyst: N personal
                                                           respondent links, as CSV
``/console/studies/{study}/invitations.csv``       GET     owner, analyst: all of them
``/console/studies/{study}/simulator``             GET     owner, analyst, viewer
                                                           (shared): the market simulator
``/console/studies/{study}/simulator``             POST    owner, analyst: publish one
``/console/assets/simulator.js``                   GET     anyone: the simulator's script
``/console/studies/{study}/dashboard.json``        GET     owner, analyst: live figures
``/console/assets/dashboard.js``                   GET     anyone: the dashboard's script
``/console/studies/{study}/scenarios…``            GET/POST  readers: saved scenarios
                                                           (field/_simulator.py)
``/console/studies/{study}/report…``               GET     readers: the published report;
                                                   POST    owner, analyst: publish a version
                                                           (field/_publications.py)
``/console/studies/{study}/needs``                 GET     readers: MaxDiff, TURF, Kano,
                                                           concept tests (field/_needs_page.py)
``/console/studies/{study}/choices.csv``           GET     owner, analyst (also
                                                           ``choices.parquet``)
``/console/studies/{study}/answers.csv``           GET     owner, analyst
``/console/studies/{study}/respondents.csv``       GET     owner, analyst
``/console/studies/{study}/privacy``               GET     owner: data protection
``/console/studies/{study}/privacy/export``        GET     owner: one respondent (JSON)
``/console/studies/{study}/privacy/delete``        POST    owner: one respondent
``/console/studies/{study}/retention``             POST    owner: keep answers N days
=================================================  ======  ===========================

Every change and every download is written to the audit log (``record_event``) in
the transaction that makes it; owners read the log of their venture.

Every page and message is in the member's language (``?lang=`` switch, remembered on
the user; else the switch's cookie, else the browser's): templates call ``t("key")``
on the catalogue (``data/console_texts/*.yaml``), and the Python code returns a
:class:`~offerlab.field._console_texts.Message` (a key and its values) that the page
translates. Other addresses under ``/console`` get a 404 page in that language.

A study the user may not read is 404 (its existence is not told); one they may
read but not change is 403. Every POST carries the session's CSRF token; the
login form a double-submit token. Pages without a session lead to the login.

Each area is a module with its handlers and routes, on the shared :class:`Console`
(``_console_core``): sign-in and account (``_console_sign_in``), the team and the
audit log (``_console_team``), the studies and their life cycle (``_console_studies``),
respondent links and downloads (``_console_downloads``), data protection
(``_console_privacy``), the market simulator (``_console_simulator``), saved
scenarios (``_simulator``), the published report (``_publications``), the live
dashboard (``_dashboard``).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from offerlab.field._console_core import Console
from offerlab.field._console_downloads import download_routes, invitation_routes
from offerlab.field._console_privacy import privacy_routes
from offerlab.field._console_sign_in import sign_in_routes
from offerlab.field._console_simulator import simulator_routes
from offerlab.field._console_studies import study_routes
from offerlab.field._console_team import describe_event, team_routes
from offerlab.field._console_texts import Message
from offerlab.field._dashboard import dashboard_routes
from offerlab.field._needs_page import needs_routes
from offerlab.field._publications import publication_routes
from offerlab.field._simulator import scenario_routes

__all__ = ["Console", "console_routes", "describe_event"]


def console_routes(registry: Any, templates: Jinja2Templates, secure_cookies: bool) -> list[Route]:
    """The console's routes, area by area; the catch-alls last."""
    c = Console(registry, templates, secure_cookies)

    async def not_found(request: Request) -> Response:
        """Any other console address: a 404 page in the reader's language."""
        user = await run_in_threadpool(c.user, request)
        return c.refuse(request, 404, Message("refuse_not_found"), user)

    return [
        *sign_in_routes(c),
        *team_routes(c),
        *study_routes(c),
        *invitation_routes(c),
        *simulator_routes(c),
        *scenario_routes(c),
        *publication_routes(c),
        *privacy_routes(c),
        *dashboard_routes(c),
        *needs_routes(c),
        *download_routes(c),  # /console/studies/{study}/{what}: after the study's pages
        Route("/console/{rest:path}", not_found, methods=["GET"]),
    ]
