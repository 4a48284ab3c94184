"""The questionnaire in the study file: checks with file:line:field, order, display logic."""

from __future__ import annotations

import re

import pytest
from _respondent import TINY

from offerlab.design import make_design
from offerlab.exceptions import StudyError
from offerlab.field import AnswerError, Survey
from offerlab.study import Study, parse_study
from offerlab.study._questionnaire import GaborGrangerPage, VanWestendorpPage


def test_the_example_questionnaire_has_every_kind_of_page(study: Study) -> None:
    q = study.questionnaire
    assert q is not None
    kinds = {p.type for p in q.pages}
    assert kinds >= {
        "consent",
        "single",
        "multi",
        "scale",
        "text",
        "choice_tasks",
        "van_westendorp",
        "gabor_granger",
    }
    assert q.panel_parameters == ["psid", "src"]
    assert [quota.question for quota in q.quotas] == ["age_band"]
    for page in q.pages:  # every text in the four languages
        assert isinstance(page.text, dict) and set(page.text) == {"de", "fr", "it", "en"}


BROKEN = [
    (
        "      type: consent",
        "      type: konsent",
        r"questionnaire\.pages\[0\]\.type: expected one of consent, .*got 'konsent'",
    ),
    (
        "show_if: {car_now: [lease]}",
        "show_if: {car_now: [leasing]}",
        r"pages\[5\]\.show_if\.car_now: page 'car_now' has no option 'leasing' "
        r"\(did you mean 'lease'\?\)",
    ),
    (
        "show_if: {car_now: [lease]}",
        "show_if: {comments: [x]}",
        r"pages\[5\]\.show_if\.comments: show_if refers to page 'comments', which comes later",
    ),
    (
        "question: age_band",
        "question: age_bnd",
        r"quotas\[0\]\.question: unknown page 'age_bnd' \(did you mean 'age_band'\?\)",
    ),
    (
        "question: age_band",
        "question: motives",
        r"quotas\[0\]\.question: a quota counts answers to a single question, not scale",
    ),
    (
        "{correct: somewhat}",
        "{correct: somewat}",
        r"attention_check\.correct: unknown option 'somewat'",
    ),
    (
        "{psid}&status=complete",
        "{pid}&status=complete",
        r"redirects\.complete: unknown placeholder \{pid\} \(did you mean 'psid'\?\)",
    ),
    ("fr: Trop cher, ", "", r"pages\[7\]\.options\[0\]\.label: missing the text in fr"),
    (
        "type: choice_tasks\n      intro:",
        "type: info\n      text:",
        r"questionnaire\.pages: the questionnaire needs exactly one page of type choice_tasks",
    ),
    ("id: comments", "id: consent", r"pages\[16\]\.id: page id 'consent' is used twice"),
    (
        "prices: [390, 490, 590, 690, 790]",
        "prices: [490, 390]",
        r"pages\[15\]\.prices: list the prices once each, from low to high",
    ),
    (
        "random_group: attitudes\n      text:\n        de: Was",
        "random_group: other\n      text:\n        de: Was",
        None,
    ),
]


@pytest.mark.parametrize(("old", "new", "message"), BROKEN)
def test_a_broken_questionnaire_names_line_and_field(study_text: str, old, new, message) -> None:
    text = study_text.replace(old, new, 1)
    assert text != study_text
    if message is None:  # still valid: two groups of one page each
        parse_study(text, "car.yaml")
        return
    with pytest.raises(StudyError) as info:
        parse_study(text, "car.yaml")
    assert re.search(r"car\.yaml:\d+:\d+: .*" + message, str(info.value)), str(info.value)


def _survey(study: Study) -> Survey:
    return Survey(study, make_design(study, method="random", versions=2, seed=3))


def test_random_groups_and_options_are_shuffled_per_respondent(study: Study) -> None:
    survey = _survey(study)
    orders = {
        tuple(k for k in survey.sequence(seed) if k in ("motives", "obstacles"))
        for seed in range(20)
    }
    assert orders == {("motives", "obstacles"), ("obstacles", "motives")}
    assert survey.sequence(5) == survey.sequence(5)  # the same respondent, the same order
    page = study.questionnaire.page("obstacles")
    fixed = [o.fixed for o in page.options]
    shown = {tuple(survey.option_order("obstacles", s, len(fixed), fixed)) for s in range(20)}
    assert len(shown) > 5
    assert all(order[-2:] == (4, 5) for order in shown)  # 'other' and 'none' stay last


def test_the_price_ladder_stops_once_a_price_is_accepted(study: Study) -> None:
    survey = _survey(study)
    ladder = study.questionnaire.page("price_ladder")
    assert isinstance(ladder, GaborGrangerPage)
    keys = [k for k in survey.sequence(1) if k.startswith("price_ladder.")]
    assert keys == [f"price_ladder.{p}" for p in (790, 690, 590, 490, 390)]
    answers = {"price_ladder.790": {"likelihood": 2}, "price_ladder.690": {"likelihood": 4}}
    assert [survey.is_shown(k, answers) for k in keys[2:]] == [False, False, False]
    assert survey.is_shown(keys[1], {"price_ladder.790": {"likelihood": 3}})


def test_van_westendorp_prices_must_rise(study: Study) -> None:
    survey = _survey(study)
    page = study.questionnaire.page("price_sensitivity")
    assert isinstance(page, VanWestendorpPage)
    form = {"too_cheap": ["200"], "cheap": ["400"], "expensive": ["350"], "too_expensive": ["900"]}
    with pytest.raises(AnswerError, match="steigen"):
        survey.parse_answer("price_sensitivity", form, "de", {})
    form["expensive"] = ["1'200"]  # Swiss thousands separator
    with pytest.raises(AnswerError):  # 1200 > 900 too expensive
        survey.parse_answer("price_sensitivity", form, "en", {})
    form["too_expensive"] = ["1500"]
    answer = survey.parse_answer("price_sensitivity", form, "en", {})
    assert answer == {"too_cheap": 200, "cheap": 400, "expensive": 1200, "too_expensive": 1500}
    nms = survey.parse_answer(
        "price_sensitivity.nms",
        {"at_cheap": ["5"], "at_expensive": ["2"]},
        "en",
        {"price_sensitivity": answer},
    )
    assert nms == {"at_cheap": 5, "at_expensive": 2, "cheap": 400, "expensive": 1200}


def test_multi_answers_respect_exclusive_options_and_open_texts(study: Study) -> None:
    survey = _survey(study)
    with pytest.raises(AnswerError, match="None of these"):
        survey.parse_answer("obstacles", {"answer": ["price", "nothing"]}, "en", {})
    with pytest.raises(AnswerError, match="Other"):
        survey.parse_answer("obstacles", {"answer": ["other"]}, "en", {})
    answer = survey.parse_answer(
        "obstacles", {"answer": ["other", "price"], "open_other": ["  too far  "]}, "en", {}
    )
    assert answer == {"choices": ["price", "other"], "open": {"other": "too far"}}


def test_the_tiny_test_study_is_valid() -> None:
    parse_study(TINY.read_text(encoding="utf-8"), "tiny.yaml")
