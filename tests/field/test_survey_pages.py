"""What a respondent reads: one price format on every page, a progress figure that moves
by about one page per answer, a choice task that says where its concepts agree."""

from __future__ import annotations

import itertools
import re

import pytest
from _french_spacing import breakable_french_spaces
from _respondent import QUALIFY, Browser, client, open_fielding
from sqlalchemy import select
from sqlalchemy.orm import Session

from offerlab.store import Respondent

LANGUAGES = ("de", "fr", "it", "en")


def _percent(html: str) -> int:
    return int(re.search(r'aria-valuenow="(\d+)"', html).group(1))  # type: ignore[union-attr]


def _walk(fielding, lang: str, answers: dict) -> dict[str, str]:
    """Answer the survey in ``lang``; the page of each key as the respondent saw it."""
    browser = Browser(client(fielding), seed=7)
    browser.enter(f"/s/car_subscription?lang={lang}")
    pages = {}
    while (page := browser.current()) is not None:
        pages[page.key] = browser.html()
        browser.answer(answers)
    return pages


@pytest.mark.parametrize("lang", LANGUAGES)
def test_price_questions_show_prices_in_the_format_of_the_tasks(
    tmp_path, study, study_text, design, lang
) -> None:
    fielding = open_fielding(f"sqlite:///{tmp_path / 'price.db'}", study, study_text, design)
    vw = {"too_cheap": "200", "cheap": "450", "expensive": "700", "too_expensive": "950"}
    ladder = {f"price_ladder.{p}": {"likelihood": "2"} for p in (790, 690, 590, 490, 390)}
    seen = _walk(fielding, lang, {**QUALIFY, "price_sensitivity": vw, **ladder})
    # inside a question a price keeps to one line (no break between CHF and 790)
    assert (
        study.value_label("monthly_price", 790, lang).replace(" ", "\xa0")
        in (seen["price_ladder.790"])
    )
    pages = {key: html.replace("\xa0", " ") for key, html in seen.items()}

    def shown(value: int) -> str:  # what a task shows for this price (spaces as on `pages`)
        return study.value_label("monthly_price", value, lang).replace("\xa0", " ")

    assert shown(590) == study.level_label("monthly_price", 2, lang).replace("\xa0", " ")
    task = next(html for key, html in pages.items() if key.startswith("tasks."))
    assert any(shown(v) in task for v in (390, 490, 590, 790, 990))
    for price in (790, 690, 590, 490, 390):
        assert shown(price) in pages[f"price_ladder.{price}"]
    nms = pages["price_sensitivity.nms"]
    assert shown(450) in nms and shown(700) in nms
    # the price fields are framed by the same format: 'CHF [ 450 ] .– / Monat'
    before, _, after = shown(123).partition("123")
    fields = re.findall(
        r'<span class="price-input"><span>(.*?)</span> <input[^>]*> <span>(.*?)</span>',
        pages["price_sensitivity"],
    )
    assert fields == [(before.strip(), after.strip())] * 4
    for html in pages.values():  # never the old 'CHF 450 pro Monat' or a month said twice
        assert not re.search(r"CHF \d+ (pro Monat|par mois|al mese|a month)", html)


def test_progress_moves_by_about_a_page_and_never_back(tmp_path, study, study_text, design) -> None:
    """The price ladder stops at its first price: the skipped steps must not make it leap."""
    fielding = open_fielding(f"sqlite:///{tmp_path / 'progress.db'}", study, study_text, design)
    answers = {
        **QUALIFY,
        "car_now": {"answer": "lease"},  # one more page appears on the way
        "obstacles": {"answer": ["price"]},  # and another
        "price_ladder.790": {"likelihood": "5"},  # accepted: the other four prices are skipped
    }
    pages = _walk(fielding, "de", answers)
    assert "price_ladder.690" not in pages and "lease_end" in pages
    percents = [_percent(html) for html in pages.values()]
    steps = [b - a for a, b in itertools.pairwise(percents)]
    assert percents[0] == 0 and percents[-1] >= 95
    assert min(steps) >= 0, percents
    assert max(steps) <= 2 * round(100 / len(pages)), percents


def test_no_french_sign_starts_a_line_on_any_survey_page(
    tmp_path, study, study_text, design
) -> None:
    """«Quel âge avez-vous ?» must not leave its "?" alone on a phone's next line: the
    survey's words and the study's labels reach the page with no-break spaces."""
    fielding = open_fielding(f"sqlite:///{tmp_path / 'spaces.db'}", study, study_text, design)
    answers = {**QUALIFY, "car_now": {"answer": "lease"}, "obstacles": {"answer": ["price"]}}
    pages = _walk(fielding, "fr", answers)
    assert len(pages) > 20 and "\u202f?" in pages["age_band"]
    breaks = {key: found for key, html in pages.items() if (found := breakable_french_spaces(html))}
    assert breaks == {}


def test_a_choice_task_marks_the_attributes_its_concepts_share(
    tmp_path, study, study_text, design
) -> None:
    """A row whose level is the same in every concept is shown once and marked as such;
    the others show each concept's level in its column."""
    fielding = open_fielding(f"sqlite:///{tmp_path / 'same.db'}", study, study_text, design)
    browser = Browser(client(fielding), seed=3)
    browser.enter("/s/car_subscription?lang=fr")
    while (page := browser.current()) is not None and not page.key.startswith("tasks."):
        browser.answer(QUALIFY)
    with Session(fielding.engine) as s:
        version = s.execute(
            select(Respondent.version).where(Respondent.token == browser.token)
        ).scalar_one()
    marked = 0
    while page is not None and page.key.startswith("tasks."):
        html = browser.html()
        levels = fielding.survey.task_levels(version, int(page.key.split(".")[1]))
        captions = re.findall(r'<span class="attr( same)?" aria-hidden="true"', html)
        assert len(captions) == len(study.attributes)
        for a, (attr, same) in enumerate(zip(study.attributes, captions, strict=True)):
            shown = [study.level_label(attr.name, int(level), "fr") for level in levels[:, a]]
            assert bool(same) == (len(set(shown)) == 1), (page.key, attr.name)
            if same:  # once across the columns, named as such
                assert "identique partout" in html
                once = f'<span class="same-level" aria-hidden="true" style="--rp: {2 * a + 3};'
                assert once in html
                marked += 1
            for level in shown:
                assert f'<span class="level">{level}</span>' in html.replace("&#39;", "'")
        assert html.count('name="choice"') == 3 and html.count('name="would_buy"') == 2
        browser.answer(QUALIFY)
        page = browser.current()
    assert marked > 0  # the designs repeat a level across a task now and then


def test_an_info_page_is_passed_with_its_button(tmp_path) -> None:
    """An info page has nothing to answer: 'Next' goes on (it used to answer 'That answer
    is not one of the options' for ever)."""
    from _respondent import TINY, tiny

    text = TINY.read_text(encoding="utf-8").replace(
        "    - id: task\n",
        '    - id: welcome\n      type: info\n      text: {en: "Now a few offers.", de: "Nun."}\n'
        "    - id: task\n",
        1,
    )
    fielding = tiny(f"sqlite:///{tmp_path / 'info.db'}", text)
    browser = Browser(client(fielding), seed=1)
    browser.enter("/s/tiny?pid=i1&lang=en")
    end = browser.finish({**QUALIFY, "band": {"answer": "old"}})
    assert "welcome" in browser.pages
    assert end == "https://panel.test/done?pid=i1&s=complete"
