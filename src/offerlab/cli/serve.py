"""``offerlab serve``: field a study: the web survey respondents take."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from offerlab.design import Design
from offerlab.store import database_url, make_engine
from offerlab.study import load_study

__all__ = ["serve"]


def serve(
    study: Annotated[
        Path,
        typer.Argument(
            help="The study file (YAML) with a questionnaire.", exists=True, dir_okay=False
        ),
    ],
    design: Annotated[
        Path | None,
        typer.Option(
            help="The design table from `offerlab design`; default: made from the study "
            "on the first start, then kept in the database.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (share one PostgreSQL).")
    ] = 1,
    invitations: Annotated[
        int, typer.Option(min=0, help="Make this many personal invitation links and print them.")
    ] = 0,
    venture: Annotated[
        str | None,
        typer.Option(help="Put the study in this venture (made if new) for the console."),
    ] = None,
    owner: Annotated[
        str | None,
        typer.Option(
            help="E-mail of the venture's owner in the console; a new owner's password is read "
            "from OFFERLAB_OWNER_PASSWORD or asked for (at least 15 characters, not a common "
            "password)."
        ),
    ] = None,
) -> None:
    """Field a study: anonymous link /s/NAME, personal links /i/TOKEN, answers in the database."""
    import uvicorn

    from offerlab.field import Fielding, create_app

    console = Console()
    spec = load_study(study)
    frozen = Design.read(spec, design) if design is not None else None
    text = study.read_text(encoding="utf-8-sig")
    engine = make_engine()
    fielding = Fielding.open(engine, spec, text, frozen)  # migrates, registers, freezes the design
    if venture is not None:
        _join_venture(engine, fielding.study_id, venture, owner)
        console.print(f"console: http://{host}:{port}/console/ (venture {escape(venture)})")
    url = database_url()
    shown = url.split("@")[-1] if "@" in url else url
    console.print(f"database: [bold]{escape(shown)}[/]")
    console.print(f"anonymous link: http://{host}:{port}/s/{spec.name}")
    for token in fielding.invite(invitations) if invitations else []:
        console.print(f"invitation: http://{host}:{port}/i/{token}")
    if workers == 1:
        uvicorn.run(create_app(fielding), host=host, port=port, log_level="warning")
        return
    engine.dispose()
    os.environ["OFFERLAB_STUDY"] = str(study.resolve())
    if design is not None:
        os.environ["OFFERLAB_DESIGN"] = str(design.resolve())
    uvicorn.run(
        "offerlab.field._app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


def _join_venture(engine: object, study_id: int, venture: str, owner: str | None) -> None:
    """Put the study in the venture; with ``owner``, make sure they own it in the console."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from offerlab.exceptions import OfferlabError
    from offerlab.field import add_member
    from offerlab.store import StudyRow, User, Venture

    with Session(engine) as session, session.begin():  # type: ignore[arg-type]
        if owner is not None:
            known = session.execute(
                select(User.id).where(User.email == owner.strip().lower())
            ).first()
            password = None
            if known is None:
                password = os.environ.get("OFFERLAB_OWNER_PASSWORD") or typer.prompt(
                    f"password for {owner}", hide_input=True, confirmation_prompt=True
                )
            try:
                add_member(session, venture, owner, "owner", password)
            except ValueError as error:  # an e-mail address or password the console refuses
                raise OfferlabError(f"--owner {owner}: {error}") from None
        row = session.execute(select(Venture).where(Venture.name == venture)).scalar()
        if row is None:
            raise OfferlabError(f"no venture {venture!r} yet: give --owner to make it")
        session.get_one(StudyRow, study_id).venture_id = row.id
