"""The store: migrations on start, SQLite settings, atomic steps, frozen designs."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from offerlab.design import make_design
from offerlab.exceptions import OfferlabError
from offerlab.field import Fielding
from offerlab.store import (
    QuotaCell,
    StudyRow,
    assign_version,
    database_url,
    make_engine,
    migrate,
    take_quota_cells,
)
from offerlab.study import parse_study

TINY = Path(__file__).resolve().parents[1] / "field" / "tiny_study.yaml"


def _head() -> str:
    """The newest migration, by the chain of revisions (one head, no branches)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import offerlab.store

    config = Config()
    config.set_main_option(
        "script_location", str(Path(offerlab.store.__file__).parent / "migrations")
    )
    (head,) = ScriptDirectory.from_config(config).get_heads()
    return head


def _tiny():
    text = TINY.read_text(encoding="utf-8")
    return parse_study(text, "tiny.yaml"), text


def test_migrations_create_every_table_and_run_again_as_a_no_op(database_url) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    migrate(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"studies", "respondents", "submissions", "quota_cells", "invitations"} <= tables
    with engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head()


def test_workers_starting_together_migrate_once(database_url) -> None:
    engines = [make_engine(database_url) for _ in range(3)]
    errors: list[BaseException] = []

    def start(engine) -> None:
        try:
            migrate(engine)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_the_database_url_defaults_to_sqlite_in_the_working_folder(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("OFFERLAB_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert database_url() == f"sqlite:///{tmp_path / 'offerlab.db'}"
    monkeypatch.setenv("OFFERLAB_DATABASE_URL", "postgresql://u@h/db")
    assert database_url() == "postgresql+psycopg://u@h/db"


def test_versions_round_robin_and_quota_cells_all_or_nothing(database_url) -> None:
    study, text_ = _tiny()
    fielding = Fielding.open(make_engine(database_url), study, text_, make_design(study))
    with Session(fielding.engine) as s, s.begin():
        assert [assign_version(s, fielding.study_id, 3) for _ in range(7)] == [1, 2, 3, 1, 2, 3, 1]
    with Session(fielding.engine) as s, s.begin():
        s.add(QuotaCell(study_id=fielding.study_id, quota="q2", option="x", target=0, count=0))
    with Session(fielding.engine) as s, s.begin():
        # 'young' has room, q2/x is full: neither is counted
        assert not take_quota_cells(s, fielding.study_id, [("band", "young"), ("q2", "x")])
    with Session(fielding.engine) as s:
        young = s.execute(select(QuotaCell.count).where(QuotaCell.option == "young")).scalar()
        assert young == 0


def test_the_design_is_frozen_on_first_start(database_url) -> None:
    study, text_ = _tiny()
    engine = make_engine(database_url)
    first = Fielding.open(engine, study, text_, make_design(study, seed=1))
    again = Fielding.open(engine, study, text_)  # no design: the stored one
    assert (again.survey.design.levels == first.survey.design.levels).all()
    other = make_design(study, seed=2)
    assert not (other.levels == first.survey.design.levels).all()
    with pytest.raises(OfferlabError, match="already fielded with another design"):
        Fielding.open(engine, study, text_, other)
    first.enter(language="en")
    with pytest.raises(OfferlabError, match="changed after respondents entered"):
        Fielding.open(engine, study, text_ + "\n# edited\n")
    with Session(engine) as s:
        assert s.execute(select(StudyRow.entries)).scalar() == 1


def test_a_study_without_a_questionnaire_cannot_be_fielded(tmp_path) -> None:
    study, text_ = _tiny()
    bare = study.model_copy(update={"questionnaire": None})
    with pytest.raises(OfferlabError, match="has no questionnaire"):
        Fielding.open(make_engine(f"sqlite:///{tmp_path / 'x.db'}"), bare, text_)


def test_upgrading_a_fielded_database_keeps_its_answers(database_url) -> None:
    from alembic import command
    from alembic.config import Config

    from offerlab.store import Respondent
    from offerlab.store._engine import _MIGRATIONS

    engine = make_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO studies (id, name, study_yaml, design_csv, n_versions, status, "
                "entries, created_at) VALUES (1, 's', 'x', 'y', 1, 'live', 1, 0)"
            )
        )
        c.execute(
            text(
                "INSERT INTO respondents (study_id, token, version, seed, language, status, "
                "sequence, position, nonce, panel, panel_id, fingerprint, flags, started_at) "
                "VALUES (1, 't', 1, 1, 'en', 'active', '[]', 0, 'n', '{}', '', '', '{}', 0)"
            )
        )
    migrate(engine)  # to the newest version, with the console's tables
    with Session(engine) as s:
        assert s.execute(select(Respondent.token)).scalars().all() == ["t"]
        assert s.execute(select(StudyRow.venture_id)).scalar() is None


def test_the_migrations_build_exactly_the_tables_the_code_uses(database_url) -> None:
    """Alembic's autogenerate finds nothing between the migrated database and the ORM."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from offerlab.store import Base

    engine = make_engine(database_url)
    migrate(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert _without_renamed_foreign_keys(differences) == []


def _without_renamed_foreign_keys(differences: list) -> list:
    """Drop a removed + added foreign key pair that differs only in its name.

    SQLite reflects no name for a foreign key declared on a column (0002 adds
    studies.venture_id with ALTER TABLE, the only way SQLite adds a column), so the
    same key shows up as unnamed in the database and named in the ORM.
    """

    def key(fk) -> tuple:
        return (
            fk.parent.name,
            tuple(c.name for c in fk.columns),
            fk.referred_table.name,
            tuple(e.column.name for e in fk.elements),
        )

    removed = {key(d[1]) for d in differences if d[0] == "remove_fk" and d[1].name is None}
    return [
        d for d in differences if not (d[0] in ("remove_fk", "add_fk") and key(d[1]) in removed)
    ]


def test_audit_events_outlive_the_user_and_refuse_unknown_actions(database_url) -> None:
    import pytest
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from offerlab.store import AuditEvent, User, record_event

    engine = make_engine(database_url)
    migrate(engine)
    with Session(engine) as session, session.begin():
        user = User(email="owner@example.ch", password_hash="x", created_at=0.0)
        session.add(user)
        session.flush()
        record_event(session, "member.add", user_id=user.id, detail={"email": "a@example.ch"})
        with pytest.raises(ValueError, match="unknown audit action"):
            record_event(session, "member.addd", user_id=user.id)
    with Session(engine) as session, session.begin():
        session.delete(session.execute(select(User)).scalar_one())
    with Session(engine) as session:
        event = session.execute(select(AuditEvent)).scalar_one()
    assert (event.actor, event.user_id, event.action) == ("owner@example.ch", None, "member.add")
    assert event.detail == {"email": "a@example.ch"}


def test_the_life_cycle_migration_adds_draft_and_keeps_studies_and_their_keys(
    database_url,
) -> None:
    """0005 changes the state's CHECK (SQLite: by copying the table) and keeps what was."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy.exc import IntegrityError

    from offerlab.store import Respondent, Venture
    from offerlab.store._engine import _MIGRATIONS

    engine = make_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
    with engine.begin() as c:
        c.execute(text("INSERT INTO ventures (id, name, created_at) VALUES (1, 'V', 0)"))
        c.execute(
            text(
                "INSERT INTO studies (id, name, study_yaml, design_csv, n_versions, status, "
                "entries, created_at, venture_id) VALUES (1, 's', 'x', 'y', 1, 'paused', 1, 0, 1)"
            )
        )
    migrate(engine)
    with Session(engine) as s, s.begin():
        row = s.get_one(StudyRow, 1)
        assert (row.status, row.finish_when_paused, row.venture_id) == ("paused", True, 1)
        row.status = "draft"
    with pytest.raises(IntegrityError), Session(engine) as s, s.begin():
        s.get_one(StudyRow, 1).status = "sleeping"
    with Session(engine) as s, s.begin():  # the venture's key still sets NULL on delete
        s.delete(s.get_one(Venture, 1))
    with Session(engine) as s:
        assert s.get_one(StudyRow, 1).venture_id is None
        assert s.execute(select(Respondent.entry_key)).all() == []
