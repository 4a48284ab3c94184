"""The MaxDiff anchor in the survey: asked under each screen (dual response) or on its own
page (direct binary), checked by the server, stored and exported in the long format the
anchored estimation reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from _respondent import Browser, client, open_fielding, post

from offerlab.design import make_design
from offerlab.field._bot import read_form
from offerlab.field._export import answers_table, maxdiff_data
from offerlab.models import MaxDiffLogit, maxdiff_answers
from offerlab.study import parse_study

STUDY = Path(__file__).parent / "page_types_study.yaml"
ITEMS = ["cheap", "premium", "flexible", "service", "electric", "delivery"]


def _text(anchor: str) -> str:
    text = STUDY.read_text(encoding="utf-8")
    line = f"      anchor: {{type: {anchor}}}\n"
    return text.replace("      per_task: 3\n", "      per_task: 3\n" + line)


def _fielding(tmp_path, anchor: str):
    text = _text(anchor)
    study = parse_study(text, STUDY.name)
    fielding = open_fielding(f"sqlite:///{tmp_path / 'a.db'}", study, text, make_design(study))
    fielding.set_status("live")
    return fielding


def _walk(fielding, seed: int, answers=None) -> None:
    person = Browser(client(fielding), seed)
    person.enter(f"/s/{fielding.study.name}")
    for _ in range(25):
        if person.url.startswith("/r/") and read_form(person.html()) is None:
            return
        person.answer(answers)
    raise AssertionError("the survey did not end")


def test_dual_response_answers_land_in_the_export_and_feed_the_anchored_logit(tmp_path) -> None:
    fielding = _fielding(tmp_path, "dual_response")
    # the first person says "none" on every screen, the others answer at random
    _walk(fielding, 0, {f"needs.{t}": {"anchor": "none"} for t in range(1, 5)})
    for seed in range(1, 10):
        _walk(fielding, seed)
    frame = maxdiff_data(fielding)
    assert list(frame.columns)[-1] == "anchor"
    first = frame[frame["respondent"] == frame["respondent"].min()]
    assert set(first["anchor"]) == {"none"} and first["task"].nunique() == 4
    assert set(frame["anchor"]) <= {"all", "some", "none"}
    assert (frame.groupby(["respondent", "task"])["anchor"].nunique() == 1).all()
    answers = maxdiff_answers(frame, ITEMS)
    assert answers.anchored and (answers.dual >= 0).all()
    assert MaxDiffLogit().fit(answers).anchored


def test_direct_binary_answers_land_in_the_export_as_task_zero(tmp_path) -> None:
    fielding = _fielding(tmp_path, "direct_binary")
    _walk(fielding, 0, {"needs.anchor": {"important": ["service", "electric"]}})
    for seed in range(1, 6):
        _walk(fielding, seed)
    frame = maxdiff_data(fielding)
    screen = frame[frame["task"] == 0]
    first = screen[screen["respondent"] == screen["respondent"].min()]
    assert first.set_index("item")["anchor"].to_dict() == {
        "cheap": "no", "premium": "no", "flexible": "no",
        "service": "yes", "electric": "yes", "delivery": "no",
    }  # fmt: skip
    assert (frame.loc[frame["task"] > 0, "anchor"] == "").all()
    answers = maxdiff_answers(frame, ITEMS)
    assert answers.binary is not None and len(answers.binary) == 6 * 6
    tidy = answers_table(fielding)  # the tidy table keeps the screen's answer too
    assert "needs.anchor" in set(tidy["page"])


def _to(person: Browser, key: str):
    for _ in range(10):
        page = person.current()
        if page is not None and page.key == key:
            return page
        person.answer()
    raise AssertionError(f"no page {key}")


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("de", "Bitte sagen Sie, ob alle, einige oder keiner dieser Punkte Ihnen wichtig sind."),
        ("fr", "Veuillez indiquer si tous, certains ou aucun de ces points comptent pour vous."),
    ],
)
def test_a_screen_without_the_dual_response_is_refused(tmp_path, lang, message) -> None:
    fielding = _fielding(tmp_path, "dual_response")
    c = client(fielding)
    person = Browser(c)
    person.enter(f"/s/page_types?lang={lang}")
    page = _to(person, "needs.1")
    assert page.radios["anchor"] == ["all", "some", "none"]
    best, worst = page.radios["best"][:2]
    fields = [("page", page.key), ("nonce", page.nonce), ("best", best), ("worst", worst)]
    r = post(c, person.url, fields)
    assert r.status_code == 422 and message in r.text
    assert post(c, person.url, [*fields, ("anchor", "most")]).status_code == 422
    assert person.current().key == "needs.1"
    assert post(c, person.url, [*fields, ("anchor", "some")]).status_code in (200, 303)
    assert person.current().key != "needs.1"


def test_the_direct_binary_screen_refuses_none_with_an_item_and_nothing(tmp_path) -> None:
    fielding = _fielding(tmp_path, "direct_binary")
    c = client(fielding)
    person = Browser(c)
    person.enter("/s/page_types?lang=de")
    page = _to(person, "needs.anchor")
    assert page.checkboxes["important"] == [*ITEMS, "-"]
    head = [("page", page.key), ("nonce", page.nonce)]
    r = post(c, person.url, head)
    assert r.status_code == 422 and "oder «Keiner davon»" in r.text
    r = post(c, person.url, [*head, ("important", "cheap"), ("important", "-")])
    assert r.status_code == 422 and "Keiner davon ist mir wichtig" in r.text
    assert post(c, person.url, [*head, ("important", "nothing")]).status_code == 422
    assert post(c, person.url, [*head, ("important", "-")]).status_code in (200, 303)
    assert person.current() is None or person.current().key != "needs.anchor"
